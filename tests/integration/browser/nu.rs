//! The Nu Html Checker (vnu-jar from the npm registry, `tests/browser/package-lock.json`, run
//! with Java) over every page the browser journey visited: no error may be found.

use std::process::Command;

const VNU: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/node_modules/vnu-jar/build/dist/vnu.jar");

/// The checker's errors for `pages` (path, HTML), one line each: `path:line: message`.
pub fn errors(pages: &[(String, String)]) -> Vec<String> {
    assert!(std::path::Path::new(VNU).is_file(), "vnu-jar is not installed ({VNU}): run scripts/ensure-deps --browser");
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![];
    for (i, (_, html)) in pages.iter().enumerate() {
        let file = dir.path().join(format!("page-{i}.html"));
        std::fs::write(&file, html).unwrap();
        files.push(file);
    }
    let out = Command::new("java")
        .args(["-jar", VNU, "--errors-only", "--format", "json"])
        .args(&files)
        .output()
        .expect("java runs the Nu Html Checker");
    // The report is JSON on stderr: {"messages": [{"url", "lastLine", "message", "extract"} …]}.
    let report: serde_json::Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|e| panic!("the checker's report ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    report["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter(|m| m["type"] == "error")
                .map(|m| {
                    let url = m["url"].as_str().unwrap_or_default();
                    let index: usize =
                        url.rsplit("page-").next().and_then(|s| s.trim_end_matches(".html").parse().ok()).unwrap_or(0);
                    let path = pages.get(index).map(|(p, _)| p.as_str()).unwrap_or(url);
                    format!(
                        "{path}:{}: {} [{}]",
                        m["lastLine"],
                        m["message"].as_str().unwrap_or_default(),
                        m["extract"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
