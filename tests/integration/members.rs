//! Members who are invited and accept terms (issue 22 item 3): the members named on the form are
//! invited by mail at submission (an address without an account gets nothing but the
//! invitation; accepting makes or links the account); before anyone of the project sees or
//! downloads released files they accept each source's data-use terms (kept with a version); the
//! applicant and the officer see who has accepted.

use crate::applications_api::{attach_required, complete_form};
use crate::common::{TestApp, count, csrf_in, last_mail_field};
use crate::transfers::{create_transfer, get_file, post, put_file};
use chrono::Utc;
use rocket::http::Status;
use serde_json::json;

const HDIR: &str = "983544622";

#[rocket::async_test]
async fn members_are_invited_and_everyone_accepts_the_terms_before_download() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let colleague = app.user("applicant", None).await;
    let colleague_token = app.token(&colleague).await;
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    let owner = app.user("register_owner", Some(HDIR)).await;
    let owner_token = app.token(&owner).await;

    // The form names a colleague with an account and two addresses without one.
    let mut form = complete_form(&app).await;
    form["members"] = json!([colleague.email, "ny.forsker@uio.no", "tredje@uio.no"]);
    let (status, draft) = app.post_json("/api/applications", Some(&token), form).await;
    assert_eq!(status, Status::Created, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    attach_required(&app, &token, id).await;
    let accounts_before = count(&app, "SELECT count(*) AS n FROM users").await;
    let (status, body) = app.post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");

    // Each member is invited once by mail; no account is made for an address before it accepts.
    let before = sink.messages().len();
    app.send_mail(Utc::now()).await;
    let mails: Vec<_> = sink.messages().into_iter().skip(before).collect();
    for address in [colleague.email.as_str(), "ny.forsker@uio.no", "tredje@uio.no"] {
        let m = mails.iter().find(|m| m.to[0] == address).unwrap_or_else(|| panic!("{address} is invited"));
        assert!(m.part("text/plain").unwrap().contains("/invitations/accept?token="));
    }
    assert_eq!(count(&app, "SELECT count(*) AS n FROM users").await, accounts_before);
    let (status, invitations) = app.get_json(&format!("/api/applications/{id}/invitations"), Some(&token)).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(invitations.as_array().unwrap().len(), 3);
    assert!(invitations.as_array().unwrap().iter().all(|i| i["accepted_at"].is_null()));
    assert_eq!(
        app.get_json(&format!("/api/applications/{id}/invitations"), Some(&owner_token)).await.0,
        Status::Forbidden
    );

    // The colleague accepts as themself; someone else cannot take another's invitation.
    let third = last_mail_field(&app, "member_invitation", "tredje@uio.no", "path").await;
    let third_token = third.split("token=").nth(1).unwrap();
    let (status, _) =
        app.post_json("/api/invitations/accept", Some(&colleague_token), json!({"token": third_token})).await;
    assert_eq!(status, Status::Forbidden, "the invitation is for another address");
    let link = last_mail_field(&app, "member_invitation", &colleague.email, "path").await;
    app.login(&colleague).await;
    let (status, html) = app.page(&link).await;
    assert_eq!(status, Status::Ok);
    let resp = app
        .form("/invitations/accept", &[("token", link.split("token=").nth(1).unwrap())], Some(&csrf_in(&html)))
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(resp.headers().get_one("Location"), Some(format!("/applications/{id}").as_str()));
    let (_, html) = app.page("/").await;
    app.form("/logout", &[], Some(&csrf_in(&html))).await;

    // A new address makes its account from the link (the passwords must match), once.
    let link = last_mail_field(&app, "member_invitation", "ny.forsker@uio.no", "path").await;
    let new_token = link.split("token=").nth(1).unwrap().to_string();
    let (status, html) = app.page(&link).await;
    assert_eq!(status, Status::Ok);
    let csrf = csrf_in(&html);
    let password = "Ny-forsker-passord-2026";
    let mut fields = vec![
        ("token", new_token.as_str()),
        ("name", "Nina Forsker"),
        ("password", password),
        ("password_confirm", "x"),
    ];
    let resp = app.form("/invitations/accept", &fields, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    assert!(resp.into_string().await.unwrap().contains("f-password_confirm-error"));
    fields[3] = ("password_confirm", password);
    let resp = app.form("/invitations/accept", &fields, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(app.page(&format!("/applications/{id}")).await.0, Status::Ok, "the new member sees the case");
    assert_eq!(app.page(&link).await.0, Status::Conflict, "the link works once");
    let nina = crate::common::TestUser {
        id: 0,
        email: "ny.forsker@uio.no".into(),
        password: password.into(),
        role: "applicant".into(),
    };
    let nina_token = app.token(&nina).await;
    let kinds = app.event_kinds("application", id).await;
    assert_eq!(kinds.iter().filter(|k| *k == "member.invited").count(), 3, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "member.joined").count(), 2, "{kinds:?}");

    // The case is granted and the data published.
    let (status, case) =
        app.post_json(&format!("/api/applications/{id}/complete"), Some(&officer_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{case}");
    let release = case["releases"][0]["id"].as_i64().unwrap();
    let (status, _) =
        app.post_json(&format!("/api/releases/{release}/decide"), Some(&officer_token), json!({"approve": true})).await;
    assert_eq!(status, Status::Ok);
    let (status, _) = app.post_json(&format!("/api/applications/{id}/decide"), Some(&officer_token), json!({})).await;
    assert_eq!(status, Status::Ok);
    let c = crate::transfers::Case {
        id,
        release,
        applicant: applicant.clone(),
        applicant_token: token.clone(),
        officer_token: officer_token.clone(),
        owner_token: owner_token.clone(),
    };
    let t = create_transfer(&app, &c).await;
    put_file(&app, &owner_token, t, "npr.csv", b"lopenr;diagnose\n1;I50\n", None).await;
    assert_eq!(post(&app, &owner_token, format!("/api/transfers/{t}/publish")).await.0, Status::Ok);

    // Nobody of the project sees or downloads the files before accepting the source's terms.
    for who in [&token, &nina_token, &colleague_token] {
        assert_eq!(app.get_json(&format!("/api/transfers/{t}"), Some(who)).await.0, Status::Forbidden);
        assert_eq!(get_file(&app, who, t, "npr.csv").await.0, Status::Forbidden);
    }
    app.login(&applicant).await;
    let (_, html) = app.page(&format!("/transfers/{t}")).await;
    assert!(html.contains(&format!("href=\"/applications/{id}/terms\"")) && !html.contains("npr.csv"), "{html}");
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Godta vilkårene først") && !html.contains("download>npr.csv"));

    // The terms: one per granted source, with its version; refused unless current and chosen.
    let terms_path = format!("/api/applications/{id}/terms");
    let (status, terms) = app.get_json(&terms_path, Some(&token)).await;
    assert_eq!(status, Status::Ok, "{terms}");
    assert_eq!(terms["terms"][0]["code"], "NPR");
    assert_eq!(terms["terms"][0]["version"], 1);
    assert!(terms["terms"][0]["text_nb"].as_str().unwrap().contains("Taushetserklæring"));
    let npr = terms["terms"][0]["data_source_id"].as_i64().unwrap();
    assert_eq!(terms["outstanding"], json!([npr]));
    let v1 = terms["terms"][0]["terms_id"].as_i64().unwrap();
    let (status, body) = app.post_json(&terms_path, Some(&token), json!({"terms_ids": []})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert_eq!(app.post_json(&terms_path, Some(&token), json!({"terms_ids": [v1 + 999]})).await.0, Status::Conflict);
    assert_eq!(app.post_json(&terms_path, Some(&officer_token), json!({"terms_ids": [v1]})).await.0, Status::Forbidden);

    // The applicant accepts in the page; the files open to them, and only to them.
    let (_, html) = app.page(&format!("/applications/{id}/terms")).await;
    assert!(html.contains("Taushetserklæring"));
    let resp =
        app.form(&format!("/applications/{id}/terms"), &[("terms_ids", &v1.to_string())], Some(&csrf_in(&html))).await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(get_file(&app, &token, t, "npr.csv").await.0, Status::Ok);
    assert_eq!(get_file(&app, &nina_token, t, "npr.csv").await.0, Status::Forbidden, "each person accepts");
    let (status, _) = app.post_json(&terms_path, Some(&nina_token), json!({"terms_ids": [v1]})).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(get_file(&app, &nina_token, t, "npr.csv").await.0, Status::Ok);
    assert!(app.event_kinds("application", id).await.contains(&"terms.accepted".to_string()));

    // The applicant and the officer see who has accepted; the register owner does not.
    let (status, seen) = app.get_json(&terms_path, Some(&officer_token)).await;
    assert_eq!(status, Status::Ok);
    let complete: Vec<(&str, bool)> = seen["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["email"].as_str().unwrap(), p["complete"].as_bool().unwrap()))
        .collect();
    assert!(complete.contains(&(applicant.email.as_str(), true)) && complete.contains(&("ny.forsker@uio.no", true)));
    assert!(complete.contains(&(colleague.email.as_str(), false)) && complete.contains(&("tredje@uio.no", false)));
    assert_eq!(app.get_json(&terms_path, Some(&owner_token)).await.0, Status::Forbidden);

    // A new version of the source's terms (by its owner, not by a researcher) is accepted again.
    let new_terms =
        json!({"text_nb": "Taushetserklæring, versjon 2.", "text_en": "Confidentiality undertaking, version 2."});
    let path = format!("/api/data-sources/{npr}/terms");
    assert_eq!(app.post_json(&path, Some(&token), new_terms.clone()).await.0, Status::Forbidden);
    let (status, v2) = app.post_json(&path, Some(&owner_token), new_terms).await;
    assert_eq!(status, Status::Created, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_eq!(app.get_json(&path, None).await.1["version"], 2, "the current terms are public");
    assert_eq!(get_file(&app, &token, t, "npr.csv").await.0, Status::Forbidden, "version 2 is not accepted yet");
    assert_eq!(app.post_json(&terms_path, Some(&token), json!({"terms_ids": [v1]})).await.0, Status::Conflict);
    let (status, _) = app.post_json(&terms_path, Some(&token), json!({"terms_ids": [v2["id"]]})).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(get_file(&app, &token, t, "npr.csv").await.0, Status::Ok);
}

#[rocket::async_test]
async fn an_invitation_to_a_withdrawn_application_can_no_longer_be_accepted() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let token = app.token(&applicant).await;
    let colleague = app.user("applicant", None).await;
    let colleague_token = app.token(&colleague).await;
    let mut form = complete_form(&app).await;
    form["members"] = json!([colleague.email, "ny.forsker@uio.no"]);
    let (status, draft) = app.post_json("/api/applications", Some(&token), form).await;
    assert_eq!(status, Status::Created, "{draft}");
    let id = draft["id"].as_i64().unwrap();
    attach_required(&app, &token, id).await;
    let (status, body) = app.post_json(&format!("/api/applications/{id}/submit"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let to_colleague = last_mail_field(&app, "member_invitation", &colleague.email, "path").await;
    let to_new = last_mail_field(&app, "member_invitation", "ny.forsker@uio.no", "path").await;
    let (status, _) = app.post_json(&format!("/api/applications/{id}/withdraw"), Some(&token), json!({})).await;
    assert_eq!(status, Status::Ok);

    // Neither the holder of an account nor a new address joins; no account is made.
    let colleague_link = to_colleague.split("token=").nth(1).unwrap();
    let (status, body) =
        app.post_json("/api/invitations/accept", Some(&colleague_token), json!({"token": colleague_link})).await;
    assert_eq!(status, Status::Conflict, "{body}");
    assert!(body["error"].as_str().unwrap().contains("withdrawn"), "{body}");
    let accounts = count(&app, "SELECT count(*) AS n FROM users").await;
    let (status, html) = app.page(&to_new).await;
    assert_eq!(status, Status::Conflict);
    assert!(html.contains("Søknaden er trukket: det er ikke noe prosjekt å bli med i."), "{html}");
    let (_, html) = app.page("/login").await;
    let fields = [
        ("token", to_new.split("token=").nth(1).unwrap()),
        ("name", "Nina Forsker"),
        ("password", "Ny-forsker-passord-2026"),
        ("password_confirm", "Ny-forsker-passord-2026"),
    ];
    let resp = app.form("/invitations/accept", &fields, Some(&csrf_in(&html))).await;
    assert_eq!(resp.status(), Status::Conflict);
    assert_eq!(count(&app, "SELECT count(*) AS n FROM users").await, accounts, "no account for the withdrawn case");
    assert_eq!(count(&app, "SELECT count(*) AS n FROM member_invitations WHERE accepted_at IS NOT NULL").await, 0);
}
