//! The one write path of a case. Every command that changes an application, its releases, its
//! transfers, its bill or its estimates runs through [`on_case`]: one transaction that locks the
//! application row (always first, so commands on one case queue instead of deadlocking), checks
//! that the case is still what the caller read (its version, its state), and then runs the
//! command's step: apply the domain's transition to the locked rows, persist, and record the
//! event with `applications::record` (which appends to the hash-chained log and queues the
//! notices and webhooks it causes). Nothing is written when any part fails.

use crate::db::{self, applications::Application};
use crate::domain::case::State;
use crate::error::{AppError, AppResult};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use std::future::Future;

/// What the caller read of the case before the command; a difference is a conflict (409).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// The version the caller edited or decided on (`None`: no check).
    pub version: Option<i32>,
    /// The state the command was checked against (`None`: no check).
    pub state: Option<State>,
}

impl Seen {
    /// No expectations: the step checks what it needs on the locked row.
    pub const ANY: Seen = Seen { version: None, state: None };

    /// The case exactly as read: same version (and so the same state).
    pub fn as_read(app: &Application) -> Seen {
        Seen { version: Some(app.version), state: Some(app.state) }
    }
}

/// A command's step on the locked case: `(transaction, the locked application) → result`. Any
/// `async move |tx, app| { … }` closure is one.
/// (The trait names the future, so that it can be required to be `Send`.)
pub trait Step<'r, T>:
    AsyncFnOnce(&'r mut AsyncPgConnection, Application) -> AppResult<T>
    + FnOnce(&'r mut AsyncPgConnection, Application) -> <Self as Step<'r, T>>::Fut
{
    type Fut: Future<Output = AppResult<T>>;
}

impl<'r, T, F, Fut> Step<'r, T> for F
where
    F: AsyncFnOnce(&'r mut AsyncPgConnection, Application) -> AppResult<T>
        + FnOnce(&'r mut AsyncPgConnection, Application) -> Fut,
    Fut: Future<Output = AppResult<T>>,
{
    type Fut = Fut;
}

/// Runs `step` on application `id` in one transaction, the application locked and checked
/// against `seen` first.
pub async fn on_case<T, F>(conn: &mut AsyncPgConnection, id: i64, seen: Seen, step: F) -> AppResult<T>
where
    T: Send,
    for<'r> F: AsyncFnOnce(&'r mut AsyncPgConnection, Application) -> AppResult<T> + Step<'r, T, Fut: Send> + Send,
{
    conn.transaction::<_, AppError, _>(async move |tx| {
        let current = db::applications::lock(tx, id).await?.ok_or(AppError::NotFound)?;
        if seen.version.is_some_and(|v| v != current.version) || seen.state.is_some_and(|s| s != current.state) {
            return Err(AppError::Conflict("err-case-changed".into()));
        }
        step(tx, current).await
    })
    .await
}
