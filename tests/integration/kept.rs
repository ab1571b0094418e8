//! Nothing typed is lost: a form that is refused answers with its page again, the text back in
//! the form (or, where the form is gone, shown to be copied) and the reason beside it, and stores
//! nothing. Before, the case page's forms redirected with a flash and an empty form, the
//! application form's lost race showed a page without the text, and a long application form was
//! refused whole at 64 KiB.

use crate::applications_api::submitted;
use crate::common::{TestApp, count, csrf_in, unescape};
use rocket::http::{Header, Status};

/// The page a refused form answers with, its status checked, entities undone.
async fn refused(resp: rocket::local::asynchronous::LocalResponse<'_>, status: Status) -> String {
    assert_eq!(resp.status(), status);
    unescape(&resp.into_string().await.unwrap())
}

/// A submitted case, and an officer signed in on its page: its id and the form token.
async fn officer_on_a_case(app: &TestApp) -> (i64, String) {
    let applicant = app.user("applicant", None).await;
    let id = submitted(app, &applicant).await["id"].as_i64().unwrap();
    let officer = app.user("case_officer", None).await;
    app.login(&officer).await;
    (id, csrf_in(&app.page(&format!("/applications/{id}")).await.1))
}

#[rocket::async_test]
async fn the_case_page_forms_keep_what_was_typed_when_refused() {
    let app = TestApp::new().await;
    let (id, csrf) = officer_on_a_case(&app).await;

    // A message over its length: the page again, the text in the box, the reason beside it.
    let long = format!("Starten av en lang melding. {}", "x".repeat(10_000));
    let html = refused(
        app.form(&format!("/applications/{id}/messages"), &[("body", &long)], Some(&csrf)).await,
        Status::UnprocessableEntity,
    )
    .await;
    assert!(html.contains(&format!("aria-describedby=\"f-body-error\">{long}</textarea>")), "the text is back");
    assert!(html.contains("Kan være høyst"), "and why");
    assert!(html.contains("<h2>Skjemaet ble ikke sendt</h2>") && html.contains("href=\"#form-message\""));
    assert!(html.contains("id=\"form-message\" data-draft>"), "the link leads to the form");
    assert!(html.contains("href=\"/language/en?next=/applications/"), "the page's own address, not the POST's");
    assert!(html.contains("Melding: Kan være høyst") && html.contains("står fortsatt"), "named, and kept");
    // Nothing typed: the field is named, and nothing is said to be kept.
    let html = refused(
        app.form(&format!("/applications/{id}/messages"), &[("body", " ")], Some(&csrf)).await,
        Status::UnprocessableEntity,
    )
    .await;
    assert!(html.contains("Melding: Må fylles ut.") && !html.contains("står fortsatt"), "{html}");
    assert_eq!(count(&app, &format!("SELECT count(*) AS n FROM messages WHERE application_id = {id}")).await, 0);

    // A command's text: the return message refused as empty keeps its form; the returned case's
    // note typed in the "complete" form is not a field of it.
    let html = refused(
        app.form(&format!("/applications/{id}/command/return"), &[("message", "  ")], Some(&csrf)).await,
        Status::UnprocessableEntity,
    )
    .await;
    assert!(html.contains("<a href=\"#form-command-return\">Melding til søkeren: Må fylles ut.</a>"), "{html}");

    // The release's decision without its outcome: conditions and reasons stay in its form.
    assert_eq!(
        app.form(&format!("/applications/{id}/command/complete"), &[], Some(&csrf)).await.status(),
        Status::SeeOther
    );
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    let release = html.split("action=\"/releases/").nth(1).unwrap().split('/').next().unwrap().to_string();
    let fields = [("conditions", "Data slettes innen 2030."), ("reasons", "Formålet er godt beskrevet.")];
    let html = refused(
        app.form(&format!("/releases/{release}/decide"), &fields, Some(&csrf)).await,
        Status::UnprocessableEntity,
    )
    .await;
    assert!(html.contains(&format!("name=\"conditions\" rows=\"2\">{}</textarea>", fields[0].1)), "{html}");
    assert!(html.contains(&format!("name=\"reasons\" rows=\"2\">{}</textarea>", fields[1].1)));
    assert!(html.contains("Vurdering: Må fylles ut."), "the field named with its message");
    assert!(html.contains(&format!("href=\"#form-release-{release}-decide\"")));
    assert_eq!(app.event_kinds("application", id).await.iter().filter(|k| *k == "release.decided").count(), 0);
    // Chosen, it goes through, and the page after holds no kept text.
    let mut chosen = fields.to_vec();
    chosen.push(("approve", "true"));
    assert_eq!(app.form(&format!("/releases/{release}/decide"), &chosen, Some(&csrf)).await.status(), Status::SeeOther);

    // The decision's reasons survive the way back from its preview.
    let reasons = "Innvilget etter helseregisterloven § 19 a.";
    let resp = app.form(&format!("/applications/{id}/command/decide"), &[("reasons", reasons)], Some(&csrf)).await;
    let preview = refused(resp, Status::Ok).await;
    assert!(preview.contains("name=\"edit\" value=\"true\""), "the way back is a form that carries the reasons");
    let back = [("reasons", reasons), ("edit", "true")];
    let html =
        refused(app.form(&format!("/applications/{id}/command/decide"), &back, Some(&csrf)).await, Status::Ok).await;
    assert!(
        html.contains(&format!("id=\"c-decide-reasons\" name=\"reasons\" rows=\"3\">{reasons}</textarea>")),
        "{html}"
    );
    assert!(!html.contains("Skjemaet ble ikke sendt"), "nothing was refused");
    assert_eq!(app.page(&format!("/applications/{id}/decision")).await.0, Status::NotFound, "nothing decided");

    // Hours with a figure that is not one: the note stays.
    let html = refused(
        app.form(
            &format!("/applications/{id}/hours"),
            &[("hours", "mange"), ("note", "Lest protokollen")],
            Some(&csrf),
        )
        .await,
        Status::UnprocessableEntity,
    )
    .await;
    assert!(html.contains("name=\"note\" type=\"text\" value=\"Lest protokollen\""), "{html}");
    assert!(html.contains("value=\"mange\"") && html.contains("href=\"#form-hours\""));
    assert_eq!(count(&app, &format!("SELECT count(*) AS n FROM time_records WHERE application_id = {id}")).await, 0);
}

/// A form refused because the case moved on may be gone from the page: its text is shown at the
/// top, to be copied.
#[rocket::async_test]
async fn a_command_refused_because_the_case_moved_on_shows_its_text_to_copy() {
    let app = TestApp::new().await;
    let (id, csrf) = officer_on_a_case(&app).await;
    // Another officer returned it meanwhile: returning again is refused.
    app.sql(&format!("UPDATE applications SET state = 'returned' WHERE id = {id}")).await.unwrap();
    let message = "Legg ved personvernkonsekvensvurderingen.";
    let html = refused(
        app.form(&format!("/applications/{id}/command/return"), &[("message", message)], Some(&csrf)).await,
        Status::Conflict,
    )
    .await;
    assert!(html.contains(&format!("readonly aria-describedby=\"f-unsent-hint\">{message}</textarea>")), "{html}");
    assert!(!html.contains("id=\"form-command-return\""), "the form is gone");
}

/// An applicant signed in with a new draft of theirs, on its form page: who, their API token,
/// the draft's id and the form token.
async fn applicant_on_a_draft(app: &TestApp, title: &str) -> (crate::common::TestUser, String, i64, String) {
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let (_, draft) = app.post_json("/api/applications", Some(&token), serde_json::json!({"title": title})).await;
    let id = draft["id"].as_i64().unwrap();
    app.login(&applicant).await;
    let csrf = csrf_in(&app.page(&format!("/applications/{id}/edit")).await.1);
    (applicant, token, id, csrf)
}

/// An applicant signed in, with a submitted case of theirs: its id.
async fn applicant_on_own_case(app: &TestApp) -> i64 {
    let applicant = app.user("applicant", None).await;
    let id = submitted(app, &applicant).await["id"].as_i64().unwrap();
    app.login(&applicant).await;
    id
}

/// A message sent from case `id`'s page (the browser names the page as the Referer) with form
/// token `csrf`.
async fn message_from_case_page<'a>(
    app: &'a TestApp,
    id: i64,
    csrf: &str,
) -> rocket::local::asynchronous::LocalResponse<'a> {
    app.client
        .post(format!("/applications/{id}/messages"))
        .header(rocket::http::ContentType::Form)
        .header(Header::new("Referer", format!("http://127.0.0.1:8000/applications/{id}")))
        .body(format!("csrf_token={}&body=Hei", crate::common::enc(csrf)))
        .dispatch()
        .await
}

#[rocket::async_test]
async fn the_application_form_keeps_the_text_of_a_save_it_could_not_make() {
    let app = TestApp::new().await;
    let (applicant, token, id, csrf) = applicant_on_a_draft(&app, "Første").await;
    let edit = format!("/applications/{id}/edit");
    // Saved in another tab meanwhile (version 1 → 2).
    let (status, _) = app
        .put_json(
            &format!("/api/applications/{id}"),
            Some(&token),
            serde_json::json!({"version": 1, "title": "Fra fane to"}),
        )
        .await;
    assert_eq!(status, Status::Ok);

    // This tab's save, on version 1: refused, its text on the form with the current version.
    let typed = [
        ("version", "1"),
        ("title", "Fra fane én"),
        ("summary", "Et sammendrag skrevet i fane én."),
        ("action", "save"),
    ];
    let html = refused(app.form(&edit, &typed, Some(&csrf)).await, Status::Conflict).await;
    assert!(html.contains("value=\"Fra fane én\"") && html.contains("Et sammendrag skrevet i fane én."), "{html}");
    assert!(html.contains("Søknaden er endret siden du åpnet den"));
    assert!(html.contains("name=\"version\" value=\"2\""), "saving again replaces the other tab's change knowingly");
    assert!(html.contains("value=\"save\""), "and may be saved");
    let (_, saved) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(saved["title"], "Fra fane to", "nothing overwritten");
    let again = [("version", "2"), ("title", "Fra fane én"), ("action", "save")];
    assert_eq!(app.form(&edit, &again, Some(&csrf)).await.status(), Status::SeeOther);
    let (_, saved) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(saved["title"], "Fra fane én");

    // Submitted (or withdrawn) meanwhile: the text stays to be copied, without a way to save it.
    let case = submitted(&app, &applicant).await;
    let edit = format!("/applications/{}/edit", case["id"]);
    let typed = [("version", "9"), ("title", "Endring etter innsending"), ("action", "save")];
    let html = refused(app.form(&edit, &typed, Some(&csrf)).await, Status::Conflict).await;
    assert!(html.contains("value=\"Endring etter innsending\"") && html.contains("kan ikke lenger endres"), "{html}");
    assert!(
        !html.contains("value=\"save\"") && !html.contains("application-form\" data-draft"),
        "nothing to save it with"
    );
}

/// Thirty sources may each have 4 000 characters of selection; in Norwegian that is far over the
/// 64 KiB other forms are held to. The page saved it; it used to refuse the whole form (413).
#[rocket::async_test]
async fn a_long_application_form_in_norwegian_is_saved() {
    let app = TestApp::new().await;
    let (_, token, id, csrf) = applicant_on_a_draft(&app, "Lang").await;
    let edit = format!("/applications/{id}/edit");
    let selection = "æøå".repeat(1_300);
    let names: Vec<String> = (0..4).map(|i| format!("data_sources.{i}.selection")).collect();
    let mut fields = vec![("version", "1"), ("title", "Lang"), ("action", "save")];
    fields.extend(names.iter().map(|n| (n.as_str(), selection.as_str())));
    let encoded: usize = fields.iter().map(|(k, v)| k.len() + crate::common::enc(v).len() + 2).sum();
    assert!(encoded > 64 * 1024, "{encoded} bytes");
    assert_eq!(app.form(&edit, &fields, Some(&csrf)).await.status(), Status::SeeOther);
    let (_, saved) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(saved["data_sources"][3]["selection"], selection.as_str());
}

/// A form sent after the sign-in ran out: to the login, and from it back to the page the form
/// was on (where the browser put back the text: static/drafts.js), not to the form's address,
/// which has no page.
#[rocket::async_test]
async fn a_form_sent_after_the_sign_in_ran_out_leads_back_to_its_page() {
    let app = TestApp::new().await;
    let id = applicant_on_own_case(&app).await;
    let csrf = csrf_in(&app.page(&format!("/applications/{id}")).await.1);
    app.sql("DELETE FROM sessions").await.unwrap();
    let resp = message_from_case_page(&app, id, &csrf).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(resp.headers().get_one("Location"), Some(format!("/login?next=%2Fapplications%2F{id}").as_str()));
    // A page asked for is where the login leads back to, as before.
    let resp = app.client.get("/inbox?state=draft").dispatch().await;
    assert_eq!(resp.headers().get_one("Location"), Some("/login?next=%2Finbox%3Fstate%3Ddraft"));
}

/// A form whose token no longer holds (signed out and in again in another tab): the error page
/// leads back to the form's page, where the tab puts back what was typed.
#[rocket::async_test]
async fn a_form_with_a_stale_token_leads_back_to_its_page() {
    let app = TestApp::new().await;
    let id = applicant_on_own_case(&app).await;
    let resp = message_from_case_page(&app, id, "stale").await;
    let html = refused(resp, Status::Forbidden).await;
    assert!(
        html.contains(&format!("<a class=\"button\" href=\"/applications/{id}\">Tilbake til skjemaet</a>")),
        "{html}"
    );
    assert!(html.contains("Gå tilbake til skjemaet og send det på nytt."));
}
