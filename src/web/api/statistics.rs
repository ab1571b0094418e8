//! `GET /api/statistics` (the public figures of SPEC §11) and `GET /api/projects` (the public
//! register of approved projects, without personal data).

use super::doc::ApiErrors;
use crate::db::Pool;
use crate::error::AppResult;
use crate::services;
use chrono::Utc;
use rocket::serde::json::Json;
use rocket::{State, get};
use serde_json::{Value, json};

super::api_routes!(statistics, projects);

#[utoipa::path(tag = "statistics",
    responses((status = 200, description = "The public figures", body = Value), ApiErrors))]
#[get("/statistics")]
async fn statistics(pool: &State<Pool>) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    Ok(Json(services::statistics::figures(&mut conn, Utc::now()).await?))
}

#[utoipa::path(tag = "statistics",
    responses((status = 200, description = "The public register of approved projects (100 a page)", body = Value), ApiErrors))]
#[get("/projects?<page>")]
async fn projects(pool: &State<Pool>, page: Option<i64>) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let (page, rows) = services::statistics::projects(&mut conn, page, 100).await?;
    Ok(Json(json!({"page": page, "projects": rows})))
}
