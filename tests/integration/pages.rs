//! Pages driven the way a browser does: GET a form, POST it with the CSRF token, follow the
//! redirect, read errors beside the fields.

use crate::common::{TestApp, csrf_in};
use rocket::http::Status;

#[rocket::async_test]
async fn front_page_and_layout() {
    let app = TestApp::new().await;
    let (status, html) = app.page("/").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("<html lang=\"nb\">"));
    assert!(html.contains("class=\"skip-link\" href=\"#main\""));
    assert!(html.contains("<main id=\"main\""));
    assert!(html.contains("href=\"/language/en?next=/\""));
    // A favicon, served from the binary.
    assert!(html.contains("<link rel=\"icon\" href=\"/static/favicon.svg?v="));
    let icon = app.client.get("/static/favicon.svg").dispatch().await;
    assert_eq!(icon.status(), Status::Ok);
    assert_eq!(icon.content_type(), Some(rocket::http::ContentType::SVG));
    // The static files are linked with the fingerprint of this build's: a link that names the
    // current bytes is kept for a year, any other URL for an hour (an upgrade is seen at once).
    let at = html.find("href=\"/static/app.css?v=").expect("the style sheet is linked with its fingerprint");
    let link = &html[at + 6..];
    let link = &link[..link.find('"').unwrap()];
    let fingerprint = link.rsplit('=').next().unwrap();
    assert!(fingerprint.len() == 12 && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()), "{link}");
    assert!(html.contains(&format!("href=\"/static/cards-nb.css?v={fingerprint}\"")));
    assert!(html.contains(&format!("href=\"/static/favicon.svg?v={fingerprint}\"")));
    for (path, policy) in [
        (link.to_string(), "public, max-age=31536000, immutable"),
        (format!("/static/cards-nb.css?v={fingerprint}"), "public, max-age=31536000, immutable"),
        ("/static/app.css".to_string(), "public, max-age=3600"),
        ("/static/app.css?v=000000000000".to_string(), "public, max-age=3600"),
    ] {
        let resp = app.client.get(path.clone()).dispatch().await;
        assert_eq!(resp.status(), Status::Ok, "{path}");
        assert_eq!(resp.headers().get_one("Cache-Control"), Some(policy), "{path}");
    }
    let resp =
        app.client.get("/").header(rocket::http::Header::new("Accept-Language", "en-GB,en;q=0.9")).dispatch().await;
    assert!(resp.into_string().await.unwrap().contains("Apply for access to health data"));
}

#[rocket::async_test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    let fields = [("email", user.email.as_str()), ("password", user.password.as_str())];
    let resp = app.form("/login", &fields, None).await;
    assert_eq!(resp.status(), Status::Forbidden);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("Skjemaet er utløpt"), "{html}");
    app.csrf().await;
    let resp = app.form("/login", &fields, Some("forged-token")).await;
    assert_eq!(resp.status(), Status::Forbidden);
    // A token from another browser (another cookie) is refused too.
    let other = TestApp::new().await;
    let foreign = other.csrf().await;
    let resp = app.form("/login", &fields, Some(&foreign)).await;
    assert_eq!(resp.status(), Status::Forbidden);
    let (_, html) = app.page("/").await;
    assert!(!html.contains(&user.email), "not logged in");
}

#[rocket::async_test]
async fn login_logout_and_wrong_password() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    let csrf = app.csrf().await;
    let resp =
        app.form("/login", &[("email", &user.email), ("password", "Feil-passord-1"), ("next", "/")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Unauthorized);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("Feil e-postadresse eller passord"));
    assert!(html.contains(&format!("value=\"{}\"", user.email)), "the e-mail is kept in the form");

    app.login(&user).await;
    let cookie = app.client.cookies().get_private("hds_session").expect("session cookie");
    assert_eq!(cookie.http_only(), Some(true));
    let (_, html) = app.page("/").await;
    assert!(html.contains("Logg ut"));
    let csrf = csrf_in(&html);
    let resp = app.form("/logout", &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page("/").await;
    assert!(!html.contains("Logg ut"));
    let mut conn = app.conn().await;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let sessions: i64 = helsedataservice::db::schema::sessions::table.count().get_result(&mut conn).await.unwrap();
    assert_eq!(sessions, 0, "logout deletes the session");
}

#[rocket::async_test]
async fn login_redirects_only_to_local_pages() {
    let app = TestApp::new().await;
    let user = app.user("applicant", None).await;
    let csrf = app.csrf().await;
    let resp = app
        .form(
            "/login",
            &[("email", &user.email), ("password", &user.password), ("next", "https://evil.example/")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    assert_eq!(resp.headers().get_one("Location"), Some("/applications"), "not away: to the applicant's start page");
}

/// Issue 20: after logging in each role lands on its own work.
#[rocket::async_test]
async fn each_role_lands_on_its_own_work_after_login() {
    let app = TestApp::new().await;
    for (role, org, home) in [
        ("applicant", None, "/applications"),
        ("case_officer", None, "/inbox"),
        ("register_owner", Some("983744516"), "/releases"),
        ("admin", None, "/dashboard"),
    ] {
        let user = app.user(role, org).await;
        let csrf = app.csrf().await;
        let resp = app
            .form("/login", &[("email", &user.email), ("password", &user.password), ("next", "/")], Some(&csrf))
            .await;
        assert_eq!(resp.headers().get_one("Location"), Some(home), "{role}");
        drop(resp);
        let (status, _) = app.page(home).await;
        assert_eq!(status, Status::Ok, "{role} may open {home}");
    }
}

#[rocket::async_test]
async fn registration_form_shows_errors_beside_fields_in_both_languages() {
    let app = TestApp::new().await;
    let csrf = app.csrf().await;
    let resp = app
        .form(
            "/register",
            &[("name", ""), ("email", "nope"), ("password", "kort"), ("password_confirm", "kort")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("id=\"f-email-error\""));
    assert!(html.contains("aria-describedby=\"f-email-error"));
    assert!(html.contains("aria-invalid=\"true\""));
    assert!(html.contains("Må være en gyldig e-postadresse."));
    assert!(html.contains("Må fylles ut."));
    assert!(html.contains("value=\"nope\""), "entered values are kept");

    app.client.get("/language/en").dispatch().await;
    let resp = app
        .form(
            "/register",
            &[
                ("name", "Kari"),
                ("email", "kari@example.no"),
                ("password", "Sterkt-passord-1"),
                ("password_confirm", "Annet-passord-1"),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    assert!(resp.into_string().await.unwrap().contains("The passwords do not match."));

    let resp = app
        .form(
            "/register",
            &[
                ("name", "Kari Ødegård & Co"),
                ("email", "kari@example.no"),
                ("password", "Sterkt-passord-1"),
                ("password_confirm", "Sterkt-passord-1"),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::Ok, "the same answer for every address: check your e-mail");
    assert!(resp.into_string().await.unwrap().contains("kari@example.no"));
    let user = crate::common::TestUser {
        id: 0,
        email: "kari@example.no".into(),
        password: "Sterkt-passord-1".into(),
        role: "applicant".into(),
    };
    app.login(&user).await;
    let (_, html) = app.page("/").await;
    assert!(
        html.contains("Kari Ødegård &amp; Co") && html.contains("Log out"),
        "the name round-trips decoded and escaped"
    );
}

#[rocket::async_test]
async fn admin_pages_need_an_admin() {
    let app = TestApp::new().await;
    for path in
        ["/admin", "/admin/users", "/admin/organisations", "/admin/data-sources", "/admin/audit", "/admin/users/1"]
    {
        let resp = app.client.get(path).dispatch().await;
        assert_eq!(resp.status(), Status::SeeOther, "{path}");
        assert!(resp.headers().get_one("Location").unwrap().starts_with("/login?next="));
    }
    for role in ["applicant", "case_officer"] {
        let user = app.user(role, None).await;
        let browser = TestApp::new().await;
        let u = browser.user(role, None).await;
        browser.login(&u).await;
        for path in ["/admin", "/admin/users", "/admin/data-sources", "/admin/audit"] {
            let (status, _) = browser.page(path).await;
            assert_eq!(status, Status::Forbidden, "{role} on {path}");
        }
        drop(user);
    }
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    for path in [
        "/admin",
        "/admin/users",
        "/admin/organisations",
        "/admin/data-sources",
        "/admin/audit",
        "/admin/data-sources/new",
    ] {
        let (status, html) = app.page(path).await;
        assert_eq!(status, Status::Ok, "{path}");
        assert!(html.contains("<h1>"));
    }
}

#[rocket::async_test]
async fn admin_creates_users_and_changes_roles_through_forms() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let (_, html) = app.page("/admin/users").await;
    let csrf = csrf_in(&html);
    // A register owner without an organisation is refused, with the error beside the field.
    let resp = app
        .form(
            "/admin/users",
            &[
                ("email", "eier@example.no"),
                ("name", "Eier"),
                ("password", "Sterkt-passord-1"),
                ("role", "register_owner"),
                ("organisation_id", ""),
                ("language", "nb"),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    assert!(resp.into_string().await.unwrap().contains("id=\"f-organisation_id-error\""));

    let resp = app
        .form(
            "/admin/users",
            &[
                ("email", "saksbehandler@example.no"),
                ("name", "Sakse"),
                ("password", "Sterkt-passord-1"),
                ("role", "applicant"),
                ("organisation_id", ""),
                ("language", "en"),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let location = resp.headers().get_one("Location").unwrap().to_string();
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();

    let (_, html) = app.page(&location).await;
    assert!(html.contains("saksbehandler@example.no"));
    let version = html.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let edit = [
        ("name", "Sakse"),
        ("role", "case_officer"),
        ("organisation_id", ""),
        ("language", "en"),
        ("active", "on"),
        ("version", version.as_str()),
        ("password", ""),
    ];
    let resp = app.form(&location, &edit, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let mut conn = app.conn().await;
    let user = helsedataservice::db::users::by_id(&mut conn, id).await.unwrap().unwrap();
    assert_eq!(user.role.code(), "case_officer");
    assert_eq!(app.event_kinds("user", id).await, vec!["user.created", "user.updated"]);
    // The same form again carries a stale version.
    let resp = app.form(&location, &edit, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::Conflict);
}

#[rocket::async_test]
async fn the_last_admin_cannot_be_demoted() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let (_, html) = app.page(&format!("/admin/users/{}", admin.id)).await;
    let csrf = csrf_in(&html);
    let resp = app
        .form(
            &format!("/admin/users/{}", admin.id),
            &[
                ("name", "Admin"),
                ("role", "applicant"),
                ("organisation_id", ""),
                ("language", "nb"),
                ("active", "on"),
                ("version", "1"),
                ("password", ""),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::Conflict);
    let mut conn = app.conn().await;
    assert_eq!(helsedataservice::db::users::by_id(&mut conn, admin.id).await.unwrap().unwrap().role.code(), "admin");
}

#[rocket::async_test]
async fn admin_edits_a_source_and_its_variables_through_forms() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let (_, source) = app.get_json("/api/data-sources/KRG", None).await;
    let id = source["id"].as_i64().unwrap();
    let path = format!("/admin/data-sources/{id}");
    let (status, html) = app.page(&path).await;
    assert_eq!(status, Status::Ok);
    let csrf = csrf_in(&html);
    let owner = source["owner"]["id"].to_string();
    let version = source["version"].to_string();
    let fields = [
        ("code", "KRG"),
        ("name_nb", "Kreftregisteret"),
        ("name_en", "Cancer Registry of Norway"),
        ("kind", "central_health_register"),
        ("owner_id", owner.as_str()),
        ("decision_authority", "hds"),
        ("on_common_form", "on"),
        ("description_nb", "Oppdatert."),
        ("description_en", "Updated."),
        ("version", version.as_str()),
    ];
    let resp = app.form(&path, &fields, Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, after) = app.get_json("/api/data-sources/KRG", None).await;
    assert_eq!(after["decision_authority"], "hds");
    assert!(app.event_kinds("data_source", id).await.contains(&"data_source.decision_authority_changed".to_string()));

    let resp = app
        .form(
            &format!("{path}/variables"),
            &[("name", "Ugyldig Navn"), ("description_nb", ""), ("description_en", ""), ("identifying", "none")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let resp = app
        .form(
            &format!("{path}/variables"),
            &[
                ("name", "tnm_stadium"),
                ("description_nb", "TNM-stadium"),
                ("description_en", "TNM stage"),
                ("identifying", "none"),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, after) = app.get_json("/api/data-sources/KRG", None).await;
    let var =
        after["variables"].as_array().unwrap().iter().find(|v| v["name"] == "tnm_stadium").expect("added").clone();
    let resp = app.form(&format!("{path}/variables/{}/delete", var["id"]), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, after) = app.get_json("/api/data-sources/KRG", None).await;
    assert!(!after["variables"].as_array().unwrap().iter().any(|v| v["name"] == "tnm_stadium"));
    // Deleting it again: it is gone.
    let resp = app.form(&format!("{path}/variables/{}/delete", var["id"]), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::NotFound);
}

#[rocket::async_test]
async fn admin_organisation_form_rejects_bad_check_digit() {
    let app = TestApp::new().await;
    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let (_, html) = app.page("/admin/organisations").await;
    let csrf = csrf_in(&html);
    let resp = app
        .form(
            "/admin/organisations",
            &[("name", "Feil AS"), ("name_en", ""), ("organisation_number", "971035855")],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("id=\"f-organisation_number-error\""));
    assert!(html.contains("feil kontrollsiffer"));
}
