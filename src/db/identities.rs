//! Identities from OpenID Connect providers linked to accounts, one per (issuer, subject).

use super::schema::identities;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A linked identity.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = identities)]
pub struct Identity {
    pub id: i64,
    pub user_id: i64,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: DateTime<Utc>,
}

pub async fn find(conn: &mut AsyncPgConnection, issuer: &str, subject: &str) -> QueryResult<Option<Identity>> {
    identities::table
        .filter(identities::issuer.eq(issuer).and(identities::subject.eq(subject)))
        .select(Identity::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn of_user(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<Vec<Identity>> {
    identities::table
        .filter(identities::user_id.eq(user_id))
        .order(identities::id)
        .select(Identity::as_select())
        .load(conn)
        .await
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    provider: &str,
    issuer: &str,
    subject: &str,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<Identity> {
    diesel::insert_into(identities::table)
        .values((
            identities::user_id.eq(user_id),
            identities::provider.eq(provider),
            identities::issuer.eq(issuer),
            identities::subject.eq(subject),
            identities::email.eq(email),
            identities::created_at.eq(now),
            identities::last_login_at.eq(now),
        ))
        .returning(Identity::as_returning())
        .get_result(conn)
        .await
}

pub async fn touch(
    conn: &mut AsyncPgConnection,
    id: i64,
    email: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(identities::table.find(id))
        .set((identities::last_login_at.eq(now), identities::email.eq(email)))
        .execute(conn)
        .await
}

// ---- first logins waiting for a mailed code ----

use super::schema::identity_confirmations as ic;

/// A first federated login waiting for the person to prove an e-mail address.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ic)]
pub struct Confirmation {
    pub id: i64,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub code_hash: Option<String>,
    pub codes_sent: i32,
    pub attempts: i32,
    pub next: String,
    pub expires_at: DateTime<Utc>,
}

/// What a new confirmation records.
#[derive(Debug, Insertable)]
#[diesel(table_name = ic)]
pub struct NewConfirmation<'a> {
    pub token_hash: &'a str,
    pub provider: &'a str,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub next: &'a str,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_confirmation(conn: &mut AsyncPgConnection, new: &NewConfirmation<'_>) -> QueryResult<i64> {
    diesel::insert_into(ic::table).values(new).returning(ic::id).get_result(conn).await
}

/// The confirmation behind a browser's token (locked, for the code check), if it still works.
pub async fn confirmation(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Confirmation>> {
    ic::table
        .filter(ic::token_hash.eq(token_hash).and(ic::expires_at.gt(now)))
        .select(Confirmation::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// A new code (its hash) for the address, counting the codes sent; the code works until `expires_at`.
pub async fn set_code(
    conn: &mut AsyncPgConnection,
    id: i64,
    email: &str,
    code_hash: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(ic::table.find(id))
        .set((
            ic::email.eq(email),
            ic::code_hash.eq(code_hash),
            ic::codes_sent.eq(ic::codes_sent + 1),
            ic::attempts.eq(0),
            ic::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
}

/// Counts a wrong code.
pub async fn count_attempt(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::update(ic::table.find(id)).set(ic::attempts.eq(ic::attempts + 1)).execute(conn).await
}

/// Ends a confirmation (used, or void) and any that have expired.
pub async fn delete_confirmation(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::delete(ic::table.filter(ic::id.eq(id).or(ic::expires_at.lt(now)))).execute(conn).await
}
