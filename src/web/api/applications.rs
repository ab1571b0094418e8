//! Applications over the JSON API (SPEC §12).

use super::ApiJson;
use super::doc::ApiErrors;
use crate::config::Config;
use crate::db::{self, Pool, applications::Summary, users::User};
use crate::domain::case::Command;
use crate::domain::form::ApplicationForm;
use crate::domain::paging::Slice;
use crate::error::{AppError, AppResult};
use crate::services::{self, applications as apps, applications::Access, cases};
use crate::storage::Storage;
use crate::templating::Documents;
use crate::web::download::{Download, generated};
use crate::web::guards::{ApiUser, ClientAddress, actor};
use crate::web::upload_limits::{DeclaredLength, UploadSlots, idle_limited};
use crate::web::views;
use chrono::Utc;
use rocket::data::{Data, ToByteUnit};
use rocket::futures::stream;
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket::serde::json::Json;
use rocket::{State, delete, get, post, put};
use serde_json::{Value, json};
use std::time::Duration;

super::api_routes!(
    create,
    list,
    show,
    replace,
    command,
    upload,
    download,
    remove_attachment,
    message,
    decide_release,
    reconsider_release,
    helseklage,
    delivered,
    ended_permits
);

fn parse_form(body: &Value) -> AppResult<ApplicationForm> {
    serde_json::from_value(body.clone()).map_err(|e| crate::web::json_shape_error(&e))
}

#[utoipa::path(tag = "applications", request_body = crate::web::api::doc::ApplicationFormBody, security(("bearer" = [])),
    responses((status = 201, description = "The draft application", body = Value), ApiErrors))]
#[post("/applications", data = "<body>")]
async fn create(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    body: ApiJson<Value>,
) -> AppResult<(Status, Json<Value>)> {
    let form = parse_form(&body.0)?;
    let mut conn = services::conn(pool).await?;
    let app = apps::create(&mut conn, &api.user, &actor(Some(&api.user), &address), form, None, Utc::now()).await?;
    Ok((
        Status::Created,
        Json(views::application_json(&mut conn, &app, apps::audience(Access::Applicant, &api.user)).await?),
    ))
}

/// Rows read at a time when the whole list is streamed.
const STREAMED_SLICE: i64 = 1000;

/// `GET /api/applications` as it answers: one slice, or the whole list.
pub enum Listed {
    /// The slice asked for (`limit`), with a `Link` to the next one when more follow (RFC 8288,
    /// as GitHub's and many other APIs page).
    Slice { rows: Vec<Summary>, next: Option<String> },
    /// Every row, as SPEC §12 lists them: the first slice already read, the rest read a slice
    /// at a time while the answer is sent, so that neither the service nor the database holds
    /// an officer's 100 000 rows at once (before: 20 MB of JSON and 140 MB of the service's
    /// memory a request, issue 25).
    Whole { first: Vec<Summary>, next: Option<i64>, pool: Pool, user: User },
}

fn summary_json(a: &Summary) -> Value {
    json!({"id": a.id, "reference": a.reference, "state": a.state, "title": a.title, "kind": a.kind, "type": a.application_type, "version": a.version, "submitted_at": a.submitted_at, "due_date": a.due_date})
}

/// `rows` as the comma-separated members of a JSON array, `then` put before them.
fn array_members(rows: &[Summary], then: &[u8]) -> Vec<u8> {
    let mut out = then.to_vec();
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend(summary_json(row).to_string().as_bytes());
    }
    out
}

/// The slices after the first of a streamed list, each the members to append, until the last
/// one closes the array.
async fn next_members(pool: &Pool, user: &User, before: i64) -> AppResult<(Vec<u8>, Option<i64>)> {
    let mut conn = services::conn(pool).await?;
    let slice = Slice { limit: Some(STREAMED_SLICE), before: Some(before) };
    let (rows, next) = apps::list_slice(&mut conn, user, slice).await?;
    let mut bytes = array_members(&rows, if rows.is_empty() { b"" } else { b"," });
    if next.is_none() {
        bytes.push(b']');
    }
    Ok((bytes, next))
}

impl<'r> Responder<'r, 'static> for Listed {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match self {
            Listed::Slice { rows, next } => {
                let mut response = Json(rows.iter().map(summary_json).collect::<Vec<_>>()).respond_to(req)?;
                if let Some(next) = next {
                    response.set_header(Header::new("Link", format!("<{next}>; rel=\"next\"")));
                }
                Ok(response)
            }
            Listed::Whole { first, next, pool, user } => {
                let mut head = array_members(&first, b"[");
                if next.is_none() {
                    head.push(b']');
                }
                let rest = stream::unfold(next, move |before| {
                    let (pool, user) = (pool.clone(), user.clone());
                    async move {
                        match next_members(&pool, &user, before?).await {
                            Ok((bytes, next)) => Some((Ok(bytes), next)),
                            // The answer is cut off (it is no JSON then); its status has gone.
                            Err(e) => Some((Err(e), None)),
                        }
                    }
                });
                generated(ContentType::JSON, head, rest, "the list of applications").ok()
            }
        }
    }
}

#[utoipa::path(tag = "applications", security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, description = "At most this many (1 to 1000), newest first; without it, all of them"),
        ("before" = Option<i64>, Query, description = "Only those with ids below this one: the cursor the `Link` header's `rel=\"next\"` carries"),
    ),
    responses((status = 200, description = "The applications this user may see, newest first; with `limit`, a `Link` header to the next slice when more follow", body = Value), ApiErrors))]
#[get("/applications?<limit>&<before>")]
async fn list(pool: &State<Pool>, api: ApiUser, limit: Option<&str>, before: Option<&str>) -> AppResult<Listed> {
    let slice = Slice::parse(limit, before).map_err(AppError::Validation)?;
    let mut conn = services::conn(pool).await?;
    // The whole list is read a slice at a time; the first here, so that an error still has its status.
    let first = Slice { limit: slice.limit.or(Some(STREAMED_SLICE)), ..slice };
    let (rows, next) = apps::list_slice(&mut conn, &api.user, first).await?;
    Ok(match slice.limit {
        Some(limit) => {
            Listed::Slice { rows, next: next.map(|before| format!("/api/applications?limit={limit}&before={before}")) }
        }
        None => Listed::Whole { first: rows, next, pool: pool.inner().clone(), user: api.user },
    })
}

#[utoipa::path(tag = "applications", security(("bearer" = [])),
    responses((status = 200, description = "The application with its case, releases, messages, estimate and transfers", body = Value), ApiErrors))]
#[get("/applications/<id>")]
async fn show(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let (app, access) = apps::load(&mut conn, &api.user, id).await?;
    Ok(Json(views::application_json(&mut conn, &app, apps::audience(access, &api.user)).await?))
}

#[utoipa::path(tag = "applications", request_body = crate::web::api::doc::ApplicationFormBody, security(("bearer" = [])),
    responses((status = 200, description = "The saved application", body = Value), ApiErrors))]
#[put("/applications/<id>", data = "<body>")]
async fn replace(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let version = body.0.get("version").and_then(Value::as_i64).and_then(|v| i32::try_from(v).ok());
    let Some(version) = version else { return Err(AppError::field("version", "err-version-required")) };
    let form = parse_form(&body.0)?;
    let mut conn = services::conn(pool).await?;
    let app =
        apps::save(&mut conn, &api.user, &actor(Some(&api.user), &address), id, version, form, Utc::now()).await?;
    Ok(Json(views::application_json(&mut conn, &app, apps::audience(Access::Applicant, &api.user)).await?))
}

#[utoipa::path(tag = "applications", request_body = crate::web::api::doc::CommandBody, security(("bearer" = [])),
    params(("command" = String, Path, description = "submit, withdraw, copy, extension, assign, return, complete, decide, appeal, late_appeal, deliver or close")),
    responses((status = 200, description = "The application after the command (`copy` and `extension` answer 201 with the new draft)", body = Value), (status = 201, description = "The copy (`copy`), or the draft extension of a granted case's permit that names it (`extension`)", body = Value), ApiErrors))]
#[post("/applications/<id>/<command>", data = "<body>", rank = 3)]
#[allow(clippy::too_many_arguments)]
async fn command(
    pool: &State<Pool>,
    documents: &State<Documents>,
    config: &State<Config>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    command: &str,
    body: ApiJson<Value>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let who = actor(Some(&api.user), &address);
    let now = Utc::now();
    let (app, status) = match command {
        "submit" => {
            let expected = apps::Expected {
                version: body.0.get("version").and_then(Value::as_i64).map(|v| v as i32),
                estimate_ore: body.0.get("accepted_estimate_ore").and_then(Value::as_i64),
            };
            (
                apps::submit(&mut conn, &api.user, &who, id, expected, config.case_target_working_days, now).await?,
                Status::Ok,
            )
        }
        "withdraw" => (apps::withdraw(&mut conn, &api.user, &who, id, now).await?, Status::Ok),
        "copy" => (apps::copy(&mut conn, &api.user, &who, id, now).await?, Status::Created),
        "extension" => {
            (services::permits::extension_draft(&mut conn, &api.user, &who, id, now).await?, Status::Created)
        }
        other => {
            let Some(cmd) = Command::from_code(other) else { return Err(AppError::NotFound) };
            let params: cases::Params = if body.0.is_null() {
                cases::Params::default()
            } else {
                serde_json::from_value(body.0.clone()).map_err(|e| crate::web::json_shape_error(&e))?
            };
            (
                cases::command(&mut conn, documents, &api.user, &who, id, cmd, params, config.vat_rate_bp, now).await?,
                Status::Ok,
            )
        }
    };
    // The command's answer is the application as it stands after it (no second read).
    let access = apps::access_to(&mut conn, &api.user, &app).await?;
    Ok((status, Json(views::application_json(&mut conn, &app, apps::audience(access, &api.user)).await?)))
}

#[utoipa::path(tag = "applications", request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"), security(("bearer" = [])),
    responses((status = 201, description = "The attachment is stored", body = Value), ApiErrors))]
#[put("/applications/<id>/attachments/<kind>/<name>", data = "<data>")]
#[allow(clippy::too_many_arguments)]
async fn upload(
    pool: &State<Pool>,
    storage: &State<Storage>,
    config: &State<Config>,
    slots: &State<UploadSlots>,
    api: ApiUser,
    address: ClientAddress,
    declared: DeclaredLength,
    id: i64,
    kind: &str,
    name: &str,
    data: Data<'_>,
) -> AppResult<(Status, Json<Value>)> {
    let limit = config.max_upload_bytes;
    declared.within(limit)?;
    let _slot = slots.take(api.user.id)?;
    let body = idle_limited(data.open((limit + 1).bytes()), Duration::from_secs(config.upload_idle_secs));
    let a = apps::add_attachment(
        pool,
        storage,
        &api.user,
        &actor(Some(&api.user), &address),
        id,
        kind,
        name,
        body,
        limit,
        Utc::now(),
    )
    .await?;
    Ok((
        Status::Created,
        Json(
            json!({"id": a.id, "kind": a.kind, "name": a.name, "size": a.size, "sha256": a.sha256, "content_type": a.content_type}),
        ),
    ))
}

#[utoipa::path(tag = "applications", security(("bearer" = [])),
    responses((status = 200, description = "The attachment", body = Vec<u8>, content_type = "application/octet-stream"), ApiErrors))]
#[get("/applications/<id>/attachments/<attachment>")]
async fn download(
    pool: &State<Pool>,
    storage: &State<Storage>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    attachment: &str,
) -> AppResult<Download> {
    let attachment_id = uuid::Uuid::parse_str(attachment).map_err(|_| AppError::NotFound)?;
    let mut conn = services::conn(pool).await?;
    let a =
        apps::open_attachment(&mut conn, &api.user, &actor(Some(&api.user), &address), id, attachment_id, Utc::now())
            .await?;
    Download::attachment(storage, a).await
}

#[utoipa::path(tag = "applications", security(("bearer" = [])),
    responses((status = 204, description = "The attachment is removed"), ApiErrors))]
#[delete("/applications/<id>/attachments/<attachment>")]
async fn remove_attachment(
    pool: &State<Pool>,
    storage: &State<Storage>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    attachment: &str,
) -> AppResult<Status> {
    let attachment_id = uuid::Uuid::parse_str(attachment).map_err(|_| AppError::NotFound)?;
    let mut conn = services::conn(pool).await?;
    apps::remove_attachment(
        &mut conn,
        storage,
        &api.user,
        &actor(Some(&api.user), &address),
        id,
        attachment_id,
        Utc::now(),
    )
    .await?;
    Ok(Status::NoContent)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
struct MessageBody {
    #[serde(default)]
    body: String,
    #[serde(default)]
    internal: bool,
}

#[utoipa::path(tag = "applications", request_body = MessageBody, security(("bearer" = [])),
    responses((status = 201, description = "The message is posted", body = Value), ApiErrors))]
#[post("/applications/<id>/messages", data = "<body>", rank = 2)]
async fn message(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<MessageBody>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let message_id = apps::post_message(
        &mut conn,
        &api.user,
        &actor(Some(&api.user), &address),
        id,
        &body.0.body,
        body.0.internal,
        Utc::now(),
    )
    .await?;
    Ok((Status::Created, Json(json!({"id": message_id}))))
}

/// A release as the API shows it.
fn release_json(r: &db::cases::Release) -> Value {
    json!({
        "id": r.id, "application_id": r.application_id, "data_source_id": r.data_source_id, "state": r.state, "decider": r.decider,
        "conditions": r.conditions, "reasons": r.reasons, "decided_at": r.decided_at, "delivered_at": r.delivered_at, "environment": r.environment,
        "reconsideration": r.reconsideration, "reconsidered_at": r.reconsidered_at, "dispensation": r.dispensation,
    })
}

#[utoipa::path(tag = "applications", request_body = cases::Reconsideration, security(("bearer" = [])),
    responses((status = 200, description = "The release as reconsidered by its decider after an appeal", body = Value), ApiErrors))]
#[post("/releases/<id>/reconsider", data = "<body>")]
async fn reconsider_release(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<cases::Reconsideration>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let who = actor(Some(&api.user), &address);
    let r = cases::reconsider_release(&mut conn, &api.user, &who, id, body.0, Utc::now()).await?;
    Ok(Json(release_json(&r)))
}

#[utoipa::path(tag = "applications", request_body = cases::HelseklageAnswer, security(("bearer" = [])),
    responses((status = 200, description = "The application with Helseklage's outcome applied", body = Value), ApiErrors))]
#[post("/applications/<id>/helseklage", data = "<body>")]
async fn helseklage(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<cases::HelseklageAnswer>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let who = actor(Some(&api.user), &address);
    cases::record_helseklage(&mut conn, &api.user, &who, id, body.0, Utc::now()).await?;
    let (app, access) = apps::load(&mut conn, &api.user, id).await?;
    Ok(Json(views::application_json(&mut conn, &app, apps::audience(access, &api.user)).await?))
}

#[utoipa::path(tag = "applications", request_body = cases::ReleaseDecision, security(("bearer" = [])),
    responses((status = 200, description = "The decided release", body = Value), ApiErrors))]
#[post("/releases/<id>/decide", data = "<body>")]
async fn decide_release(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<cases::ReleaseDecision>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let r =
        cases::decide_release(&mut conn, &api.user, &actor(Some(&api.user), &address), id, body.0, Utc::now()).await?;
    Ok(Json(release_json(&r)))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
struct Delivered {
    #[serde(default)]
    environment: String,
}

#[utoipa::path(tag = "applications", request_body = Delivered, security(("bearer" = [])),
    responses((status = 200, description = "The release, delivered in the named analysis environment", body = Value), ApiErrors))]
#[post("/releases/<id>/delivered", data = "<body>")]
async fn delivered(
    pool: &State<Pool>,
    config: &State<Config>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<Delivered>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let r = cases::deliver_in_environment(
        &mut conn,
        &api.user,
        &actor(Some(&api.user), &address),
        id,
        &body.0.environment,
        config.vat_rate_bp,
        Utc::now(),
    )
    .await?;
    Ok(Json(release_json(&r)))
}

/// Permits that have ended without a confirmed deletion of the data (case officers).
#[utoipa::path(tag = "applications", security(("bearer" = [])),
    responses((status = 200, description = "Ended permits without confirmed deletion, the longest ended first", body = Value), ApiErrors))]
#[get("/permits/ended")]
async fn ended_permits(pool: &State<Pool>, api: ApiUser) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let today = crate::domain::deadlines::oslo_date(Utc::now());
    let ended = services::permits::ended_without_deletion(&mut conn, &api.user, today).await?;
    Ok(Json(json!(
        ended
            .iter()
            .map(|p| json!({
                "id": p.app.id, "reference": p.app.reference, "title": p.app.title, "state": p.app.state,
                "permit_ends_on": p.app.permit_ends_on, "days_ended": p.days_ended,
                "deletion_reminded_at": p.app.deletion_reminded_at,
                "applicant": {"name": p.applicant_name, "email": p.applicant_email},
            }))
            .collect::<Vec<_>>()
    )))
}
