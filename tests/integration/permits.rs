//! Permits that end: the permit runs to the project's end date, an extension (a case of type
//! `extension` naming the approved one) moves it, the applicant is asked to confirm deletion
//! thirty days before the end, and officers see the permits that ended without a confirmed
//! deletion.

use crate::applications_api::attach_required;
use crate::common::{TestApp, csrf_in};
use crate::transfers::decided_case;
use chrono::{Duration, Utc};
use helsedataservice::services::reminders;
use rocket::http::Status;
use serde_json::json;

#[rocket::async_test]
async fn an_extension_moves_the_permit_and_ended_permits_reach_the_officers() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    // The decision grants a permit to the project's end date (complete_form: 2030-12-31).
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["permit"]["ends_on"], "2030-12-31", "{}", case["permit"]);
    let reference = case["reference"].as_str().unwrap().to_string();

    // Only the applicant asks for an extension: a draft of type extension naming the case,
    // with its form carried over.
    let path = format!("/api/applications/{}/extension", c.id);
    let (status, _) = app.post_json(&path, Some(&c.officer_token), json!({})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, draft) = app.post_json(&path, Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Created, "{draft}");
    assert_eq!((draft["type"].as_str(), draft["state"].as_str()), (Some("extension"), Some("draft")));
    assert_eq!(draft["previous_reference"], reference.as_str());
    assert_eq!(draft["data_sources"], case["data_sources"], "the sources are carried over");
    let ext = draft["id"].as_i64().unwrap();

    // The applicant enters the new end date and submits; the officer decides it.
    let mut form = draft.clone();
    form["end_date"] = json!("2032-06-30");
    form["deletion_date"] = json!("2032-12-31");
    let (status, body) =
        app.put_json(&format!("/api/applications/{ext}"), Some(&c.applicant_token), form.clone()).await;
    assert_eq!(status, Status::Ok, "{body}");
    attach_required(&app, &c.applicant_token, ext).await;
    // Another researcher's extension naming the same case is refused at submission: it is not
    // one of theirs (looked up by the reference alone, not from a list of their cases).
    let other = app.user("applicant", None).await;
    let other_token = app.token(&other).await;
    let (status, theirs) = app.post_json("/api/applications", Some(&other_token), form.clone()).await;
    assert_eq!(status, Status::Created, "{theirs}");
    let theirs = theirs["id"].as_i64().unwrap();
    attach_required(&app, &other_token, theirs).await;
    let (status, body) =
        app.post_json(&format!("/api/applications/{theirs}/submit"), Some(&other_token), json!({})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert_eq!(body["fields"].as_object().unwrap().keys().collect::<Vec<_>>(), ["previous_reference"], "{body}");
    let (status, body) =
        app.post_json(&format!("/api/applications/{ext}/submit"), Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (status, body) =
        app.post_json(&format!("/api/applications/{ext}/complete"), Some(&c.officer_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    for r in body["releases"].as_array().unwrap() {
        let (status, d) = app
            .post_json(&format!("/api/releases/{}/decide", r["id"]), Some(&c.officer_token), json!({"approve": true}))
            .await;
        assert_eq!(status, Status::Ok, "{d}");
    }
    let (status, body) =
        app.post_json(&format!("/api/applications/{ext}/decide"), Some(&c.officer_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");

    // The approved case's permit now runs to the extension's end; the move is its event.
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["permit"]["ends_on"], "2032-06-30");
    let extended = case["events"].as_array().unwrap().iter().find(|e| e["kind"] == "permit.extended").cloned();
    let extended = extended.expect("permit.extended on the extended case");
    assert_eq!(extended["payload"]["from"], "2030-12-31");
    assert_eq!(extended["payload"]["extension_id"], ext);

    // Thirty days before the (new) end the applicant is asked to confirm deletion, once, on the
    // case whose data reached the project (the extension delivered nothing of its own).
    let end: chrono::DateTime<Utc> = "2032-06-30T12:00:00Z".parse().unwrap();
    let mut conn = app.conn().await;
    assert_eq!(
        reminders::deletion_reminders(&mut conn, end - Duration::days(29)).await.unwrap(),
        0,
        "nothing delivered"
    );
    let (status, _) = app
        .post_json(
            &format!("/api/releases/{}/delivered", c.release),
            Some(&c.owner_token),
            json!({"environment": "TSD"}),
        )
        .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(reminders::deletion_reminders(&mut conn, end - Duration::days(31)).await.unwrap(), 0);
    let asked = reminders::deletion_reminders(&mut conn, end - Duration::days(29)).await.unwrap();
    assert_eq!(asked, 1, "the extended case, not the extension too");
    let asked = "SELECT count(*) AS n FROM events WHERE kind = 'application.deletion_reminder'";
    assert_eq!(crate::common::count(&app, asked).await, 1);

    // Once ended without a confirmed deletion, the officers see it; nobody else may look.
    let today = helsedataservice::domain::deadlines::oslo_date(Utc::now());
    let past = today - Duration::days(10);
    // The extension's too: it delivered nothing, so there is no deletion to confirm on it.
    app.sql(&format!("UPDATE applications SET permit_ends_on = '{past}' WHERE id IN ({}, {ext})", c.id)).await.unwrap();
    let (status, ended) = app.get_json("/api/permits/ended", Some(&c.officer_token)).await;
    assert_eq!(status, Status::Ok);
    let rows = ended.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{ended}");
    assert_eq!((rows[0]["id"].as_i64(), rows[0]["days_ended"].as_i64()), (Some(c.id), Some(10)));
    assert_eq!(rows[0]["applicant"]["email"], c.applicant.email.as_str());
    let (status, _) = app.get_json("/api/permits/ended", Some(&c.applicant_token)).await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) = app.get_json("/api/permits/ended", Some(&c.owner_token)).await;
    assert_eq!(status, Status::Forbidden);
    let admin = app.user("admin", None).await;
    let (status, _) = app.get_json("/api/permits/ended", Some(&app.token(&admin).await)).await;
    assert_eq!(status, Status::Forbidden, "admins see no cases");
    let officer = app.user("case_officer", None).await;
    app.login(&officer).await;
    let (status, html) = app.page("/permits").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&reference) && html.contains(&past.format("%d.%m.%Y").to_string()), "{html}");

    // The status page says how long the permit runs and offers the extension; once the data
    // are confirmed deleted, the permit leaves the overview and cannot be extended.
    app.login(&c.applicant).await;
    let (_, html) = app.page(&format!("/applications/{}", c.id)).await;
    assert!(html.contains("Tillatelsen gjelder til") && html.contains("utløpt"), "permit on the page");
    assert!(html.contains(&format!("action=\"/applications/{}/extension\"", c.id)));
    let csrf = csrf_in(&html);
    let resp = app.form(&format!("/applications/{}/confirm-deletion", c.id), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, ended) = app.get_json("/api/permits/ended", Some(&c.officer_token)).await;
    assert_eq!(ended, json!([]));
    let (status, _) = app.post_json(&path, Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Conflict, "nothing left to extend");
}
