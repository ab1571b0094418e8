//! Background work of the service, in every instance: the mail worker drains the outbox every few
//! seconds (all that is due, in batches), and scheduled tasks run every quarter of an hour
//! (interim replies, digests, reminders, transfer expiry, abandoned uploads, the audit chain's
//! verification).
//! Each task is safe to run concurrently in several instances: rows are locked (or claimed with
//! `SKIP LOCKED`) and re-checked before they change; on top of that one round of scheduled tasks
//! runs at a time across all instances (a PostgreSQL advisory lock), and one a period (a round
//! finished less than a period ago is this period's), so none does the work twice.

use crate::config::Config;
use crate::db::Pool;
use crate::mail::Mailer;
use crate::storage::Storage;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// How often the scheduled tasks run.
pub const PERIOD: Duration = Duration::from_secs(15 * 60);
/// How often the mail worker looks for due messages.
pub const MAIL_PERIOD: Duration = Duration::from_secs(5);

/// Starts the mail worker and the scheduler on the current runtime.
pub fn spawn(pool: Pool, mailer: Arc<Mailer>, config: Config, storage: Storage) {
    let mail_pool = pool.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.check().await {
            tracing::warn!("the mail server does not answer ({e}): mail waits in the outbox and is retried");
        }
        let mut tick = tokio::time::interval(MAIL_PERIOD);
        loop {
            tick.tick().await;
            let Ok(mut conn) = mail_pool.get().await else { continue };
            let round = crate::mail::drain(&mut conn, &mailer, Utc::now()).await;
            if round.sent + round.failed > 0 {
                tracing::info!("mail: {} sent, {} failed ({} given up)", round.sent, round.failed, round.dead);
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        loop {
            tick.tick().await;
            run_once(&pool, &storage, &config, Utc::now()).await;
        }
    });
}

/// The advisory lock key held while one instance runs the scheduled tasks.
pub const SCHEDULER_LOCK: i64 = 0x4844_5331; // "HDS1"

/// One round of every scheduled task, unless another instance is running its round right now or
/// ran one this period (returns whether this one ran); failures are logged and retried next round.
pub async fn run_once(pool: &Pool, storage: &Storage, config: &Config, now: DateTime<Utc>) -> bool {
    let Ok(mut conn) = pool.get().await else {
        tracing::warn!("scheduled tasks skipped: the database is not available");
        return false;
    };
    match crate::db::try_advisory_lock(&mut conn, SCHEDULER_LOCK).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!("scheduled tasks skipped: another instance is running them");
            return false;
        }
        Err(e) => {
            tracing::warn!("scheduled tasks skipped: {e}");
            return false;
        }
    }
    // A round another instance finished within this period was this period's: each instance
    // ticks on its own, and without this every instance ran a whole round (the audit chain's
    // full verification among it) each period. A minute's slack for ticks that drift.
    let last = crate::db::events::last_scheduled_check(&mut conn).await.ok().flatten();
    let fresh = last.is_some_and(|at| {
        now - at < chrono::Duration::from_std(PERIOD).unwrap_or_default() - chrono::Duration::minutes(1)
    });
    if fresh {
        tracing::debug!("scheduled tasks skipped: another instance ran them this period");
    } else {
        tasks(&mut conn, storage, config, now).await;
    }
    if let Err(e) = crate::db::advisory_unlock(&mut conn, SCHEDULER_LOCK).await {
        // The lock goes with the session: drop the connection rather than keep it locked.
        tracing::warn!("releasing the scheduler lock: {e}");
        let _ = deadpool::managed::Object::take(conn);
    }
    !fresh
}

async fn tasks(conn: &mut diesel_async::AsyncPgConnection, storage: &Storage, config: &Config, now: DateTime<Utc>) {
    let report = |what: &str, result: crate::error::AppResult<usize>| match result {
        Ok(0) => {}
        Ok(n) => tracing::info!("{what}: {n}"),
        Err(e) => tracing::error!("{what}: {e}"),
    };
    report("interim replies", crate::services::cases::send_interim_replies(conn, now).await);
    report(
        "release reminders",
        crate::services::reminders::release_reminders(conn, now, config.release_reminder_days).await,
    );
    report("deletion reminders", crate::services::reminders::deletion_reminders(conn, now).await);
    report("statement reminders", crate::services::statements::remind(conn, now).await);
    report("digests", crate::services::notifications::queue_digests(conn, now).await);
    report(
        "outbox messages past their retention deleted",
        crate::services::notifications::prune_outbox(conn, now, config.mail_retention_days).await,
    );
    report("expiring transfers", crate::services::transfers::warn_expiring(conn, now).await);
    report("expired transfers", crate::services::transfers::expire(conn, storage, now).await);
    report("abandoned uploads", crate::services::transfers::clean_unfinished_uploads(conn, storage, now).await);
    let verified = crate::services::audit::verify(conn, &crate::services::Actor::system(), now).await;
    report("audit chain verified", verified.map(|c| c.events_checked as usize));
}
