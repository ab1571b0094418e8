//! Streams a stored object to the client, decrypting on the fly; a tampered chunk aborts the
//! response (the client sees a broken transfer, never altered data).

use crate::db::{self, Pool};
use crate::error::{AppError, AppResult};
use crate::services::{self, Actor, transfers as svc};
use crate::storage::{ObjectReader, Storage};
use chrono::Utc;
use rocket::futures::{Stream, StreamExt, stream};
use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use std::io::Cursor;
use tokio_util::io::StreamReader;

/// A file download.
pub struct Download {
    pub reader: ObjectReader,
    pub name: String,
    pub content_type: String,
    pub sha256: String,
}

impl Download {
    /// An application's attachment, read from storage (after its service allowed and logged it).
    pub async fn attachment(storage: &Storage, a: db::applications::Attachment) -> AppResult<Download> {
        let reader = storage.reader(&a.storage_key).await.map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Download { reader, name: a.name, content_type: a.content_type, sha256: a.sha256 })
    }
}

/// `attachment; filename*=UTF-8''…` with the name percent-encoded.
pub(crate) fn disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

impl<'r> Responder<'r, 'static> for Download {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let chunks = stream::unfold(Some(self.reader), |state| async move {
            let mut reader = state?;
            match reader.next_chunk().await {
                Ok(Some(chunk)) => Some((Ok(Cursor::new(chunk)), Some(reader))),
                Ok(None) => None,
                Err(e) => {
                    tracing::error!("download aborted: {e}");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        });
        let content_type = ContentType::parse_flexible(&self.content_type).unwrap_or(ContentType::Binary);
        Response::build()
            .header(content_type)
            .header(Header::new("Content-Disposition", disposition(&self.name)))
            .header(Header::new("X-Checksum-SHA256", self.sha256))
            .header(Header::new("X-Content-Type-Options", "nosniff"))
            .streamed_body(StreamReader::new(chunks))
            // Whole decrypted chunks to the socket (Rocket's default hands over 4 KiB at a time).
            .max_chunk_size(crate::storage::CHUNK)
            .ok()
    }
}

/// An answer made while it is sent: `head` at once (made before the answer started, so that an
/// error could still have its status), then each part of `rest` as it is made, handed to the
/// socket 64 KiB at a time. An error in `rest` cuts the answer off, since its status has gone:
/// the client sees it fail, and the log says `what` was cut off. Callers add their headers.
pub fn generated(
    content_type: ContentType,
    head: Vec<u8>,
    rest: impl Stream<Item = AppResult<Vec<u8>>> + Send + 'static,
    what: &'static str,
) -> response::Builder<'static> {
    let rest = rest.map(move |part| {
        part.map(Cursor::new).map_err(|e| {
            tracing::error!("{what} was cut off: {e}");
            std::io::Error::other(e.to_string())
        })
    });
    let body = stream::once(async move { Ok(Cursor::new(head)) }).chain(rest);
    let mut answer = Response::build();
    answer.header(content_type).streamed_body(StreamReader::new(body)).max_chunk_size(64 * 1024);
    answer
}

/// What to do once a streamed file has gone out in full: given the bytes sent and their SHA-256.
/// The checksum is the one recorded when the file was stored: the stream is decrypted with
/// AES-GCM in the STREAM construction, which authenticates every chunk, their order and the end,
/// so bytes that reached the end unaltered are exactly the bytes that were hashed on upload
/// (hashing them again on the way out cost a quarter of the download's speed, issue 25).
pub type OnComplete =
    Box<dyn FnOnce(u64, String) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send>;

/// A download that calls back when the last byte has been handed over (a transfer's receipt);
/// an aborted or tampered stream never reaches the callback.
pub struct ReceiptedDownload {
    pub reader: ObjectReader,
    pub name: String,
    pub sha256: String,
    pub on_complete: OnComplete,
}

struct Progress {
    reader: ObjectReader,
    sha256: String,
    bytes: u64,
    on_complete: Option<OnComplete>,
}

impl<'r> Responder<'r, 'static> for ReceiptedDownload {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let start = Progress {
            reader: self.reader,
            sha256: self.sha256.clone(),
            bytes: 0,
            on_complete: Some(self.on_complete),
        };
        let chunks = stream::unfold(Some(start), |state| async move {
            let mut p = state?;
            match p.reader.next_chunk().await {
                Ok(Some(chunk)) => {
                    p.bytes += chunk.len() as u64;
                    Some((Ok(Cursor::new(chunk)), Some(p)))
                }
                Ok(None) => {
                    if let Some(done) = p.on_complete.take() {
                        done(p.bytes, std::mem::take(&mut p.sha256)).await;
                    }
                    None
                }
                Err(e) => {
                    tracing::error!("download aborted: {e}");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        });
        Response::build()
            .header(ContentType::Binary)
            .header(Header::new("Content-Disposition", disposition(&self.name)))
            .header(Header::new("X-Checksum-SHA256", self.sha256))
            .header(Header::new("X-Content-Type-Options", "nosniff"))
            .header(Header::new("Cache-Control", "no-store"))
            .streamed_body(StreamReader::new(chunks))
            // Whole decrypted chunks to the socket (Rocket's default hands over 4 KiB at a time).
            .max_chunk_size(crate::storage::CHUNK)
            .ok()
    }
}

/// Opens a transfer file for `user` and streams it, recording the receipt when the last byte
/// has gone out (shared by the API and the pages).
pub async fn stream_file(
    pool: &Pool,
    storage: &Storage,
    user: &db::users::User,
    actor: Actor,
    id: i64,
    name: &str,
    vat_rate_bp: u32,
) -> AppResult<ReceiptedDownload> {
    let mut conn = services::conn(pool).await?;
    let (_, file) = svc::open_download(&mut conn, user, id, name).await?;
    drop(conn);
    let reader = storage.reader(&file.storage_key).await.map_err(|e| AppError::Internal(e.to_string()))?;
    let (pool, user_id, file_id) = (pool.clone(), user.id, file.id);
    let on_complete: crate::web::download::OnComplete = Box::new(move |bytes, sha256| {
        Box::pin(async move {
            let result = async {
                let mut conn = services::conn(&pool).await?;
                let now = Utc::now();
                svc::record_download(&mut conn, &actor, user_id, id, file_id, bytes, &sha256, vat_rate_bp, now).await
            }
            .await;
            if let Err(e) = result {
                tracing::error!(transfer = id, file = file_id, "the receipt of a download was not recorded: {e}");
            }
        })
    });
    Ok(ReceiptedDownload { reader, name: file.name, sha256: file.sha256, on_complete })
}

#[cfg(test)]
mod tests {
    #[test]
    fn disposition_is_safe() {
        assert_eq!(
            super::disposition("søknad 1.pdf"),
            "attachment; filename=\"s_knad_1.pdf\"; filename*=UTF-8''s%C3%B8knad%201.pdf"
        );
    }
}
