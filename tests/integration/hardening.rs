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
    assert_eq!(resp.headers().get_one("Location"), Some("/applications"), "the applicant's own start page");
}

/// Item 8: each role sees only the events and objects that are theirs: applicants and members
/// see no time records and no transfer that is unpublished or goes to another data holder; a
/// register owner sees its own organisation's transfers (and those sent to it), not others'.
#[rocket::async_test]
async fn each_role_sees_only_its_own_events_and_transfers() {
    use crate::case_handling::{cmd, release, two_source_case};
    use crate::transfers::put_file;
    use serde_json::{Value, json};
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let (status, case) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    assert_eq!(status, Status::Ok, "{case}");
    let (npr, krg) = (release(&case, "NPR")["id"].as_i64().unwrap(), release(&case, "KRG")["id"].as_i64().unwrap());
    for (token, r) in [(&c.officer_token, npr), (&c.fhi_token, krg)] {
        let (status, body) =
            app.post_json(&format!("/api/releases/{r}/decide"), Some(token), json!({"approve": true})).await;
        assert_eq!(status, Status::Ok, "{body}");
    }
    assert_eq!(cmd(&app, &c.officer_token, id, "decide", json!({})).await.0, Status::Ok);
    let fhi_org = app.get_json("/api/data-sources/KRG", None).await.1["owner"]["id"].as_i64().unwrap();
    // Helsedirektoratet: hours, an unpublished transfer, and a linkage extract sent to FHI.
    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/hours"), Some(&c.hdir_token), json!({"hours": 2})).await;
    assert_eq!(status, Status::Created, "{body}");
    let path = format!("/api/releases/{npr}/transfers");
    let (_, open) = app.post_json(&path, Some(&c.hdir_token), json!({})).await;
    let open = open["id"].as_i64().unwrap();
    let (_, linkage) = app.post_json(&path, Some(&c.hdir_token), json!({"recipient_organisation_id": fhi_org})).await;
    let linkage = linkage["id"].as_i64().unwrap();
    put_file(&app, &c.hdir_token, linkage, "kobling.csv", b"a;b\n", None).await;
    let (status, body) =
        app.post_json(&format!("/api/transfers/{linkage}/publish"), Some(&c.hdir_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");

    let transfer_ids = |case: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> =
            case["transfers"].as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
        ids.sort();
        ids
    };
    let event_transfers = |case: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> =
            case["events"].as_array().unwrap().iter().filter_map(|e| e["payload"]["transfer_id"].as_i64()).collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let kinds = |case: &Value| -> Vec<String> {
        case["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
    };
    // The applicant: neither transfer, nor their events, nor the hours.
    let (_, mine) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(transfer_ids(&mine), Vec::<i64>::new());
    assert_eq!(event_transfers(&mine), Vec::<i64>::new(), "{:?}", kinds(&mine));
    assert!(!kinds(&mine).contains(&"hours.recorded".to_string()), "{:?}", kinds(&mine));
    let (_, archive) = app.get_json(&format!("/api/applications/{id}/archive"), Some(&c.applicant_token)).await;
    assert!(!archive.to_string().contains("hours.recorded") && !archive.to_string().contains("kobling.csv"));
    // FHI: the extract sent to it, not Helsedirektoratet's open transfer.
    let (_, fhi) = app.get_json(&format!("/api/applications/{id}"), Some(&c.fhi_token)).await;
    assert_eq!(transfer_ids(&fhi), vec![linkage]);
    assert_eq!(event_transfers(&fhi), vec![linkage]);
    // Helsedirektoratet and the officer: both, and the hours.
    for token in [&c.hdir_token, &c.officer_token] {
        let (_, all) = app.get_json(&format!("/api/applications/{id}"), Some(token)).await;
        assert_eq!(transfer_ids(&all), vec![open, linkage]);
        assert_eq!(event_transfers(&all), vec![open, linkage]);
        assert!(kinds(&all).contains(&"hours.recorded".to_string()));
    }
}

/// Item 5: a receiver's answer is read only as far as the kept excerpt; an endless answer neither
/// fills the memory nor holds the mail worker until the request times out.
#[rocket::async_test]
async fn an_endless_webhook_answer_is_cut_off_after_a_few_kib() {
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n").await;
                // Then an answer that never ends.
                let chunk = vec![b'x'; 16 * 1024];
                for _ in 0..2_000 {
                    if socket.write_all(&chunk).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            });
        }
    });
    let app = TestApp::new().await;
    let owner = app.user("register_owner", Some("983544622")).await;
    let owner_token = app.token(&owner).await;
    let hook = json!({"url": format!("{base}/hook"), "event_kinds": ["application.submitted"]});
    let (status, endpoint) = app.post_json("/api/webhooks", Some(&owner_token), hook).await;
    assert_eq!(status, Status::Created, "{endpoint}");
    let applicant = app.user("applicant", None).await;
    crate::applications_api::submitted(&app, &applicant).await;
    let started = std::time::Instant::now();
    let round = app.send_mail(chrono::Utc::now()).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "not held: {:?}", started.elapsed());
    assert!(round.sent >= 1, "{round:?}");
    let id = endpoint["id"].as_i64().unwrap();
    let (_, deliveries) = app.get_json(&format!("/api/webhooks/{id}/deliveries"), Some(&owner_token)).await;
    let excerpt = deliveries[0]["response_excerpt"].as_str().unwrap_or_default();
    assert!(excerpt.starts_with("xxxx") && excerpt.len() <= 500, "{deliveries}");
}

/// Item 13: the confirmation mail cannot be resent without limit: at most three an hour (the
/// registration's included), then 429 with a time to wait; nothing more is queued.
#[rocket::async_test]
async fn the_confirmation_mail_is_resent_at_most_three_times_an_hour() {
    use crate::common::{count, csrf_in};
    use serde_json::json;
    let app = TestApp::new().await;
    let body = json!({"email": "gjentatt@example.no", "name": "Gjentatt", "password": "Sterkt-passord-1"});
    assert_eq!(app.post_json("/api/register", None, body).await.0, Status::Accepted);
    let user = crate::common::TestUser {
        id: 0,
        email: "gjentatt@example.no".into(),
        password: "Sterkt-passord-1".into(),
        role: "applicant".into(),
    };
    app.login(&user).await;
    let (_, html) = app.page("/applications").await;
    let csrf = csrf_in(&html);
    let mails =
        "SELECT count(*) AS n FROM outbox WHERE template = 'verify_email' AND recipient = 'gjentatt@example.no'";
    for _ in 0..2 {
        assert_eq!(app.form("/verify-email/resend", &[], Some(&csrf)).await.status(), Status::SeeOther);
    }
    assert_eq!(count(&app, mails).await, 3);
    let resp = app.form("/verify-email/resend", &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::TooManyRequests);
    let html = resp.into_string().await.unwrap_or_default();
    assert!(html.contains("For mange forsøk; prøv igjen om 60 minutter."), "in the user's language: {html}");
    assert_eq!(count(&app, mails).await, 3, "nothing more queued");
}

/// Item 12: text with characters XML 1.0 forbids still gives a well-formed EHF invoice, and a CSV
/// export without control characters.
#[rocket::async_test]
async fn control_characters_never_leave_in_xml_or_csv() {
    use crate::applications_api::{attach_required, complete_form};
    use serde_json::json;
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let mut form = complete_form(&app).await;
    form["title"] = json!("Hjertesvikt\u{1} etter\u{b} covid-19");
    form["invoice_recipient"]["name"] = json!("Universitetet\u{1} i\u{1b} Oslo");
    form["invoice_recipient"]["reference"] = json!("PRJ-42\u{fffe}");
    let (status, draft) = app.post_json("/api/applications", Some(&token), form).await;
    assert_eq!(status, Status::Created, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    attach_required(&app, &token, id).await;
    assert_eq!(app.post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({})).await.0, Status::Ok);
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/invoice"), Some(&officer_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let part = body["parts"][0]["id"].as_i64().unwrap();
    let resp = app
        .client
        .get(format!("/api/invoices/{part}/ehf"))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    let xml = resp.into_string().await.unwrap();
    let forbidden = |c: char| helsedataservice::domain::text::xml_allowed(c);
    assert!(xml.chars().all(forbidden), "{xml:?}");
    assert!(xml.contains("Universitetet i Oslo"), "the rest of the text is kept");

    app.login(&crate::common::TestUser {
        id: officer.id,
        email: officer.email.clone(),
        password: officer.password.clone(),
        role: "case_officer".into(),
    })
    .await;
    let resp = app.client.get("/inbox.csv").dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    let csv = resp.into_string().await.unwrap();
    assert!(csv.contains("Hjertesvikt etter covid-19") || csv.contains("Hjertesvikt etter"), "{csv:?}");
    assert!(!csv.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r')), "{csv:?}");
}

/// Item 4: webhook URLs that name a special-purpose address in any spelling are refused, and a
/// delivery never connects to one, whatever the name resolves to (checked at connect time).
#[rocket::async_test]
async fn webhooks_reach_only_public_addresses() {
    use crate::common::http_peer::{self, Response};
    use serde_json::json;
    use std::sync::{Arc, Mutex};
    let app = TestApp::new().await;
    let owner = app.user("register_owner", Some("983544622")).await;
    let owner_token = app.token(&owner).await;
    for url in [
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:169.254.169.254]/latest",
        "https://[64:ff9b::7f00:1]/x",
        "https://[fe80::1]/x",
        "https://[fec0::1]/x",
        "https://100.64.0.1/x",
        "https://198.18.0.1/x",
        "https://224.0.0.1/x",
        "https://0.0.0.0/x",
        "https://localhost./x",
        "https://api.localhost/x",
    ] {
        let (status, body) = app.post_json("/api/webhooks", Some(&owner_token), json!({"url": url})).await;
        assert_eq!(status, Status::UnprocessableEntity, "{url}: {body}");
    }

    // An endpoint stored before these checks (or on a name that now resolves inside): the
    // delivery does not connect.
    let hits = Arc::new(Mutex::new(0));
    let h = hits.clone();
    let base = http_peer::serve(Arc::new(move |_| {
        *h.lock().unwrap() += 1;
        Response::text(200, "ok")
    }))
    .await;
    let strict = TestApp::with_config(|c| c.webhook_allow_loopback = false).await;
    let owner = strict.user("register_owner", Some("983544622")).await;
    let org =
        crate::common::count(&strict, &format!("SELECT organisation_id AS n FROM users WHERE id = {}", owner.id)).await;
    for url in [format!("{base}/literal"), format!("{}/by-name", base.replace("127.0.0.1", "localhost"))] {
        strict
            .sql(&format!(
                "INSERT INTO webhook_endpoints (organisation_id, url, event_kinds, secret, created_at) \
                 VALUES ({org}, '{url}', '{{}}', 'whsec_test', now())"
            ))
            .await
            .unwrap();
    }
    let applicant = strict.user("applicant", None).await;
    crate::applications_api::submitted(&strict, &applicant).await;
    strict.send_mail(chrono::Utc::now()).await;
    assert_eq!(*hits.lock().unwrap(), 0, "no delivery reached the loopback receiver");
    let errors = "SELECT count(*) AS n FROM outbox WHERE channel = 'webhook' AND last_error LIKE '%public%'";
    assert_eq!(crate::common::count(&strict, errors).await, 2);
}

/// Item 10: common and guessable passwords are refused, beside the field, in both languages; so
/// is one built from the person's own name.
#[rocket::async_test]
async fn common_passwords_are_refused() {
    use serde_json::json;
    let app = TestApp::new().await;
    for password in ["Password12", "Passord123!", "Sommer2026!", "KariNordmann1"] {
        let body = json!({"email": "kari@example.no", "name": "Kari Nordmann", "password": password});
        let (status, body) = app.post_json("/api/register", None, body).await;
        assert_eq!(status, Status::UnprocessableEntity, "{password}: {body}");
        assert!(body["fields"]["password"][0].as_str().unwrap().contains("too common"), "{body}");
    }
    let body = json!({"email": "kari@example.no", "name": "Kari Nordmann", "password": "grøt-tak-ferje-71"});
    assert_eq!(app.post_json("/api/register", None, body).await.0, Status::Accepted);
}

/// Item 3: the link in the confirmation mail confirms the address only for the person signed in
/// to that account: opened signed out it asks for the log-in first, and signed in as someone
/// else it confirms nothing.
#[rocket::async_test]
async fn the_confirmation_link_confirms_only_for_its_own_account() {
    use serde_json::json;
    let app = TestApp::new().await;
    let body = json!({"email": "eier@example.no", "name": "Eier", "password": "Sterkt-passord-1"});
    assert_eq!(app.post_json("/api/register", None, body).await.0, Status::Accepted);
    let path: String = {
        let n = crate::common::count(
            &app,
            "SELECT id AS n FROM outbox WHERE template = 'verify_email' AND recipient = 'eier@example.no'",
        )
        .await;
        let mut c = app.conn().await;
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct P {
            #[diesel(sql_type = diesel::sql_types::Text)]
            path: String,
        }
        let p: P = diesel::sql_query(format!("SELECT context ->> 'path' AS path FROM outbox WHERE id = {n}"))
            .get_result(&mut c)
            .await
            .unwrap();
        p.path
    };
    let verified = "SELECT count(*) AS n FROM users WHERE email = 'eier@example.no' AND email_verified_at IS NOT NULL";
    // Signed out: to the log-in, which brings the person back; nothing confirmed yet.
    let resp = app.client.get(path.clone()).dispatch().await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert!(
        resp.headers().get_one("Location").unwrap().starts_with("/login?next="),
        "{:?}",
        resp.headers().get_one("Location")
    );
    drop(resp);
    assert_eq!(crate::common::count(&app, verified).await, 0);
    // Signed in as someone else: refused, nothing confirmed.
    let other = app.user("applicant", None).await;
    app.login(&other).await;
    let resp = app.client.get(path.clone()).dispatch().await;
    assert_eq!(resp.status(), Status::Forbidden);
    drop(resp);
    assert_eq!(crate::common::count(&app, verified).await, 0);
    // Signed in as the owner: confirmed.
    let owner = crate::common::TestUser {
        id: 0,
        email: "eier@example.no".into(),
        password: "Sterkt-passord-1".into(),
        role: "applicant".into(),
    };
    app.login(&owner).await;
    let resp = app.client.get(path).dispatch().await;
    assert_eq!(resp.status(), Status::SeeOther);
    drop(resp);
    assert_eq!(crate::common::count(&app, verified).await, 1);
}

/// Sends `head` and the first KiB of a body (no more) over a fresh connection to `base` and
/// returns the connection. (Rocket peeks at a body's first 14 bytes before routing, for its
/// `_method` field; a client that sends less waits there, holding nothing of the service's.)
async fn open_request(base: &str, head: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    if !head.starts_with("GET ") {
        s.write_all(&[b'%'; 1024]).await.unwrap();
    }
    s.flush().await.unwrap();
    s
}

/// The status line the server answers on `s`, waiting at most `secs` seconds.
async fn status_line(s: &mut tokio::net::TcpStream, secs: u64) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(secs), s.read(&mut buf)).await.ok()?.ok()?;
    String::from_utf8_lossy(&buf[..n]).lines().next().map(str::to_string)
}

/// A new applicant's token and draft application.
async fn a_draft(app: &TestApp) -> (String, i64) {
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let form = crate::applications_api::complete_form(app).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), form).await;
    (token, draft["id"].as_i64().unwrap())
}

fn attachment_put(id: i64, i: usize, token: &str, declared: usize) -> String {
    format!(
        "PUT /api/applications/{id}/attachments/protocol/p{i}.pdf HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n"
    )
}

/// Item 1: stalled uploads hold no database connection. Eight uploads from one account stall
/// with a pool of three connections: the service still answers, `/health` says the database is
/// fine, and each stalled upload is refused (408) once it has sent nothing for the idle limit.
#[rocket::async_test]
async fn stalled_uploads_hold_no_database_connection_and_are_cut_off() {
    let app = TestApp::with_config(|c| {
        c.pool_size = 3;
        c.uploads_per_account = 16;
        c.upload_idle_secs = 2;
    })
    .await;
    let (token, id) = a_draft(&app).await;
    let base = app.serve().await;
    let mut stalled = vec![];
    for i in 0..8 {
        stalled.push(open_request(&base, &attachment_put(id, i, &token, 100_000)).await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let mut health = open_request(&base, "GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").await;
    assert_eq!(status_line(&mut health, 5).await.as_deref(), Some("HTTP/1.1 200 OK"));
    let (status, case) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(status, Status::Ok, "the service answers while uploads stall: {case}");
    for s in &mut stalled {
        let line = status_line(s, 10).await;
        assert_eq!(line.as_deref(), Some("HTTP/1.1 408 Request Timeout"), "a silent body is cut off");
    }
    assert_eq!(crate::common::count(&app, "SELECT count(*) AS n FROM attachments").await, 0, "nothing half stored");
}

/// Item 1: one account streams at most its share of uploads at once; the next is refused at
/// once (429), before its body is read.
#[rocket::async_test]
async fn one_account_streams_a_capped_number_of_uploads() {
    let app = TestApp::with_config(|c| {
        c.uploads_per_account = 2;
        c.upload_idle_secs = 3;
    })
    .await;
    let (token, id) = a_draft(&app).await;
    let base = app.serve().await;
    let _a = open_request(&base, &attachment_put(id, 1, &token, 100_000)).await;
    let _b = open_request(&base, &attachment_put(id, 2, &token, 100_000)).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut third = open_request(&base, &attachment_put(id, 3, &token, 100_000)).await;
    assert_eq!(status_line(&mut third, 2).await.as_deref(), Some("HTTP/1.1 429 Too Many Requests"));
    // Another account is not held back by this one.
    let other = app.user("applicant", None).await;
    let other_token = app.token(&other).await;
    let mut fourth = open_request(&base, &attachment_put(id, 4, &other_token, 100_000)).await;
    assert_eq!(status_line(&mut fourth, 2).await.as_deref(), Some("HTTP/1.1 404 Not Found"), "not theirs");
}

/// Item 6: a body is refused before it is read: an anonymous 24 MiB multipart post and an
/// oversized declared upload are answered while all but their first KiB is still unsent.
#[rocket::async_test]
async fn bodies_are_refused_before_they_are_read() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let base = app.serve().await;
    let anonymous = format!(
        "POST /applications/1/attachments HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: {}\r\n\r\n",
        24 * 1024 * 1024
    );
    let mut s = open_request(&base, &anonymous).await;
    let line = status_line(&mut s, 3).await.expect("an answer before the body");
    assert!(line.starts_with("HTTP/1.1 303") || line.starts_with("HTTP/1.1 401"), "{line}");
    for path in ["/api/applications/1/attachments/protocol/p.pdf", "/api/transfers/1/files/big.csv"] {
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            200 * 1024 * 1024
        );
        let mut s = open_request(&base, &head).await;
        let line = status_line(&mut s, 3).await.expect("an answer before the body");
        assert_eq!(line, "HTTP/1.1 413 Payload Too Large", "{path}");
    }
}

/// Item 1: `/health` tells a busy pool (every connection in use, the database answering) from a
/// database that is down, so a load balancer does not drain a loaded instance.
#[rocket::async_test]
async fn health_tells_a_busy_pool_from_a_database_that_is_down() {
    let app = TestApp::with_config(|c| c.pool_size = 2).await;
    let (status, body) = app.get_json("/health", None).await;
    assert_eq!((status, body["pool"].as_str()), (Status::Ok, Some("ok")));
    let _held = (app.pool().get().await.unwrap(), app.pool().get().await.unwrap());
    let (status, body) = app.get_json("/health", None).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!((body["database"].as_str(), body["pool"].as_str()), (Some("ok"), Some("busy")), "{body}");
}

/// A request holds one connection at a time. The admin's pages and the forms that show
/// themselves again with their errors used to hold one while asking the pool for another (the
/// organisations of the user form): with the rest of the pool in use they waited for the pool's
/// time-out and failed, and under load every request could hold one and wait for a second.
#[rocket::async_test]
async fn a_page_and_its_errors_need_one_free_connection() {
    use crate::common::csrf_in;
    let app = TestApp::with_config(|c| c.pool_size = 2).await;
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let (_, html) = app.page("/admin/users").await;
    let csrf = csrf_in(&html);
    let _held = app.pool().get().await.unwrap();
    let (status, html) = app.page("/admin/users").await;
    assert_eq!(status, Status::Ok, "{html}");
    let (status, html) = app.page(&format!("/admin/users/{}", admin.id)).await;
    assert_eq!(status, Status::Ok, "{html}");
    let fields = [
        ("email", "eier@example.no"),
        ("name", "Eier"),
        ("password", "Sterkt-passord-1"),
        ("role", "register_owner"),
        ("organisation_id", ""),
        ("language", "nb"),
    ];
    let resp = app.form("/admin/users", &fields, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    assert!(resp.into_string().await.unwrap().contains("id=\"f-organisation_id-error\""));
    let resp =
        app.form("/admin/price-lists", &[("organisation_id", ""), ("valid_from", "not a date")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
}
