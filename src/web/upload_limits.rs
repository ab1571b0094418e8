//! What keeps uploads from holding the service: a cap on the uploads one account streams at once
//! ([`UploadSlots`]), an idle limit on the body ([`idle_limited`]: a client that sends nothing for
//! `UPLOAD_IDLE_SECONDS` is refused with 408), and a declared length checked before any byte is
//! read ([`DeclaredLength`]).

use crate::config::Config;
use crate::error::AppError;
use crate::web::csrf::{fail, verify};
use crate::web::guards::SessionUser;
use crate::web::uploads::TokenThenFile;
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::futures::StreamExt;
use rocket::request::{FromRequest, Outcome, Request};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::AsyncRead;
use tokio_io_timeout::TimeoutReader;

/// The uploads in progress in this instance, per account.
pub struct UploadSlots {
    per_account: usize,
    held: Mutex<HashMap<i64, usize>>,
}

/// One account's upload in progress; the slot is given back when this is dropped.
pub struct Slot<'a> {
    slots: &'a UploadSlots,
    user: i64,
}

impl UploadSlots {
    pub fn new(per_account: usize) -> UploadSlots {
        UploadSlots { per_account, held: Mutex::new(HashMap::new()) }
    }

    /// A slot for `user`'s upload, or 429 when the account already streams its share.
    pub fn take(&self, user: i64) -> Result<Slot<'_>, AppError> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let n = held.entry(user).or_insert(0);
        if *n >= self.per_account {
            return Err(AppError::TooManyRequests(5));
        }
        *n += 1;
        Ok(Slot { slots: self, user })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut held = self.slots.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                held.remove(&self.user);
            }
        }
    }
}

/// `reader`, failing with `TimedOut` when no byte arrives for `idle`.
pub fn idle_limited<R: AsyncRead>(reader: R, idle: Duration) -> Pin<Box<TimeoutReader<R>>> {
    let mut limited = TimeoutReader::new(reader);
    limited.set_timeout(Some(idle));
    Box::pin(limited)
}

/// The body length the client declared (`Content-Length`), if any.
pub struct DeclaredLength(pub Option<u64>);

impl DeclaredLength {
    /// What `req`'s `Content-Length` declares.
    pub fn of(req: &Request<'_>) -> DeclaredLength {
        DeclaredLength(req.headers().get_one("Content-Length").and_then(|v| v.trim().parse().ok()))
    }

    /// 413 at once when the declared body is over `limit` (no byte of it is read).
    pub fn within(&self, limit: u64) -> Result<(), AppError> {
        match self.0 {
            Some(n) if n > limit => Err(AppError::PayloadTooLarge),
            _ => Ok(()),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for DeclaredLength {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(DeclaredLength::of(req))
    }
}

/// A signed-in person's upload slot in a page's upload (the session is checked first).
pub struct UploadSlot<'r>(#[allow(dead_code)] Slot<'r>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for UploadSlot<'r> {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let user = match req.guard::<SessionUser>().await {
            Outcome::Success(u) => u.0,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        let Some(slots) = req.rocket().state::<UploadSlots>() else {
            return Outcome::Error((rocket::http::Status::InternalServerError, AppError::Internal("no slots".into())));
        };
        match slots.take(user.id) {
            Ok(slot) => Outcome::Success(UploadSlot(slot)),
            Err(e) => {
                crate::web::context::remember(req, &e);
                Outcome::Error((e.status(), e))
            }
        }
    }
}

/// One file from a page's `multipart/form-data` upload: its CSRF token (the first field) already
/// checked, then the short text fields the form has (an attachment's `kind`), then the file,
/// whose bytes are read as they arrive (never held whole in memory), with the idle limit.
/// `ATTACHMENT`: an application's attachment (with its `kind`, under the attachment limit),
/// else a transfer's file (under the transfer limit); see the two aliases below.
pub struct StreamedFile<'r, const ATTACHMENT: bool> {
    pub file_name: String,
    pub kind: Option<String>,
    field: multer::Field<'r>,
}

/// A page's attachment upload (`csrf_token`, `kind`, `file`).
pub type AttachmentUpload<'r> = StreamedFile<'r, true>;
/// A page's transfer-file upload (`csrf_token`, `file`).
pub type TransferUpload<'r> = StreamedFile<'r, false>;

impl<'r, const ATTACHMENT: bool> StreamedFile<'r, ATTACHMENT> {
    /// The file's bytes as a reader.
    pub fn reader(self) -> impl tokio::io::AsyncRead + Unpin + Send + 'r {
        tokio_util::io::StreamReader::new(self.field.map(|chunk| chunk.map_err(std::io::Error::other)))
    }
}

#[rocket::async_trait]
impl<'r, const ATTACHMENT: bool> FromData<'r> for StreamedFile<'r, ATTACHMENT> {
    type Error = AppError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let boundary = req
            .content_type()
            .filter(|ct| ct.is_form_data())
            .and_then(|ct| ct.param("boundary"))
            .map(|b| b.to_string());
        let Some(boundary) = boundary else {
            return fail(req, AppError::Status(415, "err-upload-multipart".into()));
        };
        let Some(config) = req.rocket().state::<Config>() else {
            return fail(req, AppError::Internal("no config".into()));
        };
        let max = if ATTACHMENT { config.max_upload_bytes } else { config.max_transfer_bytes };
        let limit = max + 64 * 1024;
        if let Err(e) = DeclaredLength::of(req).within(limit) {
            return fail(req, e);
        }
        let body = idle_limited(data.open(limit.bytes()), Duration::from_secs(config.upload_idle_secs));
        let mut upload = TokenThenFile::new(tokio_util::io::ReaderStream::new(body), boundary);
        let token = upload.token().await;
        if let Err(e) = verify(req, token.as_deref()) {
            return fail(req, e);
        }
        let kind = if ATTACHMENT { upload.text("kind").await } else { None };
        if ATTACHMENT && kind.is_none() {
            return fail(req, AppError::field("kind", "err-choice"));
        }
        match upload.file().await {
            Some((file_name, field)) => data::Outcome::Success(StreamedFile { file_name, kind, field }),
            None => fail(req, AppError::field("file", "err-required")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_account_and_given_back() {
        let slots = UploadSlots::new(2);
        let a = slots.take(1).unwrap();
        let _b = slots.take(1).unwrap();
        assert!(matches!(slots.take(1), Err(AppError::TooManyRequests(_))));
        let _other = slots.take(2).unwrap();
        drop(a);
        let _c = slots.take(1).unwrap();
    }

    #[tokio::test]
    async fn a_silent_body_times_out() {
        use tokio::io::AsyncReadExt;
        let (_writer, reader) = tokio::io::duplex(64);
        let mut limited = idle_limited(reader, Duration::from_millis(50));
        let mut buf = [0u8; 8];
        let err = limited.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    }
}
