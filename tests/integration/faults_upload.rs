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
