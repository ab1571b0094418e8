//! Each user's notices over the API: `GET /api/notifications`, `POST /api/notifications/{id}/read`
//! (and `POST /api/notifications/read` for all).

use super::doc::ApiErrors;
use crate::db::Pool;
use crate::error::AppResult;
use crate::services;
use crate::web::guards::ApiUser;
use chrono::Utc;
use rocket::serde::json::Json;
use rocket::{State, get, post};
use serde_json::{Value, json};

super::api_routes!(list, read_one, read_all);

#[utoipa::path(tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "The user's notices and the unread count", body = Value), ApiErrors))]
#[get("/notifications")]
async fn list(pool: &State<Pool>, api: ApiUser) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let lang = crate::domain::language::Language::from_tag(&api.user.language).unwrap_or_default();
    let (notices, unread) = services::notifications::notices_with_unread(&mut conn, api.user.id).await?;
    let items: Vec<Value> = notices.iter().map(|n| crate::web::views::notice(lang, n)).collect();
    Ok(Json(json!({"unread": unread, "notifications": items})))
}

#[utoipa::path(tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "The notice is marked read", body = Value), ApiErrors))]
#[post("/notifications/<id>/read")]
async fn read_one(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    services::notifications::mark_read(&mut conn, &api.user, Some(id), Utc::now()).await?;
    Ok(Json(json!({"id": id, "read": true})))
}

#[utoipa::path(tag = "notifications", security(("bearer" = [])),
    responses((status = 200, description = "Every notice is marked read", body = Value), ApiErrors))]
#[post("/notifications/read")]
async fn read_all(pool: &State<Pool>, api: ApiUser) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let n = services::notifications::mark_read(&mut conn, &api.user, None, Utc::now()).await?;
    Ok(Json(json!({"marked": n})))
}
