//! Applications over the API: drafts, versions, submit with every rule, references,
//! withdrawal, copies, attachments, members and object-level access.

use crate::common::{TestApp, TestUser, read_json};
use rocket::http::{Header, Status};
use serde_json::{Value, json};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

/// A complete application for data from NPR (source looked up by code).
pub async fn complete_form(app: &TestApp) -> Value {
    let (_, npr) = app.get_json("/api/data-sources/NPR", None).await;
    json!({
        "kind": "identifiable", "type": "new", "title": "Hjertesvikt etter covid-19",
        "summary": "Vi undersøker forekomsten av hjertesvikt etter covid-19.", "purpose": "medical_research",
        "start_date": "2027-01-01", "end_date": "2030-12-31",
        "project_leader": {"name": "Kari Forsker", "email": "kari@example.no", "institution": "Universitetet i Oslo"},
        "controller": {"name": "Universitetet i Oslo", "organisation_number": "971035854"},
        "processor": null, "members": ["kollega@example.no"],
        "legal_basis": {"gdpr_article_6": "6(1)(e)", "gdpr_article_9": "9(2)(j)", "justification": "Forskning i allmennhetens interesse."},
        "rek_reference": "2026/12345", "dpia_done": true, "dispensation": "requested", "consent_based": false, "controller_approved": true,
        "data_sources": [{"data_source_id": npr["id"], "variables": ["lopenr", "hovedtilstand"], "period_from": "2010-01-01", "period_to": "2025-12-31", "selection": "Pasienter med I50"}],
        "linkage": false, "linkage_key": null, "storage": "TSD, Universitetet i Oslo", "access": "Prosjektgruppen",
        "deletion_date": "2031-12-31", "publication": "Kun aggregerte resultater",
        "invoice_recipient": {"name": "Universitetet i Oslo", "organisation_number": "971035854", "reference": "PRJ-42", "address": "Postboks 1072 Blindern", "postal_code": "0316", "city": "Oslo"},
        "student_thesis": null
    })
}

pub async fn attach_required(app: &TestApp, token: &str, id: i64) {
    for kind in ["protocol", "dpo_assessment", "rek_approval"] {
        let resp = app
            .client
            .put(format!("/api/applications/{id}/attachments/{kind}/{kind}.pdf"))
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .body(PDF)
            .dispatch()
            .await;
        assert_eq!(resp.status(), Status::Created, "{kind}");
    }
}

/// A submitted application of `user`; returns its JSON.
pub async fn submitted(app: &TestApp, user: &TestUser) -> Value {
    let token = app.token(user).await;
    let (status, draft) = app.post_json("/api/applications", Some(&token), complete_form(app).await).await;
    assert_eq!(status, Status::Created, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    attach_required(app, &token, id).await;
    let (status, body) = app.post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    body
}

#[rocket::async_test]
async fn partial_drafts_save_with_versions() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (status, draft) = app.post_json("/api/applications", Some(&token), json!({"title": "Utkast"})).await;
    assert_eq!(status, Status::Created, "{draft}");
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["version"], 1);
    assert!(draft["reference"].is_null());
    let id = draft["id"].as_i64().unwrap();

    let (status, saved) = app
        .put_json(
            &format!("/api/applications/{id}"),
            Some(&token),
            json!({"version": 1, "title": "Utkast to", "summary": "Kort"}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{saved}");
    assert_eq!(saved["version"], 2);
    assert_eq!(saved["summary"], "Kort");

    // A stale version is refused and changes nothing.
    let (status, body) = app
        .put_json(&format!("/api/applications/{id}"), Some(&token), json!({"version": 1, "title": "Overskrevet"}))
        .await;
    assert_eq!(status, Status::Conflict, "{body}");
    let (_, now) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(now["title"], "Utkast to");
    let (status, body) =
        app.put_json(&format!("/api/applications/{id}"), Some(&token), json!({"title": "Uten versjon"})).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["version"].is_array());
    assert_eq!(app.event_kinds("application", id).await, vec!["application.created", "application.saved"]);
}

#[rocket::async_test]
async fn formats_are_checked_at_every_save() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (status, body) = app
        .post_json("/api/applications", Some(&token), json!({"title": "x".repeat(201), "start_date": "2027-02-30", "controller": {"name": "UiO", "organisation_number": "971035855"}}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    for f in ["title", "start_date", "controller.organisation_number"] {
        assert!(body["fields"][f].is_array(), "{f}: {body}");
    }
    let (status, _) = app.post_json("/api/applications", Some(&token), json!({"title": 42})).await;
    assert_eq!(status, Status::UnprocessableEntity);
}

#[rocket::async_test]
async fn incomplete_submit_lists_every_missing_field_at_once() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) = app
        .post_json(
            "/api/applications",
            Some(&token),
            json!({"title": "Nesten tom", "purpose": "medical_research", "linkage": true}),
        )
        .await;
    let id = draft["id"].as_i64().unwrap();
    let (status, body) = app.post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    let fields = body["fields"].as_object().unwrap();
    for f in [
        "summary",
        "start_date",
        "end_date",
        "project_leader.email",
        "controller.organisation_number",
        "rek_reference",
        "data_sources",
        "linkage_key",
        "invoice_recipient.name",
        "attachments.protocol",
        "attachments.dpo_assessment",
        "attachments.rek_approval",
        "controller_approved",
    ] {
        assert!(fields.contains_key(f), "{f} missing: {body}");
    }
    let (_, after) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(after["state"], "draft");
}

#[rocket::async_test]
async fn submit_assigns_a_reference_and_records_the_estimate() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let body = submitted(&app, &applicant).await;
    assert_eq!(body["state"], "submitted");
    let reference = body["reference"].as_str().unwrap();
    assert!(reference.starts_with(&format!("HDS-{}-", chrono::Utc::now().format("%Y"))), "{reference}");
    assert_eq!(body["estimate"]["amount_ore"], 150_000);
    assert!(body["estimate"]["accepted_at"].is_string());
    let expected_due = helsedataservice::domain::deadlines::add_working_days(
        helsedataservice::domain::deadlines::oslo_date(chrono::Utc::now()),
        60,
    );
    assert_eq!(body["due_date"], expected_due.to_string(), "identifiable: the configured target of 60 working days");
    let id = body["id"].as_i64().unwrap();
    let kinds = app.event_kinds("application", id).await;
    assert!(kinds.contains(&"application.submitted".to_string()), "{kinds:?}");
    assert_eq!(kinds.last().unwrap(), "member.invited", "the member named on the form is invited at submission");

    // A submitted application cannot be edited, nor its attachments changed.
    let token = app.token(&applicant).await;
    let (status, _) = app
        .put_json(
            &format!("/api/applications/{id}"),
            Some(&token),
            json!({"version": body["version"], "title": "Endret etter innsending"}),
        )
        .await;
    assert_eq!(status, Status::Conflict);
    let (status, _) = app.post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Conflict);
    let att = body["attachments"][0]["id"].as_str().unwrap();
    let resp = app
        .client
        .delete(format!("/api/applications/{id}/attachments/{att}"))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Conflict);
}

#[rocket::async_test]
async fn a_changed_estimate_is_not_accepted_blindly() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), complete_form(&app).await).await;
    let id = draft["id"].as_i64().unwrap();
    attach_required(&app, &token, id).await;
    let (status, _) = app
        .post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({"accepted_estimate_ore": 300_000}))
        .await;
    assert_eq!(status, Status::Conflict);
    let (status, _) = app
        .post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({"accepted_estimate_ore": 150_000}))
        .await;
    assert_eq!(status, Status::Ok);
}

#[rocket::async_test]
async fn concurrent_submits_get_distinct_gapless_references() {
    let app = TestApp::new().await;
    let mut ids = vec![];
    let mut tokens = vec![];
    for _ in 0..6 {
        let u = app.user("applicant", None).await;
        let token = app.token(&u).await;
        let (_, draft) = app.post_json("/api/applications", Some(&token), complete_form(&app).await).await;
        let id = draft["id"].as_i64().unwrap();
        attach_required(&app, &token, id).await;
        ids.push(id);
        tokens.push(token);
    }
    let paths: Vec<String> = ids.iter().map(|id| format!("/api/applications/{id}/submit")).collect();
    let submits: Vec<_> = paths.iter().zip(&tokens).map(|(p, t)| app.post_json(p, Some(t), json!({}))).collect();
    let results = rocket::futures::future::join_all(submits).await;
    let mut numbers: Vec<i64> = results
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, Status::Ok, "{b}");
            b["reference"].as_str().unwrap()[9..].parse().unwrap()
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=6).collect::<Vec<i64>>(), "distinct, no gaps");
}

#[rocket::async_test]
async fn others_get_404_and_register_owners_never_see_drafts() {
    let app = TestApp::new().await;
    let owner_user = app.user("applicant", None).await;
    let token = app.token(&owner_user).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), complete_form(&app).await).await;
    let id = draft["id"].as_i64().unwrap();
    attach_required(&app, &token, id).await;
    let (_, full) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    let attachment = full["attachments"][0]["id"].as_str().unwrap().to_string();

    let stranger = app.user("applicant", None).await;
    let officer = app.user("case_officer", None).await;
    let hdir_owner = app.user("register_owner", Some("983544622")).await;
    let fhi_owner = app.user("register_owner", Some("983744516")).await;
    let admin = app.user("admin", None).await;
    for u in [&stranger, &officer, &hdir_owner, &fhi_owner, &admin] {
        let t = app.token(u).await;
        let (status, _) = app.get_json(&format!("/api/applications/{id}"), Some(&t)).await;
        assert_eq!(status, Status::NotFound, "{} must not see a draft", u.role);
        let (status, _) = app.get_json(&format!("/api/applications/{id}/attachments/{attachment}"), Some(&t)).await;
        assert_eq!(status, Status::NotFound);
        let (_, list) = app.get_json("/api/applications", Some(&t)).await;
        assert!(list.as_array().unwrap().is_empty(), "{} lists nothing", u.role);
        let (status, _) = app.put_json(&format!("/api/applications/{id}"), Some(&t), json!({"version": 1})).await;
        assert_eq!(status, Status::NotFound);
    }
    let (status, _) = app.post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Ok);
    // Submitted: the case officer and NPR's owner (Helsedirektoratet) see it; FHI's owner and strangers do not.
    for (u, expected) in [
        (&officer, Status::Ok),
        (&hdir_owner, Status::Ok),
        (&fhi_owner, Status::NotFound),
        (&stranger, Status::NotFound),
        (&admin, Status::NotFound),
    ] {
        let t = app.token(u).await;
        let (status, _) = app.get_json(&format!("/api/applications/{id}"), Some(&t)).await;
        assert_eq!(status, expected, "{}", u.email);
    }
}

#[rocket::async_test]
async fn members_read_once_they_have_an_account() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), complete_form(&app).await).await;
    let id = draft["id"].as_i64().unwrap();
    let (status, member) = app
        .post_json(
            "/api/register",
            None,
            json!({"email": "Kollega@example.no", "name": "Kollega", "password": "Sterkt-passord-1"}),
        )
        .await;
    assert_eq!(status, Status::Accepted, "{member}");
    let t = app
        .token(&TestUser {
            id: 0,
            email: "kollega@example.no".into(),
            password: "Sterkt-passord-1".into(),
            role: "applicant".into(),
        })
        .await;
    // Until the address is confirmed, registering it gives nothing away.
    let (status, _) = app.get_json(&format!("/api/applications/{id}"), Some(&t)).await;
    assert_eq!(status, Status::NotFound, "an unconfirmed address is not a member");
    let (_, list) = app.get_json("/api/applications", Some(&t)).await;
    assert_eq!(list.as_array().unwrap().len(), 0);
    crate::notifications::confirm_address(&app, "kollega@example.no").await;
    let (status, body) = app.get_json(&format!("/api/applications/{id}"), Some(&t)).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, list) = app.get_json("/api/applications", Some(&t)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, _) = app
        .put_json(&format!("/api/applications/{id}"), Some(&t), json!({"version": 1, "title": "Medlem skriver"}))
        .await;
    assert_eq!(status, Status::Forbidden, "members read, not write");
    let (status, _) = app.post_json(&format!("/api/applications/{id}/submit"), Some(&t), json!({})).await;
    assert_eq!(status, Status::Forbidden);
}

#[rocket::async_test]
async fn attachments_are_sniffed_limited_and_stored_encrypted() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), json!({"title": "Vedlegg"})).await;
    let id = draft["id"].as_i64().unwrap();
    let put = |path: String, body: Vec<u8>| {
        app.client
            .put(path)
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .header(rocket::http::ContentType::PDF)
            .body(body)
            .dispatch()
    };
    let resp = put(format!("/api/applications/{id}/attachments/protocol/protokoll.pdf"), PDF.to_vec()).await;
    assert_eq!(resp.status(), Status::Created);
    let (_, created) = crate::common::read_json(resp).await;
    assert_eq!(created["size"], PDF.len());
    assert_eq!(created["sha256"].as_str().unwrap().len(), 64);
    // An HTML file claiming to be a PDF is refused whatever the header says.
    let resp = put(
        format!("/api/applications/{id}/attachments/protocol/evil.pdf"),
        b"<html><script>alert(1)</script>".to_vec(),
    )
    .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let resp = put(format!("/api/applications/{id}/attachments/selfie/x.pdf"), PDF.to_vec()).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let mut big = PDF.to_vec();
    big.resize(2 * 1024 * 1024 + 1, b' ');
    let resp = put(format!("/api/applications/{id}/attachments/other/big.pdf"), big).await;
    assert_eq!(resp.status(), Status::PayloadTooLarge);

    let resp = app
        .client
        .get(format!("/api/applications/{id}/attachments/{}", created["id"].as_str().unwrap()))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(resp.headers().get_one("X-Checksum-SHA256"), created["sha256"].as_str());
    assert_eq!(resp.into_bytes().await.unwrap(), PDF);
    let (_, full) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(full["attachments"].as_array().unwrap().len(), 1);
    let kinds = app.event_kinds("application", id).await;
    assert!(kinds.contains(&"attachment.added".to_string()) && kinds.contains(&"attachment.downloaded".to_string()));

    let resp = app
        .client
        .delete(format!("/api/applications/{id}/attachments/{}", created["id"].as_str().unwrap()))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::NoContent);
    let (_, full) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert!(full["attachments"].as_array().unwrap().is_empty());
}

#[rocket::async_test]
async fn withdraw_and_copy() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let body = submitted(&app, &applicant).await;
    let id = body["id"].as_i64().unwrap();
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    let (status, _) = app.post_json(&format!("/api/applications/{id}/withdraw"), Some(&officer_token), json!({})).await;
    assert_eq!(status, Status::Forbidden, "only the applicant withdraws");
    let (status, body) = app.post_json(&format!("/api/applications/{id}/withdraw"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "withdrawn");
    let (status, _) = app.post_json(&format!("/api/applications/{id}/withdraw"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Conflict);

    let (status, copy) = app.post_json(&format!("/api/applications/{id}/copy"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Created, "{copy}");
    assert_eq!(copy["state"], "draft");
    assert_eq!(copy["copied_from_id"], id);
    assert_eq!(copy["title"], body["title"]);
    assert!(copy["reference"].is_null());
    let (status, _) = app.post_json(&format!("/api/applications/{}/copy", copy["id"]), Some(&token), json!({})).await;
    assert_eq!(status, Status::Conflict, "drafts are edited, not copied");
}

#[rocket::async_test]
async fn messages_between_applicant_and_case_officer_and_internal_notes() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let body = submitted(&app, &applicant).await;
    let id = body["id"].as_i64().unwrap();
    let token = app.token(&applicant).await;
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    let (status, _) = app
        .post_json(&format!("/api/applications/{id}/messages"), Some(&token), json!({"body": "Når får jeg svar?"}))
        .await;
    assert_eq!(status, Status::Created);
    let (status, _) = app
        .post_json(
            &format!("/api/applications/{id}/messages"),
            Some(&officer_token),
            json!({"body": "Intern: sjekk REK", "internal": true}),
        )
        .await;
    assert_eq!(status, Status::Created);
    let (status, _) = app
        .post_json(
            &format!("/api/applications/{id}/messages"),
            Some(&token),
            json!({"body": "Hemmelig", "internal": true}),
        )
        .await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) =
        app.post_json(&format!("/api/applications/{id}/messages"), Some(&token), json!({"body": "  "})).await;
    assert_eq!(status, Status::UnprocessableEntity);
    let (_, seen_by_applicant) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(seen_by_applicant["messages"].as_array().unwrap().len(), 1);
    assert!(!seen_by_applicant.to_string().contains("sjekk REK"));
    let (_, seen_by_officer) = app.get_json(&format!("/api/applications/{id}"), Some(&officer_token)).await;
    assert_eq!(seen_by_officer["messages"].as_array().unwrap().len(), 2);
}

#[rocket::async_test]
async fn absurd_versions_are_conflicts_not_errors() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), json!({"title": "Utkast"})).await;
    let id = draft["id"].as_i64().unwrap();
    for version in [i64::from(i32::MAX), -1, 0] {
        let (status, body) = app
            .put_json(&format!("/api/applications/{id}"), Some(&token), json!({"version": version, "title": "X"}))
            .await;
        assert_eq!(status, Status::Conflict, "{version}: {body}");
    }
}

#[rocket::async_test]
async fn a_withdrawn_draft_never_reaches_officers_or_owners() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), complete_form(&app).await).await;
    let id = draft["id"].as_i64().unwrap();
    let (status, body) = app.post_json(&format!("/api/applications/{id}/withdraw"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    for (role, org) in [("case_officer", None), ("register_owner", Some("983544622"))] {
        let u = app.user(role, org).await;
        let t = app.token(&u).await;
        let (status, _) = app.get_json(&format!("/api/applications/{id}"), Some(&t)).await;
        assert_eq!(status, Status::NotFound, "{role}");
        let (_, list) = app.get_json("/api/applications", Some(&t)).await;
        assert!(list.as_array().unwrap().is_empty(), "{role}");
    }
}

/// Follows the `Link: <…>; rel="next"` headers from `path`: every id in order, and how many
/// slices it took.
async fn slices(app: &TestApp, token: &str, path: &str) -> (Vec<i64>, usize) {
    let (mut ids, mut count, mut next) = (vec![], 0, Some(path.to_string()));
    while let Some(path) = next.take() {
        let resp = app
            .client
            .get(path.clone())
            .header(Header::new("Authorization", format!("Bearer {token}")))
            .dispatch()
            .await;
        next = resp.headers().get_one("Link").map(|link| {
            assert!(link.starts_with("</api/applications?") && link.ends_with(">; rel=\"next\""), "{link}");
            link[1..link.find('>').unwrap()].to_string()
        });
        let (status, body) = read_json(resp).await;
        assert_eq!(status, Status::Ok, "{path}: {body}");
        ids.extend(body.as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()));
        count += 1;
        assert!(count < 20, "the links end");
    }
    (ids, count)
}

fn ids_of(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect()
}

#[rocket::async_test]
async fn the_list_comes_in_slices_newest_first_each_linking_to_the_next() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let other = app.user("applicant", None).await;
    let (token, other_token) = (app.token(&applicant).await, app.token(&other).await);
    let mut mine = vec![];
    for i in 0..7 {
        let (status, draft) =
            app.post_json("/api/applications", Some(&token), json!({"title": format!("Utkast {i}")})).await;
        assert_eq!(status, Status::Created, "{draft}");
        mine.push(draft["id"].as_i64().unwrap());
        // Another applicant's drafts in between are never in this one's slices.
        let (status, _) = app.post_json("/api/applications", Some(&other_token), json!({"title": "Fremmed"})).await;
        assert_eq!(status, Status::Created);
    }
    mine.reverse();

    let (status, all) = app.get_json("/api/applications", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(ids_of(&all), mine, "without a limit: every one, newest first, as before");
    assert_eq!(slices(&app, &token, "/api/applications?limit=3").await, (mine.clone(), 3), "3 + 3 + 1");
    assert_eq!(slices(&app, &token, "/api/applications?limit=7").await, (mine.clone(), 1), "no link to an empty slice");
    assert_eq!(slices(&app, &token, "/api/applications?limit=1000").await, (mine.clone(), 1));
    let (older, _) = slices(&app, &token, &format!("/api/applications?limit=2&before={}", mine[2])).await;
    assert_eq!(older, mine[3..], "from a cursor: only the older ones");
    let (_, older) = app.get_json(&format!("/api/applications?before={}", mine[0]), Some(&token)).await;
    assert_eq!(ids_of(&older), mine[1..], "a cursor without a limit: all the older ones");
    let (_, none) = app.get_json(&format!("/api/applications?limit=5&before={}", mine[6]), Some(&token)).await;
    assert_eq!(ids_of(&none), Vec::<i64>::new());

    // Case officers page through the submitted cases only; register owners through their registers'.
    let first = submitted(&app, &applicant).await["id"].as_i64().unwrap();
    let second = submitted(&app, &other).await["id"].as_i64().unwrap();
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    assert_eq!(slices(&app, &officer_token, "/api/applications?limit=1").await, (vec![second, first], 2));
    let hdir = app.user("register_owner", Some("983544622")).await;
    let hdir_token = app.token(&hdir).await;
    assert_eq!(slices(&app, &hdir_token, "/api/applications?limit=1").await, (vec![second, first], 2));
    let fhi = app.user("register_owner", Some("983744516")).await;
    assert_eq!(slices(&app, &app.token(&fhi).await, "/api/applications?limit=1").await, (vec![], 1));
    let (mine_now, _) = slices(&app, &token, "/api/applications?limit=4").await;
    assert_eq!(mine_now.len(), 8);
    assert_eq!(mine_now[0], first, "the applicant's submitted case is the newest of theirs");
}

#[rocket::async_test]
async fn a_bad_limit_or_cursor_is_refused_by_name() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    app.post_json("/api/applications", Some(&token), json!({"title": "Utkast"})).await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=-3", "limit"),
        ("limit=1001", "limit"),
        ("limit=mange", "limit"),
        ("limit=", "limit"),
        ("before=0", "before"),
        ("before=siste", "before"),
        ("limit=10&before=99999999999999999999", "before"),
    ] {
        let (status, body) = app.get_json(&format!("/api/applications?{query}"), Some(&token)).await;
        assert_eq!(status, Status::UnprocessableEntity, "{query}: {body}");
        assert_eq!(body["fields"].as_object().unwrap().keys().collect::<Vec<_>>(), [field], "{query}: {body}");
        assert!(body["error"].is_string());
    }
    let (status, body) = app.get_json("/api/applications?limit=x&before=y", Some(&token)).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(body["fields"].as_object().unwrap().len(), 2, "both named at once: {body}");
    let (status, body) = app.get_json("/api/applications?limit=1000", Some(&token)).await;
    assert_eq!((status, body.as_array().map(Vec::len)), (Status::Ok, Some(1)), "the largest limit is allowed");
}

#[rocket::async_test]
async fn the_whole_list_is_sent_a_slice_at_a_time_and_arrives_whole() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    // More than two of the slices (1 000 rows) the whole list is read in, straight into the table.
    let insert = format!(
        "INSERT INTO applications (applicant_id, title) SELECT {}, 'Utkast ' || n FROM generate_series(1, 2345) n",
        applicant.id
    );
    app.sql(&insert).await.unwrap();

    let (status, all) = app.get_json("/api/applications", Some(&token)).await;
    assert_eq!(status, Status::Ok, "one JSON array, every slice in it");
    let ids = ids_of(&all);
    assert_eq!(ids.len(), 2345);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, none twice");
    assert_eq!((all[0]["title"].as_str(), all[2344]["title"].as_str()), (Some("Utkast 2345"), Some("Utkast 1")));
    assert_eq!(all[1500]["state"], "draft");
    assert_eq!(slices(&app, &token, "/api/applications?limit=1000").await, (ids.clone(), 3));
    let (_, older) = app.get_json(&format!("/api/applications?before={}", ids[999]), Some(&token)).await;
    assert_eq!(ids_of(&older), ids[1000..], "from a cursor, the rest in slices too");
}
