//! Operations (issue 24 item 5): Prometheus metrics, liveness and readiness.

use crate::common::TestApp;
use rocket::http::{Header, Status};

#[rocket::async_test]
async fn metrics_cover_requests_the_pool_the_outbox_and_the_audit_chain() {
    let app = TestApp::with_config(|c| c.metrics_token = Some("skrape-hemmelighet".into())).await;
    // Some traffic, a mail waiting in the outbox, and a scheduler round (which verifies the chain).
    assert_eq!(app.client.get("/data-sources").dispatch().await.status(), Status::Ok);
    assert_eq!(app.client.get("/data-sources/KRG").dispatch().await.status(), Status::Ok);
    let body = serde_json::json!({"email": "ny@example.no", "name": "Ny", "password": "Sterkt-passord-1"});
    assert_eq!(app.post_json("/api/register", None, body).await.0, Status::Accepted);
    let storage = app.client.rocket().state::<helsedataservice::storage::Storage>().unwrap();
    assert!(helsedataservice::jobs::run_once(app.pool(), storage, app.config(), chrono::Utc::now()).await);

    assert_eq!(app.client.get("/metrics").dispatch().await.status(), Status::Forbidden, "no token, not loopback");
    let wrong = app.client.get("/metrics").header(Header::new("Authorization", "Bearer feil")).dispatch().await;
    assert_eq!(wrong.status(), Status::Forbidden);
    let resp =
        app.client.get("/metrics").header(Header::new("Authorization", "Bearer skrape-hemmelighet")).dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    assert!(resp.content_type().is_some_and(|c| c.to_string().starts_with("text/plain")));
    let text = resp.into_string().await.unwrap();
    for needle in [
        "http_requests_total{method=\"GET\",route=\"/data-sources/<code>\",status=\"200\"}",
        "http_request_duration_seconds_bucket{method=\"GET\",route=\"/data-sources\",status=\"200\",le=\"0.005\"}",
        "db_pool_connections_in_use",
        "db_pool_waiting",
        "outbox_pending",
        "outbox_oldest_pending_age_seconds",
        "outbox_dead_letters",
        "scheduler_last_round_timestamp_seconds",
        "audit_chain_last_verified_timestamp_seconds",
        "audit_chain_intact 1",
        "db_up 1",
    ] {
        assert!(text.contains(needle), "metrics lack {needle}:\n{text}");
    }
    assert!(!text.contains("route=\"/data-sources/KRG\""), "routes by pattern, never raw paths");
}

#[rocket::async_test]
async fn liveness_and_readiness() {
    let app = TestApp::new().await;
    let (status, body) = app.get_json("/health/live", None).await;
    assert_eq!((status, body["status"].as_str()), (Status::Ok, Some("ok")));
    let (status, body) = app.get_json("/health/ready", None).await;
    assert_eq!((status, body["status"].as_str()), (Status::Ok, Some("ready")));
}
