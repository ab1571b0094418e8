//! The applicant's journey through the pages, as a browser does it: GET the form, POST it
//! with the CSRF token, follow redirects, read errors beside the fields, in both languages.

use crate::common::{TestApp, csrf_in, unescape};
use rocket::http::{ContentType, Status};

fn version_in(html: &str) -> String {
    html.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

async fn upload(app: &TestApp, id: &str, csrf: &str, kind: &str) -> Status {
    let boundary = "XyZboundary";
    let mut body = Vec::new();
    for (name, value) in [("csrf_token", csrf), ("kind", kind)] {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{kind}.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
    body.extend_from_slice(PDF);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = ContentType::new("multipart", "form-data").with_params(("boundary", boundary));
    app.client.post(format!("/applications/{id}/attachments")).header(ct).body(body).dispatch().await.status()
}

#[rocket::async_test]
async fn the_whole_form_through_the_pages() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    app.login(&applicant).await;

    let (status, html) = app.page("/applications").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Ny søknad"));
    let csrf = csrf_in(&html);
    let resp = app
        .form(
            "/applications",
            &[("kind", "identifiable"), ("application_type", "new"), ("previous_reference", "")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let edit = resp.headers().get_one("Location").unwrap().to_string();
    let id = edit.split('/').nth(2).unwrap().to_string();

    // Section 1 with mistakes: the errors stand beside their fields, the values are kept.
    let (status, html) = app.page(&edit).await;
    assert_eq!(status, Status::Ok);
    let mut at = 0;
    for section in ["s-project", "s-people", "s-legal", "s-data", "s-handling", "attachments", "s-billing"] {
        let found = html.find(&format!("id=\"{section}\"")).unwrap_or_else(|| panic!("section {section}"));
        assert!(found > at, "{section} in the order the form numbers them");
        at = found;
    }
    // What a submission of identifiable data will need is marked, in every section.
    let tag = |id: &str| html[html.find(&format!("id=\"{id}\"")).unwrap()..].split('>').next().unwrap().to_string();
    for field in ["f-storage", "f-access", "f-publication", "f-legal_basis.justification", "f-invoice_recipient.name"] {
        assert!(tag(field).contains("aria-required=\"true\""), "{field}: {}", tag(field));
    }
    assert!(!tag("f-invoice_recipient.reference").contains("aria-required"), "not what it does not need");
    let version = version_in(&html);
    let bad = [
        ("version", version.as_str()),
        ("kind", "identifiable"),
        ("type", "new"),
        ("title", "Hjertesvikt etter covid-19"),
        ("start_date", "2027-01-01"),
        ("end_date", "2026-01-01"),
        ("controller.name", "UiO"),
        ("controller.organisation_number", "971035855"),
        ("action", "save"),
    ];
    let resp = app.form(&edit, &bad, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("id=\"f-end_date-error\""), "error beside end date");
    assert!(html.contains("aria-describedby=\"f-controller.organisation_number-error"), "error tied to the field");
    assert!(html.contains("feil kontrollsiffer"));
    assert!(html.contains("value=\"Hjertesvikt etter covid-19\""), "entered values kept");
    assert!(html.contains("Utkastet er ikke lagret."), "and it says nothing was saved");
    // The summary in the order the form asks: the project's end before the controller's number.
    let summary = &html[html.find("error-summary").unwrap()..];
    assert!(
        summary.find("href=\"#f-end_date\"").unwrap()
            < summary.find("href=\"#f-controller.organisation_number\"").unwrap(),
        "summary in form order"
    );

    // Corrected, with NPR chosen: its variables appear to tick.
    let (_, npr) = app.get_json("/api/data-sources/NPR", None).await;
    let npr_id = npr["id"].to_string();
    let good = [
        ("version", version.as_str()),
        ("kind", "identifiable"),
        ("type", "new"),
        ("title", "Hjertesvikt etter covid-19"),
        ("summary", "Vi undersøker hjertesvikt."),
        ("purpose", "quality_improvement"),
        ("start_date", "2027-01-01"),
        ("end_date", "2029-12-31"),
        ("project_leader.name", "Kari Forsker"),
        ("project_leader.email", "kari@example.no"),
        ("project_leader.institution", "UiO"),
        ("controller.name", "Universitetet i Oslo"),
        ("controller.organisation_number", "971035854"),
        ("members", "kollega@example.no"),
        ("legal_basis.gdpr_article_6", "6(1)(e)"),
        ("legal_basis.gdpr_article_9", "9(2)(j)"),
        ("legal_basis.justification", "Allmenn interesse."),
        ("dpia_done", "true"),
        ("dispensation", "requested"),
        ("consent_based", "false"),
        ("controller_approved", "true"),
        ("data_sources.0.data_source_id", npr_id.as_str()),
        ("data_sources.0.period_from", "2015-01-01"),
        ("data_sources.0.period_to", "2024-12-31"),
        ("data_sources.0.selection", "Alle med I50"),
        ("linkage", "false"),
        ("storage", "TSD"),
        ("access", "Prosjektgruppen"),
        ("deletion_date", "2030-12-31"),
        ("publication", "Aggregert"),
        ("invoice_recipient.name", "UiO"),
        ("invoice_recipient.organisation_number", "971035854"),
        ("invoice_recipient.reference", "P-1"),
        ("action", "save"),
    ];
    let resp = app.form(&edit, &good, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&edit).await;
    assert!(html.contains("name=\"data_sources.0.variables\" value=\"lopenr\""), "NPR's variables are offered");
    let version = version_in(&html);

    // A second tab with the old version: refused, with a page that says why.
    let mut stale = good.to_vec();
    stale[0] = ("version", "1");
    let resp = app.form(&edit, &stale, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Conflict);
    assert!(resp.into_string().await.unwrap().contains("endret siden du åpnet den"), "and the typed form kept");

    let mut with_vars = good.to_vec();
    with_vars[0] = ("version", version.as_str());
    with_vars.push(("data_sources.0.variables", "lopenr"));
    with_vars.push(("data_sources.0.variables", "hovedtilstand"));
    with_vars.retain(|(k, _)| *k != "action");
    with_vars.push(("action", "review"));
    let resp = app.form(&edit, &with_vars, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let review = resp.headers().get_one("Location").unwrap().to_string();
    assert_eq!(review, format!("/applications/{id}/submit"));

    // The review lists what is still missing: the required attachments.
    let (_, html) = app.page(&review).await;
    assert!(html.contains("Vedlegg: forskningsprotokoll"), "{html}");
    assert!(!html.contains("Send inn søknaden"));
    assert_eq!(upload(&app, &id, &csrf, "protocol").await, Status::SeeOther);
    assert_eq!(upload(&app, &id, &csrf, "dpo_assessment").await, Status::SeeOther);
    assert_eq!(upload(&app, &id, "forged", "other").await, Status::Forbidden);

    let (_, html) = app.page(&review).await;
    assert!(html.contains("1\u{a0}500,00"), "the intake fee for one source");
    let version = version_in(&html);
    let resp = app.form(&review, &[("version", &version), ("estimate_ore", "150000")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity, "the estimate must be accepted");
    assert!(resp.into_string().await.unwrap().contains("f-accept-error"));
    let resp =
        app.form(&review, &[("version", &version), ("estimate_ore", "150000"), ("accept", "on")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);

    let (status, html) = app.page(&format!("/applications/{id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("HDS-"), "reference shown");
    assert!(html.contains("Sendt inn"));
    assert!(html.contains("Saksbehandler kontrollerer"), "who acts next");
    assert!(html.contains("Søknaden ble sendt inn"), "timeline");
    let (status, _) = app.page(&edit).await;
    assert_eq!(status, Status::Conflict, "no editing after submit");

    // The same status page in English.
    app.client.get("/language/en").dispatch().await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Submitted") && html.contains("A case officer checks"), "English status page");
    let (_, html) = app.page("/applications").await;
    assert!(html.contains("My applications"));
}

#[rocket::async_test]
async fn others_cannot_open_someone_elses_pages() {
    let app = TestApp::new().await;
    let owner = app.user("applicant", None).await;
    let token = app.token(&owner).await;
    let (_, draft) =
        app.post_json("/api/applications", Some(&token), serde_json::json!({"title": "Hemmelig utkast"})).await;
    let id = draft["id"].as_i64().unwrap();
    let other = app.user("applicant", None).await;
    app.login(&other).await;
    for path in
        [format!("/applications/{id}"), format!("/applications/{id}/edit"), format!("/applications/{id}/submit")]
    {
        let (status, html) = app.page(&path).await;
        assert_eq!(status, Status::NotFound, "{path}");
        assert!(!html.contains("Hemmelig utkast"));
        // The error page keeps the signed-in header (it read a cache slot of the wrong type and
        // always looked signed out).
        assert!(html.contains("href=\"/account\""), "{path}: {html}");
    }
    let (_, html) = app.page("/applications").await;
    assert!(!html.contains("Hemmelig utkast"));
}

#[rocket::async_test]
async fn a_page_body_that_does_not_fit_never_wipes_the_draft() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) =
        app.post_json("/api/applications", Some(&token), serde_json::json!({"title": "Viktig utkast"})).await;
    let id = draft["id"].as_i64().unwrap();
    app.login(&applicant).await;
    let (_, html) = app.page(&format!("/applications/{id}/edit")).await;
    let csrf = csrf_in(&html);
    let resp = app
        .form(
            &format!("/applications/{id}/edit"),
            &[("version", "1"), ("project_leader", "x"), ("action", "save")],
            Some(&csrf),
        )
        .await;
    assert!(resp.status().class().is_client_error(), "{}", resp.status());
    let (_, after) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(after["title"], "Viktig utkast");
    assert_eq!(after["version"], 1);
}

/// Issue 20: progress per section on the form, the check of every answer before the binding
/// submit (human values, a link back to each section), and the attachment step reached by saving.
#[rocket::async_test]
async fn the_form_shows_progress_and_every_answer_is_checked_before_submitting() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let form = crate::applications_api::complete_form(&app).await;
    let (status, draft) = app.post_json("/api/applications", Some(&token), form).await;
    assert_eq!(status, Status::Created, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    app.login(&applicant).await;

    // Everything but the attachments is answered: those three are missing, the rest complete.
    let (_, html) = app.page(&format!("/applications/{id}/edit")).await;
    let toc = &html[html.find("class=\"toc\"").unwrap()..];
    let toc = &toc[..toc.find("</nav>").unwrap()];
    assert_eq!(toc.matches("progress done").count(), 6, "{toc}");
    assert!(toc.contains("3 mangler"), "{toc}");

    // The check of the answers: every section in words, each with its way back.
    let (status, html) = app.page(&format!("/applications/{id}/submit")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Sjekk svarene dine"));
    assert!(html.contains("Medisinsk og helsefaglig forskning"), "the purpose in words");
    assert!(html.contains("Hjertesvikt etter covid-19") && html.contains("NPR"));
    assert!(!html.contains("medical_research"), "no raw codes");
    assert!(
        html.contains(&format!("<a href=\"/applications/{id}/attachments\">")),
        "a missing attachment links to the attachment step"
    );
    for anchor in ["s-project", "s-people", "s-legal", "s-data", "s-handling", "attachments", "s-billing"] {
        assert!(html.contains(&format!("href=\"/applications/{id}/edit#{anchor}\"")), "change {anchor}");
    }

    // The attachment step: saving what was typed first, then its own page; an upload returns there.
    let (_, html) = app.page(&format!("/applications/{id}/edit")).await;
    let csrf = csrf_in(&html);
    let version = version_in(&html);
    let resp = app
        .form(
            &format!("/applications/{id}/edit"),
            &[("version", &version), ("title", "Skrevet rett før opplasting"), ("action", "attachments")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(resp.headers().get_one("Location"), Some(format!("/applications/{id}/attachments").as_str()));
    let (_, saved) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(saved["title"], "Skrevet rett før opplasting", "saved before leaving the form");
    let (status, html) = app.page(&format!("/applications/{id}/attachments")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert_eq!(upload(&app, &id.to_string(), &csrf_in(&html), "protocol").await, Status::SeeOther);
    let (_, html) = app.page(&format!("/applications/{id}/attachments")).await;
    assert!(html.contains("protocol.pdf") && html.contains(" B)"), "listed with its size");
}

#[rocket::async_test]
async fn the_problems_before_submitting_come_in_the_order_the_form_asks() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (status, draft) =
        app.post_json("/api/applications", Some(&token), serde_json::json!({"title": "Et tomt utkast"})).await;
    assert_eq!(status, Status::Created, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    app.login(&applicant).await;
    let (status, html) = app.page(&format!("/applications/{id}/submit")).await;
    assert_eq!(status, Status::Ok);
    let at = |anchor: &str| {
        html.find(&format!("/applications/{id}/edit#f-{anchor}\"")).unwrap_or_else(|| panic!("a link to {anchor}"))
    };
    // By the form: the project, the people, the legal basis, the handling, the invoice.
    let order = [at("summary"), at("purpose"), at("project_leader.name"), at("storage"), at("invoice_recipient.name")];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in form order: {order:?}");
    assert!(at("purpose") < html.find(&format!("/applications/{id}/attachments\"")).unwrap());
}

/// The text inside a page's `<textarea name="{name}">`, as a browser would send it back.
fn textarea(html: &str, name: &str) -> String {
    let start = html.find(&format!("name=\"{name}\"")).unwrap_or_else(|| panic!("no field {name}"));
    let body = &html[start..];
    let open = body.find('>').unwrap() + 1;
    let close = body.find("</textarea>").unwrap();
    unescape(&body[open..close])
}

/// Answers of several lines come back into their fields exactly as typed, and saving the form
/// again keeps them so. (Handlebars indented a partial's output to the partial's own
/// indentation, so each line after the first gained four spaces in the field, and more on every
/// save.)
#[rocket::async_test]
async fn answers_of_several_lines_come_back_as_typed() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let summary = "Første linje.\nAndre linje.\n  Innrykket tredje.\n\nEtter et tomt linjeskift.";
    let justification = "Art. 6(1)(e):\noffentlig myndighet.\nArt. 9(2)(j): forskning.";
    let (status, draft) = app
        .post_json(
            "/api/applications",
            Some(&token),
            serde_json::json!({"title": "Linjer", "summary": summary,
                "legal_basis": {"justification": justification}, "publication": "A\nB"}),
        )
        .await;
    assert_eq!(status, Status::Created, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    app.login(&applicant).await;
    let edit = format!("/applications/{id}/edit");
    let (_, html) = app.page(&edit).await;
    assert_eq!(textarea(&html, "summary"), summary);
    assert_eq!(textarea(&html, "legal_basis.justification"), justification);
    assert_eq!(textarea(&html, "publication"), "A\nB");

    // Saved again through the page, as a browser sends the fields back.
    let csrf = csrf_in(&html);
    let fields = [
        ("version", version_in(&html)),
        ("kind", "identifiable".to_string()),
        ("type", "new".to_string()),
        ("title", "Linjer".to_string()),
        ("summary", textarea(&html, "summary")),
        ("legal_basis.justification", textarea(&html, "legal_basis.justification")),
        ("publication", textarea(&html, "publication")),
        ("action", "save".to_string()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = app.form(&edit, &fields, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, after) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(after["summary"], summary);
    assert_eq!(after["legal_basis"]["justification"], justification);
    assert_eq!(after["publication"], "A\nB");
    let (_, html) = app.page(&edit).await;
    assert_eq!(textarea(&html, "summary"), summary, "unchanged after a second save");
}
