//! Pre-application enquiries (forhåndsveiledning, issue 22 item 2): a researcher asks about
//! sources before applying; officers and the register owners of the sources named answer in a
//! thread (by mail too); the enquiry becomes a draft application with its sources filled in.

use crate::common::{TestApp, count, csrf_in};
use chrono::Utc;
use rocket::http::Status;
use serde_json::json;

const HDIR: &str = "983544622";
const FHI: &str = "983744516";

#[rocket::async_test]
async fn a_researcher_asks_before_applying_and_applies_from_the_enquiry() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    let researcher = app.user("applicant", None).await;
    let token = app.token(&researcher).await;
    let other = app.user("applicant", None).await;
    let other_token = app.token(&other).await;
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    let hdir = app.user("register_owner", Some(HDIR)).await;
    let hdir_token = app.token(&hdir).await;
    let fhi = app.user("register_owner", Some(FHI)).await;
    let fhi_token = app.token(&fhi).await;
    let (_, npr) = app.get_json("/api/data-sources/NPR", None).await;
    let npr_id = npr["id"].as_i64().unwrap();
    app.send_mail(Utc::now()).await;

    // Researchers ask; bad input is refused field by field and stores nothing.
    let ask = json!({"subject": "Hjertesvikt etter covid-19", "question": "Har NPR diagnosekoder per kontakt?", "source_ids": [npr_id]});
    let (status, _) = app.post_json("/api/enquiries", Some(&officer_token), ask.clone()).await;
    assert_eq!(status, Status::Forbidden);
    let (status, body) = app
        .post_json("/api/enquiries", Some(&token), json!({"subject": " ", "question": "", "source_ids": [999999]}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    for field in ["subject", "question", "source_ids"] {
        assert!(body["fields"][field].is_array(), "{field}: {body}");
    }
    assert_eq!(count(&app, "SELECT count(*) AS n FROM enquiries").await, 0);
    let (status, e) = app.post_json("/api/enquiries", Some(&token), ask).await;
    assert_eq!(status, Status::Created, "{e}");
    assert_eq!(e["state"], "open");
    assert_eq!(e["sources"][0]["code"], "NPR");
    let id = e["id"].as_i64().unwrap();

    // The officers and the owner of the source named are told; another owner is not.
    let before = sink.messages().len();
    app.send_mail(Utc::now()).await;
    let mails: Vec<_> = sink.messages().into_iter().skip(before).collect();
    for who in [&officer.email, &hdir.email] {
        let m = mails.iter().find(|m| &m.to[0] == who).unwrap_or_else(|| panic!("{who} is told"));
        let text = m.part("text/plain").unwrap();
        assert!(text.contains("Hjertesvikt etter covid-19") && text.contains(&format!("/enquiries/{id}")), "{text}");
    }
    assert!(!mails.iter().any(|m| m.to[0] == fhi.email), "FHI's sources are not named");

    // Who sees it: the researcher, the officers, the named source's owner; nobody else.
    let path = format!("/api/enquiries/{id}");
    for (t, expected) in [(&token, Status::Ok), (&officer_token, Status::Ok), (&hdir_token, Status::Ok)] {
        assert_eq!(app.get_json(&path, Some(t)).await.0, expected);
    }
    for t in [&fhi_token, &other_token] {
        assert_eq!(app.get_json(&path, Some(t)).await.0, Status::NotFound);
    }
    for (t, n) in [(&token, 1), (&officer_token, 1), (&hdir_token, 1), (&fhi_token, 0), (&other_token, 0)] {
        let (_, list) = app.get_json("/api/enquiries", Some(t)).await;
        assert_eq!(list.as_array().unwrap().len(), n, "{list}");
    }

    // The owner answers: the researcher's turn, told by mail.
    let (status, body) = app
        .post_json(&format!("{path}/messages"), Some(&hdir_token), json!({"body": "Ja, hovedtilstand per kontakt."}))
        .await;
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(body["state"], "answered");
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);
    let before = sink.messages().len();
    app.send_mail(Utc::now()).await;
    let to_researcher: Vec<_> =
        sink.messages().into_iter().skip(before).filter(|m| m.to[0] == researcher.email).collect();
    assert_eq!(to_researcher.len(), 1);
    assert!(to_researcher[0].part("text/plain").unwrap().contains(&format!("/enquiries/{id}")));

    // The researcher replies in the page: an empty message is refused beside its field.
    app.login(&researcher).await;
    let (status, html) = app.page(&format!("/enquiries/{id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Ja, hovedtilstand per kontakt."));
    let csrf = csrf_in(&html);
    let resp = app.form(&format!("/enquiries/{id}/messages"), &[("body", " ")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    assert!(resp.into_string().await.unwrap().contains("f-body-error"));
    let resp =
        app.form(&format!("/enquiries/{id}/messages"), &[("body", "Takk! Og perioden 2010–2025?")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, e) = app.get_json(&path, Some(&token)).await;
    assert_eq!(e["state"], "open", "asked again");

    // Only the researcher starts an application from it, once: a draft with the source chosen.
    assert_eq!(
        app.post_json(&format!("{path}/application"), Some(&officer_token), json!({})).await.0,
        Status::Forbidden
    );
    let (status, draft) = app.post_json(&format!("{path}/application"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Created, "{draft}");
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["title"], "Hjertesvikt etter covid-19");
    assert_eq!(draft["data_sources"][0]["data_source_id"], npr_id, "{draft}");
    assert_eq!(app.post_json(&format!("{path}/application"), Some(&token), json!({})).await.0, Status::Conflict);
    let (_, e) = app.get_json(&path, Some(&token)).await;
    assert_eq!(e["application_id"], draft["id"]);

    // The owner may not close it; an officer does, and the thread is read-only after.
    assert_eq!(app.post_json(&format!("{path}/close"), Some(&hdir_token), json!({})).await.0, Status::Forbidden);
    let (status, e) = app.post_json(&format!("{path}/close"), Some(&officer_token), json!({})).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(e["state"], "closed");
    let (status, _) = app.post_json(&format!("{path}/messages"), Some(&token), json!({"body": "Hei?"})).await;
    assert_eq!(status, Status::Conflict);
    // A reply typed in the page before the close is not lost: shown to be copied, with why.
    let typed = "Et svar skrevet før lukkingen";
    let resp = app.form(&format!("/enquiries/{id}/messages"), &[("body", typed)], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Conflict);
    let html = crate::common::unescape(&resp.into_string().await.unwrap());
    assert!(html.contains(&format!("readonly aria-describedby=\"f-unsent-hint\">{typed}</textarea>")), "{html}");
    assert!(html.contains("Skjemaet ble ikke sendt") && !html.contains("name=\"body\""), "no form to send it with");
    let kinds = app.event_kinds("enquiry", id).await;
    assert_eq!(
        kinds,
        ["enquiry.opened", "enquiry.message_posted", "enquiry.message_posted", "enquiry.applied", "enquiry.closed"]
    );

    // From a source's page: ask about it (the form opens with it chosen) or apply for it.
    let (_, html) = app.page("/data-sources/NPR").await;
    let html = html.replace("&#x3D;", "=");
    assert!(html.contains(&format!("href=\"/enquiries/new?source={npr_id}\"")), "ask from the source");
    let (_, form) = app.page(&format!("/enquiries/new?source={npr_id}")).await;
    assert!(form.contains(&format!("value=\"{npr_id}\" checked")), "chosen in advance");
    let csrf = csrf_in(&html);
    let resp = app
        .form(
            "/applications",
            &[
                ("kind", "identifiable"),
                ("application_type", "new"),
                ("previous_reference", ""),
                ("source", &npr_id.to_string()),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let location = resp.headers().get_one("Location").unwrap().to_string();
    let draft_id: i64 = location.trim_start_matches("/applications/").trim_end_matches("/edit").parse().unwrap();
    let (_, draft) = app.get_json(&format!("/api/applications/{draft_id}"), Some(&token)).await;
    assert_eq!(draft["data_sources"][0]["data_source_id"], npr_id, "apply from the source: {draft}");
}
