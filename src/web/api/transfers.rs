//! Secure file transfers over the JSON API (SPEC §9, §12).

use super::ApiJson;
use super::doc::ApiErrors;
use crate::config::Config;
use crate::db::Pool;
use crate::error::AppResult;
use crate::services::{self, transfers as svc, transfers::TransferRole};
use crate::storage::Storage;
use crate::web::download::ReceiptedDownload;
use crate::web::guards::{ApiUser, ClientAddress, actor};
use crate::web::upload_limits::{DeclaredLength, UploadSlots, idle_limited};
use crate::web::views;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use rocket::data::{Data, ToByteUnit};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::Json;
use rocket::{State, get, post, put};
use serde_json::{Value, json};
use std::time::Duration;

super::api_routes!(create, show, upload, publish, revoke, download);

/// The optional `X-Checksum-SHA256` a client sends with an upload.
pub struct ClientChecksum(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientChecksum {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientChecksum(req.headers().get_one("X-Checksum-SHA256").map(str::to_string)))
    }
}

/// A transfer with its receipts for the register owner and case officers.
async fn detail_json(conn: &mut AsyncPgConnection, l: &svc::Loaded) -> AppResult<Value> {
    let detail = svc::detail(conn, l).await?;
    let mut v = views::transfer_json(&l.transfer, &detail.files);
    if l.role != TransferRole::Recipient {
        v["receipts"] = json!(
            detail
                .receipts
                .iter()
                .map(|(r, file, name, email)| json!({
                    "file": file, "user_id": r.user_id, "user_name": name, "user_email": email, "at": r.at,
                    "bytes": r.bytes, "sha256": r.sha256, "address": r.address,
                }))
                .collect::<Vec<_>>()
        );
    }
    Ok(v)
}

#[utoipa::path(tag = "transfers", request_body = Option<svc::NewTransfer>, security(("bearer" = [])),
    responses((status = 201, description = "The open transfer", body = Value), ApiErrors))]
#[post("/releases/<id>/transfers", data = "<body>")]
async fn create(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<Option<svc::NewTransfer>>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let input = body.0.unwrap_or_default();
    let t = svc::create(&mut conn, &api.user, &actor(Some(&api.user), &address), id, input, Utc::now()).await?;
    Ok((Status::Created, Json(views::transfer_json(&t, &[]))))
}

#[utoipa::path(tag = "transfers", security(("bearer" = [])),
    responses((status = 200, description = "The transfer with its files (and receipts for the owner and officers)", body = Value), ApiErrors))]
#[get("/transfers/<id>")]
async fn show(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let l = svc::load(&mut conn, &api.user, id).await?;
    if l.role == TransferRole::Recipient {
        crate::domain::transfer::check_published(l.transfer.state).map_err(svc::refused)?;
        svc::require_terms(&mut conn, &api.user, &l).await?;
    }
    Ok(Json(detail_json(&mut conn, &l).await?))
}

#[utoipa::path(tag = "transfers", request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"), security(("bearer" = [])),
    responses((status = 201, description = "The file is stored, encrypted", body = Value), ApiErrors))]
#[put("/transfers/<id>/files/<name>", data = "<data>")]
#[allow(clippy::too_many_arguments)]
async fn upload(
    pool: &State<Pool>,
    storage: &State<Storage>,
    config: &State<Config>,
    slots: &State<UploadSlots>,
    api: ApiUser,
    address: ClientAddress,
    checksum: ClientChecksum,
    declared: DeclaredLength,
    id: i64,
    name: &str,
    data: Data<'_>,
) -> AppResult<(Status, Json<Value>)> {
    let limit = config.max_transfer_bytes;
    declared.within(limit)?;
    let _slot = slots.take(api.user.id)?;
    // One byte over the limit is read so that an oversized body is refused, not cut short.
    let body = idle_limited(data.open((limit + 1).bytes()), Duration::from_secs(config.upload_idle_secs));
    let f = svc::upload(
        pool,
        storage,
        &api.user,
        &actor(Some(&api.user), &address),
        id,
        name,
        body,
        limit,
        checksum.0.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok((Status::Created, Json(json!({"name": f.name, "size": f.size, "sha256": f.sha256}))))
}

#[utoipa::path(tag = "transfers", security(("bearer" = [])),
    responses((status = 200, description = "The published transfer", body = Value), ApiErrors))]
#[post("/transfers/<id>/publish")]
async fn publish(pool: &State<Pool>, api: ApiUser, address: ClientAddress, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    svc::publish(&mut conn, &api.user, &actor(Some(&api.user), &address), id, Utc::now()).await?;
    let l = svc::load(&mut conn, &api.user, id).await?;
    Ok(Json(detail_json(&mut conn, &l).await?))
}

#[utoipa::path(tag = "transfers", security(("bearer" = [])),
    responses((status = 200, description = "The revoked transfer", body = Value), ApiErrors))]
#[post("/transfers/<id>/revoke")]
async fn revoke(
    pool: &State<Pool>,
    storage: &State<Storage>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    svc::revoke(&mut conn, storage, &api.user, &actor(Some(&api.user), &address), id, Utc::now()).await?;
    let l = svc::load(&mut conn, &api.user, id).await?;
    Ok(Json(detail_json(&mut conn, &l).await?))
}

#[utoipa::path(tag = "transfers", security(("bearer" = [])),
    responses((status = 200, description = "The file (a receipt is recorded when the last byte has gone out)", body = Vec<u8>, content_type = "application/octet-stream"), ApiErrors))]
#[get("/transfers/<id>/files/<name>")]
#[allow(clippy::too_many_arguments)]
async fn download(
    pool: &State<Pool>,
    storage: &State<Storage>,
    config: &State<Config>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    name: &str,
) -> AppResult<ReceiptedDownload> {
    crate::web::download::stream_file(
        pool,
        storage,
        &api.user,
        actor(Some(&api.user), &address),
        id,
        name,
        config.vat_rate_bp,
    )
    .await
}
