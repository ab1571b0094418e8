//! Tokens, self-registration and user management over the API.

use super::ApiJson;
use super::doc::ApiErrors;
use crate::db::{Pool, users::User};
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult};
use crate::services::require;
use crate::services::{self, accounts};
use crate::web::guards::PasswordsAllowed;
use crate::web::guards::{ApiUser, ClientAddress, actor};
use chrono::Utc;
use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{State, delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

super::api_routes!(token, revoke_token, register, create_user, me);

/// A user as the API shows it (never the password hash).
pub fn user_json(u: &User) -> Value {
    json!({"id": u.id, "email": u.email, "name": u.name, "role": u.role, "organisation_id": u.organisation_id, "language": u.language, "active": u.active, "version": u.version})
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[utoipa::path(tag = "accounts", request_body = Credentials,
    responses((status = 200, description = "A bearer token for 24 hours, with the user", body = Value), ApiErrors))]
#[post("/auth/token", data = "<body>")]
async fn token(
    pool: &State<Pool>,
    _allowed: PasswordsAllowed,
    address: ClientAddress,
    body: ApiJson<Credentials>,
) -> AppResult<Json<Value>> {
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    let user = accounts::authenticate(&mut conn, &body.0.email, &body.0.password, &address.0, now).await?;
    let who = actor(Some(&user), &address);
    let (secret, expires_at) =
        accounts::issue_token(&mut conn, &user, &who, "api", "write", accounts::TOKEN_HOURS, now).await?;
    Ok(Json(json!({"token": secret, "token_type": "Bearer", "expires_at": expires_at, "user": user_json(&user)})))
}

/// Revokes the token used for this request.
#[utoipa::path(tag = "accounts", security(("bearer" = [])),
    responses((status = 204, description = "The token is revoked"), ApiErrors))]
#[delete("/auth/token")]
async fn revoke_token(pool: &State<Pool>, api: ApiUser, address: ClientAddress) -> AppResult<Status> {
    let mut conn = services::conn(pool).await?;
    let who = crate::web::guards::actor(Some(&api.user), &address);
    services::tokens::revoke_current(&mut conn, &api.user, &who, api.token_id, Utc::now()).await?;
    Ok(Status::NoContent)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Registration {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    language: Option<String>,
}

#[utoipa::path(tag = "accounts", request_body = Registration,
    responses((status = 202, description = "The registration is received; a link is mailed to the address. The same answer whether or not the address already has an account (the owner of an existing account is told by mail instead)", body = Value), ApiErrors))]
#[post("/register", data = "<body>")]
async fn register(
    pool: &State<Pool>,
    _allowed: PasswordsAllowed,
    address: ClientAddress,
    body: ApiJson<Registration>,
) -> AppResult<(Status, Json<Value>)> {
    let b = body.0;
    let mut conn = services::conn(pool).await?;
    let input = accounts::NewAccount {
        email: b.email,
        name: b.name,
        password: b.password,
        role: None,
        organisation_id: None,
        language: b.language,
    };
    let email = input.email.trim().to_lowercase();
    accounts::register(&mut conn, &actor(None, &address), input, Utc::now()).await?;
    Ok((Status::Accepted, Json(json!({"status": "confirmation_sent", "email": email}))))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct NewUserBody {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    organisation_id: Option<i64>,
    #[serde(default)]
    language: Option<String>,
}

#[utoipa::path(tag = "accounts", request_body = NewUserBody, security(("bearer" = [])),
    responses((status = 201, description = "The user is created (administrators)", body = Value), ApiErrors))]
#[post("/users", data = "<body>")]
async fn create_user(
    pool: &State<Pool>,
    api: ApiUser,
    address: ClientAddress,
    body: ApiJson<NewUserBody>,
) -> AppResult<(Status, Json<Value>)> {
    require(&api.user, Permission::ManageUsers)?;
    let b = body.0;
    if b.role.as_deref().unwrap_or("").is_empty() {
        return Err(AppError::field("role", "err-required"));
    }
    let mut conn = services::conn(pool).await?;
    let input = accounts::NewAccount {
        email: b.email,
        name: b.name,
        password: b.password,
        role: b.role,
        organisation_id: b.organisation_id,
        language: b.language,
    };
    let user = accounts::create_account(&mut conn, &actor(Some(&api.user), &address), input, false, Utc::now()).await?;
    Ok((Status::Created, Json(user_json(&user))))
}

#[utoipa::path(tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "The user behind the token", body = Value), ApiErrors))]
#[get("/users/me")]
fn me(api: ApiUser) -> Json<Value> {
    Json(user_json(&api.user))
}
