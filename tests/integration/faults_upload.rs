//! A crash mid-upload (issue 10): the real service binary receives a transfer file over TCP;
//! the client drops the connection half-way, then the process is killed half-way. No half file
//! is ever listed or downloadable, nothing half is left in storage, and the service cleans up
//! the reservation when it starts again.

use crate::common::TestApp;
use crate::transfers::{Case, create_transfer, decided_case, files, get_file};
use base64::Engine;
use rocket::http::Status;
use serde_json::json;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The service binary on the test's database and storage; killed when dropped.
struct Service {
    child: Child,
    port: u16,
}

impl Service {
    fn start(app: &TestApp) -> Service {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let storage = app.config().storage_dir.clone();
        let child = Command::new(env!("CARGO_BIN_EXE_helsedataservice"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DATABASE_URL", &app.database_url)
            .env("STORAGE_DIR", &storage)
            .env("MAIL_DIR", storage.join("mail"))
            .env("STORAGE_MASTER_KEY", b64(&[3u8; 32]))
            .env("ROCKET_SECRET_KEY", b64(&[7u8; 64]))
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", "off")
            .env("MAX_TRANSFER_BYTES", (8 * 1024 * 1024).to_string())
            .env_remove("SMTP_URL")
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the service binary starts");
        let service = Service { child, port };
        service.wait_until_up();
        service
    }

    fn wait_until_up(&self) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("the service did not come up on port {}", self.port);
    }

    /// Starts a 4 MiB upload and sends the first MiB only; returns the open connection.
    fn half_upload(&self, c: &Case, transfer: i64, name: &str) -> TcpStream {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        let head = format!(
            "PUT /api/transfers/{transfer}/files/{name} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            c.owner_token,
            4 * 1024 * 1024
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&vec![b'x'; 1024 * 1024]).unwrap();
        s.flush().unwrap();
        s
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `check` holds (the server works on its own schedule).
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

fn entries(dir: &Path) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else { return vec![] };
    let mut out = vec![];
    for e in read.flatten() {
        if e.path().is_dir() {
            out.extend(entries(&e.path()));
        } else {
            out.push(e.file_name().to_string_lossy().to_string());
        }
    }
    out
}

async fn reserved(app: &TestApp, transfer: i64, name: &str) -> Option<bool> {
    files(app, transfer).await.into_iter().find(|f| f.name == name).map(|f| f.complete)
}

#[rocket::async_test]
async fn a_crash_mid_upload_never_makes_half_a_file_available() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let id = create_transfer(&app, &c).await;
    let storage = app.config().storage_dir.clone();
    let objects_before = entries(&storage.join("objects")).len();
    let service = Service::start(&app);

    // 1. The client goes away half-way: the service drops the reservation and the partial bytes.
    let conn = service.half_upload(&c, id, "dropped.csv");
    eventually("the upload is reserved", async || reserved(&app, id, "dropped.csv").await == Some(false)).await;
    drop(conn);
    eventually("the reservation is dropped", async || reserved(&app, id, "dropped.csv").await.is_none()).await;
    eventually("the partial object is gone", async || entries(&storage.join("tmp")).is_empty()).await;
    assert_eq!(entries(&storage.join("objects")).len(), objects_before);

    // 2. The process is killed half-way through an upload.
    let mut service = service;
    let conn = service.half_upload(&c, id, "killed.csv");
    eventually("the upload is reserved", async || reserved(&app, id, "killed.csv").await == Some(false)).await;
    service.child.kill().unwrap();
    service.child.wait().unwrap();
    drop(conn);
    assert_eq!(reserved(&app, id, "killed.csv").await, Some(false), "the crash left an unfinished row");
    assert_eq!(entries(&storage.join("objects")).len(), objects_before, "no half object among the finished ones");

    // Meanwhile (another instance still running): nothing half is listed, downloadable or publishable.
    let (status, t) = app.get_json(&format!("/api/transfers/{id}"), Some(&c.owner_token)).await;
    assert_eq!(status, Status::Ok, "{t}");
    assert_eq!(t["files"], json!([]), "an unfinished file is never listed");
    let (status, body) = app.post_json(&format!("/api/transfers/{id}/publish"), Some(&c.owner_token), json!({})).await;
    assert_eq!(status, Status::Conflict, "an unfinished upload blocks publishing: {body}");

    // Time passes (longer than a live upload goes between heartbeats), and the service starts
    // again: the reservation and the partial bytes are cleaned up at start.
    let stale =
        format!("UPDATE transfer_files SET heartbeat_at = now() - interval '3 minutes' WHERE transfer_id = {id}");
    app.sql(&stale).await.unwrap();
    let service = Service::start(&app);
    assert_eq!(reserved(&app, id, "killed.csv").await, None);
    assert!(entries(&storage.join("tmp")).is_empty(), "{:?}", entries(&storage.join("tmp")));
    assert_eq!(entries(&storage.join("objects")).len(), objects_before);

    // And a whole upload still works afterwards.
    let (status, body) = crate::common::read_json(
        app.client
            .put(format!("/api/transfers/{id}/files/whole.csv"))
            .header(rocket::http::Header::new("Authorization", format!("Bearer {}", c.owner_token)))
            .header(rocket::http::ContentType::Binary)
            .body(b"a;b\n1;2\n")
            .dispatch()
            .await,
    )
    .await;
    assert_eq!(status, Status::Created, "{body}");
    let (status, body) = app.post_json(&format!("/api/transfers/{id}/publish"), Some(&c.owner_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["files"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(get_file(&app, &c.applicant_token, id, "killed.csv").await.0, Status::NotFound);
    assert_eq!(get_file(&app, &c.applicant_token, id, "whole.csv").await.0, Status::Ok);
    drop(service);
}

/// A tus request through the local client.
async fn tus<'a>(
    app: &'a TestApp,
    method: rocket::http::Method,
    path: &str,
    token: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> rocket::local::asynchronous::LocalResponse<'a> {
    let mut req = app
        .client
        .req(method, path.to_string())
        .header(rocket::http::Header::new("Authorization", format!("Bearer {token}")))
        .header(rocket::http::Header::new("Tus-Resumable", "1.0.0"));
    for (name, value) in headers {
        req = req.header(rocket::http::Header::new(*name, value.clone()));
    }
    req.body(body).dispatch().await
}

fn header(resp: &rocket::local::asynchronous::LocalResponse<'_>, name: &str) -> Option<String> {
    resp.headers().get_one(name).map(str::to_string)
}

/// `Upload-Offset` of upload `path` as HEAD gives it (None when there is no such upload).
async fn offset_of(app: &TestApp, path: &str, token: &str) -> Option<u64> {
    let resp = tus(app, rocket::http::Method::Head, path, token, &[], b"").await;
    (resp.status() == Status::Ok).then(|| header(&resp, "Upload-Offset").unwrap().parse().unwrap())
}

/// Announces a resumable upload; returns its URL.
async fn announce(app: &TestApp, c: &Case, transfer: i64, name: &str, length: usize, sha256: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let resp = tus(
        app,
        rocket::http::Method::Post,
        &format!("/api/transfers/{transfer}/uploads"),
        &c.owner_token,
        &[
            ("Upload-Length", length.to_string()),
            ("Upload-Metadata", format!("filename {},sha256 {}", b64(name), b64(sha256))),
        ],
        b"",
    )
    .await;
    assert_eq!(resp.status(), Status::Created);
    assert_eq!(header(&resp, "Tus-Resumable").as_deref(), Some("1.0.0"));
    assert_eq!(header(&resp, "Upload-Offset").as_deref(), Some("0"));
    assert!(header(&resp, "Upload-Expires").unwrap().ends_with(" GMT"));
    header(&resp, "Location").unwrap()
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(data))
}

#[rocket::async_test]
async fn a_resumable_upload_survives_a_dropped_connection_and_a_restart() {
    use rocket::http::Method;
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let id = create_transfer(&app, &c).await;
    let storage = app.config().storage_dir.clone();
    const CHUNK: usize = 64 * 1024;
    let data: Vec<u8> = (0..3 * 1024 * 1024 + 123u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let sum = sha256_hex(&data);
    let url = announce(&app, &c, id, "register.bin", data.len(), &sum).await;
    let octets = ("Content-Type", "application/offset+octet-stream".to_string());

    // What the protocol refuses, and who may not touch the upload.
    let options = app.client.options("/api/uploads").dispatch().await;
    assert_eq!(header(&options, "Tus-Extension").as_deref(), Some("creation,termination,expiration"));
    let plain = app
        .client
        .head(url.clone())
        .header(rocket::http::Header::new("Authorization", format!("Bearer {}", c.owner_token)))
        .dispatch()
        .await;
    assert_eq!(plain.status().code, 412, "no Tus-Resumable");
    assert_eq!(header(&plain, "Tus-Resumable").as_deref(), Some("1.0.0"));
    let at = |n: usize| ("Upload-Offset", n.to_string());
    let wrong =
        tus(&app, Method::Patch, &url, &c.owner_token, &[octets.clone(), at(CHUNK)], &data[CHUNK..2 * CHUNK]).await;
    assert_eq!(wrong.status(), Status::Conflict, "not where the upload stands");
    let text = tus(&app, Method::Patch, &url, &c.owner_token, &[at(0)], &data[..CHUNK]).await;
    assert_eq!(text.status().code, 415);
    assert_eq!(offset_of(&app, &url, &c.applicant_token).await, None, "the recipient cannot see it");
    let stranger = app.user("applicant", None).await;
    let stranger = app.token(&stranger).await;
    assert_eq!(tus(&app, Method::Head, &url, &stranger, &[], b"").await.status(), Status::NotFound);
    assert_eq!(offset_of(&app, &url, &c.owner_token).await, Some(0));

    // 1. The connection drops after 1.5 MiB and 1 000 bytes: the whole chunks stay.
    let service = Service::start(&app);
    let mut s = TcpStream::connect(("127.0.0.1", service.port)).unwrap();
    let head = format!(
        "PATCH {url} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\nTus-Resumable: 1.0.0\r\n\
         Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: {}\r\n\r\n",
        c.owner_token,
        data.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let sent = 24 * CHUNK + 1000;
    s.write_all(&data[..sent]).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(s);
    eventually("the whole chunks are recorded", async || {
        offset_of(&app, &url, &c.owner_token).await == Some(24 * CHUNK as u64)
    })
    .await;
    let (_, t) = app.get_json(&format!("/api/transfers/{id}"), Some(&c.owner_token)).await;
    assert_eq!(t["files"], json!([]), "an unfinished upload is never listed");

    // 2. The service dies while the next MiB streams in; it starts again.
    let mut service = service;
    let mut s = TcpStream::connect(("127.0.0.1", service.port)).unwrap();
    let head = head
        .replace("Upload-Offset: 0", &format!("Upload-Offset: {}", 24 * CHUNK))
        .replace(&format!("Content-Length: {}", data.len()), &format!("Content-Length: {}", data.len() - 24 * CHUNK));
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&data[24 * CHUNK..40 * CHUNK]).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    service.child.kill().unwrap();
    service.child.wait().unwrap();
    drop(s);
    let service = Service::start(&app);
    // The dead request's lease runs out (a minute; here time is moved on instead of waited for).
    app.sql("UPDATE upload_sessions SET writing_until = now() - interval '1 second'").await.unwrap();
    assert_eq!(offset_of(&app, &url, &c.owner_token).await, Some(24 * CHUNK as u64), "unrecorded bytes do not count");
    drop(service);

    // 3. The client goes on from there and the file is complete, verified and downloadable.
    let done =
        tus(&app, Method::Patch, &url, &c.owner_token, &[octets.clone(), at(24 * CHUNK)], &data[24 * CHUNK..]).await;
    assert_eq!(done.status(), Status::NoContent);
    assert_eq!(header(&done, "Upload-Offset"), Some(data.len().to_string()));
    assert_eq!(header(&done, "Upload-Complete").as_deref(), Some("true"));
    assert_eq!(header(&done, "X-Checksum-SHA256"), Some(sum.clone()));
    assert!(entries(&storage.join("uploads")).is_empty(), "the part became the object");
    let (status, body) = app.post_json(&format!("/api/transfers/{id}/publish"), Some(&c.owner_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{body}");
    let (status, checksum, bytes) = get_file(&app, &c.applicant_token, id, "register.bin").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(checksum, Some(sum));
    assert!(bytes.unwrap() == data, "the bytes that arrived in three requests and two processes");
    assert_eq!(offset_of(&app, &url, &c.owner_token).await, None, "the session ended");
}

#[rocket::async_test]
async fn a_resumable_upload_is_verified_given_up_or_dropped_when_abandoned() {
    use rocket::http::Method;
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let id = create_transfer(&app, &c).await;
    let storage = app.config().storage_dir.clone();
    let octets = ("Content-Type", "application/offset+octet-stream".to_string());
    let data = vec![7u8; 200_000];

    // A checksum that does not match: nothing is kept.
    let url = announce(&app, &c, id, "wrong.bin", data.len(), &sha256_hex(b"something else")).await;
    let resp =
        tus(&app, Method::Patch, &url, &c.owner_token, &[octets.clone(), ("Upload-Offset", "0".into())], &data).await;
    let (status, body) = crate::common::read_json(resp).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert!(body["fields"]["sha256"].is_array(), "{body}");
    assert_eq!(crate::transfers::files(&app, id).await.len(), 0);
    assert!(entries(&storage.join("uploads")).is_empty());

    // Given up by the client.
    let url = announce(&app, &c, id, "given-up.bin", data.len(), &sha256_hex(&data)).await;
    let resp = tus(
        &app,
        Method::Patch,
        &url,
        &c.owner_token,
        &[octets.clone(), ("Upload-Offset", "0".into())],
        &data[..70_000],
    )
    .await;
    assert_eq!(header(&resp, "Upload-Offset").as_deref(), Some("65536"));
    assert_eq!(tus(&app, Method::Delete, &url, &c.owner_token, &[], b"").await.status(), Status::NoContent);
    assert_eq!(offset_of(&app, &url, &c.owner_token).await, None);
    assert!(entries(&storage.join("uploads")).is_empty());

    // Abandoned: a day without a request, and the clean-up removes it with its bytes; an upload
    // still within its day stays.
    let old = announce(&app, &c, id, "old.bin", data.len(), &sha256_hex(&data)).await;
    let fresh = announce(&app, &c, id, "fresh.bin", data.len(), &sha256_hex(&data)).await;
    let file_of = |url: &str| url.rsplit('/').next().unwrap().to_string();
    app.sql(&format!(
        "UPDATE upload_sessions SET touched_at = now() - interval '25 hours' WHERE file_id = {}",
        file_of(&old)
    ))
    .await
    .unwrap();
    // The reservations are older than a streamed upload may rest, too: only the day counts.
    app.sql(
        "UPDATE transfer_files SET heartbeat_at = now() - interval '1 hour', created_at = now() - interval '1 hour'",
    )
    .await
    .unwrap();
    let store = app.client.rocket().state::<helsedataservice::storage::Storage>().unwrap();
    let mut conn = app.conn().await;
    let cleaned = helsedataservice::services::transfers::clean_unfinished_uploads(&mut conn, store, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(cleaned, 1);
    assert_eq!(offset_of(&app, &old, &c.owner_token).await, None);
    assert_eq!(offset_of(&app, &fresh, &c.owner_token).await, Some(0));
    assert_eq!(entries(&storage.join("uploads")).len(), 1, "only the fresh part is left");

    // An empty file is complete as soon as it is announced.
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let resp = tus(
        &app,
        Method::Post,
        &format!("/api/transfers/{id}/uploads"),
        &c.owner_token,
        &[("Upload-Length", "0".into()), ("Upload-Metadata", format!("filename {}", b64("empty.txt")))],
        b"",
    )
    .await;
    assert_eq!(resp.status(), Status::Created);
    assert_eq!(header(&resp, "Upload-Complete").as_deref(), Some("true"));
    assert_eq!(header(&resp, "X-Checksum-SHA256"), Some(sha256_hex(b"")));
    // Without a length or a name: refused, naming the header.
    let resp = tus(
        &app,
        Method::Post,
        &format!("/api/transfers/{id}/uploads"),
        &c.owner_token,
        &[("Upload-Length", "12".into())],
        b"",
    )
    .await;
    let (status, body) = crate::common::read_json(resp).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["Upload-Metadata"].is_array(), "{body}");
}
