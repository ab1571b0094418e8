//! User payment over the JSON API: the public price list, price list administration, revised
//! estimates and their acceptance, time records, and invoices.

use super::ApiJson;
use super::doc::ApiErrors;
use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::{self, invoices, price_lists, pricing};
use crate::web::guards::{ApiUser, ClientAddress, actor};
use crate::web::views;
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, delete, get, post, put};
use serde_json::{Value, json};

super::api_routes!(
    price_list,
    managed_lists,
    create_list,
    show_list,
    update_list,
    add_item,
    update_item,
    remove_item,
    publish_list,
    delete_list,
    revise_estimate,
    accept_estimate,
    record_hours,
    hours,
    invoice,
    generate_invoice,
    invoice_action,
    ehf
);

#[utoipa::path(tag = "pricing",
    responses((status = 200, description = "The published price lists in force and upcoming", body = Value), ApiErrors))]
#[get("/price-list")]
async fn price_list(pool: &State<Pool>) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let today = crate::domain::deadlines::oslo_date(Utc::now());
    let (current, upcoming) = price_lists::public(&mut conn, today).await?;
    Ok(Json(
        json!({"date": today, "currency": "NOK", "amounts": "øre, excluding VAT", "price_lists": current, "upcoming": upcoming}),
    ))
}

#[utoipa::path(tag = "pricing", security(("bearer" = [])),
    responses((status = 200, description = "The price lists this user manages", body = Value), ApiErrors))]
#[get("/price-lists")]
async fn managed_lists(pool: &State<Pool>, api: ApiUser) -> AppResult<Json<Value>> {
    let scope = price_lists::managed_organisation(&api.user)?;
    let mut conn = services::conn(pool).await?;
    let (rows, items, orgs) = price_lists::managed(&mut conn, scope).await?;
    Ok(Json(json!(
        rows.iter()
            .map(|r| price_lists::list_json(r, &items, orgs.iter().find(|o| o.id == r.organisation_id)))
            .collect::<Vec<_>>()
    )))
}

async fn list_value(conn: &mut AsyncPgConnection, id: i64) -> AppResult<Value> {
    let l = price_lists::with_items(conn, id).await?;
    Ok(price_lists::list_json(&l.list, &l.items, l.organisation.as_ref()))
}

#[utoipa::path(tag = "pricing", request_body = price_lists::ListInput, security(("bearer" = [])),
    responses((status = 201, description = "The draft price list", body = Value), ApiErrors))]
#[post("/price-lists", data = "<body>")]
async fn create_list(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    body: ApiJson<price_lists::ListInput>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let list = price_lists::create(&mut conn, &api.user, &actor(Some(&api.user), &address), body.0, Utc::now()).await?;
    Ok((Status::Created, Json(list_value(&mut conn, list.id).await?)))
}

#[utoipa::path(tag = "pricing", security(("bearer" = [])),
    responses((status = 200, description = "One price list with its items", body = Value), ApiErrors))]
#[get("/price-lists/<id>")]
async fn show_list(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    price_lists::load(&mut conn, &api.user, id).await?;
    Ok(Json(list_value(&mut conn, id).await?))
}

#[utoipa::path(tag = "pricing", request_body = price_lists::ListInput, security(("bearer" = [])),
    responses((status = 200, description = "The updated price list", body = Value), ApiErrors))]
#[put("/price-lists/<id>", data = "<body>")]
async fn update_list(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<price_lists::ListInput>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    price_lists::update(&mut conn, &api.user, &actor(Some(&api.user), &address), id, body.0, Utc::now()).await?;
    Ok(Json(list_value(&mut conn, id).await?))
}

#[utoipa::path(tag = "pricing", request_body = price_lists::ItemInput, security(("bearer" = [])),
    responses((status = 201, description = "The item is added", body = Value), ApiErrors))]
#[post("/price-lists/<id>/items", data = "<body>")]
async fn add_item(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<price_lists::ItemInput>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    price_lists::add_item(&mut conn, &api.user, &actor(Some(&api.user), &address), id, body.0, Utc::now()).await?;
    Ok((Status::Created, Json(list_value(&mut conn, id).await?)))
}

#[utoipa::path(tag = "pricing", request_body = price_lists::ItemInput, security(("bearer" = [])),
    responses((status = 200, description = "The updated price list", body = Value), ApiErrors))]
#[put("/price-lists/<id>/items/<item>", data = "<body>")]
async fn update_item(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    item: i64,
    body: ApiJson<price_lists::ItemInput>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    price_lists::update_item(&mut conn, &api.user, &actor(Some(&api.user), &address), id, item, body.0, Utc::now())
        .await?;
    Ok(Json(list_value(&mut conn, id).await?))
}

#[utoipa::path(tag = "pricing", security(("bearer" = [])),
    responses((status = 200, description = "The price list without the item", body = Value), ApiErrors))]
#[delete("/price-lists/<id>/items/<item>")]
async fn remove_item(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    item: i64,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    price_lists::remove_item(&mut conn, &api.user, &actor(Some(&api.user), &address), id, item, Utc::now()).await?;
    Ok(Json(list_value(&mut conn, id).await?))
}

#[derive(serde::Deserialize, Default, utoipa::ToSchema)]
#[serde(default)]
struct Publish {
    version: Option<i32>,
}

#[utoipa::path(tag = "pricing", request_body = Option<Publish>, security(("bearer" = [])),
    responses((status = 200, description = "The published price list", body = Value), ApiErrors))]
#[post("/price-lists/<id>/publish", data = "<body>")]
async fn publish_list(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<Option<Publish>>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let version = body.0.unwrap_or_default().version;
    price_lists::publish(&mut conn, &api.user, &actor(Some(&api.user), &address), id, version, Utc::now()).await?;
    Ok(Json(list_value(&mut conn, id).await?))
}

#[utoipa::path(tag = "pricing", security(("bearer" = [])),
    responses((status = 204, description = "The draft price list is deleted"), ApiErrors))]
#[delete("/price-lists/<id>")]
async fn delete_list(pool: &State<Pool>, api: ApiUser, address: ClientAddress, id: i64) -> AppResult<Status> {
    let mut conn = services::conn(pool).await?;
    price_lists::delete_draft(&mut conn, &api.user, &actor(Some(&api.user), &address), id, Utc::now()).await?;
    Ok(Status::NoContent)
}

#[utoipa::path(tag = "pricing", request_body = pricing::RevisedEstimate, security(("bearer" = [])),
    responses((status = 201, description = "The revised estimate, sent to the applicant for acceptance", body = Value), ApiErrors))]
#[post("/applications/<id>/estimate", data = "<body>", rank = 2)]
async fn revise_estimate(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<pricing::RevisedEstimate>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let e = pricing::revise_estimate(&mut conn, &api.user, &actor(Some(&api.user), &address), id, body.0, Utc::now())
        .await?;
    Ok((Status::Created, Json(json!(e))))
}

#[utoipa::path(tag = "pricing", security(("bearer" = [])),
    responses((status = 200, description = "The estimate is accepted", body = Value), ApiErrors))]
#[post("/applications/<id>/accept-estimate", rank = 2)]
async fn accept_estimate(pool: &State<Pool>, api: ApiUser, address: ClientAddress, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let accepted =
        pricing::accept_estimate(&mut conn, &api.user, &actor(Some(&api.user), &address), id, Utc::now()).await?;
    Ok(Json(json!({"accepted": accepted})))
}

#[utoipa::path(tag = "pricing", request_body = pricing::Hours, security(("bearer" = [])),
    responses((status = 201, description = "The hours are recorded", body = Value), ApiErrors))]
#[post("/applications/<id>/hours", data = "<body>", rank = 2)]
async fn record_hours(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<pricing::Hours>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let record_id =
        pricing::record_hours(&mut conn, &api.user, &actor(Some(&api.user), &address), id, body.0, Utc::now()).await?;
    Ok((Status::Created, Json(json!({"id": record_id}))))
}

#[utoipa::path(tag = "pricing", security(("bearer" = [])),
    responses((status = 200, description = "The hours recorded on the case", body = Value), ApiErrors))]
#[get("/applications/<id>/hours")]
async fn hours(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let (_, access) = services::applications::load(&mut conn, &api.user, id).await?;
    if !access.sees_internal() {
        return Err(AppError::Forbidden("err-time-staff-only".into()));
    }
    Ok(Json(json!(pricing::time_records(&mut conn, id).await?)))
}

#[utoipa::path(tag = "pricing", security(("bearer" = [])),
    responses((status = 200, description = "The invoice of the application (null before one is made)", body = Value), ApiErrors))]
#[get("/applications/<id>/invoice")]
async fn invoice(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    services::applications::load(&mut conn, &api.user, id).await?;
    let bill = invoices::bill(&conn, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(views::invoice_json(id, Some(&bill))))
}

#[utoipa::path(tag = "pricing", security(("bearer" = [])),
    responses((status = 200, description = "The invoice is drawn up", body = Value), ApiErrors))]
#[post("/applications/<id>/invoice", rank = 2)]
async fn generate_invoice(
    pool: &State<Pool>,
    config: &State<crate::config::Config>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let who = actor(Some(&api.user), &address);
    invoices::generate_invoices(&mut conn, &api.user, &who, id, config.vat_rate_bp, Utc::now()).await?;
    Ok(Json(views::invoice_json(id, invoices::bill(&conn, id).await?.as_ref())))
}

#[derive(serde::Deserialize, Default, utoipa::ToSchema)]
#[serde(default)]
struct ActionBody {
    reason: Option<String>,
}

#[utoipa::path(tag = "pricing", request_body = Option<ActionBody>, security(("bearer" = [])),
    params(("action" = String, Path, description = "issue, paid or waive")),
    responses((status = 200, description = "The invoice after the action", body = Value), ApiErrors))]
#[post("/invoices/<id>/<action>", data = "<body>")]
async fn invoice_action(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    action: &str,
    body: ApiJson<Option<ActionBody>>,
) -> AppResult<Json<Value>> {
    let action = invoices::InvoiceAction::from_code(action).ok_or(AppError::NotFound)?;
    let reason = body.0.unwrap_or_default().reason;
    let mut conn = services::conn(pool).await?;
    let part = invoices::invoice_action(
        &mut conn,
        &api.user,
        &actor(Some(&api.user), &address),
        id,
        action,
        reason.as_deref(),
        Utc::now(),
    )
    .await?;
    Ok(Json(json!(part)))
}

/// The part as an EHF / PEPPOL BIS Billing 3.0-style UBL document.
#[utoipa::path(tag = "pricing", security(("bearer" = [])),
    responses((status = 200, description = "The invoice as EHF (PEPPOL BIS Billing 3.0) XML", body = String, content_type = "application/xml"), ApiErrors))]
#[get("/invoices/<id>/ehf")]
async fn ehf(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<(rocket::http::ContentType, String)> {
    let mut conn = services::conn(pool).await?;
    let (_, xml) = invoices::ehf_document(&mut conn, &api.user, id).await?;
    Ok((rocket::http::ContentType::XML, xml))
}
