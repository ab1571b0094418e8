//! Statements (uttalelser, issue 22 item 1): a case officer asks a register owner (an existing
//! account, linked) and an outside expert (an address without one: an account is made and an
//! invitation mailed) for a statement with a question and a due date; each reviewer sees only
//! that case, answers once in the service, and the statements join the case file and timeline;
//! reviewers are reminded before the due date; the officer sees what is outstanding.

use crate::applications_api::submitted;
use crate::common::{TestApp, TestUser, count, csrf_in, unescape};
use chrono::{Duration, Utc};
use helsedataservice::domain::deadlines::oslo_date;
use helsedataservice::services::statements;
use rocket::http::Status;
use serde_json::json;

const HDIR: &str = "983544622";

#[rocket::async_test]
async fn an_officer_asks_for_statements_that_reviewers_answer_in_the_service() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    let applicant = app.user("applicant", None).await;
    let applicant_token = app.token(&applicant).await;
    let case = submitted(&app, &applicant).await;
    let id = case["id"].as_i64().unwrap();
    let reference = case["reference"].as_str().unwrap().to_string();
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    let owner = app.user("register_owner", Some(HDIR)).await;
    let owner_token = app.token(&owner).await;
    app.send_mail(Utc::now()).await;
    let path = format!("/api/applications/{id}/statements");
    let due = oslo_date(Utc::now()) + Duration::days(14);
    let ask = |email: &str| json!({"email": email, "question": "Er utvalget forholdsmessig?", "due_on": due});

    // Only officers ask; bad input is refused field by field and changes nothing; the parties of
    // the case do not give statements on it.
    for token in [&applicant_token, &owner_token] {
        let (status, body) = app.post_json(&path, Some(token), ask("ekspert@uib.no")).await;
        assert_eq!(status, Status::Forbidden, "{body}");
    }
    let bad = json!({"email": "ikke-en-adresse", "question": " ", "due_on": oslo_date(Utc::now())});
    let (status, body) = app.post_json(&path, Some(&officer_token), bad).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    for field in ["email", "question", "due_on"] {
        assert!(body["fields"][field].is_array(), "{field}: {body}");
    }
    let (status, body) = app.post_json(&path, Some(&officer_token), ask(&applicant.email)).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert!(body["fields"]["email"].is_array());
    assert_eq!(count(&app, "SELECT count(*) AS n FROM statements").await, 0);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM users WHERE role = 'reviewer'").await, 0);

    // The register owner's address is linked to its account; the expert's gets a new account.
    let (status, to_owner) = app.post_json(&path, Some(&officer_token), ask(&owner.email.to_uppercase())).await;
    assert_eq!(status, Status::Created, "{to_owner}");
    assert_eq!(to_owner["reviewer"]["id"], owner.id);
    assert_eq!(to_owner["status"], "outstanding");
    let mut expert_ask = ask("kari.ekspert@uib.no");
    expert_ask["name"] = json!("Kari Ekspert");
    expert_ask["language"] = json!("en");
    let (status, to_expert) = app.post_json(&path, Some(&officer_token), expert_ask).await;
    assert_eq!(status, Status::Created, "{to_expert}");
    let (owner_statement, expert_statement) = (to_owner["id"].as_i64().unwrap(), to_expert["id"].as_i64().unwrap());
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM users WHERE role = 'reviewer' AND password_hash IS NULL").await,
        1
    );
    let (status, outstanding) = app.get_json("/api/statements", Some(&officer_token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(outstanding.as_array().unwrap().len(), 2, "the officer sees what is outstanding: {outstanding}");

    // The owner is told with a link to the statement; the expert gets an invitation in English
    // with a link to set a password, and no notice it could not open.
    let before = sink.messages().len();
    app.send_mail(Utc::now()).await;
    let mails: Vec<_> = sink.messages().into_iter().skip(before).collect();
    let to_owner_mail = mails.iter().find(|m| m.to == vec![owner.email.clone()]).expect("the owner is told");
    let text = to_owner_mail.part("text/plain").unwrap();
    assert!(text.contains(&reference) && text.contains(&format!("/statements/{owner_statement}")), "{text}");
    let to_expert_mails: Vec<_> = mails.iter().filter(|m| m.to == vec!["kari.ekspert@uib.no".to_string()]).collect();
    assert_eq!(to_expert_mails.len(), 1, "one invitation");
    assert!(to_expert_mails[0].subject().contains("statement"), "{}", to_expert_mails[0].subject());
    let text = to_expert_mails[0].part("text/plain").unwrap();
    assert!(text.contains(&reference) && text.contains("/statements/accept?token="), "{text}");
    let link = crate::common::last_mail_field(&app, "statement_invitation", "kari.ekspert@uib.no", "path").await;

    // The expert takes the account into use from the link (the passwords must match).
    let (status, html) = app.page(&link).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("kari.ekspert@uib.no"));
    let token = link.split("token=").nth(1).unwrap().to_string();
    let csrf = csrf_in(&html);
    let password = "Ekspert-passord-2026";
    let fields =
        [("token", token.as_str()), ("name", "Kari Ekspert"), ("password", password), ("password_confirm", "x")];
    let resp = app.form("/statements/accept", &fields, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("f-password_confirm-error"), "the error beside its field");
    let fields =
        [("token", token.as_str()), ("name", "Kari Ekspert"), ("password", password), ("password_confirm", password)];
    let resp = app.form("/statements/accept", &fields, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(resp.headers().get_one("Location"), Some(format!("/statements/{expert_statement}").as_str()));
    let resp = app.form("/statements/accept", &fields, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Conflict, "the link works once");
    let expert = TestUser {
        id: to_expert["reviewer"]["id"].as_i64().unwrap(),
        email: "kari.ekspert@uib.no".into(),
        password: password.into(),
        role: "reviewer".into(),
    };
    let expert_token = app.token(&expert).await;

    // The expert sees the case asked about (the application as submitted, its attachments) and
    // nothing else: not the case page, not the other statement.
    let (status, html) = app.page(&format!("/statements/{expert_statement}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Er utvalget forholdsmessig?") && html.contains("Hjertesvikt etter covid-19"), "{html}");
    assert!(html.contains(&format!("action=\"/statements/{expert_statement}/answer\"")));
    assert_eq!(app.page(&format!("/applications/{id}")).await.0, Status::NotFound);
    assert_eq!(app.page(&format!("/statements/{owner_statement}")).await.0, Status::NotFound);
    assert_eq!(app.get_json(&format!("/api/applications/{id}"), Some(&expert_token)).await.0, Status::NotFound);
    assert_eq!(app.get_json(&path, Some(&expert_token)).await.0, Status::NotFound);
    let (status, shown) = app.get_json(&format!("/api/statements/{expert_statement}"), Some(&expert_token)).await;
    assert_eq!(status, Status::Ok, "{shown}");
    assert_eq!(shown["may_answer"], true);
    let attachment = shown["application"]["attachments"][0]["id"].as_str().unwrap().to_string();
    let resp = app.client.get(format!("/statements/{expert_statement}/attachments/{attachment}")).dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    let resp = app.client.get(format!("/statements/{owner_statement}/attachments/{attachment}")).dispatch().await;
    assert_eq!(resp.status(), Status::NotFound);
    let (_, mine) = app.get_json("/api/statements", Some(&expert_token)).await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "the reviewer's list is their own: {mine}");

    // An empty answer is refused beside the field; the answer is given once, by the reviewer.
    let (_, html) = app.page(&format!("/statements/{expert_statement}")).await;
    let csrf = csrf_in(&html);
    let answer_path = format!("/statements/{expert_statement}/answer");
    let resp = app.form(&answer_path, &[("answer", "  ")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("f-answer-error"), "beside the field");
    assert!(
        html.contains("href=\"#f-answer\">Statement: Required."),
        "the summary names the field (in the reviewer's English): {html}"
    );
    let resp = app
        .form(&answer_path, &[("answer", "Utvalget er forholdsmessig.\nVariablene er nødvendige.")], Some(&csrf))
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let api_answer = format!("/api/statements/{expert_statement}/answer");
    let (status, _) = app.post_json(&api_answer, Some(&expert_token), json!({"answer": "Igjen"})).await;
    assert_eq!(status, Status::Conflict, "answered once");
    let owner_answer = format!("/api/statements/{owner_statement}/answer");
    let (status, _) = app.post_json(&owner_answer, Some(&officer_token), json!({"answer": "Nei"})).await;
    assert_eq!(status, Status::Forbidden, "the officer does not answer for the reviewer");
    let (status, body) =
        app.post_json(&owner_answer, Some(&owner_token), json!({"answer": "NPR kan levere dette."})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["status"], "answered");

    // The statements join the case file and the timeline; the officer is told of each answer.
    let (status, all) = app.get_json(&path, Some(&officer_token)).await;
    assert_eq!(status, Status::Ok);
    let answers: Vec<&str> = all.as_array().unwrap().iter().filter_map(|s| s["answer"].as_str()).collect();
    assert_eq!(answers.len(), 2, "{all}");
    assert!(answers.contains(&"Utvalget er forholdsmessig.\nVariablene er nødvendige."));
    assert!(all[0]["reviewer"]["email"].is_string() && all[0].get("reminded_at").is_some(), "{all}");
    // The applicant reads them too (forvaltningsloven §§ 17 and 18), without the reviewers'
    // addresses.
    let (status, seen) = app.get_json(&path, Some(&applicant_token)).await;
    assert_eq!(status, Status::Ok, "{seen}");
    let seen = seen.as_array().unwrap();
    assert_eq!(seen.len(), 2);
    for s in seen {
        assert!(s["answer"].is_string() && s["reviewer"]["name"].is_string(), "{s}");
        assert!(s["reviewer"].get("email").is_none() && s.get("reminded_at").is_none(), "{s}");
    }
    let kinds = app.event_kinds("application", id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "statement.requested").count(), 2, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "statement.answered").count(), 2, "{kinds:?}");
    let before = sink.messages().len();
    app.send_mail(Utc::now()).await;
    let to_officer = sink.messages().into_iter().skip(before).filter(|m| m.to == vec![officer.email.clone()]).count();
    assert_eq!(to_officer, 2, "told of both answers");
    let to_applicant: Vec<_> = sink
        .messages()
        .into_iter()
        .skip(before)
        .filter(|m| m.to == vec![applicant.email.clone()])
        .map(|m| m.part("text/plain").unwrap())
        .collect();
    assert_eq!(to_applicant.len(), 2, "the applicant is told of each statement: {to_applicant:?}");
    assert!(to_applicant[0].contains("kommentere den i en melding") && to_applicant[0].contains(&reference));
    // With two weeks to comment, moved past a weekend or holiday (forvaltningsloven § 17).
    let comment_by =
        helsedataservice::domain::statement::comment_by(oslo_date(Utc::now())).format("%d.%m.%Y").to_string();
    assert!(to_applicant[0].contains(&format!("Kommenter innen {comment_by}")), "{}", to_applicant[0]);
    let (_, outstanding) = app.get_json("/api/statements", Some(&officer_token)).await;
    assert_eq!(outstanding.as_array().unwrap().len(), 0);
    app.login(&officer).await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    let html = unescape(&html);
    assert!(html.contains("id=\"statements\"") && html.contains("Kari Ekspert"), "on the case page");
    assert!(html.contains(&format!("href=\"/applications/{id}/statements/new\"")));
    assert!(html.contains(&format!("Søkerens frist for kommentarer: {comment_by}")), "the officer sees the period");
    app.login(&applicant).await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    let html = unescape(&html);
    assert!(html.contains("Det ble bedt om en uttalelse"), "the applicant sees it on the timeline");
    assert!(html.contains("<dt>Frist</dt>"), "and when a decision is due, while one is awaited");
    assert!(html.contains("Variablene er nødvendige") && html.contains("NPR kan levere dette."), "and reads it");
    assert!(html.contains("Er utvalget forholdsmessig?") && html.contains("Kari Ekspert"), "with its question");
    assert!(html.contains("href=\"#form-message\""), "and is offered to comment");
    assert!(html.contains(&format!("Kommenter innen {comment_by}")), "by when");
    assert!(!html.contains("kari.ekspert@uib.no") && !html.contains(&owner.email), "not the addresses");
    assert!(!html.contains("href=\"/statements/"), "nor the handlers' pages");

    // An officer may withhold one from the applicant's side, with the reason they are shown
    // (forvaltningsloven §§ 18 a–19); only an officer, and only with a reason.
    let access = format!("/api/statements/{owner_statement}/access");
    let withhold = json!({"withhold": true, "reason": "Opplysninger om en annens personlige forhold (§ 19)."});
    for token in [&applicant_token, &owner_token] {
        let (status, body) = app.post_json(&access, Some(token), withhold.clone()).await;
        assert_eq!(status, Status::Forbidden, "{body}");
    }
    let (status, body) = app.post_json(&access, Some(&officer_token), json!({"withhold": true, "reason": " "})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert!(body["fields"]["reason"].is_array(), "{body}");
    let (status, body) = app.post_json(&access, Some(&officer_token), withhold).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["withheld"], true);
    let (_, seen) = app.get_json(&path, Some(&applicant_token)).await;
    let hidden = seen.as_array().unwrap().iter().find(|s| s["id"] == owner_statement).unwrap();
    assert!(hidden.get("answer").is_none() && hidden.get("question").is_none(), "{hidden}");
    assert_eq!(hidden["withheld_reason"], "Opplysninger om en annens personlige forhold (§ 19).");
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    let html = unescape(&html);
    assert!(
        !html.contains("NPR kan levere dette.") && html.contains("en annens personlige forhold"),
        "the reason, not the text"
    );
    assert!(html.contains("Variablene er nødvendige"), "the other statement still reads");
    assert!(app.event_kinds("application", id).await.contains(&"statement.withheld".to_string()));
    // Shared again: the applicant reads it and is told.
    let before = sink.messages().len();
    let (status, body) = app.post_json(&access, Some(&officer_token), json!({"withhold": false})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["withheld"], false);
    assert!(body["withheld_reason"].is_null());
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(unescape(&html).contains("NPR kan levere dette."));
    app.send_mail(Utc::now()).await;
    let told = sink.messages().into_iter().skip(before).filter(|m| m.to == vec![applicant.email.clone()]).count();
    assert_eq!(told, 1, "told when it is shared");
    // The officer does it on the statement's page; a missing reason is refused beside its field.
    app.login(&officer).await;
    let (_, html) = app.page(&format!("/statements/{owner_statement}")).await;
    assert!(
        html.contains("id=\"party-access\"")
            && html.contains(&format!("action=\"/statements/{owner_statement}/access\""))
    );
    let csrf = csrf_in(&html);
    let form = format!("/statements/{owner_statement}/access");
    let resp = app.form(&form, &[("withhold", "true"), ("reason", "")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    assert!(resp.into_string().await.unwrap().contains("f-reason-error"), "beside the field");
    let resp =
        app.form(&form, &[("withhold", "true"), ("reason", "Forretningshemmelighet (§ 13).")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&format!("/statements/{owner_statement}")).await;
    assert_eq!(crate::common::landed(&html, "party-access"), "Uttalelsen er unntatt fra innsyn for søkeren.");
    // The case's archive holds its statements, read as the case page shows them.
    let archive = format!("/api/applications/{id}/archive");
    let (status, doc) = app.get_json(&archive, Some(&applicant_token)).await;
    assert_eq!(status, Status::Ok);
    let text = doc["statements"].to_string();
    assert_eq!(doc["statements"].as_array().unwrap().len(), 2, "{text}");
    assert!(text.contains("Variablene er nødvendige") && text.contains("Forretningshemmelighet"), "{text}");
    assert!(!text.contains("NPR kan levere dette.") && !text.contains("kari.ekspert@uib.no"), "{text}");
    let (_, doc) = app.get_json(&archive, Some(&officer_token)).await;
    let text = doc["statements"].to_string();
    assert!(text.contains("NPR kan levere dette.") && text.contains("kari.ekspert@uib.no"), "the handlers' file");
    app.login(&applicant).await;

    // A statement due within three days is reminded once; an invited address gets a fresh link.
    let soon = oslo_date(Utc::now()) + Duration::days(2);
    let (status, third) = app
        .post_json(
            &path,
            Some(&officer_token),
            json!({"email": "ny.ekspert@ntnu.no", "question": "Kort frist?", "due_on": soon}),
        )
        .await;
    assert_eq!(status, Status::Created, "{third}");
    let (status, _) = app
        .post_json(&path, Some(&officer_token), json!({"email": owner.email, "question": "Lang frist?", "due_on": due}))
        .await;
    assert_eq!(status, Status::Created);
    let first_link = crate::common::last_mail_field(&app, "statement_invitation", "ny.ekspert@ntnu.no", "path").await;
    // Asked without a name, the address names the account: the applicant is not shown it.
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Kort frist?") && !html.contains("ny.ekspert@ntnu.no"), "unnamed, not addressed");
    let (_, seen) = app.get_json(&path, Some(&applicant_token)).await;
    assert!(!seen.to_string().contains("ny.ekspert@ntnu.no"), "{seen}");
    {
        let mut conn = app.conn().await;
        assert_eq!(statements::remind(&mut conn, Utc::now()).await.unwrap(), 1, "only the one due soon");
        assert_eq!(statements::remind(&mut conn, Utc::now()).await.unwrap(), 0, "once");
    }
    let second_link = crate::common::last_mail_field(&app, "statement_invitation", "ny.ekspert@ntnu.no", "path").await;
    assert_ne!(first_link, second_link, "a fresh link");
    assert_eq!(app.page(&first_link).await.0, Status::Conflict, "the earlier link stops working");
    assert!(app.event_kinds("application", id).await.contains(&"statement.reminder".to_string()));

    // Once the case has left the officers' desk (returned to the applicant), nothing is asked.
    let (status, _) = app
        .post_json(&format!("/api/applications/{id}/return"), Some(&officer_token), json!({"message": "Mangler"}))
        .await;
    assert_eq!(status, Status::Ok);
    let (status, body) = app.post_json(&path, Some(&officer_token), ask(&owner.email)).await;
    assert_eq!(status, Status::Conflict, "{body}");
}

#[rocket::async_test]
async fn statements_still_awaited_lapse_when_the_case_ends() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let applicant_token = app.token(&applicant).await;
    let case = submitted(&app, &applicant).await;
    let id = case["id"].as_i64().unwrap();
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    let owner = app.user("register_owner", Some(HDIR)).await;
    let owner_token = app.token(&owner).await;
    let path = format!("/api/applications/{id}/statements");
    // Due in two days: each would be reminded today.
    let due = oslo_date(Utc::now()) + Duration::days(2);
    let (status, to_owner) = app
        .post_json(
            &path,
            Some(&officer_token),
            json!({"email": owner.email, "question": "Kan NPR levere?", "due_on": due}),
        )
        .await;
    assert_eq!(status, Status::Created, "{to_owner}");
    let (status, _) = app
        .post_json(
            &path,
            Some(&officer_token),
            json!({"email": "ola.ekspert@uio.no", "question": "Forsvarlig?", "due_on": due}),
        )
        .await;
    assert_eq!(status, Status::Created);
    let link = crate::common::last_mail_field(&app, "statement_invitation", "ola.ekspert@uio.no", "path").await;
    let owner_statement = to_owner["id"].as_i64().unwrap();

    // The applicant withdraws before anyone answers.
    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/withdraw"), Some(&applicant_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (_, listed) = app.get_json(&path, Some(&officer_token)).await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|s| s["status"] == "lapsed" && s["lapsed_at"].is_string()), "{listed:?}");
    let (_, outstanding) = app.get_json("/api/statements", Some(&officer_token)).await;
    assert_eq!(outstanding, json!([]), "nothing outstanding for the officers");
    let lapsed = "SELECT count(*) AS n FROM events WHERE kind = 'statement.lapsed'";
    assert_eq!(count(&app, lapsed).await, 2, "one event each");
    let (_, notices) = app.get_json("/api/notifications", Some(&owner_token)).await;
    assert!(notices.to_string().contains("statement.lapsed"), "the reviewer is told: {notices}");
    {
        let mut conn = app.conn().await;
        assert_eq!(statements::remind(&mut conn, Utc::now()).await.unwrap(), 0, "nobody is reminded");
    }
    assert_eq!(app.page(&link).await.0, Status::Conflict, "the outside reviewer's link stops working");

    // The reviewer can no longer answer, and the page says why.
    let answer = format!("/api/statements/{owner_statement}/answer");
    let (status, body) = app.post_json(&answer, Some(&owner_token), json!({"answer": "NPR kan levere."})).await;
    assert_eq!(status, Status::Conflict, "{body}");
    assert!(body["error"].as_str().unwrap().contains("no longer needed"), "{body}");
    app.login(&owner).await;
    let (_, html) = app.page(&format!("/statements/{owner_statement}")).await;
    assert!(!html.contains(&format!("action=\"/statements/{owner_statement}/answer\"")));
    assert!(html.contains("Saken er avsluttet, så uttalelsen trengs ikke lenger."), "{html}");
    // An answer typed in the page before the case ended is shown to be copied, with why.
    let typed = "NPR kan levere hovedtilstand for hele perioden.";
    let resp =
        app.form(&format!("/statements/{owner_statement}/answer"), &[("answer", typed)], Some(&csrf_in(&html))).await;
    assert_eq!(resp.status(), Status::Conflict);
    let html = crate::common::unescape(&resp.into_string().await.unwrap());
    assert!(html.contains(&format!("readonly aria-describedby=\"f-unsent-hint\">{typed}</textarea>")), "{html}");
    assert!(html.contains("Skjemaet ble ikke sendt"));
}
