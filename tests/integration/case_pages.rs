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
    assert!(html.contains("<dt>Saksbehandler</dt><dd>Ikke tildelt</dd>"), "the officer sees nobody has it");
    let csrf = csrf_in(&html);
    let resp = app.form(&format!("/applications/{id}/command/return"), &[("message", "")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::UnprocessableEntity);
    let html = resp.into_string().await.unwrap();
    assert!(html.contains("Må fylles ut"), "the empty message is refused and explained");
    let resp = app.form(&format!("/applications/{id}/command/complete"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains("Under behandling"));
    // Completing takes the case: the page names who has it, to the applicant too.
    let name =
        crate::common::json_of(&app, &format!("SELECT to_json(name) AS j FROM users WHERE id = {}", officer.id)).await;
    let name = name.as_str().unwrap().to_string();
    assert!(html.contains(&format!("<dt>Saksbehandler</dt><dd>{name} (deg)</dd>")), "{html}");
    app.login(&applicant).await;
    let (_, page) = app.page(&format!("/applications/{id}")).await;
    assert!(page.contains(&format!("<dt>Saksbehandler</dt><dd>{name}</dd>")));
    app.login(&officer).await;
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
    // A statement the applicant could read yesterday: their two weeks to comment still run,
    // and the preview says so (the officer may decide anyway).
    app.sql(&format!(
        "INSERT INTO statements (application_id, requested_by, reviewer_id, question, due_on, answer, answered_at, shared_at, created_at) \
         VALUES ({id}, {0}, {0}, 'Er utvalget forholdsmessig?', current_date + 10, 'Ja.', now() - interval '1 day', now() - interval '1 day', now() - interval '3 days'), \
                ({id}, {0}, {0}, 'Trengs KRG?', date '2031-01-15', NULL, NULL, NULL, now() - interval '2 days')",
        officer.id
    ))
    .await
    .unwrap();
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
    let yesterday = helsedataservice::domain::deadlines::oslo_date(chrono::Utc::now() - chrono::Duration::days(1));
    let by = helsedataservice::domain::statement::comment_by(yesterday).format("%d.%m.%Y").to_string();
    assert!(preview.contains("Søkeren har ennå tid til å kommentere uttalelser"), "{preview}");
    assert!(preview.contains(&format!("søkerens frist for kommentarer er {by}.")), "{preview}");
    assert!(preview.contains("Uttalelser som ikke er besvart ennå") && preview.contains("(svarfrist 15.01.2031)"));
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

#[rocket::async_test]
async fn the_inbox_comes_in_pages_of_fifty_sorted_with_the_filters_in_the_address() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    // 120 submitted cases (written directly: the inbox reads what is stored), one a day, the
    // first submitted first; due dates the other way round.
    app.sql(&format!(
        "INSERT INTO applications (applicant_id, state, title, form, first_submitted_at, submitted_at, due_date, submit_count) \
         SELECT {}, 'submitted', 'Sak ' || lpad(n::text, 3, '0'), '{{}}', \
                timestamptz '2026-01-01' + n * interval '1 day', timestamptz '2026-01-01' + n * interval '1 day', \
                date '2027-12-31' - n, 1 \
         FROM generate_series(1, 120) AS n",
        applicant.id
    ))
    .await
    .unwrap();
    let officer = app.user("case_officer", None).await;
    app.login(&officer).await;
    // The addresses as the browser reads them out of the attributes.
    let page = async |path: &str| {
        let (status, html) = app.page(path).await;
        (status, crate::common::unescape(&html))
    };

    // The default order is the due date: the latest submitted is due first.
    let (status, html) = page("/inbox").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(html.matches("<tr class=").count(), 50, "fifty a page");
    assert!(html.contains("Sak 120") && !html.contains("Sak 070"), "page 1 by due date");
    assert!(html.contains("Side 1 av 3") && html.contains("120 saker"), "the whole count, not the page's");
    assert!(html.contains("href=\"/inbox?page=2\"") && !html.contains("rel=\"prev\""));

    // Closed and withdrawn cases, due long ago, are not what is left to do: the inbox shows
    // the cases waiting for a decision unless asked for every case or for their state.
    app.sql(&format!(
        "INSERT INTO applications (applicant_id, state, title, form, first_submitted_at, submitted_at, due_date, submit_count) \
         VALUES ({0}, 'closed', 'Avsluttet sak', '{{}}', timestamptz '2025-01-01', timestamptz '2025-01-01', date '2025-02-01', 1), \
                ({0}, 'withdrawn', 'Trukket sak', '{{}}', timestamptz '2025-01-02', timestamptz '2025-01-02', date '2025-02-02', 1)",
        applicant.id
    ))
    .await
    .unwrap();
    let (_, html) = page("/inbox").await;
    assert!(!html.contains("Avsluttet sak") && !html.contains("Trukket sak") && html.contains("Sak 120"));
    assert!(html.contains("120 saker") && html.contains("<option value=\"\">Venter på vedtak"), "the default, said so");
    let (_, html) = page("/inbox?state=all").await;
    assert!(html.contains("122 saker") && html.contains("<option value=\"all\" selected>Alle saker"));
    let first = |text: &str| html.find(text).unwrap_or(usize::MAX);
    assert!(first("Avsluttet sak") < first("Sak 120") && first("Trukket sak") < first("Sak 120"), "due first");
    assert!(html.contains("Sak 073") && !html.contains("Sak 072"), "and fifty on the page");
    assert!(html.contains("href=\"/inbox?state=all&page=2\""), "the choice stays in the page links");
    let (_, html) = page("/inbox?state=closed").await;
    assert!(html.contains("Én sak") && html.contains("Avsluttet sak") && !html.contains("Trukket sak"));
    let (_, html) = page("/inbox?assignee=none").await;
    assert!(html.contains("120 saker"), "counted in the database with another filter too");
    let csv = app.client.get("/inbox.csv").dispatch().await.into_string().await.unwrap();
    assert!(!csv.contains("Avsluttet sak"), "the export as the page");
    app.sql("DELETE FROM applications WHERE state IN ('closed', 'withdrawn')").await.unwrap();
    let (_, html) = page("/inbox?page=3").await;
    assert_eq!(html.matches("<tr class=").count(), 20);
    assert!(html.contains("Sak 001") && html.contains("rel=\"prev\"") && !html.contains("rel=\"next\""));

    // Sorting by submission, then reversed; the header says how the list is sorted.
    let (_, html) = page("/inbox?sort=submitted").await;
    assert!(html.contains("Sak 001") && !html.contains("Sak 051"));
    assert!(html.contains("aria-sort=\"ascending\"><a href=\"/inbox?sort=submitted&order=desc\""), "{html}");
    let (_, html) = page("/inbox?sort=submitted&order=desc&page=2").await;
    assert!(html.contains("Sak 070") && !html.contains("Sak 120") && !html.contains("Sak 001"));
    // The filters and the order stay in the page links and in the filter form.
    let (_, html) = page("/inbox?state=submitted&sort=submitted&order=desc").await;
    assert!(html.contains("href=\"/inbox?state=submitted&sort=submitted&order=desc&page=2\""), "{html}");
    assert!(html.contains("name=\"sort\" value=\"submitted\"") && html.contains("name=\"order\" value=\"desc\""));
    // Nonsense in the address is ignored, not an error.
    let (status, html) = page("/inbox?sort=nonsense&page=-4").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Side 1 av 3"));
    // The CSV export has every matching case, not one page.
    let resp = app.client.get("/inbox.csv?sort=submitted").dispatch().await;
    let csv = resp.into_string().await.unwrap();
    assert_eq!(csv.lines().count(), 121, "a header and 120 cases");
}

/// Issue 25: the list of cases comes in pages of 50, newest first, so it stays one page's work
/// at 100 000 cases; drafts are not in it, and the last page has no link onwards.
#[rocket::async_test]
async fn the_list_of_cases_comes_in_pages() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let officer = app.user("case_officer", None).await;
    app.sql(&format!(
        "INSERT INTO applications (applicant_id, reference, state, kind, application_type, title, form, \
         first_submitted_at, submitted_at, submit_count, created_at, updated_at) \
         SELECT {}, 'HDS-2026-' || lpad(i::text, 5, '0'), 'submitted', 'aggregated', 'new', 'Sidesak ' || i, '{{}}', \
         now(), now(), 1, now(), now() FROM generate_series(1, 53) AS i",
        applicant.id
    ))
    .await
    .unwrap();
    app.sql(&format!(
        "INSERT INTO applications (applicant_id, state, kind, application_type, title, form, created_at, updated_at) \
         VALUES ({}, 'draft', 'aggregated', 'new', 'Kladd som ingen ser', '{{}}', now(), now())",
        applicant.id
    ))
    .await
    .unwrap();
    app.login(&officer).await;
    let page = async |path: &str| {
        let (status, html) = app.page(path).await;
        assert_eq!(status, Status::Ok);
        html.replace("&#x3D;", "=")
    };
    let first = page("/applications").await;
    assert_eq!(first.matches("Sidesak ").count(), 50, "a page holds 50 cases");
    assert!(first.contains("Sidesak 53<") && !first.contains("Sidesak 3<"), "newest first");
    assert!(first.contains("href=\"/applications?page=2\" rel=\"next\"") && !first.contains("rel=\"prev\""));
    let second = page("/applications?page=2").await;
    assert_eq!(second.matches("Sidesak ").count(), 3, "the rest");
    assert!(second.contains("Sidesak 1<") && second.contains("Side 2"));
    assert!(second.contains("href=\"/applications?page=1\" rel=\"prev\"") && !second.contains("rel=\"next\""));
    assert!(!first.contains("Kladd som ingen ser") && !second.contains("Kladd som ingen ser"), "no drafts");
    // Past the end: no "you have no applications", and the way back.
    let third = page("/applications?page=3").await;
    assert!(third.contains("Det er ingenting på denne siden") && !third.contains("ingen søknader ennå"), "{third}");
    assert!(third.contains("href=\"/applications?page=2\" rel=\"prev\""));
}

/// Issue 25: a register owner's queue of releases comes in pages of 50 with the count per state,
/// each state a link that shows only its releases, oldest first; it held every release of the
/// organisation on one page (33 000 for FHI at national scale: 7 MB and 1.4 s).
#[rocket::async_test]
async fn the_release_queue_comes_in_pages_by_state() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    // 63 cases in review, each with a release of NPR (Helsedirektoratet's): 60 awaiting a
    // decision and 3 approved, the lower the number the older (written directly).
    app.sql(&format!(
        "INSERT INTO applications (applicant_id, reference, state, title, form, first_submitted_at, submitted_at, submit_count) \
         SELECT {}, 'HDS-2026-' || lpad(n::text, 5, '0'), 'in_review', 'Kø ' || lpad(n::text, 2, '0'), '{{}}', now(), now(), 1 \
         FROM generate_series(1, 63) AS n",
        applicant.id
    ))
    .await
    .unwrap();
    app.sql(
        "INSERT INTO releases (application_id, data_source_id, decider, owner_organisation_id, state, created_at) \
         SELECT a.id, d.id, 'owner', d.owner_id, CASE WHEN a.title > 'Kø 60' THEN 'approved' ELSE 'pending' END, \
                timestamptz '2026-01-01' + substr(a.title, 4)::int * interval '1 hour' \
         FROM applications a, data_sources d WHERE d.code = 'NPR' AND a.title LIKE 'Kø %'",
    )
    .await
    .unwrap();
    // A revised estimate waits for Kø 61's applicant; Kø 62's was accepted.
    app.sql(&format!(
        "INSERT INTO estimates (application_id, organisation_id, lines, total_ore, message, created_by, created_at, accepted_at) \
         SELECT a.id, d.owner_id, '[]', 100, 'Mer arbeid', {}, now(), CASE WHEN a.title = 'Kø 62' THEN now() END \
         FROM applications a, data_sources d WHERE d.code = 'NPR' AND a.title IN ('Kø 61', 'Kø 62')",
        applicant.id
    ))
    .await
    .unwrap();
    let owner = app.user("register_owner", Some("983544622")).await;
    app.login(&owner).await;
    let page = async |path: &str| {
        let (status, html) = app.page(path).await;
        assert_eq!(status, Status::Ok, "{path}");
        crate::common::unescape(&html)
    };
    let rows = |html: &str| html.matches("#releases\">").count();

    let all = page("/releases").await;
    assert_eq!(rows(&all), 50, "fifty a page");
    assert_eq!(all.matches("<tr><td><a href=\"/applications/").count(), 50, "each a row of plain cells");
    for count in
        ["Alle: <strong>63</strong>", "Innvilget: <strong>3</strong>", "Venter på vurdering: <strong>60</strong>"]
    {
        assert!(all.contains(count), "{count}: {all}");
    }
    assert!(all.contains("href=\"/releases\" aria-current=\"page\""), "the list shown is marked");
    let marked = all.find("prisoverslag venter på godkjenning").expect("the waiting estimate is marked");
    let row = &all[all[..marked].rfind("<tr>").unwrap()..marked];
    assert!(row.contains("Kø 61"), "on Kø 61's row: {row}");
    assert_eq!(all.matches("prisoverslag venter på godkjenning").count(), 1, "not on Kø 62's, accepted");
    // Cards on phones: each cell after its column's name, from the page language's style sheet.
    assert!(all.contains("<table data-cards=\"release-queue\">"));
    assert!(all.contains("<link rel=\"stylesheet\" href=\"/static/cards-nb.css?v="));
    let css = app.client.get("/static/cards-nb.css").dispatch().await.into_string().await.unwrap();
    assert!(css.contains(
        r#"[data-cards="release-queue"] tbody>tr>:nth-child(7):not([colspan])::before{content:"Å gjøre: "}"#
    ));
    assert!(all.find("Kø 61").unwrap() < all.find("Kø 01").unwrap(), "by state (approved first), then oldest first");
    assert!(!all.contains("Kø 48") && all.contains("Side 1 av 2"));
    assert!(all.contains("href=\"/releases?page=2\" rel=\"next\""));
    let rest = page("/releases?page=2").await;
    assert_eq!(rows(&rest), 13);
    assert!(rest.contains("Kø 48") && rest.contains("Kø 60") && !rest.contains("Kø 61"));

    let pending = page("/releases?state=pending").await;
    assert_eq!(rows(&pending), 50);
    assert!(!pending.contains("Kø 61") && pending.contains("Kø 01") && !pending.contains("Kø 51"));
    assert!(pending.contains("href=\"/releases?state=pending\" aria-current=\"page\""));
    assert!(pending.contains("href=\"/releases?state=pending&page=2\" rel=\"next\""), "the state stays in the pages");
    let pending2 = page("/releases?state=pending&page=2").await;
    assert_eq!(rows(&pending2), 10);
    assert!(pending2.contains("Kø 51") && pending2.contains("Kø 60"));
    let approved = page("/releases?state=approved").await;
    assert_eq!(rows(&approved), 3);
    assert!(!approved.contains("class=\"pager\""), "one page needs no pager");
    // The days a release has waited: since it was made while it waits for the case's decision
    // (Kø 61 approved by its owner, the case still in review); a refused one waits for nothing.
    let days = |n: i64| {
        let made = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap() + chrono::Duration::hours(n);
        (chrono::Utc::now() - made.to_utc()).num_days()
    };
    assert!(approved.contains(&format!("<td>Innvilget</td><td>{}</td>", days(61))), "{approved}");
    app.sql(
        "UPDATE releases SET state = 'rejected' FROM applications a WHERE a.id = application_id AND a.title = 'Kø 01'",
    )
    .await
    .unwrap();
    let rejected = page("/releases?state=rejected").await;
    assert!(rejected.contains("Kø 01") && rejected.contains("<td>Avslått</td><td></td>"), "{rejected}");
    // An unknown state shows them all; another organisation's owner sees none of them.
    assert_eq!(rows(&page("/releases?state=alle&page=-1").await), 50);
    let fhi = app.user("register_owner", Some("983744516")).await;
    app.login(&fhi).await;
    let none = page("/releases").await;
    assert_eq!(rows(&none), 0);
    assert!(none.contains("Alle: <strong>0</strong>") && none.contains("Ingen utleveringer"), "{none}");
}
