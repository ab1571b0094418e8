//! Faults (issue 10): the database stopped mid-run and started again, the mail server down,
//! and two officers deciding the same case at once. (A crash mid-upload: `faults_upload.rs`.)

use crate::applications_api::submitted;
use crate::case_handling::{cmd, release, two_source_case};
use crate::common::{TestApp, count, smtp::Sink};
use helsedataservice::db::{
    self,
    cluster::{Cluster, Durability},
};
use rocket::http::{ContentType, Status};
use serde_json::json;
use std::time::{Duration, Instant};

/// Stops the private cluster when the test ends, also when it fails.
struct StopOnDrop(Cluster);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.stop();
    }
}

const UNAVAILABLE_EN: &str = "The service is temporarily unavailable. Try again shortly.";
const UNAVAILABLE_NB: &str = "Tjenesten er midlertidig utilgjengelig. Prøv igjen om litt.";

#[rocket::async_test]
async fn a_database_outage_answers_503_and_the_same_instance_recovers_with_nothing_lost() {
    // A cluster of this test's own (durable, like production), so the shared one is not disturbed.
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::ensure(dir.path(), Durability::Durable).expect("a private cluster");
    let _stop = StopOnDrop(cluster.clone());
    db::create_database_if_missing(&cluster.url("postgres"), "hds").await.unwrap();
    let app = TestApp::on_database(cluster.url("hds"), |_| {}).await;
    let mut conn = app.conn().await;
    helsedataservice::services::demo::seed_catalogue(&mut conn, chrono::Utc::now()).await.unwrap();
    drop(conn);

    // Acknowledged before the outage: an account, a token, a browser session, a submitted application.
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let submitted = submitted(&app, &applicant).await;
    let id = submitted["id"].as_i64().unwrap();
    app.login(&applicant).await;
    assert_eq!(app.page("/applications").await.0, Status::Ok);
    let status_page = format!("/applications/{id}");
    assert_eq!(app.page(&status_page).await.0, Status::Ok);
    let events_before = count(&app, "SELECT count(*) AS n FROM events").await;

    cluster.stop().expect("the database stops");

    // While it is down: 503 with a clear message, quickly, on the API and on pages.
    let started = Instant::now();
    let (status, body) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(status, Status::ServiceUnavailable, "{body}");
    assert_eq!(body["error"], UNAVAILABLE_EN);
    assert!(started.elapsed() < Duration::from_secs(8), "fails fast: {:?}", started.elapsed());
    let (status, body) = app.post_json("/api/applications", Some(&token), json!({"title": "Under driftsstans"})).await;
    assert_eq!(status, Status::ServiceUnavailable, "{body}");
    let (status, body) =
        app.post_json("/api/auth/token", None, json!({"email": applicant.email, "password": applicant.password})).await;
    assert_eq!(status, Status::ServiceUnavailable, "not a wrong password: {body}");
    let (status, body) = app.get_json("/api/data-sources", None).await;
    assert_eq!(status, Status::ServiceUnavailable, "{body}");
    let resp = app.client.get("/applications").dispatch().await;
    assert_eq!(resp.status(), Status::ServiceUnavailable);
    assert_eq!(resp.content_type(), Some(ContentType::HTML));
    let html = resp.into_string().await.unwrap();
    assert!(html.contains(UNAVAILABLE_NB) || html.contains(UNAVAILABLE_EN), "{html}");
    let resp = app.client.get("/").dispatch().await;
    assert_eq!(resp.status(), Status::ServiceUnavailable, "the front page needs the database for the session");
    let resp = app.client.get(status_page.clone()).dispatch().await;
    assert_eq!(resp.status(), Status::ServiceUnavailable, "the status page needs the database");

    cluster.restart().expect("the database starts again");

    // The same instance answers again at once, and what was acknowledged is all there.
    let (status, body) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "submitted");
    assert_eq!(body["reference"], submitted["reference"]);
    assert_eq!(app.page("/applications").await.0, Status::Ok, "the browser session survived");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM events").await, events_before, "nothing lost or half-written");
    let (status, body) = app.post_json("/api/applications", Some(&token), json!({"title": "Etter driftsstans"})).await;
    assert_eq!(status, Status::Created, "{body}");
    let (_, list) = app.get_json("/api/applications", Some(&token)).await;
    let titles: Vec<&str> = list.as_array().unwrap().iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(titles.len(), 2, "the draft refused during the outage was not half-saved: {titles:?}");
    assert!(titles.contains(&"Etter driftsstans"));
    assert!(!titles.contains(&"Under driftsstans"));
}

#[rocket::async_test]
async fn the_outbox_holds_while_the_mail_server_is_down_and_the_worker_sends_once_it_is_back() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = TestApp::with_config(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let (_c, _id) = two_source_case(&app).await;
    let queued = count(&app, "SELECT count(*) AS n FROM outbox").await;
    assert!(queued >= 2, "{queued}");

    // Rounds of the worker while nobody listens: every message stays pending, with a growing delay.
    let now = chrono::Utc::now();
    for (i, after) in [0, 5, 30].into_iter().enumerate() {
        let round = app.send_mail(now + chrono::Duration::minutes(after)).await;
        assert_eq!(round.sent, 0, "{round:?}");
        let pending = count(&app, "SELECT count(*) AS n FROM outbox WHERE state = 'pending'").await;
        assert_eq!(pending, queued, "round {i}: nothing given up or lost");
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox WHERE attempts = 3 AND next_attempt_at > now() + interval '30 minutes'"
        )
        .await,
        queued,
        "backed off after three failures"
    );
    assert_eq!(app.send_mail(now + chrono::Duration::minutes(31)).await.sent, 0, "not due again yet");

    // The mail server comes back: the next due round sends everything once.
    let sink = Sink::start(port).await;
    let round = app.send_mail(now + chrono::Duration::hours(6)).await;
    assert_eq!(round.sent as i64, queued, "{round:?}");
    assert_eq!(sink.messages().len() as i64, queued);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM outbox WHERE state = 'sent'").await, queued);
    assert_eq!(app.send_mail(now + chrono::Duration::hours(12)).await.sent, 0, "nothing twice");
}

#[rocket::async_test]
async fn two_officers_deciding_the_same_case_at_once_one_wins_the_other_gets_409() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let second = app.user("case_officer", None).await;
    let second_token = app.token(&second).await;
    let (status, case) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    assert_eq!(status, Status::Ok, "{case}");
    let npr = release(&case, "NPR")["id"].as_i64().unwrap();
    let krg = release(&case, "KRG")["id"].as_i64().unwrap();

    // The same release: one approves, the other rejects, at the same moment.
    let path = format!("/api/releases/{npr}/decide");
    let (a, b) = tokio::join!(
        app.post_json(&path, Some(&c.officer_token), json!({"approve": true})),
        app.post_json(&path, Some(&second_token), json!({"approve": false, "reasons": "Avslått samtidig."})),
    );
    let mut statuses = vec![a.0, b.0];
    statuses.sort_by_key(|s| s.code);
    assert_eq!(statuses, vec![Status::Ok, Status::Conflict], "{} / {}", a.1, b.1);
    let winner = if a.0 == Status::Ok { &a.1 } else { &b.1 };
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(release(&case, "NPR")["state"], winner["state"], "the release holds the winner's decision");
    let decided = app.event_kinds("application", id).await.into_iter().filter(|k| k == "release.decided").count();
    assert_eq!(decided, 1);

    // The application itself: both officers press «decide» at once.
    let (status, body) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (a, b) = tokio::join!(
        cmd(&app, &c.officer_token, id, "decide", json!({})),
        cmd(&app, &second_token, id, "decide", json!({})),
    );
    let mut statuses = vec![a.0, b.0];
    statuses.sort_by_key(|s| s.code);
    assert_eq!(statuses, vec![Status::Ok, Status::Conflict], "{} / {}", a.1, b.1);
    let loser = if a.0 == Status::Conflict { &a.1 } else { &b.1 };
    assert!(loser["error"].as_str().is_some_and(|e| !e.is_empty()), "{loser}");
    let kinds = app.event_kinds("application", id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "application.decided").count(), 1, "{kinds:?}");
}
