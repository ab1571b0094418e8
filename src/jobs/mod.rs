//! Background work of the service: scheduled tasks that run in every instance (each task is
//! safe to run concurrently: rows are locked and re-checked before they change).

use crate::db::Pool;
use crate::storage::Storage;
use std::time::Duration;

/// How often the scheduled tasks run.
pub const PERIOD: Duration = Duration::from_secs(15 * 60);

/// Starts the scheduler on the current runtime.
pub fn spawn(pool: Pool, storage: Storage) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        loop {
            tick.tick().await;
            run_once(&pool, &storage).await;
        }
    });
}

/// One round of every scheduled task; failures are logged and retried next round.
pub async fn run_once(pool: &Pool, storage: &Storage) {
    let Ok(mut conn) = pool.get().await else {
        tracing::warn!("scheduled tasks skipped: the database is not available");
        return;
    };
    match crate::services::cases::send_interim_replies(&mut conn, chrono::Utc::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("sent {n} interim replies"),
        Err(e) => tracing::error!("interim replies: {e}"),
    }
    let now = chrono::Utc::now();
    match crate::services::transfers::expire(&mut conn, storage, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("expired {n} transfers and deleted their files"),
        Err(e) => tracing::error!("transfer expiry: {e}"),
    }
    let before = now - crate::services::transfers::upload_grace();
    match crate::services::transfers::clean_unfinished_uploads(&mut conn, storage, before).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("removed {n} abandoned uploads"),
        Err(e) => tracing::error!("abandoned uploads: {e}"),
    }
}
