//! The append-only, hash-chained event log.

use crate::common::{TestApp, count};
use helsedataservice::db::events;
use rocket::http::Status;
use serde_json::json;

#[rocket::async_test]
async fn changes_are_chained_and_verifiable() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    app.user("applicant", None).await;
    let mut conn = app.conn().await;
    let report = events::verify_chain(&mut conn).await.unwrap();
    assert!(report.checked >= 3, "catalogue load and two users: {report:?}");
    assert_eq!(report.first_broken, None);
    let kinds = app.event_kinds("user", admin.id).await;
    assert_eq!(kinds, vec!["user.created"]);
}

#[rocket::async_test]
async fn events_cannot_be_updated_deleted_or_truncated() {
    let app = TestApp::new().await;
    app.user("applicant", None).await;
    assert!(app.sql("UPDATE events SET kind = 'forged'").await.is_err());
    assert!(app.sql("DELETE FROM events").await.is_err());
    assert!(app.sql("TRUNCATE events").await.is_err());
    let mut conn = app.conn().await;
    assert_eq!(events::verify_chain(&mut conn).await.unwrap().first_broken, None);
}

#[rocket::async_test]
async fn a_forged_row_breaks_the_chain_and_the_admin_page_says_so() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    app.sql("INSERT INTO events (at, subject_type, kind, payload, prev_hash, hash) SELECT now(), 'user', 'user.created', '{}', hash, repeat('f', 64) FROM events ORDER BY id DESC LIMIT 1")
        .await
        .unwrap();
    let mut conn = app.conn().await;
    let report = events::verify_chain(&mut conn).await.unwrap();
    assert!(report.first_broken.is_some());

    app.login(&admin).await;
    // Pages show the last verification (the scheduler's, or one asked for now): none yet.
    let (status, html) = app.page("/admin/audit").await;
    assert_eq!(status, Status::Ok);
    assert!(!html.contains("brutt") && html.contains("ikke kontrollert"), "no verification yet");
    let csrf = app.csrf().await;
    let resp = app.form("/admin/audit/verify", &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (status, html) = app.page("/admin/audit").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("brutt"), "the audit page reports the break");
    let (_, html) = app.page("/dashboard").await;
    assert!(html.contains("brutt"), "so does the dashboard");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM audit_checks WHERE first_broken IS NOT NULL").await, 1);
}

#[rocket::async_test]
async fn concurrent_appends_keep_one_chain() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    let token = app.token(&admin).await;
    let tasks: Vec<_> = (0..8)
        .map(|i| app.post_json("/api/organisations", Some(&token), json!({"name": format!("Forskningsinstitutt {i}"), "organisation_number": crate::common::org_number(800 + i)})))
        .collect();
    let results = rocket::futures::future::join_all(tasks).await;
    assert!(results.iter().all(|(s, _)| *s == Status::Created), "{results:?}");
    let mut conn = app.conn().await;
    let report = events::verify_chain(&mut conn).await.unwrap();
    assert_eq!(report.first_broken, None);
}

/// Issue 20: the audit log and the outbox read as sentences with people's names: no raw JSON,
/// no template codes, no server paths.
#[rocket::async_test]
async fn the_audit_log_and_the_outbox_read_as_sentences_with_names() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    let applicant = app.user("applicant", None).await;
    let case = crate::applications_api::submitted(&app, &applicant).await;
    let reference = case["reference"].as_str().unwrap().to_string();
    let name: String = {
        let mut conn = app.conn().await;
        helsedataservice::db::users::by_id(&mut conn, applicant.id).await.unwrap().unwrap().name
    };
    app.login(&admin).await;
    let (status, html) = app.page("/admin/audit").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&format!("<strong>{name} (Søker)</strong>: Søknaden ble sendt inn")), "who did what: {html}");
    assert!(html.contains(&format!("href=\"/applications/{}\"", case["id"])) && html.contains(&reference));
    assert!(html.contains("En konto ble opprettet"), "account events in words");
    assert!(!html.contains("{&quot;") && !html.contains("&quot;:"), "no raw JSON");
    assert!(
        html.contains("<dt>Frist</dt>") && html.contains("<dt>Prisoverslag</dt><dd>NOK "),
        "details in words: {html}"
    );
    assert!(!html.contains("<dt>estimate ore</dt>"), "not the payload's keys");
    assert!(html.contains("<dt>Søknadstype (data)</dt><dd>Personidentifiserbare data</dd>"), "codes in words");
    let due = case["due_date"].as_str().unwrap();
    let shown = chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d").unwrap().format("%d.%m.%Y").to_string();
    assert!(html.contains(&format!("<dt>Frist</dt><dd>{shown}</dd>")), "days as pages write them");
    let (status, html) = app.page("/admin/mail").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Vi har mottatt søknad"), "the receipt by its subject");
    assert!(!html.contains("application.submitted_receipt"), "no template codes");
    assert!(!html.contains(&app.config().mail_dir.display().to_string()), "no server paths");
}
