//! Headless Chromium over WebDriver: one chromedriver and one browser per test, pointed at the
//! app served on a loopback port. Every page the browser lands on is checked with axe-core
//! (`super::axe`); a failing journey leaves a screenshot and the page source under `target/`.

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Browser {
    client: Client,
    driver: Child,
    base: String,
    axe: String,
    /// Where Chromium saves downloads.
    pub downloads: tempfile::TempDir,
    /// Every page axe-core checked, as `path (language)`.
    pub audited: Vec<String>,
    /// Every page audited, as (path, HTML), for the Nu Html Checker.
    pub pages: Vec<(String, String)>,
    step: String,
}

/// A program on `PATH`.
fn program(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Where a failing journey leaves its screenshot and page source.
pub fn failure_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session for the app at `base`.
    pub async fn start(base: &str) -> Browser {
        let axe = super::axe::source();
        let chromedriver = program("chromedriver").unwrap_or_else(|| {
            panic!(
                "chromedriver is not installed: run scripts/ensure-deps --browser (Debian: chromium chromium-driver)"
            )
        });
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let downloads = tempfile::tempdir().unwrap();
        let mut options = json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--lang=nb-NO", "--no-first-run"],
            "prefs": {
                "download.default_directory": downloads.path(),
                "download.prompt_for_download": false,
                "intl.accept_languages": "nb-NO,nb",
            },
        });
        if let Some(chromium) = program("chromium") {
            options["binary"] = json!(chromium);
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..150 {
            match ClientBuilder::new(HttpConnector::new()).capabilities(capabilities.clone()).connect(&url).await {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        base: base.to_string(),
                        axe,
                        downloads,
                        audited: Vec::new(),
                        pages: Vec::new(),
                        step: "start".into(),
                    };
                }
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session from chromedriver at {url}: {last_error}");
    }

    /// Ends a journey run as `AssertUnwindSafe(journey(&mut browser)).catch_unwind().await`:
    /// when it failed, saves a screenshot and the page source as
    /// `target/tmp/browser/<name>.{png,html}` and fails with the step it was at.
    pub async fn finish(mut self, name: &str, outcome: std::thread::Result<()>) {
        if let Err(panic) = outcome {
            let saved = self.save_failure(name).await;
            eprintln!("browser test {name} failed at step “{}”; {saved}", self.step);
            self.quit().await;
            std::panic::resume_unwind(panic);
        }
        self.quit().await;
    }

    async fn save_failure(&self, name: &str) -> String {
        let dir = failure_dir();
        let _ = std::fs::create_dir_all(&dir);
        let png = dir.join(format!("{name}.png"));
        let html = dir.join(format!("{name}.html"));
        if let Ok(bytes) = self.client.screenshot().await {
            let _ = std::fs::write(&png, bytes);
        }
        if let Ok(source) = self.client.source().await {
            let _ = std::fs::write(&html, source);
        }
        format!("screenshot {} and page source {}", png.display(), html.display())
    }

    /// Ends the browser session and chromedriver.
    pub async fn quit(&mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    /// Names the step the journey is at (reported when it fails).
    pub fn step(&mut self, step: &str) {
        self.step = step.to_string();
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `path` on the app and checks the page with axe-core.
    pub async fn open(&mut self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.audit().await;
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    pub async fn find(&self, css: &str) -> Element {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!("no element `{css}` on {}: {e}", self.path().await),
        }
    }

    pub async fn by_id(&self, id: &str) -> Element {
        self.find(&format!("[id=\"{id}\"]")).await
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Types `value` into the field with `id`, as a user would (after clearing it).
    pub async fn fill(&self, id: &str, value: &str) {
        let field = self.by_id(id).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap_or_else(|e| panic!("typing into {id}: {e}"));
    }

    /// Sets a date field (the date picker's typed format follows the browser's locale).
    pub async fn date(&self, id: &str, iso: &str) {
        let field = self.by_id(id).await;
        self.js("arguments[0].value = arguments[1];", vec![json!(field), json!(iso)]).await;
    }

    /// Picks the option of the `<select>` with `id` whose text contains `text`.
    pub async fn choose(&self, id: &str, text: &str) {
        let xpath = format!("//select[@id='{id}']/option[contains(normalize-space(.), '{text}')]");
        match self.client.find(Locator::XPath(&xpath)).await {
            Ok(option) => option.click().await.unwrap(),
            Err(e) => panic!("no option “{text}” in {id} on {}: {e}", self.path().await),
        }
    }

    /// Ticks a checkbox or radio button (by id) unless it is ticked.
    pub async fn tick(&self, id: &str) {
        let input = self.by_id(id).await;
        if !input.is_selected().await.unwrap() {
            input.click().await.unwrap_or_else(|e| panic!("ticking {id}: {e}"));
        }
    }

    /// Clicks the element `css` (a submit button or a link), waits for the next page and checks it.
    pub async fn click(&mut self, css: &str) {
        let element = self.find(css).await;
        self.js("window.__hdsOld = true;", vec![]).await;
        element.click().await.unwrap_or_else(|e| panic!("clicking {css}: {e}"));
        self.wait_for_new_page(css).await;
        self.audit().await;
    }

    /// Waits for the page that replaces one marked with `window.__hdsOld = true`.
    pub async fn wait_for_new_page(&self, what: &str) {
        for _ in 0..200 {
            let loaded = self
                .client
                .execute("return window.__hdsOld === undefined && document.readyState === 'complete';", vec![])
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no new page after clicking {what} (at {})", self.path().await);
    }

    /// Runs a script in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.find("body").await.text().await.unwrap()
    }

    /// Fails unless the page shows `needle`.
    pub async fn see(&self, needle: &str) {
        let text = self.text().await;
        assert!(text.contains(needle), "expected “{needle}” on {}:\n{text}", self.path().await);
    }

    pub async fn not_see(&self, needle: &str) {
        let text = self.text().await;
        assert!(!text.contains(needle), "did not expect “{needle}” on {}:\n{text}", self.path().await);
    }

    /// Runs axe-core on the page and fails on serious or critical violations.
    pub async fn audit(&mut self) {
        let path = self.path().await;
        // The page as the browser parsed it, before axe-core is injected.
        let html = self.js("return '<!DOCTYPE html>\\n' + document.documentElement.outerHTML;", vec![]).await;
        self.pages.push((path.clone(), html.as_str().unwrap_or_default().to_string()));
        let violations = super::axe::run(&self.client, &self.axe).await;
        let lang = self.js("return document.documentElement.lang;", vec![]).await;
        self.audited.push(format!("{path} ({})", lang.as_str().unwrap_or("?")));
        assert!(
            violations.is_empty(),
            "axe-core: serious or critical violations on {path}:\n{}",
            violations.join("\n")
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
