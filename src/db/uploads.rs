//! Sessions of resumable uploads (migration `resumable_uploads`): how far each has got.

use super::schema::upload_sessions;
use super::transfers::TransferFile;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = upload_sessions)]
pub struct Upload {
    pub file_id: i64,
    pub length: i64,
    pub received: i64,
    pub hash_state: Vec<u8>,
    pub expected_sha256: Option<String>,
    pub touched_at: DateTime<Utc>,
    pub writing_until: Option<DateTime<Utc>>,
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    file_id: i64,
    length: i64,
    hash_state: &[u8],
    expected_sha256: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<Upload> {
    diesel::insert_into(upload_sessions::table)
        .values((
            upload_sessions::file_id.eq(file_id),
            upload_sessions::length.eq(length),
            upload_sessions::hash_state.eq(hash_state),
            upload_sessions::expected_sha256.eq(expected_sha256),
            upload_sessions::touched_at.eq(now),
        ))
        .returning(Upload::as_returning())
        .get_result(conn)
        .await
}

/// A session with its reserved file.
pub async fn by_file(conn: &mut AsyncPgConnection, file_id: i64) -> QueryResult<Option<(Upload, TransferFile)>> {
    use super::schema::transfer_files;
    upload_sessions::table
        .inner_join(transfer_files::table)
        .filter(upload_sessions::file_id.eq(file_id))
        .select((Upload::as_select(), TransferFile::as_select()))
        .first(conn)
        .await
        .optional()
}

/// Takes the writing lease until `until` if nobody holds it at `now` and the session is still at
/// `received`; `None` when another request writes, or the offset moved.
pub async fn lease(
    conn: &mut AsyncPgConnection,
    file_id: i64,
    received: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> QueryResult<Option<Upload>> {
    diesel::update(
        upload_sessions::table.filter(
            upload_sessions::file_id
                .eq(file_id)
                .and(upload_sessions::received.eq(received))
                .and(upload_sessions::writing_until.is_null().or(upload_sessions::writing_until.lt(now))),
        ),
    )
    .set((upload_sessions::writing_until.eq(until), upload_sessions::touched_at.eq(now)))
    .returning(Upload::as_returning())
    .get_result(conn)
    .await
    .optional()
}

/// Records progress (the lease holder's), keeping or giving up the lease.
pub async fn progress(
    conn: &mut AsyncPgConnection,
    file_id: i64,
    received: i64,
    hash_state: &[u8],
    now: DateTime<Utc>,
    writing_until: Option<DateTime<Utc>>,
) -> QueryResult<usize> {
    diesel::update(upload_sessions::table.find(file_id))
        .set((
            upload_sessions::received.eq(received),
            upload_sessions::hash_state.eq(hash_state),
            upload_sessions::touched_at.eq(now),
            upload_sessions::writing_until.eq(writing_until),
        ))
        .execute(conn)
        .await
}

/// Renews a writing lease.
pub async fn renew(conn: &mut AsyncPgConnection, file_id: i64, until: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(upload_sessions::table.find(file_id))
        .set(upload_sessions::writing_until.eq(until))
        .execute(conn)
        .await
}

/// Ends a session (its file complete, or given up).
pub async fn delete(conn: &mut AsyncPgConnection, file_id: i64) -> QueryResult<usize> {
    diesel::delete(upload_sessions::table.find(file_id)).execute(conn).await
}

/// The incomplete files of sessions untouched since `before`.
pub async fn abandoned(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> QueryResult<Vec<TransferFile>> {
    use super::schema::transfer_files;
    upload_sessions::table
        .inner_join(transfer_files::table)
        .filter(upload_sessions::touched_at.lt(before).and(transfer_files::complete.eq(false)))
        .select(TransferFile::as_select())
        .load(conn)
        .await
}
