//! Full-text search over the API: cases (scoped to what the caller may see) and the catalogue.

use crate::db::Pool;
use crate::error::AppResult;
use crate::services::{self, search};
use crate::web::api::doc::ApiErrors;
use crate::web::guards::ApiUser;
use rocket::serde::json::Json;
use rocket::{State, get};
use serde_json::{Value, json};

super::api_routes!(cases, catalogue);

/// `GET /api/search/cases?q=` → `[{id, reference, title, state, submitted_at, rank}]`, best first.
#[utoipa::path(tag = "search", security(("bearer" = [])), 
    responses((status = 200, description = "Matching cases the caller may see, best first", body = Vec<Value>), ApiErrors))]
#[get("/search/cases?<q>")]
async fn cases(pool: &State<Pool>, api: ApiUser, q: Option<&str>) -> AppResult<Json<Vec<Value>>> {
    let q = search::query(q)?;
    let mut conn = services::conn(pool).await?;
    let hits = search::cases(&mut conn, &api.user, &q).await?;
    Ok(Json(hits.iter().map(|h| json!(h)).collect()))
}

/// `GET /api/search/catalogue?q=` → `{data_sources: […], variables: […]}`, best first.
#[utoipa::path(tag = "search", 
    responses((status = 200, description = "Matching data sources and variables, best first", body = Object), ApiErrors))]
#[get("/search/catalogue?<q>")]
async fn catalogue(pool: &State<Pool>, q: Option<&str>) -> AppResult<Json<Value>> {
    let q = search::query(q)?;
    let mut conn = services::conn(pool).await?;
    let (sources, variables) = search::catalogue(&mut conn, &q).await?;
    Ok(Json(json!({"data_sources": sources, "variables": variables})))
}
