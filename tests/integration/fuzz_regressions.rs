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
