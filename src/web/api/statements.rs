//! Statements (uttalelser) over the JSON API: officers ask, reviewers answer.

use super::ApiJson;
use super::doc::ApiErrors;
use crate::db::Pool;
use crate::error::AppResult;
use crate::services::{self, statements as svc};
use crate::web::guards::{ApiUser, ClientAddress, actor};
use crate::web::views;
use chrono::Utc;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

super::api_routes!(request, of_application, list, show, answer, party_access);

/// A case officer asks a register owner or an outside expert for a statement. An address without
/// an account gets one (role `reviewer`) and an invitation link by mail.
#[utoipa::path(tag = "statements", request_body = svc::NewRequest, security(("bearer" = [])),
    responses((status = 201, description = "The statement asked for", body = Value), ApiErrors))]
#[post("/applications/<id>/statements", data = "<body>")]
async fn request(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<svc::NewRequest>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    let row = svc::request(&mut conn, &api.user, &actor(Some(&api.user), &address), id, body.0, now).await?;
    Ok((Status::Created, Json(views::statement_json(&row, now, false))))
}

/// The statements of a case: for everyone who sees the case (the applicant's side without the
/// reviewer's address; forvaltningsloven §§ 17 and 18).
#[utoipa::path(tag = "statements", security(("bearer" = [])),
    responses((status = 200, description = "The case's statements, newest first", body = Value), ApiErrors))]
#[get("/applications/<id>/statements")]
async fn of_application(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let (rows, access) = svc::of_application(&mut conn, &api.user, id).await?;
    let now = Utc::now();
    let party = access.applicant_side();
    Ok(Json(json!(rows.iter().map(|r| views::statement_json(r, now, party)).collect::<Vec<_>>())))
}

/// A case officer's list: every outstanding statement, soonest due first. Anyone else's: the
/// statements asked of them.
#[utoipa::path(tag = "statements", security(("bearer" = [])),
    responses((status = 200, description = "The statements on the user's list", body = Value), ApiErrors))]
#[get("/statements")]
async fn list(pool: &State<Pool>, api: ApiUser) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let rows = svc::listed(&mut conn, &api.user).await?;
    let now = Utc::now();
    Ok(Json(json!(rows.iter().map(|r| views::statement_json(r, now, false)).collect::<Vec<_>>())))
}

/// A statement with the application it is about as submitted (its form and attachments): for
/// the reviewer asked, and for those who handle the case.
#[utoipa::path(tag = "statements", security(("bearer" = [])),
    responses((status = 200, description = "The statement and its case", body = Value), ApiErrors))]
#[get("/statements/<id>")]
async fn show(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let file = svc::read(&mut conn, &api.user, id).await?;
    let mut v = views::statement_json(&file.row, Utc::now(), false);
    v["may_answer"] = json!(file.may_answer());
    v["application"] = json!({
        "id": file.app.id, "reference": file.app.reference, "title": file.app.title, "state": file.app.state.code(),
        "form": file.app.form,
        "attachments": file.attachments.iter().map(|a| json!({"id": a.id, "kind": a.kind, "name": a.name, "size": a.size, "sha256": a.sha256})).collect::<Vec<_>>(),
    });
    Ok(Json(v))
}

/// The reviewer's answer.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    #[serde(default)]
    answer: String,
}

/// The reviewer answers (once: 409 after).
#[utoipa::path(tag = "statements", request_body = AnswerBody, security(("bearer" = [])),
    responses((status = 200, description = "The statement with its answer", body = Value), ApiErrors))]
#[post("/statements/<id>/answer", data = "<body>")]
async fn answer(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<AnswerBody>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    let row = svc::answer(&mut conn, &api.user, &actor(Some(&api.user), &address), id, &body.0.answer, now).await?;
    Ok(Json(views::statement_json(&row, now, false)))
}

/// What the applicant's side reads of a statement.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessBody {
    /// Withhold it from the applicant and the members (with `reason`), or share it (`false`).
    withhold: bool,
    /// Why it is withheld, shown to the applicant: the legal basis (forvaltningsloven §§ 18 a–19).
    #[serde(default)]
    reason: String,
}

/// A case officer withholds a statement from the applicant's side, with the reason they are
/// shown, or shares it (sharing an answered statement tells the applicant).
#[utoipa::path(tag = "statements", request_body = AccessBody, security(("bearer" = [])),
    responses((status = 200, description = "The statement", body = Value), ApiErrors))]
#[post("/statements/<id>/access", data = "<body>")]
async fn party_access(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<AccessBody>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    let withhold = body.0.withhold.then_some(body.0.reason.as_str());
    let row = svc::set_party_access(&mut conn, &api.user, &actor(Some(&api.user), &address), id, withhold, now).await?;
    Ok(Json(views::statement_json(&row, now, false)))
}
