//! Pre-application enquiries (forhåndsveiledning) over the JSON API.

use super::ApiJson;
use super::doc::ApiErrors;
use crate::db::Pool;
use crate::error::AppResult;
use crate::services::{self, applications::Access, enquiries as svc};
use crate::web::guards::{ApiUser, ClientAddress, actor};
use crate::web::views;
use chrono::Utc;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

super::api_routes!(open, list, show, message, close, apply);

/// An enquiry with its sources and thread.
fn file_json(f: &svc::EnquiryFile) -> Value {
    let mut v = views::enquiry_json(&f.enquiry, &f.asker_name);
    v["sources"] = json!(
        f.sources
            .iter()
            .map(|s| json!({"id": s.id, "code": s.code, "name_nb": s.name_nb, "name_en": s.name_en}))
            .collect::<Vec<_>>()
    );
    v["messages"] = json!(
        f.messages
            .iter()
            .map(|m| json!({"id": m.id, "author": {"id": m.author_id, "name": m.author_name, "role": m.author_role}, "body": m.body, "created_at": m.created_at}))
            .collect::<Vec<_>>()
    );
    v
}

/// A researcher asks about sources before applying.
#[utoipa::path(tag = "enquiries", request_body = svc::NewEnquiry, security(("bearer" = [])),
    responses((status = 201, description = "The enquiry", body = Value), ApiErrors))]
#[post("/enquiries", data = "<body>")]
async fn open(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    body: ApiJson<svc::NewEnquiry>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let e = svc::open(&mut conn, &api.user, &actor(Some(&api.user), &address), body.0, Utc::now()).await?;
    let f = svc::read(&mut conn, &api.user, e.id).await?;
    Ok((Status::Created, Json(file_json(&f))))
}

/// A researcher's own enquiries; every one for case officers; those naming their organisation's
/// sources for register owners.
#[utoipa::path(tag = "enquiries", security(("bearer" = [])),
    responses((status = 200, description = "The enquiries, the latest changed first", body = Value), ApiErrors))]
#[get("/enquiries")]
async fn list(pool: &State<Pool>, api: ApiUser) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let rows = svc::list(&mut conn, &api.user).await?;
    Ok(Json(json!(rows.iter().map(|r| views::enquiry_json(&r.enquiry, &r.asker_name)).collect::<Vec<_>>())))
}

#[utoipa::path(tag = "enquiries", security(("bearer" = [])),
    responses((status = 200, description = "The enquiry with its sources and thread", body = Value), ApiErrors))]
#[get("/enquiries/<id>")]
async fn show(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    Ok(Json(file_json(&svc::read(&mut conn, &api.user, id).await?)))
}

/// A message in an enquiry's thread.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    #[serde(default)]
    body: String,
}

/// Writes in the thread (409 once closed).
#[utoipa::path(tag = "enquiries", request_body = MessageBody, security(("bearer" = [])),
    responses((status = 201, description = "The enquiry with the message", body = Value), ApiErrors))]
#[post("/enquiries/<id>/messages", data = "<body>")]
async fn message(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<MessageBody>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    svc::post(&mut conn, &api.user, &actor(Some(&api.user), &address), id, &body.0.body, Utc::now()).await?;
    Ok((Status::Created, Json(file_json(&svc::read(&mut conn, &api.user, id).await?))))
}

/// The researcher or a case officer closes the enquiry.
#[utoipa::path(tag = "enquiries", security(("bearer" = [])),
    responses((status = 200, description = "The closed enquiry", body = Value), ApiErrors))]
#[post("/enquiries/<id>/close")]
async fn close(pool: &State<Pool>, api: ApiUser, address: ClientAddress, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    svc::close(&mut conn, &api.user, &actor(Some(&api.user), &address), id, Utc::now()).await?;
    Ok(Json(file_json(&svc::read(&mut conn, &api.user, id).await?)))
}

/// The researcher turns the enquiry into a draft application with its sources chosen (once).
#[utoipa::path(tag = "enquiries", security(("bearer" = [])),
    responses((status = 201, description = "The draft application", body = Value), ApiErrors))]
#[post("/enquiries/<id>/application")]
async fn apply(pool: &State<Pool>, api: ApiUser, address: ClientAddress, id: i64) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let app = svc::apply(&mut conn, &api.user, &actor(Some(&api.user), &address), id, Utc::now()).await?;
    let audience = services::applications::audience(Access::Applicant, &api.user);
    Ok((Status::Created, Json(views::application_json(&mut conn, &app, audience).await?)))
}
