//! The catalogue: public list, search and pages; the API; admin edits with versions and events.

use crate::common::{TestApp, org_number};
use rocket::http::Status;
use serde_json::{Value, json};

#[rocket::async_test]
async fn the_public_catalogue_has_real_sources_with_owners_and_variables() {
    let app = TestApp::new().await;
    let (status, body) = app.get_json("/api/data-sources", None).await;
    assert_eq!(status, Status::Ok);
    let sources = body.as_array().unwrap();
    assert!(sources.len() >= 12, "{}", sources.len());
    for code in ["NPR", "KPR", "KRG", "DAR", "MFR", "LMR", "MSIS", "SYSVAK", "HKR", "HUNT"] {
        let s = sources.iter().find(|s| s["code"] == code).unwrap_or_else(|| panic!("{code} missing"));
        assert!(s["owner"]["organisation_number"].as_str().unwrap().len() == 9);
        assert!(!s["variables"].as_array().unwrap().is_empty(), "{code} has variables");
        assert!(["owner", "hds"].contains(&s["decision_authority"].as_str().unwrap()));
        assert!(s["on_common_form"].is_boolean());
        assert!(s["variables"][0]["identifying"].is_boolean());
    }
    assert!(sources.iter().any(|s| s["decision_authority"] == "hds"));
    assert!(sources.iter().any(|s| s["decision_authority"] == "owner"));
    let (status, orgs) = app.get_json("/api/organisations", None).await;
    assert_eq!(status, Status::Ok);
    assert!(
        orgs.as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "Folkehelseinstituttet" && o["organisation_number"] == "983744516")
    );
}

#[rocket::async_test]
async fn search_finds_sources_by_name_and_by_variable() {
    let app = TestApp::new().await;
    let (_, body) = app.get_json("/api/data-sources?q=pasientregister", None).await;
    let codes: Vec<&str> = body.as_array().unwrap().iter().map(|s| s["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"NPR"), "{codes:?}");
    let (_, body) = app.get_json("/api/data-sources?q=fodselsnummer", None).await;
    assert!(!body.as_array().unwrap().is_empty());
    let (_, body) = app.get_json("/api/data-sources?q=%25", None).await;
    assert!(body.as_array().unwrap().is_empty(), "% is literal, not a wildcard");
    let (status, html) = app.page("/data-sources?q=kreft").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("/data-sources/KRG"));
    assert!(!html.contains("/data-sources/NPR\""));
}

#[rocket::async_test]
async fn each_source_has_a_public_page_in_both_languages() {
    let app = TestApp::new().await;
    let (status, html) = app.page("/data-sources/NPR").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Norsk pasientregister") && html.contains("Helsedirektoratet") && html.contains("lopenr"));
    assert!(html.contains("Vedtaksmyndighet"));
    app.client.get("/language/en?next=/data-sources/NPR").dispatch().await;
    let (_, html) = app.page("/data-sources/NPR").await;
    assert!(html.contains("Norwegian Patient Registry") && html.contains("Decision authority"), "English page");
    assert!(html.contains("<html lang=\"en\">"));
    let (status, _) = app.page("/data-sources/NOPE").await;
    assert_eq!(status, Status::NotFound);
}

async fn npr(app: &TestApp) -> Value {
    app.get_json("/api/data-sources/NPR", None).await.1
}

#[rocket::async_test]
async fn admins_change_decision_authority_and_it_is_recorded() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    let token = app.token(&admin).await;
    let source = npr(&app).await;
    assert_eq!(source["decision_authority"], "hds");
    let mut body = json!({
        "code": "NPR", "name_nb": source["name_nb"], "name_en": source["name_en"], "kind": source["kind"],
        "owner_id": source["owner"]["id"], "decision_authority": "owner", "on_common_form": true,
        "description_nb": source["description_nb"], "description_en": source["description_en"], "version": source["version"],
    });
    let id = source["id"].as_i64().unwrap();
    let (status, updated) = app.put_json(&format!("/api/data-sources/{id}"), Some(&token), body.clone()).await;
    assert_eq!(status, Status::Ok, "{updated}");
    assert_eq!(updated["decision_authority"], "owner");
    let kinds = app.event_kinds("data_source", id).await;
    assert_eq!(kinds, vec!["data_source.updated", "data_source.decision_authority_changed"]);

    // The same (now stale) version again is a conflict and changes nothing.
    body["decision_authority"] = json!("hds");
    let (status, resp) = app.put_json(&format!("/api/data-sources/{id}"), Some(&token), body).await;
    assert_eq!(status, Status::Conflict, "{resp}");
    assert_eq!(npr(&app).await["decision_authority"], "owner");
}

#[rocket::async_test]
async fn only_admins_edit_the_catalogue() {
    let app = TestApp::new().await;
    let owner = app.user("register_owner", Some("983544622")).await;
    let officer = app.user("case_officer", None).await;
    let source = npr(&app).await;
    let id = source["id"].as_i64().unwrap();
    for u in [&owner, &officer] {
        let token = app.token(u).await;
        let (status, _) = app.put_json(&format!("/api/data-sources/{id}"), Some(&token), json!({})).await;
        assert!(status == Status::Forbidden || status == Status::UnprocessableEntity, "{status}");
        let (status, _) = app
            .put_json(&format!("/api/data-sources/{id}"), Some(&token), json!({"code": "NPR", "name_nb": "x", "name_en": "x", "kind": "health_survey", "owner_id": 1, "decision_authority": "owner", "on_common_form": false}))
            .await;
        assert_eq!(status, Status::Forbidden, "{} may not edit sources", u.role);
    }
    assert_eq!(npr(&app).await["decision_authority"], "hds");
}

#[rocket::async_test]
async fn new_sources_are_validated() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    let token = app.token(&admin).await;
    let (status, body) = app
        .post_json("/api/data-sources", Some(&token), json!({"code": "x", "name_nb": "", "name_en": "E", "kind": "blog", "owner_id": 99999, "decision_authority": "nobody", "on_common_form": true}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    for field in ["code", "name_nb", "name_en", "kind", "owner_id", "decision_authority"] {
        assert!(body["fields"][field].is_array(), "{field}: {body}");
    }
    let (status, _) = app
        .post_json("/api/data-sources", Some(&token), json!({"code": "NPR", "name_nb": "Dup", "name_en": "Dup", "kind": "health_survey", "owner_id": 1, "decision_authority": "owner", "on_common_form": true}))
        .await;
    assert_eq!(status, Status::Conflict);
    let (status, created) = app
        .post_json("/api/data-sources", Some(&token), json!({"code": "NORMENT", "name_nb": "Ny undersøkelse", "name_en": "New survey", "kind": "health_survey", "owner_id": 1, "decision_authority": "owner", "on_common_form": false}))
        .await;
    assert_eq!(status, Status::Created, "{created}");
    assert_eq!(created["code"], "NORMENT");
}

#[rocket::async_test]
async fn organisation_numbers_are_checked() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    let token = app.token(&admin).await;
    let (status, body) = app
        .post_json("/api/organisations", Some(&token), json!({"name": "Feil AS", "organisation_number": "971035855"}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["organisation_number"][0].as_str().unwrap().contains("check digit"), "{body}");
    let (status, _) = app
        .post_json("/api/organisations", Some(&token), json!({"name": "Feil AS", "organisation_number": "12345"}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    let (status, _) = app
        .post_json("/api/organisations", Some(&token), json!({"name": "FHI igjen", "organisation_number": "983744516"}))
        .await;
    assert_eq!(status, Status::Conflict);
    let (status, created) = app
        .post_json(
            "/api/organisations",
            Some(&token),
            json!({"name": "Universitetet i Oslo", "organisation_number": org_number(1)}),
        )
        .await;
    assert_eq!(status, Status::Created, "{created}");
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (status, _) = app
        .post_json("/api/organisations", Some(&token), json!({"name": "Mitt AS", "organisation_number": org_number(2)}))
        .await;
    assert_eq!(status, Status::Forbidden);
}

#[rocket::async_test]
async fn organisations_carry_the_address_and_account_their_invoices_give() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    let token = app.token(&admin).await;
    let number = org_number(3);
    // A postal code is four digits; an account number has eleven with a MOD11 check digit.
    let bad = json!({"name": "Forskningsinstituttet", "organisation_number": number, "postal_code": "213", "bank_account": "7694.05.12058"});
    let (status, body) = app.post_json("/api/organisations", Some(&token), bad).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["postal_code"].is_array() && body["fields"]["bank_account"].is_array(), "{body}");
    let good = json!({"name": "Forskningsinstituttet", "organisation_number": number, "postal_address": "Postboks 1", "postal_code": "0213", "city": "Oslo", "bank_account": "7694.05.12057"});
    let (status, created) = app.post_json("/api/organisations", Some(&token), good).await;
    assert_eq!(status, Status::Created, "{created}");
    assert_eq!(created["bank_account"], "76940512057", "stored without separators");
    let id = created["id"].as_i64().unwrap();

    // The admin page changes them; a bad account is refused beside its field and changes nothing.
    app.login(&admin).await;
    let path = format!("/admin/organisations/{id}");
    let csrf = app.csrf().await;
    let fields = |account: &'static str| {
        vec![
            ("name", "Forskningsinstituttet"),
            ("name_en", ""),
            ("organisation_number", ""),
            ("version", "1"),
            ("postal_address", "Gaustadalléen 21"),
            ("postal_code", "0349"),
            ("city", "Oslo"),
            ("bank_account", account),
        ]
    };
    let resp = app.form(&path, &fields("1234"), Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("id=\"f-bank_account-error\""), "the error beside the field");
    let (_, orgs) = app.get_json("/api/organisations", None).await;
    let org = orgs.as_array().unwrap().iter().find(|o| o["id"] == id).unwrap().clone();
    assert_eq!(org["postal_address"], "Postboks 1", "nothing changed");
    let resp = app.form(&path, &fields("1234 56 78903"), Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, orgs) = app.get_json("/api/organisations", None).await;
    let org = orgs.as_array().unwrap().iter().find(|o| o["id"] == id).unwrap().clone();
    assert_eq!(
        (org["postal_address"].as_str(), org["bank_account"].as_str()),
        (Some("Gaustadalléen 21"), Some("12345678903"))
    );
    let kinds = app.event_kinds("organisation", id).await;
    assert!(kinds.contains(&"organisation.updated".to_string()), "{kinds:?}");
}
