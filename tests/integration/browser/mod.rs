//! The browser tier: the real pages, served on a loopback port, driven in headless Chromium
//! (Debian's `chromium` and `chromium-driver`) over WebDriver, with axe-core run on every page a
//! journey visits. `scripts/ensure-deps --browser` installs what it needs.

mod axe;
mod drafts;
mod driver;
mod journey;
mod keyboard;
mod nu;
mod workflow;

use driver::Browser;
use serde_json::Value;

const ERRORS_TIED: &str = r##"
const problems = [];
const invalid = [...document.querySelectorAll('[aria-invalid="true"]')];
for (const el of invalid) {
  const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
  const messages = ids.map(i => document.getElementById(i))
    .filter(e => e && e.classList.contains('error') && e.textContent.trim() !== '');
  if (messages.length === 0) problems.push(el.id + ': no error message in its aria-describedby');
  if (!document.querySelector('label[for="' + el.id + '"]')) problems.push(el.id + ': no label');
}
for (const p of document.querySelectorAll('.field .error[id]')) {
  if (!document.querySelector('[aria-describedby~="' + p.id + '"]')) problems.push(p.id + ': an error message no field refers to');
}
const summary = [...document.querySelectorAll('.error-summary a[href^="#"]')]
  .map(a => a.getAttribute('href').slice(1))
  .filter(id => !document.getElementById(id));
for (const id of summary) problems.push('error summary links to #' + id + ', which is not on the page');
return { problems, invalid: invalid.map(e => e.id) };
"##;

/// Fails unless the page shows errors for exactly the fields `expected` and every error message
/// is tied to its field by `aria-describedby` (and every invalid field has a label, and the error
/// summary's links lead to fields on the page).
pub async fn errors_tied_to_fields(b: &Browser, expected: &[&str]) {
    let found = b.js(ERRORS_TIED, vec![]).await;
    let problems: Vec<&str> = found["problems"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(
        problems.is_empty(),
        "error messages not tied to their fields on {}:\n{}",
        b.path().await,
        problems.join("\n")
    );
    let mut invalid: Vec<&str> = found["invalid"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    invalid.sort_unstable();
    let mut expected = expected.to_vec();
    expected.sort_unstable();
    assert_eq!(invalid, expected, "the fields marked invalid");
    assert!(b.exists(".error-summary[role=alert]").await, "an error summary is announced");
    let focused = b.js("return document.activeElement.classList.contains('error-summary')", vec![]).await;
    assert_eq!(focused, Value::Bool(true), "the page starts at its error summary (focus moved there)");
}
