//! Exports for people: the officers' inbox and the statistics as CSV (UTF-8 with a byte-order
//! mark, so spreadsheet programs read æøå), and the application as a printable page.

use crate::db::Pool;
use crate::db::cases::ExportRow;
use crate::domain::language::Language;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::services::{self, applications as apps};
use crate::web::context::Ctx;
use crate::web::download::{disposition, generated};
use crate::web::template::Template;
use chrono::{NaiveDate, Utc};
use rocket::futures::stream::{self, BoxStream, StreamExt};
use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::{State, get, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![inbox_csv, statistics_csv, print]
}

/// A CSV file download.
#[derive(rocket::Responder)]
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

/// `rows` as CSV records, after `header` when given; every cell goes through [`cell`].
fn csv_records<R: AsRef<[String]>>(header: Option<&[String]>, rows: impl IntoIterator<Item = R>) -> AppResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![]);
    let io = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    if let Some(header) = header {
        w.write_record(header).map_err(io)?;
    }
    for row in rows {
        w.write_record(row.as_ref().iter().map(|c| cell(c))).map_err(io)?;
    }
    w.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))
}

/// The byte-order mark that tells spreadsheet programs the file is UTF-8.
const BOM: &str = "\u{feff}";

fn csv_type() -> ContentType {
    ContentType::new("text", "csv").with_params(("charset", "utf-8"))
}

/// Writes rows as CSV with a header.
pub fn csv_file(name: &str, header: &[String], rows: &[Vec<String>]) -> AppResult<CsvFile> {
    let bytes = csv_records(Some(header), rows)?;
    Ok(CsvFile {
        body: format!("{BOM}{}", String::from_utf8_lossy(&bytes)),
        content_type: csv_type(),
        disposition: Header::new("Content-Disposition", disposition(name)),
    })
}

/// A CSV download sent as it is read: its first part, then the rest.
pub struct CsvStream {
    name: String,
    head: Vec<u8>,
    rest: BoxStream<'static, AppResult<Vec<u8>>>,
}

impl<'r> Responder<'r, 'static> for CsvStream {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        generated(csv_type(), self.head, self.rest, "the inbox export")
            .header(Header::new("Content-Disposition", disposition(&self.name)))
            .ok()
    }
}

/// One case of the inbox as a CSV record.
fn inbox_record(lang: Language, today: NaiveDate, (a, assignee): ExportRow) -> Vec<String> {
    let overdue = a.state.overdue(a.due_date, today);
    vec![
        a.reference.unwrap_or_default(),
        a.title,
        i18n::t(lang, &format!("state-{}", a.state)),
        a.submitted_at.map(|t| crate::domain::deadlines::oslo_date(t).to_string()).unwrap_or_default(),
        a.due_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        assignee.unwrap_or_default(),
        i18n::t(lang, if overdue { "csv-yes" } else { "csv-no" }),
    ]
}

/// The inbox as the page shows it, with the same filters, as CSV: every case that matches,
/// read and sent a slice at a time while the download runs.
#[get("/inbox.csv?<q..>")]
async fn inbox_csv(ctx: Ctx, pool: &State<Pool>, q: super::cases::InboxQuery<'_>) -> AppResult<CsvStream> {
    let user = ctx.require(Permission::HandleCases)?;
    let mut conn = services::conn(pool).await?;
    let today = crate::domain::deadlines::oslo_date(Utc::now());
    let filter = q.filter(user.id, today);
    let (out, mut slices) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move { services::cases::inbox_export(&mut conn, &filter, out).await });
    // The first slice is read before the answer starts, so that an error still has its status.
    let first = slices.recv().await.ok_or_else(|| AppError::Internal("the inbox export stopped".into()))??;
    let lang = ctx.lang;
    let header: Vec<String> = ["reference", "title", "state", "submitted", "due-date", "assignee", "overdue"]
        .iter()
        .map(|k| ctx.t(&format!("csv-{k}")))
        .collect();
    let mut head = BOM.as_bytes().to_vec();
    head.extend(csv_records(Some(&header), first.into_iter().map(|row| inbox_record(lang, today, row)))?);
    let rest = stream::unfold(slices, move |mut slices| async move {
        let part = slices
            .recv()
            .await?
            .and_then(|rows| csv_records(None, rows.into_iter().map(|row| inbox_record(lang, today, row))));
        Some((part, slices))
    })
    .boxed();
    Ok(CsvStream { name: format!("inbox-{}.csv", today.format("%Y-%m-%d")), head, rest })
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
        json!({"outcome_key": format!("outcome-{}", d.outcome), "reasons": d.reasons, "at": crate::domain::deadlines::oslo_day(d.decided_at)})
    });
    let timeline: Vec<Value> = events
        .iter()
        .map(|e| json!({"at": crate::domain::deadlines::oslo_time(e.at, false), "iso": e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "key": format!("event-{}", e.kind.replace(['.', '_'], "-"))}))
        .collect();
    Ok(ctx.page(
        "pages/applicant/print",
        json!({
            "title": app.title, "app": {"id": app.id, "reference": app.reference, "title": app.title, "state_key": format!("state-{}", app.state),
            "submitted": app.submitted_at.map(crate::domain::deadlines::oslo_day)},
            "sections": sections, "releases": releases, "decision": decision, "timeline": timeline,
            "printed": crate::domain::deadlines::oslo_time(Utc::now(), false),
        }),
    ))
}
