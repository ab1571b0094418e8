//! Resumable uploads of transfer files (issue 25), spoken over tus 1.0 by `web::api::uploads`.
//! A register owner announces a file and its length (and, if it likes, its SHA-256); the file is
//! reserved like any upload and its bytes then arrive in any number of requests, each continuing
//! at the offset the service last acknowledged. A dropped connection keeps every whole chunk that
//! arrived; a restarted service continues from the last recorded offset. The file counts (is
//! listed, can be published and downloaded) only when the last byte is stored and the checksum
//! matches the one announced; until then it is a reservation that nobody else sees.

use super::Actor;
use super::transfers::{complete_reserved, discard, load, require_owner, reserve, upload};
use crate::db::{self, Pool, transfers::TransferFile, uploads::Upload, users::User};
use crate::error::{AppError, AppResult};
use crate::storage::{HashState, Storage};
use chrono::{DateTime, Duration, Utc};
use tokio::io::AsyncRead;

/// How long an upload may rest between requests before it is dropped with its bytes.
pub fn resumable_for() -> Duration {
    Duration::hours(24)
}

/// How long one request holds the right to write; renewed while it streams.
fn lease() -> Duration {
    Duration::seconds(60)
}

/// Plaintext bytes between two checkpoints of a long request (synced and recorded), so that a
/// crash of the service loses at most this much.
pub const CHECKPOINT: u64 = 64 * 1024 * 1024;

/// Where an upload stands.
#[derive(Debug, Clone)]
pub struct Progress {
    pub file_id: i64,
    pub length: u64,
    pub received: u64,
    /// When the upload is dropped unless continued.
    pub expires_at: DateTime<Utc>,
    /// The file, once complete.
    pub file: Option<TransferFile>,
}

impl Progress {
    fn of(upload: &Upload) -> Progress {
        Progress {
            file_id: upload.file_id,
            length: upload.length as u64,
            received: upload.received as u64,
            expires_at: upload.touched_at + resumable_for(),
            file: None,
        }
    }

    fn complete(file: TransferFile, now: DateTime<Utc>) -> Progress {
        let size = file.size as u64;
        Progress { file_id: file.id, length: size, received: size, expires_at: now, file: Some(file) }
    }
}

/// Reserves a file of `length` bytes on transfer `id` for a resumable upload. An empty file is
/// stored and complete at once.
#[allow(clippy::too_many_arguments)]
pub async fn create(
    pool: &Pool,
    storage: &Storage,
    user: &User,
    actor: &Actor,
    id: i64,
    raw_name: &str,
    length: u64,
    expected_sha256: Option<&str>,
    max_bytes: u64,
    now: DateTime<Utc>,
) -> AppResult<Progress> {
    if length > max_bytes {
        return Err(AppError::PayloadTooLarge);
    }
    if length == 0 {
        // Nothing to resume: stored and checked as any upload is.
        let file =
            upload(pool, storage, user, actor, id, raw_name, tokio::io::empty(), 0, expected_sha256, now).await?;
        return Ok(Progress::complete(file, now));
    }
    let mut conn = super::conn(pool).await?;
    let (_, reserved, expected) = reserve(&mut conn, user, id, raw_name, expected_sha256, now).await?;
    let begun = async {
        let state = HashState::default().to_bytes();
        let upload =
            db::uploads::insert(&mut conn, reserved.id, length as i64, &state, expected.as_deref(), now).await?;
        storage.begin_part(&reserved.storage_key).await.map_err(super::storage_error)?;
        Ok::<_, AppError>(upload)
    }
    .await;
    drop(conn);
    match begun {
        Ok(upload) => Ok(Progress::of(&upload)),
        Err(e) => {
            give_up(pool, storage, &reserved).await;
            Err(e)
        }
    }
}

/// An upload in progress that `user` may continue (the transfer's owners; anyone else 403 or
/// 404), with its reserved file.
async fn session(
    conn: &mut diesel_async::AsyncPgConnection,
    user: &User,
    file_id: i64,
) -> AppResult<(Upload, TransferFile, i64)> {
    let (upload, file) = db::uploads::by_file(conn, file_id).await?.ok_or(AppError::NotFound)?;
    let l = load(conn, user, file.transfer_id).await?;
    require_owner(&l)?;
    if !l.state().accepts_uploads() {
        return Err(AppError::Conflict("err-transfer-closed-during-upload".into()));
    }
    Ok((upload, file, l.app.id))
}

/// Where upload `file_id` stands.
pub async fn progress(pool: &Pool, user: &User, file_id: i64) -> AppResult<Progress> {
    let mut conn = super::conn(pool).await?;
    let (upload, _, _) = session(&mut conn, user, file_id).await?;
    Ok(Progress::of(&upload))
}

/// Continues upload `file_id` at `offset` (which must be where it stands: 409 otherwise, or
/// while another request writes) with the bytes of `body`, recording progress every
/// [`CHECKPOINT`] bytes and when the body ends. At the last byte the checksum is compared and the
/// file completed. A body that breaks off keeps its whole chunks.
#[allow(clippy::too_many_arguments)]
pub async fn append<R: AsyncRead + Unpin>(
    pool: &Pool,
    storage: &Storage,
    user: &User,
    actor: &Actor,
    file_id: i64,
    offset: u64,
    body: &mut R,
    now: DateTime<Utc>,
) -> AppResult<Progress> {
    let (upload, file, app_id) = {
        let mut conn = super::conn(pool).await?;
        let (upload, file, app_id) = session(&mut conn, user, file_id).await?;
        if offset != upload.received as u64 {
            return Err(AppError::Conflict("err-upload-offset".into()));
        }
        let leased = db::uploads::lease(&mut conn, file_id, upload.received, now, now + lease()).await?;
        (leased.ok_or_else(|| AppError::Conflict("err-upload-busy".into()))?, file, app_id)
    };
    let renewal = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(20));
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Ok(mut conn) = pool.get().await {
                    let _ = db::uploads::renew(&mut conn, file_id, Utc::now() + lease()).await;
                }
            }
        })
    };
    let written = write(pool, storage, &upload, &file.storage_key, body).await;
    renewal.abort();
    let (received, sha256) = written?;
    let mut progress = Progress::of(&upload);
    progress.received = received;
    progress.expires_at = Utc::now() + resumable_for();
    let Some(sha256) = sha256 else { return Ok(progress) };
    if upload.expected_sha256.as_ref().is_some_and(|e| *e != sha256) {
        give_up(pool, storage, &file).await;
        return Err(AppError::field("sha256", "err-checksum-mismatch"));
    }
    if let Err(e) = storage.finish_part(&file.storage_key).await {
        give_up(pool, storage, &file).await;
        return Err(super::storage_error(e));
    }
    let file = complete_reserved(pool, storage, actor, app_id, &file, received as i64, &sha256, Utc::now()).await?;
    Ok(Progress::complete(file, Utc::now()))
}

/// Streams `body` into the part checkpoint by checkpoint; gives up the lease at the end.
/// Returns the bytes stored and, at the last byte, the checksum.
async fn write<R: AsyncRead + Unpin>(
    pool: &Pool,
    storage: &Storage,
    upload: &Upload,
    key: &str,
    body: &mut R,
) -> AppResult<(u64, Option<String>)> {
    let mut received = upload.received as u64;
    let mut hash = HashState::from_bytes(&upload.hash_state).ok_or_else(|| AppError::Internal("hash state".into()))?;
    loop {
        let appended = storage.append_part(key, upload.length as u64, received, hash.clone(), body, CHECKPOINT).await;
        let appended = match appended {
            Ok(a) => a,
            Err(e) => {
                if let Ok(mut conn) = pool.get().await {
                    let _ = db::uploads::renew(&mut conn, upload.file_id, Utc::now()).await;
                }
                return Err(super::storage_error(e));
            }
        };
        (received, hash) = (appended.received, appended.hash);
        let finished = appended.body_ended || appended.sha256.is_some();
        let mut conn = super::conn(pool).await?;
        let now = Utc::now();
        let holding = (!finished).then(|| now + lease());
        db::uploads::progress(&mut conn, upload.file_id, received as i64, &hash.to_bytes(), now, holding).await?;
        if let Some(e) = appended.failure {
            tracing::info!(file = upload.file_id, received, "a resumable upload broke off: {e}");
        }
        if finished {
            return Ok((received, appended.sha256));
        }
    }
}

/// Gives up upload `file_id`: its reservation and bytes are removed.
pub async fn terminate(pool: &Pool, storage: &Storage, user: &User, file_id: i64) -> AppResult<()> {
    let mut conn = super::conn(pool).await?;
    let (_, file, _) = session(&mut conn, user, file_id).await?;
    drop(conn);
    storage.discard_part(&file.storage_key).await.map_err(super::storage_error)?;
    discard(pool, storage, &file).await;
    Ok(())
}

/// Drops a resumable upload that failed: its part, its reservation and any bytes under it.
async fn give_up(pool: &Pool, storage: &Storage, file: &TransferFile) {
    let _ = storage.discard_part(&file.storage_key).await;
    discard(pool, storage, file).await;
}
