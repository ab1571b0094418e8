//! Starts Helsedataservice: `helsedataservice [serve|demo|verify-audit|rotate-master-key|stop-cluster DIR]`.

use helsedataservice::config::{self, Config};
use helsedataservice::db::{
    self,
    cluster::{Cluster, Durability},
};
use helsedataservice::services::demo;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// mimalloc instead of glibc's allocator: page rendering allocates many small values (JSON
/// contexts, strings), and glibc's malloc took about 40 % of the service's CPU under load
/// (`perf`; README, "Load benchmark").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage: helsedataservice [serve | demo | verify-audit | rotate-master-key | stop-cluster DIR]";

#[rocket::main]
async fn main() -> ExitCode {
    // Logs as JSON lines for a log collector with `LOG_FORMAT=json`, else as plain lines. A line
    // that cannot be written (the collector gone) is dropped: by default the subscriber reports
    // it with `eprintln!`, which panics when stderr is gone too, in whichever task logged; the
    // signal's task logs before it asks for the shutdown, so SIGTERM then stopped nothing.
    let logs = tracing_subscriber::fmt().log_internal_errors(false).with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,rocket=warn,hyper=warn".into()),
    );
    if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.init();
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["serve"] => serve(false).await,
        ["demo"] => serve(true).await,
        ["verify-audit"] => verify_audit().await,
        ["rotate-master-key"] => rotate_master_key().await,
        ["stop-cluster", dir] => Cluster::stop_if_running(Path::new(dir)).map(|_| ()).map_err(|e| e.to_string()),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // One line on stderr, as JSON too when the logs are (a collector reads one format);
            // written, not `eprintln!`, which panics when stderr is gone.
            let line = if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
                serde_json::json!({
                    "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    "level": "ERROR", "target": "helsedataservice",
                    "fields": {"message": format!("helsedataservice: {message}")},
                })
                .to_string()
            } else {
                format!("helsedataservice: {message}")
            };
            let _ = writeln!(std::io::stderr(), "{line}");
            ExitCode::from(2)
        }
    }
}

/// The settings, or one line naming the bad one.
fn settings() -> Result<(rocket::figment::Figment, Config), String> {
    let figment = config::figment();
    let config = Config::from_figment(&figment).map_err(|e| e.to_string())?;
    // Only a service without `ROCKET_SECRET_KEY` keeps a key of its own under `var/`.
    let figment = if config::secret_key_configured(&figment) {
        figment
    } else {
        config::with_secret_key(figment, &secret_key()?)
    };
    let rocket_config = config::check_rocket_settings(&figment).map_err(|e| e.to_string())?;
    let mut config = config;
    // Not set anywhere (environment or file): the address the service listens on.
    if figment.find_value("public_url").is_err() {
        let address = rocket_config.address;
        let host = if address.is_unspecified() { "127.0.0.1".to_string() } else { address.to_string() };
        config.public_url = format!("http://{host}:{}", rocket_config.port);
    }
    Ok((figment, config))
}

/// The key for private cookies: `ROCKET_SECRET_KEY` when set, else one kept in `var/secret_key`.
fn secret_key() -> Result<Vec<u8>, String> {
    let path = Path::new("var/secret_key");
    if let Ok(existing) = std::fs::read(path)
        && existing.len() == 64
    {
        return Ok(existing);
    }
    let (a, _) = helsedataservice::services::accounts::new_secret();
    let (b, _) = helsedataservice::services::accounts::new_secret();
    let key = hex::decode(format!("{a}{b}")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all("var").map_err(|e| format!("cannot create var/: {e}"))?;
    std::fs::write(path, &key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    Ok(key)
}

/// The storage master key: `STORAGE_MASTER_KEY` when set, else one kept in `var/storage_master_key`
/// (losing that file makes every stored file unreadable: back it up with the database). A new key
/// is made only when the file does not exist (returns true then); a file that cannot be read
/// is an error, not a reason to start over with another key.
fn master_key(config: &mut Config) -> Result<bool, String> {
    if config.master_key.is_some() {
        return Ok(false);
    }
    let path = Path::new(MASTER_KEY_FILE);
    let mut made = false;
    let key = match std::fs::read(path) {
        Ok(bytes) => bytes.try_into().map_err(|_| format!("{} must hold exactly 32 bytes", path.display()))?,
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("cannot read {}: {e}", path.display()));
        }
        Err(_) => {
            made = true;
            let (secret, _) = helsedataservice::services::accounts::new_secret();
            let key: [u8; 32] = hex::decode(secret).map_err(|e| e.to_string())?.try_into().map_err(|_| "key length")?;
            std::fs::create_dir_all("var").map_err(|e| format!("cannot create var/: {e}"))?;
            std::fs::write(path, key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            key
        }
    };
    config.master_key = Some(key);
    Ok(made)
}

const MASTER_KEY_FILE: &str = "var/storage_master_key";

/// After a master key was made because none was found: refuses (and takes the new key back) when
/// the database already holds stored files, which were encrypted under a key that is missing
/// (a rebuilt state folder, an added instance without `STORAGE_MASTER_KEY`), instead of starting
/// and failing only when someone downloads one of them.
async fn check_new_master_key(config: &Config) -> Result<(), String> {
    let url = config.database_url.clone().unwrap_or_default();
    let pool = db::pool(&url, 1)?;
    let mut conn = pool.get().await.map_err(|e| format!("cannot connect to the database: {e}"))?;
    let stored = match db::transfers::live_storage_keys(&mut conn).await {
        Ok(keys) => keys.len(),
        // Before the first migration the tables are not there: nothing is stored then.
        Err(diesel::result::Error::DatabaseError(_, info)) if info.message().contains("does not exist") => 0,
        Err(e) => return Err(format!("cannot tell whether files are stored: {e}")),
    };
    if stored == 0 {
        return Ok(());
    }
    Err(format!(
        "no storage master key was found (STORAGE_MASTER_KEY is not set and {MASTER_KEY_FILE} does not exist), \
         but the database holds {stored} stored files encrypted under one: restore {MASTER_KEY_FILE} from the \
         backup or set STORAGE_MASTER_KEY"
    ))
}

/// The configured database, or the private cluster under `var/pg` (started if needed).
async fn database(config: &mut Config) -> Result<Option<Cluster>, String> {
    if config.database_url.is_some() {
        return Ok(None);
    }
    let cluster = tokio::task::spawn_blocking(|| Cluster::ensure(Path::new("var/pg"), Durability::Durable))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("no DATABASE_URL is set and the private PostgreSQL cluster could not be started: {e}"))?;
    db::create_database_if_missing(&cluster.url("postgres"), "helsedataservice").await?;
    config.database_url = Some(cluster.url("helsedataservice"));
    Ok(Some(cluster))
}

async fn serve(with_demo: bool) -> Result<(), String> {
    let (figment, mut config) = settings()?;
    let made = master_key(&mut config)?;
    // A key made here stays only once the database says no file needs another: any failure
    // before that (no database yet, say) takes it back, so the next start checks again.
    let take_back = |e: String| {
        if made {
            let _ = std::fs::remove_file(MASTER_KEY_FILE);
        }
        e
    };
    let cluster = database(&mut config).await.map_err(take_back)?;
    let result = match if made { check_new_master_key(&config).await.map_err(take_back) } else { Ok(()) } {
        Ok(()) => run(figment, config, with_demo).await,
        Err(e) => Err(e),
    };
    if let Some(c) = cluster.filter(|c| c.started_here) {
        // Not `eprintln!`: with stderr gone it would panic before the cluster is stopped.
        let _ = writeln!(std::io::stderr(), "stopping the private PostgreSQL cluster");
        let _ = tokio::task::spawn_blocking(move || c.stop()).await;
    }
    result
}

async fn run(figment: rocket::figment::Figment, config: Config, with_demo: bool) -> Result<(), String> {
    let started = std::time::Instant::now();
    let rocket = helsedataservice::build(figment, config).await?;
    if with_demo {
        let pool = rocket.state::<db::Pool>().ok_or("no pool")?;
        let mut conn = pool.get().await.map_err(|e| e.to_string())?;
        let now = chrono::Utc::now();
        demo::seed_catalogue(&mut conn, now).await.map_err(|e| format!("demo catalogue: {e}"))?;
        demo::seed_users(&mut conn, now).await.map_err(|e| format!("demo users: {e}"))?;
        let storage = rocket.state::<helsedataservice::storage::Storage>().ok_or("no storage")?;
        let documents = rocket.state::<helsedataservice::templating::Documents>().ok_or("no documents")?;
        let config = rocket.state::<Config>().ok_or("no config")?;
        let cases = demo::seed_history(&mut conn, pool, storage, documents, config, now)
            .await
            .map_err(|e| format!("demo history: {e}"))?;
        if cases > 0 {
            tracing::info!("demo history: {cases} cases over the last twelve months");
        }
    }
    if let Some(pool) = rocket.state::<db::Pool>() {
        let mailer = rocket.state::<std::sync::Arc<helsedataservice::mail::Mailer>>().ok_or("no mailer")?;
        let config = rocket.state::<Config>().ok_or("no config")?;
        let storage = rocket.state::<helsedataservice::storage::Storage>().ok_or("no storage")?;
        helsedataservice::jobs::spawn(pool.clone(), mailer.clone(), config.clone(), storage.clone());
    }
    let rocket = rocket
        .attach(rocket::fairing::AdHoc::on_liftoff("banner", move |r| {
            Box::pin(async move {
                let c = r.config();
                let ms = started.elapsed().as_millis();
                if std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
                    // Nothing but JSON lines on stdout for the log collector.
                    tracing::info!(address = %c.address, port = c.port, ready_ms = ms as u64, "Helsedataservice is running");
                    return;
                }
                // Written, not `println!`: a closed stdout must not panic the launch.
                let mut out = std::io::stdout().lock();
                let _ = writeln!(
                    out,
                    "\nHelsedataservice is running at http://{}:{}/  (ready in {ms} ms; Ctrl-C stops it)",
                    c.address, c.port
                );
                if with_demo {
                    let _ = writeln!(out, "Demo logins (fictitious people):");
                    for l in demo::DEMO_LOGINS {
                        let _ = writeln!(out, "  {:<16} {:<34} password: {}", l.role, l.email, l.password);
                    }
                }
            })
        }))
        .launch()
        .await;
    rocket.map(|_| ()).map_err(|e| format!("the server stopped: {e}"))
}

async fn verify_audit() -> Result<(), String> {
    let (_, mut config) = settings()?;
    let cluster = database(&mut config).await?;
    let url = config.database_url.clone().unwrap_or_default();
    let pool = db::pool(&url, 1)?;
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    let report = db::events::verify_chain(&mut conn).await.map_err(|e| e.to_string())?;
    drop(conn);
    if let Some(c) = cluster.filter(|c| c.started_here) {
        let _ = tokio::task::spawn_blocking(move || c.stop()).await;
    }
    match report.first_broken {
        None => {
            println!("audit chain intact: {} events verified", report.checked);
            Ok(())
        }
        Some(id) => Err(format!("audit chain BROKEN at event {id} (after {} intact events)", report.checked)),
    }
}

/// Re-wraps every stored file's key under `NEW_STORAGE_MASTER_KEY` (run with the service
/// stopped). Safe to run again after an interruption: objects already re-wrapped are skipped.
async fn rotate_master_key() -> Result<(), String> {
    let (_, mut config) = settings()?;
    let key_from_file = config.master_key.is_none();
    if master_key(&mut config)? {
        let _ = std::fs::remove_file(MASTER_KEY_FILE);
        return Err(format!(
            "no storage master key to rotate: set STORAGE_MASTER_KEY or run where {MASTER_KEY_FILE} is"
        ));
    }
    let old = config.master_key.ok_or("no master key")?;
    let new = std::env::var("NEW_STORAGE_MASTER_KEY")
        .ok()
        .and_then(|t| config::parse_master_key(&t))
        .ok_or("set NEW_STORAGE_MASTER_KEY to the new key: 32 bytes in base64 (e.g. `openssl rand -base64 32`)")?;
    let cluster = database(&mut config).await?;
    let url = config.database_url.clone().unwrap_or_default();
    let pool = db::pool(&url, 1)?;
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    let keys = db::transfers::live_storage_keys(&mut conn).await.map_err(|e| e.to_string())?;
    drop(conn);
    let storage = helsedataservice::open_storage(&config, old).await?;
    let (mut rewrapped, mut skipped, mut missing) = (0, 0, 0);
    let mut failure = None;
    for key in &keys {
        match storage.rewrap(key, new).await {
            Ok(true) => rewrapped += 1,
            Ok(false) => skipped += 1,
            Err(helsedataservice::storage::StorageError::NotFound) => missing += 1,
            Err(e) => {
                failure = Some(format!("object {key}: {e}; fix the cause and run the command again"));
                break;
            }
        }
    }
    if let Some(c) = cluster.filter(|c| c.started_here) {
        let _ = tokio::task::spawn_blocking(move || c.stop()).await;
    }
    if let Some(f) = failure {
        return Err(f);
    }
    if missing > 0 && rewrapped == 0 && skipped == 0 {
        // Nothing found at all: most likely the wrong storage (STORAGE_DIR unset in this shell).
        // Nothing was re-wrapped, so the old key still opens everything: keep it.
        return Err(format!(
            "none of the {missing} stored files was found in the storage this command sees: is STORAGE_DIR \
             (or the S3 settings) the service's? Nothing was changed; the master key stays as it was"
        ));
    }
    println!("{rewrapped} objects re-wrapped, {skipped} already under the new key, {missing} missing");
    if missing > 0 {
        let _ = writeln!(
            std::io::stderr(),
            "warning: {missing} stored files the database lists were not found (already lost before this command)"
        );
    }
    if key_from_file {
        let path = Path::new(MASTER_KEY_FILE);
        let tmp = Path::new("var/storage_master_key.new");
        std::fs::write(tmp, new).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(0o600));
        std::fs::rename(tmp, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))?;
        println!("{} now holds the new key", path.display());
    } else {
        println!("now set STORAGE_MASTER_KEY to the new key and start the service");
    }
    Ok(())
}
