//! Findings of the outside probe (issue 23), each with the test that failed before its fix.

use crate::common::TestApp;
use rocket::http::Status;

/// Item 14: no `Server: Rocket` banner on any answer.
#[rocket::async_test]
async fn answers_carry_no_server_banner() {
    let app = TestApp::new().await;
    for path in ["/", "/login", "/api/data-sources", "/no-such-page", "/static/app.css"] {
        let resp = app.client.get(path).dispatch().await;
        assert!(resp.headers().get_one("Server").is_none(), "{path}: {:?}", resp.headers().get_one("Server"));
    }
}

/// Item 7: behind https (the public URL says so) every cookie is `Secure` and HSTS is sent;
/// over plain http (development) neither, so the service still works there.
#[rocket::async_test]
async fn cookies_are_secure_and_hsts_is_sent_when_the_public_url_is_https() {
    let app = TestApp::with_config(|c| c.public_url = "https://helsedata.example".into()).await;
    let user = app.user("applicant", None).await;
    let csrf = app.csrf().await;
    let resp =
        app.form("/login", &[("email", &user.email), ("password", &user.password), ("next", "/")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let cookies: Vec<String> = resp.headers().get("Set-Cookie").map(str::to_string).collect();
    assert!(cookies.iter().any(|c| c.starts_with("hds_session=")), "{cookies:?}");
    assert!(cookies.iter().all(|c| c.contains("; Secure")), "every cookie Secure: {cookies:?}");
    assert!(resp.headers().get_one("Strict-Transport-Security").is_some_and(|h| h.contains("max-age=")));
    // Rocket's own flash cookie too.
    let resp = app.form("/logout", &[], Some(&csrf)).await;
    let cookies: Vec<String> = resp.headers().get("Set-Cookie").map(str::to_string).collect();
    assert!(cookies.iter().all(|c| c.contains("; Secure")), "{cookies:?}");

    let plain = TestApp::new().await;
    let resp = plain.client.get("/login").dispatch().await;
    let cookies: Vec<String> = resp.headers().get("Set-Cookie").map(str::to_string).collect();
    assert!(!cookies.is_empty() && cookies.iter().all(|c| !c.contains("Secure")), "{cookies:?}");
    assert!(resp.headers().get_one("Strict-Transport-Security").is_none());
}

/// Item 11: a `next` with a control or non-ASCII character is no server error, and a valid login
/// with `next=/ø` keeps its session and lands on the page asked for.
#[rocket::async_test]
async fn odd_next_targets_are_safe_and_keep_the_login() {
    let app = TestApp::new().await;
    for next in ["%01", "/%0d%0aSet-Cookie:x=1", "/%C3%B8", "%C3%B8", "/a%00b", "/%7F"] {
        for path in [format!("/login?next={next}"), format!("/language/en?next={next}")] {
            let resp = app.client.get(path.clone()).dispatch().await;
            assert!(resp.status().code < 500, "{path}: {}", resp.status());
            if let Some(to) = resp.headers().get_one("Location") {
                assert!(to.starts_with('/') && to.bytes().all(|b| b.is_ascii_graphic()), "{path} → {to:?}");
            }
        }
    }
    let user = app.user("applicant", None).await;
    let csrf = app.csrf().await;
    let resp =
        app.form("/login", &[("email", &user.email), ("password", &user.password), ("next", "/ø")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(resp.headers().get_one("Location"), Some("/%C3%B8"));
    drop(resp);
    let (status, _) = app.page("/applications").await;
    assert_eq!(status, Status::Ok, "the session was kept");
    let resp = app
        .form("/login", &[("email", &user.email), ("password", &user.password), ("next", "/\u{1}x")], Some(&csrf))
        .await;
    assert_eq!(resp.headers().get_one("Location"), Some("/"));
}
