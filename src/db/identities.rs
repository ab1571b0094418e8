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
