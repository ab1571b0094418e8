//! Personal API tokens over the API: list, create and revoke one's own.

use super::ApiJson;
use crate::db::Pool;
use crate::error::AppResult;
use crate::services::{self, tokens};
use crate::web::api::doc::ApiErrors;
use crate::web::guards::{ApiUser, ClientAddress, actor};
use chrono::Utc;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, delete, get, post};
use serde_json::{Value, json};

super::api_routes!(list, create, revoke);

#[utoipa::path(tag = "tokens", security(("bearer" = [])), 
    responses((status = 200, description = "The user's personal tokens (without their secrets)", body = Vec<Value>), ApiErrors))]
#[get("/tokens")]
async fn list(pool: &State<Pool>, api: ApiUser) -> AppResult<Json<Vec<Value>>> {
    let mut conn = services::conn(pool).await?;
    let list = tokens::list(&mut conn, &api.user, Utc::now()).await?;
    Ok(Json(list.iter().map(tokens::token_json).collect()))
}

/// `{name, scope: "read"|"write", expires_in_days?}` → 201 with the secret, shown this once.
#[utoipa::path(tag = "tokens", request_body = crate::services::tokens::TokenRequest, security(("bearer" = [])), 
    responses((status = 201, description = "The new token, with its secret shown this once", body = Object), ApiErrors))]
#[post("/tokens", data = "<body>")]
async fn create(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    body: ApiJson<tokens::TokenRequest>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let (secret, token) =
        tokens::create(&mut conn, &api.user, &actor(Some(&api.user), &address), &body.0, Utc::now()).await?;
    let mut v = tokens::token_json(&token);
    v["token"] = json!(secret);
    Ok((Status::Created, Json(v)))
}

#[utoipa::path(tag = "tokens", security(("bearer" = [])), 
    responses((status = 204, description = "The token is revoked"), ApiErrors))]
#[delete("/tokens/<id>")]
async fn revoke(pool: &State<Pool>, api: ApiUser, address: ClientAddress, id: i64) -> AppResult<Status> {
    let mut conn = services::conn(pool).await?;
    tokens::revoke(&mut conn, &api.user, &actor(Some(&api.user), &address), id, Utc::now()).await?;
    Ok(Status::NoContent)
}
