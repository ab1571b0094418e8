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
            "checked_at": crate::domain::deadlines::oslo_time(c.checked_at, false),
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

/// Who and what the audit log's events name, for people to read: the actors' and the users'
/// names and roles, and the applications' references and titles.
#[derive(Debug, Default)]
pub struct Names {
    pub users: std::collections::HashMap<i64, (String, String)>,
    pub applications: std::collections::HashMap<i64, (Option<String>, String)>,
}

/// Reads the names the events refer to.
pub async fn names(conn: &mut AsyncPgConnection, events: &[crate::db::events::Event]) -> AppResult<Names> {
    let mut user_ids: Vec<i64> = events.iter().filter_map(|e| e.actor_id).collect();
    user_ids.extend(events.iter().filter(|e| e.subject_type == "user").filter_map(|e| e.subject_id));
    user_ids.sort_unstable();
    user_ids.dedup();
    let mut app_ids: Vec<i64> =
        events.iter().filter(|e| e.subject_type == "application").filter_map(|e| e.subject_id).collect();
    app_ids.sort_unstable();
    app_ids.dedup();
    let users = db::events::actor_names(conn, &user_ids).await?;
    let apps = db::events::application_references(conn, &app_ids).await?;
    Ok(Names {
        users: users.into_iter().map(|(id, name, role)| (id, (name, role))).collect(),
        applications: apps.into_iter().map(|(id, reference, title)| (id, (reference, title))).collect(),
    })
}
