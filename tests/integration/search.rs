//! Full-text search: the catalogue and variables for everyone (bokmål and English, codes),
//! ranked; cases for case officers, while other people only find what they may already see.

use crate::applications_api::{attach_required, complete_form};
use crate::common::{TestApp, TestUser};
use rocket::http::Status;
use serde_json::{Value, json};

async fn case(app: &TestApp, user: &TestUser, title: &str, summary: &str, submit: bool) -> Value {
    let token = app.token(user).await;
    let mut form = complete_form(app).await;
    form["title"] = json!(title);
    form["summary"] = json!(summary);
    let (status, draft) = app.post_json("/api/applications", Some(&token), form).await;
    assert_eq!(status, Status::Created, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    if !submit {
        return draft;
    }
    attach_required(app, &token, id).await;
    let (status, body) = app.post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    body
}

fn ids(hits: &Value) -> Vec<i64> {
    hits.as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect()
}

#[rocket::async_test]
async fn the_catalogue_is_searched_in_bokmal_english_and_codes() {
    let app = TestApp::new().await;
    let codes = |v: &Value| -> Vec<String> {
        v["data_sources"].as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap().to_string()).collect()
    };
    let (status, body) = app.get_json("/api/search/catalogue?q=kreftregisteret", None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(codes(&body).first().map(String::as_str), Some("KRG"));
    let (_, body) = app.get_json("/api/search/catalogue?q=cancer%20registry", None).await;
    assert_eq!(codes(&body), ["KRG"], "every word must match");
    let (_, body) = app.get_json("/api/search/catalogue?q=cancer%20or%20registries", None).await;
    assert_eq!(codes(&body).first().map(String::as_str), Some("KRG"), "both words rank first: {body}");
    assert!(codes(&body).len() > 3, "'registry' alone matches other sources too: {body}");
    let (_, body) = app.get_json("/api/search/catalogue?q=NPR", None).await;
    assert_eq!(codes(&body), ["NPR"]);
    let (_, body) = app.get_json("/api/search/catalogue?q=icd10", None).await;
    let vars = body["variables"].as_array().unwrap();
    assert!(vars.iter().any(|v| v["code"] == "KRG" && v["name"] == "icd10"), "{body}");
    let (_, body) = app.get_json("/api/search/catalogue?q=", None).await;
    assert_eq!(body, json!({"data_sources": [], "variables": []}));
    let (status, body) = app.get_json(&format!("/api/search/catalogue?q={}", "a".repeat(201)), None).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["q"].is_array());
    let (status, html) = app.page("/search?q=hjerneslag").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("/data-sources/HJERNESLAG"));
}

#[rocket::async_test]
async fn officers_search_every_case_and_applicants_only_their_own() {
    let app = TestApp::new().await;
    let kari = app.user("applicant", None).await;
    let ola = app.user("applicant", None).await;
    let nobody = app.user("applicant", None).await;
    let officer = app.user("case_officer", None).await;
    let heart = case(&app, &kari, "Hjertesvikt etter covid-19", "We study heart failure after infection.", true).await;
    let diabetes = case(&app, &ola, "Diabetes og kosthold", "Kosthold blant voksne med diabetes type 2.", true).await;
    let draft = case(&app, &ola, "Hjertesvikt hos barn", "Utkast.", false).await;
    let (heart_id, diabetes_id, draft_id) =
        (heart["id"].as_i64().unwrap(), diabetes["id"].as_i64().unwrap(), draft["id"].as_i64().unwrap());

    let t = app.token(&officer).await;
    let (status, hits) = app.get_json("/api/search/cases?q=hjertesvikt", Some(&t)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(ids(&hits), [heart_id], "drafts are not cases yet");
    // Nor is a draft withdrawn before it was sent (its title and summary were found before).
    let withdrawn = case(&app, &ola, "Hjertesvikt hos eldre", "Trukket før innsending.", false).await;
    let path = format!("/api/applications/{}/withdraw", withdrawn["id"]);
    assert_eq!(app.post_json(&path, Some(&app.token(&ola).await), json!({})).await.0, Status::Ok);
    let (_, hits) = app.get_json("/api/search/cases?q=hjertesvikt", Some(&t)).await;
    assert_eq!(ids(&hits), [heart_id], "a draft withdrawn unsent is not a case either");
    let (_, hits) = app.get_json("/api/search/cases?q=heart%20failures", Some(&t)).await;
    assert_eq!(ids(&hits), [heart_id], "English stemming over the summary");
    let (_, hits) = app.get_json("/api/search/cases?q=kostholdet", Some(&t)).await;
    assert_eq!(ids(&hits), [diabetes_id], "bokmål stemming");
    let reference = heart["reference"].as_str().unwrap();
    let (_, hits) = app.get_json(&format!("/api/search/cases?q={reference}"), Some(&t)).await;
    assert_eq!(ids(&hits)[0], heart_id, "by reference");
    let (_, hits) = app.get_json("/api/search/cases?q=diabetes%20OR%20hjertesvikt", Some(&t)).await;
    assert_eq!(ids(&hits).len(), 2);

    // Ola finds his own draft, never Kari's case; someone without cases finds nothing.
    let t = app.token(&ola).await;
    let (_, hits) = app.get_json("/api/search/cases?q=hjertesvikt", Some(&t)).await;
    let mut own = ids(&hits);
    own.sort_unstable();
    assert_eq!(own, [draft_id, withdrawn["id"].as_i64().unwrap()], "his own, withdrawn or not");
    let t = app.token(&nobody).await;
    let (_, hits) = app.get_json("/api/search/cases?q=hjertesvikt", Some(&t)).await;
    assert_eq!(hits, json!([]));
    assert_eq!(app.get_json("/api/search/cases?q=hjertesvikt", None).await.0, Status::Unauthorized);

    // Register owners find the submitted cases that request their sources (NPR is
    // Helsedirektoratet's), not drafts naming them, and not other organisations' cases.
    let hdir = app.user("register_owner", Some("983544622")).await;
    let t = app.token(&hdir).await;
    let (status, hits) = app.get_json("/api/search/cases?q=hjertesvikt", Some(&t)).await;
    assert_eq!(status, Status::Ok, "{hits}");
    assert_eq!(ids(&hits), [heart_id], "the submitted case, not Ola's draft");
    let (_, hits) = app.get_json("/api/search/cases?q=diabetes%20OR%20hjertesvikt", Some(&t)).await;
    assert_eq!(ids(&hits).len(), 2);
    let fhi = app.user("register_owner", Some("983744516")).await;
    let (_, hits) = app.get_json("/api/search/cases?q=hjertesvikt", Some(&app.token(&fhi).await)).await;
    assert_eq!(hits, json!([]), "no FHI source is requested");

    app.login(&nobody).await;
    let (_, html) = app.page("/search?q=hjertesvikt").await;
    assert!(!html.contains(&format!("/applications/{heart_id}")));
    app.login(&officer).await;
    let (_, html) = app.page("/search?q=hjertesvikt").await;
    assert!(html.contains(&format!("/applications/{heart_id}")));
}
