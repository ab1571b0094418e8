//! Accounts over the JSON API: registration, tokens, throttling, user management by admins.

use crate::common::{TestApp, TestUser, count, csrf_in};
use rocket::http::Status;
use serde_json::json;

/// Issue 23 item 9: registration answers the same whether or not the address has an account;
/// the holder of a confirmed account is told by mail, and nothing of theirs changes.
#[rocket::async_test]
async fn self_registration_answers_the_same_for_taken_addresses_and_tells_the_owner() {
    let app = TestApp::new().await;
    let first = json!({"email": "Kari.Nordmann@Example.no", "name": "Kari Nordmann", "password": "Sterkt-passord-1"});
    let (status, body) = app.post_json("/api/register", None, first).await;
    assert_eq!(status, Status::Accepted, "{body}");
    assert_eq!(body, json!({"status": "confirmation_sent", "email": "kari.nordmann@example.no"}));
    let role =
        count(&app, "SELECT count(*) AS n FROM users WHERE email = 'kari.nordmann@example.no' AND role = 'applicant'")
            .await;
    assert_eq!(role, 1, "an applicant, the address in lower case");

    // A confirmed account's address registered again, in other letters: the same answer.
    app.sql("UPDATE users SET email_verified_at = now() WHERE email = 'kari.nordmann@example.no'").await.unwrap();
    let again = json!({"email": "KARI.NORDMANN@example.NO", "name": "Kari 2", "password": "Annet-passord-9"});
    let (status, same) = app.post_json("/api/register", None, again).await;
    assert_eq!((status, same), (Status::Accepted, body), "nothing tells that the address is taken");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM users WHERE email = 'kari.nordmann@example.no'").await, 1);
    let told = count(&app, "SELECT count(*) AS n FROM outbox WHERE template = 'registration_attempt' AND recipient = 'kari.nordmann@example.no'").await;
    assert_eq!(told, 1, "the owner is told by mail");
    let unchanged = TestUser {
        id: 0,
        email: "kari.nordmann@example.no".into(),
        password: "Sterkt-passord-1".into(),
        role: "applicant".into(),
    };
    assert!(!app.token(&unchanged).await.is_empty(), "the owner's password still works");
}

/// Issue 23 item 3: the real owner of an address someone registered (and never confirmed) can
/// register it again; the link mailed to the address gives them the account, and the earlier
/// registrant's password, sessions and tokens stop working.
#[rocket::async_test]
async fn the_real_owner_reregisters_an_unconfirmed_address() {
    let app = TestApp::new().await;
    let intruder = json!({"email": "forsker@example.no", "name": "Inntrenger", "password": "Sterkt-passord-1"});
    assert_eq!(app.post_json("/api/register", None, intruder).await.0, Status::Accepted);
    let intruder = TestUser {
        id: 0,
        email: "forsker@example.no".into(),
        password: "Sterkt-passord-1".into(),
        role: "applicant".into(),
    };
    let intruder_token = app.token(&intruder).await;
    let owner = json!({"email": "forsker@example.no", "name": "Forsker Fjell", "password": "Eget-passord-42"});
    assert_eq!(app.post_json("/api/register", None, owner).await.0, Status::Accepted);
    assert_eq!(
        app.get_json("/api/applications", Some(&intruder_token)).await.0,
        Status::Ok,
        "nothing changes before the link"
    );
    let path = crate::common::last_mail_field(&app, "reregistration", "forsker@example.no", "path").await;
    let (status, page) = app.page(&path).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM reregistrations").await, 1, "opening the link changes nothing");
    let csrf = csrf_in(&page);
    let token = path.split("token=").nth(1).unwrap().to_string();
    let resp = app.form("/register/confirm", &[("token", &token)], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, account) = app.page("/account").await;
    assert!(account.contains("Forsker Fjell"), "signed in as the new owner");
    assert_eq!(
        app.get_json("/api/applications", Some(&intruder_token)).await.0,
        Status::Unauthorized,
        "the intruder's token is revoked"
    );
    let owner = TestUser {
        id: 0,
        email: "forsker@example.no".into(),
        password: "Eget-passord-42".into(),
        role: "applicant".into(),
    };
    assert!(!app.token(&owner).await.is_empty(), "the owner's password works");
    let (status, _) =
        app.post_json("/api/auth/token", None, json!({"email": intruder.email, "password": intruder.password})).await;
    assert_eq!(status, Status::Unauthorized, "the intruder's password no longer works");
    let resp = app.form("/register/confirm", &[("token", &token)], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Conflict, "the link works once");
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
    assert_eq!(status, Status::Accepted, "{body}");
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM users WHERE email = 'sneaky@example.no' AND role = 'applicant'").await,
        1
    );
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
