//! The whole case in a real browser, through the pages only: an applicant registers and fills the
//! form (with a mistake corrected on the page), a case officer returns it, the applicant fixes
//! and resubmits, the officer completes it, two register owners approve and reject their
//! releases, the officer decides and invoices, the approving owner uploads a file, and the
//! applicant downloads it and reads the timeline, decision, invoice and statistics in both
//! languages. axe-core checks every page on the way.

use super::driver::Browser;
use crate::common::{PASSWORD, TestApp};
use futures::FutureExt;
use serde_json::json;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

const FHI: &str = "983744516";
const HELSE_BERGEN: &str = "983974724";

struct People {
    applicant_email: String,
    officer: String,
    fhi: String,
    bergen: String,
}

#[rocket::async_test]
async fn a_case_from_registration_to_download() {
    let app = TestApp::new().await;
    let base = app.serve().await;
    let people = People {
        applicant_email: format!("kari.{}@test.example.no", std::process::id()),
        officer: app.user("case_officer", None).await.email,
        fhi: app.user("register_owner", Some(FHI)).await.email,
        bergen: app.user("register_owner", Some(HELSE_BERGEN)).await.email,
    };
    let mut browser = Browser::start(&base).await;
    let outcome = AssertUnwindSafe(journey(&mut browser, &people)).catch_unwind().await;
    let audited = browser.audited.len();
    let pages = std::mem::take(&mut browser.pages);
    browser.finish("journey", outcome).await;
    println!("axe-core checked {audited} pages");
    assert!(audited >= 30, "axe-core checked {audited} pages");
    // Issue 20: the Nu Html Checker finds no error on any page the journey visited.
    let errors = super::nu::errors(&pages);
    println!("the Nu Html Checker checked {} pages", pages.len());
    assert!(
        errors.is_empty(),
        "the Nu Html Checker found {} errors:
{}",
        errors.len(),
        errors.join(
            "
"
        )
    );
}

pub async fn log_in(b: &mut Browser, email: &str) {
    b.open("/login").await;
    b.fill("f-email", email).await;
    b.fill("f-password", PASSWORD).await;
    b.click("form[action='/login'] button[type=submit]").await;
    b.not_see("Feil e-postadresse eller passord").await;
}

pub async fn log_out(b: &mut Browser) {
    b.click("form[action='/logout'] button").await;
}

async fn journey(b: &mut Browser, people: &People) {
    b.step("front page and registration");
    b.open("/").await;
    b.open("/register").await;
    b.fill("f-name", "Kari Forsker").await;
    b.fill("f-email", &people.applicant_email).await;
    b.fill("f-password", PASSWORD).await;
    b.fill("f-password_confirm", PASSWORD).await;
    b.click("form[action='/register'] button[type=submit]").await;
    b.see("Sjekk e-posten din").await;
    log_in(b, &people.applicant_email).await;
    b.see("Kari Forsker").await;

    b.step("a new application");
    b.open("/applications").await;
    b.tick("kind-identifiable").await;
    b.click("form[action='/applications'] button[type=submit]").await;
    let edit = b.path().await;
    assert!(edit.ends_with("/edit"), "the form opens: {edit}");
    let id = edit.split('/').nth(2).unwrap().to_string();
    let status = format!("/applications/{id}");

    fill_form(b).await;
    attach(b).await;

    b.step("review and submit");
    b.click("button[name=action][value=review]").await;
    assert_eq!(b.path().await, format!("/applications/{id}/submit"));
    b.click("form[action$='/submit'] button[type=submit]").await;
    b.see("Du må godta prisoverslaget").await;
    b.tick("f-accept").await;
    b.click("form[action$='/submit'] button[type=submit]").await;
    assert_eq!(b.path().await, status);
    b.see("Sendt inn").await;
    let reference = reference_on(b).await;
    log_out(b).await;

    b.step("the officer returns it");
    log_in(b, &people.officer).await;
    b.open("/inbox").await;
    b.see(&reference).await;
    b.open(&status).await;
    b.fill("c-return-message", "Legg ved REK-godkjenningen i sammendraget.").await;
    b.click("form[action$='/command/return'] button").await;
    b.see("Returnert for endring").await;
    log_out(b).await;

    b.step("the applicant fixes and resubmits");
    log_in(b, &people.applicant_email).await;
    b.open(&status).await;
    b.see("Legg ved REK-godkjenningen").await;
    b.open(&edit).await;
    b.fill("f-summary", "Vi undersøker hjertesvikt etter covid-19. REK-godkjenning 2026/1234.").await;
    b.click("button[name=action][value=review]").await;
    b.tick("f-accept").await;
    b.click("form[action$='/submit'] button[type=submit]").await;
    b.see("Sendt inn").await;
    log_out(b).await;

    b.step("the officer completes it");
    log_in(b, &people.officer).await;
    b.open(&status).await;
    b.click("form[action$='/command/complete'] button").await;
    b.see("Under behandling").await;
    log_out(b).await;

    b.step("FHI approves the Cancer Registry release");
    log_in(b, &people.fhi).await;
    b.open("/releases").await;
    b.see(&reference).await;
    b.open(&status).await;
    decide_release(b, "KRG", true, "Utleveres pseudonymisert.").await;
    log_out(b).await;

    b.step("Helse Bergen rejects the NIPAR release");
    log_in(b, &people.bergen).await;
    b.open("/releases").await;
    b.open(&status).await;
    decide_release(b, "NIPAR", false, "Formålet dekkes ikke av registerets konsesjon.").await;
    log_out(b).await;

    b.step("the officer decides and invoices");
    log_in(b, &people.officer).await;
    b.open(&status).await;
    b.fill("c-decide-reasons", "Innvilget for Kreftregisteret etter helseregisterloven § 19 e.").await;
    b.click("form[action$='/command/decide'] button").await;
    // One click shows the letter as it will be sent; only the confirmation decides.
    b.see("Slik blir vedtaket").await;
    b.see("Innvilget for Kreftregisteret etter helseregisterloven § 19 e.").await;
    b.click("form[action$='/command/decide'] button").await;
    b.see("Delvis innvilget").await;
    b.click("form[action$='/invoice/generate'] button").await;
    while b.exists("form[action$='/issue'] button").await {
        b.click("form[action$='/issue'] button").await;
    }
    log_out(b).await;

    b.step("FHI uploads the data");
    log_in(b, &people.fhi).await;
    b.open(&status).await;
    let expires = (chrono::Utc::now().date_naive() + chrono::Days::new(30)).to_string();
    let field = b.find("form[action$='/transfers'] input[type=date]").await;
    b.js("arguments[0].value = arguments[1];", vec![json!(field), json!(expires)]).await;
    b.click("form[action$='/transfers'] button").await;
    assert!(b.path().await.starts_with("/transfers/"), "the transfer page opens");
    let data = b.downloads.path().parent().unwrap().join(format!("krg-uttrekk-{id}.csv"));
    let contents = "lopenr;diagnosedato;icd10\n1;2019-03-02;C50\n2;2020-11-17;C61\n";
    std::fs::write(&data, contents).unwrap();
    b.find("form[action$='/files'] input[type=file]").await.send_keys(data.to_str().unwrap()).await.unwrap();
    b.click("form[action$='/files'] button").await;
    b.see(&format!("krg-uttrekk-{id}.csv")).await;
    b.click("form[action$='/publish'] button").await;
    log_out(b).await;

    b.step("the applicant accepts the data-use terms, then downloads the data");
    log_in(b, &people.applicant_email).await;
    b.open(&status).await;
    b.not_see(&format!("krg-uttrekk-{id}.csv")).await;
    b.click("#terms a.button").await;
    b.see("Taushetserklæring").await;
    b.find("form[action$='/terms'] input[type=checkbox]").await.click().await.unwrap();
    b.click("form[action$='/terms'] button").await;
    b.see("Takk. Filene fra kildene").await;
    b.open(&status).await;
    b.find("#transfers ~ .table-wrap a[download]").await.click().await.unwrap();
    let saved = b.downloads.path().join(format!("krg-uttrekk-{id}.csv"));
    let mut waited = 0;
    // Chrome may create the file before it has written it: wait for the whole of it.
    while std::fs::metadata(&saved).map_or(true, |m| m.len() < contents.len() as u64) && waited < 200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(std::fs::read_to_string(&saved).expect("the file was downloaded"), contents);
    std::fs::remove_file(&data).unwrap();

    b.step("timeline, decision, invoice and statistics");
    b.open(&status).await;
    b.see("Utlevert").await;
    b.see("Søknaden ble sendt inn").await;
    b.open(&format!("/applications/{id}/decision")).await;
    b.see("Utleveres pseudonymisert.").await;
    b.see("Formålet dekkes ikke").await;
    b.open(&format!("/applications/{id}/invoice")).await;
    b.see(&reference).await;
    b.open("/statistics").await;
    assert!(b.exists("svg").await, "the statistics page has charts");
    b.open("/projects").await;

    b.step("switching language");
    b.open(&status).await;
    b.click("a.lang[hreflang=en]").await;
    assert_eq!(b.path().await, status, "the language switch stays on the page");
    b.see("Delivered").await;
    b.see("Timeline").await;
    b.open(&format!("/applications/{id}/decision")).await;
    b.open("/statistics").await;
    b.see("Statistics").await;
    b.click("a.lang[hreflang=nn]").await;
    b.see("Prisar").await;
    b.click("a.lang[hreflang=nb]").await;
    b.see("Statistikk").await;
    b.see("Priser").await;
}

/// Fills the whole form: first with a wrong date range and organisation number, whose errors
/// must stand beside their fields, then corrected, with two sources and their variables.
async fn fill_form(b: &mut Browser) {
    b.step("the form with mistakes");
    b.fill("f-title", "Hjertesvikt etter covid-19").await;
    b.date("f-start_date", "2027-01-01").await;
    b.date("f-end_date", "2026-01-01").await;
    b.fill("f-controller.name", "Universitetet i Oslo").await;
    b.fill("f-controller.organisation_number", "971035855").await;
    b.click(".actions button[name=action][value=save]").await;
    super::errors_tied_to_fields(b, &["f-end_date", "f-controller.organisation_number"]).await;
    b.see("feil kontrollsiffer").await;
    assert_eq!(b.by_id("f-title").await.prop("value").await.unwrap().as_deref(), Some("Hjertesvikt etter covid-19"));

    b.step("the form corrected");
    b.date("f-end_date", "2029-12-31").await;
    b.fill("f-controller.organisation_number", "971035854").await;
    b.fill("f-summary", "Vi undersøker hjertesvikt etter covid-19.").await;
    b.choose("f-purpose", "Medisinsk og helsefaglig forskning").await;
    b.fill("f-project_leader.name", "Kari Forsker").await;
    b.fill("f-project_leader.email", "kari@example.no").await;
    b.fill("f-project_leader.institution", "Universitetet i Oslo").await;
    b.fill("f-members", "kollega@example.no").await;
    b.choose("f-legal_basis.gdpr_article_6", "6(1)(e)").await;
    b.choose("f-legal_basis.gdpr_article_9", "9(2)(j)").await;
    b.fill("f-legal_basis.justification", "Allmenn interesse og vitenskapelig forskning.").await;
    b.fill("f-rek_reference", "2026/1234").await;
    b.tick("f-dpia_done-yes").await;
    b.choose("f-dispensation", "Søkes fra Helsedataservice").await;
    b.tick("f-consent_based-no").await;
    b.tick("f-controller_approved").await;
    b.choose("f-data_sources.0.data_source_id", "KRG –").await;
    b.click(".actions button[name=action][value=save]").await;
    b.choose("f-data_sources.1.data_source_id", "NIPAR –").await;
    b.click(".actions button[name=action][value=save]").await;

    b.step("the sources' variables and periods");
    for (row, variable) in [(0, "icd10"), (1, "lopenr")] {
        b.tick(&format!("v-{row}-{variable}")).await;
        b.date(&format!("f-data_sources.{row}.period_from"), "2015-01-01").await;
        b.date(&format!("f-data_sources.{row}.period_to"), "2024-12-31").await;
        b.fill(&format!("f-data_sources.{row}.selection"), "Alle med hjertesvikt (I50)").await;
    }
    b.tick("f-linkage-yes").await;
    b.fill("f-linkage_key", "fødselsnummer").await;
    b.fill("f-storage", "TSD").await;
    b.fill("f-access", "Prosjektgruppen").await;
    b.date("f-deletion_date", "2030-12-31").await;
    b.fill("f-publication", "Aggregerte resultater i tidsskrift.").await;
    b.fill("f-invoice_recipient.name", "Universitetet i Oslo").await;
    b.fill("f-invoice_recipient.organisation_number", "971035854").await;
    b.fill("f-invoice_recipient.reference", "P-1").await;
    b.click(".actions button[name=action][value=save]").await;
    b.see("Utkastet er lagret").await;
}

/// Uploads the protocol, the data protection officer's assessment and the REK approval.
async fn attach(b: &mut Browser) {
    b.step("attachments: what was typed survives the upload");
    // Typed but not saved: the way to the attachments saves it first.
    b.fill("f-publication", "Aggregerte resultater i tidsskrift og en rapport.").await;
    b.click("button[name=action][value=attachments]").await;
    assert!(b.path().await.ends_with("/attachments"), "the attachment step opens");
    let pdf = b.downloads.path().parent().unwrap().join(format!("protokoll-{}.pdf", std::process::id()));
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n").unwrap();
    for kind in ["protocol", "dpo_assessment", "rek_approval"] {
        b.find(&format!("form[action$='/attachments'] option[value={kind}]")).await.click().await.unwrap();
        b.find("form[action$='/attachments'] input[type=file]").await.send_keys(pdf.to_str().unwrap()).await.unwrap();
        b.click("form[action$='/attachments'] button[type=submit]").await;
    }
    std::fs::remove_file(&pdf).unwrap();
    b.click("a.button[href$='/edit#attachments']").await;
    assert_eq!(
        b.by_id("f-publication").await.prop("value").await.unwrap().as_deref(),
        Some("Aggregerte resultater i tidsskrift og en rapport."),
        "the text typed before the upload is kept"
    );
}

/// Approves or rejects the release of `code` on the status page.
async fn decide_release(b: &mut Browser, code: &str, approve: bool, text: &str) {
    let form = format!("form.release-decision[data-source='{code}']");
    let choice = if approve { "true" } else { "false" };
    b.find(&format!("{form} input[name=approve][value={choice}]")).await.click().await.unwrap();
    let field = if approve { "conditions" } else { "reasons" };
    b.find(&format!("{form} textarea[name={field}]")).await.send_keys(text).await.unwrap();
    b.click(&format!("{form} button[type=submit]")).await;
    b.see(text).await;
}

/// The case reference shown on the status page.
async fn reference_on(b: &Browser) -> String {
    let text = b.text().await;
    let at = text.find("HDS-").expect("the reference is shown");
    text[at..].split_whitespace().next().unwrap().trim_end_matches([',', '.', ')']).to_string()
}
