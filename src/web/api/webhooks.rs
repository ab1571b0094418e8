//! Webhook endpoints over the API: register (the secret is shown once), list, remove, and the
//! deliveries with the receiver's answers.

use super::ApiJson;
use crate::config::Config;
use crate::db::{Pool, notifications::OutboxMessage, webhooks::Endpoint};
use crate::domain::outbox::OutboxState;
use crate::error::AppResult;
use crate::services::{self, webhooks};
use crate::web::api::doc::ApiErrors;
use crate::web::guards::{ApiUser, ClientAddress, actor};
use chrono::Utc;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, delete, get, post};
use serde_json::{Value, json};

super::api_routes!(list, register, remove, deliveries);

pub fn endpoint_json(e: &Endpoint) -> Value {
    json!({"id": e.id, "organisation_id": e.organisation_id, "url": e.url, "event_kinds": e.event_kinds, "created_at": e.created_at, "disabled_at": e.disabled_at})
}

pub fn delivery_json(m: &OutboxMessage) -> Value {
    json!({
        "id": m.id, "event_kind": m.template, "state": m.state, "attempts": m.attempts, "created_at": m.created_at,
        "next_attempt_at": (m.state == OutboxState::Pending).then_some(m.next_attempt_at), "delivered_at": m.sent_at,
        "last_error": m.last_error, "response_status": m.response_status, "response_excerpt": m.response_excerpt,
        "body": m.context,
    })
}

#[utoipa::path(tag = "webhooks", security(("bearer" = [])), 
    responses((status = 200, description = "The webhook endpoints of the caller's organisation (all, for admins)", body = Vec<Value>), ApiErrors))]
#[get("/webhooks")]
async fn list(pool: &State<Pool>, api: ApiUser) -> AppResult<Json<Vec<Value>>> {
    let mut conn = services::conn(pool).await?;
    Ok(Json(webhooks::list(&mut conn, &api.user).await?.iter().map(endpoint_json).collect()))
}

/// `{url, event_kinds: [..], organisation_id? (admins)}` → 201 with `secret`, shown this once.
#[utoipa::path(tag = "webhooks", request_body = crate::services::webhooks::EndpointRequest, security(("bearer" = [])), 
    responses((status = 201, description = "The new endpoint, with its signing secret shown this once", body = Object), ApiErrors))]
#[post("/webhooks", data = "<body>")]
async fn register(
    pool: &State<Pool>,
    config: &State<Config>,
    api: ApiUser,
    address: ClientAddress,
    body: ApiJson<webhooks::EndpointRequest>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let actor = actor(Some(&api.user), &address);
    let (secret, e) =
        webhooks::register(&mut conn, &api.user, &actor, &body.0, config.webhook_allow_loopback, Utc::now()).await?;
    let mut v = endpoint_json(&e);
    v["secret"] = json!(secret);
    Ok((Status::Created, Json(v)))
}

#[utoipa::path(tag = "webhooks", security(("bearer" = [])), 
    responses((status = 204, description = "The endpoint is removed"), ApiErrors))]
#[delete("/webhooks/<id>")]
async fn remove(pool: &State<Pool>, api: ApiUser, address: ClientAddress, id: i64) -> AppResult<Status> {
    let mut conn = services::conn(pool).await?;
    webhooks::disable(&mut conn, &api.user, &actor(Some(&api.user), &address), id, Utc::now()).await?;
    Ok(Status::NoContent)
}

#[utoipa::path(tag = "webhooks", security(("bearer" = [])), 
    responses((status = 200, description = "The endpoint's recent deliveries with the receiver's answers", body = Vec<Value>), ApiErrors))]
#[get("/webhooks/<id>/deliveries")]
async fn deliveries(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Vec<Value>>> {
    let mut conn = services::conn(pool).await?;
    let (_, list) = webhooks::with_deliveries(&mut conn, &api.user, id).await?;
    Ok(Json(list.iter().map(delivery_json).collect()))
}
