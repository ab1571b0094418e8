//! Members and data-use terms over the JSON API: the invitations of a case, accepting one, the
//! terms to accept and who accepted them, and publishing a source's new terms.

use super::ApiJson;
use super::doc::ApiErrors;
use crate::db::Pool;
use crate::error::AppResult;
use crate::services::{self, members as svc};
use crate::web::guards::{ApiUser, ClientAddress, actor};
use chrono::Utc;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

super::api_routes!(invitations, accept_invitation, terms, accept_terms, source_terms, publish_terms);

fn invitation_json(i: &crate::db::members::Invitation) -> Value {
    json!({"email": i.email, "invited_at": i.invited_at, "accepted_at": i.accepted_at, "user_id": i.user_id})
}

/// The invitations of a case's members (the applicant, the members and the officers).
#[utoipa::path(tag = "members", security(("bearer" = [])),
    responses((status = 200, description = "The invitations, in the order sent", body = Value), ApiErrors))]
#[get("/applications/<id>/invitations")]
async fn invitations(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let rows = svc::invitations(&mut conn, &api.user, id).await?;
    Ok(Json(json!(rows.iter().map(invitation_json).collect::<Vec<_>>())))
}

/// The token of a mailed invitation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationBody {
    #[serde(default)]
    token: String,
}

/// The holder of the invited address accepts (an address without an account accepts in the
/// page, which makes the account).
#[utoipa::path(tag = "members", request_body = InvitationBody, security(("bearer" = [])),
    responses((status = 200, description = "The case joined", body = Value), ApiErrors))]
#[post("/invitations/accept", data = "<body>")]
async fn accept_invitation(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    body: ApiJson<InvitationBody>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let case = svc::accept(&mut conn, &api.user, &actor(Some(&api.user), &address), &body.0.token, Utc::now()).await?;
    Ok(Json(json!({"application_id": case})))
}

/// The terms of the case's granted sources and who of the project accepted them; `outstanding`
/// lists the sources the reader still has to accept.
#[utoipa::path(tag = "members", security(("bearer" = [])),
    responses((status = 200, description = "The terms and the acceptances", body = Value), ApiErrors))]
#[get("/applications/<id>/terms")]
async fn terms(pool: &State<Pool>, api: ApiUser, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let f = svc::terms_file(&mut conn, &api.user, id).await?;
    Ok(Json(json!({
        "terms": f.terms.iter().map(|(s, t)| json!({
            "data_source_id": s.id, "code": s.code, "terms_id": t.id, "version": t.version,
            "text_nb": t.text_nb, "text_en": t.text_en, "published_at": t.published_at,
        })).collect::<Vec<_>>(),
        "people": f.people.iter().map(|p| json!({
            "email": p.email, "name": p.name, "user_id": p.user_id, "applicant": p.applicant,
            "invitation": p.invitation.as_ref().map(invitation_json),
            "accepted": p.accepted.iter().map(|(s, at)| json!({"data_source_id": s, "accepted_at": at})).collect::<Vec<_>>(),
            "complete": p.accepted.len() == f.terms.len(),
        })).collect::<Vec<_>>(),
        "outstanding": f.mine_outstanding,
    })))
}

/// The terms a person accepts: the ids of the versions they read.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptTermsBody {
    #[serde(default)]
    terms_ids: Vec<i64>,
}

/// The applicant or a member accepts terms (409 for a version that is no longer current).
#[utoipa::path(tag = "members", request_body = AcceptTermsBody, security(("bearer" = [])),
    responses((status = 200, description = "Accepted", body = Value), ApiErrors))]
#[post("/applications/<id>/terms", data = "<body>")]
async fn accept_terms(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<AcceptTermsBody>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let who = actor(Some(&api.user), &address);
    svc::accept_terms(&mut conn, &api.user, &who, id, &body.0.terms_ids, Utc::now()).await?;
    let outstanding = svc::outstanding_for(&mut conn, id, api.user.id).await?;
    Ok(Json(json!({"outstanding": outstanding})))
}

fn terms_json(t: &crate::db::members::Terms) -> Value {
    json!({"id": t.id, "data_source_id": t.data_source_id, "version": t.version, "text_nb": t.text_nb, "text_en": t.text_en, "published_at": t.published_at})
}

/// A source's current data-use terms (public).
#[utoipa::path(tag = "members",
    responses((status = 200, description = "The current terms", body = Value), ApiErrors))]
#[get("/data-sources/<id>/terms")]
async fn source_terms(pool: &State<Pool>, id: i64) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    Ok(Json(terms_json(&svc::current_of(&mut conn, id).await?)))
}

/// New terms for a source.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsBody {
    #[serde(default)]
    text_nb: String,
    #[serde(default)]
    text_en: String,
}

/// An admin or the source's register owner publishes a new version of its terms.
#[utoipa::path(tag = "members", request_body = TermsBody, security(("bearer" = [])),
    responses((status = 201, description = "The new version", body = Value), ApiErrors))]
#[post("/data-sources/<id>/terms", data = "<body>")]
async fn publish_terms(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    id: i64,
    body: ApiJson<TermsBody>,
) -> AppResult<(Status, Json<Value>)> {
    let mut conn = services::conn(pool).await?;
    let who = actor(Some(&api.user), &address);
    let t = svc::publish(&mut conn, &api.user, &who, id, &body.0.text_nb, &body.0.text_en, Utc::now()).await?;
    Ok((Status::Created, Json(terms_json(&t))))
}
