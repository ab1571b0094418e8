//! Webhooks against a real receiver on loopback: a register owner registers an endpoint, an
//! application for its data source is submitted, the delivery is signed (HMAC-SHA256 over
//! `<timestamp>.<body>`), fails once (retry with backoff, visible with the receiver's answer)
//! and then succeeds; kinds filter deliveries; other organisations see nothing.

use crate::applications_api::{complete_form, submitted};
use crate::common::http_peer::{self, Response};
use crate::common::{TestApp, count, csrf_in};
use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use rocket::http::{Header, Status};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::{Arc, Mutex};

const HDIR: &str = "983544622";
const FHI: &str = "983744516";

/// A received delivery and whether its signature was right.
#[derive(Debug, Clone)]
struct Received {
    body: Value,
    delivery: String,
    event: String,
    signature_ok: bool,
}

fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x.to_string()),
            Some(("v1", x)) => v1 = Some(x.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let age = Utc::now().timestamp() - t.parse::<i64>().unwrap_or(0);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    age.abs() < 300 && mac.verify_slice(&hex::decode(v1).unwrap_or_default()).is_ok()
}

#[rocket::async_test]
async fn deliveries_are_signed_retried_and_visible() {
    let received: Arc<Mutex<Vec<Received>>> = Arc::new(Mutex::new(vec![]));
    let secret: Arc<Mutex<String>> = Arc::new(Mutex::new(String::new()));
    let (r, s) = (received.clone(), secret.clone());
    let base = http_peer::serve(Arc::new(move |req| {
        let ok = verify(&s.lock().unwrap(), req.header("X-HDS-Signature").unwrap_or(""), &req.body);
        let mut list = r.lock().unwrap();
        list.push(Received {
            body: serde_json::from_slice(&req.body).unwrap_or(Value::Null),
            delivery: req.header("X-HDS-Delivery").unwrap_or("").into(),
            event: req.header("X-HDS-Event").unwrap_or("").into(),
            signature_ok: ok,
        });
        // The receiver's system is down the first time.
        if list.len() == 1 { Response::text(503, "vedlikehold, prøv igjen") } else { Response::text(200, "mottatt") }
    }))
    .await;
    let app = TestApp::new().await;
    let owner = app.user("register_owner", Some(HDIR)).await;
    let owner_token = app.token(&owner).await;
    let fhi = app.user("register_owner", Some(FHI)).await;
    let fhi_token = app.token(&fhi).await;
    let applicant = app.user("applicant", None).await;
    let applicant_token = app.token(&applicant).await;

    // Who may register, and what.
    let hook = json!({"url": format!("{base}/hook"), "event_kinds": ["application.submitted", "application.decided"]});
    assert_eq!(app.post_json("/api/webhooks", Some(&applicant_token), hook.clone()).await.0, Status::Forbidden);
    for (body, field) in [
        (json!({"url": "ftp://example.no/x"}), "url"),
        (json!({"url": "http://example.no/hook"}), "url"),
        (json!({"url": "https://10.0.0.7/hook"}), "url"),
        (json!({"url": "https://169.254.169.254/latest"}), "url"),
        (json!({"url": format!("{base}/hook"), "event_kinds": ["Submitted!"]}), "event_kinds"),
    ] {
        let (status, err) = app.post_json("/api/webhooks", Some(&owner_token), body).await;
        assert_eq!(status, Status::UnprocessableEntity, "{err}");
        assert!(err["fields"][field].is_array(), "{err}");
    }
    let (status, endpoint) = app.post_json("/api/webhooks", Some(&owner_token), hook).await;
    assert_eq!(status, Status::Created, "{endpoint}");
    *secret.lock().unwrap() = endpoint["secret"].as_str().unwrap().to_string();
    let id = endpoint["id"].as_i64().unwrap();
    // An endpoint for other kinds only, and one of another organisation: neither hears of this.
    let (status, _) = app
        .post_json(
            "/api/webhooks",
            Some(&owner_token),
            json!({"url": format!("{base}/other"), "event_kinds": ["release.delivered"]}),
        )
        .await;
    assert_eq!(status, Status::Created);
    let (status, _) = app.post_json("/api/webhooks", Some(&fhi_token), json!({"url": format!("{base}/fhi")})).await;
    assert_eq!(status, Status::Created);
    let (_, list) = app.get_json("/api/webhooks", Some(&owner_token)).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(list[0].get("secret").is_none(), "the secret is shown only once");

    // An application for NPR (Helsedirektoratet's) is submitted.
    let case = submitted(&app, &applicant).await;
    let now = Utc::now();
    let round = app.send_mail(now).await;
    assert_eq!(round.failed, 1, "{round:?}");
    {
        let got = received.lock().unwrap();
        assert_eq!(got.len(), 1);
        assert!(got[0].signature_ok, "signed with the endpoint's secret");
        assert_eq!(got[0].event, "application.submitted");
        assert_eq!(got[0].body["kind"], "application.submitted");
        assert_eq!(got[0].body["application"]["reference"], case["reference"]);
    }
    let path = format!("/api/webhooks/{id}/deliveries");
    let (_, deliveries) = app.get_json(&path, Some(&owner_token)).await;
    assert_eq!(deliveries.as_array().unwrap().len(), 1);
    let d = &deliveries[0];
    assert_eq!(
        (d["state"].as_str(), d["attempts"].as_i64(), d["response_status"].as_i64()),
        (Some("pending"), Some(1), Some(503))
    );
    assert_eq!(d["response_excerpt"], "vedlikehold, prøv igjen");
    assert!(d["next_attempt_at"].is_string(), "retried later");

    // Not before the backoff; then delivered.
    assert_eq!(app.send_mail(now + Duration::seconds(30)).await.sent, 0);
    let round = app.send_mail(now + Duration::minutes(2)).await;
    assert_eq!(round.sent, 1, "{round:?}");
    {
        let got = received.lock().unwrap();
        assert_eq!(got.len(), 2, "nothing for the other endpoints");
        assert!(got[1].signature_ok);
        assert_eq!(got[0].delivery, got[1].delivery, "the same delivery, retried");
    }
    let (_, deliveries) = app.get_json(&path, Some(&owner_token)).await;
    assert_eq!((deliveries[0]["state"].as_str(), deliveries[0]["attempts"].as_i64()), (Some("sent"), Some(2)));
    assert_eq!(deliveries[0]["response_status"], 200);

    // Another organisation sees nothing of it.
    assert_eq!(app.get_json(&path, Some(&fhi_token)).await.0, Status::NotFound);
    let resp = app
        .client
        .delete(format!("/api/webhooks/{id}"))
        .header(Header::new("Authorization", format!("Bearer {fhi_token}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::NotFound);

    // The owner's page and the admin's outbox page show the delivery and the answer.
    app.login(&owner).await;
    let (status, html) = app.page(&format!("/webhooks/{id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("HTTP 200") && html.contains("mottatt"), "{html}");
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let (_, html) = app.page("/admin/mail").await;
    assert!(html.contains("webhook") && html.contains("HTTP 200"));

    // Removed on the page: later events are not delivered.
    app.login(&owner).await;
    let (_, html) = app.page("/webhooks").await;
    let csrf = csrf_in(&html);
    assert_eq!(app.form(&format!("/webhooks/{id}/disable"), &[], Some(&csrf)).await.status(), Status::SeeOther);
    let (status, _) =
        app.post_json(&format!("/api/applications/{}/withdraw", case["id"]), Some(&applicant_token), json!({})).await;
    assert_eq!(status, Status::Ok);
    app.send_mail(Utc::now() + Duration::minutes(5)).await;
    assert_eq!(received.lock().unwrap().len(), 2);
    assert!(
        app.event_kinds("organisation", owner_org(&app, &owner_token).await)
            .await
            .contains(&"webhook.disabled".to_string())
    );
}

async fn owner_org(app: &TestApp, token: &str) -> i64 {
    app.get_json("/api/users/me", Some(token)).await.1["organisation_id"].as_i64().unwrap()
}

#[rocket::async_test]
async fn the_page_registers_and_shows_the_secret_once() {
    let app = TestApp::new().await;
    let owner = app.user("register_owner", Some(HDIR)).await;
    app.login(&owner).await;
    let (status, html) = app.page("/webhooks").await;
    assert_eq!(status, Status::Ok);
    let csrf = csrf_in(&html);
    let resp = app.form("/webhooks", &[("url", "http://example.no/x"), ("event_kinds", "")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    assert!(resp.into_string().await.unwrap().contains("f-url-error"));
    let resp = app
        .form(
            "/webhooks",
            &[
                ("url", "https://saksbehandling.example.no/hds"),
                ("event_kinds", "application.submitted, application.decided"),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::Created);
    assert!(resp.into_string().await.unwrap().contains("whsec_"));
    let (_, html) = app.page("/webhooks").await;
    assert!(html.contains("https://saksbehandling.example.no/hds") && !html.contains("whsec_"));
    let applicant = app.user("applicant", None).await;
    app.login(&applicant).await;
    assert_eq!(app.page("/webhooks").await.0, Status::Forbidden);
}

#[rocket::async_test]
async fn an_unknown_organisation_is_shown_beside_its_field() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let (status, html) = app.page("/webhooks").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("id=\"f-organisation_id\""), "the admin chooses the organisation");
    let csrf = csrf_in(&html);
    let resp = app
        .form(
            "/webhooks",
            &[("url", "https://saksbehandling.example.no/hds"), ("event_kinds", ""), ("organisation_id", "999999")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("id=\"f-organisation_id-error\""), "the error is beside the select: {html}");
    assert!(!html.contains("whsec_"));
}

/// A draft withdrawn before it was ever sent is nobody's business but its applicant's: the data
/// holders whose sources it named get no webhook of it (they did, with its title), as they get
/// none of a draft. A withdrawn case that was submitted is theirs.
#[rocket::async_test]
async fn a_draft_withdrawn_unsent_reaches_no_webhook() {
    let app = TestApp::new().await;
    let owner = app.user("register_owner", Some(HDIR)).await;
    let org = owner_org(&app, &app.token(&owner).await).await;
    app.sql(&format!(
        "INSERT INTO webhook_endpoints (organisation_id, url, event_kinds, secret, created_at) \
         VALUES ({org}, 'https://hooks.example.no/hds', '{{application.withdrawn}}', 'whsec_test', now())"
    ))
    .await
    .unwrap();
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let deliveries = async || count(&app, "SELECT count(*) AS n FROM outbox WHERE channel = 'webhook'").await;

    // A draft naming NPR (Helsedirektoratet's), withdrawn: no delivery, and no message on it.
    let (status, draft) = app.post_json("/api/applications", Some(&token), complete_form(&app).await).await;
    assert_eq!(status, Status::Created);
    let id = draft["id"].as_i64().unwrap();
    assert_eq!(app.post_json(&format!("/api/applications/{id}/withdraw"), Some(&token), json!({})).await.0, Status::Ok);
    assert_eq!(deliveries().await, 0);
    let (status, _) =
        app.post_json(&format!("/api/applications/{id}/messages"), Some(&token), json!({"body": "Hei?"})).await;
    assert_eq!(status, Status::Conflict, "officers never saw it: nobody to write to");

    // Submitted, then withdrawn: delivered.
    let case = submitted(&app, &applicant).await;
    let path = format!("/api/applications/{}/withdraw", case["id"]);
    assert_eq!(app.post_json(&path, Some(&token), json!({})).await.0, Status::Ok);
    assert_eq!(deliveries().await, 1);
}
