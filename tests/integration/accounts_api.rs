//! Accounts over the JSON API: registration, tokens, throttling, user management by admins.

use crate::common::TestApp;
use rocket::http::Status;
use serde_json::json;

#[rocket::async_test]
async fn self_registration_creates_an_applicant_and_refuses_duplicates_case_insensitively() {
    let app = TestApp::new().await;
    let (status, body) = app
        .post_json(
            "/api/register",
            None,
            json!({"email": "Kari.Nordmann@Example.no", "name": "Kari Nordmann", "password": "Sterkt-passord-1"}),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(body["role"], "applicant");
    assert_eq!(body["email"], "kari.nordmann@example.no");
    assert!(body.get("password_hash").is_none());

    let (status, body) = app
        .post_json(
            "/api/register",
            None,
            json!({"email": "KARI.NORDMANN@example.NO", "name": "Kari 2", "password": "Sterkt-passord-1"}),
        )
        .await;
    assert_eq!(status, Status::Conflict, "{body}");
    assert!(body["fields"]["email"].is_array(), "{body}");
}

#[rocket::async_test]
async fn self_registration_cannot_choose_a_role() {
    let app = TestApp::new().await;
    let (status, body) = app
        .post_json(
            "/api/register",
            None,
            json!({"email": "sneaky@example.no", "name": "Sneaky", "password": "Sterkt-passord-1", "role": "admin"}),
        )
        .await;
    assert_eq!(status, Status::Created);
    assert_eq!(body["role"], "applicant");
}

#[rocket::async_test]
async fn registration_lists_every_problem_at_once() {
    let app = TestApp::new().await;
    let (status, body) = app
        .post_json("/api/register", None, json!({"email": "not-an-address", "name": "  ", "password": "short"}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    for field in ["email", "name", "password"] {
        assert!(body["fields"][field].is_array(), "missing {field}: {body}");
    }
    assert!(body["error"].is_string());
    let (status, body) = app
        .post_json("/api/register", None, json!({"email": "a@example.no", "name": "A", "password": "onlyletterslong"}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["password"][0].as_str().unwrap().contains("only letters"), "{body}");
}

#[rocket::async_test]
async fn password_is_stored_as_argon2id() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    let mut conn = app.conn().await;
    let stored = helsedataservice::db::users::by_id(&mut conn, user.id).await.unwrap().unwrap();
    let hash = stored.password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(&user.password));
}

#[rocket::async_test]
async fn token_with_right_and_wrong_credentials() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    let token = app.token(&user).await;
    let (status, me) = app.get_json("/api/users/me", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(me["email"], user.email);

    let (status, body) =
        app.post_json("/api/auth/token", None, json!({"email": user.email, "password": "Wrong-password-1"})).await;
    assert_eq!(status, Status::Unauthorized, "{body}");
    assert!(body["error"].is_string());
    let (status, _) = app
        .post_json("/api/auth/token", None, json!({"email": "nobody@example.no", "password": "Wrong-password-1"}))
        .await;
    assert_eq!(status, Status::Unauthorized);
}

#[rocket::async_test]
async fn tokens_are_stored_hashed_and_can_be_revoked() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    let token = app.token(&user).await;
    let mut conn = app.conn().await;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    use helsedataservice::db::schema::api_tokens;
    let stored: Vec<String> = api_tokens::table.select(api_tokens::token_hash).load(&mut conn).await.unwrap();
    assert!(!stored.contains(&token), "the token itself must not be stored");
    assert!(stored.contains(&helsedataservice::services::accounts::secret_hash(&token)));

    let resp = app
        .client
        .delete("/api/auth/token")
        .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::NoContent);
    let (status, _) = app.get_json("/api/users/me", Some(&token)).await;
    assert_eq!(status, Status::Unauthorized);
}

#[rocket::async_test]
async fn expired_tokens_are_refused() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    let token = app.token(&user).await;
    app.sql("UPDATE api_tokens SET expires_at = now() - interval '1 minute'").await.unwrap();
    let (status, _) = app.get_json("/api/users/me", Some(&token)).await;
    assert_eq!(status, Status::Unauthorized);
}

#[rocket::async_test]
async fn missing_or_malformed_bearer_is_401_json() {
    let app = TestApp::new().await;
    let (status, body) = app.get_json("/api/users/me", None).await;
    assert_eq!(status, Status::Unauthorized);
    assert!(body["error"].is_string());
    let resp = app
        .client
        .get("/api/users/me")
        .header(rocket::http::Header::new("Authorization", "Basic abc"))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Unauthorized);
    let (status, _) = app.get_json("/api/users/me", Some("not-a-real-token")).await;
    assert_eq!(status, Status::Unauthorized);
}

#[rocket::async_test]
async fn login_is_throttled_per_account() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    for _ in 0..5 {
        let (status, _) =
            app.post_json("/api/auth/token", None, json!({"email": user.email, "password": "Wrong-password-1"})).await;
        assert_eq!(status, Status::Unauthorized);
    }
    // Even the right password is refused while throttled.
    let (status, body) =
        app.post_json("/api/auth/token", None, json!({"email": user.email, "password": user.password})).await;
    assert_eq!(status, Status::TooManyRequests, "{body}");
    // Another account from the same address is not yet throttled.
    let other = app.user("applicant", None).await;
    app.token(&other).await;
}

#[rocket::async_test]
async fn login_is_throttled_per_address() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    for i in 0..30 {
        let (status, _) = app
            .post_json(
                "/api/auth/token",
                None,
                json!({"email": format!("guess{i}@example.no"), "password": "Wrong-password-1"}),
            )
            .await;
        assert_eq!(status, Status::Unauthorized);
    }
    let (status, _) =
        app.post_json("/api/auth/token", None, json!({"email": user.email, "password": user.password})).await;
    assert_eq!(status, Status::TooManyRequests);
}

#[rocket::async_test]
async fn only_admins_create_users() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    let applicant = app.user("applicant", None).await;
    let officer = app.user("case_officer", None).await;
    let owner = app.user("register_owner", Some("983744516")).await;
    let body = json!({"email": "ny@example.no", "name": "Ny Saksbehandler", "password": "Sterkt-passord-1", "role": "case_officer"});
    for u in [&applicant, &officer, &owner] {
        let token = app.token(u).await;
        let (status, resp) = app.post_json("/api/users", Some(&token), body.clone()).await;
        assert_eq!(status, Status::Forbidden, "{} may not create users: {resp}", u.role);
    }
    let (status, _) = app.post_json("/api/users", None, body.clone()).await;
    assert_eq!(status, Status::Unauthorized);
    let token = app.token(&admin).await;
    let (status, created) = app.post_json("/api/users", Some(&token), body).await;
    assert_eq!(status, Status::Created, "{created}");
    assert_eq!(created["role"], "case_officer");
    assert!(created["id"].as_i64().unwrap() > 0);
}

#[rocket::async_test]
async fn user_creation_rules() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    let token = app.token(&admin).await;
    let (status, body) = app
        .post_json(
            "/api/users",
            Some(&token),
            json!({"email": "ro@example.no", "name": "RO", "password": "Sterkt-passord-1", "role": "register_owner"}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["organisation_id"].is_array(), "{body}");
    let (status, body) = app
        .post_json(
            "/api/users",
            Some(&token),
            json!({"email": "x@example.no", "name": "X", "password": "Sterkt-passord-1", "role": "superuser"}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["role"].is_array(), "{body}");
    let (status, body) = app.post_json("/api/users", Some(&token), json!({"email": "x@example.no", "name": "X", "password": "Sterkt-passord-1", "role": "register_owner", "organisation_id": 999999})).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["organisation_id"].is_array(), "{body}");
    let (status, body) = app
        .post_json(
            "/api/users",
            Some(&token),
            json!({"email": "x@example.no", "name": "X", "password": "Sterkt-passord-1"}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["role"].is_array(), "{body}");
}

#[rocket::async_test]
async fn read_scoped_tokens_cannot_write() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    let mut conn = app.conn().await;
    let stored = helsedataservice::db::users::by_id(&mut conn, admin.id).await.unwrap().unwrap();
    let (token, _) = helsedataservice::services::accounts::issue_token(
        &mut conn,
        &stored,
        &helsedataservice::services::Actor::system(),
        "reader",
        "read",
        1,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let (status, _) = app.get_json("/api/users/me", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    let (status, _) = app
        .post_json(
            "/api/users",
            Some(&token),
            json!({"email": "y@example.no", "name": "Y", "password": "Sterkt-passord-1", "role": "applicant"}),
        )
        .await;
    assert_eq!(status, Status::Forbidden);
}
