//! Transfers, their files and the receipts of downloads.

use super::schema::{transfer_files, transfer_receipts, transfers, users};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored transfer (filoverføring).
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = transfers)]
pub struct Transfer {
    pub id: i64,
    pub release_id: i64,
    pub application_id: i64,
    pub recipient_organisation_id: Option<i64>,
    pub created_by: i64,
    pub state: crate::domain::transfer::TransferState,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub downloaded_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<i64>,
    pub expiry_warned_at: Option<DateTime<Utc>>,
    pub version: i32,
    /// The organisation that sends it: the release's owner, or for linked data the holder
    /// that received the linkage extract.
    pub sender_organisation_id: i64,
    /// For linked data: the linkage extract it was made from.
    pub linked_from: Option<i64>,
}

/// A file of a transfer.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = transfer_files)]
pub struct TransferFile {
    pub id: i64,
    pub transfer_id: i64,
    pub name: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub storage_key: String,
    pub complete: bool,
    pub uploaded_by: i64,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub bytes_deleted_at: Option<DateTime<Utc>>,
}

/// A receipt: one completed download.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = transfer_receipts)]
pub struct Receipt {
    pub id: i64,
    pub transfer_file_id: i64,
    pub user_id: i64,
    pub at: DateTime<Utc>,
    pub bytes: i64,
    pub sha256: String,
    pub address: Option<String>,
}

/// Who sends a new transfer to whom.
pub struct Route {
    pub sender_organisation_id: i64,
    /// A linkage extract's receiving organisation (`None`: the researcher).
    pub recipient_organisation_id: Option<i64>,
    /// For linked data: the extract it was made from.
    pub linked_from: Option<i64>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    release_id: i64,
    application_id: i64,
    route: &Route,
    created_by: i64,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Transfer> {
    diesel::insert_into(transfers::table)
        .values((
            transfers::release_id.eq(release_id),
            transfers::application_id.eq(application_id),
            transfers::sender_organisation_id.eq(route.sender_organisation_id),
            transfers::recipient_organisation_id.eq(route.recipient_organisation_id),
            transfers::linked_from.eq(route.linked_from),
            transfers::created_by.eq(created_by),
            transfers::expires_at.eq(expires_at),
            transfers::created_at.eq(now),
            transfers::updated_at.eq(now),
        ))
        .returning(Transfer::as_returning())
        .get_result(conn)
        .await
}

/// The transfers of linked data made from linkage extract `extract_id`.
pub async fn linked_from(conn: &mut AsyncPgConnection, extract_id: i64) -> QueryResult<Vec<Transfer>> {
    transfers::table
        .filter(transfers::linked_from.eq(extract_id))
        .order(transfers::id)
        .select(Transfer::as_select())
        .load(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Transfer>> {
    transfers::table.find(id).select(Transfer::as_select()).first(conn).await.optional()
}

pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Transfer>> {
    transfers::table.find(id).for_update().select(Transfer::as_select()).first(conn).await.optional()
}

pub async fn of_application(mut conn: &AsyncPgConnection, application_id: i64) -> QueryResult<Vec<Transfer>> {
    transfers::table
        .filter(transfers::application_id.eq(application_id))
        .order(transfers::id)
        .select(Transfer::as_select())
        .load(&mut conn)
        .await
}

/// Changes to a transfer's state columns; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = transfers)]
pub struct TransferChanges {
    pub state: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub downloaded_at: Option<DateTime<Utc>>,
    pub expired_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<i64>,
}

/// Applies state changes and bumps the version.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    changes: &TransferChanges,
    now: DateTime<Utc>,
) -> QueryResult<Transfer> {
    diesel::update(transfers::table.find(id))
        .set((changes, transfers::version.eq(transfers::version + 1), transfers::updated_at.eq(now)))
        .returning(Transfer::as_returning())
        .get_result(conn)
        .await
}

/// Transfers past their expiry date that still hold bytes.
pub async fn due_to_expire(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> QueryResult<Vec<i64>> {
    transfers::table
        .filter(transfers::state.eq_any(["open", "available", "downloaded"]).and(transfers::expires_at.le(now)))
        .select(transfers::id)
        .order(transfers::id)
        .load(conn)
        .await
}

/// Reserves a file row before its bytes stream in.
pub async fn reserve_file(
    conn: &mut AsyncPgConnection,
    transfer_id: i64,
    name: &str,
    storage_key: &str,
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<TransferFile> {
    diesel::insert_into(transfer_files::table)
        .values((
            transfer_files::transfer_id.eq(transfer_id),
            transfer_files::name.eq(name),
            transfer_files::storage_key.eq(storage_key),
            transfer_files::uploaded_by.eq(by),
            transfer_files::created_at.eq(now),
            transfer_files::heartbeat_at.eq(now),
        ))
        .returning(TransferFile::as_returning())
        .get_result(conn)
        .await
}

/// Marks a reserved file complete with its size and checksum.
pub async fn complete_file(
    conn: &mut AsyncPgConnection,
    id: i64,
    size: i64,
    sha256: &str,
    now: DateTime<Utc>,
) -> QueryResult<TransferFile> {
    diesel::update(transfer_files::table.find(id))
        .set((
            transfer_files::size.eq(size),
            transfer_files::sha256.eq(sha256),
            transfer_files::complete.eq(true),
            transfer_files::completed_at.eq(now),
        ))
        .returning(TransferFile::as_returning())
        .get_result(conn)
        .await
}

/// Deletes a file row that has no receipts (an unfinished upload, or a file replaced before publishing).
pub async fn delete_file(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(transfer_files::table.find(id)).execute(conn).await
}

/// The complete file of a transfer with this name.
pub async fn complete_file_named(
    conn: &mut AsyncPgConnection,
    transfer_id: i64,
    name: &str,
) -> QueryResult<Option<TransferFile>> {
    transfer_files::table
        .filter(transfer_files::transfer_id.eq(transfer_id).and(transfer_files::name.eq(name)))
        .filter(transfer_files::complete.eq(true))
        .select(TransferFile::as_select())
        .first(conn)
        .await
        .optional()
}

/// Every file row of a transfer (complete or not), by name.
pub async fn files_of(mut conn: &AsyncPgConnection, transfer_id: i64) -> QueryResult<Vec<TransferFile>> {
    transfer_files::table
        .filter(transfer_files::transfer_id.eq(transfer_id))
        .order((transfer_files::name, transfer_files::id))
        .select(TransferFile::as_select())
        .load(&mut conn)
        .await
}

/// The complete files of several transfers, by transfer, then name.
pub async fn complete_files_of(mut conn: &AsyncPgConnection, transfer_ids: &[i64]) -> QueryResult<Vec<TransferFile>> {
    transfer_files::table
        .filter(transfer_files::transfer_id.eq_any(transfer_ids))
        .filter(transfer_files::complete)
        .order((transfer_files::transfer_id, transfer_files::name, transfer_files::id))
        .select(TransferFile::as_select())
        .load(&mut conn)
        .await
}

/// Unfinished uploads whose last sign of life (heartbeat, else reservation) is before `before`.
pub async fn incomplete_before(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<Vec<TransferFile>> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Timestamptz};
    // A resumable upload's reservation lives as long as its session (`db::uploads::abandoned`).
    transfer_files::table
        .filter(transfer_files::complete.eq(false))
        .filter(sql::<Bool>("coalesce(heartbeat_at, created_at) < ").bind::<Timestamptz, _>(before))
        .filter(sql::<Bool>("NOT EXISTS (SELECT 1 FROM upload_sessions s WHERE s.file_id = transfer_files.id)"))
        .select(TransferFile::as_select())
        .load(conn)
        .await
}

/// An upload in progress is alive at `now`.
pub async fn heartbeat(conn: &mut AsyncPgConnection, file_id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(transfer_files::table.find(file_id).filter(transfer_files::complete.eq(false)))
        .set(transfer_files::heartbeat_at.eq(now))
        .execute(conn)
        .await
}

/// Records that a transfer's stored bytes are gone.
pub async fn mark_bytes_deleted(
    conn: &mut AsyncPgConnection,
    transfer_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        transfer_files::table
            .filter(transfer_files::transfer_id.eq(transfer_id).and(transfer_files::bytes_deleted_at.is_null())),
    )
    .set(transfer_files::bytes_deleted_at.eq(now))
    .execute(conn)
    .await
}

pub async fn insert_receipt(
    conn: &mut AsyncPgConnection,
    file_id: i64,
    user_id: i64,
    at: DateTime<Utc>,
    bytes: i64,
    sha256: &str,
    address: Option<&str>,
) -> QueryResult<Receipt> {
    diesel::insert_into(transfer_receipts::table)
        .values((
            transfer_receipts::transfer_file_id.eq(file_id),
            transfer_receipts::user_id.eq(user_id),
            transfer_receipts::at.eq(at),
            transfer_receipts::bytes.eq(bytes),
            transfer_receipts::sha256.eq(sha256),
            transfer_receipts::address.eq(address),
        ))
        .returning(Receipt::as_returning())
        .get_result(conn)
        .await
}

/// The receipts of a transfer's files with the downloader's name and e-mail, oldest first.
pub async fn receipts_of(
    conn: &mut AsyncPgConnection,
    transfer_id: i64,
) -> QueryResult<Vec<(Receipt, String, String, String)>> {
    transfer_receipts::table
        .inner_join(transfer_files::table)
        .inner_join(users::table)
        .filter(transfer_files::transfer_id.eq(transfer_id))
        .order(transfer_receipts::id)
        .select((Receipt::as_select(), transfer_files::name, users::name, users::email))
        .load(conn)
        .await
}

/// The ids of the files of a transfer that have been downloaded in full at least once
/// (only recipients download, so every receipt is a recipient's).
pub async fn downloaded_file_ids(conn: &mut AsyncPgConnection, transfer_id: i64) -> QueryResult<Vec<i64>> {
    transfer_receipts::table
        .inner_join(transfer_files::table)
        .filter(transfer_files::transfer_id.eq(transfer_id))
        .filter(transfer_receipts::bytes.eq(transfer_files::size))
        .select(transfer_files::id)
        .distinct()
        .load(conn)
        .await
}

/// Expired or revoked transfers with files whose bytes are not yet recorded as deleted.
pub async fn final_with_bytes(conn: &mut AsyncPgConnection) -> QueryResult<Vec<i64>> {
    transfers::table
        .inner_join(transfer_files::table)
        .filter(transfers::state.eq_any(["expired", "revoked"]).and(transfer_files::bytes_deleted_at.is_null()))
        .select(transfers::id)
        .distinct()
        .load(conn)
        .await
}

/// Every storage key whose bytes are still kept (attachments and transfer files), for master key
/// rotation.
pub async fn live_storage_keys(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    use super::schema::attachments;
    let mut keys: Vec<String> = attachments::table
        .filter(attachments::deleted_at.is_null())
        .select(attachments::storage_key)
        .load(conn)
        .await?;
    keys.extend(
        transfer_files::table
            .filter(transfer_files::complete.eq(true).and(transfer_files::bytes_deleted_at.is_null()))
            .select(transfer_files::storage_key)
            .load::<String>(conn)
            .await?,
    );
    Ok(keys)
}

/// Published transfers expiring before `before` whose recipients have not been warned.
pub async fn due_for_expiry_warning(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<Vec<i64>> {
    transfers::table
        .filter(transfers::state.eq_any(["available", "downloaded"]).and(transfers::expires_at.le(before)))
        .filter(transfers::expiry_warned_at.is_null())
        .select(transfers::id)
        .order(transfers::id)
        .load(conn)
        .await
}

/// Records the warning (no version change: nobody's edit is made stale).
pub async fn mark_expiry_warned(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(transfers::table.find(id).filter(transfers::expiry_warned_at.is_null()))
        .set(transfers::expiry_warned_at.eq(now))
        .execute(conn)
        .await
}
