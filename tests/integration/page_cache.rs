//! The page cache (src/web/page_cache.rs): a status page viewed again is served from memory, to
//! its own session only, and never after a change: one made through the service, one made in the
//! database behind its back, one made through another instance. Every table but the listed
//! exceptions tells of its changes.

use crate::applications_api::submitted;
use crate::common::{TestApp, count, csrf_in};
use helsedataservice::web::page_cache::Stats;
use rocket::http::{Cookie, Header, Status};
use std::time::Duration;

fn stats(app: &TestApp) -> Stats {
    app.page_cache().stats()
}

/// Waits (at most 5 s) until the cache listens, as it does shortly after start-up.
async fn listening(app: &TestApp) {
    for _ in 0..250 {
        if app.page_cache().serving() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the page cache never started listening");
}

/// GETs a page without waiting for the cache to hear of changes first (unlike `app.page`).
async fn raw_page(app: &TestApp, path: &str) -> (Status, String) {
    let resp = app.client.get(path.to_string()).dispatch().await;
    (resp.status(), resp.into_string().await.unwrap_or_default())
}

/// Views a page every 20 ms until it shows `text`, for at most 5 s.
async fn shows_within_5s<F, V>(view: F, text: &str) -> bool
where
    F: Fn() -> V,
    V: std::future::Future<Output = (Status, String)>,
{
    for _ in 0..250 {
        if view().await.1.contains(text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// An applicant with a submitted application, logged in, the cache listening: the status page's path.
async fn case(app: &TestApp) -> (crate::common::TestUser, i64, String) {
    let applicant = app.user("applicant", None).await;
    let case = submitted(app, &applicant).await;
    app.login(&applicant).await;
    listening(app).await;
    let id = case["id"].as_i64().unwrap();
    (applicant, id, format!("/applications/{id}"))
}

#[rocket::async_test]
async fn a_page_viewed_again_comes_from_memory_until_a_write_changes_it() {
    let app = TestApp::new().await;
    let (_, id, path) = case(&app).await;

    let before = stats(&app);
    let (status, first) = app.page(&path).await;
    assert_eq!(status, Status::Ok);
    let (_, second) = app.page(&path).await;
    let after = stats(&app);
    assert_eq!(after.misses - before.misses, 1, "rendered once: {before:?} {after:?}");
    assert_eq!(after.hits - before.hits, 1, "then served from memory");
    assert_eq!(first, second, "the same page");
    // A hard reload asks for a fresh page.
    let resp = app.client.get(path.clone()).header(Header::new("Cache-Control", "no-cache")).dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(resp.into_string().await.unwrap(), first);
    assert_eq!(stats(&app).hits, after.hits, "rendered afresh on request");
    assert_eq!(stats(&app).misses, after.misses + 1);

    // A message through the page: the redirect's page shows it at once, without waiting for
    // the notification (the write request itself ends the stored pages).
    let csrf = csrf_in(&first);
    let resp = app.form(&format!("{path}/messages"), &[("body", "Spørsmål om variablene")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let hits = stats(&app).hits;
    let (_, html) = raw_page(&app, &path).await;
    assert!(html.contains("Spørsmål om variablene"), "the new message is on the page");
    assert_eq!(stats(&app).hits, hits, "rendered afresh");
    // That page showed the flash message ("sent"), so it was not kept: the next is rendered too.
    let (_, html) = raw_page(&app, &path).await;
    assert_eq!(stats(&app).hits, hits, "a page with a flash message is not kept");
    assert!(!html.contains("flash"), "the flash is shown once");
    let (_, again) = raw_page(&app, &path).await;
    assert_eq!(stats(&app).hits, hits + 1, "kept from the view after it");
    assert_eq!(again, html);
    assert!(app.event_kinds("application", id).await.iter().any(|k| k == "message.posted"));
}

#[rocket::async_test]
async fn a_request_that_may_write_ends_the_stored_pages_as_soon_as_it_is_answered() {
    let app = TestApp::new().await;
    let (_, _, path) = case(&app).await;
    let (_, html) = app.page(&path).await;
    let csrf = csrf_in(&html);
    // Mark every notice read (a write that notifies), so that the same request again changes
    // nothing in the database and sends no notification.
    let resp = app.form("/notifications/read", &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&path).await;
    let (_, _) = app.page(&path).await;
    assert!(!app.page_cache().is_empty());

    // Refused (a forged CSRF token): nothing changed, and the pages stay.
    let before = stats(&app).generation;
    let resp = app.form(&format!("{path}/messages"), &[("body", "x")], Some("forged")).await;
    assert_eq!(resp.status(), Status::Forbidden);
    assert_eq!(stats(&app).generation, before, "a refused request ends nothing");
    assert!(!app.page_cache().is_empty());

    // Accepted: the generation moves the moment the answer is ready, notification or not.
    let resp = app.form("/notifications/read", &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(stats(&app).generation, before + 1);
    assert!(app.page_cache().is_empty());
    let hits = stats(&app).hits;
    let (_, again) = raw_page(&app, &path).await;
    assert_eq!(stats(&app).hits, hits, "rendered afresh");
    assert_eq!(again, html);
    // A GET moves nothing.
    let generation = stats(&app).generation;
    let _ = raw_page(&app, "/applications").await;
    assert_eq!(stats(&app).generation, generation);
}

#[rocket::async_test]
async fn a_change_behind_the_services_back_ends_the_page_as_soon_as_it_is_heard() {
    let app = TestApp::new().await;
    let (_, id, path) = case(&app).await;
    let (_, html) = app.page(&path).await;
    assert!(!html.contains("Ny tittel fra databasen"));
    let (_, _) = app.page(&path).await; // kept

    // Straight into the database, as another program would: the trigger notifies, the listener
    // hears it (no sync here: the page changes on its own within moments).
    app.sql(&format!("UPDATE applications SET title = 'Ny tittel fra databasen' WHERE id = {id}")).await.unwrap();
    let seen = shows_within_5s(|| raw_page(&app, &path), "Ny tittel fra databasen").await;
    assert!(seen, "the change reached the cached page within 5 s");
}

#[rocket::async_test]
async fn a_page_is_kept_for_its_own_session_only() {
    let app = TestApp::new().await;
    let (applicant, _, path) = case(&app).await;
    let mine: Vec<Cookie<'static>> = app.client.cookies().iter().cloned().collect();
    let other = app.user("applicant", None).await;
    app.login(&other).await;
    let theirs: Vec<Cookie<'static>> = app.client.cookies().iter().cloned().collect();
    // Viewed through a second instance with each browser's cookies as they are (every log-in is
    // a write, which would empty the first instance's cache between the two).
    let b = app.second_instance(None).await;
    listening(&b).await;
    b.page_cache().sync(b.pool()).await;
    let view = |cookies: Vec<Cookie<'static>>| async {
        let resp = b.client.get(path.clone()).cookies(cookies).dispatch().await;
        (resp.status(), resp.into_string().await.unwrap_or_default())
    };
    let (status, page) = view(mine.clone()).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(view(mine.clone()).await.1, page);
    let hits = b.page_cache().stats().hits;
    assert!(hits >= 1, "kept for the applicant's session");

    // Someone else's session, with the same CSRF cookie (the same browser): not the applicant's
    // page, and nothing from memory.
    let (status, html) = view(theirs).await;
    assert_eq!(status, Status::NotFound, "not their application: {html}");
    assert_eq!(b.page_cache().stats().hits, hits, "nothing served from memory to another session");
    assert_eq!(view(mine.clone()).await.1, page);
    assert_eq!(b.page_cache().stats().hits, hits + 1, "still kept for the applicant");

    // A CSRF cookie that does not decrypt: the page carries a new token (and sets its cookie),
    // so it is not kept under the bad one.
    let bogus: Vec<Cookie<'static>> = mine
        .iter()
        .map(|c| if c.name() == "hds_csrf" { Cookie::new("hds_csrf", "not-a-sealed-value") } else { c.clone() })
        .collect();
    let hits = b.page_cache().stats().hits;
    for _ in 0..2 {
        let resp = b.client.get(path.clone()).cookies(bogus.clone()).dispatch().await;
        assert_eq!(resp.status(), Status::Ok);
        assert!(resp.cookies().get("hds_csrf").is_some(), "a new CSRF cookie");
    }
    assert_eq!(b.page_cache().stats().hits, hits, "nothing kept under a CSRF cookie that does not decrypt");

    // The applicant's session ends in the database (as a password change or an admin's
    // deactivation ends it): the page kept for it is not served any more.
    app.sql(&format!("DELETE FROM sessions WHERE user_id = {}", applicant.id)).await.unwrap();
    b.page_cache().sync(b.pool()).await;
    let (status, _) = view(mine).await;
    assert_eq!(status, Status::SeeOther, "the session is gone: to the login page");
    assert_eq!(b.page_cache().stats().hits, hits);
}

#[rocket::async_test]
async fn another_instance_hears_of_a_change_made_through_the_first() {
    let a = TestApp::new().await;
    let b = a.second_instance(None).await;
    let (applicant, id, path) = case(&a).await;
    listening(&b).await;
    // The same browser session on B (the load balancer sends it there).
    let cookies: Vec<Cookie<'static>> = a.client.cookies().iter().cloned().collect();
    let view_on_b = || async {
        let resp = b.client.get(path.clone()).cookies(cookies.clone()).dispatch().await;
        (resp.status(), resp.into_string().await.unwrap_or_default())
    };
    let (status, html) = view_on_b().await;
    assert_eq!(status, Status::Ok);
    let _ = view_on_b().await;
    assert!(b.page_cache().stats().hits >= 1, "B keeps its own copy");
    assert!(!html.contains("Melding via instans A"));

    let token = a.token(&applicant).await;
    let (status, body) = a
        .post_json(
            &format!("/api/applications/{id}/messages"),
            Some(&token),
            serde_json::json!({"body": "Melding via instans A"}),
        )
        .await;
    assert_eq!(status, Status::Created, "{body}");
    assert!(shows_within_5s(view_on_b, "Melding via instans A").await, "B heard of A's change within 5 s");
}

#[rocket::async_test]
async fn while_the_listener_is_away_nothing_is_served_from_memory() {
    let app = TestApp::new().await;
    let (_, _, path) = case(&app).await;
    let (_, _) = app.page(&path).await;
    let (_, _) = app.page(&path).await;
    let before = stats(&app);
    assert!(before.hits >= 1);

    // Cut the listening connection, as a database restart or a network fault would.
    let cut = count(
        &app,
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND query = 'LISTEN hds_changes'",
    )
    .await;
    assert_eq!(cut, 1, "one listening connection per instance");
    // It connects again by itself and starts afresh: the page kept before is not served.
    for _ in 0..250 {
        if stats(&app).listens > before.listens && app.page_cache().serving() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let now = stats(&app);
    assert!(now.listens > before.listens, "listening again: {now:?}");
    assert!(now.generation > before.generation);
    let (status, _) = raw_page(&app, &path).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(stats(&app).hits, now.hits, "the page kept before the cut is not served");
    let (_, _) = raw_page(&app, &path).await;
    assert_eq!(stats(&app).hits, now.hits + 1, "and caching goes on");
}

#[rocket::async_test]
async fn turned_off_nothing_is_kept() {
    let app = TestApp::with_config(|c| c.page_cache_seconds = 0).await;
    let applicant = app.user("applicant", None).await;
    let case = submitted(&app, &applicant).await;
    app.login(&applicant).await;
    let path = format!("/applications/{}", case["id"]);
    for _ in 0..3 {
        let (status, _) = app.page(&path).await;
        assert_eq!(status, Status::Ok);
    }
    assert_eq!(stats(&app).hits, 0);
    assert!(!app.page_cache().serving());
}

#[rocket::async_test]
async fn every_table_notifies() {
    let app = TestApp::new().await;
    // Tables with no trigger, each for a reason given in migration 000011.
    let exempt = ["outbox", "login_attempts", "__diesel_schema_migrations"];
    let missing = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM pg_tables t WHERE t.schemaname = 'public' AND t.tablename NOT IN ({}) \
             AND NOT EXISTS (SELECT 1 FROM information_schema.triggers g \
               WHERE g.event_object_table = t.tablename AND g.trigger_name = t.tablename || '_notify_row' \
               AND g.action_statement = 'EXECUTE FUNCTION hds_notify_change()')",
            exempt.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ")
        ),
    )
    .await;
    assert_eq!(missing, 0, "a table without the change notification: add it to a migration like 000011");
    let tables = count(&app, "SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'").await;
    assert!(tables >= 29, "{tables}");
    // Sessions notify when they end, not when they begin.
    let session_events =
        count(&app, "SELECT count(*) AS n FROM information_schema.triggers WHERE trigger_name = 'sessions_notify_row'")
            .await;
    assert_eq!(session_events, 2, "UPDATE and DELETE");
}
