//! Personal API tokens: named, scoped to `read` or `write`, with an expiry; each user manages
//! their own on the account page or over the API. Only the SHA-256 of a token is stored.

use super::Actor;
use super::accounts::new_secret;
use crate::db::{self, users::ApiToken, users::User};
use crate::domain::fields::FieldErrors;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;

/// The longest lifetime a personal token may be given.
pub const MAX_DAYS: i64 = 365;
/// The scopes a token may have.
pub const SCOPES: [&str; 2] = ["read", "write"];

/// What a user asks for when creating a token.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// Checks a request; returns the trimmed name, the scope and the lifetime in days.
pub fn check(req: &TokenRequest) -> Result<(String, &'static str, i64), FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = errors.text("name", &req.name, 1, 100);
    let scope = SCOPES.iter().copied().find(|s| *s == req.scope.trim());
    if scope.is_none() {
        errors.add("scope", "err-token-scope");
    }
    let days = req.expires_in_days.unwrap_or(90);
    if !(1..=MAX_DAYS).contains(&days) {
        errors.add_n("expires_in_days", "err-token-days", MAX_DAYS);
    }
    errors.into_result()?;
    Ok((name, scope.unwrap_or("read"), days))
}

/// Creates a personal token; returns the secret (shown once) and the stored token.
pub async fn create(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    req: &TokenRequest,
    now: DateTime<Utc>,
) -> AppResult<(String, ApiToken)> {
    let (name, scope, days) = check(req).map_err(AppError::Validation)?;
    let (secret, hash) = new_secret();
    let token = conn
        .transaction::<_, AppError, _>(async |tx| {
            let token = db::users::create_token(tx, &hash, user.id, &name, scope, now + Duration::days(days)).await?;
            super::record_event(
                tx,
                actor,
                now,
                ("user", Some(user.id)),
                "token.created",
                json!({"token_id": token.id, "name": token.name, "scope": token.scope, "expires_at": token.expires_at}),
            )
            .await?;
            Ok(token)
        })
        .await?;
    Ok((secret, token))
}

/// A user's tokens that are neither revoked nor expired, newest first.
pub async fn list(conn: &mut AsyncPgConnection, user: &User, now: DateTime<Utc>) -> AppResult<Vec<ApiToken>> {
    Ok(db::users::live_tokens_of(conn, user.id, now).await?)
}

/// Revokes one of the user's own tokens; someone else's (or an unknown one) is 404.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |tx| {
        if db::users::revoke_own_token(tx, user.id, id, now).await? == 0 {
            return Err(AppError::NotFound);
        }
        super::record_event(tx, actor, now, ("user", Some(user.id)), "token.revoked", json!({"token_id": id})).await?;
        Ok(())
    })
    .await
}

/// A token as the API and the account page show it (never the secret or its hash).
pub fn token_json(t: &ApiToken) -> serde_json::Value {
    json!({
        "id": t.id, "name": t.name, "scope": t.scope, "created_at": t.created_at,
        "expires_at": t.expires_at, "last_used_at": t.last_used_at,
    })
}

/// Revokes the token a request came with (`DELETE /api/auth/token`), recorded like any revocation.
pub async fn revoke_current(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    token_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    conn.transaction::<_, AppError, _>(async |tx| {
        if db::users::revoke_token(tx, token_id, now).await? > 0 {
            let payload = json!({"token_id": token_id});
            super::record_event(tx, actor, now, ("user", Some(user.id)), "token.revoked", payload).await?;
        }
        Ok(())
    })
    .await
}

/// The user a bearer token belongs to, if it is valid now; notes its use at most once a minute.
pub async fn authenticate(
    conn: &mut AsyncPgConnection,
    secret: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<(db::users::ApiToken, User)>> {
    let found = db::users::user_by_token(conn, &super::accounts::secret_hash(secret), now).await?;
    if let Some((t, _)) = &found
        && t.last_used_at.is_none_or(|at| at < now - Duration::minutes(1))
    {
        // The statement repeats the condition for concurrent requests; a failure here only
        // leaves `last_used_at` older.
        let _ = db::users::touch_token(conn, t.id, now).await;
    }
    Ok(found)
}
