//! The application form by keyboard alone: Tab reaches every control in order, each shows a
//! visible focus indicator, and a draft is filled in and saved without the mouse.

use super::driver::Browser;
use super::journey::log_in;
use crate::common::TestApp;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use futures::FutureExt;
use serde_json::Value;
use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;

#[rocket::async_test]
async fn the_form_by_keyboard_alone() {
    let app = TestApp::new().await;
    let base = app.serve().await;
    let applicant = app.user("applicant", None).await;
    let mut browser = Browser::start(&base).await;
    let outcome = AssertUnwindSafe(keyboard_only(&mut browser, &applicant.email)).catch_unwind().await;
    browser.finish("keyboard", outcome).await;
}

async fn press(b: &Browser, key: Key) {
    let key = char::from(key);
    let actions =
        KeyActions::new("keyboard".into()).then(KeyAction::Down { value: key }).then(KeyAction::Up { value: key });
    b.client().perform_actions(actions).await.expect("a key press");
}

async fn type_text(b: &Browser, text: &str) {
    let mut actions = KeyActions::new("keyboard".into());
    for c in text.chars() {
        actions = actions.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
    }
    b.client().perform_actions(actions).await.expect("typing");
}

/// The controls of the application form a keyboard user must reach (a radio group counts once).
const CONTROLS: &str = r#"
const keys = new Set();
for (const el of document.querySelectorAll('form.application-form :is(input, select, textarea, button)')) {
  if (el.type === 'hidden' || el.disabled || el.tabIndex < 0) continue;
  keys.add(el.type === 'radio' ? 'radio:' + el.name : (el.id || el.name + '=' + el.value));
}
return [...keys];
"#;

/// What has focus, and whether a sighted keyboard user can see it.
const FOCUSED: &str = r#"
const el = document.activeElement;
if (!el || el === document.body) return { key: 'body' };
const cs = getComputedStyle(el);
const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2;
const shadow = cs.boxShadow !== 'none';
const r = el.getBoundingClientRect();
return {
  key: el.type === 'radio' ? 'radio:' + el.name : (el.id || el.name + '=' + el.value),
  id: el.id, name: el.name || '', value: el.value || '', tag: el.tagName,
  visibleFocus: outline || shadow,
  onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < window.innerHeight,
  cls: el.className || '',
  style: [cs.outlineStyle, cs.outlineWidth, cs.boxShadow].join(' | '),
};
"#;

async fn keyboard_only(b: &mut Browser, email: &str) {
    log_in(b, email).await;
    b.open("/applications").await;
    b.tick("kind-identifiable").await;
    b.click("form[action='/applications'] button[type=submit]").await;
    let edit = b.path().await;

    b.step("tabbing through the form");
    let in_order: Vec<String> =
        b.js(CONTROLS, vec![]).await.as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let wanted: BTreeSet<String> = in_order.iter().cloned().collect();
    assert!(wanted.len() > 30, "the form's controls: {wanted:?}");
    let mut reached = Vec::<String>::new();
    let mut first = None;
    let mut saved = false;
    for _ in 0..400 {
        press(b, Key::Tab).await;
        let focus = b.js(FOCUSED, vec![]).await;
        let key = focus["key"].as_str().unwrap().to_string();
        if key == "body" {
            continue;
        }
        first.get_or_insert_with(|| focus["cls"].as_str().unwrap_or("").to_string());
        assert_eq!(focus["visibleFocus"], Value::Bool(true), "no visible focus indicator on {focus}");
        assert_eq!(focus["onScreen"], Value::Bool(true), "the focused element is off screen: {focus}");
        reached.push(key.clone());
        match key.as_str() {
            "f-title" => type_text(b, "Skrevet med tastaturet").await,
            "radio:dpia_done" => press(b, Key::Space).await,
            "f-purpose" => press(b, Key::Down).await,
            "action=save" => {
                b.js("window.__hdsOld = true;", vec![]).await;
                press(b, Key::Enter).await;
                b.wait_for_new_page("Enter on the save button").await;
                saved = true;
                break;
            }
            _ => {}
        }
    }
    assert_eq!(first.as_deref(), Some("skip-link"), "the first Tab stop is the skip link");
    assert!(saved, "Tab never reached the save button: {reached:?}");
    let missed: Vec<&String> =
        // The buttons after "save" (review; save and add attachments) come after the walk stops.
        wanted.iter().filter(|k| !reached.contains(k) && !["action=review", "action=attachments"].contains(&k.as_str())).collect();
    assert!(missed.is_empty(), "not reachable by Tab: {missed:?}\nreached: {reached:?}");
    reached.dedup(); // a date field has several stops: month, day, year and its picker
    let tab_order: Vec<&String> = reached.iter().filter(|k| wanted.contains(*k)).collect();
    let document_order: Vec<&String> = in_order.iter().filter(|k| reached.contains(k)).collect();
    assert_eq!(tab_order, document_order, "the Tab order follows the form");

    b.step("the draft saved by keyboard");
    assert_eq!(b.path().await, edit);
    b.audit().await;
    b.see("Utkastet er lagret").await;
    assert_eq!(b.by_id("f-title").await.prop("value").await.unwrap().as_deref(), Some("Skrevet med tastaturet"));
    assert!(b.by_id("f-dpia_done-yes").await.is_selected().await.unwrap(), "Space chose “yes”");
    assert_ne!(
        b.by_id("f-purpose").await.prop("value").await.unwrap().as_deref(),
        Some(""),
        "Arrow Down chose a purpose"
    );
}
