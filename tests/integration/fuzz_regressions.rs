//! Inputs that fuzzing (scripts/fuzz-api, scripts/fuzz-forms) found to fail, kept so they stay fixed.

use crate::common::TestApp;
use rocket::http::Status;

/// schemathesis: `GET /api/projects?page=9223372036854775806` overflowed the offset (a panic, 500).
#[rocket::async_test]
async fn huge_and_negative_project_pages_are_empty_or_the_first_not_a_server_error() {
    let app = TestApp::new().await;
    for page in ["9223372036854775806", "9223372036854775807", "1000001", "-9223372036854775808", "0"] {
        let (status, body) = app.get_json(&format!("/api/projects?page={page}"), None).await;
        assert_eq!(status, Status::Ok, "page {page}: {body}");
        assert!(body["projects"].is_array(), "{body}");
        let (status, _) = app.page(&format!("/projects?page={page}")).await;
        assert_eq!(status, Status::Ok, "the page, page {page}");
    }
    let (_, body) = app.get_json("/api/projects?page=-3", None).await;
    assert_eq!(body["page"], 1);
}

/// The form page's own field parser (fuzz target `page_form`, and its unit test): a field name
/// nested 30 000 levels deep (`a.a.a…=x`, within the 64 KiB form limit) recursed through the
/// stack of the worker parsing it, and the whole service aborted. Now such a name is ignored
/// and the rest of the form is saved.
#[rocket::async_test]
async fn a_field_name_nested_thousands_deep_is_ignored_and_the_service_stays_up() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), serde_json::json!({"title": "Før"})).await;
    let id = draft["id"].as_i64().unwrap();
    app.login(&applicant).await;
    let (_, html) = app.page(&format!("/applications/{id}/edit")).await;
    let csrf = crate::common::csrf_in(&html);
    let deep_names = ["a.".repeat(30_000), "0.".repeat(30_000), format!("data_sources.0.{}", "x.".repeat(29_000))];
    for (round, deep) in deep_names.iter().enumerate() {
        let (_, before) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
        let name = format!("{deep}x");
        let title = format!("Etter {round}");
        let resp = app
            .form(
                &format!("/applications/{id}/edit"),
                &[("version", &before["version"].to_string()), ("title", &title), (&name, "x"), ("action", "save")],
                Some(&csrf),
            )
            .await;
        assert_eq!(resp.status(), Status::SeeOther, "saved, the deep name ignored (round {round})");
        let (_, after) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
        assert_eq!(after["title"], title.as_str());
    }
}
