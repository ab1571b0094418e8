//! Notifications: the outbox written with each event, sent over real SMTP (a sink on loopback)
//! in each recipient's language with both MIME parts; nothing lost while the server is down,
//! nothing sent twice by two workers; dead letters; in-app notices; digests; reminders.

use crate::case_handling::{cmd, release, two_source_case};
use crate::common::{TestApp, count, csrf_in, smtp::Sink};
use chrono::{Duration, Utc};
use helsedataservice::mail::MAX_ATTEMPTS;
use rocket::http::Status;
use serde_json::json;

#[rocket::async_test]
async fn each_event_reaches_the_right_people_in_their_language_over_smtp() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    let (c, id) = two_source_case(&app).await;
    // The officer reads English from now on: later notices to them are in English.
    app.sql(&format!("UPDATE users SET language = 'en' WHERE id = {}", c.officer.id)).await.unwrap();

    // Submission: a receipt to the applicant, a notice to the case officers (written with the event).
    let pending = count(&app, "SELECT count(*) AS n FROM outbox WHERE state = 'pending'").await;
    assert_eq!(pending, 3, "receipt, officer notice and the member's invitation are in the outbox before any sending");
    let round = app.send_mail(Utc::now()).await;
    assert_eq!(round.sent, 3, "{round:?}");
    let mail = sink.messages();
    let receipt = mail.iter().find(|m| m.to == vec![c.applicant.email.clone()]).expect("receipt to the applicant");
    let reference = {
        let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
        case["reference"].as_str().unwrap().to_string()
    };
    assert!(receipt.subject().contains("Vi har mottatt søknad"), "bokmål: {}", receipt.subject());
    assert!(receipt.subject().contains(&reference));
    assert!(receipt.from.contains("noreply@helsedata.localhost"));
    let text = receipt.part("text/plain").expect("a plain-text part");
    let html = receipt.part("text/html").expect("an HTML part");
    assert!(text.contains(&format!("http://helsedata.test/applications/{id}")), "{text}");
    assert!(html.contains(&format!("href=\"http://helsedata.test/applications/{id}\"")), "{html}");
    assert!(receipt.parsed().ctype.mimetype == "multipart/alternative");
    // When an answer can be expected (the case's due date), in the body, not the subject.
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    let due = chrono::NaiveDate::parse_from_str(case["due_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let expected = format!("Du kan regne med svar innen {}.", due.format("%d.%m.%Y"));
    assert!(text.contains(&expected) && html.contains(&expected), "{text}");
    assert!(text.contains("§ 11 a"), "{text}");
    let officer = mail.iter().find(|m| m.to == vec![c.officer.email.clone()]).expect("notice to the officer");
    assert!(officer.subject().contains("er sendt inn"), "{}", officer.subject());
    assert!(!mail.iter().any(|m| m.to.contains(&c.fhi.email)), "owners hear nothing before completion");

    // Return with a message: only the applicant, with the message in both parts.
    let (status, _) = cmd(&app, &c.officer_token, id, "return", json!({"message": "Legg ved REK-vedtaket."})).await;
    assert_eq!(status, Status::Ok);
    app.send_mail(Utc::now()).await;
    let returned = sink
        .messages()
        .into_iter()
        .nth(3)
        .expect("a fourth message (after the receipt, the officer's notice and the member's invitation)");
    assert_eq!(returned.to, vec![c.applicant.email.clone()]);
    assert!(returned.subject().contains("sendt tilbake"));
    assert!(returned.part("text/plain").unwrap().contains("Legg ved REK-vedtaket."));
    assert!(returned.part("text/html").unwrap().contains("Legg ved REK-vedtaket."));

    // Resubmit and complete: FHI decides KRG and hears of it; Helsedirektoratet (NPR, decided by
    // Helsedataservice) does not. The resubmission goes to the assigned officer only.
    let (status, _) = cmd(&app, &c.applicant_token, id, "submit", json!({})).await;
    assert_eq!(status, Status::Ok);
    let (status, body) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let before = sink.messages().len();
    app.send_mail(Utc::now()).await;
    let new: Vec<_> = sink.messages().into_iter().skip(before).collect();
    let to_fhi: Vec<_> = new.iter().filter(|m| m.to.contains(&c.fhi.email)).collect();
    assert_eq!(to_fhi.len(), 1, "{new:?}");
    assert!(to_fhi[0].subject().contains("venter på din beslutning"));
    assert!(!new.iter().any(|m| m.to.contains(&c.hdir.email)));
    let to_officer: Vec<String> = new.iter().filter(|m| m.to.contains(&c.officer.email)).map(|m| m.subject()).collect();
    assert_eq!(to_officer.len(), 1, "the resubmission, not their own completion: {to_officer:?}");
    assert!(to_officer[0].contains("has been submitted"), "in English now: {to_officer:?}");

    // The decision of a release goes to the officer; the applicant gets the decision itself.
    let krg = release(&body, "KRG")["id"].as_i64().unwrap();
    let npr = release(&body, "NPR")["id"].as_i64().unwrap();
    let (status, _) = app
        .post_json(
            &format!("/api/releases/{krg}/decide"),
            Some(&c.fhi_token),
            json!({"approve": true, "conditions": "Slettes innen 2031."}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let (status, _) =
        app.post_json(&format!("/api/releases/{npr}/decide"), Some(&c.officer_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Ok);
    let (status, _) = cmd(&app, &c.officer_token, id, "decide", json!({"reasons": "Vilkårene er oppfylt."})).await;
    assert_eq!(status, Status::Ok);
    let before = sink.messages().len();
    app.send_mail(Utc::now()).await;
    let new: Vec<_> = sink.messages().into_iter().skip(before).collect();
    assert!(new.iter().any(|m| m.to.contains(&c.officer.email) && m.subject().contains("register owner has decided")));
    assert!(new.iter().any(|m| m.to.contains(&c.applicant.email) && m.subject().contains("fattet vedtak")));
    assert!(new.iter().any(|m| m.to.contains(&c.fhi.email) && m.subject().contains("kan leveres")), "owners deliver");

    // Every message went out once, and the outbox says so.
    assert_eq!(count(&app, "SELECT count(*) AS n FROM outbox WHERE state <> 'sent'").await, 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM outbox").await as usize, sink.messages().len());
}

#[rocket::async_test]
async fn nothing_is_lost_while_the_server_is_down_and_nothing_is_sent_twice() {
    // A port with nobody listening: the mail server is down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = TestApp::with_config(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let (_c, _id) = two_source_case(&app).await;
    let now = Utc::now();
    let round = app.send_mail(now).await;
    assert_eq!((round.sent, round.failed), (0, 3), "{round:?}");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM outbox WHERE state = 'pending' AND attempts = 1 AND last_error IS NOT NULL"
        )
        .await,
        3
    );
    // Not yet due again (backoff).
    assert_eq!(app.send_mail(now + Duration::seconds(30)).await, Default::default());

    // The server comes back: everything goes out, once.
    let sink = Sink::start(port).await;
    let round = app.send_mail(now + Duration::minutes(2)).await;
    assert_eq!(round.sent, 3, "{round:?}");
    assert_eq!(sink.messages().len(), 3);
    assert_eq!(app.send_mail(now + Duration::hours(1)).await.sent, 0);

    // Two workers on a full outbox: each message exactly once.
    for _ in 0..5 {
        two_source_case(&app).await;
    }
    let queued = count(&app, "SELECT count(*) AS n FROM outbox WHERE state = 'pending'").await as usize;
    assert!(queued >= 10, "{queued}");
    let later = now + Duration::hours(2);
    let (a, b) = tokio::join!(app.send_mail(later), app.send_mail(later));
    assert_eq!(a.sent + b.sent, queued, "{a:?} {b:?}");
    let ids: Vec<String> = sink.messages().iter().map(|m| m.header("Message-ID")).collect();
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no message twice: {ids:?}");
    assert_eq!(ids.len(), 3 + queued);
}

#[rocket::async_test]
async fn the_worker_sends_the_message_due_earliest_first_and_leaves_those_due_later() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    two_source_case(&app).await;
    let ids: Vec<i64> = {
        let mut ids = Vec::new();
        for n in 0..3 {
            ids.push(count(&app, &format!("SELECT id AS n FROM outbox ORDER BY id OFFSET {n} LIMIT 1")).await);
        }
        ids
    };
    // The oldest message waits for later (a retry's backoff); the newest has been due longest.
    let now = Utc::now();
    for (id, due) in ids.iter().zip([now + Duration::hours(1), now - Duration::minutes(1), now - Duration::hours(1)]) {
        app.sql(&format!("UPDATE outbox SET next_attempt_at = '{}' WHERE id = {id}", due.to_rfc3339())).await.unwrap();
    }
    let is_sent = async |id: i64| {
        count(&app, &format!("SELECT count(*) AS n FROM outbox WHERE id = {id} AND state = 'sent'")).await == 1
    };

    let mut conn = app.conn().await;
    let one = helsedataservice::mail::send_due(&mut conn, app.mailer(), now, 1).await;
    assert_eq!(one.sent, 1, "{one:?}");
    assert!(is_sent(ids[2]).await, "the message due an hour ago goes first, though it is the newest");
    assert!(!is_sent(ids[1]).await && !is_sent(ids[0]).await);

    let rest = helsedataservice::mail::send_due(&mut conn, app.mailer(), now, 10).await;
    assert_eq!(rest.sent, 1, "only the other due message: {rest:?}");
    assert!(is_sent(ids[1]).await);
    assert!(!is_sent(ids[0]).await, "the message due in an hour waits");
    assert_eq!(sink.messages().len(), 2);
}

#[rocket::async_test]
async fn the_worker_sends_a_backlog_larger_than_its_batch_in_one_go() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    two_source_case(&app).await;
    // A burst: copies of the three messages of a submission, well over one batch.
    app.sql(
        "INSERT INTO outbox (user_id, recipient, language, template, context, next_attempt_at, created_at) \
         SELECT user_id, recipient, language, template, context, next_attempt_at, created_at \
         FROM outbox, generate_series(1, 80)",
    )
    .await
    .unwrap();
    let queued = count(&app, "SELECT count(*) AS n FROM outbox WHERE state = 'pending'").await as usize;
    assert_eq!(queued, 243);
    assert!(queued > 2 * helsedataservice::mail::BATCH);

    let mut conn = app.conn().await;
    let round = helsedataservice::mail::drain(&mut conn, app.mailer(), Utc::now()).await;
    assert_eq!((round.sent, round.failed), (queued, 0), "{round:?}");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM outbox WHERE state = 'pending'").await, 0);
    assert_eq!(sink.messages().len(), queued);
}

#[rocket::async_test]
async fn messages_that_keep_failing_are_given_up_shown_to_admins_and_can_be_retried() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = TestApp::with_config(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let (c, _id) = two_source_case(&app).await;
    app.sql(&format!("UPDATE outbox SET attempts = {} WHERE recipient = '{}'", MAX_ATTEMPTS - 1, c.applicant.email))
        .await
        .unwrap();
    let round = app.send_mail(Utc::now()).await;
    assert_eq!((round.failed, round.dead), (3, 1), "{round:?}");
    let dead_id = count(&app, "SELECT id AS n FROM outbox WHERE state = 'dead'").await;

    // Admins see it; others may not.
    let admin = app.user("admin", None).await;
    app.login(&c.applicant).await;
    let (status, _) = app.page("/admin/mail").await;
    assert_eq!(status, Status::Forbidden);
    app.login(&admin).await;
    let (status, html) = app.page("/admin/mail?state=dead").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&c.applicant.email) && html.contains("gitt opp"), "{html}");
    let csrf = csrf_in(&html);
    let resp = app.form(&format!("/admin/mail/{dead_id}/retry"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(
        count(&app, &format!("SELECT attempts::int8 AS n FROM outbox WHERE id = {dead_id} AND state = 'pending'"))
            .await,
        0
    );
    assert!(app.event_kinds("outbox", dead_id).await.contains(&"mail.retried".to_string()));
    // A message that is not dead cannot be retried.
    let resp = app.form(&format!("/admin/mail/{dead_id}/retry"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Conflict);
}

#[rocket::async_test]
async fn without_smtp_mail_is_written_as_eml_files_listed_for_admins() {
    let app = TestApp::new().await;
    let (c, _id) = two_source_case(&app).await;
    assert_eq!(app.send_mail(Utc::now()).await.sent, 3, "receipt, officer notice, member invitation");
    let files = helsedataservice::mail::eml_files(&app.config().mail_dir);
    assert_eq!(files.len(), 3);
    let raw = std::fs::read_to_string(app.config().mail_dir.join(&files[0].0)).unwrap();
    assert!(raw.contains("multipart/alternative"));
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let (_, html) = app.page("/admin/mail").await;
    assert!(html.contains(&files[0].0) && html.contains(&files[1].0));
    assert!(html.contains(&c.officer.email));
}

#[rocket::async_test]
async fn the_bell_counts_unread_notices_which_people_mark_read_only_for_themselves() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    app.login(&c.applicant).await;
    let (_, html) = app.page("/applications").await;
    assert!(html.contains("Varsler (1 ulest)"), "the bell in the header");
    let (_, html) = app.page("/notifications").await;
    assert!(html.contains("Vi har mottatt søknad"));
    assert!(html.contains(&format!("href=\"/applications/{id}\"")));

    // Over the API: the officer's notice is not the applicant's to mark.
    let (status, body) = app.get_json("/api/notifications", Some(&c.officer_token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["unread"], 1);
    let officer_notice = body["notifications"][0]["id"].as_i64().unwrap();
    let (status, _) =
        app.post_json(&format!("/api/notifications/{officer_notice}/read"), Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::NotFound);
    let (_, body) = app.get_json("/api/notifications", Some(&c.officer_token)).await;
    assert_eq!(body["unread"], 1, "still unread");

    // The applicant marks their own read through the page (with CSRF; without it: refused).
    let (_, html) = app.page("/notifications").await;
    let csrf = csrf_in(&html);
    let resp = app.form("/notifications/read", &[], None).await;
    assert_eq!(resp.status(), Status::Forbidden);
    let resp = app.form("/notifications/read", &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page("/applications").await;
    assert!(html.contains("Varsler (0 uleste)"));
    let (_, body) = app.get_json("/api/notifications", Some(&c.applicant_token)).await;
    assert_eq!(body["unread"], 0);
    assert_eq!(body["notifications"][0]["read"], true);
}

#[rocket::async_test]
async fn non_urgent_notices_wait_for_the_daily_digest_when_chosen() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    let (c, id) = two_source_case(&app).await;
    app.send_mail(Utc::now()).await;
    let sent_before = sink.messages().len();

    // The officer chooses the digest on the notifications page.
    app.login(&c.officer).await;
    let (_, html) = app.page("/notifications").await;
    let csrf = csrf_in(&html);
    let resp = app.form("/notifications/preference", &[("mail", "weekly")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity, "only the two choices");
    let resp = app.form("/notifications/preference", &[("mail", "digest")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);

    // Complete; FHI decides KRG: the officer's "release decided" notice is not urgent.
    let (_, body) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    let krg = release(&body, "KRG")["id"].as_i64().unwrap();
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Ok);
    let now = Utc::now();
    app.send_mail(now).await;
    let new: Vec<_> = sink.messages().into_iter().skip(sent_before).collect();
    assert!(!new.iter().any(|m| m.to.contains(&c.officer.email)), "kept for the digest: {new:?}");
    let (_, notices) = app.get_json("/api/notifications", Some(&c.officer_token)).await;
    assert!(notices.to_string().contains("release.decided"), "but shown in the app at once");

    let mut conn = app.conn().await;
    assert_eq!(helsedataservice::services::notifications::queue_digests(&mut conn, now).await.unwrap(), 1);
    assert_eq!(helsedataservice::services::notifications::queue_digests(&mut conn, now).await.unwrap(), 0);
    app.send_mail(now).await;
    let digest = sink.messages().into_iter().last().unwrap();
    assert_eq!(digest.to, vec![c.officer.email.clone()]);
    assert!(digest.subject().contains("1 nye varsler"), "{}", digest.subject());
    assert!(digest.part("text/plain").unwrap().contains("besluttet en utlevering"));
}

#[rocket::async_test]
async fn waiting_releases_are_reminded_and_applicants_asked_to_confirm_deletion() {
    use helsedataservice::services::reminders;
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let (_, body) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    let krg = release(&body, "KRG")["id"].as_i64().unwrap();
    let mut conn = app.conn().await;
    let now = Utc::now();
    assert_eq!(reminders::release_reminders(&mut conn, now, 14).await.unwrap(), 0, "not yet");
    let later = now + Duration::days(15);
    assert_eq!(reminders::release_reminders(&mut conn, later, 14).await.unwrap(), 2, "KRG to FHI, NPR to the officer");
    assert_eq!(
        reminders::release_reminders(&mut conn, later + Duration::days(1), 14).await.unwrap(),
        0,
        "once per period"
    );
    assert_eq!(reminders::release_reminders(&mut conn, later + Duration::days(15), 14).await.unwrap(), 2, "and again");
    let (_, fhi_notices) = app.get_json("/api/notifications", Some(&c.fhi_token)).await;
    assert!(fhi_notices.to_string().contains("release.reminder"));
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(
        reminders::release_reminders(&mut conn, later + Duration::days(60), 14).await.unwrap(),
        1,
        "only NPR waits"
    );

    // Deletion: the project ends 2030-12-31 (complete_form); asked 30 days before, once.
    let (status, _) = app
        .post_json(
            &format!("/api/releases/{}/decide", release(&body, "NPR")["id"]),
            Some(&c.officer_token),
            json!({"approve": true}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let (status, _) = cmd(&app, &c.officer_token, id, "decide", json!({})).await;
    assert_eq!(status, Status::Ok);
    let end: chrono::DateTime<Utc> = "2030-12-31T12:00:00Z".parse().unwrap();
    assert_eq!(reminders::deletion_reminders(&mut conn, end - Duration::days(40)).await.unwrap(), 0);
    assert_eq!(
        reminders::deletion_reminders(&mut conn, end - Duration::days(20)).await.unwrap(),
        0,
        "nothing delivered: nothing to delete, nor a deletion to confirm"
    );

    // Deletion is confirmed only once data have reached the project.
    app.login(&c.applicant).await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(!html.contains("Bekreft at dataene er slettet"), "nothing delivered yet");
    let csrf = csrf_in(&html);
    let resp = app.form(&format!("/applications/{id}/confirm-deletion"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Conflict);
    let (status, _) = app
        .post_json(&format!("/api/releases/{krg}/delivered"), Some(&c.fhi_token), json!({"environment": "TSD"}))
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(reminders::deletion_reminders(&mut conn, end - Duration::days(20)).await.unwrap(), 1);
    assert_eq!(reminders::deletion_reminders(&mut conn, end - Duration::days(19)).await.unwrap(), 0);
    let (_, notices) = app.get_json("/api/notifications", Some(&c.applicant_token)).await;
    assert!(notices.to_string().contains("application.deletion_reminder"));

    // Only the applicant confirms, once, after a page that asks first.
    app.login(&c.fhi).await;
    let csrf = app.csrf().await;
    let resp = app.form(&format!("/applications/{id}/confirm-deletion"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Forbidden);
    app.login(&c.applicant).await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Bekreft at dataene er slettet"));
    assert!(html.contains(&format!("href=\"/applications/{id}/confirm-deletion\"")), "a link, not the act");
    let (status, ask) = app.page(&format!("/applications/{id}/confirm-deletion")).await;
    assert_eq!(status, Status::Ok);
    assert!(
        ask.contains(&format!("action=\"/applications/{id}/confirm-deletion\""))
            && ask.contains("kan ikke trekkes tilbake")
    );
    let csrf = csrf_in(&ask);
    let resp = app.form(&format!("/applications/{id}/confirm-deletion"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let resp = app.form(&format!("/applications/{id}/confirm-deletion"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Conflict);
    assert!(app.event_kinds("application", id).await.contains(&"application.deletion_confirmed".to_string()));
}

/// Follows the confirmation link mailed to `email` (as its owner would).
pub(crate) async fn confirm_address(app: &TestApp, email: &str) {
    use diesel::sql_types::Text;
    #[derive(diesel::QueryableByName)]
    struct Path {
        #[diesel(sql_type = Text)]
        path: String,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.conn().await;
    let p: Path = diesel::sql_query(
        "SELECT context ->> 'path' AS path FROM outbox WHERE template = 'verify_email' AND recipient = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind::<Text, _>(email)
    .get_result(&mut conn)
    .await
    .unwrap();
    // Only the person signed in to the account confirms it (issue 23, item 3).
    let owner = crate::common::TestUser {
        id: 0,
        email: email.into(),
        password: "Sterkt-passord-1".into(),
        role: "applicant".into(),
    };
    app.login(&owner).await;
    let resp = app.client.get(p.path).dispatch().await;
    assert_eq!(resp.status(), Status::SeeOther);
}

#[rocket::async_test]
async fn self_registered_addresses_are_confirmed_by_a_mailed_link() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    let (status, _) = app
        .post_json(
            "/api/register",
            None,
            json!({"email": "ny@example.no", "name": "Ny Forsker", "password": "Sterkt-passord-1"}),
        )
        .await;
    assert_eq!(status, Status::Accepted);
    assert_eq!(app.send_mail(Utc::now()).await.sent, 1);
    let mail = sink.messages().pop().unwrap();
    assert_eq!(mail.to, vec!["ny@example.no".to_string()]);
    assert!(mail.subject().contains("bekreft e-postadressen"), "{}", mail.subject());
    let text = mail.part("text/plain").unwrap();
    let link =
        text.split_whitespace().find(|w| w.starts_with("http://helsedata.test/verify-email?token=")).expect("a link");
    let path = link.trim_start_matches("http://helsedata.test").to_string();

    // Logged in but unconfirmed: the banner offers a new link; the old one then stops working.
    let user = crate::common::TestUser {
        id: 0,
        email: "ny@example.no".into(),
        password: "Sterkt-passord-1".into(),
        role: "applicant".into(),
    };
    app.login(&user).await;
    let (_, html) = app.page("/applications").await;
    assert!(html.contains("er ikke bekreftet ennå"));
    let csrf = csrf_in(&html);
    let resp = app.form("/verify-email/resend", &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let resp = app.client.get(path.clone()).dispatch().await;
    assert_eq!(resp.status(), Status::Conflict, "the first link was replaced");
    let resp = app.client.get("/verify-email?token=forged").dispatch().await;
    assert_eq!(resp.status(), Status::Conflict);
    confirm_address(&app, "ny@example.no").await;
    let (_, html) = app.page("/applications").await;
    assert!(!html.contains("er ikke bekreftet ennå"));
    let resp = app.form("/verify-email/resend", &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Conflict, "nothing to confirm any more");
}

/// The bell counts unread notices up to 99 and then says "99+": every page reads it, and a busy
/// officer's thousands of unread notices are not counted on each of them. The list of notices
/// (and the API) still tells the exact number.
#[rocket::async_test]
async fn the_bell_says_99_plus_beyond_99_unread_notices() {
    let app = TestApp::new().await;
    let officer = app.user("case_officer", None).await;
    let token = app.token(&officer).await;
    let notices = |n: i64| {
        format!(
            "INSERT INTO notifications (user_id, kind, urgent, created_at, mail) \
             SELECT {}, 'message.posted', false, now(), 'queued' FROM generate_series(1, {n})",
            officer.id
        )
    };
    app.sql(&notices(99)).await.unwrap();
    app.login(&officer).await;
    let (_, html) = app.page("/inbox").await;
    assert!(html.contains("Varsler (99 uleste)"), "99 counted");
    app.sql(&notices(1)).await.unwrap();
    let (_, html) = app.page("/inbox").await;
    assert!(html.contains("Varsler (99+ uleste)"), "100 and more");
    app.client.get("/language/en").dispatch().await;
    let (_, html) = app.page("/inbox").await;
    assert!(html.contains("Notifications (99+ unread)"));
    let (_, body) = app.get_json("/api/notifications", Some(&token)).await;
    assert_eq!(body["unread"], 100, "the exact number");
}

#[rocket::async_test]
async fn the_outbox_forgets_sent_and_given_up_messages_after_its_retention() {
    use helsedataservice::services::notifications;
    let app = TestApp::new().await;
    let queue = |state: &str, days: i64, n: i64| {
        format!(
            "INSERT INTO outbox (recipient, language, template, context, state, next_attempt_at, created_at) \
             SELECT 'prune@example.no', 'nb', 'application.submitted', '{{}}', '{state}', now(), \
                    now() - interval '{days} days' FROM generate_series(1, {n})"
        )
    };
    // Queued in time order, as the service queues them: more than one slice of old ones (2 500
    // sent), one given up, one still pending (its retry not yet done), then the recent ones.
    for (state, days, n) in
        [("sent", 400, 2500), ("dead", 380, 1), ("pending", 370, 1), ("sent", 300, 1), ("dead", 5, 1)]
    {
        app.sql(&queue(state, days, n)).await.unwrap();
    }
    let mut conn = app.conn().await;
    let now = Utc::now();
    assert_eq!(
        notifications::prune_outbox(&mut conn, now, 365).await.unwrap(),
        2501,
        "sent or given up over a year ago"
    );
    let left = "SELECT count(*) AS n FROM outbox WHERE recipient = 'prune@example.no'";
    assert_eq!(crate::common::count(&app, left).await, 3, "the pending one and the two of this year");
    let pending = "SELECT count(*) AS n FROM outbox WHERE recipient = 'prune@example.no' AND state = 'pending'";
    assert_eq!(crate::common::count(&app, pending).await, 1);
    let pruned = "SELECT count(*) AS n FROM events WHERE kind = 'outbox.pruned' AND (payload->>'deleted')::int = 2501";
    assert_eq!(crate::common::count(&app, pruned).await, 1, "the deletion is on record");
    assert_eq!(notifications::prune_outbox(&mut conn, now, 365).await.unwrap(), 0);
    assert_eq!(crate::common::count(&app, "SELECT count(*) AS n FROM events WHERE kind = 'outbox.pruned'").await, 1);
    assert_eq!(notifications::prune_outbox(&mut conn, now, 30).await.unwrap(), 1, "a shorter retention takes more");
}
