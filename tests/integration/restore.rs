//! The backup and restore drill (issue 24 item 6), as `docs/operations.md` describes it: the
//! database is dumped with `pg_dump`, restored with `pg_restore` into a new database, and the
//! storage folder copied; the service started on the copies with the same master key serves the
//! restored cases, its files decrypt byte-identical, and the audit chain verifies.

use crate::common::{EmptyDatabase, TestApp};
use crate::transfers::{create_transfer, decided_case, get_file, put_file};
use rocket::http::Status;
use serde_json::json;
use std::path::Path;
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[rocket::async_test]
async fn a_dump_and_a_copy_of_the_storage_restore_the_service() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let transfer = create_transfer(&app, &c).await;
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (status, stored) = put_file(&app, &c.owner_token, transfer, "uttrekk.bin", &bytes, None).await;
    assert_eq!(status, Status::Created, "{stored}");
    let (status, _) =
        app.post_json(&format!("/api/transfers/{transfer}/publish"), Some(&c.owner_token), json!({})).await;
    assert_eq!(status, Status::Ok);
    let (_, before) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;

    // 1. The backup: a dump of the database and a copy of the storage folder.
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("hds.dump");
    let out = Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(&app.database_url)
        .output()
        .expect("pg_dump runs");
    assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
    let storage_copy = dir.path().join("storage");
    copy_dir(&app.config().storage_dir, &storage_copy);

    // 2. The restore: a new database, the dump restored into it, the service on the copies.
    let restored_db = EmptyDatabase::new();
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname"])
        .arg(&restored_db.url)
        .arg(&dump)
        .output()
        .expect("pg_restore runs");
    assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));
    let copy = storage_copy.clone();
    let restored = TestApp::on_database(restored_db.url.clone(), move |config| config.storage_dir = copy).await;

    // 3. The restored service serves the cases (the same answer), the files decrypt
    //    byte-identical, and the audit chain verifies.
    let (status, after) = restored.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(status, Status::Ok, "{after}");
    assert_eq!(after, before, "the restored case is the case");
    let (status, sum, back) = get_file(&restored, &c.applicant_token, transfer, "uttrekk.bin").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(back.as_deref(), Some(&bytes[..]), "the file decrypts byte-identical");
    assert_eq!(sum.as_deref(), stored["sha256"].as_str());
    let mut conn = restored.conn().await;
    let system = helsedataservice::services::Actor { user_id: None, address: None };
    let check = helsedataservice::services::audit::verify(&mut conn, &system, chrono::Utc::now()).await.unwrap();
    assert!(check.events_checked > 10, "{check:?}");
    assert_eq!(check.first_broken, None, "the restored audit chain verifies");
    drop(conn);
    drop(restored);
}
