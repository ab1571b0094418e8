//! `GET /api/statistics` (the public figures of SPEC §11) and `GET /api/projects` (the public
//! register of approved projects, without personal data).

use crate::db::{self, Pool};
use crate::error::AppResult;
use crate::services;
use chrono::Utc;
use rocket::serde::json::Json;
use rocket::{State, get, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![statistics, projects]
}

#[get("/statistics")]
async fn statistics(pool: &State<Pool>, cache: &State<services::statistics::Cache>) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    Ok(Json(cache.figures(&mut conn, Utc::now()).await?))
}

#[get("/projects?<page>")]
async fn projects(pool: &State<Pool>, page: Option<i64>) -> AppResult<Json<Value>> {
    let page = page.unwrap_or(1).max(1);
    let mut conn = services::conn(pool).await?;
    let rows = db::statistics::approved_projects(&mut conn, 100, (page - 1) * 100).await?;
    Ok(Json(json!({"page": page, "projects": rows})))
}
