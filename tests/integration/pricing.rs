//! User payment: the estimate before submit, revised estimates that hold the case until the
//! applicant accepts them, hours, the combined bill and its parts, price list versions that
//! are frozen once published, and who may touch what.

use crate::applications_api::{attach_required, complete_form};
use crate::common::{TestApp, TestUser, csrf_in};
use rocket::http::Status;
use serde_json::{Value, json};

pub(crate) struct Cast {
    pub applicant: TestUser,
    pub applicant_token: String,
    pub officer_token: String,
    pub fhi_token: String,
    pub hdir_token: String,
}

/// A submitted application for NPR (Helsedirektoratet's, decided by Helsedataservice) and KRG
/// (FHI's, decided by FHI).
pub(crate) async fn two_source_case(app: &TestApp) -> (Cast, i64) {
    let applicant = app.user("applicant", None).await;
    let applicant_token = app.token(&applicant).await;
    let officer = app.user("case_officer", None).await;
    let fhi = app.user("register_owner", Some("983744516")).await;
    let hdir = app.user("register_owner", Some("983544622")).await;
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
    let cast = Cast {
        officer_token: app.token(&officer).await,
        fhi_token: app.token(&fhi).await,
        hdir_token: app.token(&hdir).await,
        applicant,
        applicant_token,
    };
    (cast, id)
}

pub(crate) async fn cmd(app: &TestApp, token: &str, id: i64, command: &str, body: Value) -> (Status, Value) {
    app.post_json(&format!("/api/applications/{id}/{command}"), Some(token), body).await
}

pub(crate) fn release_id(case: &Value, code: &str) -> i64 {
    case["releases"].as_array().unwrap().iter().find(|r| r["code"] == code).unwrap()["id"].as_i64().unwrap()
}

fn sum_of_lines(invoice: &Value) -> i64 {
    invoice["lines"].as_array().unwrap().iter().map(|l| l["amount_ore"].as_i64().unwrap()).sum()
}

#[rocket::async_test]
async fn the_estimate_is_shown_before_submit_with_rates_and_exemptions() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), complete_form(&app).await).await;
    let id = draft["id"].as_i64().unwrap();
    attach_required(&app, &token, id).await;
    app.login(&applicant).await;
    let (_, html) = app.page(&format!("/applications/{id}/edit")).await;
    assert!(html.contains("NOK 1\u{a0}500,00"), "the form itself shows the estimate");
    let (status, html) = app.page(&format!("/applications/{id}/submit")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("1\u{a0}500,00"), "the intake fee of one source");
    assert!(html.contains("1\u{a0}155,00"), "Helsedataservice's hourly rate (it decides NPR)");
    assert!(html.contains("Helsedirektoratet"), "the owner's rate is named by organisation");
    assert!(html.contains("name=\"estimate_ore\" value=\"150000\""), "the amount accepted at submit");
    // The draft's API view shows the same estimate with its lines.
    let (_, body) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(body["estimate"]["current_ore"], 150_000);
    assert_eq!(body["estimate"]["lines"][0]["item_code"], "intake-one");
    assert!(body["invoice"].is_null());

    // A master's thesis on aggregated data is free, and the page says why.
    let mut form = complete_form(&app).await;
    form["kind"] = json!("aggregated");
    form["student_thesis"] = json!({"level": "master", "supervisor": "Prof. Veileder"});
    form["invoice_recipient"] = Value::Null;
    let (_, draft) = app.post_json("/api/applications", Some(&token), form).await;
    let id = draft["id"].as_i64().unwrap();
    let (_, html) = app.page(&format!("/applications/{id}/submit")).await;
    assert!(html.contains("gratis: studentoppgave med aggregerte data"), "the exemption reason is printed");
    let (_, body) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(body["estimate"]["current_ore"], 0);
    assert_eq!(body["estimate"]["fee_exemption"], "student_thesis");
}

#[rocket::async_test]
async fn a_revised_estimate_holds_the_case_until_the_applicant_accepts_it() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let (_, body) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(body["estimate"]["amount_ore"], 300_000, "several sources at submission");

    // Only officers and owners send estimates, with a message and a duration.
    let path = format!("/api/applications/{id}/estimate");
    let (status, _) = app.post_json(&path, Some(&c.applicant_token), json!({"hours": 2, "message": "x"})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, body) = app.post_json(&path, Some(&c.fhi_token), json!({"hours": "abc", "message": ""})).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["hours"].is_array() && body["fields"]["message"].is_array(), "{body}");
    // Kreftregisteret's extracts: 2 hours estimated, 10 hours minimum at NOK 820.
    let (status, revised) =
        app.post_json(&path, Some(&c.fhi_token), json!({"hours": 2, "message": "Uttrekk fra KRG."})).await;
    assert_eq!(status, Status::Created, "{revised}");
    assert_eq!(revised["total_ore"], 820_000);
    let (_, notices) = app.get_json("/api/notifications", Some(&c.applicant_token)).await;
    assert!(notices.to_string().contains("estimate.revised"), "the applicant is told: {notices}");

    // While it waits, the case does not go on.
    let (status, body) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    assert_eq!(status, Status::Conflict, "{body}");
    assert!(body["error"].as_str().unwrap().contains("revised price estimate"), "{body}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(case["state"], "submitted");
    assert_eq!(case["estimate"]["pending"], true);

    // Nobody but the applicant accepts it.
    let accept = format!("/api/applications/{id}/accept-estimate");
    let (status, _) = app.post_json(&accept, Some(&c.officer_token), json!({})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, body) = app.post_json(&accept, Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (status, _) = app.post_json(&accept, Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Conflict, "nothing left to accept");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(case["estimate"]["pending"], false);
    let (_, notices) = app.get_json("/api/notifications", Some(&c.officer_token)).await;
    assert!(notices.to_string().contains("estimate.accepted"), "the officers are told: {notices}");
    assert_eq!(case["estimate"]["amount_ore"], 300_000 + 820_000, "the accepted estimate is the new total");
    let kinds = app.event_kinds("application", id).await;
    assert!(kinds.contains(&"estimate.revised".to_string()) && kinds.contains(&"estimate.accepted".to_string()));
    let accepted = case["events"].as_array().unwrap().iter().find(|e| e["kind"] == "estimate.accepted").unwrap();
    assert_eq!(accepted["payload"]["estimate_id"], revised["id"]);
    assert_eq!(accepted["actor_id"], c.applicant.id);

    let (status, case) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    assert_eq!(status, Status::Ok, "{case}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;

    // A new estimate in review holds release decisions and the decision too.
    let (status, _) = app
        .post_json(
            &path,
            Some(&c.officer_token),
            json!({"hours_minutes": "1:30", "hours": "1:30", "message": "Dispensasjon."}),
        )
        .await;
    assert_eq!(status, Status::Created);
    let krg = release_id(&case, "KRG");
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Conflict);
    app.post_json(&accept, Some(&c.applicant_token), json!({})).await;
    let (status, _) =
        app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Ok);

    // An estimate may also be a fixed amount; its lines are checked like any field.
    let (status, body) = app
        .post_json(
            &path,
            Some(&c.fhi_token),
            json!({"lines": [{"description": "", "amount_ore": -1}], "message": "Fast pris."}),
        )
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(
        body["fields"]["lines.0.amount_ore"].is_array() && body["fields"]["lines.0.description"].is_array(),
        "{body}"
    );
    let (status, body) = app
        .post_json(&path, Some(&c.fhi_token), json!({"lines": [{"description": "Fast pris for uttrekk", "amount_ore": 500_000}], "message": "Fast pris."}))
        .await;
    assert_eq!(status, Status::Created, "{body}");
    assert_eq!(body["total_ore"], 500_000);
    app.post_json(&accept, Some(&c.applicant_token), json!({})).await;
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    // Intake + the officer's 1:30 (2 started hours) + FHI's latest estimate, which replaced its hours.
    assert_eq!(case["estimate"]["amount_ore"], 300_000 + 2 * 115_500 + 500_000);
}

#[rocket::async_test]
async fn hours_become_a_combined_bill_whose_totals_are_the_sum_of_its_lines() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let hours = format!("/api/applications/{id}/hours");

    // Applicants do not record hours; bad durations are refused beside the field.
    let (status, _) = app.post_json(&hours, Some(&c.applicant_token), json!({"hours": 1})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, body) = app.post_json(&hours, Some(&c.officer_token), json!({"hours": "25"})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    // 61 minutes of case handling = 2 started hours.
    let (status, body) =
        app.post_json(&hours, Some(&c.officer_token), json!({"hours": "1:01", "note": "Vurdering"})).await;
    assert_eq!(status, Status::Created, "{body}");
    let (status, _) = app.post_json(&hours, Some(&c.fhi_token), json!({"minutes": 120})).await;
    assert_eq!(status, Status::Created);
    assert!(app.event_kinds("application", id).await.contains(&"hours.recorded".to_string()));
    let (status, records) = app.get_json(&hours, Some(&c.officer_token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(records.as_array().unwrap().len(), 2);

    let (_, case) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    let (npr, krg) = (release_id(&case, "NPR"), release_id(&case, "KRG"));
    app.post_json(&format!("/api/releases/{npr}/decide"), Some(&c.officer_token), json!({"approve": true})).await;
    app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    let (status, case) = cmd(&app, &c.officer_token, id, "decide", json!({"reasons": "Innvilget."})).await;
    assert_eq!(status, Status::Ok, "{case}");

    // At the decision: Helsedataservice's part (intake of several sources + 2 started hours).
    let invoice = &case["invoice"];
    assert_eq!(invoice["status"], "draft");
    assert_eq!(invoice["parts"].as_array().unwrap().len(), 1);
    assert_eq!(invoice["total_ore"], 300_000 + 2 * 115_500);
    assert_eq!(invoice["total_ore"].as_i64().unwrap(), sum_of_lines(invoice) + invoice["vat_ore"].as_i64().unwrap());
    assert_eq!(invoice["vat_ore"], 0, "VAT 0 % unless configured");
    assert_eq!(invoice["recipient"]["reference"], "PRJ-42", "the recipient comes from the form");
    assert!(invoice["lines"].as_array().unwrap().iter().all(|l| l["organisation"] == "Helsedataservice"));

    // At delivery: the owners' parts (FHI's KRG extract, 10-hour minimum).
    let (status, _) = app
        .post_json(&format!("/api/releases/{krg}/delivered"), Some(&c.fhi_token), json!({"environment": "TSD"}))
        .await;
    assert_eq!(status, Status::Ok);
    let (status, _) = app
        .post_json(&format!("/api/releases/{npr}/delivered"), Some(&c.hdir_token), json!({"environment": "TSD"}))
        .await;
    assert_eq!(status, Status::Ok);
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(case["state"], "delivered");
    let invoice = &case["invoice"];
    let parts = invoice["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{invoice}");
    let fhi_part = parts.iter().find(|p| p["organisation"] == "Folkehelseinstituttet").unwrap();
    assert_eq!(fhi_part["total_ore"], 10 * 82_000);
    assert_eq!(invoice["total_ore"].as_i64().unwrap(), sum_of_lines(invoice));
    assert_eq!(invoice["total_ore"], 300_000 + 2 * 115_500 + 10 * 82_000);
    let hds_part = parts.iter().find(|p| p["organisation"] == "Helsedataservice").unwrap();
    let (fhi_id, hds_id) = (fhi_part["id"].as_i64().unwrap(), hds_part["id"].as_i64().unwrap());

    // Each organisation's part is invoiced on its own: FHI issues its own, not Helsedataservice's.
    let (status, _) = app.post_json(&format!("/api/invoices/{hds_id}/issue"), Some(&c.fhi_token), json!({})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, part) = app.post_json(&format!("/api/invoices/{fhi_id}/issue"), Some(&c.fhi_token), json!({})).await;
    let (_, notices) = app.get_json("/api/notifications", Some(&c.applicant_token)).await;
    assert!(notices.to_string().contains("invoice.issued"), "the applicant is told: {notices}");
    assert_eq!(status, Status::Ok, "{part}");
    assert_eq!(part["status"], "issued");
    let (status, _) = app.post_json(&format!("/api/invoices/{fhi_id}/issue"), Some(&c.fhi_token), json!({})).await;
    assert_eq!(status, Status::Conflict, "issued once");
    let (status, _) =
        app.post_json(&format!("/api/invoices/{fhi_id}/waive"), Some(&c.fhi_token), json!({"reason": "x"})).await;
    assert_eq!(status, Status::Forbidden, "owners do not waive");
    let (status, _) = app.post_json(&format!("/api/invoices/{fhi_id}/pay"), Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Forbidden);
    let (status, _) = app.post_json(&format!("/api/invoices/{fhi_id}/pay"), Some(&c.fhi_token), json!({})).await;
    assert_eq!(status, Status::Ok);
    let (status, _) = app.post_json(&format!("/api/invoices/{hds_id}/waive"), Some(&c.officer_token), json!({})).await;
    assert_eq!(status, Status::UnprocessableEntity, "a waiver needs a reason");
    let (status, part) = app
        .post_json(
            &format!("/api/invoices/{hds_id}/waive"),
            Some(&c.officer_token),
            json!({"reason": "Feil i saksbehandlingen."}),
        )
        .await;
    assert_eq!(status, Status::Ok, "{part}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(case["invoice"]["status"], "paid", "every part settled");
    let kinds = app.event_kinds("application", id).await;
    for k in ["invoice.drafted", "invoice.issued", "invoice.paid", "invoice.waived"] {
        assert!(kinds.contains(&k.to_string()), "{k} in {kinds:?}");
    }
    let issued = case["events"].as_array().unwrap().iter().find(|e| e["kind"] == "invoice.issued").unwrap();
    assert_eq!(issued["payload"], json!({"invoice_id": fhi_id, "total_ore": 820_000}));

    // Each part also comes as a structured (EHF / PEPPOL-style UBL) document.
    let resp = app
        .client
        .get(format!("/api/invoices/{fhi_id}/ehf"))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", c.applicant_token)))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Ok);
    let xml = resp.into_string().await.unwrap();
    assert!(xml.contains("<cbc:PayableAmount currencyID=\"NOK\">8200.00</cbc:PayableAmount>"), "{xml}");
    assert!(xml.contains("983744516") && xml.contains("971035854"));

    // The invoice lists: every part for officers, the own organisation's for owners, none for applicants.
    let officer = app.user("case_officer", None).await;
    app.login(&officer).await;
    let (status, html) = app.page("/invoices").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(hds_part["number"].as_str().unwrap()) && html.contains(fhi_part["number"].as_str().unwrap()));
    let (_, html) = app.page("/invoices?status=paid").await;
    assert!(
        html.contains(fhi_part["number"].as_str().unwrap()) && !html.contains(hds_part["number"].as_str().unwrap())
    );
    let fhi_user = app.user("register_owner", Some("983744516")).await;
    app.login(&fhi_user).await;
    let (_, html) = app.page("/invoices").await;
    assert!(
        html.contains(fhi_part["number"].as_str().unwrap()) && !html.contains(hds_part["number"].as_str().unwrap())
    );
    app.login(&c.applicant).await;
    let (status, _) = app.page("/invoices").await;
    assert_eq!(status, Status::Forbidden);

    // The printable bill names every organisation; strangers get 404.
    app.login(&c.applicant).await;
    let (status, html) = app.page(&format!("/applications/{id}/invoice")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Folkehelseinstituttet") && html.contains("Helsedataservice") && html.contains("PRJ-42"));
    let stranger = app.user("applicant", None).await;
    let stranger_token = app.token(&stranger).await;
    let (status, _) = app.get_json(&format!("/api/applications/{id}/invoice"), Some(&stranger_token)).await;
    assert_eq!(status, Status::NotFound);
    let (status, _) = app.post_json(&format!("/api/invoices/{fhi_id}/pay"), Some(&stranger_token), json!({})).await;
    assert_eq!(status, Status::NotFound);
    let (status, _) = app.get_json(&format!("/api/invoices/{fhi_id}/ehf"), Some(&stranger_token)).await;
    assert_eq!(status, Status::NotFound);
    app.login(&stranger).await;
    let (status, _) = app.page(&format!("/applications/{id}/invoice")).await;
    assert_eq!(status, Status::NotFound);
}

#[rocket::async_test]
async fn work_during_an_appeal_is_free() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let (_, case) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    let (npr, krg) = (release_id(&case, "NPR"), release_id(&case, "KRG"));
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
    cmd(&app, &c.officer_token, id, "decide", json!({})).await;
    cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "Feil lovforståelse."})).await;
    let (status, _) =
        app.post_json(&format!("/api/applications/{id}/hours"), Some(&c.officer_token), json!({"hours": 3})).await;
    assert_eq!(status, Status::Created);
    let (status, invoice) =
        app.post_json(&format!("/api/applications/{id}/invoice"), Some(&c.officer_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{invoice}");
    let appeal = invoice["lines"].as_array().unwrap().iter().find(|l| l["exempt"] == "appeal").expect("an appeal line");
    assert_eq!((appeal["quantity"].as_i64(), appeal["amount_ore"].as_i64()), (Some(3), Some(0)));
    assert_eq!(invoice["total_ore"], 300_000, "only the intake fee");
    let (status, _) = app.post_json(&format!("/api/applications/{id}/invoice"), Some(&c.fhi_token), json!({})).await;
    assert_eq!(status, Status::Forbidden, "owners do not draft the bill");
}

async fn admin_token(app: &TestApp) -> String {
    let admin = app.user("admin", None).await;
    app.token(&admin).await
}

async fn hds_id(app: &TestApp) -> i64 {
    let (_, orgs) = app.get_json("/api/organisations", None).await;
    orgs.as_array().unwrap().iter().find(|o| o["organisation_number"] == "915933149").unwrap()["id"].as_i64().unwrap()
}

fn item(code: &str, nok: i64) -> Value {
    json!({"code": code, "description_nb": "Mottak", "description_en": "Intake", "unit": "per_application_one_source",
           "amount_ore": nok * 100, "exempt_kinds": ["student_thesis"]})
}

#[rocket::async_test]
async fn a_published_version_can_never_be_edited() {
    let app = TestApp::new().await;
    let token = admin_token(&app).await;
    let hds = hds_id(&app).await;
    let next_year = (chrono::Utc::now().date_naive() + chrono::Duration::days(365)).to_string();
    let (status, list) = app
        .post_json(
            "/api/price-lists",
            Some(&token),
            json!({"organisation_id": hds, "valid_from": next_year, "copy_current": true}),
        )
        .await;
    assert_eq!(status, Status::Created, "{list}");
    assert_eq!(list["state"], "draft");
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "copied from the version in force");
    let id = list["id"].as_i64().unwrap();
    let intake =
        list["items"].as_array().unwrap().iter().find(|i| i["code"] == "intake-one").unwrap()["id"].as_i64().unwrap();
    let (status, body) =
        app.put_json(&format!("/api/price-lists/{id}/items/{intake}"), Some(&token), item("intake-one", 1800)).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (status, body) =
        app.post_json(&format!("/api/price-lists/{id}/items"), Some(&token), item("intake-one", 1)).await;
    assert_eq!(status, Status::Conflict, "duplicate code: {body}");
    let (status, body) = app
        .post_json(&format!("/api/price-lists/{id}/items"), Some(&token), json!({"code": "x y", "unit": "per_week"}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity);
    for f in ["code", "unit", "amount", "description_nb"] {
        assert!(body["fields"][f].is_array(), "{f}: {body}");
    }
    let (status, body) =
        app.post_json(&format!("/api/price-lists/{id}/publish"), Some(&token), json!({"version": 1})).await;
    assert_eq!(status, Status::Conflict, "the reviewed version is stale: {body}");
    let (status, published) = app.post_json(&format!("/api/price-lists/{id}/publish"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Ok, "{published}");
    assert_eq!(published["state"], "published");

    // Published: every change is refused with 409, and the database refuses it too.
    let (status, body) =
        app.put_json(&format!("/api/price-lists/{id}/items/{intake}"), Some(&token), item("intake-one", 1)).await;
    assert_eq!(status, Status::Conflict, "{body}");
    assert!(body["error"].as_str().unwrap().contains("never be changed"));
    let (status, _) = app.post_json(&format!("/api/price-lists/{id}/items"), Some(&token), item("new", 1)).await;
    assert_eq!(status, Status::Conflict);
    let (status, _) = app
        .put_json(&format!("/api/price-lists/{id}"), Some(&token), json!({"valid_from": next_year, "version": 5}))
        .await;
    assert_eq!(status, Status::Conflict);
    let resp = app
        .client
        .delete(format!("/api/price-lists/{id}/items/{intake}"))
        .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    assert_eq!(resp.status(), Status::Conflict);
    let (status, _) = app.post_json(&format!("/api/price-lists/{id}/publish"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Conflict);
    assert!(app.sql(&format!("UPDATE price_items SET amount_ore = 1 WHERE price_list_id = {id}")).await.is_err());
    assert!(app.sql(&format!("DELETE FROM price_lists WHERE id = {id}")).await.is_err());
    assert!(
        app.sql("UPDATE price_lists SET valid_from = '2020-01-01' WHERE state = 'published'").await.is_err(),
        "the demo lists in force too"
    );

    // The new version shows as upcoming; the one in force is unchanged.
    let (_, public) = app.get_json("/api/price-list", None).await;
    let hds_current =
        public["price_lists"].as_array().unwrap().iter().find(|l| l["organisation"]["id"] == hds).unwrap();
    let current_intake = hds_current["items"].as_array().unwrap().iter().find(|i| i["code"] == "intake-one").unwrap();
    assert_eq!(current_intake["amount_ore"], 150_000);
    assert!(public["upcoming"].as_array().unwrap().iter().any(|l| l["id"] == id));

    // A version cannot come into force in the past.
    let (_, draft) = app
        .post_json(
            "/api/price-lists",
            Some(&token),
            json!({"organisation_id": hds, "valid_from": "2024-01-01", "copy_current": true}),
        )
        .await;
    let (status, body) =
        app.post_json(&format!("/api/price-lists/{}/publish", draft["id"]), Some(&token), json!({})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    let kinds = app.event_kinds("price_list", id).await;
    assert!(
        kinds.contains(&"price_list.published".to_string()) && kinds.contains(&"price_list.item_edited".to_string())
    );
}

#[rocket::async_test]
async fn owners_manage_only_their_own_price_lists() {
    let app = TestApp::new().await;
    let fhi = app.user("register_owner", Some("983744516")).await;
    let token = app.token(&fhi).await;
    let hds = hds_id(&app).await;
    let (status, lists) = app.get_json("/api/price-lists", Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert!(
        lists.as_array().unwrap().iter().all(|l| l["organisation"]["organisation_number"] == "983744516"),
        "{lists}"
    );
    let admin = admin_token(&app).await;
    let (_, all) = app.get_json("/api/price-lists", Some(&admin)).await;
    let hds_list =
        all.as_array().unwrap().iter().find(|l| l["organisation"]["id"] == hds).unwrap()["id"].as_i64().unwrap();
    let (_, draft) = app
        .post_json("/api/price-lists", Some(&admin), json!({"organisation_id": hds, "valid_from": "2099-01-01"}))
        .await;
    let hds_draft = draft["id"].as_i64().unwrap();

    // Another organisation's versions do not exist for FHI.
    let (status, _) = app.get_json(&format!("/api/price-lists/{hds_list}"), Some(&token)).await;
    assert_eq!(status, Status::NotFound);
    let (status, _) = app.post_json(&format!("/api/price-lists/{hds_draft}/items"), Some(&token), item("x", 1)).await;
    assert_eq!(status, Status::NotFound);
    let (status, _) = app.post_json(&format!("/api/price-lists/{hds_draft}/publish"), Some(&token), json!({})).await;
    assert_eq!(status, Status::NotFound);
    let (status, _) = app
        .post_json("/api/price-lists", Some(&token), json!({"organisation_id": hds, "valid_from": "2099-01-01"}))
        .await;
    assert_eq!(status, Status::NotFound);
    // Its own: fine.
    let (status, own) = app.post_json("/api/price-lists", Some(&token), json!({"valid_from": "2099-01-01"})).await;
    assert_eq!(status, Status::Created, "{own}");
    assert_eq!(own["organisation"]["organisation_number"], "983744516");
    // Applicants and officers manage none.
    for role in ["applicant", "case_officer"] {
        let u = app.user(role, None).await;
        let t = app.token(&u).await;
        let (status, _) = app.get_json("/api/price-lists", Some(&t)).await;
        assert_eq!(status, Status::Forbidden, "{role}");
    }

    // The admin pages: the owner sees its own lists, not another's.
    app.login(&fhi).await;
    let (status, html) = app.page("/admin/price-lists").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Folkehelseinstituttet") && !html.contains("<td>Helsedataservice</td>"));
    let (status, _) = app.page(&format!("/admin/price-lists/{hds_list}")).await;
    assert_eq!(status, Status::NotFound);
}

#[rocket::async_test]
async fn the_price_list_admin_pages_draft_edit_and_publish() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let hds = hds_id(&app).await;
    let (status, html) = app.page("/admin/price-lists").await;
    assert_eq!(status, Status::Ok);
    let csrf = csrf_in(&html);
    let resp = app
        .form(
            "/admin/price-lists",
            &[
                ("organisation_id", &hds.to_string()),
                ("valid_from", "2099-01-01"),
                ("note_nb", ""),
                ("note_en", ""),
                ("copy_current", "on"),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let location = resp.headers().get_one("Location").unwrap().to_string();
    let (_, html) = app.page(&location).await;
    assert!(html.contains("intake-several"), "items copied");
    let resp = app
        .form(
            &format!("{location}/items"),
            &[
                ("code", "delivery"),
                ("description_nb", "Utlevering"),
                ("description_en", "Delivery"),
                ("unit", "per_delivery"),
                ("amount_nok", "abc"),
                ("data_source_code", ""),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity, "the error is shown beside the field");
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("f-amount_nok") && html.contains("has-error"));
    let resp = app
        .form(
            &format!("{location}/items"),
            &[
                ("code", "delivery"),
                ("description_nb", "Utlevering"),
                ("description_en", "Delivery"),
                ("unit", "per_delivery"),
                ("amount_nok", "500"),
                ("data_source_code", ""),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    // Refused edits keep what was typed: the header's note, and the item's fields in its own
    // form (open), not in the form that adds an item.
    let (_, html) = app.page(&location).await;
    let marker = "name=\"version\" value=\"";
    let version = html[html.rfind(marker).unwrap() + marker.len()..].split('"').next().unwrap().to_string();
    let header =
        [("valid_from", "neste år"), ("note_nb", "Nye satser fra Stortinget"), ("note_en", ""), ("version", &version)];
    let resp = app.form(&location, &header, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let page = crate::common::unescape(&resp.into_string().await.unwrap());
    assert!(page.contains("value=\"Nye satser fra Stortinget\"") && page.contains("value=\"neste år\""), "{page}");
    let item =
        html.split(&format!("action=\"{location}/items/")).nth(1).unwrap().split('"').next().unwrap().to_string();
    let edit = [
        ("code", "delivery"),
        ("description_nb", "Utlevering av data"),
        ("description_en", "Delivery of data"),
        ("unit", "per_delivery"),
        ("amount_nok", "femhundre"),
        ("data_source_code", ""),
    ];
    let resp = app.form(&format!("{location}/items/{item}"), &edit, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let page = crate::common::unescape(&resp.into_string().await.unwrap());
    let form =
        page.split(&format!("action=\"{location}/items/{item}\"")).nth(1).unwrap().split("</form>").next().unwrap();
    assert!(form.contains("value=\"Utlevering av data\"") && form.contains("value=\"femhundre\""), "{form}");
    assert!(
        form.contains("<p class=\"error\" role=\"alert\">Pris (kr, eks. mva.): "),
        "the reason, naming the field: {form}"
    );
    assert!(page.contains("<details open>"), "its form is open");
    let (_, html) = app.page(&location).await;
    assert!(html.contains("value=\"Utlevering\""), "nothing changed");
    // An item is removed from the draft, and the page says so (not "saved").
    let resp = app.form(&format!("{location}/items/{item}/delete"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(resp.headers().get_one("Location"), Some(location.as_str()));
    let (_, html) = app.page(&location).await;
    assert!(html.contains("Prisen er fjernet fra utkastet."), "said so");
    assert!(!html.contains(&format!("{location}/items/{item}\"")), "and gone");
    let version = html[html.rfind(marker).unwrap() + marker.len()..].split('"').next().unwrap().to_string();
    let resp = app.form(&format!("{location}/publish"), &[("version", &version)], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&location).await;
    assert!(!html.contains("/publish\""), "no more forms once published");
    let resp = app
        .form(
            &format!("{location}/items"),
            &[
                ("code", "more"),
                ("description_nb", "a"),
                ("description_en", "a"),
                ("unit", "per_delivery"),
                ("amount_nok", "1"),
                ("data_source_code", ""),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::Conflict);
}

#[rocket::async_test]
async fn the_public_price_list_shows_the_versions_in_force() {
    let app = TestApp::new().await;
    let (status, body) = app.get_json("/api/price-list", None).await;
    assert_eq!(status, Status::Ok);
    let lists = body["price_lists"].as_array().unwrap();
    let hds = lists.iter().find(|l| l["organisation"]["is_hds"] == true).unwrap();
    assert_eq!(hds["valid_from"], "2023-03-15");
    let amount = |l: &Value, code: &str| {
        l["items"].as_array().unwrap().iter().find(|i| i["code"] == code).map(|i| i["amount_ore"].clone())
    };
    assert_eq!(amount(hds, "intake-one"), Some(json!(150_000)));
    assert_eq!(amount(hds, "intake-several"), Some(json!(300_000)));
    assert_eq!(amount(hds, "case-handling"), Some(json!(115_500)));
    let fhi = lists.iter().find(|l| l["organisation"]["organisation_number"] == "983744516").unwrap();
    assert_eq!(amount(fhi, "fhi-hour"), Some(json!(105_500)));
    let krg = fhi["items"].as_array().unwrap().iter().find(|i| i["code"] == "krg-extract").unwrap();
    assert_eq!((krg["amount_ore"].as_i64(), krg["minimum_quantity"].as_i64()), (Some(82_000), Some(10)));
    assert!(lists.len() >= 8, "every organisation has a list in force");

    let (status, html) = app.page("/price-list").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Prisliste") && html.contains("1\u{a0}155,00") && html.contains("<caption>"));
    assert!(html.contains("href=\"/price-list\""), "linked from the navigation");
    app.page("/language/en?next=/price-list").await;
    let (_, html) = app.page("/price-list").await;
    assert!(html.contains("Price list") && html.contains("per started hour"));
}

#[rocket::async_test]
async fn the_case_page_records_hours_and_the_applicant_accepts_there() {
    let app = TestApp::new().await;
    let (c, id) = two_source_case(&app).await;
    let officer = app.user("case_officer", None).await;
    app.login(&officer).await;
    let (status, html) = app.page(&format!("/applications/{id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&format!("action=\"/applications/{id}/hours\"")));
    assert!(html.contains(&format!("action=\"/applications/{id}/estimate\"")));
    assert!(html.contains("Lag fakturautkast nå") && !html.contains("Regn ut fakturautkastene"), "no draft yet");
    let csrf = csrf_in(&html);
    let resp =
        app.form(&format!("/applications/{id}/hours"), &[("hours", "1,5"), ("note", "Kontroll")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    // Drafted: the button says the drafts are calculated again, and the parts' actions column
    // is named for what it holds.
    let resp = app.form(&format!("/applications/{id}/invoice/generate"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert_eq!(crate::common::landed(&html, "invoice"), "Fakturautkastet er laget.");
    assert!(html.contains("Regn ut fakturautkastene på nytt") && !html.contains("Lag fakturautkast nå"));
    assert!(html.contains("<th scope=\"col\">Handlinger</th>"));
    // Hours that are no figure: the message stays in the form, beside the reason.
    let resp = app
        .form(
            &format!("/applications/{id}/estimate"),
            &[("hours", "fire"), ("message", "Mer arbeid enn ventet.")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let page = resp.into_string().await.unwrap();
    assert!(page.contains(">Mer arbeid enn ventet.</textarea>") && page.contains("href=\"#form-estimate\""), "{page}");
    let resp = app
        .form(
            &format!("/applications/{id}/estimate"),
            &[("hours", "4"), ("message", "Mer arbeid enn ventet.")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Kontroll") && html.contains("1:30"));
    let (_, inbox) = app.page("/inbox").await;
    assert!(inbox.contains("prisoverslag venter på godkjenning"), "the inbox marks cases waiting for the applicant");

    app.login(&c.applicant).await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Mer arbeid enn ventet."));
    assert!(html.contains("Du må godta det reviderte prisoverslaget"), "the next step is the applicant's");
    assert!(html.contains("Et revidert prisoverslag ble sendt"), "the timeline names the event");
    assert!(!html.contains(&format!("action=\"/applications/{id}/hours\"")), "applicants record no hours");
    assert!(!html.contains("Kontroll"), "time records are internal");
    let csrf = csrf_in(&html);
    let resp = app.form(&format!("/applications/{id}/accept-estimate"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(resp.headers().get_one("Location"), Some(format!("/applications/{id}#payment").as_str()));
    // The confirmation is shown where the browser lands, in the payment section.
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert_eq!(crate::common::landed(&html, "payment"), "Du har godtatt det reviderte prisoverslaget.");
    // Accepting twice is refused there too, and the page after shows no message.
    let resp = app.form(&format!("/applications/{id}/accept-estimate"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("flash-error\" role=\"status\" data-landed>"), "the refusal in its section");
    assert!(!crate::common::landed(&html, "payment").is_empty());
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(!html.contains("data-landed"), "a message is shown once");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(case["estimate"]["pending"], false);
    assert_eq!(case["estimate"]["amount_ore"], 300_000 + 4 * 115_500);
    app.login(&officer).await;
    let (_, inbox) = app.page("/inbox").await;
    assert!(!inbox.contains("prisoverslag venter på godkjenning"), "accepted: the inbox no longer marks it");
}

/// Whether every revised estimate of a case (as the API shows it) has lapsed.
fn lapsed(case: &Value) -> bool {
    case["estimate"]["revised"].as_array().unwrap().iter().all(|r| r["lapsed_at"].is_string())
}

/// The `estimate.lapsed` events of a case after its last `application.*` event that name its
/// latest estimate.
async fn lapse_events(app: &TestApp, id: i64) -> i64 {
    let sql = format!(
        "SELECT count(*) AS n FROM events e WHERE subject_id = {id} AND kind = 'estimate.lapsed' \
         AND e.id > (SELECT max(id) FROM events WHERE subject_id = {id} AND kind LIKE 'application.%') \
         AND (payload->>'estimate_id')::bigint = (SELECT max(id) FROM estimates WHERE application_id = {id})"
    );
    crate::common::count(app, &sql).await
}

#[rocket::async_test]
async fn a_waiting_estimate_lapses_when_the_case_ends() {
    let app = TestApp::new().await;
    // Withdrawn while FHI's revised estimate waits.
    let (c, id) = two_source_case(&app).await;
    let path = format!("/api/applications/{id}/estimate");
    let (status, _) =
        app.post_json(&path, Some(&c.fhi_token), json!({"hours": 2, "message": "Uttrekk fra KRG."})).await;
    assert_eq!(status, Status::Created);
    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/withdraw"), Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(case["state"], "withdrawn");
    assert_eq!(case["estimate"]["pending"], false, "nothing waits on an ended case");
    assert!(lapsed(&case), "{case}");
    assert_eq!(case["estimate"]["amount_ore"], 300_000, "a lapsed estimate was never the price");
    assert_eq!(lapse_events(&app, id).await, 1, "one event, after the case's own, naming the estimate");
    let accept = format!("/api/applications/{id}/accept-estimate");
    let (status, _) = app.post_json(&accept, Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Conflict, "nothing is left to accept");
    app.login(&c.applicant).await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(!html.contains("Du må godta det reviderte prisoverslaget"), "not asked to accept");
    assert!(!html.contains(&format!("action=\"/applications/{id}/accept-estimate\"")));
    assert!(html.contains("Det reviderte prisoverslaget falt bort da saken ble avsluttet"), "the timeline says so");

    // Closed: refused, appealed, an estimate sent for the reconsideration, upheld by the
    // deciding bodies and by Helseklage, then closed with the estimate still waiting.
    let (c, id) = two_source_case(&app).await;
    cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    let (npr, krg) = (release_id(&case, "NPR"), release_id(&case, "KRG"));
    let refuse = json!({"approve": false, "reasons": "Ikke nødvendig."});
    app.post_json(&format!("/api/releases/{npr}/decide"), Some(&c.officer_token), refuse.clone()).await;
    app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), refuse).await;
    let (status, body) = cmd(&app, &c.officer_token, id, "decide", json!({"reasons": "Vurdert."})).await;
    assert_eq!((status, body["state"].as_str()), (Status::Ok, Some("rejected")), "{body}");
    let (status, _) = cmd(&app, &c.applicant_token, id, "appeal", json!({"grounds": "Dataene trengs."})).await;
    assert_eq!(status, Status::Ok);
    let path = format!("/api/applications/{id}/estimate");
    let (status, _) = app.post_json(&path, Some(&c.fhi_token), json!({"hours": 3, "message": "Ny vurdering."})).await;
    assert_eq!(status, Status::Created, "work on an appeal may be estimated");
    let uphold = json!({"reverse": false, "reasons": "Står ved avslaget."});
    for (release, token) in [(npr, &c.officer_token), (krg, &c.fhi_token)] {
        let (status, body) =
            app.post_json(&format!("/api/releases/{release}/reconsider"), Some(token), uphold.clone()).await;
        assert_eq!(status, Status::Ok, "{body}");
    }
    let helseklage = json!({"outcome": "upheld", "decided_on": "2026-11-30", "reference": "HK-2026/78"});
    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/helseklage"), Some(&c.officer_token), helseklage).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.officer_token)).await;
    assert_eq!(case["estimate"]["pending"], true, "{case}");
    let (status, body) = cmd(&app, &c.officer_token, id, "close", json!({})).await;
    assert_eq!((status, body["state"].as_str()), (Status::Ok, Some("closed")), "{body}");
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(case["estimate"]["pending"], false);
    assert!(lapsed(&case), "{case}");
    assert_eq!(lapse_events(&app, id).await, 1);
    let (status, _) =
        app.post_json(&format!("/api/applications/{id}/accept-estimate"), Some(&c.applicant_token), json!({})).await;
    assert_eq!(status, Status::Conflict);
}

#[rocket::async_test]
async fn without_a_helsedataservice_organisation_nothing_breaks() {
    let app = TestApp::new().await;
    app.sql("UPDATE organisations SET is_hds = false").await.unwrap();
    let (c, id) = two_source_case(&app).await;
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&c.applicant_token)).await;
    assert_eq!(case["estimate"]["amount_ore"], 0, "no intake fee without Helsedataservice's list");
    let (status, _) =
        app.post_json(&format!("/api/applications/{id}/hours"), Some(&c.officer_token), json!({"hours": 1})).await;
    assert_eq!(status, Status::Conflict);
    let (_, case) = cmd(&app, &c.officer_token, id, "complete", json!({})).await;
    let (npr, krg) = (release_id(&case, "NPR"), release_id(&case, "KRG"));
    app.post_json(&format!("/api/releases/{npr}/decide"), Some(&c.officer_token), json!({"approve": true})).await;
    app.post_json(&format!("/api/releases/{krg}/decide"), Some(&c.fhi_token), json!({"approve": true})).await;
    let (status, case) = cmd(&app, &c.officer_token, id, "decide", json!({})).await;
    assert_eq!(status, Status::Ok, "{case}");
    assert!(case["invoice"].is_null());
}
