//! The public catalogue and organisations over the API; admin writes.

use super::ApiJson;
use super::doc::ApiErrors;
use crate::db::{self, Pool};
use crate::domain::catalogue::is_valid_source_code;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult};
use crate::services::require;
use crate::services::{self, catalogue};
use crate::web::guards::{ApiUser, ClientAddress, actor};
use crate::web::views::{catalogue_json, source_json};
use chrono::Utc;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post, put};
use serde_json::{Value, json};

super::api_routes!(organisations, create_organisation, data_sources, data_source, create_source, update_source);

fn organisation_json(o: &db::catalogue::Organisation) -> Value {
    json!({
        "id": o.id, "name": o.name, "name_en": o.name_en, "organisation_number": o.organisation_number, "is_hds": o.is_hds,
        "postal_address": o.postal_address, "postal_code": o.postal_code, "city": o.city, "bank_account": o.bank_account,
    })
}

#[utoipa::path(tag = "catalogue",
    responses((status = 200, description = "Every organisation", body = Value), ApiErrors))]
#[get("/organisations")]
async fn organisations(pool: &State<Pool>) -> AppResult<Json<Vec<Value>>> {
    let conn = services::conn(pool).await?;
    Ok(Json(catalogue::organisations(&conn).await?.iter().map(organisation_json).collect()))
}

#[utoipa::path(tag = "catalogue", request_body = catalogue::OrganisationInput, security(("bearer" = [])),
    responses((status = 201, description = "The organisation is created", body = Value), ApiErrors))]
#[post("/organisations", data = "<body>")]
async fn create_organisation(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    body: ApiJson<catalogue::OrganisationInput>,
) -> AppResult<(Status, Json<Value>)> {
    require(&api.user, Permission::ManageUsers)?;
    let mut conn = services::conn(pool).await?;
    let org = catalogue::create_organisation(&mut conn, &actor(Some(&api.user), &address), body.0, Utc::now()).await?;
    Ok((Status::Created, Json(organisation_json(&org))))
}

#[utoipa::path(tag = "catalogue",
    responses((status = 200, description = "The catalogue of data sources (filtered by `q`)", body = Value), ApiErrors))]
#[get("/data-sources?<q>")]
async fn data_sources(pool: &State<Pool>, q: Option<&str>) -> AppResult<Json<Vec<Value>>> {
    Ok(Json(catalogue_json(pool, q).await?))
}

/// One source by id or by code.
#[utoipa::path(tag = "catalogue",
    responses((status = 200, description = "One data source (by id or code) with its variables", body = Value), ApiErrors))]
#[get("/data-sources/<key>")]
async fn data_source(pool: &State<Pool>, key: &str) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let entry = match key.parse::<i64>() {
        Ok(id) => catalogue::source_by_id(&mut conn, id).await?,
        Err(_) if is_valid_source_code(&key.to_uppercase()) => {
            catalogue::source_by_code(&mut conn, &key.to_uppercase()).await?
        }
        Err(_) => return Err(AppError::NotFound),
    };
    Ok(Json(source_json(&entry.source, &entry.owner, &entry.variables)))
}

#[utoipa::path(tag = "catalogue", request_body = catalogue::SourceInput, security(("bearer" = [])),
    responses((status = 201, description = "The data source is created", body = Value), ApiErrors))]
#[post("/data-sources", data = "<body>")]
async fn create_source(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    body: ApiJson<catalogue::SourceInput>,
) -> AppResult<(Status, Json<Value>)> {
    require(&api.user, Permission::ManageCatalogue)?;
    let mut conn = services::conn(pool).await?;
    let s = catalogue::create_source(&mut conn, &actor(Some(&api.user), &address), body.0, Utc::now()).await?;
    let (s, owner) = catalogue::source_with_owner(&mut conn, s.id).await?;
    Ok((Status::Created, Json(source_json(&s, &owner, &[]))))
}

#[utoipa::path(tag = "catalogue", request_body = catalogue::SourceInput, security(("bearer" = [])),
    responses((status = 200, description = "The updated data source", body = Value), ApiErrors))]
#[put("/data-sources/<id>", data = "<body>")]
async fn update_source(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<catalogue::SourceInput>,
) -> AppResult<Json<Value>> {
    require(&api.user, Permission::ManageCatalogue)?;
    let mut conn = services::conn(pool).await?;
    catalogue::update_source(&mut conn, &actor(Some(&api.user), &address), id, body.0, Utc::now()).await?;
    let entry = catalogue::source_by_id(&mut conn, id).await?;
    Ok(Json(source_json(&entry.source, &entry.owner, &entry.variables)))
}
