//! Norwegian law built in (issue 21): the appeal deadline as forvaltningsloven §§ 29–30 and
//! domstolloven §§ 148–149 count it, a date the letter, the status page, the API and the check all
//! share; late appeals registered under § 31; nynorsk (språklova) in pages, mail and the
//! person's own choice; the accessibility statement.

use crate::case_handling::{cmd, in_review, release, two_source_case};
use crate::common::{TestApp, csrf_in};
use chrono::{NaiveDate, Utc};
use helsedataservice::domain::deadlines;
use rocket::http::Status;
use serde_json::json;

/// A case rejected now: both releases refused, the decision made.
async fn rejected(app: &TestApp) -> (crate::case_handling::Cast, i64) {
    let (c, id) = two_source_case(app).await;
    cmd(app, &c.officer_token, id, "complete", json!({})).await;
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    let npr = release(&case, "NPR")["id"].as_i64().unwrap();
    let krg = release(&case, "KRG")["id"].as_i64().unwrap();
    let no = json!({"approve": false, "reasons": "Formålet dekkes ikke"});
    app.post_json(&format!("/api/releases/{npr}/decide"), Some(&c.officer_token), no.clone()).await;
    app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), no).await;
    let (status, body) = cmd(app, &c.officer_token, id, "decide", json!({"reasons": "Vurdert."})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "rejected");
    (c, id)
}

#[rocket::async_test]
async fn the_appeal_deadline_is_one_date_in_the_api_the_letter_and_the_status_page() {
    let app = TestApp::new().await;
    let (c, id) = rejected(&app).await;
    let expected = deadlines::appeal_deadline(deadlines::oslo_date(Utc::now()));
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    let sent = case["decision"]["appeal_deadline"].as_str().expect("a date");
    assert_eq!(NaiveDate::parse_from_str(sent, "%Y-%m-%d").ok(), Some(expected), "YYYY-MM-DD: {sent}");
    let shown = expected.format("%d.%m.%Y").to_string();
    app.login(&c.applicant).await;
    let (_, letter) = app.page(&format!("/applications/{id}/decision")).await;
    assert!(letter.contains(&shown), "the letter says {shown}");
    assert!(letter.contains("Helsedirektoratet"), "Helsedirektoratet speaks, not Direktoratet for e-helse");
    assert!(!letter.contains("e-helse"));
    let (_, page) = app.page(&format!("/applications/{id}")).await;
    assert!(page.contains(&shown), "the status page says {shown}");
    assert!(!page.contains("<dt>Frist</dt>"), "not the decision's own due date beside it, once decided");
}

#[rocket::async_test]
async fn an_appeal_on_the_last_day_is_in_time_and_a_late_one_needs_an_officer_and_a_reason() {
    let app = TestApp::new().await;
    let (c, id) = rejected(&app).await;
    // The last day is today (Oslo): in time until midnight.
    let today = deadlines::oslo_date(Utc::now());
    app.sql(&format!("UPDATE decisions SET appeal_deadline = '{today}' WHERE application_id = {id}")).await.unwrap();
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(case["decision"]["appeal_deadline"], today.to_string());
    // An appeal that came by post is registered with the day it was sent, never a day to come.
    let tomorrow = today.succ_opt().unwrap().to_string();
    let (status, body) =
        cmd(&app, &c.officer_token, id, "late_appeal", json!({"grounds": "x", "sent_on": tomorrow})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert!(body["fields"]["sent_on"].is_array(), "{body}");

    // Yesterday was the last day: the applicant is refused, with where to turn.
    let yesterday = today.pred_opt().unwrap();
    app.sql(&format!("UPDATE decisions SET appeal_deadline = '{yesterday}' WHERE application_id = {id}"))
        .await
        .unwrap();
    let (status, body) = cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "For sent."})).await;
    assert_eq!(status, Status::Conflict, "{body}");
    assert!(body["error"].as_str().unwrap().contains("§ 31"), "{body}");
    // Only an officer registers a late appeal, and only with the appeal and the reason.
    let (status, _) = cmd(&app, &c.applicant_token, id, "late_appeal", json!({"grounds": "x", "reasons": "y"})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, body) =
        cmd(&app, &c.officer_token, id, "late_appeal", json!({"grounds": "Klagen kom per post."})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert!(body["fields"]["reasons"].is_array(), "{body}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(case["state"], "rejected", "a refused command changes nothing");
    let (status, body) = cmd(
        &app,
        &c.officer_token,
        id,
        "late_appeal",
        json!({"grounds": "Klagen kom per post.", "reasons": "Søkeren var innlagt på sykehus i klagefristen."}),
    )
    .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "appealed");
    let payload = crate::common::count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM events WHERE subject_id = {id} AND kind = 'application.appealed' \
             AND payload->>'late' = 'true' AND payload->>'late_reason' LIKE 'Søkeren var innlagt%'"
        ),
    )
    .await;
    assert_eq!(payload, 1, "the late appeal and its reason are in the case's history");
}

#[rocket::async_test]
async fn nynorsk_is_a_language_of_its_own_in_pages_and_mail() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    // The page: switched like English, with lang="nn" and nynorsk words.
    let resp = app.client.get("/language/nn?next=/").dispatch().await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page("/").await;
    assert!(html.contains(r#"<html lang="nn">"#), "lang=nn");
    assert!(html.contains(r#"href="/language/nb"#) && html.contains(r#"href="/language/en"#), "both others offered");
    let (_, page) = app.page("/accessibility").await;
    assert!(page.contains("Tilgjengelegheitserklæring") || page.contains("tilgjengelegheit"), "nynorsk statement");

    // The person chooses nynorsk for mail on their own page; the choice is an event.
    let (c, id) = two_source_case(&app).await;
    app.send_mail(Utc::now()).await;
    app.login(&c.applicant).await;
    let (_, account) = app.page("/account").await;
    let csrf = csrf_in(&account);
    let resp = app.form("/account/language", &[("language", "xx")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let resp = app.form("/account/language", &[("language", "nn")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, account) = app.page("/account").await;
    assert_eq!(crate::common::landed(&account, "language"), "Språkvalet er lagra.", "in the page's language");
    let language = crate::common::count(
        &app,
        &format!("SELECT count(*) AS n FROM users WHERE id = {} AND language = 'nn'", c.applicant.id),
    )
    .await;
    assert_eq!(language, 1);
    assert!(app.event_kinds("user", c.applicant.id).await.contains(&"user.language_chosen".to_string()));

    let before = sink.messages().len();
    let (status, _) = cmd(&app, &c.officer_token, id, "return", json!({"message": "Legg ved REK-vedtaket."})).await;
    assert_eq!(status, Status::Ok);
    app.send_mail(Utc::now()).await;
    let returned = sink.messages().into_iter().nth(before).expect("the return notice");
    assert_eq!(returned.to, vec![c.applicant.email.clone()]);
    let text = returned.part("text/plain").unwrap();
    assert!(text.contains("Legg ved REK-vedtaket."), "{text}");
    assert!(
        text.contains("Du får denne e-posten frå Helsedataservice") && text.contains("Opne saka"),
        "nynorsk: {text}"
    );
    assert!(returned.part("text/html").unwrap().contains(r#"lang="nn""#), "the HTML part is marked nynorsk");
}

#[rocket::async_test]
async fn every_page_links_to_the_accessibility_statement() {
    let app = TestApp::new().await;
    for path in ["/", "/data-sources", "/login"] {
        let (_, html) = app.page(path).await;
        assert!(html.contains(r#"href="/accessibility""#), "{path} links to the statement");
    }
    let (status, html) = app.page("/accessibility").await;
    assert_eq!(status, Status::Ok);
    for text in ["WCAG 2.1", "uutilsynet.no", "mailto:noreply@helsedata.localhost"] {
        assert!(html.contains(text), "the statement has {text}");
    }
}

/// The interim reply (§ 11 a): a month after submission, saying why and by when, in the
/// applicant's language; none while the case waits on the applicant; an appeal waiting a month
/// gets its own.
#[rocket::async_test]
async fn the_interim_reply_says_why_and_when_and_waits_for_nobody_but_the_applicant() {
    use helsedataservice::services::cases::send_interim_replies;
    let (app, sink) = TestApp::with_smtp_sink().await;
    let (c, id) = two_source_case(&app).await;
    app.sql(&format!("UPDATE users SET language = 'nn' WHERE id = {}", c.applicant.id)).await.unwrap();
    app.send_mail(Utc::now()).await;
    let mut conn = app.conn().await;
    let later = Utc::now() + chrono::Duration::days(31);

    // Returned: the case waits on the applicant, so no interim reply however long it waits.
    cmd(&app, &c.officer_token, id, "return", json!({"message": "Legg ved REK-vedtaket."})).await;
    assert_eq!(send_interim_replies(&mut conn, later).await.unwrap(), 0, "not while returned");
    cmd(&app, &c.applicant_token, id, "submit", json!({})).await;
    cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    app.send_mail(Utc::now()).await;
    let before = sink.messages().len();
    assert_eq!(send_interim_replies(&mut conn, later).await.unwrap(), 1);
    assert_eq!(send_interim_replies(&mut conn, later).await.unwrap(), 0, "once");
    app.send_mail(later).await;
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    let due = NaiveDate::parse_from_str(case["due_date"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    let reply = sink.messages().into_iter().skip(before).find(|m| m.to == vec![c.applicant.email.clone()]).unwrap();
    let text = reply.part("text/plain").unwrap();
    assert!(text.contains("Førebels svar"), "nynorsk: {text}");
    assert!(text.contains("Registerforvaltarane må vurdere"), "why (FHI decides KRG): {text}");
    assert!(text.contains(&due.format("%d.%m.%Y").to_string()), "by when ({due}): {text}");

    // Decided, appealed, and the appeal waits a month: its own interim reply.
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    for (code, token) in [("NPR", &c.officer_token), ("KRG", &c.fhi_token)] {
        let rid = release(&case, code)["id"].as_i64().unwrap();
        app.post_json(&format!("/api/releases/{rid}/decide"), Some(token), json!({"approve": false, "reasons": "Nei"}))
            .await;
    }
    cmd(&app, &c.officer_token, id, "decide", json!({})).await;
    let (status, _) = cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "Feil."})).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(send_interim_replies(&mut conn, Utc::now() + chrono::Duration::days(20)).await.unwrap(), 0);
    assert_eq!(send_interim_replies(&mut conn, later).await.unwrap(), 1, "the appeal's own");
    assert_eq!(send_interim_replies(&mut conn, later).await.unwrap(), 0);
    let appeal = crate::common::count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM events WHERE subject_id = {id} AND kind = 'application.interim_reply' \
             AND payload->>'appeal' = 'true' AND payload->>'reason' = 'appeal'"
        ),
    )
    .await;
    assert_eq!(appeal, 1);
    // The same reply in bokmål and English.
    for (lang, words) in [("nb", "Klagen din vurderes på nytt"), ("en", "Your appeal is being reconsidered")] {
        let params = json!({"reference": "HDS-1", "reason": "appeal", "expected_by": "01.02.2027"});
        let text = helsedataservice::mail::notice_text(
            helsedataservice::domain::language::Language::from_tag(lang).unwrap(),
            "application.interim_reply",
            &params,
        );
        assert!(text.contains(words) && text.contains("01.02.2027"), "{lang}: {text}");
    }
}

/// The state's KPI as meant: case-handling time from the submission that was complete (here the
/// second, after a return) to delivery; per source, to that source's own release delivery.
#[rocket::async_test]
async fn the_kpi_counts_from_the_complete_submission_to_each_delivery() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    cmd(&app, &c.officer_token, id, "return", json!({"message": "Legg ved REK-vedtaket."})).await;
    // The first submission was weeks earlier; the complete one is the second.
    app.sql(&format!("UPDATE applications SET first_submitted_at = '2026-01-01T09:00:00Z' WHERE id = {id}"))
        .await
        .unwrap();
    cmd(&app, &c.applicant_token, id, "submit", json!({})).await;
    cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    let kept = crate::common::count(
        &app,
        &format!("SELECT count(*) AS n FROM applications WHERE id = {id} AND complete_submitted_at = submitted_at AND complete_submitted_at > first_submitted_at"),
    )
    .await;
    assert_eq!(kept, 1, "the complete submission is kept when the case is found complete");
    // Delivered: NPR 10 days and KRG 30 days after the complete submission (11 January).
    app.sql(&format!(
        "UPDATE applications SET state = 'delivered', complete_submitted_at = '2026-01-11T09:00:00Z', \
         delivered_at = '2026-02-10T09:00:00Z' WHERE id = {id}"
    ))
    .await
    .unwrap();
    for (code, when) in [("NPR", "2026-01-21T09:00:00Z"), ("KRG", "2026-02-10T09:00:00Z")] {
        app.sql(&format!(
            "UPDATE releases r SET state = 'delivered', delivered_at = '{when}' FROM data_sources s \
             WHERE s.id = r.data_source_id AND s.code = '{code}' AND r.application_id = {id}"
        ))
        .await
        .unwrap();
    }
    let mut conn = app.conn().await;
    let now: chrono::DateTime<Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
    let f = helsedataservice::services::statistics::figures(&mut conn, now).await.unwrap();
    let k = &f["case_handling_days"];
    assert_eq!((k["median"].as_f64(), k["count"].as_i64()), (Some(30.0), Some(1)), "{k}");
    let source = |code: &str| k["per_source"].as_array().unwrap().iter().find(|s| s["code"] == code).unwrap().clone();
    assert_eq!(source("NPR")["median"].as_f64(), Some(10.0), "NPR's own delivery");
    assert_eq!(source("KRG")["median"].as_f64(), Some(30.0));
}

/// Issue 21 item 3: an appeal goes to the body that decided; an upheld refusal goes to
/// Helseklage, whose reversal is recorded and opens the release for delivery. A dispensation
/// granted with a release is a decision of its own in the letter.
#[rocket::async_test]
async fn appeals_go_to_the_deciding_body_then_helseklage_whose_reversal_opens_delivery() {
    let app = TestApp::new().await;
    let (c, id, npr, krg) = in_review(&app).await;
    // NPR (decided by Helsedataservice) granted with dispensation; KRG (by FHI) refused.
    let (status, body) = app
        .post_json(
            &format!("/api/releases/{npr}/decide"),
            Some(&c.officer_token),
            json!({"approve": false, "reasons": "Nei", "dispensation": true}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "no dispensation with a refusal: {body}");
    let (status, body) = app
        .post_json(
            &format!("/api/releases/{npr}/decide"),
            Some(&c.officer_token),
            json!({"approve": true, "dispensation": true}),
        )
        .await;
    assert_eq!((status, body["dispensation"].as_bool()), (Status::Ok, Some(true)), "{body}");
    app.post_json(
        &format!("/api/releases/{krg}/decide"),
        Some(&c.fhi_token),
        json!({"approve": false, "reasons": "Ikke nødvendig."}),
    )
    .await;
    cmd(&app, &c.officer_token, id, "decide", json!({"reasons": "Vurdert."})).await;
    app.login(&c.applicant).await;
    let (_, letter) = app.page(&format!("/applications/{id}/decision")).await;
    assert!(letter.contains("Vedtak om dispensasjon fra taushetsplikt"), "the dispensation is a decision of its own");
    assert!(letter.contains("helsepersonelloven § 29"));
    // Forvaltningsloven §§ 27 and 32: who decided each source, by name (the appeal goes to that
    // body), how to appeal, and the right to see the case documents.
    let krg_row = letter.split("KRG – ").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(krg_row.contains("<td>Folkehelseinstituttet</td>"), "{krg_row}");
    assert!(!letter.contains("<td>Registerforvalter</td>"));
    assert!(letter.contains("Klagen skal være skriftlig") && letter.contains("forvaltningsloven §§ 18 og 19"));

    let (status, _) = cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "KRG trengs."})).await;
    assert_eq!(status, Status::Ok);
    // Only the body that refused KRG reconsiders it; NPR was not refused and is not reconsidered.
    let uphold = json!({"reverse": false, "reasons": "Står ved avslaget."});
    assert_eq!(
        app.post_json(&format!("/api/releases/{krg}/reconsider"), Some(&c.officer_token), uphold.clone()).await.0,
        Status::Forbidden
    );
    assert_eq!(
        app.post_json(&format!("/api/releases/{npr}/reconsider"), Some(&c.officer_token), uphold.clone()).await.0,
        Status::Conflict
    );
    let (status, body) =
        app.post_json(&format!("/api/releases/{krg}/reconsider"), Some(&c.fhi_token), json!({"reverse": false})).await;
    assert_eq!(status, Status::UnprocessableEntity, "reasons are required: {body}");
    let (status, _) = app.post_json(&format!("/api/releases/{krg}/reconsider"), Some(&c.fhi_token), uphold).await;
    assert_eq!(status, Status::Ok);
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(case["state"], "partially_approved");
    assert!(case["sent_to_helseklage_at"].is_string());
    let package = crate::common::count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM events WHERE subject_id = {id} AND kind = 'appeal.upheld' \
             AND payload->>'appeal_grounds' = 'KRG trengs.' AND payload->>'case_file' LIKE '%/archive'"
        ),
    )
    .await;
    assert_eq!(package, 1, "Helseklage gets the appeal, the decision and the case file");
    assert_eq!(
        cmd(&app, &c.officer_token, id, "close", json!({})).await.0,
        Status::Conflict,
        "not while at Helseklage"
    );

    // Helseklage's outcome: checked, then recorded and applied.
    let path = format!("/api/applications/{id}/helseklage");
    let (status, body) = app.post_json(&path, Some(&c.fhi_token), json!({"outcome": "reversed"})).await;
    assert_eq!(status, Status::Forbidden, "{body}");
    let (status, body) = app
        .post_json(
            &path,
            Some(&c.officer_token),
            json!({"outcome": "partly_reversed", "decided_on": "2026-11-30", "reference": "HK-2026/77"}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "name the reversed releases: {body}");
    let (status, body) =
        app.post_json(&path, Some(&c.officer_token), json!({"outcome": "partly_reversed", "decided_on": "2026-11-30", "reference": "HK-2026/77", "release_ids": [npr]})).await;
    assert_eq!(status, Status::UnprocessableEntity, "NPR was not appealed: {body}");
    let (status, body) = app
        .post_json(
            &path,
            Some(&c.officer_token),
            json!({"outcome": "reversed", "decided_on": "2026-11-30", "reference": "HK-2026/77"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "approved", "the reversal grants KRG: {body}");
    assert_eq!(body["helseklage"]["outcome"], "reversed");
    assert_eq!(body["helseklage"]["reference"], "HK-2026/77");
    assert_eq!(release(&body, "KRG")["state"], "approved");
    let (status, _) = app
        .post_json(
            &path,
            Some(&c.officer_token),
            json!({"outcome": "upheld", "decided_on": "2026-11-30", "reference": "x"}),
        )
        .await;
    assert_eq!(status, Status::Conflict, "once");
    // FHI may now deliver KRG.
    let (status, body) = app
        .post_json(&format!("/api/releases/{krg}/delivered"), Some(&c.fhi_token), json!({"environment": "TSD p1234"}))
        .await;
    assert_eq!(status, Status::Ok, "{body}");
    assert!(app.event_kinds("application", id).await.contains(&"appeal.helseklage_decided".to_string()));
}

/// Forvaltningsloven § 30: an appeal sent by post or e-mail by the last day is in time however
/// late it arrives. An officer registers it with the day it was sent, without the reason a late
/// one needs (§ 31); before, in time it could not be registered at all, and once it arrived after
/// the deadline only as late.
#[rocket::async_test]
async fn an_appeal_posted_on_the_last_day_is_registered_as_in_time() {
    let app = TestApp::new().await;
    let c = crate::transfers::decided_case(&app, false).await;
    let id = c.id;
    let last_day = deadlines::oslo_date(Utc::now()).pred_opt().unwrap();
    app.sql(&format!("UPDATE decisions SET appeal_deadline = '{last_day}' WHERE application_id = {id}")).await.unwrap();
    // Decided three weeks before the last day, as the deadline says.
    app.sql(&format!("UPDATE applications SET decided_at = now() - interval '22 days' WHERE id = {id}")).await.unwrap();
    let officer = app.user("case_officer", None).await;
    app.login(&officer).await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains(">Registrer klage mottatt per post eller e-post</button>"), "named, not its key: {html}");
    assert!(html.contains("name=\"sent_on\"") && !html.contains(">command-late_appeal<"));
    let typo = json!({"grounds": "Klagen ble postlagt siste dag.", "sent_on": "2016-03-23"});
    let (status, body) = cmd(&app, &c.officer_token, id, "late_appeal", typo).await;
    assert_eq!(status, Status::UnprocessableEntity, "sent before the decision it appeals: {body}");
    let body = json!({"grounds": "Klagen ble postlagt siste dag.", "sent_on": last_day.to_string()});
    let (status, case) = cmd(&app, &c.officer_token, id, "late_appeal", body).await;
    assert_eq!(status, Status::Ok, "{case}");
    assert_eq!(case["state"], "appealed");
    let in_time = format!(
        "SELECT count(*) AS n FROM events WHERE subject_id = {id} AND kind = 'application.appealed' \
         AND payload->>'late' = 'false' AND payload->>'sent_on' = '{last_day}' AND NOT payload ? 'late_reason'"
    );
    assert_eq!(crate::common::count(&app, &in_time).await, 1, "in time, sent on the last day");
}

/// Forvaltningsloven § 30 also when the officer closed the case after the deadline, before the
/// letter posted on the last day arrived: the closed case takes the appeal and is appealed again,
/// its refusals back with their deciders. Before, a closed case took no appeal at all.
#[rocket::async_test]
async fn a_closed_refusal_still_takes_an_appeal_posted_in_time() {
    let app = TestApp::new().await;
    let (c, id) = rejected(&app).await;
    let last_day = deadlines::oslo_date(Utc::now()).pred_opt().unwrap();
    app.sql(&format!("UPDATE decisions SET appeal_deadline = '{last_day}' WHERE application_id = {id}")).await.unwrap();
    app.sql(&format!("UPDATE applications SET decided_at = now() - interval '22 days' WHERE id = {id}")).await.unwrap();
    let (status, body) = cmd(&app, &c.officer_token, id, "close", json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "closed");
    // Closed is final for the applicant's own appeal, even where the date would still allow it.
    let tomorrow = deadlines::oslo_date(Utc::now()).succ_opt().unwrap();
    app.sql(&format!("UPDATE decisions SET appeal_deadline = '{tomorrow}' WHERE application_id = {id}")).await.unwrap();
    let (status, body) = cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "For sent."})).await;
    assert_eq!(status, Status::Conflict, "{body}");
    app.sql(&format!("UPDATE decisions SET appeal_deadline = '{last_day}' WHERE application_id = {id}")).await.unwrap();
    // A late one is refused once a year has passed since the decision (§ 31 third paragraph).
    app.sql(&format!("UPDATE applications SET decided_at = now() - interval '400 days' WHERE id = {id}"))
        .await
        .unwrap();
    let late = json!({"grounds": "Klage.", "sent_on": deadlines::oslo_date(Utc::now()).to_string(), "reasons": "Syk."});
    let (status, body) = cmd(&app, &c.officer_token, id, "late_appeal", late).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert!(body["fields"]["sent_on"][0].as_str().unwrap().contains("31"), "{body}");
    app.sql(&format!("UPDATE applications SET decided_at = now() - interval '22 days' WHERE id = {id}")).await.unwrap();
    app.login(&c.officer).await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("name=\"sent_on\""), "the officer is offered to register one");
    let body = json!({"grounds": "Klagen ble postlagt siste dag.", "sent_on": last_day.to_string()});
    let (status, case) = cmd(&app, &c.officer_token, id, "late_appeal", body).await;
    assert_eq!(status, Status::Ok, "{case}");
    assert_eq!(case["state"], "appealed");
    for r in case["releases"].as_array().unwrap() {
        assert_eq!(r["reconsideration"], "pending", "back with its decider: {r}");
    }
    let in_time = format!(
        "SELECT count(*) AS n FROM events WHERE subject_id = {id} AND kind = 'application.appealed' \
         AND payload->>'late' = 'false' AND payload->>'sent_on' = '{last_day}'"
    );
    assert_eq!(crate::common::count(&app, &in_time).await, 1, "in time, sent on the last day");
    // The reopened case is due again from the day the appeal was registered, not overdue at once.
    let due = case["due_date"].as_str().unwrap().parse::<chrono::NaiveDate>().unwrap();
    assert!(due > deadlines::oslo_date(Utc::now()), "{case}");
    let link = format!("href=\"/applications/{id}\"");
    let (status, inbox) = app.page("/inbox").await;
    assert_eq!(status, Status::Ok);
    assert!(inbox.contains(&link), "waiting for a decision again");
    let (status, inbox) = app.page("/inbox?overdue=true").await;
    assert_eq!(status, Status::Ok);
    assert!(!inbox.contains(&link), "not overdue");
}

/// Forvaltningsloven § 28: delivering the granted part of a partial approval does not end the
/// right to appeal the refused part. Before, the case became delivered and could be neither
/// appealed nor held open: closed at once, the refusal was final within days. Now the applicant
/// appeals from the delivered case, the refusal's own decider reconsiders it, the case stands
/// delivered while Helseklage has it, and a reversal opens the refused source for delivery.
#[rocket::async_test]
async fn a_partial_approval_is_appealed_after_its_granted_part_was_delivered() {
    let app = TestApp::new().await;
    let (c, id, npr, krg) = in_review(&app).await;
    app.post_json(&format!("/api/releases/{npr}/decide"), Some(&c.officer_token), json!({"approve": true})).await;
    let refusal = json!({"approve": false, "reasons": "Ikke nødvendig."});
    app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), refusal).await;
    let (status, body) = cmd(&app, &c.officer_token, id, "decide", json!({"reasons": "Delvis innvilget."})).await;
    assert_eq!((status, body["state"].as_str()), (Status::Ok, Some("partially_approved")), "{body}");
    let delivered = json!({"environment": "TSD p1234"});
    let (status, body) = app.post_json(&format!("/api/releases/{npr}/delivered"), Some(&c.hdir_token), delivered).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(case["state"], "delivered");

    // Within the deadline the refusal is not final: no closing, and the applicant appeals.
    let (status, body) = cmd(&app, &c.officer_token, id, "close", json!({})).await;
    assert_eq!(status, Status::Conflict, "{body}");
    let (status, body) = cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "KRG trengs likevel."})).await;
    assert_eq!((status, body["state"].as_str()), (Status::Ok, Some("appealed")), "{body}");

    // FHI upholds its refusal: to Helseklage, the case standing delivered meanwhile.
    let uphold = json!({"reverse": false, "reasons": "Fortsatt ikke nødvendig."});
    let (status, body) = app.post_json(&format!("/api/releases/{krg}/reconsider"), Some(&c.fhi_token), uphold).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(case["state"], "delivered", "{case}");
    assert_eq!(
        cmd(&app, &c.officer_token, id, "close", json!({})).await.0,
        Status::Conflict,
        "not while at Helseklage"
    );

    // Helseklage reverses: KRG is granted and FHI delivers it.
    let answer = json!({"outcome": "reversed", "decided_on": "2026-11-30", "reference": "HK-2026/91"});
    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/helseklage"), Some(&c.officer_token), answer).await;
    assert_eq!((status, body["state"].as_str()), (Status::Ok, Some("approved")), "{body}");
    let delivered = json!({"environment": "TSD p1234"});
    let (status, body) = app.post_json(&format!("/api/releases/{krg}/delivered"), Some(&c.fhi_token), delivered).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(case["state"], "delivered");
    assert_eq!(cmd(&app, &c.officer_token, id, "close", json!({})).await.0, Status::Ok, "Helseklage has answered");
}
