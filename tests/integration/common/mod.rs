//! The test harness: every test gets its own database, cloned from a template that is
//! migrated (and loaded with the demo catalogue) once per migrations hash. The server is the
//! private cluster under `var/test-pg`, or `TEST_DATABASE_URL` when set.

#![allow(dead_code)]

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use helsedataservice::config::{self, Config};
use helsedataservice::db::{
    self, Pool,
    cluster::{Cluster, Durability},
    quote_ident,
};
use helsedataservice::services::{self, Actor, accounts::NewAccount};
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod http_peer;
pub mod smtp;

struct Server {
    /// URL of the maintenance database (`postgres`); other databases replace its last segment.
    admin_url: String,
    template: String,
}

impl Server {
    fn url(&self, database: &str) -> String {
        let (base, _) = self.admin_url.rsplit_once('/').expect("a database URL ends in /name");
        format!("{base}/{database}")
    }
}

static SERVER: OnceLock<Server> = OnceLock::new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Runs async set-up work on a runtime of its own (the migration harness needs a multi-threaded one).
fn on_own_runtime<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(f)
    })
    .join()
    .expect("set-up thread panicked")
}

fn server() -> &'static Server {
    SERVER.get_or_init(|| on_own_runtime(prepare_server()))
}

fn migrations_hash() -> String {
    let mut files: Vec<_> = walk(Path::new("migrations"));
    files.push("src/demo/catalogue.json".into());
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(f.to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).expect("readable migration file"));
    }
    hex::encode(h.finalize())[..12].to_string()
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).expect("migrations folder").flatten() {
        let p = e.path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

async fn prepare_server() -> Server {
    let admin_url = match std::env::var("TEST_DATABASE_URL").ok().filter(|s| !s.is_empty()) {
        Some(url) => url,
        None => {
            let cluster = Cluster::ensure(Path::new("var/test-pg"), Durability::Fast)
                .unwrap_or_else(|e| panic!("test database: {e}"));
            cluster.url("postgres")
        }
    };
    let template = format!("hds_tmpl_{}", migrations_hash());
    let mut conn = AsyncPgConnection::establish(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", db::redact(&admin_url)));
    diesel::sql_query("SELECT pg_advisory_lock(4844531)").execute(&mut conn).await.unwrap();
    let existing: Vec<Name> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'hds\\_%'")
        .load(&mut conn)
        .await
        .unwrap();
    // Sweep what earlier, finished test processes left behind.
    for d in &existing {
        if let Some(pid) =
            d.datname.strip_prefix("hds_t_").and_then(|r| r.split('_').next()).and_then(|p| p.parse::<u32>().ok())
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&d.datname)))
                .execute(&mut conn)
                .await;
        }
    }
    if !existing.iter().any(|d| d.datname == template) {
        let building = format!("{template}_build");
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&building)))
            .execute(&mut conn)
            .await;
        diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(&building))).execute(&mut conn).await.unwrap();
        let server = Server { admin_url: admin_url.clone(), template: String::new() };
        let pool = db::pool(&server.url(&building), 2).unwrap();
        db::migrate(&pool).await.unwrap();
        let mut c = pool.get().await.unwrap();
        services::demo::seed_catalogue(&mut c, chrono::Utc::now()).await.unwrap();
        drop(c);
        drop(pool);
        diesel::sql_query(format!("ALTER DATABASE {} RENAME TO {}", quote_ident(&building), quote_ident(&template)))
            .execute(&mut conn)
            .await
            .unwrap();
        diesel::sql_query(format!(
            "ALTER DATABASE {} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true",
            quote_ident(&template)
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    diesel::sql_query("SELECT pg_advisory_unlock(4844531)").execute(&mut conn).await.unwrap();
    Server { admin_url, template }
}

/// The running app on its own database, with an HTTP client that keeps cookies like a browser.
pub struct TestApp {
    pub client: Client,
    pub database: String,
    pub database_url: String,
    /// Whether the database is a clone on the shared test server (dropped at the end).
    cloned: bool,
    _storage: tempfile::TempDir,
}

/// A user created for a test, with the password to log in with.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub email: String,
    pub password: String,
    pub role: String,
}

pub const PASSWORD: &str = "Test-passord-2026";

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_config(|_| {}).await
    }

    /// The app with settings changed by `change` (e.g. an SMTP server).
    pub async fn with_config(change: impl FnOnce(&mut Config)) -> TestApp {
        let server = server();
        let database = format!("hds_t_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let sql = format!("CREATE DATABASE {} TEMPLATE {}", quote_ident(&database), quote_ident(&server.template));
        let admin_url = server.admin_url.clone();
        on_own_runtime(async move {
            let mut conn = AsyncPgConnection::establish(&admin_url).await.unwrap();
            diesel::sql_query(sql).execute(&mut conn).await.unwrap();
        });
        TestApp::start(database.clone(), server.url(&database), true, change).await
    }

    /// The app with its mail going over real SMTP to a sink on loopback, and the sink (which
    /// must live as long as the app sends mail).
    pub async fn with_smtp_sink() -> (TestApp, smtp::Sink) {
        let sink = smtp::Sink::start(0).await;
        let url = sink.url();
        (TestApp::with_config(|c| c.smtp_url = Some(url)).await, sink)
    }

    /// The app on a database of the caller's (e.g. on a private cluster a test stops and starts).
    pub async fn on_database(database_url: String, change: impl FnOnce(&mut Config)) -> TestApp {
        TestApp::start(String::new(), database_url, false, change).await
    }

    async fn start(database: String, database_url: String, cloned: bool, change: impl FnOnce(&mut Config)) -> TestApp {
        let storage = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(database_url.clone(), storage.path().to_path_buf());
        change(&mut config);
        let figment = config::with_secret_key(config::figment().merge(("log_level", "off")), &[7u8; 64]);
        let rocket = helsedataservice::build(figment, config).await.expect("the app builds");
        let client = Client::tracked(rocket).await.expect("valid rocket");
        TestApp { client, database, database_url, cloned, _storage: storage }
    }

    /// Serves the same app (same database, storage and keys) on a loopback port, for a real
    /// browser; returns its base URL. The server stops when the test's runtime does.
    pub async fn serve(&self) -> String {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let shutdown = rocket::config::Shutdown { ctrlc: false, ..Default::default() };
        let figment = config::figment()
            .merge(("log_level", "off"))
            .merge(("address", "127.0.0.1"))
            .merge(("port", port))
            .merge(("shutdown", shutdown));
        let figment = config::with_secret_key(figment, &[7u8; 64]);
        let rocket = helsedataservice::build(figment, self.config().clone()).await.expect("the app builds");
        tokio::spawn(rocket.launch());
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return format!("http://127.0.0.1:{port}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the app did not start listening on port {port}");
    }

    /// A second instance of the service on the same database and storage folder, as behind a load
    /// balancer: the same settings, and the same cookie key unless `secret_key` gives another.
    /// It leaves the database to the first instance.
    pub async fn second_instance(&self, secret_key: Option<[u8; 64]>) -> TestApp {
        let config = self.config().clone();
        let key = secret_key.unwrap_or([7u8; 64]);
        let figment = config::with_secret_key(config::figment().merge(("log_level", "off")), &key);
        let rocket = helsedataservice::build(figment, config).await.expect("the second instance builds");
        let client = Client::tracked(rocket).await.expect("valid rocket");
        TestApp {
            client,
            database: String::new(),
            database_url: self.database_url.clone(),
            cloned: false,
            _storage: tempfile::tempdir().unwrap(),
        }
    }

    pub fn pool(&self) -> &Pool {
        self.client.rocket().state::<Pool>().expect("pool")
    }

    pub fn mailer(&self) -> &helsedataservice::mail::Mailer {
        self.client.rocket().state::<std::sync::Arc<helsedataservice::mail::Mailer>>().expect("mailer")
    }

    pub fn config(&self) -> &Config {
        self.client.rocket().state::<Config>().expect("config")
    }

    /// One round of the mail worker at `now`.
    pub async fn send_mail(&self, now: chrono::DateTime<chrono::Utc>) -> helsedataservice::mail::Round {
        let mut conn = self.conn().await;
        helsedataservice::mail::send_due(&mut conn, self.mailer(), now, 1000).await
    }

    pub async fn conn(&self) -> db::Conn {
        self.pool().get().await.expect("a connection")
    }

    /// Creates a user directly (as an admin would); register owners belong to the organisation
    /// with `org_number`.
    pub async fn user(&self, role: &str, org_number: Option<&str>) -> TestUser {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let email = format!("{role}{n}@test.example.no");
        let mut conn = self.conn().await;
        let organisation_id = match org_number {
            Some(num) => db::catalogue::organisations(&conn)
                .await
                .unwrap()
                .into_iter()
                .find(|o| o.organisation_number == num)
                .map(|o| o.id),
            None => None,
        };
        let input = NewAccount {
            email: email.clone(),
            name: format!("Test {role} {n}"),
            password: PASSWORD.into(),
            role: Some(role.into()),
            organisation_id,
            language: Some("nb".into()),
        };
        let u = services::accounts::create_account(&mut conn, &Actor::system(), input, false, chrono::Utc::now())
            .await
            .expect("user created");
        TestUser { id: u.id, email, password: PASSWORD.into(), role: role.into() }
    }

    /// A bearer token for `user` from `POST /api/auth/token`.
    pub async fn token(&self, user: &TestUser) -> String {
        let (status, body) =
            self.post_json("/api/auth/token", None, json!({"email": user.email, "password": user.password})).await;
        assert_eq!(status, Status::Ok, "token for {}: {body}", user.email);
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn get_json(&self, path: &str, token: Option<&str>) -> (Status, Value) {
        let mut req = self.client.get(path.to_string());
        if let Some(t) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {t}")));
        }
        read_json(req.dispatch().await).await
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: Value) -> (Status, Value) {
        self.send_json(rocket::http::Method::Post, path, token, body.to_string()).await
    }

    pub async fn put_json(&self, path: &str, token: Option<&str>, body: Value) -> (Status, Value) {
        self.send_json(rocket::http::Method::Put, path, token, body.to_string()).await
    }

    pub async fn send_json(
        &self,
        method: rocket::http::Method,
        path: &str,
        token: Option<&str>,
        body: String,
    ) -> (Status, Value) {
        let mut req = self.client.req(method, path.to_string()).header(ContentType::JSON).body(body);
        if let Some(t) = token {
            req = req.header(Header::new("Authorization", format!("Bearer {t}")));
        }
        read_json(req.dispatch().await).await
    }

    /// GETs a page and returns status and HTML.
    pub async fn page(&self, path: &str) -> (Status, String) {
        let resp = self.client.get(path.to_string()).dispatch().await;
        (resp.status(), resp.into_string().await.unwrap_or_default())
    }

    /// The CSRF token the browser would find in a form (from the login page).
    pub async fn csrf(&self) -> String {
        let (_, html) = self.page("/login").await;
        csrf_in(&html)
    }

    /// POSTs a URL-encoded form as a browser does (with the CSRF token unless `csrf` is None).
    pub async fn form(&self, path: &str, fields: &[(&str, &str)], csrf: Option<&str>) -> LocalResponse<'_> {
        let mut body: Vec<String> = fields.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        if let Some(t) = csrf {
            body.push(format!("csrf_token={}", enc(t)));
        }
        self.client.post(path.to_string()).header(ContentType::Form).body(body.join("&")).dispatch().await
    }

    /// Logs the browser in through the login form.
    pub async fn login(&self, user: &TestUser) {
        let csrf = self.csrf().await;
        let resp = self
            .form("/login", &[("email", &user.email), ("password", &user.password), ("next", "/")], Some(&csrf))
            .await;
        assert_eq!(resp.status(), Status::SeeOther, "login of {}", user.email);
    }

    /// Runs SQL against this test's database directly (for checks and tampering tests).
    pub async fn sql(&self, statement: &str) -> Result<usize, diesel::result::Error> {
        let mut conn = self.conn().await;
        diesel::sql_query(statement).execute(&mut conn).await
    }

    /// The kinds of the events about one object, oldest first.
    pub async fn event_kinds(&self, subject_type: &str, subject_id: i64) -> Vec<String> {
        let conn = self.conn().await;
        db::events::for_subject(&conn, subject_type, subject_id).await.unwrap().into_iter().map(|e| e.kind).collect()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if !self.cloned {
            return; // a second instance or a database of its own: not ours to drop
        }
        let server = server();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.database));
        let admin_url = server.admin_url.clone();
        on_own_runtime(async move {
            if let Ok(mut conn) = AsyncPgConnection::establish(&admin_url).await {
                let _ = diesel::sql_query(sql).execute(&mut conn).await;
            }
        });
    }
}

/// A new, empty database on the test server (dropped when the guard is dropped): its URL.
pub struct EmptyDatabase {
    pub url: String,
    name: String,
}

impl EmptyDatabase {
    pub fn new() -> EmptyDatabase {
        let server = server();
        let name = format!("hds_e_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst));
        let sql = format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&name));
        let admin_url = server.admin_url.clone();
        on_own_runtime(async move {
            let mut conn = AsyncPgConnection::establish(&admin_url).await.unwrap();
            diesel::sql_query(sql).execute(&mut conn).await.unwrap();
        });
        EmptyDatabase { url: server.url(&name), name }
    }
}

impl Drop for EmptyDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(&self.name));
        let admin_url = server().admin_url.clone();
        on_own_runtime(async move {
            if let Ok(mut conn) = AsyncPgConnection::establish(&admin_url).await {
                let _ = diesel::sql_query(sql).execute(&mut conn).await;
            }
        });
    }
}

/// A field of the context of the last mail of `template` to `recipient` in the outbox (the code
/// or the link the mail will carry).
pub async fn last_mail_field(app: &TestApp, template: &str, recipient: &str, field: &str) -> String {
    #[derive(diesel::QueryableByName)]
    struct Field {
        #[diesel(sql_type = diesel::sql_types::Text)]
        value: String,
    }
    let mut conn = app.conn().await;
    let row: Field = diesel::sql_query(
        "SELECT context->>$3 AS value FROM outbox WHERE template = $1 AND recipient = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind::<diesel::sql_types::Text, _>(template)
    .bind::<diesel::sql_types::Text, _>(recipient)
    .bind::<diesel::sql_types::Text, _>(field)
    .get_result(&mut conn)
    .await
    .unwrap_or_else(|e| panic!("no {template} mail to {recipient}: {e}"));
    row.value
}

pub async fn read_json(resp: LocalResponse<'_>) -> (Status, Value) {
    let status = resp.status();
    let text = resp.into_string().await.unwrap_or_default();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    (status, value)
}

pub fn enc(s: &str) -> String {
    rocket::http::RawStr::new(s)
        .percent_encode()
        .to_string()
        .replace('&', "%26")
        .replace('=', "%3D")
        .replace('+', "%2B")
}

/// Page text as a browser reads it: Handlebars' escapes (`<>"'`=` and `&`) undone, `&amp;` last.
pub fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x60;", "`")
        .replace("&#x3D;", "=")
        .replace("&amp;", "&")
}

/// The message a form sent back to section `at` of a page (`/x#at`), read where the browser
/// lands: after the section's anchor, once, and not at the top of the page out of sight.
pub fn landed(html: &str, at: &str) -> String {
    let anchor = html.find(&format!("id=\"{at}\"")).unwrap_or_else(|| panic!("section {at} on the page"));
    let flash = html.find(" data-landed>").unwrap_or_else(|| panic!("a message in section {at}: {html}"));
    assert!(flash > anchor, "the message is in section {at}");
    assert_eq!(html.matches(" data-landed>").count(), 1, "one message");
    assert!(!html.contains("<!--top-flash-->"), "not again at the top");
    let text = &html[flash + " data-landed>".len()..];
    unescape(&text[..text.find("</div>").unwrap()])
}

/// The value of the first hidden `csrf_token` field in a page.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("the page has a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A valid (modulus-11) organisation number made from `seed`, for test organisations.
pub fn org_number(seed: u32) -> String {
    let weights = [3, 2, 7, 6, 5, 4, 3, 2];
    (0..100)
        .find_map(|k| {
            let prefix = format!("{:08}", 90_000_000 + seed * 100 + k);
            let sum: u32 = prefix.bytes().zip(weights).map(|(b, w)| u32::from(b - b'0') * w).sum();
            match 11 - sum % 11 {
                10 => None,
                11 => Some(format!("{prefix}0")),
                c => Some(format!("{prefix}{c}")),
            }
        })
        .unwrap()
}

/// The one `bigint` column `n` of the first row `sql` returns (counts, ids) from the test's database.
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.conn().await;
    diesel::sql_query(sql).get_result::<N>(&mut conn).await.unwrap().n
}

/// The one `json` column `j` of the first row `sql` returns, from the test's database.
pub async fn json_of(app: &TestApp, sql: &str) -> serde_json::Value {
    #[derive(diesel::QueryableByName)]
    struct J {
        #[diesel(sql_type = diesel::sql_types::Json)]
        j: serde_json::Value,
    }
    let mut conn = app.conn().await;
    diesel::sql_query(sql).get_result::<J>(&mut conn).await.unwrap().j
}
