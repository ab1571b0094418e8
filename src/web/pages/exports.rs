//! Exports for people: the officers' inbox and the statistics as CSV (UTF-8 with a byte-order
//! mark, so spreadsheet programs read æøå), and the application as a printable page.

use crate::db::Pool;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult};
use crate::services::{self, applications as apps};
use crate::web::context::Ctx;
use crate::web::download::disposition;
use crate::web::template::Template;
use chrono::Utc;
use rocket::http::{ContentType, Header};
use rocket::{Responder, State, get, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![inbox_csv, statistics_csv, print]
}

/// A CSV file download.
#[derive(Responder)]
pub struct CsvFile {
    body: String,
    content_type: ContentType,
    disposition: Header<'static>,
}

/// A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, also after leading
/// blanks, tabs or line breaks) is prefixed with an apostrophe (OWASP's advice against CSV
/// injection); control characters are dropped and line breaks and tabs become spaces.
pub fn cell(value: &str) -> String {
    let value = crate::domain::text::one_line(value);
    if value.trim_start().starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.into_owned() }
}

/// Writes rows as CSV with a header; every cell goes through [`cell`].
pub fn csv_file(name: &str, header: &[String], rows: &[Vec<String>]) -> AppResult<CsvFile> {
    let mut w = csv::Writer::from_writer(vec![]);
    let io = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    w.write_record(header).map_err(io)?;
    for row in rows {
        w.write_record(row.iter().map(|c| cell(c))).map_err(io)?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    let body = format!("\u{feff}{}", String::from_utf8_lossy(&bytes));
    Ok(CsvFile {
        body,
        content_type: ContentType::new("text", "csv").with_params(("charset", "utf-8")),
        disposition: Header::new("Content-Disposition", disposition(name)),
    })
}

/// The inbox as the page shows it, with the same filters, as CSV.
#[get("/inbox.csv?<q..>")]
async fn inbox_csv(ctx: Ctx, pool: &State<Pool>, q: super::cases::InboxQuery<'_>) -> AppResult<CsvFile> {
    let user = ctx.require(Permission::HandleCases)?;
    let mut conn = services::conn(pool).await?;
    let today = crate::domain::deadlines::oslo_date(Utc::now());
    let filter = q.filter(user.id, today);
    let header: Vec<String> = ["reference", "title", "state", "submitted", "due-date", "assignee", "overdue"]
        .iter()
        .map(|k| ctx.t(&format!("csv-{k}")))
        .collect();
    let (cases, names) = services::cases::inbox_with_assignees(&mut conn, &filter).await?;
    let rows: Vec<Vec<String>> = cases
        .iter()
        .map(|a| {
            let overdue = a.state.overdue(a.due_date, today);
            vec![
                a.reference.clone().unwrap_or_default(),
                a.title.clone(),
                ctx.t(&format!("state-{}", a.state)),
                a.submitted_at.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                a.due_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
                a.assignee_id
                    .and_then(|id| names.iter().find(|u| u.id == id))
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                ctx.t(if overdue { "csv-yes" } else { "csv-no" }),
            ]
        })
        .collect();
    csv_file(&format!("inbox-{}.csv", today.format("%Y-%m-%d")), &header, &rows)
}

/// The monthly figures of the statistics page as CSV (public, like the page).
#[get("/statistics.csv")]
async fn statistics_csv(ctx: Ctx, pool: &State<Pool>) -> AppResult<CsvFile> {
    let mut conn = services::conn(pool).await?;
    let figures = services::statistics::figures(&mut conn, Utc::now()).await?;
    let keys = ["received", "decided", "delivered", "transfers"];
    let mut header = vec![ctx.t("csv-month")];
    header.extend(keys.iter().map(|k| ctx.t(&format!("csv-{k}"))));
    let rows: Vec<Vec<String>> = figures["months"]
        .as_array()
        .map(|months| {
            months
                .iter()
                .map(|m| {
                    let mut row = vec![m["month"].as_str().unwrap_or_default().to_string()];
                    row.extend(keys.iter().map(|k| m[*k].as_i64().unwrap_or(0).to_string()));
                    row
                })
                .collect()
        })
        .unwrap_or_default();
    csv_file("statistics.csv", &header, &rows)
}

/// The whole application on one page made for printing (or "save as PDF" in the browser).
#[get("/applications/<id>/print")]
async fn print(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let apps::Printout { app, releases, decision, events, sources } = apps::printout(&mut conn, user, id).await?;
    let sections = crate::web::views::form_sections(ctx.lang, &apps::form_of(&app), &sources);
    let releases: Vec<Value> = releases
        .iter()
        .map(|r| json!({"code": r.code, "name": r.name_nb, "state_key": format!("release-{}", r.release.state), "conditions": r.release.conditions}))
        .collect();
    let decision = decision.map(|d| {
        json!({"outcome_key": format!("outcome-{}", d.outcome), "reasons": d.reasons, "at": d.decided_at.format("%d.%m.%Y").to_string()})
    });
    let timeline: Vec<Value> = events
        .iter()
        .map(|e| json!({"at": e.at.format("%d.%m.%Y %H:%M").to_string(), "iso": e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "key": format!("event-{}", e.kind.replace(['.', '_'], "-"))}))
        .collect();
    Ok(ctx.page(
        "pages/applicant/print",
        json!({
            "title": app.title, "app": {"id": app.id, "reference": app.reference, "title": app.title, "state_key": format!("state-{}", app.state),
            "submitted": app.submitted_at.map(|t| t.format("%d.%m.%Y").to_string())},
            "sections": sections, "releases": releases, "decision": decision, "timeline": timeline,
            "printed": Utc::now().format("%d.%m.%Y %H:%M").to_string(),
        }),
    ))
}
