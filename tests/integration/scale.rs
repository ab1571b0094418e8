//! Horizontal scale: two instances of the service on one database and one storage folder, as
//! behind a load balancer. A session made on one works on the other (the cookie key comes from
//! the settings), both mail workers together send each outbox message once, one round of
//! scheduled tasks runs at a time, and a file uploaded through one is downloaded through the other.

use crate::applications_api::submitted;
use crate::common::{TestApp, count};
use crate::transfers::{create_transfer, decided_case, files, get_file, post, put_file};
use chrono::{Duration, Utc};
use helsedataservice::{db, jobs, storage::Storage};
use rocket::http::{Cookie, Status};

fn storage(app: &TestApp) -> &Storage {
    app.client.rocket().state::<Storage>().expect("storage")
}

#[rocket::async_test]
async fn a_session_made_on_one_instance_works_on_the_other() {
    let a = TestApp::new().await;
    let b = a.second_instance(None).await;
    let user = a.user("applicant", None).await;
    a.login(&user).await;
    // The browser's cookies as it sent them to A; the load balancer now forwards them to B.
    let cookies: Vec<Cookie<'static>> = a.client.cookies().iter().cloned().collect();
    assert!(!cookies.is_empty());
    let page = b.client.get("/notifications").cookies(cookies.clone()).dispatch().await;
    assert_eq!(page.status(), Status::Ok, "B knows the session made on A");
    let html = page.into_string().await.unwrap();
    assert!(html.contains(&user.email) || html.contains("Test applicant"), "signed in on B: {html}");

    // An instance given another cookie key cannot read the cookie: the key must be shared.
    let stranger = a.second_instance(Some([9u8; 64])).await;
    let page = stranger.client.get("/notifications").cookies(cookies).dispatch().await;
    assert_ne!(page.status(), Status::Ok, "another key does not open the session");
}

#[rocket::async_test]
async fn both_mail_workers_together_send_each_message_once() {
    let (a, sink) = TestApp::with_smtp_sink().await;
    let b = a.second_instance(None).await;
    let applicant = a.user("applicant", None).await;
    let _officer = a.user("case_officer", None).await;
    for _ in 0..4 {
        submitted(&a, &applicant).await;
    }
    let pending = count(&a, "SELECT count(*) AS n FROM outbox WHERE state = 'pending'").await;
    assert_eq!(pending, 12, "a receipt, an officer notice and the member's invitation per submission");

    let now = Utc::now();
    let (ra, rb) = tokio::join!(a.send_mail(now), b.send_mail(now));
    assert_eq!(ra.sent + rb.sent, 12, "{ra:?} {rb:?}");
    assert_eq!(sink.messages().len(), 12, "each message reached the server once");
    assert_eq!(count(&a, "SELECT count(*) AS n FROM outbox WHERE state = 'sent'").await, 12);
    let (ra, rb) = tokio::join!(a.send_mail(now), b.send_mail(now));
    assert_eq!(ra.sent + rb.sent, 0);
    assert_eq!(sink.messages().len(), 12);
}

#[rocket::async_test]
async fn one_round_of_scheduled_tasks_runs_at_a_time() {
    let a = TestApp::new().await;
    let b = a.second_instance(None).await;
    let applicant = a.user("applicant", None).await;
    let id = submitted(&a, &applicant).await["id"].as_i64().unwrap();
    // A month on, the case is due an interim reply.
    let later = Utc::now() + Duration::days(31);
    let replies =
        format!("SELECT count(*) AS n FROM events WHERE subject_id = {id} AND kind = 'application.interim_reply'");

    // While B runs its round (it holds the scheduler's lock), A skips its own.
    let mut held = b.conn().await;
    assert!(db::try_advisory_lock(&mut held, jobs::SCHEDULER_LOCK).await.unwrap());
    assert!(!jobs::run_once(a.pool(), storage(&a), a.config(), later).await, "A skipped");
    assert_eq!(count(&a, &replies).await, 0);
    assert!(db::advisory_unlock(&mut held, jobs::SCHEDULER_LOCK).await.unwrap());
    drop(held);

    // Both at once: the reply is recorded once.
    let (ra, rb) = tokio::join!(
        jobs::run_once(a.pool(), storage(&a), a.config(), later),
        jobs::run_once(b.pool(), storage(&b), b.config(), later)
    );
    assert!(ra ^ rb, "one round a period, however the two meet");
    assert_eq!(count(&a, &replies).await, 1);
    assert!(!jobs::run_once(b.pool(), storage(&b), b.config(), later).await, "this period's round has run");
    let next_period = later + chrono::Duration::minutes(15);
    assert!(jobs::run_once(b.pool(), storage(&b), b.config(), next_period).await, "the lock was released");
    assert_eq!(count(&a, &replies).await, 1);
    // Each round that ran verified the audit chain and kept the result (intact here).
    let checks = "SELECT count(*) AS n FROM audit_checks WHERE first_broken IS NULL AND requested_by IS NULL";
    assert_eq!(count(&a, checks).await, 2);
}

#[rocket::async_test]
async fn a_file_uploaded_through_one_instance_is_downloaded_through_the_other() {
    let a = TestApp::new().await;
    let c = decided_case(&a, true).await;
    let id = create_transfer(&a, &c).await;
    // An upload streaming into A (its reservation, its heartbeat fresh) survives the start of
    // another instance; once its heartbeat stops (as after a crash), the clean-up removes it.
    let owner_id = count(&a, &format!("SELECT created_by AS n FROM transfers WHERE id = {id}")).await;
    let key = Storage::new_key();
    let mut conn = a.conn().await;
    db::transfers::reserve_file(&mut conn, id, "in-progress.csv", &key, owner_id, Utc::now()).await.unwrap();
    let b = a.second_instance(None).await;
    let unfinished = format!("SELECT count(*) AS n FROM transfer_files WHERE transfer_id = {id} AND NOT complete");
    assert_eq!(count(&a, &unfinished).await, 1, "B's start-up left A's upload alone");
    let stale =
        format!("UPDATE transfer_files SET heartbeat_at = now() - interval '3 minutes' WHERE transfer_id = {id}");
    a.sql(&stale).await.unwrap();
    let mut on_b = b.conn().await;
    let cleaned = helsedataservice::services::transfers::clean_unfinished_uploads(&mut on_b, storage(&b), Utc::now())
        .await
        .unwrap();
    assert_eq!((cleaned, count(&a, &unfinished).await), (1, 0), "an abandoned upload is cleaned at once");

    let bytes: Vec<u8> = (0..300_000u32).map(|i| b"lopenr;diagnose;aar\n"[(i % 20) as usize]).collect();
    let (status, body) = put_file(&a, &c.owner_token, id, "data.csv", &bytes, None).await;
    assert!(status == Status::Ok || status == Status::Created, "{status} {body}");
    assert_eq!(post(&b, &c.owner_token, format!("/api/transfers/{id}/publish")).await.0, Status::Ok);
    let (status, sum, back) = get_file(&b, &c.applicant_token, id, "data.csv").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(back.as_deref(), Some(&bytes[..]), "B decrypts what A stored");
    assert_eq!(sum.as_deref(), body["sha256"].as_str());
    assert_eq!(files(&b, id).await.len(), 1);
    let (_, case) = b.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["state"], "delivered", "{case}");
}
