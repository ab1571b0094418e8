//! The case lifecycle through the API: submitted → returned → resubmitted → complete →
//! releases decided by the right deciders (and refused for the wrong ones) → partially
//! approved → appeal → upheld / reconsidered; delivery; interim replies; concurrency.

use crate::applications_api::{attach_required, complete_form};
use crate::common::{TestApp, TestUser};
use rocket::http::Status;
use serde_json::{Value, json};

pub(crate) struct Cast {
    pub applicant: TestUser,
    pub applicant_token: String,
    pub officer_token: String,
    pub hdir_token: String,
    pub fhi_token: String,
    pub officer: TestUser,
    pub hdir: TestUser,
    pub fhi: TestUser,
}

/// Applies for NPR (Helsedirektoratet, `hds` authority) and KRG (FHI, `owner` authority).
pub(crate) async fn two_source_case(app: &TestApp) -> (Cast, i64) {
    let applicant = app.user("applicant", None).await;
    let applicant_token = app.token(&applicant).await;
    let officer = app.user("case_officer", None).await;
    let hdir = app.user("register_owner", Some("983544622")).await;
    let fhi = app.user("register_owner", Some("983744516")).await;
    let mut form = complete_form(app).await;
    let (_, krg) = app.get_json("/api/data-sources/KRG", None).await;
    form["data_sources"].as_array_mut().unwrap().push(json!({"data_source_id": krg["id"], "variables": ["icd10"], "period_from": "2010-01-01", "period_to": "2024-12-31", "selection": "Alle"}));
    form["linkage"] = json!(true);
    form["linkage_key"] = json!("fødselsnummer");
    let (status, draft) = app.post_json("/api/applications", Some(&applicant_token), form).await;
    assert_eq!(status, Status::Created, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    attach_required(app, &applicant_token, id).await;
    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/submit"), Some(&applicant_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["estimate"]["amount_ore"], 300_000, "several sources");
    let cast = Cast {
        officer_token: app.token(&officer).await,
        hdir_token: app.token(&hdir).await,
        fhi_token: app.token(&fhi).await,
        applicant,
        applicant_token,
        officer,
        hdir,
        fhi,
    };
    (cast, id)
}

/// The two-source case completed by an officer: NPR's release (decided by Helsedataservice) and
/// KRG's (decided by FHI) wait for their deciders. The case, its id and the two releases' ids.
pub(crate) async fn in_review(app: &TestApp) -> (Cast, i64, i64, i64) {
    let (c, id) = two_source_case(app).await;
    cmd(app, &c.officer_token, id, "complete", json!({})).await;
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    let npr = release(&case, "NPR")["id"].as_i64().unwrap();
    let krg = release(&case, "KRG")["id"].as_i64().unwrap();
    (c, id, npr, krg)
}

pub(crate) async fn cmd(app: &TestApp, token: &str, id: i64, command: &str, body: Value) -> (Status, Value) {
    app.post_json(&format!("/api/applications/{id}/{command}"), Some(token), body).await
}

pub(crate) fn release<'a>(case: &'a Value, code: &str) -> &'a Value {
    case["releases"].as_array().unwrap().iter().find(|r| r["code"] == code).unwrap()
}

#[rocket::async_test]
async fn the_full_path_with_return_routing_partial_approval_and_appeal() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;

    // Assign leaves the state; return needs a message and reaches the applicant.
    let (status, body) = cmd(&app, &c.officer_token, id, "assign", json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "submitted");
    assert!(body["assignee_id"].is_i64());
    let (status, body) = cmd(&app, &c.officer_token, id, "return", json!({})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    let (status, body) =
        cmd(&app, &c.officer_token, id, "return", json!({"message": "Legg ved oppdatert protokoll."})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "returned");
    let (_, seen) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert!(seen["messages"].to_string().contains("oppdatert protokoll"));

    // The applicant edits and submits again; the reference stays.
    let reference = seen["reference"].clone();
    let mut form = seen.clone();
    form["summary"] = json!("Oppdatert sammendrag.");
    let (status, saved) = app.put_json(&format!("/api/applications/{id}"), Some(&c.applicant_token), form).await;
    assert_eq!(status, Status::Ok, "{saved}");
    let (status, body) = cmd(&app, &c.applicant_token, id, "submit", json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["reference"], reference);

    // Deciding before completion, or completing as the applicant: refused.
    let (status, _) = cmd(&app, &c.officer_token, id, "decide", json!({})).await;
    assert_eq!(status, Status::Conflict);
    let (status, _) = cmd(&app, &c.applicant_token, id, "complete", json!({})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, body) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "in_review");
    assert!(body["completed_at"].is_string());
    assert_eq!(release(&body, "NPR")["decider"], "hds");
    assert_eq!(release(&body, "KRG")["decider"], "owner");
    let npr = release(&body, "NPR")["id"].as_i64().unwrap();
    let krg = release(&body, "KRG")["id"].as_i64().unwrap();

    // Helsedirektoratet owns NPR but Helsedataservice decides it; FHI decides KRG; nobody else.
    let (status, body) =
        app.post_json(&format!("/api/releases/{npr}/decide"), Some(&c.hdir_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Forbidden, "{body}");
    assert!(body["error"].as_str().unwrap().contains("Helsedataservice holds"));
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.hdir_token), json!({"approve": true})).await;
    assert_eq!(status, Status::NotFound, "another organisation's release is not even visible");
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.officer_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.applicant_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, body) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": false})).await;
    assert_eq!(status, Status::UnprocessableEntity, "a rejection needs reasons: {body}");
    let (status, _) = app
        .post_json(
            &format!("/api/releases/{krg}/decide"),
            Some(&c.fhi_token),
            json!({"approve": false, "reasons": "Formålet dekkes ikke av KRG-forskriften."}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Conflict, "already decided");

    // Not every release decided: no decision yet.
    let (status, _) = cmd(&app, &c.officer_token, id, "decide", json!({})).await;
    assert_eq!(status, Status::Conflict);
    let (status, _) = app
        .post_json(
            &format!("/api/releases/{npr}/decide"),
            Some(&c.officer_token),
            json!({"approve": true, "conditions": "Data slettes innen slettedato."}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    let (status, body) =
        cmd(&app, &c.officer_token, id, "decide", json!({"reasons": "Vurdert etter helseregisterloven."})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "partially_approved");
    assert_eq!(body["decision"]["outcome"], "partially_approved");

    // The letter is in the applicant's language, with conditions, reasons and the appeal deadline.
    app.login(&c.applicant).await;
    let (status, html) = app.page(&format!("/applications/{id}/decision")).await;
    assert_eq!(status, Status::Ok);
    for text in [
        "Vedtak om tilgang til helsedata",
        "delvis innvilget",
        "Data slettes innen slettedato.",
        "Formålet dekkes ikke",
        "Helseklage",
        "9(2)(j)",
    ] {
        assert!(html.contains(text), "letter lacks {text}");
    }

    // Appeal: only the applicant, with grounds; uphold returns to the decision and records Helseklage.
    let (status, _) = cmd(&app, &c.officer_token, id, "appeal", json!({"grounds": "x"})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) = cmd(&app, &c.applicant_token, id, "appeal", json!({})).await;
    assert_eq!(status, Status::UnprocessableEntity);
    // Submitted long ago, 30 working days allowed: the appeal gets 30 working days of its own,
    // not the old due date that would make it overdue from its first day.
    use helsedataservice::domain::deadlines::{add_working_days, oslo_date};
    let submitted_on = chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    app.sql(&format!(
        "UPDATE applications SET submitted_at = timestamptz '2026-01-05 10:00+01', due_date = date '{}' WHERE id = {id}",
        add_working_days(submitted_on, 30)
    ))
    .await
    .unwrap();
    let (status, body) =
        cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "KRG-data er nødvendige for koblingen."})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "appealed");
    let due = add_working_days(oslo_date(chrono::Utc::now()), 30);
    assert_eq!(body["due_date"], json!(due), "{body}");
    // KRG was refused by its owner (FHI), who reconsiders it: upheld, the case goes to Helseklage.
    let upheld = json!({"reverse": false, "reasons": "Formålet dekkes fortsatt ikke."});
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/reconsider"), Some(&c.officer_token), upheld.clone()).await;
    assert_eq!(status, Status::Forbidden, "the officer does not reconsider the owner's decision");
    let (status, body) = app.post_json(&format!("/api/releases/{krg}/reconsider"), Some(&c.fhi_token), upheld).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["reconsideration"], "upheld");
    let (_, body) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(body["state"], "partially_approved");
    assert!(body["sent_to_helseklage_at"].is_string());
    let (status, _) = cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "En gang til."})).await;
    assert_eq!(status, Status::Conflict, "an upheld appeal goes to Helseklage, not round again");
    let kinds: Vec<String> = app.event_kinds("application", id).await;
    for k in [
        "application.returned",
        "application.completed",
        "release.decided",
        "application.decided",
        "application.appealed",
        "appeal.upheld",
    ] {
        assert!(kinds.contains(&k.to_string()), "{k} in {kinds:?}");
    }

    // Delivery of the approved release as access in an analysis environment stops the clock.
    let (status, _) = app
        .post_json(&format!("/api/releases/{krg}/delivered"), Some(&c.fhi_token), json!({"environment": "TSD"}))
        .await;
    assert_eq!(status, Status::Conflict, "a rejected release is not delivered");
    let (status, _) = app
        .post_json(&format!("/api/releases/{npr}/delivered"), Some(&c.fhi_token), json!({"environment": "TSD"}))
        .await;
    assert_eq!(status, Status::NotFound, "FHI does not own NPR");
    let (status, r) = app
        .post_json(&format!("/api/releases/{npr}/delivered"), Some(&c.hdir_token), json!({"environment": "TSD p1234"}))
        .await;
    assert_eq!(status, Status::Ok, "{r}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(case["state"], "delivered");
    assert!(case["delivered_at"].is_string());
    // KRG's refusal is not final while Helseklage has it: the case closes once it has answered.
    let (status, body) = cmd(&app, &c.officer_token, id, "close", json!({})).await;
    assert_eq!(status, Status::Conflict, "{body}");
    let answer = json!({"outcome": "upheld", "decided_on": "2026-11-30", "reference": "HK-2026/12"});
    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/helseklage"), Some(&c.officer_token), answer).await;
    assert_eq!((status, body["state"].as_str()), (Status::Ok, Some("delivered")), "{body}");
    let (status, body) = cmd(&app, &c.officer_token, id, "close", json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "closed");
}

#[rocket::async_test]
async fn reconsidered_appeals_are_decided_again() {
    let app = TestApp::new().await;
    let (c, id, npr, krg) = in_review(&app).await;
    app.post_json(
        &format!("/api/releases/{npr}/decide"),
        Some(&c.officer_token),
        json!({"approve": false, "reasons": "Nei"}),
    )
    .await;
    app.post_json(
        &format!("/api/releases/{krg}/decide"),
        Some(&c.fhi_token),
        json!({"approve": false, "reasons": "Nei"}),
    )
    .await;
    let (_, body) = cmd(&app, &c.officer_token, id, "decide", json!({})).await;
    assert_eq!(body["state"], "rejected");
    cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "Feil lovforståelse."})).await;
    // Each refusal is reconsidered by the body that made it: NPR by the officers, KRG by FHI.
    let reverse = json!({"reverse": true, "reasons": "Klagen tas til følge."});
    let (status, body) =
        app.post_json(&format!("/api/releases/{npr}/reconsider"), Some(&c.officer_token), reverse.clone()).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, body) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(body["state"], "appealed", "KRG still waits for FHI");
    let (status, body) = app.post_json(&format!("/api/releases/{krg}/reconsider"), Some(&c.fhi_token), reverse).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, body) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(body["state"], "in_review", "all reversed: decided anew");
    assert!(body["releases"].as_array().unwrap().iter().all(|r| r["state"] == "approved"));
    let (_, body) = cmd(&app, &c.officer_token, id, "decide", json!({})).await;
    assert_eq!(body["state"], "approved");
}

#[rocket::async_test]
async fn deciders_who_are_project_members_must_step_aside() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let officer = app.user("case_officer", None).await;
    let mut form = complete_form(&app).await;
    form["members"] = json!([officer.email]);
    let (_, draft) = app.post_json("/api/applications", Some(&token), form).await;
    let id = draft["id"].as_i64().unwrap();
    attach_required(&app, &token, id).await;
    app.post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({})).await;
    let other_officer = app.user("case_officer", None).await;
    let other_token = app.token(&other_officer).await;
    let (_, case) = cmd(&app, &other_token, id, "complete", json!({})).await;
    let npr = release(&case, "NPR")["id"].as_i64().unwrap();
    let officer_token = app.token(&officer).await;
    let (status, body) =
        app.post_json(&format!("/api/releases/{npr}/decide"), Some(&officer_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Forbidden);
    assert!(body["error"].as_str().unwrap().contains("recusal"), "{body}");
    let (status, _) =
        app.post_json(&format!("/api/releases/{npr}/decide"), Some(&other_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Ok);
    let (status, body) = cmd(&app, &officer_token, id, "decide", json!({})).await;
    assert_eq!(status, Status::Forbidden, "nor may they make the decision");
    assert!(body["error"].as_str().unwrap().contains("recusal"));
    let (status, _) = cmd(&app, &other_token, id, "decide", json!({})).await;
    assert_eq!(status, Status::Ok);
}

#[rocket::async_test]
async fn two_officers_completing_at_once_one_wins() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let second = app.user("case_officer", None).await;
    let second_token = app.token(&second).await;
    let path = format!("/api/applications/{id}/complete");
    let (a, b) = rocket::futures::future::join(
        app.post_json(&path, Some(&c.officer_token), json!({})),
        app.post_json(&path, Some(&second_token), json!({})),
    )
    .await;
    let mut statuses = vec![a.0, b.0];
    statuses.sort_by_key(|s| s.code);
    assert_eq!(statuses, vec![Status::Ok, Status::Conflict]);
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(case["releases"].as_array().unwrap().len(), 2, "releases created once");
}

#[rocket::async_test]
async fn register_owners_cannot_run_case_commands_and_members_cannot_appeal() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    for command in ["assign", "return", "complete", "close"] {
        let (status, _) = cmd(&app, &c.hdir_token, id, command, json!({"message": "x"})).await;
        assert_eq!(status, Status::Forbidden, "{command}");
    }
    let (status, _) = cmd(&app, &c.officer_token, id, "fly", json!({})).await;
    assert_eq!(status, Status::NotFound);
}

#[rocket::async_test]
async fn interim_replies_after_a_month_once() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let mut conn = app.conn().await;
    let now = chrono::Utc::now();
    assert_eq!(helsedataservice::services::cases::send_interim_replies(&mut conn, now).await.unwrap(), 0);
    let later = now + chrono::Duration::days(31);
    assert_eq!(helsedataservice::services::cases::send_interim_replies(&mut conn, later).await.unwrap(), 1);
    assert_eq!(helsedataservice::services::cases::send_interim_replies(&mut conn, later).await.unwrap(), 0);
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert!(case["interim_reply_at"].is_string());
    assert!(app.event_kinds("application", id).await.contains(&"application.interim_reply".to_string()));
}

#[rocket::async_test]
async fn withdrawing_a_case_in_review_withdraws_its_open_releases() {
    use helsedataservice::services::reminders;
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let (_, case) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    let (npr, krg) = (release(&case, "NPR")["id"].as_i64().unwrap(), release(&case, "KRG")["id"].as_i64().unwrap());
    // FHI approves KRG before the case is decided; NPR still waits for Helsedataservice.
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Ok);
    let waiting = "SELECT coalesce(sum(n), 0)::bigint AS n FROM pending_releases_age";
    assert_eq!(crate::common::count(&app, waiting).await, 1, "NPR counts on the owners' dashboard");

    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/withdraw"), Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(release(&case, "NPR")["state"], "withdrawn", "nobody decides it any more");
    assert_eq!(release(&case, "KRG")["state"], "withdrawn", "an owner's approval is no decision of the case");
    let withdrawn = case["events"].as_array().unwrap().iter().find(|e| e["kind"] == "application.withdrawn").unwrap();
    assert_eq!(withdrawn["payload"]["releases_withdrawn"], json!([npr.min(krg), npr.max(krg)]), "{withdrawn}");
    for token in [&c.fhi_token, &c.hdir_token] {
        let (_, notices) = app.get_json("/api/notifications", Some(token)).await;
        assert!(notices.to_string().contains("application.withdrawn"), "each owner is told: {notices}");
    }
    assert_eq!(crate::common::count(&app, waiting).await, 0, "off the dashboard");
    let mut conn = app.conn().await;
    let later = chrono::Utc::now() + chrono::Duration::days(30);
    assert_eq!(reminders::release_reminders(&mut conn, later, 14).await.unwrap(), 0, "nobody is reminded");
    let (status, _) =
        app.post_json(&format!("/api/releases/{npr}/decide"), Some(&c.officer_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Conflict);

    // The owner's queue has them under their own tab, not among those to decide or deliver.
    app.login(&c.fhi).await;
    let (_, queue) = app.page("/releases?state=pending").await;
    assert!(!queue.contains(&format!("/applications/{id}#releases")), "not waiting");
    let (_, queue) = app.page("/releases").await;
    assert!(queue.contains("Trukket med søknaden"), "{queue}");
    assert!(!queue.contains("<strong>Vurder</strong>") && !queue.contains("<strong>Utlever</strong>"), "nothing to do");
}
