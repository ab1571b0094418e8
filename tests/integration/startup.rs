//! Start-up: a malformed or missing setting stops the binary with one line naming it.

use std::process::Command;

fn run_with(env: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_helsedataservice"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env("DATABASE_URL", "postgres://127.0.0.1:1/never_used");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.arg("serve").output().expect("the binary runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).to_string())
}

fn assert_one_line_naming(setting: &str, env: &[(&str, &str)]) {
    let (code, stderr) = run_with(env);
    assert_eq!(code, 2, "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stderr}");
    assert!(lines[0].contains(setting), "names {setting}: {stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn malformed_settings_stop_start_up_with_one_line() {
    assert_one_line_naming("ROCKET_PORT", &[("ROCKET_PORT", "not-a-port")]);
    assert_one_line_naming("SMTP_URL", &[("SMTP_URL", "ftp://mail.example")]);
    assert_one_line_naming("MAIL_FROM", &[("MAIL_FROM", "not an address")]);
    assert_one_line_naming("ADMIN_PASSWORD", &[("ADMIN_EMAIL", "admin@example.no")]);
    assert_one_line_naming("ADMIN_PASSWORD", &[("ADMIN_EMAIL", "admin@example.no"), ("ADMIN_PASSWORD", "short")]);
    assert_one_line_naming("ADMIN_EMAIL", &[("ADMIN_EMAIL", "nope"), ("ADMIN_PASSWORD", "Sterkt-passord-1")]);
    assert_one_line_naming("DATABASE_URL", &[("DATABASE_URL", "mysql://x")]);
    assert_one_line_naming("DATABASE_POOL_SIZE", &[("DATABASE_POOL_SIZE", "lots")]);
    assert_one_line_naming("DATABASE_POOL_SIZE", &[("DATABASE_POOL_SIZE", "1")]);
    // With JSON logs the line is a JSON object too, as every other line of the service.
    let (code, stderr) = run_with(&[("LOG_FORMAT", "json"), ("ROCKET_PORT", "not-a-port")]);
    assert_eq!(code, 2, "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stderr}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(line["level"], "ERROR");
    assert!(line["fields"]["message"].as_str().unwrap().contains("ROCKET_PORT"), "{line}");
}

/// Also on a first start, with no storage master key yet (a fresh clone: the key's check asks
/// the database first; it failed with a line that did not say what was unreachable).
#[test]
fn an_unreachable_database_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_helsedataservice"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", "postgres://127.0.0.1:1/never_used")
        .env("STORAGE_DIR", dir.path().join("storage"))
        .env("ROCKET_PORT", "0")
        .arg("serve")
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot connect to the database"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    assert!(!dir.path().join("var/storage_master_key").exists(), "no key kept from a start that failed");
    // With a key already there, the same line.
    let (code, stderr) =
        run_with(&[("ROCKET_PORT", "0"), ("STORAGE_MASTER_KEY", "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot connect to the database"), "{stderr}");
}

/// Issue 24 item 2: the binary needs no source tree. Started in an empty folder with settings
/// from the environment alone (no `Rocket.toml`, no `templates/`, no `static/` beside it), it
/// serves pages, the style sheet and the decision-letter and mail templates from itself.
#[rocket::async_test]
async fn the_binary_serves_everything_from_an_empty_folder() {
    let app = crate::common::TestApp::new().await;
    let empty = tempfile::tempdir().unwrap();
    let storage = tempfile::tempdir().unwrap();
    let (mut child, base, up) =
        serve_binary(&app.database_url, empty.path(), storage.path(), &[("LOG_FORMAT", "json")]).await;
    let http = reqwest::Client::new();
    let result = async {
        assert!(up, "the service came up in an empty folder");
        for (path, needle) in [
            ("/", "Helsedataservice"),
            ("/login", "name=\"password\""),
            ("/static/app.css", ".table-wrap"),
            ("/accessibility", "WCAG"),
        ] {
            let resp = http.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 200, "{path}");
            assert!(resp.text().await.unwrap().contains(needle), "{path} has {needle}");
        }
        let written: Vec<String> = walk(empty.path());
        assert!(written.is_empty(), "nothing written to the working folder: {written:?}");
    }
    .await;
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    // Issue 24 item 5: with LOG_FORMAT=json every log line is a JSON object.
    let logs = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "the service logged something");
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{line}");
    }
    result
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        out.push(e.path().display().to_string());
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        }
    }
    out
}

/// A service whose log output has gone away (its stdout and stderr closed, as when a log
/// collector stops) still stops on SIGTERM: a log line that cannot be written is dropped. Before,
/// the failed write's own report (`eprintln!`) panicked in the task that logged, and the signal's
/// task logs "Received SIGTERM" before it asks for the shutdown: the service never stopped.
#[rocket::async_test]
async fn a_service_whose_logs_are_gone_still_stops_on_sigterm() {
    let app = crate::common::TestApp::new().await;
    let storage = tempfile::tempdir().unwrap();
    let (mut child, _, up) = serve_binary(&app.database_url, storage.path(), storage.path(), &[]).await;
    // The readers go away: every later write to either stream fails.
    drop(child.stdout.take());
    drop(child.stderr.take());
    let stopped = async {
        assert!(up, "the service came up");
        let sent = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        assert!(sent.success());
        for _ in 0..200 {
            if child.try_wait().unwrap().is_some() {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    }
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(stopped, "stopped within 20 s of SIGTERM");
}

/// The binary serving `serve` on a free port from `workdir`, with settings from the environment
/// alone (no `Rocket.toml`: its database, its files under `storage`, and `extra`), its output
/// piped: the child, its base URL, and whether `/health` answered within 30 s.
async fn serve_binary(
    database_url: &str,
    workdir: &std::path::Path,
    storage: &std::path::Path,
    extra: &[(&str, &str)],
) -> (std::process::Child, String, bool) {
    use base64::Engine;
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_helsedataservice"));
    cmd.current_dir(workdir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("STORAGE_DIR", storage)
        .env("MAIL_DIR", storage.join("mail"))
        .env("STORAGE_MASTER_KEY", b64(&[3u8; 32]))
        .env("ROCKET_SECRET_KEY", b64(&[7u8; 64]))
        .env("ROCKET_PORT", port.to_string());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let child =
        cmd.arg("serve").stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http.get(format!("{base}/health")).send().await.is_ok_and(|r| r.status().is_success()) {
            return (child, base, true);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    (child, base, false)
}

/// A missing master key is never replaced while files are stored under it: without
/// `STORAGE_MASTER_KEY` and without `var/storage_master_key`, the service refuses to start on a
/// database that holds stored files, and takes back the key it made. It used to start with a
/// new key, and every old file failed at its first download.
#[rocket::async_test]
async fn a_missing_master_key_is_not_replaced_while_files_are_stored() {
    let app = crate::common::TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    crate::applications_api::submitted(&app, &applicant).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_helsedataservice"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .env("STORAGE_DIR", dir.path().join("storage"))
        .env("MAIL_DIR", dir.path().join("mail"))
        .env("ROCKET_PORT", "0")
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = None;
    for _ in 0..300 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if status.is_none() {
        let _ = child.kill();
        panic!("the service started without the key its stored files need");
    }
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.unwrap().success());
    assert!(err.contains("no storage master key was found") && err.contains("stored files"), "{err}");
    assert!(!dir.path().join("var/storage_master_key").exists(), "the key it made is taken back");

    // Nor when the database is not there yet: the next start must ask it again.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_helsedataservice"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", format!("postgres://postgres@127.0.0.1:{closed}/none"))
        .env("STORAGE_DIR", dir.path().join("storage"))
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(!dir.path().join("var/storage_master_key").exists(), "no key kept from a start that failed");
}

/// Rotating the master key where none of the stored files is found (this shell's STORAGE_DIR is
/// not the service's) changes nothing and fails; it reported success and replaced the key file,
/// after which no file opened.
#[rocket::async_test]
async fn rotating_the_master_key_against_the_wrong_storage_changes_nothing() {
    use base64::Engine;
    let app = crate::common::TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    crate::applications_api::submitted(&app, &applicant).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("var")).unwrap();
    std::fs::write(dir.path().join("var/storage_master_key"), [3u8; 32]).unwrap();
    let new = base64::engine::general_purpose::STANDARD.encode([4u8; 32]);
    let out = Command::new(env!("CARGO_BIN_EXE_helsedataservice"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &app.database_url)
        .env("STORAGE_DIR", dir.path().join("elsewhere"))
        .env("NEW_STORAGE_MASTER_KEY", new)
        .arg("rotate-master-key")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("none of the") && err.contains("Nothing was changed"), "{err}");
    assert_eq!(std::fs::read(dir.path().join("var/storage_master_key")).unwrap(), [3u8; 32], "the key is kept");
}

/// `PUBLIC_URL` as the README says: the environment wins over every profile of `Rocket.toml`
/// (a `[debug]` or `[release]` value beat it), and a value in the file alone is used (it was
/// replaced by the listening address, so mail links pointed at 127.0.0.1). Seen from outside as
/// the HSTS header an https public address turns on.
#[rocket::async_test]
async fn public_url_comes_from_the_environment_then_the_file() {
    let app = crate::common::TestApp::new().await;
    let hsts = async |toml: &str, env: &[(&str, &str)]| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Rocket.toml"), toml).unwrap();
        let (mut child, base, up) = serve_binary(&app.database_url, dir.path(), dir.path(), env).await;
        let resp = reqwest::get(format!("{base}/health/live")).await;
        let _ = child.kill();
        let _ = child.wait();
        assert!(up, "the service started");
        resp.unwrap().headers().contains_key("strict-transport-security")
    };
    let file_http = "[debug]\npublic_url = \"http://fra-filen.example\"\n";
    assert!(hsts(file_http, &[("PUBLIC_URL", "https://fra-miljoet.example")]).await, "the environment wins");
    let file_https = "[default]\npublic_url = \"https://fra-filen.example\"\n";
    assert!(hsts(file_https, &[]).await, "the file's value is used");
    assert!(!hsts("", &[]).await, "neither: the listening address, plain http");
}

/// A mail server that does not answer shows in the log at start, not only as the first
/// message's failed attempts minutes later; the service runs (mail waits in the outbox).
#[rocket::async_test]
async fn a_mail_server_that_does_not_answer_is_logged_at_start() {
    let app = crate::common::TestApp::new().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let smtp = format!("smtp://127.0.0.1:{closed}");
    let (mut child, _, up) = serve_binary(&app.database_url, dir.path(), dir.path(), &[("SMTP_URL", &smtp)]).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let _ = child.kill();
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut out).unwrap();
    let _ = child.wait();
    assert!(up, "the service runs: {out}");
    assert!(out.contains("the mail server does not answer"), "{out}");
}
