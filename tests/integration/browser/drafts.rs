//! Nothing typed is lost when a form never reaches the service's checks: a message typed while
//! the sign-in ran out comes back on the case page after signing in again (static/drafts.js),
//! goes once sent, and text typed and left behind comes back with a way to discard it.

use super::driver::Browser;
use super::journey::log_in;
use crate::common::{PASSWORD, TestApp};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;

const TYPED: &str = "Når kan vi vente svar? Vi må planlegge analysene før sommeren.";

#[rocket::async_test]
async fn typed_text_survives_a_sign_in_that_ran_out() {
    let app = TestApp::new().await;
    let base = app.serve().await;
    let applicant = app.user("applicant", None).await;
    let case = crate::applications_api::submitted(&app, &applicant).await;
    let status_page = format!("/applications/{}", case["id"]);
    let mut browser = Browser::start(&base).await;
    let outcome = AssertUnwindSafe(walk(&mut browser, &app, &applicant.email, &status_page)).catch_unwind().await;
    browser.finish("drafts", outcome).await;
}

async fn body_value(b: &Browser) -> String {
    b.js("return document.getElementById('f-body').value;", vec![]).await.as_str().unwrap_or_default().to_string()
}

async fn walk(b: &mut Browser, app: &TestApp, email: &str, status_page: &str) {
    b.step("the researcher writes a message while the sign-in runs out");
    log_in(b, email).await;
    b.open(status_page).await;
    b.fill("f-body", TYPED).await;
    app.sql("DELETE FROM sessions").await.unwrap();
    b.click("#form-message button[type=submit]").await;
    assert!(b.path().await.starts_with("/login"), "to the login");

    b.step("signed in again, the message is back in its box on the case page");
    b.fill("f-email", email).await;
    b.fill("f-password", PASSWORD).await;
    b.click("form[action='/login'] button[type=submit]").await;
    assert_eq!(b.path().await, status_page, "back on the page the form was on");
    assert_eq!(body_value(b).await, TYPED);
    b.see("Tekst du ikke fikk sendt, er satt inn igjen.").await;

    b.step("sent, it is gone from the box for good");
    b.click("#form-message button[type=submit]").await;
    b.see("Meldingen er sendt.").await;
    b.see(TYPED).await;
    b.open(status_page).await;
    assert_eq!(body_value(b).await, "", "not put back once the service took it");
    b.not_see("Tekst du ikke fikk sendt").await;

    b.step("a refused message comes back at the case page's own address");
    b.click("#form-message button[type=submit]").await;
    b.see("Skjemaet ble ikke sendt").await;
    assert_eq!(b.path().await, status_page, "not the POST's address, which has no page");

    b.step("text typed and left comes back, and can be discarded");
    b.fill("f-body", "Et utkast til neste spørsmål").await;
    b.open("/applications").await;
    b.open(status_page).await;
    assert_eq!(body_value(b).await, "Et utkast til neste spørsmål");
    b.find(".draft-note button").await.click().await.unwrap();
    assert_eq!(body_value(b).await, "", "discarded");
    b.open(status_page).await;
    assert_eq!(body_value(b).await, "");
    b.not_see("Tekst du ikke fikk sendt").await;
}
