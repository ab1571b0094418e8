//! Helsedataservice: one front door to Norway's health registers. This crate builds the Rocket
//! instance (used by `main` and by the tests).

pub mod assets;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod jobs;
pub mod mail;
pub mod services;
pub mod storage;
pub mod templating;
pub mod web;

use config::Config;
use rocket::figment::Figment;
use rocket::{Build, Rocket};

/// Prepares the database (migrations, the first admin) and builds the application.
/// `config.database_url` must be set (main provides the private cluster when it is not).
pub async fn build(figment: Figment, config: Config) -> Result<Rocket<Build>, String> {
    let url = config.database_url.clone().ok_or("DATABASE_URL is not set")?;
    let pool = db::pool(&url, config.pool_size)?;
    db::migrate(&pool).await?;
    if let Some((email, password)) = &config.admin {
        let mut conn = pool.get().await.map_err(|e| format!("cannot connect to the database: {e}"))?;
        services::accounts::ensure_admin(&mut conn, email, password, chrono::Utc::now())
            .await
            .map_err(|e| format!("creating the first admin ({email}): {e}"))?;
    }
    let master_key = config.master_key.ok_or("STORAGE_MASTER_KEY is not set")?;
    let storage = open_storage(&config, master_key).await?;
    {
        // Uploads cut off by a crash or restart are never finished: drop their reservations (not
        // those another instance on the same database is receiving right now).
        let mut conn = pool.get().await.map_err(|e| format!("cannot connect to the database: {e}"))?;
        services::transfers::clean_unfinished_uploads(&mut conn, &storage, chrono::Utc::now())
            .await
            .map_err(|e| format!("cleaning unfinished uploads: {e}"))?;
    }
    let documents = templating::Documents::load()?;
    let pages = templating::Pages::load()?;
    // The metrics recorder, before the first request is counted.
    web::metrics::handle();
    let assets = assets::Assets::extract()?;
    let mailer = std::sync::Arc::new(mail::Mailer::new(&config)?);
    let https = config.public_url.starts_with("https://");
    // No `Server: Rocket` banner (it tells a prober what to try).
    let figment = figment.merge(("ident", false));
    let static_files = assets.static_files.clone();
    let rocket = rocket::custom(figment)
        .manage(assets)
        .manage(documents)
        .manage(pages)
        .manage(mailer)
        .manage(pool)
        .manage(storage)
        .manage(web::upload_limits::UploadSlots::new(config.uploads_per_account))
        .manage(config)
        .attach(web::security::shield())
        .attach(web::metrics::RequestMetrics)
        .attach(web::api::uploads::TusHeaders)
        .attach(web::security::SecurityHeaders { https });
    Ok(web::mount(rocket, &static_files))
}

/// The configured object store: S3-compatible when `STORAGE_S3_URL` is set, else `STORAGE_DIR`.
pub async fn open_storage(config: &Config, master_key: [u8; 32]) -> Result<storage::Storage, String> {
    match &config.storage_s3 {
        None => storage::Storage::open(&config.storage_dir, master_key)
            .await
            .map_err(|e| format!("cannot use STORAGE_DIR {}: {e}", config.storage_dir.display())),
        #[cfg(feature = "s3")]
        Some(s3) => storage::Storage::open_s3(s3, master_key, &config.storage_dir)
            .await
            .map_err(|e| format!("cannot use the S3 bucket {} at STORAGE_S3_URL {}: {e}", s3.bucket, s3.url)),
        #[cfg(not(feature = "s3"))]
        Some(_) => Err("STORAGE_S3_URL is set but this build has no S3 support (build with the `s3` feature)".into()),
    }
}
