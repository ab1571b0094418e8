//! Case handling through the pages: the inbox with filters, the command forms, the register
//! owner's queue and release form, the decision letter page.

use crate::applications_api::submitted;
use crate::common::{TestApp, csrf_in};
use rocket::http::Status;

#[rocket::async_test]
async fn officer_and_owner_handle_a_case_through_the_pages() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let case = submitted(&app, &applicant).await;
    let id = case["id"].as_i64().unwrap();
    let reference = case["reference"].as_str().unwrap().to_string();

    let officer = app.user("case_officer", None).await;
    app.login(&officer).await;
    let (status, html) = app.page("/inbox").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&reference));
    let (_, html) = app.page("/inbox?state=in_review").await;
    assert!(!html.contains(&reference), "filtered out by state");
    let (_, html) = app.page("/inbox?assignee=none").await;
    assert!(html.contains(&reference));
    let (_, html) = app.page("/inbox?overdue=true").await;
    assert!(!html.contains(&reference), "not overdue");

    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Marker som komplett"));
    let csrf = csrf_in(&html);
    let resp = app.form(&format!("/applications/{id}/command/return"), &[("message", "")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Må fylles ut"), "the empty message is refused and explained");
    let resp = app.form(&format!("/applications/{id}/command/complete"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Under behandling"));
    assert!(html.contains("action=\"/releases/"), "NPR is decided by Helsedataservice: the officer gets the form");
    let release = html.split("action=\"/releases/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let resp = app
        .form(
            &format!("/releases/{release}/decide"),
            &[("approve", "true"), ("conditions", "Slettes etter bruk."), ("reasons", "")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    // Issue 20: one click on "decide" shows the letter as it will be sent and decides nothing.
    let resp = app
        .form(
            &format!("/applications/{id}/command/decide"),
            &[("reasons", "Innvilget etter helseregisterloven.")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::Ok);
    let preview = resp.into_string().await.unwrap();
    assert!(
        preview.contains("Slik blir vedtaket") && preview.contains("Innvilget etter helseregisterloven."),
        "{preview}"
    );
    assert!(preview.contains("Vedtak om tilgang til helsedata"), "the letter itself");
    assert_eq!(app.page(&format!("/applications/{id}/decision")).await.0, Status::NotFound, "not decided yet");
    let resp = app
        .form(
            &format!("/applications/{id}/command/decide"),
            &[("reasons", "Innvilget etter helseregisterloven."), ("confirm", "true")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (status, html) = app.page(&format!("/applications/{id}/decision")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Vedtak om tilgang til helsedata") && html.contains("Slettes etter bruk."), "{html}");

    // Helsedirektoratet's register owner sees the release in the queue, and delivers.
    let owner = app.user("register_owner", Some("983544622")).await;
    let csrf_page = app.page("/").await.1;
    let resp = app.form("/logout", &[], Some(&csrf_in(&csrf_page))).await;
    assert_eq!(resp.status(), Status::SeeOther);
    app.login(&owner).await;
    let (status, html) = app.page("/releases").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&reference) && html.contains("Utlever"));
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    let csrf = csrf_in(&html);
    let resp = app.form(&format!("/releases/{release}/delivered"), &[("environment", "TSD p9")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Utlevert"));
    let (status, _) = app.page("/inbox").await;
    assert_eq!(status, Status::Forbidden, "register owners have no inbox");
}

/// Issue 20: every role reads the application as submitted, section by section in form order,
/// with human labels and values (no raw codes, no true/false, sources by name): on the case
/// page itself and in the printable version.
#[rocket::async_test]
async fn the_application_reads_as_submitted_with_words_not_codes() {
    let app = TestApp::new().await;
    let (c, id) = crate::case_handling::two_source_case(&app).await;
    app.login(&c.officer).await;
    for path in [format!("/applications/{id}"), format!("/applications/{id}/print")] {
        let (status, html) = app.page(&path).await;
        assert_eq!(status, Status::Ok, "{path}");
        for words in [
            "Personidentifiserbare data",
            "Medisinsk og helsefaglig forskning",
            "6(1)(e) oppgave i allmennhetens interesse",
            "Søkes fra Helsedataservice",
            "NPR – Norsk pasientregister",
            "01.01.2010 – 31.12.2025",
            "Pasienter med I50",
            "<dd>Ja</dd>",
            "<dd>Nei</dd>",
        ] {
            assert!(html.contains(words), "{path} reads {words}");
        }
        for code in
            ["medical_research", ">identifiable<", ">true<", ">false<", "data_source_id", "gdpr_article", "2010-01-01"]
        {
            assert!(!html.contains(code), "{path} shows no raw {code}");
        }
        // In form order: the project before the people, the legal basis, the data.
        let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{path} has {s}"));
        assert!(at("Prosjektet") < at("Personer og virksomheter"));
        assert!(at("Personer og virksomheter") < at("Rettslig grunnlag og godkjenninger"));
        assert!(at("Rettslig grunnlag og godkjenninger") < at("NPR – Norsk pasientregister"));
    }
}
