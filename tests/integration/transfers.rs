//! Secure file transfers: a 3 MB round trip with checksums, encryption at rest, object-level
//! access, publish and download rules, receipts, delivery of the release and the application,
//! expiry, revocation, tampering, unfinished uploads and linkage between data holders.

use crate::applications_api::submitted;
use crate::common::{TestApp, TestUser, csrf_in};
use helsedataservice::db;
use helsedataservice::storage::Storage;
use rocket::http::{Header, Status};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const HDIR: &str = "983544622";
const FHI: &str = "983744516";

pub(crate) struct Case {
    pub(crate) id: i64,
    pub(crate) release: i64,
    pub(crate) applicant: TestUser,
    pub(crate) applicant_token: String,
    pub(crate) officer_token: String,
    pub(crate) owner_token: String,
}

/// An application for NPR (owned by Helsedirektoratet, decided by Helsedataservice), decided
/// with the release approved (or rejected).
pub(crate) async fn decided_case(app: &TestApp, approve: bool) -> Case {
    let applicant = app.user("applicant", None).await;
    let applicant_token = app.token(&applicant).await;
    let body = submitted(app, &applicant).await;
    let id = body["id"].as_i64().unwrap();
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    let (status, case) =
        app.post_json(&format!("/api/applications/{id}/complete"), Some(&officer_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{case}");
    let release = case["releases"][0]["id"].as_i64().unwrap();
    let decision = if approve { json!({"approve": true}) } else { json!({"approve": false, "reasons": "Nei."}) };
    let (status, r) = app.post_json(&format!("/api/releases/{release}/decide"), Some(&officer_token), decision).await;
    assert_eq!(status, Status::Ok, "{r}");
    let (status, d) = app.post_json(&format!("/api/applications/{id}/decide"), Some(&officer_token), json!({})).await;
    assert_eq!(status, Status::Ok, "{d}");
    let owner = app.user("register_owner", Some(HDIR)).await;
    let owner_token = app.token(&owner).await;
    if approve {
        accept_terms(app, &applicant_token, id).await;
    }
    Case { id, release, applicant, applicant_token, officer_token, owner_token }
}

/// The person behind `token` accepts the current data-use terms of every granted source of the
/// case (before any of its files reach them).
pub(crate) async fn accept_terms(app: &TestApp, token: &str, id: i64) {
    let (status, terms) = app.get_json(&format!("/api/applications/{id}/terms"), Some(token)).await;
    assert_eq!(status, Status::Ok, "{terms}");
    let ids: Vec<i64> = terms["terms"].as_array().unwrap().iter().map(|t| t["terms_id"].as_i64().unwrap()).collect();
    let (status, body) =
        app.post_json(&format!("/api/applications/{id}/terms"), Some(token), json!({"terms_ids": ids})).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["outstanding"], json!([]));
}

pub(crate) async fn create_transfer(app: &TestApp, c: &Case) -> i64 {
    let (status, t) =
        app.post_json(&format!("/api/releases/{}/transfers", c.release), Some(&c.owner_token), json!({})).await;
    assert_eq!(status, Status::Created, "{t}");
    assert_eq!(t["state"], "open");
    t["id"].as_i64().unwrap()
}

pub(crate) async fn put_file(
    app: &TestApp,
    token: &str,
    id: i64,
    name: &str,
    body: &[u8],
    checksum: Option<&str>,
) -> (Status, Value) {
    let mut req = app
        .client
        .put(format!("/api/transfers/{id}/files/{name}"))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .header(rocket::http::ContentType::Binary)
        .body(body);
    if let Some(sum) = checksum {
        req = req.header(Header::new("X-Checksum-SHA256", sum.to_string()));
    }
    crate::common::read_json(req.dispatch().await).await
}

pub(crate) async fn get_file(
    app: &TestApp,
    token: &str,
    id: i64,
    name: &str,
) -> (Status, Option<String>, Option<Vec<u8>>) {
    let resp = app
        .client
        .get(format!("/api/transfers/{id}/files/{name}"))
        .header(Header::new("Authorization", format!("Bearer {token}")))
        .dispatch()
        .await;
    let status = resp.status();
    let sum = resp.headers().get_one("X-Checksum-SHA256").map(str::to_string);
    (status, sum, resp.into_bytes().await)
}

pub(crate) async fn post(app: &TestApp, token: &str, path: String) -> (Status, Value) {
    app.post_json(&path, Some(token), json!({})).await
}

/// Whether the user has an in-app notice that files are ready.
async fn published_notice(app: &TestApp, token: &str) -> bool {
    let (_, body) = app.get_json("/api/notifications", Some(token)).await;
    body["notifications"].as_array().unwrap().iter().any(|n| n["kind"] == "transfer.published")
}

fn data(size: usize) -> Vec<u8> {
    // Text-like bytes so that a plaintext window is easy to look for in the stored object.
    (0..size).map(|i| b"Fiktive registerdata;lopenr;diagnose\n"[i % 37]).collect()
}

pub(crate) async fn files(app: &TestApp, id: i64) -> Vec<db::transfers::TransferFile> {
    let conn = app.conn().await;
    db::transfers::files_of(&conn, id).await.unwrap()
}

/// How many objects the store holds (attachments included).
fn stored_objects(app: &TestApp) -> usize {
    let objects = storage(app).object_path("00000000-0000-0000-0000-000000000000");
    let root = objects.parent().unwrap().parent().unwrap();
    std::fs::read_dir(root).unwrap().flatten().map(|d| std::fs::read_dir(d.path()).unwrap().count()).sum()
}

pub(crate) fn storage(app: &TestApp) -> &Storage {
    app.client.rocket().state::<Storage>().unwrap()
}

#[rocket::async_test]
async fn a_3_mb_file_round_trips_encrypted_with_receipts_and_delivers_the_application() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let stranger = app.user("applicant", None).await;
    let stranger_token = app.token(&stranger).await;
    let other_owner = app.user("register_owner", Some(FHI)).await;
    let other_owner_token = app.token(&other_owner).await;

    // Only the release's register owner creates a transfer; strangers do not even see the release.
    let path = format!("/api/releases/{}/transfers", c.release);
    assert_eq!(app.post_json(&path, Some(&stranger_token), json!({})).await.0, Status::NotFound);
    assert_eq!(app.post_json(&path, Some(&other_owner_token), json!({})).await.0, Status::NotFound);
    assert_eq!(app.post_json(&path, Some(&c.applicant_token), json!({})).await.0, Status::Forbidden);
    assert_eq!(app.post_json(&path, Some(&c.officer_token), json!({})).await.0, Status::Forbidden);
    let id = create_transfer(&app, &c).await;

    let body = data(3 * 1024 * 1024 + 123);
    let sum = hex::encode(Sha256::digest(&body));
    // Recipients and strangers cannot upload.
    assert_eq!(put_file(&app, &c.applicant_token, id, "x.csv", b"x", None).await.0, Status::Forbidden);
    assert_eq!(put_file(&app, &stranger_token, id, "x.csv", b"x", None).await.0, Status::NotFound);
    let (status, up) = put_file(&app, &c.owner_token, id, "uttrekk.csv", &body, Some(&sum.to_uppercase())).await;
    assert_eq!(status, Status::Created, "{up}");
    assert_eq!(up, json!({"name": "uttrekk.csv", "size": body.len(), "sha256": sum}));

    // Stored encrypted: no window of the plaintext in the object on disk.
    let stored = files(&app, id).await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].complete);
    let on_disk = std::fs::read(storage(&app).object_path(&stored[0].storage_key)).unwrap();
    assert!(on_disk.len() > body.len());
    assert!(!on_disk.windows(37).any(|w| w == &body[..37]), "the plaintext is not stored");
    let mut conn = app.conn().await;
    let live = db::transfers::live_storage_keys(&mut conn).await.unwrap();
    assert!(live.contains(&stored[0].storage_key), "master key rotation covers transfer files");
    assert_eq!(live.len(), 4, "and the three attachments");
    drop(conn);

    // Before publishing: recipients neither download nor see it.
    assert_eq!(get_file(&app, &c.applicant_token, id, "uttrekk.csv").await.0, Status::Conflict);
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["transfers"], json!([]));
    assert_eq!(post(&app, &c.applicant_token, format!("/api/transfers/{id}/publish")).await.0, Status::Forbidden);
    assert_eq!(post(&app, &stranger_token, format!("/api/transfers/{id}/publish")).await.0, Status::NotFound);
    let (status, published) = post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await;
    assert_eq!(status, Status::Ok, "{published}");
    assert_eq!(published["state"], "available");
    assert_eq!(post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await.0, Status::Conflict);
    assert_eq!(put_file(&app, &c.owner_token, id, "sent.csv", b"x", None).await.0, Status::Conflict);

    // Strangers get 404, the owner and officers do not download, the applicant does.
    assert_eq!(get_file(&app, &stranger_token, id, "uttrekk.csv").await.0, Status::NotFound);
    assert_eq!(get_file(&app, &other_owner_token, id, "uttrekk.csv").await.0, Status::NotFound);
    assert_eq!(get_file(&app, &c.owner_token, id, "uttrekk.csv").await.0, Status::Forbidden);
    assert_eq!(get_file(&app, &c.officer_token, id, "uttrekk.csv").await.0, Status::Forbidden);
    assert_eq!(get_file(&app, &c.applicant_token, id, "nothing.csv").await.0, Status::NotFound);
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["transfers"][0]["files"][0]["name"], "uttrekk.csv");
    assert_eq!(case["state"], "approved");
    let (status, header, got) = get_file(&app, &c.applicant_token, id, "uttrekk.csv").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(header.as_deref(), Some(sum.as_str()));
    assert!(got.as_deref() == Some(body.as_slice()), "byte-identical");

    // The receipt, the delivered release and application, the events.
    let (status, detail) = app.get_json(&format!("/api/transfers/{id}"), Some(&c.owner_token)).await;
    assert_eq!(status, Status::Ok, "{detail}");
    assert_eq!(detail["state"], "downloaded");
    let receipts = detail["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 1);
    assert_eq!(receipts[0]["user_email"], c.applicant.email.as_str());
    assert_eq!(receipts[0]["bytes"], body.len());
    assert_eq!(receipts[0]["sha256"], sum.as_str());
    assert!(receipts[0]["at"].is_string());
    let (_, seen) = app.get_json(&format!("/api/transfers/{id}"), Some(&c.applicant_token)).await;
    assert!(seen.get("receipts").is_none(), "recipients do not see the receipt list");
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.officer_token)).await;
    assert_eq!(case["state"], "delivered");
    assert!(case["delivered_at"].is_string());
    assert_eq!(case["releases"][0]["state"], "delivered");
    let kinds = app.event_kinds("application", c.id).await;
    for k in [
        "transfer.created",
        "transfer.file_uploaded",
        "transfer.published",
        "transfer.downloaded",
        "release.delivered",
        "application.delivered",
    ] {
        assert!(kinds.contains(&k.to_string()), "{k} in {kinds:?}");
    }

    // A second download is a second receipt and changes no state.
    let (status, _, _) = get_file(&app, &c.applicant_token, id, "uttrekk.csv").await;
    assert_eq!(status, Status::Ok);
    let (_, detail) = app.get_json(&format!("/api/transfers/{id}"), Some(&c.owner_token)).await;
    assert_eq!(detail["receipts"].as_array().unwrap().len(), 2);
}

#[rocket::async_test]
async fn delivery_waits_until_every_file_is_downloaded() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let id = create_transfer(&app, &c).await;
    put_file(&app, &c.owner_token, id, "a.csv", b"a;b\n1;2\n", None).await;
    put_file(&app, &c.owner_token, id, "b.csv", b"c;d\n3;4\n", None).await;
    post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await;
    assert_eq!(get_file(&app, &c.applicant_token, id, "a.csv").await.0, Status::Ok);
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["state"], "approved", "one of two files is not a delivery");
    assert_eq!(case["transfers"][0]["state"], "available");
    assert_eq!(get_file(&app, &c.applicant_token, id, "b.csv").await.0, Status::Ok);
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["state"], "delivered");
    assert_eq!(case["transfers"][0]["state"], "downloaded");
}

#[rocket::async_test]
async fn checksums_names_sizes_and_empty_transfers_are_checked() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let id = create_transfer(&app, &c).await;
    assert_eq!(
        post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await.0,
        Status::Conflict,
        "no files"
    );

    let objects_before = stored_objects(&app);
    let wrong = hex::encode(Sha256::digest(b"something else"));
    let (status, body) = put_file(&app, &c.owner_token, id, "a.csv", b"a;b\n", Some(&wrong)).await;
    assert_eq!(status, Status::UnprocessableEntity, "{body}");
    assert!(body["fields"]["sha256"].is_array(), "{body}");
    let (status, _) = put_file(&app, &c.owner_token, id, "a.csv", b"a;b\n", Some("not-hex")).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(files(&app, id).await.is_empty(), "nothing is kept of a refused upload");
    assert_eq!(stored_objects(&app), objects_before, "no stored object left behind");

    let too_big = vec![b'x'; 8 * 1024 * 1024 + 1];
    assert_eq!(put_file(&app, &c.owner_token, id, "big.bin", &too_big, None).await.0, Status::PayloadTooLarge);
    assert!(files(&app, id).await.is_empty());
    assert_eq!(stored_objects(&app), objects_before);

    // A name with folders keeps only its last part; the same name again replaces the file.
    let (status, up) = put_file(&app, &c.owner_token, id, "..%2F..%2Fetc%2Fpasswd", b"1", None).await;
    assert_eq!(status, Status::Created, "{up}");
    assert_eq!(up["name"], "passwd");
    let (status, up) = put_file(&app, &c.owner_token, id, "passwd", b"22", None).await;
    assert_eq!(status, Status::Created);
    assert_eq!(up["size"], 2);
    let stored = files(&app, id).await;
    assert_eq!(stored.len(), 1, "replaced, not duplicated");
    assert_eq!(stored[0].size, 2);
}

#[rocket::async_test]
async fn transfers_are_refused_for_undecided_and_rejected_releases() {
    let app = TestApp::new().await;
    let applicant = app.user("applicant", None).await;
    let body = submitted(&app, &applicant).await;
    let id = body["id"].as_i64().unwrap();
    let officer = app.user("case_officer", None).await;
    let officer_token = app.token(&officer).await;
    let (_, case) = app.post_json(&format!("/api/applications/{id}/complete"), Some(&officer_token), json!({})).await;
    let release = case["releases"][0]["id"].as_i64().unwrap();
    let owner = app.user("register_owner", Some(HDIR)).await;
    let owner_token = app.token(&owner).await;
    let path = format!("/api/releases/{release}/transfers");
    assert_eq!(app.post_json(&path, Some(&owner_token), json!({})).await.0, Status::Conflict, "pending");

    let c = decided_case(&app, false).await;
    let path = format!("/api/releases/{}/transfers", c.release);
    let (status, body) = app.post_json(&path, Some(&c.owner_token), json!({})).await;
    assert_eq!(status, Status::Conflict, "rejected: {body}");

    let c = decided_case(&app, true).await;
    let path = format!("/api/releases/{}/transfers", c.release);
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let (status, body) = app.post_json(&path, Some(&c.owner_token), json!({"expires_at": past})).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(body["fields"]["expires_at"].is_array());
    let far = (chrono::Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    assert_eq!(
        app.post_json(&path, Some(&c.owner_token), json!({"expires_at": far})).await.0,
        Status::UnprocessableEntity
    );
    let soon = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let (status, t) = app.post_json(&path, Some(&c.owner_token), json!({"expires_at": soon})).await;
    assert_eq!(status, Status::Created, "{t}");
    // Without a body the default expiry (30 days) applies.
    let resp = app
        .client
        .post(path.clone())
        .header(Header::new("Authorization", format!("Bearer {}", c.owner_token)))
        .dispatch()
        .await;
    let (status, t) = crate::common::read_json(resp).await;
    assert_eq!(status, Status::Created, "{t}");
    let expires: chrono::DateTime<chrono::Utc> = t["expires_at"].as_str().unwrap().parse().unwrap();
    assert!((expires - chrono::Utc::now() - chrono::Duration::days(30)).num_minutes().abs() < 5);
}

#[rocket::async_test]
async fn expiry_deletes_the_bytes_and_keeps_metadata_and_receipts() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let id = create_transfer(&app, &c).await;
    put_file(&app, &c.owner_token, id, "a.csv", b"a;b\n1;2\n", None).await;
    put_file(&app, &c.owner_token, id, "b.csv", b"c;d\n3;4\n", None).await;
    post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await;
    assert_eq!(get_file(&app, &c.applicant_token, id, "a.csv").await.0, Status::Ok);
    let stored = files(&app, id).await;
    let paths: Vec<_> = stored.iter().map(|f| storage(&app).object_path(&f.storage_key)).collect();
    assert!(paths.iter().all(|p| p.exists()));

    let mut conn = app.conn().await;
    let now = chrono::Utc::now();
    // Three days before expiry the recipients are warned, once.
    use helsedataservice::services::transfers::warn_expiring;
    assert_eq!(warn_expiring(&mut conn, now).await.unwrap(), 0);
    let soon = now + chrono::Duration::days(28);
    assert_eq!(warn_expiring(&mut conn, soon).await.unwrap(), 1);
    assert_eq!(warn_expiring(&mut conn, soon).await.unwrap(), 0);
    assert!(app.event_kinds("application", c.id).await.contains(&"transfer.expiring".to_string()));
    let (_, body) = app.get_json("/api/notifications", Some(&c.applicant_token)).await;
    assert!(body["notifications"].as_array().unwrap().iter().any(|n| n["kind"] == "transfer.expiring"));
    assert_eq!(helsedataservice::services::transfers::expire(&mut conn, storage(&app), now).await.unwrap(), 0);
    let later = now + chrono::Duration::days(31);
    assert_eq!(helsedataservice::services::transfers::expire(&mut conn, storage(&app), later).await.unwrap(), 1);
    assert_eq!(helsedataservice::services::transfers::expire(&mut conn, storage(&app), later).await.unwrap(), 0);
    assert!(paths.iter().all(|p| !p.exists()), "the bytes are deleted");

    let (_, detail) = app.get_json(&format!("/api/transfers/{id}"), Some(&c.owner_token)).await;
    assert_eq!(detail["state"], "expired");
    assert_eq!(detail["files"].as_array().unwrap().len(), 2, "metadata kept");
    assert_eq!(detail["files"][0]["deleted"], true);
    assert_eq!(detail["receipts"].as_array().unwrap().len(), 1, "receipts kept");
    assert_eq!(get_file(&app, &c.applicant_token, id, "b.csv").await.0, Status::Gone);
    assert!(app.event_kinds("application", c.id).await.contains(&"transfer.expired".to_string()));
}

#[rocket::async_test]
async fn revoking_stops_downloads_and_deletes_the_bytes() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let id = create_transfer(&app, &c).await;
    put_file(&app, &c.owner_token, id, "a.csv", b"a;b\n1;2\n", None).await;
    post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await;
    let path = storage(&app).object_path(&files(&app, id).await[0].storage_key);
    assert_eq!(post(&app, &c.applicant_token, format!("/api/transfers/{id}/revoke")).await.0, Status::Forbidden);
    let (status, body) = post(&app, &c.owner_token, format!("/api/transfers/{id}/revoke")).await;
    assert_eq!(status, Status::Ok, "{body}");
    assert_eq!(body["state"], "revoked");
    assert!(!path.exists());
    assert_eq!(get_file(&app, &c.applicant_token, id, "a.csv").await.0, Status::Gone);
    assert_eq!(post(&app, &c.owner_token, format!("/api/transfers/{id}/revoke")).await.0, Status::Conflict);
    assert!(app.event_kinds("application", c.id).await.contains(&"transfer.revoked".to_string()));
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["state"], "approved", "nothing was delivered");
}

#[rocket::async_test]
async fn tampered_ciphertext_fails_the_download_and_leaves_no_receipt() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let id = create_transfer(&app, &c).await;
    let body = data(200 * 1024);
    put_file(&app, &c.owner_token, id, "a.csv", &body, None).await;
    post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await;
    let path = storage(&app).object_path(&files(&app, id).await[0].storage_key);
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 100] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let (_, _, got) = get_file(&app, &c.applicant_token, id, "a.csv").await;
    assert!(got.as_deref() != Some(body.as_slice()), "altered data never passes as the file");
    let (_, detail) = app.get_json(&format!("/api/transfers/{id}"), Some(&c.owner_token)).await;
    assert_eq!(detail["receipts"], json!([]), "no receipt for a failed download");
    assert_eq!(detail["state"], "available");
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["state"], "approved");
}

#[rocket::async_test]
async fn unfinished_uploads_block_publishing_and_are_cleaned_up() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let id = create_transfer(&app, &c).await;
    put_file(&app, &c.owner_token, id, "a.csv", b"a;b\n", None).await;
    // An upload cut off by a crash: a reserved row, half an object in storage.
    let owner_id = files(&app, id).await[0].uploaded_by;
    let key = Storage::new_key();
    let mut conn = app.conn().await;
    let long_ago = chrono::Utc::now() - chrono::Duration::days(2);
    db::transfers::reserve_file(&mut conn, id, "half.csv", &key, owner_id, long_ago).await.unwrap();
    let half = storage(&app).object_path(&key);
    std::fs::create_dir_all(half.parent().unwrap()).unwrap();
    std::fs::write(&half, b"HDS1 partial").unwrap();
    assert_eq!(post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await.0, Status::Conflict);
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.officer_token)).await;
    assert_eq!(case["transfers"][0]["files"].as_array().unwrap().len(), 1, "an unfinished file is never listed");

    let cleaned =
        helsedataservice::services::transfers::clean_unfinished_uploads(&mut conn, storage(&app), chrono::Utc::now())
            .await
            .unwrap();
    assert_eq!(cleaned, 1);
    assert!(!half.exists());
    assert_eq!(files(&app, id).await.len(), 1);
    assert_eq!(post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await.0, Status::Ok);
}

#[rocket::async_test]
async fn linkage_transfers_go_to_the_receiving_organisation_only() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let fhi_id = {
        let conn = app.conn().await;
        db::catalogue::organisations(&conn)
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.organisation_number == FHI)
            .unwrap()
            .id
    };
    let path = format!("/api/releases/{}/transfers", c.release);
    let (status, t) = app.post_json(&path, Some(&c.owner_token), json!({"recipient_organisation_id": 999_999})).await;
    assert_eq!(status, Status::UnprocessableEntity, "{t}");
    let (status, t) = app.post_json(&path, Some(&c.owner_token), json!({"recipient_organisation_id": fhi_id})).await;
    assert_eq!(status, Status::Created, "{t}");
    let id = t["id"].as_i64().unwrap();
    put_file(&app, &c.owner_token, id, "koblingsnokkel.csv", b"lopenr;fnr_pseudo\n", None).await;
    post(&app, &c.owner_token, format!("/api/transfers/{id}/publish")).await;

    assert_eq!(get_file(&app, &c.applicant_token, id, "koblingsnokkel.csv").await.0, Status::NotFound);
    let fhi = app.user("register_owner", Some(FHI)).await;
    let fhi_token = app.token(&fhi).await;
    assert_eq!(get_file(&app, &fhi_token, id, "koblingsnokkel.csv").await.0, Status::Ok);
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["transfers"], json!([]), "the applicant does not see linkage extracts");
    assert!(!published_notice(&app, &c.applicant_token).await, "nor is told of them");
    assert_eq!(case["state"], "approved", "a linkage extract is not the delivery to the applicant");
    let (_, detail) = app.get_json(&format!("/api/transfers/{id}"), Some(&c.owner_token)).await;
    assert_eq!(detail["state"], "downloaded");
    assert_eq!(detail["receipts"][0]["user_email"], fhi.email.as_str());
}

fn multipart(csrf: Option<&str>, file_name: &str, body: &[u8]) -> (rocket::http::ContentType, Vec<u8>) {
    let boundary = "----hdsboundary7MA4YWxkTrZu0gW";
    let mut out = Vec::new();
    if let Some(token) = csrf {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n")
                .as_bytes(),
        );
    }
    out.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let ct = rocket::http::ContentType::new("multipart", "form-data").with_params(("boundary", boundary));
    (ct, out)
}

#[rocket::async_test]
async fn the_pages_create_upload_publish_list_download_and_show_receipts() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let owner = app.user("register_owner", Some(HDIR)).await;

    // The owner sees the create button on the case page and creates a transfer with a form.
    app.login(&owner).await;
    let (status, html) = app.page(&format!("/applications/{}", c.id)).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&format!("action=\"/releases/{}/transfers\"", c.release)), "create form offered");
    let csrf = crate::common::csrf_in(&html);
    let resp = app.form(&format!("/releases/{}/transfers", c.release), &[("expires_on", "")], None).await;
    assert_eq!(resp.status(), Status::Forbidden, "CSRF checked");
    let resp = app.form(&format!("/releases/{}/transfers", c.release), &[("expires_on", "")], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let location = resp.headers().get_one("Location").unwrap().to_string();
    let id: i64 = location.trim_start_matches("/transfers/").parse().unwrap();

    // Upload one file through the multipart form: refused without the token, stored with it.
    let body = data(300 * 1024);
    let (ct, form) = multipart(None, "uttrekk.csv", &body);
    let resp = app.client.post(format!("/transfers/{id}/files")).header(ct).body(form).dispatch().await;
    assert_eq!(resp.status(), Status::Forbidden);
    assert!(files(&app, id).await.is_empty());
    let (ct, form) = multipart(Some(&csrf), "C:\\data\\uttrekk.csv", &body);
    let resp = app.client.post(format!("/transfers/{id}/files")).header(ct).body(form).dispatch().await;
    assert_eq!(resp.status(), Status::SeeOther);
    let stored = files(&app, id).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "uttrekk.csv");
    assert_eq!(stored[0].sha256, hex::encode(Sha256::digest(&body)));
    let (status, html) = app.page(&format!("/transfers/{id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("uttrekk.csv") && html.contains(&stored[0].sha256));
    assert!(html.contains(&format!("action=\"/transfers/{id}/publish\"")));
    let resp = app.form(&format!("/transfers/{id}/publish"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);

    assert!(published_notice(&app, &c.applicant_token).await, "the applicant is told the files are ready");

    // The applicant's status page lists it with a download link; the download is receipted.
    app.login(&c.applicant).await;
    let (_, html) = app.page(&format!("/applications/{}", c.id)).await;
    let link = format!("/transfers/{id}/files/uttrekk.csv");
    assert!(html.contains(&link), "download link on the status page");
    let resp = app.client.get(link).dispatch().await;
    assert_eq!(resp.status(), Status::Ok);
    assert!(resp.into_bytes().await.unwrap() == body);
    let (status, html) = app.page(&format!("/transfers/{id}")).await;
    assert_eq!(status, Status::Ok);
    assert!(!html.contains("/revoke"), "recipients do not manage the transfer");

    app.login(&owner).await;
    let (_, html) = app.page(&format!("/transfers/{id}")).await;
    assert!(html.contains(&c.applicant.email), "the owner sees who downloaded");
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.officer_token)).await;
    assert_eq!(case["state"], "delivered");

    // A stranger's browser gets 404.
    let stranger = app.user("applicant", None).await;
    app.login(&stranger).await;
    assert_eq!(app.page(&format!("/transfers/{id}")).await.0, Status::NotFound);
    assert_eq!(
        app.client.get(format!("/transfers/{id}/files/uttrekk.csv")).dispatch().await.status(),
        Status::NotFound
    );
}

/// The organisation with `number`'s id.
async fn organisation_id(app: &TestApp, number: &str) -> i64 {
    let conn = app.conn().await;
    db::catalogue::organisations(&conn).await.unwrap().into_iter().find(|o| o.organisation_number == number).unwrap().id
}

#[rocket::async_test]
async fn a_linkage_case_is_delivered_when_the_receiver_delivers_the_linked_data() {
    let (app, sink) = TestApp::with_smtp_sink().await;
    let c = decided_case(&app, true).await;
    let fhi_id = organisation_id(&app, FHI).await;
    let fhi = app.user("register_owner", Some(FHI)).await;
    let fhi_token = app.token(&fhi).await;
    app.send_mail(chrono::Utc::now()).await;

    // Helsedirektoratet sends its NPR extract to FHI for linkage; FHI's staff are told by mail,
    // with a link to the transfer (they do not see the case).
    let (status, t) = app
        .post_json(
            &format!("/api/releases/{}/transfers", c.release),
            Some(&c.owner_token),
            json!({"recipient_organisation_id": fhi_id}),
        )
        .await;
    assert_eq!(status, Status::Created, "{t}");
    let extract = t["id"].as_i64().unwrap();
    assert_eq!(t["sender_organisation_id"], organisation_id(&app, HDIR).await, "sent by the release's owner");
    put_file(&app, &c.owner_token, extract, "npr_uttrekk.csv", b"lopenr;diagnose\n1;C50\n", None).await;
    assert_eq!(post(&app, &c.owner_token, format!("/api/transfers/{extract}/publish")).await.0, Status::Ok);
    let before = sink.messages().len();
    app.send_mail(chrono::Utc::now()).await;
    let mails: Vec<_> = sink.messages().into_iter().skip(before).collect();
    let to_fhi = mails.iter().find(|m| m.to == vec![fhi.email.clone()]).expect("FHI's staff are told");
    let text = to_fhi.part("text/plain").unwrap();
    assert!(text.contains("kobling") && text.contains(&format!("/transfers/{extract}")), "{text}");
    assert!(!mails.iter().any(|m| m.to == vec![c.applicant.email.clone()]), "the applicant is not told of an extract");

    // Warned before it expires (the scheduler's round, three days before).
    {
        let mut conn = app.conn().await;
        let later = chrono::Utc::now() + chrono::Duration::days(28);
        let warned = helsedataservice::services::transfers::warn_expiring(&mut conn, later).await.unwrap();
        assert_eq!(warned, 1);
    }
    let (_, notices) = app.get_json("/api/notifications", Some(&fhi_token)).await;
    let kinds: Vec<&str> =
        notices["notifications"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"linkage.published") && kinds.contains(&"linkage.expiring"), "{kinds:?}");

    // Linked data cannot be made before the extract is received, nor by anyone but the receiver.
    let linked_path = format!("/api/releases/{}/transfers", c.release);
    let (status, body) = app.post_json(&linked_path, Some(&fhi_token), json!({"linked_from": extract})).await;
    assert_eq!(status, Status::Conflict, "not yet received: {body}");
    let (status, _) = app.post_json(&linked_path, Some(&c.applicant_token), json!({"linked_from": extract})).await;
    assert_eq!(status, Status::NotFound);

    // FHI downloads the whole extract: its receipt. The sending release is delivered, the case
    // is not: the linked data are still owed.
    assert_eq!(get_file(&app, &fhi_token, extract, "npr_uttrekk.csv").await.0, Status::Ok);
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.officer_token)).await;
    assert_eq!(case["releases"][0]["state"], "delivered", "{case}");
    assert_eq!(case["state"], "approved", "the researcher has nothing yet");
    let kinds: Vec<&str> = case["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"linkage.received") && kinds.contains(&"release.delivered"), "{kinds:?}");

    // FHI sends the linked data to the researcher with a transfer of its own.
    let (status, linked) = app
        .post_json(&linked_path, Some(&fhi_token), json!({"linked_from": extract, "recipient_organisation_id": c.id}))
        .await;
    assert_eq!(status, Status::UnprocessableEntity, "linked data go to the researcher: {linked}");
    let (status, linked) = app.post_json(&linked_path, Some(&fhi_token), json!({"linked_from": extract})).await;
    assert_eq!(status, Status::Created, "{linked}");
    let linked_id = linked["id"].as_i64().unwrap();
    assert_eq!(linked["linked_from"], extract);
    assert_eq!(linked["sender_organisation_id"], fhi_id);
    // FHI uploads and publishes it; Helsedirektoratet does not (it is FHI's transfer).
    let (status, _) = put_file(&app, &c.owner_token, linked_id, "koblet.csv", b"x", None).await;
    assert_eq!(status, Status::NotFound);
    let (status, _) =
        put_file(&app, &fhi_token, linked_id, "koblet.csv", b"lopenr;diagnose;utdanning\n1;C50;5\n", None).await;
    assert_eq!(status, Status::Created);
    assert_eq!(post(&app, &fhi_token, format!("/api/transfers/{linked_id}/publish")).await.0, Status::Ok);
    assert!(published_notice(&app, &c.applicant_token).await, "the researcher is told");

    // The researcher downloads it: the case is delivered and the statistics count it.
    let (status, _, body) = get_file(&app, &c.applicant_token, linked_id, "koblet.csv").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(body.unwrap(), b"lopenr;diagnose;utdanning\n1;C50;5\n");
    let (_, case) = app.get_json(&format!("/api/applications/{}", c.id), Some(&c.applicant_token)).await;
    assert_eq!(case["state"], "delivered", "{case}");
    let kinds: Vec<&str> = case["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"linkage.delivered") && kinds.contains(&"application.delivered"), "{kinds:?}");
    let (_, stats) = app.get_json("/api/statistics", None).await;
    assert_eq!(stats["totals"]["delivered"], 1, "{stats}");
    assert_eq!(stats["case_handling_days"]["count"], 1, "the delivery is on the KPI: {stats}");

    // The pages: the receiver's extract page offers nothing more (linked data made) and links to
    // the linked transfer, without a link to the case it cannot see.
    app.login(&fhi).await;
    let (status, html) = app.page(&format!("/transfers/{extract}")).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains(&format!("href=\"/transfers/{linked_id}\"")), "the linked transfer is listed");
    assert!(!html.contains(&format!("href=\"/applications/{}\"", c.id)), "no link to a case it cannot see");
    assert!(!html.contains("/linked\""), "no second linked transfer offered");
}

#[rocket::async_test]
async fn the_receiver_makes_the_linked_transfer_from_the_extract_page() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let fhi_id = organisation_id(&app, FHI).await;
    let fhi = app.user("register_owner", Some(FHI)).await;
    let fhi_token = app.token(&fhi).await;
    {
        // The project links NPR with other data (as the form's linkage question says).
        use diesel_async::RunQueryDsl;
        let mut conn = app.conn().await;
        diesel::sql_query(format!(
            "UPDATE applications SET form = form || '{{\"linkage\": true, \"linkage_key\": \"fødselsnummer\"}}' WHERE id = {}",
            c.id
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }

    // The owner's case page offers the receiving holders when the data are to be linked.
    let owner = app.user("register_owner", Some(HDIR)).await;
    app.login(&owner).await;
    let (_, html) = app.page(&format!("/applications/{}", c.id)).await;
    assert!(
        html.contains("name=\"recipient_organisation_id\"") && html.contains(&format!("value=\"{fhi_id}\"")),
        "linkage form"
    );
    let csrf = crate::common::csrf_in(&html);
    let resp = app
        .form(
            &format!("/releases/{}/transfers", c.release),
            &[("expires_on", ""), ("recipient_organisation_id", &fhi_id.to_string())],
            Some(&csrf),
        )
        .await;
    assert_eq!(resp.status(), Status::SeeOther);
    let extract: i64 = resp.headers().get_one("Location").unwrap().trim_start_matches("/transfers/").parse().unwrap();
    put_file(&app, &c.owner_token, extract, "uttrekk.csv", b"a;b\n", None).await;
    post(&app, &c.owner_token, format!("/api/transfers/{extract}/publish")).await;
    get_file(&app, &fhi_token, extract, "uttrekk.csv").await;

    app.login(&fhi).await;
    let (status, html) = app.page(&format!("/transfers/{extract}")).await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains(&format!("action=\"/transfers/{extract}/linked\"")),
        "the receiver is offered the linked transfer"
    );
    let csrf = crate::common::csrf_in(&html);
    let resp = app.form(&format!("/transfers/{extract}/linked"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let location = resp.headers().get_one("Location").unwrap().to_string();
    let (status, html) = app.page(&location).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("name=\"file\""), "FHI uploads to its own transfer: {html}");
    assert!(html.contains(&format!("href=\"/transfers/{extract}\"")), "which names the extract");
    // The applicant's side cannot make linked data.
    app.login(&c.applicant).await;
    let (_, page) = app.page(&format!("/applications/{}", c.id)).await;
    let csrf = crate::common::csrf_in(&page);
    let resp = app.form(&format!("/transfers/{extract}/linked"), &[], Some(&csrf)).await;
    assert_eq!(resp.status(), Status::NotFound);
}

#[rocket::async_test]
async fn withdrawing_and_revoking_ask_first_and_one_click_changes_nothing() {
    let app = TestApp::new().await;

    // Withdrawing: the case page links to a page that asks; opening it changes nothing.
    let applicant = app.user("applicant", None).await;
    let submitted = crate::applications_api::submitted(&app, &applicant).await;
    let id = submitted["id"].as_i64().unwrap();
    app.login(&applicant).await;
    let (_, html) = app.page(&format!("/applications/{id}")).await;
    assert!(html.contains(&format!("href=\"/applications/{id}/withdraw\"")), "a link to the question");
    assert!(!html.contains(&format!("action=\"/applications/{id}/withdraw\"")), "not the act itself");
    let (status, ask) = app.page(&format!("/applications/{id}/withdraw")).await;
    assert_eq!(status, Status::Ok);
    assert!(ask.contains("Vil du trekke søknaden?") && ask.contains(&format!("href=\"/applications/{id}\"")), "{ask}");
    let token = app.token(&applicant).await;
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(case["state"], "submitted", "asking changed nothing");
    let stranger = app.user("applicant", None).await;
    app.login(&stranger).await;
    assert_eq!(app.page(&format!("/applications/{id}/withdraw")).await.0, Status::NotFound);
    app.login(&applicant).await;
    let resp = app.form(&format!("/applications/{id}/withdraw"), &[], Some(&csrf_in(&ask))).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, case) = app.get_json(&format!("/api/applications/{id}"), Some(&token)).await;
    assert_eq!(case["state"], "withdrawn");
    assert_eq!(app.page(&format!("/applications/{id}/withdraw")).await.0, Status::Conflict, "nothing left to withdraw");

    // Revoking a transfer: the same, for its owner only.
    let c = decided_case(&app, true).await;
    let t = create_transfer(&app, &c).await;
    put_file(&app, &c.owner_token, t, "data.csv", b"a;b\n", None).await;
    let owner = app.user("register_owner", Some(HDIR)).await;
    app.login(&owner).await;
    let (_, html) = app.page(&format!("/transfers/{t}")).await;
    assert!(
        html.contains(&format!("href=\"/transfers/{t}/revoke\""))
            && !html.contains(&format!("action=\"/transfers/{t}/revoke\""))
    );
    let (status, ask) = app.page(&format!("/transfers/{t}/revoke")).await;
    assert_eq!(status, Status::Ok);
    assert!(ask.contains("slettes for godt") && ask.contains(&format!("href=\"/transfers/{t}\"")), "{ask}");
    let (_, detail) = app.get_json(&format!("/api/transfers/{t}"), Some(&c.owner_token)).await;
    assert_eq!(detail["state"], "open", "asking changed nothing");
    app.login(&c.applicant).await;
    assert_eq!(
        app.page(&format!("/transfers/{t}/revoke")).await.0,
        Status::NotFound,
        "the applicant does not see an open transfer"
    );
    app.login(&owner).await;
    let resp = app.form(&format!("/transfers/{t}/revoke"), &[], Some(&csrf_in(&ask))).await;
    assert_eq!(resp.status(), Status::SeeOther);
    let (_, detail) = app.get_json(&format!("/api/transfers/{t}"), Some(&c.owner_token)).await;
    assert_eq!(detail["state"], "revoked");
    assert_eq!(app.page(&format!("/transfers/{t}/revoke")).await.0, Status::Conflict);
}

/// On a linkage case the register owner's page offers the other data holders as receivers of an
/// extract: not its own organisation and not Helsedataservice.
#[rocket::async_test]
async fn the_owners_page_offers_the_other_data_holders_for_linkage() {
    let app = TestApp::new().await;
    let c = decided_case(&app, true).await;
    let (fhi_id, hdir_id) = (organisation_id(&app, FHI).await, organisation_id(&app, HDIR).await);
    // The researcher asked for the sources to be linked.
    let conn = &mut *app.conn().await;
    let query = "UPDATE applications SET form = jsonb_set(form, '{linkage}', 'true') WHERE id = $1";
    diesel_async::RunQueryDsl::execute(diesel::sql_query(query).bind::<diesel::sql_types::BigInt, _>(c.id), conn)
        .await
        .unwrap();
    let owner = app.user("register_owner", Some(HDIR)).await;
    app.login(&owner).await;
    let (status, html) = app.page(&format!("/applications/{}", c.id)).await;
    assert_eq!(status, Status::Ok);
    let select = html
        .split("name=\"recipient_organisation_id\"")
        .nth(1)
        .expect("the receiver select")
        .split("</select>")
        .next()
        .unwrap();
    assert!(select.contains(&format!("value=\"{fhi_id}\"")), "{select}");
    assert!(!select.contains(&format!("value=\"{hdir_id}\"")), "not its own organisation: {select}");
    assert!(!select.contains("Helsedataservice"), "{select}");
}
