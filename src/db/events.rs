//! The append-only, hash-chained event log (SPEC §7). Every state change writes one row here
//! in the same transaction as the change.

use super::prepared::KeepPreparedDsl;
use super::schema::events;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The hash that precedes the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Serialises every append so each row can name its predecessor's hash.
const CHAIN_LOCK: i64 = 0x0048_4453_5f45_5654; // "HDS_EVT"

/// A stored event.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub address: Option<String>,
    pub subject_type: String,
    pub subject_id: Option<i64>,
    pub kind: String,
    pub payload: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// What to record: who did what to which object.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub actor_id: Option<i64>,
    pub address: Option<&'a str>,
    pub subject_type: &'a str,
    pub subject_id: Option<i64>,
    pub kind: &'a str,
    pub payload: Value,
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct Row<'a> {
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    address: Option<&'a str>,
    subject_type: &'a str,
    subject_id: Option<i64>,
    kind: &'a str,
    payload: &'a Value,
    prev_hash: &'a str,
    hash: &'a str,
}

/// JSON with object keys sorted at every level, so the hash does not depend on key order.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> =
                keys.into_iter().map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn chain_hash(
    prev: &str,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    address: Option<&str>,
    subject_type: &str,
    subject_id: Option<i64>,
    kind: &str,
    payload: &Value,
) -> String {
    let mut h = Sha256::new();
    let fields = [
        prev.to_string(),
        at.timestamp_micros().to_string(),
        actor_id.map(|a| a.to_string()).unwrap_or_default(),
        address.unwrap_or_default().to_string(),
        subject_type.to_string(),
        subject_id.map(|a| a.to_string()).unwrap_or_default(),
        kind.to_string(),
        canonical(payload),
    ];
    for f in fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends one event. Must run inside the caller's transaction: the chain lock is held until
/// that transaction ends.
pub async fn append(conn: &mut AsyncPgConnection, at: DateTime<Utc>, event: NewEvent<'_>) -> QueryResult<Event> {
    // PostgreSQL keeps microseconds; hash exactly what is stored.
    let at = DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at);
    // The lock, then the last hash, sent together (pipelined): the server runs them in order,
    // and the read's snapshot is taken once the lock is held (READ COMMITTED takes one per
    // statement), so it sees the latest event.
    let (mut a, mut b) = (&*conn, &*conn);
    let lock = diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
        .bind::<diesel::sql_types::Int8, _>(CHAIN_LOCK)
        .keep_prepared()
        .execute(&mut a);
    let last = async { events::table.select(events::hash).order(events::id.desc()).first(&mut b).await.optional() };
    let (_, last) = tokio::try_join!(biased; lock, last)?;
    let prev = last.unwrap_or_else(|| GENESIS.to_string());
    let hash = chain_hash(
        &prev,
        at,
        event.actor_id,
        event.address,
        event.subject_type,
        event.subject_id,
        event.kind,
        &event.payload,
    );
    diesel::insert_into(events::table)
        .values(Row {
            at,
            actor_id: event.actor_id,
            address: event.address,
            subject_type: event.subject_type,
            subject_id: event.subject_id,
            kind: event.kind,
            payload: &event.payload,
            prev_hash: &prev,
            hash: &hash,
        })
        .returning(Event::as_returning())
        .keep_prepared()
        .get_result(conn)
        .await
}

/// The outcome of checking the whole chain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChainReport {
    /// Events checked.
    pub checked: i64,
    /// The first event whose hash or link does not match, if any.
    pub first_broken: Option<i64>,
}

/// Recomputes every hash in order and reports the first break.
pub async fn verify_chain(conn: &mut AsyncPgConnection) -> QueryResult<ChainReport> {
    let mut prev = GENESIS.to_string();
    let mut after = 0i64;
    let mut checked = 0i64;
    loop {
        let batch: Vec<Event> = events::table
            .filter(events::id.gt(after))
            .order(events::id)
            .limit(5000)
            .select(Event::as_select())
            .load(conn)
            .await?;
        if batch.is_empty() {
            return Ok(ChainReport { checked, first_broken: None });
        }
        for e in batch {
            let expected = chain_hash(
                &prev,
                e.at,
                e.actor_id,
                e.address.as_deref(),
                &e.subject_type,
                e.subject_id,
                &e.kind,
                &e.payload,
            );
            if e.prev_hash != prev || e.hash != expected {
                return Ok(ChainReport { checked, first_broken: Some(e.id) });
            }
            checked += 1;
            after = e.id;
            prev = e.hash;
        }
    }
}

/// A stored result of verifying the chain.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = super::schema::audit_checks)]
pub struct AuditCheck {
    pub id: i64,
    pub checked_at: DateTime<Utc>,
    pub events_checked: i64,
    pub first_broken: Option<i64>,
    pub requested_by: Option<i64>,
}

/// Keeps the result of a verification.
pub async fn record_check(
    conn: &mut AsyncPgConnection,
    report: &ChainReport,
    requested_by: Option<i64>,
    at: DateTime<Utc>,
) -> QueryResult<AuditCheck> {
    use super::schema::audit_checks;
    diesel::insert_into(audit_checks::table)
        .values((
            audit_checks::checked_at.eq(at),
            audit_checks::events_checked.eq(report.checked),
            audit_checks::first_broken.eq(report.first_broken),
            audit_checks::requested_by.eq(requested_by),
        ))
        .returning(AuditCheck::as_returning())
        .get_result(conn)
        .await
}

/// When the scheduler last verified the chain (the end of its last whole round), if ever.
pub async fn last_scheduled_check(conn: &mut AsyncPgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    use super::schema::audit_checks;
    audit_checks::table
        .filter(audit_checks::requested_by.is_null())
        .select(diesel::dsl::max(audit_checks::checked_at))
        .get_result(conn)
        .await
}

/// The latest verification, if the chain was ever verified.
pub async fn last_check(mut conn: &AsyncPgConnection) -> QueryResult<Option<AuditCheck>> {
    use super::schema::audit_checks;
    audit_checks::table
        .select(AuditCheck::as_select())
        .order((audit_checks::checked_at.desc(), audit_checks::id.desc()))
        .first(&mut conn)
        .await
        .optional()
}

/// The latest events, newest first (the admin's audit page).
pub async fn latest(conn: &mut AsyncPgConnection, limit: i64, before: Option<i64>) -> QueryResult<Vec<Event>> {
    let mut q = events::table.select(Event::as_select()).order(events::id.desc()).limit(limit).into_boxed();
    if let Some(b) = before {
        q = q.filter(events::id.lt(b));
    }
    q.load(conn).await
}

/// The events about one object, oldest first (timelines).
pub async fn for_subject(mut conn: &AsyncPgConnection, subject_type: &str, subject_id: i64) -> QueryResult<Vec<Event>> {
    events::table
        .filter(events::subject_type.eq(subject_type).and(events::subject_id.eq(subject_id)))
        .order(events::id)
        .select(Event::as_select())
        .load(&mut conn)
        .await
}

/// The names and roles of the users with these ids (for the audit log).
pub async fn actor_names(conn: &mut AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<(i64, String, String)>> {
    use super::schema::users;
    users::table.filter(users::id.eq_any(ids)).select((users::id, users::name, users::role)).load(conn).await
}

/// The references of the applications with these ids (for the audit log).
pub async fn application_references(
    conn: &mut AsyncPgConnection,
    ids: &[i64],
) -> QueryResult<Vec<(i64, Option<String>, String)>> {
    use super::schema::applications;
    applications::table
        .filter(applications::id.eq_any(ids))
        .select((applications::id, applications::reference, applications::title))
        .load(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_keys_at_every_level() {
        assert_eq!(
            canonical(&json!({"b": 1, "a": {"d": [1, {"z": 1, "y": 2}], "c": "x"}})),
            r#"{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}"#
        );
    }

    #[test]
    fn hash_depends_on_every_field() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_000_000).unwrap();
        let base = chain_hash(GENESIS, at, Some(1), None, "user", Some(2), "created", &json!({}));
        assert_ne!(base, chain_hash(GENESIS, at, Some(1), None, "user", Some(2), "updated", &json!({})));
        assert_ne!(base, chain_hash(GENESIS, at, Some(3), None, "user", Some(2), "created", &json!({})));
        assert_ne!(base, chain_hash(GENESIS, at, Some(1), None, "user", Some(2), "created", &json!({"a": 1})));
    }
}
