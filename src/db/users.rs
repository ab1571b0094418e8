//! Users, sessions, API tokens and login attempts.

use super::prepared::KeepPreparedDsl;
use super::schema::{api_tokens, login_attempts, organisations, sessions, users};
use crate::domain::notice::BELL_COUNTS_TO;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored account.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub role: crate::domain::role::Role,
    pub organisation_id: Option<i64>,
    pub language: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// When the address was confirmed (admin-made accounts: at creation).
    pub email_verified_at: Option<DateTime<Utc>>,
}

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: Option<&'a str>,
    pub role: &'a str,
    pub organisation_id: Option<i64>,
    pub language: &'a str,
}

/// The editable fields of an account.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges<'a> {
    pub name: &'a str,
    pub role: &'a str,
    pub organisation_id: Option<Option<i64>>,
    pub language: &'a str,
    pub active: bool,
}

pub async fn insert(conn: &mut AsyncPgConnection, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table).values(new).returning(User::as_returning()).get_result(conn).await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<User>> {
    users::table.find(id).select(User::as_select()).first(conn).await.optional()
}

/// The name of user `id`: the officer a case is assigned to, on the case's page.
pub async fn name_of(mut conn: &AsyncPgConnection, id: i64) -> QueryResult<Option<String>> {
    users::table.find(id).select(users::name).first(&mut conn).await.optional()
}

pub async fn by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email)).select(User::as_select()).first(conn).await.optional()
}

/// All users with their organisation's name, for the admin list.
pub async fn list(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(User, Option<String>)>> {
    users::table
        .left_join(organisations::table)
        .order(users::email)
        .select((User::as_select(), organisations::name.nullable()))
        .load(conn)
        .await
}

/// Applies changes if the row still has `version`; returns the new row, or `None` when stale.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    version: i32,
    changes: &UserChanges<'_>,
    now: DateTime<Utc>,
) -> QueryResult<Option<User>> {
    diesel::update(users::table.filter(users::id.eq(id).and(users::version.eq(version))))
        .set((changes, users::version.eq(users::version + 1), users::updated_at.eq(now)))
        .returning(User::as_returning())
        .get_result(conn)
        .await
        .optional()
}

pub async fn set_password(conn: &mut AsyncPgConnection, id: i64, hash: &str, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now), users::version.eq(users::version + 1)))
        .execute(conn)
        .await
}

/// Removes the password (an account whose address someone else had registered is reclaimed by
/// the person who proved it).
pub async fn clear_password(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(None::<String>),
            users::updated_at.eq(now),
            users::version.eq(users::version + 1),
        ))
        .execute(conn)
        .await
}

pub async fn set_language(conn: &mut AsyncPgConnection, id: i64, language: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id)).set(users::language.eq(language)).execute(conn).await
}

pub async fn count_admins(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    users::table.filter(users::role.eq("admin").and(users::active.eq(true))).count().get_result(conn).await
}

// Sessions

pub async fn create_session(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    user_id: i64,
    expires_at: DateTime<Utc>,
    address: Option<&str>,
) -> QueryResult<usize> {
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash),
            sessions::user_id.eq(user_id),
            sessions::expires_at.eq(expires_at),
            sessions::address.eq(address),
        ))
        .execute(conn)
        .await
}

/// A live session: its user, when it expires, and the user's unread notices.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: User,
    pub expires_at: DateTime<Utc>,
    /// Counted up to [`BELL_COUNTS_TO`].
    pub unread: i64,
}

/// The user of a live session, its expiry and the user's unread notices (the bell in the page
/// header) counted up to [`BELL_COUNTS_TO`], in one statement: every page of a logged-in user
/// needs them.
pub async fn session_with_unread(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<SessionRow>> {
    // Diesel's query builder has no LIMIT inside a count; the constant is a number, not input.
    let unread = diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
        "(SELECT count(*) FROM (SELECT FROM notifications n WHERE n.user_id = users.id AND n.read_at IS NULL \
         LIMIT {BELL_COUNTS_TO}) AS counted)"
    ));
    let row: Option<(User, DateTime<Utc>, i64)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash).and(sessions::expires_at.gt(now)).and(users::active.eq(true)))
        .select((User::as_select(), sessions::expires_at, unread))
        .limit(1)
        .keep_prepared()
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(|(user, expires_at, unread)| SessionRow { user, expires_at, unread }))
}

pub async fn delete_session(conn: &mut AsyncPgConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash))).execute(conn).await
}

pub async fn delete_sessions_of(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(conn).await
}

// API tokens

/// A stored API token (only its hash).
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    #[serde(skip)]
    pub token_hash: String,
    pub user_id: i64,
    pub name: String,
    pub scope: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn create_token(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    user_id: i64,
    name: &str,
    scope: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<ApiToken> {
    diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::token_hash.eq(token_hash),
            api_tokens::user_id.eq(user_id),
            api_tokens::name.eq(name),
            api_tokens::scope.eq(scope),
            api_tokens::expires_at.eq(expires_at),
        ))
        .returning(ApiToken::as_returning())
        .get_result(conn)
        .await
}

/// The token and its active user, when the token is neither expired nor revoked.
pub async fn user_by_token(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<(ApiToken, User)>> {
    api_tokens::table
        .inner_join(users::table)
        .filter(
            api_tokens::token_hash
                .eq(token_hash)
                .and(api_tokens::expires_at.gt(now))
                .and(api_tokens::revoked_at.is_null())
                .and(users::active.eq(true)),
        )
        .select((ApiToken::as_select(), User::as_select()))
        .first(conn)
        .await
        .optional()
}

pub async fn revoke_token(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(api_tokens::table.find(id).filter(api_tokens::revoked_at.is_null()))
        .set(api_tokens::revoked_at.eq(now))
        .execute(conn)
        .await
}

/// A user's tokens that are neither revoked nor expired, newest first.
pub async fn live_tokens_of(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(
            api_tokens::user_id.eq(user_id).and(api_tokens::revoked_at.is_null()).and(api_tokens::expires_at.gt(now)),
        )
        .order(api_tokens::id.desc())
        .select(ApiToken::as_select())
        .load(conn)
        .await
}

/// Revokes token `id` only when it belongs to `user_id` and is still live.
pub async fn revoke_own_token(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table.find(id).filter(api_tokens::user_id.eq(user_id).and(api_tokens::revoked_at.is_null())),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)
    .await
}

/// Notes when a token was last used (at most once a minute, to spare writes).
pub async fn touch_token(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table.find(id).filter(
            api_tokens::last_used_at.is_null().or(api_tokens::last_used_at.lt(now - chrono::Duration::minutes(1))),
        ),
    )
    .set(api_tokens::last_used_at.eq(now))
    .execute(conn)
    .await
}

pub async fn revoke_tokens_of(conn: &mut AsyncPgConnection, user_id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(api_tokens::table.filter(api_tokens::user_id.eq(user_id).and(api_tokens::revoked_at.is_null())))
        .set(api_tokens::revoked_at.eq(now))
        .execute(conn)
        .await
}

// Login attempts

pub async fn record_attempt(
    conn: &mut AsyncPgConnection,
    email: &str,
    address: &str,
    succeeded: bool,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(login_attempts::table)
        .values((
            login_attempts::email.eq(email),
            login_attempts::address.eq(address),
            login_attempts::succeeded.eq(succeeded),
            login_attempts::at.eq(now),
        ))
        .execute(conn)
        .await
}

/// Failed attempts since `since` for the account and for the address.
pub async fn recent_failures(
    conn: &mut AsyncPgConnection,
    email: &str,
    address: &str,
    since: DateTime<Utc>,
) -> QueryResult<(i64, i64)> {
    let by_email = login_attempts::table
        .filter(
            login_attempts::email.eq(email).and(login_attempts::at.gt(since)).and(login_attempts::succeeded.eq(false)),
        )
        .count()
        .get_result(conn)
        .await?;
    let by_address = login_attempts::table
        .filter(
            login_attempts::address
                .eq(address)
                .and(login_attempts::at.gt(since))
                .and(login_attempts::succeeded.eq(false)),
        )
        .count()
        .get_result(conn)
        .await?;
    Ok((by_email, by_address))
}

/// Stores a new confirmation token (its hash) for a user's address, valid until `expires`.
pub async fn set_verify_token(
    conn: &mut AsyncPgConnection,
    id: i64,
    token_hash: &str,
    expires: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::verify_token_hash.eq(token_hash), users::verify_expires_at.eq(expires)))
        .execute(conn)
        .await
}

/// Confirms the address whose unexpired token has this hash; returns the user.
pub async fn verify_email(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<User>> {
    diesel::update(
        users::table
            .find(user_id)
            .filter(users::verify_token_hash.eq(token_hash))
            .filter(users::verify_expires_at.gt(now)),
    )
    .set((
        users::email_verified_at.eq(now),
        users::verify_token_hash.eq(None::<String>),
        users::verify_expires_at.eq(None::<DateTime<Utc>>),
    ))
    .returning(User::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Whether a confirmation token (by its hash) is valid now for some account.
pub async fn verify_token_exists(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        users::table.filter(users::verify_token_hash.eq(token_hash)).filter(users::verify_expires_at.gt(now)),
    ))
    .get_result(conn)
    .await
}

/// Marks an address confirmed (accounts an admin makes).
pub async fn mark_verified(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(users::table.find(id)).set(users::email_verified_at.eq(now)).execute(conn).await
}

// ---- re-registration of an address never confirmed ----

use super::schema::reregistrations as rr;

/// A registration waiting for the address's owner to open the mailed link.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rr)]
pub struct Reregistration {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub password_hash: String,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_reregistration(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    name: &str,
    password_hash: &str,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(rr::table)
        .values((
            rr::user_id.eq(user_id),
            rr::name.eq(name),
            rr::password_hash.eq(password_hash),
            rr::token_hash.eq(token_hash),
            rr::expires_at.eq(expires_at),
            rr::created_at.eq(now),
        ))
        .execute(conn)
        .await
}

/// Takes the re-registration behind a link (it works once), if it has not expired.
pub async fn take_reregistration(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Reregistration>> {
    diesel::delete(rr::table.filter(rr::token_hash.eq(token_hash).and(rr::expires_at.gt(now))))
        .returning(Reregistration::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Ends every re-registration of an account (its owner took it over).
pub async fn drop_reregistrations(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<usize> {
    diesel::delete(rr::table.filter(rr::user_id.eq(user_id))).execute(conn).await
}

/// A reclaimed account: the new owner's name and password, the address confirmed.
pub async fn take_over(
    conn: &mut AsyncPgConnection,
    id: i64,
    name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<User> {
    diesel::update(users::table.find(id))
        .set((
            users::name.eq(name),
            users::password_hash.eq(password_hash),
            users::email_verified_at.eq(now),
            users::updated_at.eq(now),
            users::version.eq(users::version + 1),
        ))
        .returning(User::as_returning())
        .get_result(conn)
        .await
}
