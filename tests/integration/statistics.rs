//! Statistics computed by the database for a known set of cases, checked against figures worked
//! out by hand; the public page with its charts and tables; the register of approved projects
//! without personal data; the dashboards and who may see them.

use crate::common::TestApp;
use chrono::{DateTime, Utc};
use diesel_async::RunQueryDsl;
use helsedataservice::db::events::{NewEvent, append};
use rocket::http::Status;
use serde_json::{Value, json};

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Inserts an application with the given timestamps (None: not reached) and sources.
#[allow(clippy::too_many_arguments)]
async fn case(
    app: &TestApp,
    applicant: i64,
    state: &str,
    submitted: &str,
    completed: Option<&str>,
    delivered: Option<&str>,
    sources: &[&str],
    form: Value,
) -> i64 {
    use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let mut conn = app.conn().await;
    let id = diesel::sql_query(
        "INSERT INTO applications (applicant_id, state, title, form, first_submitted_at, submitted_at, completed_at, complete_submitted_at, delivered_at, submit_count) \
         VALUES ($1, $2, $3, $4, $5, $5, $6, $6, $7, 1) RETURNING id",
    )
    .bind::<BigInt, _>(applicant)
    .bind::<Text, _>(state)
    .bind::<Text, _>(format!("Prosjekt fra {submitted}"))
    .bind::<Jsonb, _>(form)
    .bind::<Timestamptz, _>(at(submitted))
    .bind::<Nullable<Timestamptz>, _>(completed.map(at))
    .bind::<Nullable<Timestamptz>, _>(delivered.map(at))
    .get_result::<Id>(&mut conn)
    .await
    .unwrap()
    .id;
    for code in sources {
        app.sql(&format!(
            "INSERT INTO application_sources (application_id, data_source_id) SELECT {id}, id FROM data_sources WHERE code = '{code}'"
        ))
        .await
        .unwrap();
        // A delivered case's releases were delivered with it (the KPI per source counts each
        // release's own delivery).
        if let Some(when) = delivered {
            app.sql(&format!(
                "INSERT INTO releases (application_id, data_source_id, decider, owner_organisation_id, state, delivered_at) \
                 SELECT {id}, id, 'owner', owner_id, 'delivered', '{when}' FROM data_sources WHERE code = '{code}'"
            ))
            .await
            .unwrap();
        }
    }
    id
}

async fn decision(app: &TestApp, id: i64, outcome: &str, when: &str, officer: i64) {
    app.sql(&format!(
        "INSERT INTO decisions (application_id, outcome, language, letter_html, decided_by, decided_at, appeal_deadline) \
         VALUES ({id}, '{outcome}', 'nb', '<p>vedtak</p>', {officer}, '{when}', '2030-01-01')"
    ))
    .await
    .unwrap();
}

/// Records that officer `officer` returned application `id` to the applicant at `when`.
async fn returned(app: &TestApp, id: i64, when: DateTime<Utc>, officer: i64) {
    let mut conn = app.conn().await;
    let event = NewEvent {
        actor_id: Some(officer),
        address: None,
        subject_type: "application",
        subject_id: Some(id),
        kind: "application.returned",
        payload: json!({}),
    };
    append(&mut conn, when, event).await.unwrap();
}

#[rocket::async_test]
async fn figures_match_a_hand_computed_set_of_cases() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let officer = app.user("case_officer", None).await;
    let (a, o) = (applicant.id, officer.id);
    let form = json!({"project_leader": {"name": "Kari Nordmann", "email": "kari@uio.no", "institution": "Universitetet i Oslo"},
                      "start_date": "2026-03-01", "end_date": "2029-12-31"});
    // A1: complete 20 Jan, delivered 21 days later; KRG.
    let a1 = case(
        &app,
        a,
        "delivered",
        "2026-01-10T09:00:00Z",
        Some("2026-01-20T09:00:00Z"),
        Some("2026-02-10T09:00:00Z"),
        &["KRG"],
        form.clone(),
    )
    .await;
    decision(&app, a1, "approved", "2026-02-01T09:00:00Z", o).await;
    // Two transfers of A1's release published in February, one still open (not counted).
    for published in ["'2026-02-05T10:00:00Z'", "'2026-02-06T10:00:00Z'", "NULL"] {
        app.sql(&format!(
            "INSERT INTO transfers (release_id, application_id, sender_organisation_id, created_by, state, expires_at, created_at, updated_at, published_at) \
             SELECT r.id, {a1}, r.owner_organisation_id, {o}, 'available', '2027-01-01', now(), now(), {published} FROM releases r WHERE r.application_id = {a1}"
        ))
        .await
        .unwrap();
    }
    // A2: returned once, complete 1 Mar, delivered 30 days later; KRG and NPR.
    let a2 = case(
        &app,
        a,
        "delivered",
        "2026-02-05T09:00:00Z",
        Some("2026-03-01T09:00:00Z"),
        Some("2026-03-31T09:00:00Z"),
        &["KRG", "NPR"],
        json!({}),
    )
    .await;
    decision(&app, a2, "approved", "2026-03-10T09:00:00Z", o).await;
    returned(&app, a2, at("2026-02-10T09:00:00Z"), o).await;
    // A3: complete, rejected, never delivered; NPR.
    let a3 = case(&app, a, "rejected", "2026-03-03T09:00:00Z", Some("2026-03-05T09:00:00Z"), None, &["NPR"], json!({}))
        .await;
    decision(&app, a3, "rejected", "2026-04-01T09:00:00Z", o).await;
    // A4: submitted, not yet assessed.
    case(&app, a, "submitted", "2026-05-20T09:00:00Z", None, None, &["KRG"], json!({})).await;
    // A5: received before the window, delivered in it after 244 days; NPR.
    let _a5 = case(
        &app,
        a,
        "delivered",
        "2025-05-01T09:00:00Z",
        Some("2025-05-10T09:00:00Z"),
        Some("2026-01-09T09:00:00Z"),
        &["NPR"],
        json!({}),
    )
    .await;
    // A6: rejected, appealed, approved: decided once (its first decision) in April.
    let a6 = case(&app, a, "approved", "2026-03-20T09:00:00Z", Some("2026-03-25T09:00:00Z"), None, &["KRG"], json!({}))
        .await;
    decision(&app, a6, "rejected", "2026-04-02T09:00:00Z", o).await;
    decision(&app, a6, "approved", "2026-05-02T09:00:00Z", o).await;

    let now = at("2026-06-15T12:00:00Z");
    let mut conn = app.conn().await;
    let f = helsedataservice::services::statistics::figures(&mut conn, now).await.unwrap();
    assert_eq!(f["period"], json!({"from": "2025-07", "to": "2026-06"}));
    let month = |m: &str| f["months"].as_array().unwrap().iter().find(|r| r["month"] == m).unwrap().clone();
    assert_eq!(
        month("2026-01"),
        json!({"month": "2026-01", "received": 1, "decided": 0, "delivered": 1, "transfers": 0})
    );
    assert_eq!(
        month("2026-02"),
        json!({"month": "2026-02", "received": 1, "decided": 1, "delivered": 1, "transfers": 2})
    );
    assert_eq!(
        month("2026-03"),
        json!({"month": "2026-03", "received": 2, "decided": 1, "delivered": 1, "transfers": 0})
    );
    assert_eq!(
        month("2026-04"),
        json!({"month": "2026-04", "received": 0, "decided": 2, "delivered": 0, "transfers": 0})
    );
    assert_eq!(month("2026-05")["received"], 1);
    assert_eq!(f["totals"], json!({"received": 5, "decided": 4, "delivered": 3, "transfers": 2}));
    // Handling time: 21, 30 and 244 days → median 30, p90 = 30 + 0.8 × 214 = 201.2.
    let k = &f["case_handling_days"];
    assert_eq!((k["median"].as_f64(), k["p90"].as_f64(), k["count"].as_i64()), (Some(30.0), Some(201.2), Some(3)));
    let source = |code: &str| k["per_source"].as_array().unwrap().iter().find(|s| s["code"] == code).unwrap().clone();
    // KRG: 21 and 30 → 25.5 and 21 + 0.9 × 9 = 29.1; NPR: 30 and 244 → 137 and 30 + 0.9 × 214 = 222.6.
    assert_eq!((source("KRG")["median"].as_f64(), source("KRG")["p90"].as_f64()), (Some(25.5), Some(29.1)));
    assert_eq!((source("NPR")["median"].as_f64(), source("NPR")["p90"].as_f64()), (Some(137.0), Some(222.6)));
    // Assessed in the window: A1, A2, A3, A6; complete the first time: A1, A3, A6.
    assert_eq!(f["complete_at_first_submission"], json!({"assessed": 4, "complete": 3, "share": 0.75}));
    assert_eq!(f["catalogue"]["sources"], 18);
    assert!(f["catalogue"]["sources_on_common_form"].as_i64().unwrap() > 0);
    assert!(f["catalogue"]["variables"].as_i64().unwrap() >= 116);

    // The register: A6, A2, A1 (latest decision approving), with the institution, not the person.
    let (status, body) = app.get_json("/api/projects", None).await;
    assert_eq!(status, Status::Ok);
    let ids: Vec<i64> = body["projects"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![a6, a2, a1]);
    let first = &body["projects"][2];
    assert_eq!(first["institution"], "Universitetet i Oslo");
    assert_eq!(first["sources_nb"], "Kreftregisteret");
    assert_eq!((first["start_date"].as_str(), first["end_date"].as_str()), (Some("2026-03-01"), Some("2029-12-31")));
    let text = body.to_string();
    assert!(!text.contains("Kari") && !text.contains("kari@uio.no") && !text.contains(&applicant.email));
    let (status, html) = app.page("/projects").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Universitetet i Oslo") && !html.contains("Kari Nordmann"));
    // An appeal of what was refused leaves what was granted standing: still listed.
    app.sql(&format!("UPDATE applications SET state = 'appealed' WHERE id = {a2}")).await.unwrap();
    let (_, body) = app.get_json("/api/projects", None).await;
    let ids: Vec<i64> = body["projects"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![a6, a2, a1], "listed while appealed");
}

/// The figures as the kept rollup gives them: months, totals, the share and the handling times.
fn kept(f: &Value) -> Value {
    let k = &f["case_handling_days"];
    json!({
        "months": f["months"],
        "share": [f["complete_at_first_submission"]["assessed"], f["complete_at_first_submission"]["complete"]],
        "handling": [k["median"], k["p90"], k["count"]],
        "per_source": k["per_source"].as_array().unwrap().iter()
            .map(|s| json!([s["code"], s["median"], s["p90"], s["count"]])).collect::<Vec<_>>(),
    })
}

/// The same figures counted from the rows themselves (what the statistics computed on every view
/// before issue 25), the reference the kept figures must agree with.
async fn counted(app: &TestApp, now: DateTime<Utc>) -> Value {
    use helsedataservice::services::statistics::{MONTHS, month_labels, window_start};
    let (start, labels) = (window_start(now, MONTHS - 1), month_labels(now, MONTHS));
    let window = format!("BETWEEN '{}' AND '{}'", start.to_rfc3339(), now.to_rfc3339());
    let month = |column: &str| format!("to_char({column} AT TIME ZONE 'Europe/Oslo', 'YYYY-MM')");
    let j = crate::common::json_of(
        app,
        &format!(
            "SELECT json_build_object( \
               'received', (SELECT json_object_agg(m, n) FROM (SELECT {r} AS m, count(*) AS n FROM applications WHERE first_submitted_at {window} GROUP BY 1) x), \
               'decided', (SELECT json_object_agg(m, n) FROM (SELECT {d} AS m, count(*) AS n FROM (SELECT min(decided_at) AS first FROM decisions GROUP BY application_id) f WHERE first {window} GROUP BY 1) x), \
               'delivered', (SELECT json_object_agg(m, n) FROM (SELECT {v} AS m, count(*) AS n FROM applications WHERE delivered_at {window} GROUP BY 1) x), \
               'transfers', (SELECT json_object_agg(m, n) FROM (SELECT {t} AS m, count(*) AS n FROM transfers WHERE published_at {window} GROUP BY 1) x), \
               'share', (SELECT json_build_array(count(*) FILTER (WHERE completed OR returned), count(*) FILTER (WHERE completed AND NOT returned)) \
                         FROM (SELECT a.completed_at IS NOT NULL AS completed, EXISTS (SELECT 1 FROM events e WHERE e.subject_type = 'application' \
                               AND e.subject_id = a.id AND e.kind = 'application.returned') AS returned \
                               FROM applications a WHERE a.first_submitted_at {window}) c), \
               'handling', (SELECT json_build_array(round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1), \
                                   round(percentile_cont(0.9) WITHIN GROUP (ORDER BY d)::numeric, 1), count(*)) \
                            FROM (SELECT extract(epoch FROM delivered_at - complete_submitted_at) / 86400.0 AS d FROM applications \
                                  WHERE delivered_at {window} AND complete_submitted_at IS NOT NULL) h), \
               'per_source', (SELECT coalesce(json_agg(json_build_array(code, median, p90, n) ORDER BY code), '[]') FROM ( \
                                SELECT s.code, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1) AS median, \
                                       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY d)::numeric, 1) AS p90, count(*) AS n \
                                FROM (SELECT r.data_source_id, extract(epoch FROM r.delivered_at - a.complete_submitted_at) / 86400.0 AS d \
                                      FROM releases r JOIN applications a ON a.id = r.application_id \
                                      WHERE r.delivered_at {window} AND a.complete_submitted_at IS NOT NULL) h \
                                JOIN data_sources s ON s.id = h.data_source_id GROUP BY s.code) p)) AS j",
            r = month("first_submitted_at"),
            d = month("first"),
            v = month("delivered_at"),
            t = month("published_at"),
        ),
    )
    .await;
    let j = &j;
    let at = |key: &str, m: &str| j[key].get(m).and_then(Value::as_i64).unwrap_or(0);
    let months: Vec<Value> = labels
        .iter()
        .map(|m| {
            json!({"month": m, "received": at("received", m), "decided": at("decided", m),
                   "delivered": at("delivered", m), "transfers": at("transfers", m)})
        })
        .collect();
    // Rounded by the database to one decimal, as the service rounds its figures.
    let num = |v: &Value| v.as_f64().map(Value::from).unwrap_or(Value::Null);
    let h = &j["handling"];
    json!({
        "months": months,
        "share": j["share"],
        "handling": [num(&h[0]), num(&h[1]), h[2]],
        "per_source": j["per_source"].as_array().unwrap().iter()
            .map(|s| json!([s[0], num(&s[1]), num(&s[2]), s[3]])).collect::<Vec<_>>(),
    })
}

/// The dashboard's figures counted from the rows themselves (what it computed on every view
/// before issue 25): `[[officer, open, overdue], …]` by officer name, then the open cases and
/// organisation `org`'s pending releases by age (whole Oslo days: 0–29, 30–59, 60–89, 90+).
async fn dashboard_counted(app: &TestApp, now: DateTime<Utc>, org: i64) -> Value {
    let today = format!("('{}'::timestamptz AT TIME ZONE 'Europe/Oslo')::date", now.to_rfc3339());
    let buckets = |since: &str, from: &str| {
        let age = format!("{today} - ({since} AT TIME ZONE 'Europe/Oslo')::date");
        format!(
            "(SELECT json_build_array(count(*) FILTER (WHERE {age} < 30), count(*) FILTER (WHERE {age} >= 30 AND {age} < 60), \
                     count(*) FILTER (WHERE {age} >= 60 AND {age} < 90), count(*) FILTER (WHERE {age} >= 90)) FROM {from})"
        )
    };
    crate::common::json_of(
        app,
        &format!(
            "SELECT json_build_array( \
               (SELECT coalesce(json_agg(json_build_array(w.assignee_id, w.open, w.overdue) ORDER BY u.name NULLS FIRST), '[]') \
                FROM (SELECT assignee_id, count(*) AS open, count(*) FILTER (WHERE due_date < '{day}') AS overdue \
                      FROM applications WHERE state IN ('submitted', 'returned', 'in_review', 'appealed') GROUP BY assignee_id) w \
                LEFT JOIN users u ON u.id = w.assignee_id), \
               {cases}, {releases}) AS j",
            day = now.date_naive(),
            cases = buckets(
                "first_submitted_at",
                "applications WHERE state IN ('submitted', 'returned', 'in_review', 'appealed') AND first_submitted_at IS NOT NULL"
            ),
            releases = buckets("created_at", &format!("releases WHERE state = 'pending' AND owner_organisation_id = {org}")),
        ),
    )
    .await
}

#[rocket::async_test]
async fn kept_figures_follow_corrections_and_late_events() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let officer = app.user("case_officer", None).await;
    let (a, o) = (applicant.id, officer.id);
    let now = Utc::now();
    let day = |back: i64| (now - chrono::Duration::days(back)).to_rfc3339();
    let krg_owner =
        crate::common::json_of(&app, "SELECT to_json(owner_id) AS j FROM data_sources WHERE code = 'KRG'").await;
    let krg_owner = krg_owner.as_i64().unwrap();
    let check = async |what: &str| {
        let mut conn = app.conn().await;
        let f = helsedataservice::services::statistics::figures(&mut conn, now).await.unwrap();
        assert_eq!(counted(&app, now).await, kept(&f), "{what}");
        // The inbox's kept counts per state, too.
        let states = helsedataservice::db::cases::counts_by_state(&conn).await.unwrap();
        let rows = crate::common::json_of(
            &app,
            "SELECT coalesce(json_agg(json_build_array(state, n) ORDER BY state), '[]') AS j FROM \
             (SELECT state, count(*) AS n FROM applications WHERE first_submitted_at IS NOT NULL GROUP BY state) s",
        )
        .await;
        assert_eq!(json!(states), rows, "{what}: cases per state");
        // And the dashboard's kept counts: open cases per officer and by age, pending releases
        // per organisation by age.
        let mut figures = vec![];
        let workload = helsedataservice::db::statistics::workload(&mut conn, now.date_naive()).await.unwrap();
        figures.push(json!(workload.iter().map(|w| json!([w.officer_id, w.open, w.overdue])).collect::<Vec<_>>()));
        for org in [None, Some(krg_owner)] {
            let ages = helsedataservice::db::statistics::ages(&mut conn, now, org).await.unwrap();
            figures.push(json!(ages.iter().map(|b| b.n).collect::<Vec<_>>()));
        }
        assert_eq!(json!(figures), dashboard_counted(&app, now, krg_owner).await, "{what}: dashboard");
        f
    };
    let one = case(&app, a, "delivered", &day(90), Some(&day(80)), Some(&day(40)), &["KRG", "NPR"], json!({})).await;
    let two = case(&app, a, "in_review", &day(60), Some(&day(50)), None, &["NPR"], json!({})).await;
    decision(&app, one, "approved", &day(45), o).await;
    let f = check("as inserted").await;
    assert_eq!(f["totals"]["delivered"], 1);
    assert_eq!(f["complete_at_first_submission"]["complete"], 2);
    // A return recorded after the case was completed: it was not complete the first time.
    returned(&app, two, now - chrono::Duration::days(55), o).await;
    returned(&app, two, now - chrono::Duration::days(54), o).await;
    let f = check("returned twice").await;
    assert_eq!(f["complete_at_first_submission"], json!({"assessed": 2, "complete": 1, "share": 0.5}));
    // An earlier decision added late moves the case's month of decision.
    decision(&app, one, "approved", &day(200), o).await;
    check("an earlier decision").await;
    // Delivery corrected: one release delivered later, then the case undelivered.
    app.sql(&format!("UPDATE releases SET delivered_at = now() - interval '10 days' WHERE application_id = {one} AND data_source_id = (SELECT id FROM data_sources WHERE code = 'NPR')")).await.unwrap();
    check("a release delivered later").await;
    app.sql(&format!("UPDATE applications SET delivered_at = NULL, state = 'approved' WHERE id = {one}"))
        .await
        .unwrap();
    let f = check("delivery undone").await;
    assert_eq!(f["totals"]["delivered"], 0);
    assert_eq!(f["case_handling_days"]["count"], 0);
    // The second case delivered, and submitted a year and a half ago: out of the window.
    app.sql(&format!("UPDATE applications SET delivered_at = now() - interval '1 day', first_submitted_at = now() - interval '540 days' WHERE id = {two}")).await.unwrap();
    app.sql(&format!("UPDATE applications SET state = 'delivered' WHERE id = {two}")).await.unwrap();
    let f = check("moved in time").await;
    assert_eq!(f["totals"]["received"], 1);
    // Open cases assigned, given due dates, and routed to register owners.
    let three = case(&app, a, "submitted", &day(29), None, None, &["KRG"], json!({})).await;
    // The second case appealed, assigned and overdue.
    app.sql(&format!(
        "UPDATE applications SET state = 'appealed', assignee_id = {o}, due_date = current_date - 3 WHERE id = {two}"
    ))
    .await
    .unwrap();
    app.sql(&format!("UPDATE applications SET due_date = current_date + 10 WHERE id = {three}")).await.unwrap();
    app.sql(&format!(
        "INSERT INTO releases (application_id, data_source_id, decider, owner_organisation_id, state, created_at) \
         SELECT {three}, id, 'owner', owner_id, 'pending', now() - interval '70 days' FROM data_sources WHERE code = 'KRG'"
    ))
    .await
    .unwrap();
    check("assigned and routed").await;
    app.sql(&format!("UPDATE applications SET assignee_id = NULL WHERE id = {two}")).await.unwrap();
    check("unassigned").await;
    app.sql(&format!("UPDATE applications SET assignee_id = {o} WHERE id = {two}")).await.unwrap();
    app.sql(&format!("UPDATE applications SET assignee_id = {o}, state = 'in_review' WHERE id = {three}"))
        .await
        .unwrap();
    app.sql(&format!("UPDATE releases SET state = 'approved' WHERE application_id = {three}")).await.unwrap();
    check("taken and approved").await;
    app.sql(&format!(
        "UPDATE releases SET state = 'pending', created_at = now() - interval '2 days' WHERE application_id = {three}"
    ))
    .await
    .unwrap();
    app.sql(&format!(
        "UPDATE applications SET assignee_id = NULL, due_date = NULL, state = 'appealed' WHERE id = {three}"
    ))
    .await
    .unwrap();
    check("reopened").await;
    app.sql(&format!("DELETE FROM releases WHERE application_id = {three}")).await.unwrap();
    app.sql(&format!("UPDATE applications SET state = 'rejected' WHERE id = {three}")).await.unwrap();
    check("closed").await;
    // Decisions keep their time: the kept counts could not follow a change.
    assert!(app.sql(&format!("UPDATE decisions SET decided_at = now() WHERE application_id = {one}")).await.is_err());
    assert!(app.sql(&format!("DELETE FROM decisions WHERE application_id = {one}")).await.is_err());
}

#[rocket::async_test]
async fn the_public_page_has_charts_with_text_alternatives_and_tables() {
    let app = TestApp::new().await;
    let (status, body) = app.get_json("/api/statistics", None).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body["months"].as_array().unwrap().len(), 12);
    for key in ["totals", "case_handling_days", "complete_at_first_submission", "catalogue"] {
        assert!(body[key].is_object(), "{key}");
    }
    let (status, html) = app.page("/statistics").await;
    assert_eq!(status, Status::Ok);
    for id in ["chart-applications", "chart-transfers"] {
        assert!(
            html.contains(&format!(
                "<svg id=\"{id}\" class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\""
            )),
            "{id}"
        );
        assert!(html.contains(&format!("<title id=\"{id}-title\">")));
        assert!(html.contains(&format!("<desc id=\"{id}-desc\">")));
    }
    assert_eq!(html.matches("<table>").count(), 3, "a table beside every chart");
    assert!(html.contains("Søknader per måned"));
    // The charts need no script: the page's only one keeps typed text of forms (none here).
    assert_eq!(html.matches("<script").count(), 1, "no JavaScript for the charts");
    assert!(html.contains("<script src=\"/static/drafts.js?v="));
}

#[rocket::async_test]
async fn dashboards_are_for_officers_owners_and_admins() {
    let app = TestApp::new().await;
    let (c, _id) = crate::case_handling::two_source_case(&app).await;
    app.login(&c.applicant).await;
    let (status, _) = app.page("/dashboard").await;
    assert_eq!(status, Status::Forbidden);

    app.login(&c.officer).await;
    let (status, html) = app.page("/dashboard").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("Arbeidsmengde per saksbehandler") && html.contains("Alder på åpne saker"));
    assert!(html.contains("chart-workload"), "{html}");
    assert!(!html.contains("id=\"health\""), "the service health is for admins");

    let (_, body) = crate::case_handling::cmd(&app, &c.officer_token, _id, "complete", json!({})).await;
    assert_eq!(body["state"], "in_review");
    app.login(&c.fhi).await;
    let (status, html) = app.page("/dashboard").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("1 utleveringer venter."), "FHI's KRG release waits");
    assert!(!html.contains("chart-workload"));

    let admin = app.user("admin", None).await;
    app.login(&admin).await;
    let (status, html) = app.page("/dashboard").await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("id=\"health\"") && html.contains("chart-workload"));
}

/// Issue 20: `demo` seeds a year of fictitious case history through the service's own commands:
/// every state of a case, charts with real figures, a chain of events that verifies; once.
#[rocket::async_test]
async fn the_demo_history_covers_every_state_over_a_year() {
    use helsedataservice::services::demo;
    let app = TestApp::new().await;
    let rocket = app.client.rocket();
    let storage = rocket.state::<helsedataservice::storage::Storage>().unwrap();
    let documents = rocket.state::<helsedataservice::templating::Documents>().unwrap();
    let config = app.config().clone();
    let now = chrono::Utc::now();
    let mut conn = app.conn().await;
    demo::seed_users(&mut conn, now).await.unwrap();
    let seed = async |conn: &mut helsedataservice::db::Conn| {
        demo::seed_history(conn, app.pool(), storage, documents, &config, now).await.unwrap()
    };
    let cases = seed(&mut conn).await;
    assert!(cases >= 30, "a few dozen cases: {cases}");
    assert_eq!(seed(&mut conn).await, 0, "seeded once");
    let states = crate::common::count(&app, "SELECT count(DISTINCT state) AS n FROM applications").await;
    assert_eq!(states, 11, "every state of a case");
    let oldest = crate::common::count(
        &app,
        "SELECT (extract(epoch FROM now() - min(created_at)) / 86400)::int8 AS n FROM applications",
    )
    .await;
    assert!(oldest >= 300, "spread over a year: {oldest} days");
    let (_, stats) = app.get_json("/api/statistics", None).await;
    assert!(stats["totals"]["delivered"].as_i64().unwrap() >= 10, "{}", stats["totals"]);
    // The figures the database kept as the history was made through the service's commands
    // agree with a count of the rows.
    assert_eq!(counted(&app, chrono::Utc::now()).await, kept(&stats), "kept figures against the rows");
    let report = helsedataservice::db::events::verify_chain(&mut conn).await.unwrap();
    assert_eq!(report.first_broken, None);
    let (_, html) = app.page("/statistics").await;
    assert!(html.contains("<rect") && html.contains(" dager"), "charts with real bars");
}
