//! The API's error contract: JSON `{"error", "fields"}` with the right 4xx, never a 500.

use crate::common::TestApp;
use rocket::http::{ContentType, Method, Status};
use serde_json::json;

#[rocket::async_test]
async fn malformed_json_is_400_json() {
    let app = TestApp::new().await;
    let (status, body) = app.send_json(Method::Post, "/api/register", None, "{\"email\": ".into()).await;
    assert_eq!(status, Status::BadRequest);
    assert!(body["error"].as_str().unwrap().contains("malformed"), "{body}");
    assert!(body["fields"].is_object());
}

#[rocket::async_test]
async fn wrong_types_are_422_naming_the_field() {
    let app = TestApp::new().await;
    let (status, body) = app.post_json("/api/register", None, json!({"email": 42, "name": "x", "password": "y"})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert!(body["fields"].is_object());
    let (status, _) = app.post_json("/api/register", None, json!([1, 2, 3])).await;
    assert_eq!(status, Status::UnprocessableEntity);
}

#[rocket::async_test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = TestApp::new().await;
    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
    let (status, body) = app.send_json(Method::Post, "/api/register", None, big).await;
    assert_eq!(status, Status::PayloadTooLarge);
    assert!(body["error"].is_string());
}

#[rocket::async_test]
async fn unknown_api_routes_are_404_json_and_pages_are_html() {
    let app = TestApp::new().await;
    let resp = app.client.get("/api/no-such-thing").dispatch().await;
    assert_eq!(resp.status(), Status::NotFound);
    assert_eq!(resp.content_type(), Some(ContentType::JSON));
    let body: serde_json::Value = serde_json::from_str(&resp.into_string().await.unwrap()).unwrap();
    assert_eq!(body["error"], "Not found.");

    let resp = app.client.get("/no-such-page").dispatch().await;
    assert_eq!(resp.status(), Status::NotFound);
    assert_eq!(resp.content_type(), Some(ContentType::HTML));
    assert!(resp.into_string().await.unwrap().contains("<h1>"));
}

#[rocket::async_test]
async fn wrong_content_type_and_methods_are_4xx_json() {
    let app = TestApp::new().await;
    let resp = app.client.post("/api/register").header(ContentType::Plain).body("hello").dispatch().await;
    assert!(resp.status().class().is_client_error(), "{}", resp.status());
    assert_eq!(resp.content_type(), Some(ContentType::JSON));
    let (status, _) = app.get_json("/api/data-sources/99999", None).await;
    assert_eq!(status, Status::NotFound);
    let (status, body) = app.get_json("/api/data-sources/%00%ff", None).await;
    assert!(status.class().is_client_error(), "{status} {body}");
}

#[rocket::async_test]
async fn security_headers_are_set() {
    let app = TestApp::new().await;
    for path in ["/", "/api/data-sources", "/login"] {
        let resp = app.client.get(path).dispatch().await;
        let h = resp.headers();
        assert!(h.get_one("Content-Security-Policy").unwrap().contains("default-src 'self'"), "{path}");
        assert!(h.get_one("Content-Security-Policy").unwrap().contains("frame-ancestors 'none'"));
        assert_eq!(h.get_one("X-Frame-Options"), Some("DENY"));
        assert_eq!(h.get_one("X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(h.get_one("Cache-Control"), Some("no-store"));
    }
}

#[rocket::async_test]
async fn health_answers_when_the_database_does() {
    let app = TestApp::new().await;
    let (status, body) = app.get_json("/health", None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["database"], "ok");
}

#[rocket::async_test]
async fn nul_characters_are_refused_not_500() {
    let app = TestApp::new().await;
    let (status, body) = app
        .send_json(
            Method::Post,
            "/api/register",
            None,
            r#"{"email":"a@example.no","name":"A\u0000B","password":"Sterkt-passord-1"}"#.into(),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    let (status, _) = app.get_json("/api/data-sources?q=%00", None).await;
    assert_eq!(status, Status::Ok);
    let csrf = app.csrf().await;
    let resp = app
        .form(
            "/register",
            &[
                ("name", "A\u{0}B"),
                ("email", "a@example.no"),
                ("password", "Sterkt-passord-1"),
                ("password_confirm", "Sterkt-passord-1"),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
}
