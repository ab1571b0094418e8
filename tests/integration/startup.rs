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
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let (code, stderr) = run_with(&[("ROCKET_PORT", "0")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("database"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}
