//! In-app notices and the mail outbox.

use super::prepared::KeepPreparedDsl;
use super::schema::{application_members, notifications, outbox, releases, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

/// A person to notify.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct Recipient {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: crate::domain::role::Role,
    pub language: String,
    pub mail_preference: String,
}

/// One in-app notice.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: i64,
    pub user_id: i64,
    pub event_id: Option<i64>,
    pub application_id: Option<i64>,
    pub kind: String,
    pub params: Value,
    pub urgent: bool,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
    pub mail: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification<'a> {
    pub user_id: i64,
    pub event_id: Option<i64>,
    pub application_id: Option<i64>,
    pub kind: &'a str,
    pub params: &'a Value,
    pub urgent: bool,
    pub created_at: DateTime<Utc>,
    pub mail: &'a str,
}

/// One message in the outbox.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: i64,
    pub user_id: Option<i64>,
    pub recipient: String,
    pub language: String,
    pub template: String,
    pub context: Value,
    pub state: crate::domain::outbox::OutboxState,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub message_id: Option<String>,
    /// `mail` or `webhook`.
    pub channel: String,
    /// The webhook endpoint of a delivery.
    pub endpoint_id: Option<i64>,
    /// A webhook receiver's last HTTP status and the start of its answer.
    pub response_status: Option<i32>,
    pub response_excerpt: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewOutboxMessage<'a> {
    pub user_id: Option<i64>,
    pub recipient: &'a str,
    pub language: &'a str,
    pub template: &'a str,
    pub context: &'a Value,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

pub async fn users_by_id(mut conn: &AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<Recipient>> {
    users::table
        .filter(users::id.eq_any(ids))
        .filter(users::active.eq(true))
        .select(Recipient::as_select())
        .load(&mut conn)
        .await
}

/// Active users of a role (e.g. every case officer).
pub async fn users_with_role(mut conn: &AsyncPgConnection, role: &str) -> QueryResult<Vec<Recipient>> {
    users::table
        .filter(users::role.eq(role))
        .filter(users::active.eq(true))
        .select(Recipient::as_select())
        .load(&mut conn)
        .await
}

/// Active register owners of the organisations that own the given releases.
pub async fn owners_of_releases(mut conn: &AsyncPgConnection, release_ids: &[i64]) -> QueryResult<Vec<Recipient>> {
    let organisations =
        releases::table.filter(releases::id.eq_any(release_ids)).select(releases::owner_organisation_id.nullable());
    users::table
        .filter(users::role.eq("register_owner"))
        .filter(users::active.eq(true))
        .filter(users::organisation_id.eq_any(organisations))
        .select(Recipient::as_select())
        .load(&mut conn)
        .await
}

/// Active register owners (staff) of an organisation: a linkage extract's receiving holder.
pub async fn staff_of(mut conn: &AsyncPgConnection, organisation_id: i64) -> QueryResult<Vec<Recipient>> {
    users::table
        .filter(users::role.eq("register_owner"))
        .filter(users::active.eq(true))
        .filter(users::organisation_id.eq(organisation_id))
        .select(Recipient::as_select())
        .load(&mut conn)
        .await
}

/// Project members of an application who have an active account.
pub async fn members_with_accounts(mut conn: &AsyncPgConnection, application_id: i64) -> QueryResult<Vec<Recipient>> {
    let emails = application_members::table
        .filter(application_members::application_id.eq(application_id))
        .select(application_members::email);
    users::table
        .filter(users::email.eq_any(emails))
        .filter(users::email_verified_at.is_not_null())
        .filter(users::active.eq(true))
        .select(Recipient::as_select())
        .load(&mut conn)
        .await
}

pub async fn enqueue(mut conn: &AsyncPgConnection, new: &NewOutboxMessage<'_>) -> QueryResult<i64> {
    diesel::insert_into(outbox::table).values(new).returning(outbox::id).get_result(&mut conn).await
}

/// Notices in one statement (none: no statement); one already there for its user and event stays.
pub async fn insert_notifications(mut conn: &AsyncPgConnection, new: &[NewNotification<'_>]) -> QueryResult<usize> {
    if new.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(notifications::table)
        .values(new)
        .on_conflict((notifications::user_id, notifications::event_id))
        .do_nothing()
        .keep_prepared()
        .execute(&mut conn)
        .await
}

/// Messages queued in one statement, in the order given (none: no statement).
pub async fn enqueue_all(mut conn: &AsyncPgConnection, new: &[NewOutboxMessage<'_>]) -> QueryResult<usize> {
    if new.is_empty() {
        return Ok(0);
    }
    diesel::insert_into(outbox::table).values(new).keep_prepared().execute(&mut conn).await
}

pub async fn unread_count(conn: &mut AsyncPgConnection, user_id: i64) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
        .await
}

/// The newest notices of a user.
pub async fn of_user(conn: &mut AsyncPgConnection, user_id: i64, limit: i64) -> QueryResult<Vec<Notification>> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .order(notifications::id.desc())
        .limit(limit)
        .select(Notification::as_select())
        .load(conn)
        .await
}

/// Whether notice `id` belongs to the user.
pub async fn belongs_to(conn: &mut AsyncPgConnection, user_id: i64, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        notifications::table.filter(notifications::id.eq(id)).filter(notifications::user_id.eq(user_id)),
    ))
    .get_result(conn)
    .await
}

/// Marks one notice (`Some(id)`) or all of a user's notices read; only the user's own.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    id: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let mine = notifications::table.filter(notifications::user_id.eq(user_id)).filter(notifications::read_at.is_null());
    match id {
        Some(id) => {
            diesel::update(mine.filter(notifications::id.eq(id)))
                .set(notifications::read_at.eq(now))
                .keep_prepared()
                .execute(conn)
                .await
        }
        None => diesel::update(mine).set(notifications::read_at.eq(now)).keep_prepared().execute(conn).await,
    }
}

pub async fn set_mail_preference(conn: &mut AsyncPgConnection, user_id: i64, preference: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(user_id)).set(users::mail_preference.eq(preference)).execute(conn).await
}

/// Claims the message due earliest (then the oldest), locked until the caller's transaction ends;
/// rows another worker holds are skipped, so no message is sent twice. The order is the index
/// `outbox_due`'s, so the claim reads only due rows, however many were sent before or wait for later.
pub async fn claim_due(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<Option<OutboxMessage>> {
    outbox::table
        .filter(outbox::state.eq("pending"))
        .filter(outbox::next_attempt_at.le(now))
        .order((outbox::next_attempt_at, outbox::id))
        .limit(1)
        .for_update()
        .skip_locked()
        .select(OutboxMessage::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn mark_sent(
    conn: &mut AsyncPgConnection,
    id: i64,
    message_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::state.eq("sent"),
            outbox::sent_at.eq(now),
            outbox::message_id.eq(message_id),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .keep_prepared()
        .execute(conn)
        .await
}

/// Records a failed attempt: tried again at `next` or, with `dead`, given up.
pub async fn mark_failed(
    conn: &mut AsyncPgConnection,
    id: i64,
    error: &str,
    next: DateTime<Utc>,
    dead: bool,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::state.eq(if dead { "dead" } else { "pending" }),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::last_error.eq(error),
            outbox::next_attempt_at.eq(next),
        ))
        .keep_prepared()
        .execute(conn)
        .await
}

/// Puts a dead message back in the queue (an admin's retry).
pub async fn retry(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id).filter(outbox::state.eq("dead")))
        .set((outbox::state.eq("pending"), outbox::attempts.eq(0), outbox::next_attempt_at.eq(now)))
        .execute(conn)
        .await
}

/// The newest outbox messages, optionally of one state.
pub async fn outbox_list(
    conn: &mut AsyncPgConnection,
    state: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<OutboxMessage>> {
    let mut query = outbox::table.order(outbox::id.desc()).limit(limit).select(OutboxMessage::as_select()).into_boxed();
    if let Some(state) = state {
        query = query.filter(outbox::state.eq(state.to_string()));
    }
    query.load(conn).await
}

/// Deletes the messages created before `before` that are no longer pending (sent, or given up),
/// oldest first, a slice of the primary key at a time: a round with nothing old to delete reads
/// one slice. A message still pending is left for its next attempt. Returns how many went.
pub async fn prune_outbox(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<usize> {
    const SLICE: i64 = 1000;
    let (mut after, mut deleted) = (0i64, 0usize);
    loop {
        let slice: Vec<(i64, DateTime<Utc>, String)> = outbox::table
            .filter(outbox::id.gt(after))
            .order(outbox::id)
            .limit(SLICE)
            .select((outbox::id, outbox::created_at, outbox::state))
            .load(conn)
            .await?;
        let old: Vec<i64> =
            slice.iter().filter(|(_, at, state)| *at < before && state != "pending").map(|(id, ..)| *id).collect();
        if !old.is_empty() {
            deleted += diesel::delete(outbox::table.filter(outbox::id.eq_any(&old))).execute(conn).await?;
        }
        // Ids grow with time: a slice that reaches a message not yet old ends the old ones.
        match slice.last() {
            Some((id, at, _)) if *at < before && slice.len() as i64 == SLICE => after = *id,
            _ => return Ok(deleted),
        }
    }
}

/// Messages per outbox state.
pub async fn outbox_counts(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, i64)>> {
    outbox::table.group_by(outbox::state).select((outbox::state, diesel::dsl::count_star())).load(conn).await
}

/// Users whose daily digest is due: notices waiting and no digest since `since`.
pub async fn digest_due(conn: &mut AsyncPgConnection, since: DateTime<Utc>) -> QueryResult<Vec<i64>> {
    let waiting = notifications::table.filter(notifications::mail.eq("digest")).select(notifications::user_id);
    users::table
        .filter(users::id.eq_any(waiting))
        .filter(users::last_digest_at.is_null().or(users::last_digest_at.lt(since)))
        .select(users::id)
        .load(conn)
        .await
}

/// Locks a user's waiting digest notices and marks them digested; returns them.
pub async fn take_digest(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<Notification>> {
    diesel::update(users::table.find(user_id)).set(users::last_digest_at.eq(now)).execute(conn).await?;
    let taken: Vec<Notification> = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::mail.eq("digest"))
        .order(notifications::id)
        .for_update()
        .select(Notification::as_select())
        .load(conn)
        .await?;
    let ids: Vec<i64> = taken.iter().map(|n| n.id).collect();
    diesel::update(notifications::table.filter(notifications::id.eq_any(&ids)))
        .set(notifications::mail.eq("digested"))
        .execute(conn)
        .await?;
    Ok(taken)
}

/// The times of the messages from `template` queued for `user_id` since `since`, oldest first.
pub async fn queued_since(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    template: &str,
    since: DateTime<Utc>,
) -> QueryResult<Vec<DateTime<Utc>>> {
    outbox::table
        .filter(outbox::user_id.eq(user_id).and(outbox::template.eq(template)).and(outbox::created_at.gt(since)))
        .order(outbox::created_at)
        .select(outbox::created_at)
        .load(conn)
        .await
}

/// Marks every unread notice created before `before` read (the demo's history is old news).
pub async fn mark_read_before(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        notifications::table.filter(notifications::read_at.is_null()).filter(notifications::created_at.lt(before)),
    )
    .set(notifications::read_at.eq(now))
    .execute(conn)
    .await
}
