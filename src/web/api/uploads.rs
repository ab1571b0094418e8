//! Resumable uploads of transfer files over tus 1.0 (<https://tus.io/protocols/resumable-upload>):
//! the core protocol with the creation, termination and expiration extensions (issue 25). The
//! upload URL is `/api/uploads/{file}`; progress moves in whole 64 KiB chunks (see
//! `storage::part`), so after a broken request `HEAD` tells where to go on. The announced
//! checksum is the metadata `sha256` (hex, base64-encoded as tus metadata values are).
//! Every response, errors included, carries `Tus-Resumable` (`TusHeaders`).

use super::doc::ApiErrors;
use crate::config::Config;
use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::uploads as svc;
use crate::storage::Storage;
use crate::web::guards::{ApiUser, ClientAddress, actor};
use crate::web::upload_limits::{DeclaredLength, UploadSlots, idle_limited};
use base64::Engine;
use chrono::{DateTime, Utc};
use rocket::data::{Data, ToByteUnit};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{Header, Status};
use rocket::request::{FromRequest, Outcome, Request};
use rocket::response::{self, Responder, Response};
use rocket::{State, delete, head, options, patch, post};
use std::time::Duration;

super::api_routes!(capabilities, create, offset, append, terminate);

/// The protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";

/// A tus answer: a status and its headers, no body.
pub struct Tus {
    status: Status,
    headers: Vec<(&'static str, String)>,
}

impl Tus {
    fn of(status: Status, p: &svc::Progress) -> Tus {
        let mut headers = vec![
            ("Upload-Offset", p.received.to_string()),
            ("Upload-Length", p.length.to_string()),
            ("Cache-Control", "no-store".to_string()),
        ];
        match &p.file {
            Some(file) => {
                headers.push(("X-Checksum-SHA256", file.sha256.clone()));
                headers.push(("Upload-Complete", "true".to_string()));
            }
            None => headers.push(("Upload-Expires", http_date(p.expires_at))),
        }
        Tus { status, headers }
    }
}

impl<'r> Responder<'r, 'static> for Tus {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let mut r = Response::build();
        r.status(self.status);
        for (name, value) in self.headers {
            r.header(Header::new(name, value));
        }
        r.ok()
    }
}

/// An HTTP date (RFC 9110 §5.6.7), as `Upload-Expires` takes it.
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Adds `Tus-Resumable` to every answer on the upload paths, errors included.
pub struct TusHeaders;

#[rocket::async_trait]
impl Fairing for TusHeaders {
    fn info(&self) -> Info {
        Info { name: "tus headers on resumable uploads", kind: Kind::Response }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let path = req.uri().path();
        if path.starts_with("/api/uploads") || (path.starts_with("/api/transfers/") && path.ends_with("/uploads")) {
            res.set_header(Header::new("Tus-Resumable", TUS_VERSION));
        }
    }
}

/// The `Tus-Resumable` a request must carry: the version spoken, or 412.
pub struct Resumable;

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Resumable {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match req.headers().get_one("Tus-Resumable") {
            Some(TUS_VERSION) => Outcome::Success(Resumable),
            _ => crate::web::guards::refuse(req, AppError::Status(412, "err-tus-version".into())),
        }
    }
}

/// The headers of a tus request that the routes read.
pub struct TusRequest {
    offset: Option<u64>,
    metadata: Option<String>,
    upload_length: Option<String>,
    octet_stream: bool,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for TusRequest {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let h = req.headers();
        Outcome::Success(TusRequest {
            offset: h.get_one("Upload-Offset").and_then(|v| v.parse().ok()),
            metadata: h.get_one("Upload-Metadata").map(str::to_string),
            upload_length: h.get_one("Upload-Length").map(str::to_string),
            octet_stream: h.get_one("Content-Type") == Some("application/offset+octet-stream"),
        })
    }
}

/// One value of `Upload-Metadata` (`key base64,key base64`), decoded.
fn metadata(header: Option<&str>, key: &str) -> AppResult<Option<String>> {
    let Some(header) = header else { return Ok(None) };
    for pair in header.split(',') {
        let mut parts = pair.trim().splitn(2, ' ');
        if parts.next() != Some(key) {
            continue;
        }
        let value = parts.next().unwrap_or("");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| AppError::field("Upload-Metadata", "err-upload-metadata"))?;
        return String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| AppError::field("Upload-Metadata", "err-upload-metadata"));
    }
    Ok(None)
}

#[utoipa::path(tag = "transfers",
    responses((status = 204, description = "What the service speaks: `Tus-Version`, `Tus-Extension`, `Tus-Max-Size`"), ApiErrors))]
#[options("/uploads")]
async fn capabilities(config: &State<Config>) -> Tus {
    Tus {
        status: Status::NoContent,
        headers: vec![
            ("Tus-Resumable", TUS_VERSION.into()),
            ("Tus-Version", TUS_VERSION.into()),
            ("Tus-Extension", "creation,termination,expiration".into()),
            ("Tus-Max-Size", config.max_transfer_bytes.to_string()),
        ],
    }
}

#[utoipa::path(tag = "transfers", security(("bearer" = [])),
    params(("Upload-Length" = u64, Header, description = "The file's size in bytes"),
           ("Upload-Metadata" = String, Header, description = "`filename` (required) and `sha256` (hex), base64-encoded"),
           ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 201, description = "The upload is reserved; `Location` is its URL"), ApiErrors))]
#[post("/transfers/<id>/uploads")]
#[allow(clippy::too_many_arguments)]
async fn create(
    pool: &State<Pool>,
    storage: &State<Storage>,
    config: &State<Config>,
    api: ApiUser,
    address: ClientAddress,
    _tus: Resumable,
    tus: TusRequest,
    id: i64,
) -> AppResult<Tus> {
    let length: u64 = tus
        .upload_length
        .as_deref()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::field("Upload-Length", "err-upload-length"))?;
    let name = metadata(tus.metadata.as_deref(), "filename")?
        .ok_or_else(|| AppError::field("Upload-Metadata", "err-upload-metadata"))?;
    let sha256 = metadata(tus.metadata.as_deref(), "sha256")?;
    let actor = actor(Some(&api.user), &address);
    let p = svc::create(
        pool,
        storage,
        &api.user,
        &actor,
        id,
        &name,
        length,
        sha256.as_deref(),
        config.max_transfer_bytes,
        Utc::now(),
    )
    .await?;
    let mut answer = Tus::of(Status::Created, &p);
    answer.headers.push(("Location", format!("/api/uploads/{}", p.file_id)));
    Ok(answer)
}

#[utoipa::path(tag = "transfers", security(("bearer" = [])),
    params(("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 200, description = "`Upload-Offset`: the bytes stored so far; `Upload-Length`, `Upload-Expires`"), ApiErrors))]
#[head("/uploads/<file>")]
async fn offset(pool: &State<Pool>, api: ApiUser, _tus: Resumable, file: i64) -> AppResult<Tus> {
    let p = svc::progress(pool, &api.user, file).await?;
    Ok(Tus::of(Status::Ok, &p))
}

#[utoipa::path(tag = "transfers", security(("bearer" = [])),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream", description = "Bytes from `Upload-Offset` on"),
    params(("Upload-Offset" = u64, Header, description = "Where these bytes start: the offset `HEAD` gave"),
           ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 204, description = "`Upload-Offset`: the bytes stored now (whole 64 KiB chunks, or all); at the end `Upload-Complete` and `X-Checksum-SHA256`"), ApiErrors))]
#[patch("/uploads/<file>", data = "<data>")]
#[allow(clippy::too_many_arguments)]
async fn append(
    pool: &State<Pool>,
    storage: &State<Storage>,
    config: &State<Config>,
    slots: &State<UploadSlots>,
    api: ApiUser,
    address: ClientAddress,
    _tus: Resumable,
    tus: TusRequest,
    declared: DeclaredLength,
    file: i64,
    data: Data<'_>,
) -> AppResult<Tus> {
    if !tus.octet_stream {
        return Err(AppError::Status(415, "err-upload-content-type".into()));
    }
    let offset = tus.offset.ok_or_else(|| AppError::field("Upload-Offset", "err-upload-offset"))?;
    let current = svc::progress(pool, &api.user, file).await?;
    let remaining = current.length.saturating_sub(offset);
    if declared.0.is_some_and(|n| n > remaining) {
        return Err(AppError::field("Upload-Offset", "err-upload-too-long"));
    }
    let _slot = slots.take(api.user.id)?;
    let mut body = idle_limited(data.open(remaining.bytes()), Duration::from_secs(config.upload_idle_secs));
    let actor = actor(Some(&api.user), &address);
    let p = svc::append(pool, storage, &api.user, &actor, file, offset, &mut body, Utc::now()).await?;
    Ok(Tus::of(Status::NoContent, &p))
}

#[utoipa::path(tag = "transfers", security(("bearer" = [])),
    params(("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 204, description = "The upload and its bytes are gone"), ApiErrors))]
#[delete("/uploads/<file>")]
async fn terminate(
    pool: &State<Pool>,
    storage: &State<Storage>,
    api: ApiUser,
    _tus: Resumable,
    file: i64,
) -> AppResult<Tus> {
    svc::terminate(pool, storage, &api.user, file).await?;
    Ok(Tus { status: Status::NoContent, headers: vec![] })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_values_are_base64() {
        let header = Some("filename ZGF0YS5jc3Y=,sha256 YWJj,empty");
        assert_eq!(metadata(header, "filename").unwrap().as_deref(), Some("data.csv"));
        assert_eq!(metadata(header, "sha256").unwrap().as_deref(), Some("abc"));
        assert_eq!(metadata(header, "empty").unwrap().as_deref(), Some(""));
        assert_eq!(metadata(header, "other").unwrap(), None);
        assert!(metadata(Some("filename !!"), "filename").is_err());
        assert_eq!(http_date("2026-12-06T12:00:00Z".parse().unwrap()), "Sun, 06 Dec 2026 12:00:00 GMT");
    }
}
