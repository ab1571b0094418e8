//! axe-core (from the npm registry, `tests/browser/package-lock.json`), injected into a page and
//! run there; only serious and critical violations fail a test.

use fantoccini::Client;
use serde_json::Value;

const AXE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/node_modules/axe-core/axe.min.js");

/// The axe-core script.
pub fn source() -> String {
    std::fs::read_to_string(AXE)
        .unwrap_or_else(|e| panic!("axe-core is not installed ({AXE}: {e}): run scripts/ensure-deps --browser"))
}

const RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] })
  .then(r => done(r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — ' + n.failureSummary.replace(/\s+/g, ' '))
  }))))
  .catch(e => done({ error: String(e) }));
"#;

/// Runs axe-core on the page `client` shows; returns the serious and critical violations, one
/// line each.
pub async fn run(client: &Client, axe: &str) -> Vec<String> {
    let loaded = client.execute("return typeof window.axe === 'object';", vec![]).await.unwrap();
    if loaded != Value::Bool(true) {
        client.execute(&format!("{axe}\n;return true;"), vec![]).await.expect("axe-core loads into the page");
    }
    let result = client.execute_async(RUN, vec![]).await.expect("axe-core runs");
    let Some(violations) = result.as_array() else {
        panic!("axe-core failed: {result}");
    };
    violations
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .map(|v| {
            let nodes: Vec<&str> = v["nodes"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
            format!("- [{}] {}: {}\n    {}", v["impact"].as_str().unwrap(), v["id"], v["help"], nodes.join("\n    "))
        })
        .collect()
}
