//! Personal API tokens: created on the account page (CSRF, shown once) and over the API, named,
//! read or write, expiring; a read token cannot write; revoked and expired tokens stop working;
//! nobody revokes someone else's token.

use crate::common::{TestApp, csrf_in};
use rocket::http::{Header, Status};
use serde_json::json;

fn secret_in(html: &str) -> String {
    let marker = "id=\"new-token\">";
    let start = html.find(marker).expect("the new token is shown") + marker.len();
    html[start..].split('<').next().unwrap().to_string()
}

#[rocket::async_test]
async fn tokens_from_the_account_page_are_scoped_and_revocable() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    app.login(&user).await;
    let (status, html) = app.page("/account").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("/account/tokens"));
    let csrf = csrf_in(&html);

    // Without the CSRF token nothing is created; bad input is shown beside the fields.
    let resp = app.form("/account/tokens", &[("name", "x"), ("scope", "read"), ("expires_in_days", "30")], None).await;
    assert_eq!(resp.status(), Status::Forbidden);
    let resp = app
        .form("/account/tokens", &[("name", " "), ("scope", "admin"), ("expires_in_days", "400")], Some(&csrf))
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("f-name-error") && html.contains("f-scope-error"), "errors beside the fields");

    let resp = app
        .form("/account/tokens", &[("name", "Mitt skript"), ("scope", "read"), ("expires_in_days", "30")], Some(&csrf))
        .await;
    assert_eq!(resp.status(), Status::Created);
    let read = secret_in(&resp.into_string().await.unwrap());
    let (_, html) = app.page("/account").await;
    assert!(html.contains("Mitt skript"));
    assert!(!html.contains(&read), "the secret is shown only once");

    // A read token reads and may not write.
    let (status, _) = app.get_json("/api/applications", Some(&read)).await;
    assert_eq!(status, Status::Ok);
    let (status, body) = app.post_json("/api/applications", Some(&read), json!({"title": "Nei"})).await;
    assert_eq!(status, Status::Forbidden, "{body}");
    let (status, _) = app.post_json("/api/tokens", Some(&read), json!({"name": "more", "scope": "write"})).await;
    assert_eq!(status, Status::Forbidden);

    // Revoked on the page: it stops working at once.
    let (_, list) = app.get_json("/api/tokens", Some(&read)).await;
    let id = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["scope"], "read");
    assert!(list[0]["last_used_at"].is_string(), "use is noted");
    assert!(list[0].get("token").is_none() && list[0].get("token_hash").is_none());
    let resp = app.form(&format!("/account/tokens/{id}/revoke"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(app.get_json("/api/applications", Some(&read)).await.0, Status::Unauthorized);
    assert_eq!(app.event_kinds("user", user.id).await, ["user.created", "token.created", "token.revoked"]);
}

#[rocket::async_test]
async fn tokens_over_the_api_expire_and_belong_to_their_owner() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    let other = app.user("applicant", None).await;
    let login = app.token(&user).await;

    for (body, field) in [
        (json!({"name": "", "scope": "write"}), "name"),
        (json!({"name": "ci", "scope": "admin"}), "scope"),
        (json!({"name": "ci", "scope": "read", "expires_in_days": 0}), "expires_in_days"),
        (json!({"name": "ci", "scope": "read", "expires_in_days": 366}), "expires_in_days"),
    ] {
        let (status, err) = app.post_json("/api/tokens", Some(&login), body).await;
        assert_eq!(status, Status::UnprocessableEntity, "{err}");
        assert!(err["fields"][field].is_array(), "{err}");
    }
    let (status, created) =
        app.post_json("/api/tokens", Some(&login), json!({"name": "ci", "scope": "write", "expires_in_days": 7})).await;
    assert_eq!(status, Status::Created, "{created}");
    let write = created["token"].as_str().unwrap().to_string();
    let id = created["id"].as_i64().unwrap();
    let (status, draft) = app.post_json("/api/applications", Some(&write), json!({"title": "Med nøkkel"})).await;
    assert_eq!(status, Status::Created, "a write token writes: {draft}");

    // Someone else's token is not found, let alone revoked.
    let other_login = app.token(&other).await;
    let resp = app
        .client
        .delete(format!("/api/tokens/{id}"))
        .header(Header::new("Authorization", format!("Bearer {other_login}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::NotFound);
    assert_eq!(app.get_json("/api/users/me", Some(&write)).await.0, Status::Ok);

    // Expired tokens stop working and leave the list.
    app.sql(&format!("UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = {id}")).await.unwrap();
    assert_eq!(app.get_json("/api/users/me", Some(&write)).await.0, Status::Unauthorized);
    let (_, list) = app.get_json("/api/tokens", Some(&login)).await;
    assert!(list.as_array().unwrap().iter().all(|t| t["id"] != id), "{list}");

    // Revoking over the API.
    let (_, created) = app.post_json("/api/tokens", Some(&login), json!({"name": "kort", "scope": "read"})).await;
    let id = created["id"].as_i64().unwrap();
    let resp = app
        .client
        .delete(format!("/api/tokens/{id}"))
        .header(Header::new("Authorization", format!("Bearer {login}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::NoContent);
    let token = created["token"].as_str().unwrap();
    assert_eq!(app.get_json("/api/users/me", Some(token)).await.0, Status::Unauthorized);
}

#[rocket::async_test]
async fn a_login_token_issued_and_revoked_through_the_api_is_in_the_audit_log() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    let token = app.token(&user).await;
    let resp = app
        .client
        .delete("/api/auth/token")
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::NoContent);
    assert_eq!(app.get_json("/api/applications", Some(&token)).await.0, Status::Unauthorized);
    assert_eq!(app.event_kinds("user", user.id).await, ["user.created", "token.issued", "token.revoked"]);
}
