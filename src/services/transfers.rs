//! Secure file transfers (SPEC §9): created by a release's register owner, files streamed in
//! encrypted, published to the recipients, downloads receipted; the release (and, when every
//! approved release is, the application) becomes delivered once a recipient has downloaded every
//! file; expiry and revocation delete the stored bytes and keep metadata and receipts.

use super::Actor;
use super::applications::{self as apps, Access, record};
use super::cases;
use super::command::{Seen, on_case};
use crate::db::{
    self, Pool,
    applications::Application,
    cases::Release,
    transfers::{Receipt, Transfer, TransferChanges, TransferFile},
    users::User,
};
use crate::domain::access::{self, Audience, TransferFacts};
use crate::domain::case::State;
use crate::domain::files;
use crate::domain::role::Role;
use crate::domain::transfer::{self, ExpiryError, TransferRefusal, TransferState};
use crate::error::{AppError, AppResult};
use crate::storage::{Storage, StorageError};
use chrono::{DateTime, Duration, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use tokio::io::AsyncRead;

/// How a user stands to a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferRole {
    /// Staff of the sending organisation (the release's owner, or for linked data the holder that
    /// linked them): uploads, publishes, revokes, sees receipts.
    Owner,
    /// The applicant and project members (or, for linkage, the receiving organisation's staff).
    Recipient,
    /// A case officer: sees the transfer and its receipts, neither uploads nor downloads.
    Officer,
}

/// A transfer with its release and application, loaded for `user`.
pub struct Loaded {
    pub transfer: Transfer,
    pub release: Release,
    pub app: Application,
    pub role: TransferRole,
}

impl Loaded {
    pub(super) fn state(&self) -> TransferState {
        self.transfer.state
    }
}

fn is_staff_of(user: &User, organisation_id: i64) -> bool {
    user.active && transfer::is_staff_of(user.role, user.organisation_id, organisation_id)
}

/// A transfer refusal as the service's error (409, or 410 when the files are gone).
pub fn refused(r: TransferRefusal) -> AppError {
    match r {
        TransferRefusal::Conflict(m) => AppError::Conflict(m.into()),
        TransferRefusal::Gone(m) => AppError::Status(410, m.into()),
    }
}

/// Loads a transfer if `user` has a part in it; otherwise 404 (never someone else's transfer).
pub async fn load(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<Loaded> {
    let transfer = db::transfers::by_id(conn, id).await?.ok_or(AppError::NotFound)?;
    let release = db::cases::release(conn, transfer.release_id).await?.ok_or(AppError::NotFound)?;
    let app = db::applications::by_id(conn, transfer.application_id).await?.ok_or(AppError::NotFound)?;
    let role = if is_staff_of(user, transfer.sender_organisation_id) {
        Some(TransferRole::Owner)
    } else if let Some(recipient) = transfer.recipient_organisation_id {
        if is_staff_of(user, recipient) {
            Some(TransferRole::Recipient)
        } else if user.role == Role::CaseOfficer {
            Some(TransferRole::Officer)
        } else {
            None
        }
    } else {
        match apps::load(conn, user, app.id).await {
            Ok((_, Access::Applicant | Access::Member)) => Some(TransferRole::Recipient),
            Ok((_, Access::CaseOfficer)) => Some(TransferRole::Officer),
            Ok((_, Access::RegisterOwner)) | Err(AppError::NotFound) => None,
            Err(e) => return Err(e),
        }
    };
    let role = role.ok_or(AppError::NotFound)?;
    Ok(Loaded { transfer, release, app, role })
}

/// The applicant and the members see and download a source's files only once they have
/// accepted its current data-use terms on the case (`domain::terms`); a linkage extract goes to
/// a data holder, not to the project, and needs none.
pub async fn require_terms(conn: &mut AsyncPgConnection, user: &User, l: &Loaded) -> AppResult<()> {
    if l.role != TransferRole::Recipient || l.transfer.recipient_organisation_id.is_some() {
        return Ok(());
    }
    if super::members::may_receive(conn, l.app.id, user.id, l.release.data_source_id).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden("err-terms-first".into()))
    }
}

pub(super) fn require_owner(l: &Loaded) -> AppResult<()> {
    if l.role != TransferRole::Owner {
        return Err(AppError::Forbidden("err-transfer-owner-only".into()));
    }
    Ok(())
}

/// What creating a transfer takes.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewTransfer {
    /// When the files are deleted (default: 30 days from now).
    pub expires_at: Option<DateTime<Utc>>,
    /// For linkage between data holders: the organisation that receives the extract.
    pub recipient_organisation_id: Option<i64>,
    /// For linked data: the linkage extract (a transfer id) the receiving holder downloaded and
    /// linked; the new transfer, sent by that holder, goes to the researcher.
    pub linked_from: Option<i64>,
}

fn deliverable_release(release: &Release, app: &Application) -> AppResult<()> {
    if !release.state.granted() {
        return Err(AppError::Conflict("err-transfer-release-not-approved".into()));
    }
    if !matches!(app.state, State::Approved | State::PartiallyApproved | State::Delivered) {
        return Err(AppError::Conflict("err-release-after-decision".into()));
    }
    Ok(())
}

/// Creates an open transfer for an approved release: by its register owner, to the researcher
/// or (linkage) to another data holder; or, with `linked_from`, by the holder that received a
/// linkage extract, with the linked data for the researcher.
pub async fn create(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    release_id: i64,
    input: NewTransfer,
    now: DateTime<Utc>,
) -> AppResult<Transfer> {
    let (release, app, route) = match input.linked_from {
        Some(extract_id) => linked_data_route(conn, user, release_id, extract_id, &input).await?,
        None => {
            let (release, app, _) = cases::load_release(conn, user, release_id).await?;
            if !is_staff_of(user, release.owner_organisation_id) {
                return Err(AppError::Forbidden("err-release-owner-delivers".into()));
            }
            if let Some(org) = input.recipient_organisation_id {
                let exists = db::catalogue::organisations(conn).await?.iter().any(|o| o.id == org);
                if !exists || Some(org) == user.organisation_id {
                    return Err(AppError::field("recipient_organisation_id", "err-recipient-organisation"));
                }
            }
            let route = db::transfers::Route {
                sender_organisation_id: release.owner_organisation_id,
                recipient_organisation_id: input.recipient_organisation_id,
                linked_from: None,
            };
            (release, app, route)
        }
    };
    deliverable_release(&release, &app)?;
    let expires_at = transfer::expiry(input.expires_at, now).map_err(|e| match e {
        ExpiryError::InThePast => AppError::field("expires_at", "err-expiry-past"),
        ExpiryError::TooFar => AppError::field("expires_at", "err-expiry-too-far"),
    })?;
    let (actor, by) = (actor.clone(), user.id);
    on_case(conn, app.id, Seen::ANY, async move |tx, app| {
        let release = db::cases::lock_release(tx, release_id).await?.ok_or(AppError::NotFound)?;
        deliverable_release(&release, &app)?;
        // The extract is read again under its lock: a revocation or its expiry since it was
        // checked leaves nothing to link (the revocation is the point of revoking).
        if let Some(extract) = route.linked_from {
            let extract = db::transfers::lock(tx, extract).await?.ok_or(AppError::NotFound)?;
            transfer::check_link(extract.state, true).map_err(refused)?;
        }
        let t = db::transfers::insert(tx, release_id, app.id, &route, by, expires_at, now).await?;
        let mut payload = json!({"transfer_id": t.id, "release_id": release_id, "expires_at": expires_at});
        if let Some(org) = t.recipient_organisation_id {
            payload["recipient_organisation_id"] = json!(org);
        }
        if let Some(extract) = t.linked_from {
            payload["linked_from"] = json!(extract);
        }
        record(tx, &actor, now, app.id, "transfer.created", payload).await?;
        Ok(t)
    })
    .await
}

/// The route of linked data: `user` is staff of the holder that received linkage extract
/// `extract_id` of release `release_id` and downloaded it in full; the linked data go to the
/// researcher. Anyone else gets 404, as for a transfer they have no part in.
async fn linked_data_route(
    conn: &mut AsyncPgConnection,
    user: &User,
    release_id: i64,
    extract_id: i64,
    input: &NewTransfer,
) -> AppResult<(Release, Application, db::transfers::Route)> {
    let extract = db::transfers::by_id(conn, extract_id).await?.ok_or(AppError::NotFound)?;
    let Some(receiver) = extract.recipient_organisation_id.filter(|org| is_staff_of(user, *org)) else {
        return Err(AppError::NotFound);
    };
    if extract.release_id != release_id {
        return Err(AppError::field("linked_from", "err-linked-from-other-release"));
    }
    if input.recipient_organisation_id.is_some() {
        return Err(AppError::field("recipient_organisation_id", "err-linked-data-to-researcher"));
    }
    transfer::check_link(extract.state, true).map_err(refused)?;
    let release = db::cases::release(conn, release_id).await?.ok_or(AppError::NotFound)?;
    let app = db::applications::by_id(conn, release.application_id).await?.ok_or(AppError::NotFound)?;
    let route = db::transfers::Route {
        sender_organisation_id: receiver,
        recipient_organisation_id: None,
        linked_from: Some(extract_id),
    };
    Ok((release, app, route))
}

/// Streams one file into an open transfer (replacing a file of the same name). The row is
/// reserved first and marked complete only when the bytes are stored and the checksum (if the
/// client sent one) matches; on any failure nothing is kept.
///
/// No database connection (and no lock) is held while the body streams in: a connection is taken
/// for the checks and the reservation, returned, and taken again for the short final transaction.
/// Meanwhile a heartbeat touches the reservation so that no instance's clean-up takes it for an
/// abandoned one.
#[allow(clippy::too_many_arguments)]
pub async fn upload<R: AsyncRead + Unpin>(
    pool: &Pool,
    storage: &Storage,
    user: &User,
    actor: &Actor,
    id: i64,
    raw_name: &str,
    body: R,
    max_bytes: u64,
    expected_sha256: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<TransferFile> {
    let (l, reserved, expected) = {
        let mut conn = super::conn(pool).await?;
        reserve(&mut conn, user, id, raw_name, expected_sha256, now).await?
    };
    let stored = match stream_alive(pool, storage, &reserved, body, max_bytes).await {
        Ok(s) => s,
        Err(e) => {
            discard(pool, storage, &reserved).await;
            return Err(super::storage_error(e));
        }
    };
    if expected.as_ref().is_some_and(|e| *e != stored.sha256) {
        discard(pool, storage, &reserved).await;
        return Err(AppError::field("sha256", "err-checksum-mismatch"));
    }
    complete_reserved(pool, storage, actor, l.app.id, &reserved, stored.size as i64, &stored.sha256, now).await
}

/// Reserves a file named `raw_name` on transfer `id` for an upload by `user`: only the transfer's
/// owners, only while it is open, only under a safe name and with a well-formed checksum (if the
/// client announced one, returned parsed). Shared by the one-request and resumable uploads.
pub(super) async fn reserve(
    conn: &mut AsyncPgConnection,
    user: &User,
    id: i64,
    raw_name: &str,
    expected_sha256: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<(Loaded, TransferFile, Option<String>)> {
    let l = load(conn, user, id).await?;
    require_owner(&l)?;
    if !l.state().accepts_uploads() {
        return Err(AppError::Conflict("err-transfer-files-while-open".into()));
    }
    let name = files::sanitise_name(raw_name).ok_or_else(|| AppError::field("name", "err-file-name"))?;
    let expected = match expected_sha256 {
        None => None,
        Some(text) => {
            Some(transfer::parse_checksum(text).ok_or_else(|| AppError::field("sha256", "err-checksum-format"))?)
        }
    };
    let reserved = db::transfers::reserve_file(conn, id, &name, &Storage::new_key(), user.id, now).await?;
    Ok((l, reserved, expected))
}

/// Makes a reserved file whose bytes are stored complete, in one transaction with its event
/// (replacing a complete file of the same name, whose bytes are then deleted); on any failure
/// the reservation and its bytes are dropped. Shared by the one-request and resumable uploads.
#[allow(clippy::too_many_arguments)]
pub(super) async fn complete_reserved(
    pool: &Pool,
    storage: &Storage,
    actor: &Actor,
    app_id: i64,
    reserved: &TransferFile,
    size: i64,
    sha256: &str,
    now: DateTime<Utc>,
) -> AppResult<TransferFile> {
    let (actor, id, file_id) = (actor.clone(), reserved.transfer_id, reserved.id);
    let (sha256, file_name) = (sha256.to_string(), reserved.name.clone());
    let result = async {
        let mut conn = super::conn(pool).await?;
        on_case(&mut conn, app_id, Seen::ANY, async move |tx, _| {
            let current = db::transfers::lock(tx, id).await?.ok_or(AppError::NotFound)?;
            if !current.state.accepts_uploads() {
                return Err(AppError::Conflict("err-transfer-closed-during-upload".into()));
            }
            let replaced = db::transfers::complete_file_named(tx, id, &file_name).await?;
            if let Some(old) = &replaced {
                db::transfers::delete_file(tx, old.id).await?;
            }
            let file = db::transfers::complete_file(tx, file_id, size, &sha256, now).await?;
            db::uploads::delete(tx, file_id).await?;
            let payload = json!({"transfer_id": id, "name": file.name, "size": file.size, "sha256": file.sha256, "replaced": replaced.is_some()});
            record(tx, &actor, now, app_id, "transfer.file_uploaded", payload).await?;
            Ok((file, replaced))
        })
        .await
    }
    .await;
    match result {
        Ok((file, replaced)) => {
            if let Some(old) = replaced {
                let _ = storage.delete(&old.storage_key).await;
            }
            Ok(file)
        }
        Err(e) => {
            discard(pool, storage, reserved).await;
            Err(e)
        }
    }
}

/// How often an upload in progress touches its reservation.
pub const UPLOAD_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(20);

/// How long a reservation may go without a heartbeat before the clean-up removes it.
pub fn upload_stale_after() -> Duration {
    Duration::minutes(2)
}

/// Streams the body into storage under the reservation's key while a heartbeat keeps the
/// reservation alive (each beat takes a pooled connection for one short update).
async fn stream_alive<R: AsyncRead + Unpin>(
    pool: &Pool,
    storage: &Storage,
    reserved: &TransferFile,
    body: R,
    max_bytes: u64,
) -> Result<crate::storage::StoredObject, StorageError> {
    let (pool, file_id) = (pool.clone(), reserved.id);
    let beat = tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPLOAD_HEARTBEAT);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Ok(mut conn) = pool.get().await {
                let _ = db::transfers::heartbeat(&mut conn, file_id, Utc::now()).await;
            }
        }
    });
    let stored = storage.put_as(&reserved.storage_key, body, max_bytes).await;
    beat.abort();
    stored
}

/// Drops a reservation and any bytes stored under it.
pub(super) async fn discard(pool: &Pool, storage: &Storage, reserved: &TransferFile) {
    let _ = storage.delete(&reserved.storage_key).await;
    if let Ok(mut conn) = super::conn(pool).await {
        let _ = db::transfers::delete_file(&mut conn, reserved.id).await;
    }
}

/// Makes an open transfer with at least one file available to its recipients.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Transfer> {
    let l = load(conn, user, id).await?;
    require_owner(&l)?;
    let (actor, app_id) = (actor.clone(), l.app.id);
    on_case(conn, app_id, Seen::ANY, async move |tx, _| {
        let current = db::transfers::lock(tx, id).await?.ok_or(AppError::NotFound)?;
        let state = current.state;
        let files = db::transfers::files_of(tx, id).await?;
        let complete = files.iter().filter(|f| f.complete).count();
        transfer::check_publish(state, complete, files.len() - complete).map_err(refused)?;
        let changes = TransferChanges {
            state: Some(TransferState::Available.code().into()),
            published_at: Some(now),
            ..TransferChanges::default()
        };
        let t = db::transfers::update(tx, id, &changes, now).await?;
        let mut payload = json!({"transfer_id": id, "release_id": t.release_id, "files": complete});
        if let Some(org) = t.recipient_organisation_id {
            // A linkage extract: its recipients are that organisation's staff, not the applicant.
            payload["recipient_organisation_id"] = json!(org);
        }
        record(tx, &actor, now, app_id, "transfer.published", payload).await?;
        Ok(t)
    })
    .await
}

/// Revokes a transfer: no more downloads, and the stored bytes are deleted.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    storage: &Storage,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Transfer> {
    let l = load(conn, user, id).await?;
    require_owner(&l)?;
    let (actor, app_id, by) = (actor.clone(), l.app.id, user.id);
    let t = on_case(conn, app_id, Seen::ANY, async move |tx, _| {
        let current = db::transfers::lock(tx, id).await?.ok_or(AppError::NotFound)?;
        let state = current.state;
        transfer::check_revoke(state).map_err(refused)?;
        let changes = TransferChanges {
            state: Some(TransferState::Revoked.code().into()),
            revoked_at: Some(now),
            revoked_by: Some(by),
            ..TransferChanges::default()
        };
        let t = db::transfers::update(tx, id, &changes, now).await?;
        let payload = json!({"transfer_id": id, "release_id": t.release_id, "from": current.state});
        record(tx, &actor, now, app_id, "transfer.revoked", payload).await?;
        Ok(t)
    })
    .await?;
    purge_bytes(conn, storage, id, now).await?;
    Ok(t)
}

/// Deletes the stored bytes of a transfer's files and records that they are gone (after the
/// delete succeeded, so an interrupted purge is finished by the next round of the job).
async fn purge_bytes(conn: &mut AsyncPgConnection, storage: &Storage, id: i64, now: DateTime<Utc>) -> AppResult<()> {
    for f in db::transfers::files_of(conn, id).await? {
        if f.bytes_deleted_at.is_none() {
            storage.delete(&f.storage_key).await.map_err(super::storage_error)?;
        }
    }
    db::transfers::mark_bytes_deleted(conn, id, now).await?;
    Ok(())
}

/// Finds a file for download by a recipient of a published transfer.
pub async fn open_download(
    conn: &mut AsyncPgConnection,
    user: &User,
    id: i64,
    raw_name: &str,
) -> AppResult<(Loaded, TransferFile)> {
    let l = load(conn, user, id).await?;
    if l.role != TransferRole::Recipient {
        return Err(AppError::Forbidden("err-transfer-recipients-download".into()));
    }
    transfer::check_download(l.state()).map_err(refused)?;
    require_terms(conn, user, &l).await?;
    let name = files::sanitise_name(raw_name).ok_or(AppError::NotFound)?;
    let file = db::transfers::complete_file_named(conn, id, &name).await?.ok_or(AppError::NotFound)?;
    Ok((l, file))
}

/// Records a completed download as a receipt; once a recipient has downloaded every file, the
/// transfer is `downloaded` and its release delivered (the application too when it was the last).
#[allow(clippy::too_many_arguments)]
pub async fn record_download(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    user_id: i64,
    transfer_id: i64,
    file_id: i64,
    bytes: u64,
    sha256: &str,
    vat_rate_bp: u32,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let t = db::transfers::by_id(conn, transfer_id).await?.ok_or(AppError::NotFound)?;
    let (actor, sha256) = (actor.clone(), sha256.to_string());
    // Lock order as in every case command: application (by the runner), release, transfer.
    on_case(conn, t.application_id, Seen::ANY, async move |tx, app| {
        let release = db::cases::lock_release(tx, t.release_id).await?.ok_or(AppError::NotFound)?;
        let current = db::transfers::lock(tx, transfer_id).await?.ok_or(AppError::NotFound)?;
        let receipt =
            db::transfers::insert_receipt(tx, file_id, user_id, now, bytes as i64, &sha256, actor.address.as_deref())
                .await?;
        let files = db::transfers::files_of(tx, transfer_id).await?;
        let name = files.iter().find(|f| f.id == file_id).map(|f| f.name.clone()).unwrap_or_default();
        let payload = json!({"transfer_id": transfer_id, "release_id": release.id, "name": name, "bytes": bytes, "sha256": sha256, "receipt_id": receipt.id});
        record(tx, &actor, now, app.id, "transfer.downloaded", payload).await?;
        let mut state = current.state;
        let mut just_received = false;
        if state == TransferState::Available {
            let downloaded = db::transfers::downloaded_file_ids(tx, transfer_id).await?;
            let status: Vec<(i64, bool)> =
                files.iter().filter(|f| f.complete).map(|f| (f.id, downloaded.contains(&f.id))).collect();
            if transfer::all_downloaded(&status) {
                let changes = TransferChanges {
                    state: Some(TransferState::Downloaded.code().into()),
                    downloaded_at: Some(now),
                    ..TransferChanges::default()
                };
                state = db::transfers::update(tx, transfer_id, &changes, now).await?.state;
                just_received = true;
            }
        }
        if state != TransferState::Downloaded {
            return Ok(());
        }
        match (just_received, current.recipient_organisation_id, current.linked_from) {
            // A linkage extract received in full: the receiving holder's downloads are its
            // receipt, and the sending release counts as delivered. The case waits for the
            // linked data.
            (true, Some(receiver), _) => {
                let payload = json!({"transfer_id": transfer_id, "release_id": release.id, "recipient_organisation_id": receiver});
                record(tx, &actor, now, app.id, "linkage.received", payload).await?;
            }
            (true, None, Some(extract)) => {
                let payload = json!({"transfer_id": transfer_id, "release_id": release.id, "linked_from": extract});
                record(tx, &actor, now, app.id, "linkage.delivered", payload).await?;
            }
            _ => {}
        }
        // The delivery is the register owner's who made the transfer (for linked data, the
        // release was delivered when its extract was received). Not while a revised price
        // estimate waits for the applicant (user payment): the receipt stands, and the delivery
        // is then recorded by the next complete download.
        if db::billing::has_pending_estimate(tx, app.id).await? {
            return Ok(());
        }
        let owner = crate::domain::release::Person {
            id: current.created_by,
            role: Role::RegisterOwner,
            organisation_id: Some(release.owner_organisation_id),
        };
        let delivery = crate::domain::release::deliver(&cases::release_facts(&release), app.state, owner);
        if let Ok(transition) = delivery
            && current.linked_from.is_none()
        {
            db::cases::deliver_release(tx, release.id, None, current.created_by, now).await?;
            let payload = json!({"release_id": release.id, "transfer_id": transfer_id});
            record(tx, &actor, now, app.id, transition.event, payload).await?;
        }
        cases::finish_if_all_delivered(tx, &actor, &app, vat_rate_bp, now).await?;
        Ok(())
    })
    .await
}

/// Expires every transfer past its expiry date: state `expired`, stored bytes deleted,
/// metadata and receipts kept. Also finishes purges an earlier round could not complete.
pub async fn expire(conn: &mut AsyncPgConnection, storage: &Storage, now: DateTime<Utc>) -> AppResult<usize> {
    let mut expired = 0;
    for id in db::transfers::due_to_expire(conn, now).await? {
        let done = conn
            .transaction::<_, AppError, _>(async move |tx| {
                let Some(current) = db::transfers::lock(tx, id).await? else { return Ok(false) };
                let state = current.state;
                if !transfer::is_due_to_expire(state, current.expires_at, now) {
                    return Ok(false);
                }
                let changes = TransferChanges {
                    state: Some(TransferState::Expired.code().into()),
                    expired_at: Some(now),
                    ..TransferChanges::default()
                };
                db::transfers::update(tx, id, &changes, now).await?;
                let payload = json!({"transfer_id": id, "release_id": current.release_id, "from": current.state});
                record(tx, &Actor::system(), now, current.application_id, "transfer.expired", payload).await?;
                Ok(true)
            })
            .await?;
        if done {
            purge_bytes(conn, storage, id, now).await?;
            expired += 1;
        }
    }
    for id in db::transfers::final_with_bytes(conn).await? {
        purge_bytes(conn, storage, id, now).await?;
    }
    Ok(expired)
}

/// Days before expiry when the recipients are told to download (`transfer.expiring`).
pub const EXPIRY_WARNING_DAYS: i64 = 3;

/// Records `transfer.expiring` once for each published transfer that expires within
/// [`EXPIRY_WARNING_DAYS`]; the notifications tell its recipients (the researcher's side, or a
/// linkage extract's receiving holder).
pub async fn warn_expiring(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let mut warned = 0;
    for id in db::transfers::due_for_expiry_warning(conn, now + Duration::days(EXPIRY_WARNING_DAYS)).await? {
        let done = conn
            .transaction::<_, AppError, _>(async move |tx| {
                let Some(t) = db::transfers::lock(tx, id).await? else { return Ok(false) };
                let published = t.state.downloadable();
                if t.expiry_warned_at.is_some() || !published || t.expires_at <= now {
                    return Ok(false);
                }
                db::transfers::mark_expiry_warned(tx, id, now).await?;
                let mut payload = json!({"transfer_id": id, "release_id": t.release_id, "expires_at": t.expires_at});
                if let Some(org) = t.recipient_organisation_id {
                    payload["recipient_organisation_id"] = json!(org);
                }
                record(tx, &Actor::system(), now, t.application_id, "transfer.expiring", payload).await?;
                Ok(true)
            })
            .await?;
        warned += usize::from(done);
    }
    Ok(warned)
}

/// Removes unfinished uploads (rows and any bytes) whose heartbeat stopped before `now` minus
/// [`upload_stale_after`]: what a crash or a dropped connection left behind; and resumable
/// uploads nobody continued for [`super::uploads::resumable_for`]. Run at start-up and
/// by the scheduled job, in every instance; an upload streaming into any instance keeps beating.
pub async fn clean_unfinished_uploads(
    conn: &mut AsyncPgConnection,
    storage: &Storage,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let unfinished = db::transfers::incomplete_before(conn, now - upload_stale_after()).await?;
    let mut cleaned = 0;
    for f in &unfinished {
        storage.delete(&f.storage_key).await.map_err(super::storage_error)?;
        db::transfers::delete_file(conn, f.id).await?;
        cleaned += 1;
    }
    for f in &db::uploads::abandoned(conn, now - super::uploads::resumable_for()).await? {
        storage.discard_part(&f.storage_key).await.map_err(super::storage_error)?;
        db::transfers::delete_file(conn, f.id).await?;
        cleaned += 1;
    }
    Ok(cleaned)
}

/// A transfer with its complete files, as a list shows it.
pub struct TransferView {
    pub transfer: Transfer,
    pub files: Vec<TransferFile>,
}

/// The visibility facts of a transfer.
pub fn facts_of(t: &Transfer) -> TransferFacts {
    TransferFacts {
        published: t.published_at.is_some(),
        owner_organisation_id: t.sender_organisation_id,
        recipient_organisation_id: t.recipient_organisation_id,
    }
}

/// The events of a case that `who` may see, given every transfer of the case (the rule is
/// `domain::access::sees_event`).
pub fn visible_events(
    events: Vec<crate::db::events::Event>,
    who: Audience,
    transfers: &[Transfer],
) -> Vec<crate::db::events::Event> {
    events
        .into_iter()
        .filter(|e| {
            let transfer =
                e.payload["transfer_id"].as_i64().and_then(|id| transfers.iter().find(|t| t.id == id)).map(facts_of);
            access::sees_event(who, &e.kind, transfer)
        })
        .collect()
}

/// The transfers of an application that `who` sees (`domain::access::sees_transfer`), with
/// their complete files.
pub async fn of_application(
    conn: &AsyncPgConnection,
    application_id: i64,
    who: Audience,
) -> AppResult<Vec<TransferView>> {
    let transfers = db::transfers::of_application(conn, application_id).await?;
    visible_with_files(conn, &transfers, who).await
}

/// Those of `transfers` (every transfer of a case) that `who` sees, with their complete files:
/// for callers that have read them already.
pub async fn visible_with_files(
    conn: &AsyncPgConnection,
    transfers: &[Transfer],
    who: Audience,
) -> AppResult<Vec<TransferView>> {
    let visible: Vec<&Transfer> = transfers.iter().filter(|t| access::sees_transfer(who, facts_of(t))).collect();
    let ids: Vec<i64> = visible.iter().map(|t| t.id).collect();
    // Every visible transfer's files in one statement.
    let files = if ids.is_empty() { vec![] } else { db::transfers::complete_files_of(conn, &ids).await? };
    Ok(visible
        .into_iter()
        .map(|t| TransferView {
            transfer: t.clone(),
            files: files.iter().filter(|f| f.transfer_id == t.id).cloned().collect(),
        })
        .collect())
}

/// A download receipt as read: the receipt, the file's name, and the downloader's name and e-mail.
pub type ReceiptRow = (Receipt, String, String, String);

/// A transfer's files (complete or not) and, for everyone but recipients, its receipts.
pub struct Detail {
    pub files: Vec<TransferFile>,
    pub receipts: Vec<ReceiptRow>,
    /// For a linkage extract: the transfers of linked data made from it.
    pub linked: Vec<Transfer>,
}

/// Reads the files and receipts of a transfer loaded with [`load`].
pub async fn detail(conn: &mut AsyncPgConnection, l: &Loaded) -> AppResult<Detail> {
    let files = db::transfers::files_of(conn, l.transfer.id).await?;
    let receipts = if l.role == TransferRole::Recipient {
        vec![]
    } else {
        db::transfers::receipts_of(conn, l.transfer.id).await?
    };
    let linked = if l.transfer.recipient_organisation_id.is_some() {
        db::transfers::linked_from(conn, l.transfer.id).await?
    } else {
        vec![]
    };
    Ok(Detail { files, receipts, linked })
}

/// The receipts of each transfer of an application that `who` sees.
pub async fn receipts_of_application(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    who: Audience,
) -> AppResult<Vec<(i64, Vec<ReceiptRow>)>> {
    let mut out = vec![];
    for t in of_application(conn, application_id, who).await? {
        out.push((t.transfer.id, db::transfers::receipts_of(conn, t.transfer.id).await?));
    }
    Ok(out)
}
