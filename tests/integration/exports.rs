//! Exports: the officers' inbox and the statistics as CSV, the printable application, and the
//! whole case (with transfer receipts) as one JSON document under the application's own access.

use crate::applications_api::submitted;
use crate::common::TestApp;
use crate::transfers::{create_transfer, decided_case, get_file, put_file};
use rocket::http::{Header, Status};
use serde_json::{Value, json};

#[rocket::async_test]
async fn the_inbox_and_the_statistics_download_as_csv() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let case = submitted(&app, &applicant).await;
    let id = case["id"].as_i64().unwrap();
    // A title a spreadsheet would run as a formula is defused.
    app.sql(&format!("UPDATE applications SET title = '=HYPERLINK(\"http://x\")' WHERE id = {id}")).await.unwrap();
    let officer = app.user("case_officer", None).await;

    app.login(&applicant).await;
    assert_eq!(app.client.get("/inbox.csv").dispatch().await.status(), Status::Forbidden);
    app.login(&officer).await;
    let resp = app.client.get("/inbox.csv?state=submitted").dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(resp.content_type().unwrap().to_string(), "text/csv; charset=utf-8");
    assert!(resp.headers().get_one("Content-Disposition").unwrap().starts_with("attachment"));
    let body = resp.into_string().await.unwrap();
    assert!(body.starts_with('\u{feff}'), "a byte-order mark for spreadsheets");
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(reader.headers().unwrap().get(0), Some("Saksnummer"));
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get(0), case["reference"].as_str());
    assert_eq!(rows[0].get(1), Some("'=HYPERLINK(\"http://x\")"));
    let resp = app.client.get("/inbox.csv?state=approved").dispatch().await;
    let body = resp.into_string().await.unwrap();
    assert_eq!(body.lines().count(), 1, "the filter applies: only the header");

    let resp = app.client.get("/statistics.csv").dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    let body = resp.into_string().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 12, "twelve months");
    let received: i64 = rows.iter().map(|r| r.get(1).unwrap().parse::<i64>().unwrap()).sum();
    assert_eq!(received, 1);
}

#[rocket::async_test]
async fn the_inbox_exports_every_matching_case_however_many() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let case = submitted(&app, &applicant).await;
    let id = case["id"].as_i64().unwrap();
    let officer = app.user("case_officer", None).await;
    let colleague = app.user("case_officer", None).await;
    // 10 050 more cases, due one a day from the original's due date on, each assigned to a
    // colleague who has since left: more than the 10 000 rows the export used to stop at.
    let copied = app
        .sql(&format!(
            "INSERT INTO applications (applicant_id, reference, state, kind, application_type, title, form, version, \
             submit_count, due_date, created_at, updated_at, first_submitted_at, submitted_at, assignee_id) \
             SELECT applicant_id, 'HDS-2031-' || lpad(g::text, 5, '0'), state, kind, application_type, \
             'Kopi ' || g, form, version, submit_count, due_date + g, created_at, updated_at, first_submitted_at, \
             submitted_at, {} FROM applications, generate_series(1, 10050) g WHERE id = {id}",
            colleague.id
        ))
        .await
        .unwrap();
    assert_eq!(copied, 10_050);
    app.sql(&format!("UPDATE users SET active = false WHERE id = {}", colleague.id)).await.unwrap();

    app.login(&officer).await;
    let resp = app.client.get("/inbox.csv").dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    assert_eq!(resp.content_type().unwrap().to_string(), "text/csv; charset=utf-8");
    let body = resp.into_string().await.unwrap();
    assert!(body.starts_with('\u{feff}'), "one byte-order mark, at the start");
    assert_eq!(body.matches('\u{feff}').count(), 1);
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(reader.headers().unwrap().get(0), Some("Saksnummer"), "one header");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 10_051, "every case, across the slices the export is sent in");
    // In the inbox's order, by due date: the original first, then the copies one by one.
    assert_eq!(rows[0].get(0), case["reference"].as_str());
    assert_eq!(rows[0].get(5), Some(""), "not assigned");
    for (n, row) in rows.iter().enumerate().skip(1) {
        assert_eq!(row.get(0), Some(format!("HDS-2031-{n:05}").as_str()));
    }
    let name =
        crate::common::json_of(&app, &format!("SELECT to_json(name) AS j FROM users WHERE id = {}", colleague.id))
            .await;
    assert_eq!(rows[10_050].get(5), name.as_str(), "the assignee's name, though the account is closed");

    // The filters still apply, and a filter that matches nothing gives the header alone.
    let body = app.client.get("/inbox.csv?assignee=none").dispatch().await.into_string().await.unwrap();
    assert_eq!(body.lines().count(), 2);
    let body = app.client.get("/inbox.csv?state=approved").dispatch().await.into_string().await.unwrap();
    assert_eq!(body.lines().count(), 1);
    assert!(body.starts_with("\u{feff}Saksnummer,"));
}

async fn archive(app: &TestApp, token: &str, id: i64) -> (Status, Value) {
    let resp = app
        .client
        .get(format!("/api/applications/{id}/archive"))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    crate::common::read_json(resp).await
}

#[rocket::async_test]
async fn the_case_archives_as_one_json_document_and_prints() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let transfer = create_transfer(&app, &c).await;
    let (status, _) = put_file(&app, &c.owner_token, transfer, "uttrekk.csv", b"lopenr;diagnose\n1;I50\n", None).await;
    assert_eq!(status, Status::Created);
    let (status, _) =
        app.post_json(&format!("/api/transfers/{transfer}/publish"), Some(&c.owner_token), json!({})).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(get_file(&app, &c.applicant_token, transfer, "uttrekk.csv").await.0, Status::Ok);

    let (status, doc) = archive(&app, &c.applicant_token, c.id).await;
    assert_eq!(status, Status::Ok, "{doc}");
    assert_eq!(doc["format"], "helsedataservice.case-archive/1");
    let application = &doc["application"];
    assert_eq!(application["id"], c.id);
    assert_eq!(application["title"], "Hjertesvikt etter covid-19", "the form");
    assert!(application["decision"]["outcome"].is_string(), "the decision");
    assert!(application["events"].as_array().unwrap().iter().any(|e| e["kind"] == "application.submitted"));
    assert!(application["invoice"].is_object() || application["invoice"].is_null());
    assert!(application.get("invoice").is_some());
    assert_eq!(application["transfers"][0]["id"], transfer);
    let receipts = doc["transfer_receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["file"], "uttrekk.csv");
    assert_eq!(receipts[0]["user_id"], c.applicant.id);
    assert_eq!(archive(&app, &c.officer_token, c.id).await.0, Status::Ok);
    assert_eq!(archive(&app, &c.owner_token, c.id).await.0, Status::Ok);
    let stranger = app.user("applicant", None).await;
    let stranger_token = app.token(&stranger).await;
    assert_eq!(archive(&app, &stranger_token, c.id).await.0, Status::NotFound);
    assert_eq!(archive(&app, &c.applicant_token, c.id + 1000).await.0, Status::NotFound);

    // The printable page: the whole form, the releases and the decision; 404 for strangers.
    app.login(&c.applicant).await;
    let (status, html) = app.page(&format!("/applications/{}/print", c.id)).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("class=\"printable\""));
    assert!(html.contains("Universitetet i Oslo") && html.contains("Pasienter med I50"), "the form's answers");
    assert!(html.contains("NPR"));
    app.login(&stranger).await;
    assert_eq!(app.page(&format!("/applications/{}/print", c.id)).await.0, Status::NotFound);
}
