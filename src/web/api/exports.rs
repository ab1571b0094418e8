//! The whole case as one JSON document for archiving (form, events, messages, releases, decision,
//! invoice, statements, transfers and their download receipts), under the application's own
//! access rules.

use crate::db::{self, Pool};
use crate::error::AppResult;
use crate::services::{self, applications as apps};
use crate::web::api::doc::ApiErrors;
use crate::web::download::disposition;
use crate::web::guards::ApiUser;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use rocket::http::Header;
use rocket::{Responder, State, get};
use serde_json::{Value, json};

super::api_routes!(archive);

/// The version of the archive document's layout.
pub const ARCHIVE_FORMAT: &str = "helsedataservice.case-archive/1";

/// A JSON document offered as a file.
#[derive(Responder)]
#[response(content_type = "json")]
pub struct ArchiveFile {
    body: String,
    disposition: Header<'static>,
}

/// Builds the archive document of an application the caller may see (`who` from `apps::load`).
pub async fn archive_json(
    conn: &mut AsyncPgConnection,
    app: &db::applications::Application,
    who: apps::Audience,
) -> AppResult<Value> {
    let application = crate::web::views::application_json(conn, app, who).await?;
    let mut receipts = vec![];
    for (transfer_id, rows) in services::transfers::receipts_of_application(conn, app.id, who).await? {
        for (r, file, name, email) in rows {
            receipts.push(json!({
                "transfer_id": transfer_id, "file": file, "at": r.at, "bytes": r.bytes, "sha256": r.sha256,
                "user_id": r.user_id, "user_name": name, "user_email": email,
            }));
        }
    }
    // The statements are documents of the case (forvaltningsloven § 18), read as the case page
    // shows them: the applicant's side without addresses or what is withheld from them.
    let now = Utc::now();
    let party = who.access.applicant_side();
    let statements: Vec<Value> = db::statements::rows(conn, db::statements::Scope::Application(app.id))
        .await?
        .iter()
        .map(|r| crate::web::views::statement_json(r, now, party))
        .collect();
    Ok(json!({
        "format": ARCHIVE_FORMAT,
        "archived_at": now,
        "application": application,
        "statements": statements,
        "transfer_receipts": receipts,
    }))
}

/// `GET /api/applications/{id}/archive`: 404 for anyone who may not see the application.
#[utoipa::path(tag = "exports", security(("bearer" = [])), 
    responses((status = 200, description = "The whole case as one JSON document (form, events, messages, releases, decision, invoice, statements, transfers and receipts)", body = Object), ApiErrors))]
#[get("/applications/<id>/archive")]
async fn archive(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<ArchiveFile> {
    let mut conn = services::conn(pool).await?;
    let (app, access) = apps::load(&mut conn, &api.user, id).await?;
    let doc = archive_json(&mut conn, &app, apps::audience(access, &api.user)).await?;
    let name = format!("{}.json", app.reference.as_deref().unwrap_or("application").replace('/', "-"));
    Ok(ArchiveFile {
        body: serde_json::to_string_pretty(&doc).unwrap_or_default(),
        disposition: Header::new("Content-Disposition", disposition(&name)),
    })
}
