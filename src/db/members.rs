//! Invitations of the project's members, the sources' data-use terms with their versions, and
//! who accepted which terms on which case.

use super::schema::{member_invitations, source_terms, terms_acceptances};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// An invitation of a member named on the form.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = member_invitations)]
pub struct Invitation {
    pub application_id: i64,
    pub email: String,
    pub invited_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub user_id: Option<i64>,
}

/// One version of a source's terms.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = source_terms)]
pub struct Terms {
    pub id: i64,
    pub data_source_id: i64,
    pub version: i32,
    pub text_nb: String,
    pub text_en: String,
    pub published_at: DateTime<Utc>,
}

/// Invites `email` to case `application_id` with a link (its hash); `false` when the address was
/// invited before (it is not invited again).
pub async fn invite(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    email: &str,
    token_hash: &str,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::insert_into(member_invitations::table)
        .values((
            member_invitations::application_id.eq(application_id),
            member_invitations::email.eq(email),
            member_invitations::token_hash.eq(token_hash),
            member_invitations::expires_at.eq(expires),
            member_invitations::invited_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// The invitations of a case, in the order sent.
pub async fn invitations_of(conn: &mut AsyncPgConnection, application_id: i64) -> QueryResult<Vec<Invitation>> {
    member_invitations::table
        .filter(member_invitations::application_id.eq(application_id))
        .order((member_invitations::invited_at, member_invitations::email))
        .select(Invitation::as_select())
        .load(conn)
        .await
}

/// The unexpired, unaccepted invitation with this link's hash.
pub async fn invitation_by_token(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Invitation>> {
    member_invitations::table
        .filter(member_invitations::token_hash.eq(token_hash))
        .filter(member_invitations::expires_at.gt(now))
        .filter(member_invitations::accepted_at.is_null())
        .select(Invitation::as_select())
        .first(conn)
        .await
        .optional()
}

/// Marks the invitation with this link's hash accepted by `user_id` (the link works once).
pub async fn accept(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    user_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Option<Invitation>> {
    diesel::update(
        member_invitations::table
            .filter(member_invitations::token_hash.eq(token_hash))
            .filter(member_invitations::expires_at.gt(now))
            .filter(member_invitations::accepted_at.is_null()),
    )
    .set((
        member_invitations::accepted_at.eq(now),
        member_invitations::user_id.eq(user_id),
        member_invitations::token_hash.eq(None::<String>),
    ))
    .returning(Invitation::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// The current (newest) terms of each of `sources`.
pub async fn current_terms(mut conn: &AsyncPgConnection, sources: &[i64]) -> QueryResult<Vec<Terms>> {
    source_terms::table
        .filter(source_terms::data_source_id.eq_any(sources))
        .distinct_on(source_terms::data_source_id)
        .order((source_terms::data_source_id, source_terms::version.desc()))
        .select(Terms::as_select())
        .load(&mut conn)
        .await
}

/// Publishes a new version of a source's terms.
pub async fn publish_terms(
    conn: &mut AsyncPgConnection,
    source: i64,
    text_nb: &str,
    text_en: &str,
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<Terms> {
    let latest: Option<i32> = source_terms::table
        .filter(source_terms::data_source_id.eq(source))
        .select(diesel::dsl::max(source_terms::version))
        .first(conn)
        .await?;
    diesel::insert_into(source_terms::table)
        .values((
            source_terms::data_source_id.eq(source),
            source_terms::version.eq(latest.unwrap_or(0) + 1),
            source_terms::text_nb.eq(text_nb),
            source_terms::text_en.eq(text_en),
            source_terms::published_at.eq(now),
            source_terms::published_by.eq(by),
        ))
        .returning(Terms::as_returning())
        .get_result(conn)
        .await
}

/// Records acceptances (again accepting the same version changes nothing).
pub async fn accept_terms(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    user_id: i64,
    terms_ids: &[i64],
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let rows: Vec<_> = terms_ids
        .iter()
        .map(|t| {
            (
                terms_acceptances::application_id.eq(application_id),
                terms_acceptances::user_id.eq(user_id),
                terms_acceptances::terms_id.eq(*t),
                terms_acceptances::accepted_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(terms_acceptances::table).values(&rows).on_conflict_do_nothing().execute(conn).await
}

/// Every acceptance on a case: (user, terms row, when).
pub async fn acceptances_of(
    conn: &mut AsyncPgConnection,
    application_id: i64,
) -> QueryResult<Vec<(i64, i64, DateTime<Utc>)>> {
    terms_acceptances::table
        .filter(terms_acceptances::application_id.eq(application_id))
        .order(terms_acceptances::accepted_at)
        .select((terms_acceptances::user_id, terms_acceptances::terms_id, terms_acceptances::accepted_at))
        .load(conn)
        .await
}

/// The terms rows one person accepted on a case.
pub async fn accepted_by(mut conn: &AsyncPgConnection, application_id: i64, user_id: i64) -> QueryResult<Vec<i64>> {
    terms_acceptances::table
        .filter(terms_acceptances::application_id.eq(application_id))
        .filter(terms_acceptances::user_id.eq(user_id))
        .select(terms_acceptances::terms_id)
        .load(&mut conn)
        .await
}
