//! The audit log's own check: the hash chain of events is verified by the scheduler every round
//! and by an admin on demand; each result is kept, and pages show the last one.

use super::Actor;
use crate::db::{self, events::AuditCheck};
use crate::error::AppResult;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

/// Verifies the whole chain now and keeps the result (`actor` is the admin who asked, or the
/// system for the scheduler). A break is logged as an error.
pub async fn verify(conn: &mut AsyncPgConnection, actor: &Actor, now: DateTime<Utc>) -> AppResult<AuditCheck> {
    let report = db::events::verify_chain(conn).await?;
    if let Some(id) = report.first_broken {
        tracing::error!(event = id, checked = report.checked, "the audit log's event chain is broken");
    }
    Ok(db::events::record_check(conn, &report, actor.user_id, now).await?)
}

/// The last verification's result, as pages show it: `{checked_at, checked, first_broken}` or
/// `null` when the chain has not been verified yet.
pub async fn last(conn: &AsyncPgConnection) -> AppResult<serde_json::Value> {
    Ok(match db::events::last_check(conn).await? {
        Some(c) => serde_json::json!({
            "checked_at": c.checked_at.format("%d.%m.%Y %H:%M").to_string(),
            "checked": c.events_checked,
            "first_broken": c.first_broken,
        }),
        None => serde_json::Value::Null,
    })
}

/// The newest `limit` events, those before event `before` when given.
pub async fn latest(
    conn: &mut AsyncPgConnection,
    limit: i64,
    before: Option<i64>,
) -> AppResult<Vec<crate::db::events::Event>> {
    Ok(db::events::latest(conn, limit, before).await?)
}
