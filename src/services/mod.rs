//! One function per command: each opens one transaction, writes the change and its event.

pub mod accounts;
pub mod applications;
pub mod audit;
pub mod cases;
pub mod catalogue;
pub mod command;
pub mod demo;
pub mod enquiries;
pub mod invoices;
pub mod members;
pub mod notifications;
pub mod oidc;
pub mod permits;
pub mod price_lists;
pub mod pricing;
pub mod reminders;
pub mod search;
pub mod statements;
pub mod statistics;
pub mod tokens;
pub mod transfers;
pub mod uploads;
pub mod webhooks;

use crate::db::Pool;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};

/// Who is acting, and from where, for the event log.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The acting user, or `None` for the system or an anonymous visitor.
    pub user_id: Option<i64>,
    /// The client's address.
    pub address: Option<String>,
}

impl Actor {
    /// The service itself (start-up tasks, background jobs).
    pub fn system() -> Actor {
        Actor { user_id: None, address: None }
    }
}

/// The one permission check: 403 unless the user's role has `permission`.
pub fn require(user: &crate::db::users::User, permission: crate::domain::role::Permission) -> AppResult<Role> {
    if user.role.may(permission) { Ok(user.role) } else { Err(AppError::Forbidden("err-role-forbids".into())) }
}

/// The one way an event is recorded: appends `kind` about `subject` (type and id) by `actor` to
/// the hash-chained log, inside the caller's transaction (after the change it records). Events
/// about an application also notify people: see `applications::record`.
pub async fn record_event(
    tx: &mut diesel_async::AsyncPgConnection,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    subject: (&str, Option<i64>),
    kind: &str,
    payload: serde_json::Value,
) -> AppResult<crate::db::events::Event> {
    let event = crate::db::events::NewEvent {
        actor_id: actor.user_id,
        address: actor.address.as_deref(),
        subject_type: subject.0,
        subject_id: subject.1,
        kind,
        payload,
    };
    Ok(crate::db::events::append(tx, now, event).await?)
}

/// Whether the database answers (`GET /health`).
pub async fn healthy(pool: &Pool, url: &str) -> crate::db::Health {
    crate::db::healthy(pool, url).await
}

/// What a failed store of an upload's bytes means to the client: too large (413), a body that
/// stalled (408), or the service's own fault.
pub fn storage_error(e: crate::storage::StorageError) -> AppError {
    use crate::storage::StorageError;
    match e {
        StorageError::TooLarge(_) => AppError::PayloadTooLarge,
        StorageError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            AppError::Status(408, "err-upload-stalled".into())
        }
        other => AppError::Internal(other.to_string()),
    }
}

/// Takes a connection from the pool, mapping failure to 503.
///
/// A request holds one connection at a time (waiting for a second while holding one can wait
/// for ever once every connection is held so). Where a handler makes one call and may then
/// render a page that reads again, it passes `&mut *services::conn(pool).await?` as the call's
/// argument: a temporary, back in the pool at the end of that statement.
pub async fn conn(pool: &Pool) -> AppResult<crate::db::Conn> {
    pool.get().await.map_err(AppError::from)
}

/// A database read with the service's error, so it can be joined (`tokio::try_join!`, which
/// pipelines the reads on one connection) with reads of the services.
pub async fn read<T>(query: impl std::future::Future<Output = diesel::QueryResult<T>>) -> AppResult<T> {
    Ok(query.await?)
}
