//! Issue 22's workflows in a real browser, through the pages only: a researcher asks about a
//! source before applying and the source's owner answers; a case officer asks the owner for a
//! statement (the empty form first: errors beside the fields), and the owner answers it. axe-core
//! checks every page on the way and the Nu Html Checker every page afterwards.

use super::driver::Browser;
use super::journey::{log_in, log_out};
use crate::common::TestApp;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;

const HDIR: &str = "983544622";

struct Setup {
    applicant: String,
    officer: String,
    owner: String,
    case_id: i64,
    npr_id: i64,
}

#[rocket::async_test]
async fn statements_and_enquiries_through_the_pages() {
    let app = TestApp::new().await;
    let base = app.serve().await;
    let applicant = app.user("applicant", None).await;
    let case = crate::applications_api::submitted(&app, &applicant).await;
    let (_, npr) = app.get_json("/api/data-sources/NPR", None).await;
    let setup = Setup {
        applicant: applicant.email.clone(),
        officer: app.user("case_officer", None).await.email,
        owner: app.user("register_owner", Some(HDIR)).await.email,
        case_id: case["id"].as_i64().unwrap(),
        npr_id: npr["id"].as_i64().unwrap(),
    };
    let mut browser = Browser::start(&base).await;
    let outcome = AssertUnwindSafe(walk(&mut browser, &setup)).catch_unwind().await;
    let audited = browser.audited.len();
    let pages = std::mem::take(&mut browser.pages);
    browser.finish("workflow", outcome).await;
    assert!(audited >= 15, "axe-core checked {audited} pages");
    let errors = super::nu::errors(&pages);
    assert!(errors.is_empty(), "the Nu Html Checker found {} errors:\n{}", errors.len(), errors.join("\n"));
}

async fn walk(b: &mut Browser, s: &Setup) {
    b.step("the researcher asks about a source before applying");
    log_in(b, &s.applicant).await;
    b.open("/enquiries").await;
    b.click("a.button[href='/enquiries/new']").await;
    b.click("form[action='/enquiries'] button[type=submit]").await;
    super::errors_tied_to_fields(b, &["f-subject", "f-question"]).await;
    b.fill("f-subject", "Hjertesvikt etter covid-19").await;
    b.fill("f-question", "Har NPR hovedtilstand per kontakt?").await;
    b.tick(&format!("src-{}", s.npr_id)).await;
    b.click("form[action='/enquiries'] button[type=submit]").await;
    b.see("Henvendelsen er sendt").await;
    let thread = b.path().await;
    log_out(b).await;

    b.step("the source's owner answers in the thread");
    log_in(b, &s.owner).await;
    b.open(&thread).await;
    b.click("form[action$='/messages'] button[type=submit]").await;
    super::errors_tied_to_fields(b, &["f-body"]).await;
    b.fill("f-body", "Ja, per kontakt fra 2008.").await;
    b.click("form[action$='/messages'] button[type=submit]").await;
    b.see("Ja, per kontakt fra 2008.").await;
    log_out(b).await;

    b.step("the officer asks the owner for a statement");
    log_in(b, &s.officer).await;
    b.open(&format!("/applications/{}", s.case_id)).await;
    b.click("#statements a.button").await;
    b.click("form[action$='/statements'] button[type=submit]").await;
    super::errors_tied_to_fields(b, &["f-email", "f-question", "f-due_on"]).await;
    b.fill("f-email", &s.owner).await;
    b.fill("f-question", "Kan NPR levere hovedtilstand for hele perioden?").await;
    let due = chrono::Utc::now().date_naive() + chrono::Duration::days(14);
    b.date("f-due_on", &due.to_string()).await;
    b.click("form[action$='/statements'] button[type=submit]").await;
    b.see("Det er bedt om uttalelse").await;
    b.open("/statements").await;
    b.see("Venter på svar").await;
    log_out(b).await;

    b.step("the owner answers the statement");
    log_in(b, &s.owner).await;
    b.open("/statements").await;
    b.click("table a[href^='/statements/']").await;
    b.see("Kan NPR levere hovedtilstand for hele perioden?").await;
    b.click("form[action$='/answer'] button[type=submit]").await;
    super::errors_tied_to_fields(b, &["f-answer"]).await;
    b.fill("f-answer", "Ja, for hele perioden.").await;
    b.click("form[action$='/answer'] button[type=submit]").await;
    b.see("Takk. Uttalelsen din er sendt").await;
    b.see("Ja, for hele perioden.").await;
    log_out(b).await;
}
