//! Typed settings from `Rocket.toml` and the environment (names of SPEC §12), validated once
//! at start-up. Every problem is reported as one line naming the setting.

use crate::domain::{email::EmailAddress, password};
use rocket::figment::{
    Figment,
    providers::{Env, Serialized},
};
use serde::Deserialize;
use std::path::PathBuf;

pub mod oidc;

/// The settings this service reads besides Rocket's own (`ROCKET_ADDRESS`, `ROCKET_PORT`, …).
pub const SETTINGS: [&str; 27] = [
    "UPLOAD_IDLE_SECONDS",
    "UPLOADS_PER_ACCOUNT",
    "METRICS_TOKEN",
    "WEBHOOK_ALLOW_LOOPBACK",
    "OIDC_PROVIDERS",
    "LOCAL_PASSWORDS",
    "PUBLIC_URL",
    "MAIL_DIR",
    "RELEASE_REMINDER_DAYS",
    "MAIL_RETENTION_DAYS",
    "CASE_TARGET_WORKING_DAYS",
    "DATABASE_URL",
    "SMTP_URL",
    "MAIL_FROM",
    "STORAGE_DIR",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "DATABASE_POOL_SIZE",
    "STORAGE_MASTER_KEY",
    "MAX_UPLOAD_BYTES",
    "VAT_RATE_PERCENT",
    "MAX_TRANSFER_BYTES",
    "STORAGE_S3_URL",
    "STORAGE_S3_BUCKET",
    "STORAGE_S3_ACCESS_KEY_ID",
    "STORAGE_S3_SECRET_ACCESS_KEY",
    "STORAGE_S3_REGION",
];

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// PostgreSQL URL; `None` means "start the private cluster under `var/`".
    pub database_url: Option<String>,
    /// `smtp://` or `smtps://` URL of the mail server; `None` writes `.eml` files under `var/mail`.
    pub smtp_url: Option<String>,
    /// Sender of every e-mail.
    pub mail_from: String,
    /// Where mail goes when there is no SMTP server: one `.eml` file per message.
    pub mail_dir: PathBuf,
    /// The address people reach the service at, for links in e-mail (no trailing slash).
    pub public_url: String,
    /// Days a release may wait for its decider before a reminder is sent (and again after as many).
    pub release_reminder_days: u32,
    /// Days the outbox (the log of mail and webhook deliveries) keeps a message that was sent or
    /// given up, before it is deleted: it holds addresses and what people were told.
    pub mail_retention_days: u32,
    /// Where uploaded files are stored (encrypted).
    pub storage_dir: PathBuf,
    /// The first administrator, created at start-up when absent.
    pub admin: Option<(EmailAddress, String)>,
    /// Maximum database connections in the pool.
    pub pool_size: usize,
    /// Wraps every stored object's key; `None` means "use the key kept under `var/`".
    pub master_key: Option<[u8; 32]>,
    /// Largest accepted upload (attachments, transfer files).
    pub max_upload_bytes: u64,
    /// The S3-compatible object store for files, when configured (else the local `storage_dir`).
    pub storage_s3: Option<S3Settings>,
    /// Largest accepted file of a secure file transfer (multi-gigabyte files are expected).
    pub max_transfer_bytes: u64,
    /// Working days allowed for person-identifiable cases (statistics follow fixed rules).
    pub case_target_working_days: u32,
    /// VAT on invoices in basis points (`VAT_RATE_PERCENT`, e.g. "25" → 2 500); default 0.
    pub vat_rate_bp: u32,
    /// OpenID Connect providers for "log in with …" (`OIDC_PROVIDERS`, `OIDC_<NAME>_*`).
    pub oidc: Vec<oidc::OidcProvider>,
    /// Whether e-mail and password log-in is allowed (`LOCAL_PASSWORDS`, default true).
    pub local_passwords: bool,
    /// Whether webhook endpoints may be plain http on loopback (`WEBHOOK_ALLOW_LOOPBACK`, for
    /// development and tests; otherwise https only).
    pub webhook_allow_loopback: bool,
    /// How long an upload's body may send nothing before it is refused (`UPLOAD_IDLE_SECONDS`,
    /// default 30): a stalled client holds no more than a task and a buffer, and not for long.
    pub upload_idle_secs: u64,
    /// How many uploads one account may stream at once per instance (`UPLOADS_PER_ACCOUNT`,
    /// default 4).
    pub uploads_per_account: usize,
    /// The bearer token `GET /metrics` asks for (`METRICS_TOKEN`); unset, only loopback scrapes.
    pub metrics_token: Option<String>,
}

// The environment provider reads `8` as a number and `true` as a boolean: every setting is taken
// as text whatever it looks like, and parsed below.
#[derive(Deserialize, Default)]
struct Raw {
    #[serde(default, deserialize_with = "as_text")]
    database_url: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    smtp_url: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    mail_from: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    storage_dir: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    admin_email: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    admin_password: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    database_pool_size: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    storage_master_key: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    max_upload_bytes: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    max_transfer_bytes: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    storage_s3_url: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    storage_s3_bucket: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    storage_s3_access_key_id: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    storage_s3_secret_access_key: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    storage_s3_region: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    case_target_working_days: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    mail_dir: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    public_url: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    release_reminder_days: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    mail_retention_days: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    vat_rate_percent: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    upload_idle_seconds: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    uploads_per_account: Option<String>,
    #[serde(default, deserialize_with = "as_text")]
    metrics_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
}

fn as_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.map(|v| match v {
        Scalar::Text(s) => s,
        Scalar::Unsigned(n) => n.to_string(),
        Scalar::Signed(n) => n.to_string(),
        Scalar::Float(n) => n.to_string(),
        Scalar::Bool(b) => b.to_string(),
    }))
}

/// Where and how to reach an S3-compatible object store (`STORAGE_S3_*`).
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// Endpoint URL, e.g. `https://s3.example.no` or `http://127.0.0.1:9000`.
    pub url: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

/// A setting that is missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {setting}: {message}")]
pub struct ConfigError {
    /// The setting's name as written in the environment.
    pub setting: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn bad(setting: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError { setting, message: message.into() }
}

/// A whole-number setting: `default` when it is unset, else a number within `range`; anything
/// else is `message` about `setting`.
fn whole<T>(
    value: Option<String>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    setting: &'static str,
    message: &str,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd,
{
    match value {
        None => Ok(default),
        Some(s) => s.parse::<T>().ok().filter(|n| range.contains(n)).ok_or_else(|| bad(setting, message)),
    }
}

/// Rocket's figment with our settings merged in from the plain environment variables.
pub fn figment() -> Figment {
    // Global, as Rocket's own `ROCKET_*`: the environment wins over every profile of the file,
    // `[release]` included (merged into the default profile, a `[release]` value beat it).
    rocket_figment().merge(Env::raw().only(&SETTINGS).map(|k| k.as_str().to_lowercase().into()).global()).merge(
        Env::raw()
            .filter(|k| k.as_str().to_uppercase().starts_with("OIDC_"))
            .map(|k| k.as_str().to_lowercase().into())
            .global(),
    )
}

/// Rocket's settings: its defaults, then ours (what `Rocket.toml` documents, so the file is
/// optional), then `Rocket.toml` if there is one, then `ROCKET_*` variables.
fn rocket_figment() -> Figment {
    use rocket::figment::Profile;
    use rocket::figment::providers::{Format, Serialized, Toml};
    let ours = serde_json::json!({
        "address": "127.0.0.1",
        "port": 8000,
        "ip_header": false,
        "log_level": "critical",
        "cli_colors": false,
        "limits": {"form": "64 KiB", "application-form": "1 MiB", "data-form": "25 MiB", "json": "1 MiB", "string": "64 KiB", "bytes": "64 KiB", "file": "25 MiB"},
        "shutdown": {"grace": 5, "mercy": 5},
    });
    Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(ours))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global())
        .select(Profile::from_env_or("ROCKET_PROFILE", rocket::Config::DEFAULT_PROFILE))
}

impl Config {
    /// Reads and validates the settings from a figment (see [`figment`]).
    pub fn from_figment(figment: &Figment) -> Result<Config, ConfigError> {
        let raw: Raw = figment.extract().map_err(|e| {
            let setting = e.path.last().map(|p| p.to_uppercase()).unwrap_or_default();
            let setting = SETTINGS.iter().find(|s| **s == setting).copied().unwrap_or("Rocket.toml");
            bad(setting, e.kind.to_string())
        })?;
        let non_empty = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());

        let database_url = non_empty(raw.database_url);
        if let Some(url) = &database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(bad("DATABASE_URL", "must be a postgres:// or postgresql:// URL"));
        }
        if let Some(url) = &database_url {
            // The TLS settings (sslmode, sslrootcert) are checked at start, not at first use.
            crate::db::tls::parse(url).map_err(|e| bad("DATABASE_URL", e))?;
        }
        let smtp_url = non_empty(raw.smtp_url);
        if let Some(url) = &smtp_url {
            let scheme_ok = url.starts_with("smtp://") || url.starts_with("smtps://");
            if !scheme_ok || lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url).is_err() {
                return Err(bad("SMTP_URL", "must be a URL like smtp://host:port or smtps://user:password@host"));
            }
        }
        let mail_from =
            non_empty(raw.mail_from).unwrap_or_else(|| "Helsedataservice <noreply@helsedata.localhost>".into());
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(bad("MAIL_FROM", "must be an address like \"Helsedataservice <noreply@example.no>\""));
        }
        let storage_dir = PathBuf::from(non_empty(raw.storage_dir).unwrap_or_else(|| "var/storage".into()));
        let mail_dir = PathBuf::from(non_empty(raw.mail_dir).unwrap_or_else(|| "var/mail".into()));
        let public_url = non_empty(raw.public_url).unwrap_or_else(|| "http://127.0.0.1:8000".into());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(bad("PUBLIC_URL", "must be an http:// or https:// address"));
        }
        let public_url = public_url.trim_end_matches('/').to_string();
        let release_reminder_days = whole(
            non_empty(raw.release_reminder_days),
            14u32,
            1..=365,
            "RELEASE_REMINDER_DAYS",
            "must be a whole number of days from 1 to 365",
        )?;
        let mail_retention_days = whole(
            non_empty(raw.mail_retention_days),
            365u32,
            30..=3650,
            "MAIL_RETENTION_DAYS",
            "must be a whole number of days from 30 to 3650",
        )?;

        let admin = match (non_empty(raw.admin_email), raw.admin_password.filter(|p| !p.is_empty())) {
            (None, None) => None,
            (Some(_), None) => {
                return Err(bad("ADMIN_PASSWORD", "is required when ADMIN_EMAIL is set"));
            }
            (None, Some(_)) => {
                return Err(bad("ADMIN_EMAIL", "is required when ADMIN_PASSWORD is set"));
            }
            (Some(email), Some(pw)) => {
                let email =
                    EmailAddress::parse(&email).ok_or_else(|| bad("ADMIN_EMAIL", "is not an e-mail address"))?;
                password::check_for(&pw, &[email.as_str()]).map_err(|e| {
                    bad(
                        "ADMIN_PASSWORD",
                        format!(
                            "{e}: use at least {} characters, not only letters or digits, and not a common password",
                            password::MIN_LENGTH
                        ),
                    )
                })?;
                Some((email, pw))
            }
        };
        let pool_size = whole(
            non_empty(raw.database_pool_size),
            // Sized for the machine: PostgreSQL and the service share its cores (see the load
            // benchmark in the README); more connections only queue inside the database.
            std::thread::available_parallelism().map_or(4, |n| (4 * n.get()).clamp(4, 16)),
            // Two at least: the demo's set-up holds one while an attachment takes another, and
            // the background jobs would otherwise queue behind every request.
            2..=1000,
            "DATABASE_POOL_SIZE",
            "must be a whole number from 2 to 1000",
        )?;
        let master_key = match non_empty(raw.storage_master_key) {
            None => None,
            Some(text) => Some(parse_master_key(&text).ok_or_else(|| {
                bad("STORAGE_MASTER_KEY", "must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
            })?),
        };
        let max_upload_bytes = whole(
            non_empty(raw.max_upload_bytes),
            25 * 1024 * 1024u64,
            1..=u64::MAX,
            "MAX_UPLOAD_BYTES",
            "must be a positive whole number of bytes",
        )?;
        let max_transfer_bytes = whole(
            non_empty(raw.max_transfer_bytes),
            100 * 1024 * 1024 * 1024u64,
            1..=u64::MAX,
            "MAX_TRANSFER_BYTES",
            "must be a positive whole number of bytes",
        )?;
        let storage_s3 = match (non_empty(raw.storage_s3_url), non_empty(raw.storage_s3_bucket)) {
            (None, None) => None,
            (None, Some(_)) => return Err(bad("STORAGE_S3_URL", "is required when STORAGE_S3_BUCKET is set")),
            (Some(_), None) => return Err(bad("STORAGE_S3_BUCKET", "is required when STORAGE_S3_URL is set")),
            (Some(url), Some(bucket)) => {
                if !(url.starts_with("https://")
                    || url.starts_with("http://127.")
                    || url.starts_with("http://localhost"))
                {
                    return Err(bad("STORAGE_S3_URL", "must be an https:// URL (plain http only on loopback)"));
                }
                let access_key_id = non_empty(raw.storage_s3_access_key_id)
                    .ok_or_else(|| bad("STORAGE_S3_ACCESS_KEY_ID", "is required with STORAGE_S3_URL"))?;
                let secret_access_key = non_empty(raw.storage_s3_secret_access_key)
                    .ok_or_else(|| bad("STORAGE_S3_SECRET_ACCESS_KEY", "is required with STORAGE_S3_URL"))?;
                let region = non_empty(raw.storage_s3_region).unwrap_or_else(|| "us-east-1".into());
                Some(S3Settings { url, bucket, access_key_id, secret_access_key, region })
            }
        };
        let case_target_working_days = whole(
            non_empty(raw.case_target_working_days),
            60u32,
            1..=365,
            "CASE_TARGET_WORKING_DAYS",
            "must be a whole number of working days from 1 to 365",
        )?;
        let vat_rate_bp = match non_empty(raw.vat_rate_percent) {
            None => 0,
            Some(s) => crate::domain::pricing::parse_vat_rate(&s).ok_or_else(|| {
                bad("VAT_RATE_PERCENT", "must be a percentage from 0 to 100 with at most two decimals, e.g. 25")
            })?,
        };
        let upload_idle_secs = whole(
            non_empty(raw.upload_idle_seconds),
            30u64,
            1..=3600,
            "UPLOAD_IDLE_SECONDS",
            "must be a whole number of seconds from 1 to 3600",
        )?;
        let uploads_per_account = whole(
            non_empty(raw.uploads_per_account),
            4usize,
            1..=1000,
            "UPLOADS_PER_ACCOUNT",
            "must be a whole number from 1 to 1000",
        )?;
        Ok(Config {
            metrics_token: non_empty(raw.metrics_token),
            upload_idle_secs,
            uploads_per_account,
            database_url,
            smtp_url,
            mail_from,
            mail_dir,
            public_url,
            release_reminder_days,
            mail_retention_days,
            storage_dir,
            admin,
            pool_size,
            master_key,
            max_upload_bytes,
            max_transfer_bytes,
            storage_s3,
            case_target_working_days,
            vat_rate_bp,
            oidc: oidc::providers(figment)?,
            local_passwords: oidc::local_passwords(figment)?,
            webhook_allow_loopback: oidc::flag(figment, "webhook_allow_loopback", "WEBHOOK_ALLOW_LOOPBACK", false)?,
        })
    }

    /// Settings for tests: the given database, files under `storage_dir`, no SMTP.
    pub fn for_tests(database_url: String, storage_dir: PathBuf) -> Config {
        Config {
            database_url: Some(database_url),
            smtp_url: None,
            mail_from: "Helsedataservice <noreply@helsedata.localhost>".into(),
            mail_dir: storage_dir.join("mail"),
            public_url: "http://helsedata.test".into(),
            release_reminder_days: 14,
            mail_retention_days: 365,
            storage_dir,
            admin: None,
            pool_size: 4,
            master_key: Some([3u8; 32]),
            max_upload_bytes: 2 * 1024 * 1024,
            max_transfer_bytes: 8 * 1024 * 1024,
            storage_s3: None,
            case_target_working_days: 60,
            vat_rate_bp: 0,
            oidc: vec![],
            local_passwords: true,
            webhook_allow_loopback: true,
            upload_idle_secs: 30,
            uploads_per_account: 4,
            metrics_token: None,
        }
    }
}

/// Decodes a base64 master key of exactly 32 bytes.
pub fn parse_master_key(text: &str) -> Option<[u8; 32]> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
    bytes.try_into().ok()
}

/// Checks Rocket's own settings (address, port, limits, secret key) so a malformed one is one line.
pub fn check_rocket_settings(figment: &Figment) -> Result<rocket::Config, ConfigError> {
    rocket::Config::try_from(figment).map_err(|e| {
        let key = e.path.join(".");
        let setting = match key.as_str() {
            "address" => "ROCKET_ADDRESS",
            "port" => "ROCKET_PORT",
            "secret_key" => "ROCKET_SECRET_KEY",
            _ => "Rocket.toml",
        };
        bad(setting, format!("{} ({key})", e.kind))
    })
}

/// Whether a secret key for the private cookies is configured (`ROCKET_SECRET_KEY`).
pub fn secret_key_configured(figment: &Figment) -> bool {
    rocket::Config::try_from(figment).map(|c| !c.secret_key.is_zero()).unwrap_or(false)
}

/// Adds a secret key when none is configured, so the private cookies work in release builds.
pub fn with_secret_key(figment: Figment, key: &[u8]) -> Figment {
    use base64::Engine;
    if secret_key_configured(&figment) {
        return figment;
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(key);
    figment.merge(Serialized::default("secret_key", encoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_from_the_environment_are_read_as_text() {
        let figment = Figment::new()
            .merge(("max_transfer_bytes", 67_108_865u64))
            .merge(("database_pool_size", 8))
            .merge(("admin_email", "admin@example.no"))
            .merge(("admin_password", 12_345_678_901_234i64));
        let err = Config::from_figment(&figment).expect_err("an all-digit password is refused, not misread");
        assert_eq!(err.setting, "ADMIN_PASSWORD");
        let figment = Figment::new().merge(("max_transfer_bytes", 67_108_865u64)).merge(("database_pool_size", 8));
        let c = Config::from_figment(&figment).unwrap();
        assert_eq!(c.max_transfer_bytes, 67_108_865);
        assert_eq!(c.pool_size, 8);
    }

    #[test]
    fn s3_settings_come_together() {
        let base = Figment::new().merge(("storage_s3_url", "http://127.0.0.1:9000"));
        assert_eq!(Config::from_figment(&base).unwrap_err().setting, "STORAGE_S3_BUCKET");
        let f = base.clone().merge(("storage_s3_bucket", "hds"));
        assert_eq!(Config::from_figment(&f).unwrap_err().setting, "STORAGE_S3_ACCESS_KEY_ID");
        let f = f.merge(("storage_s3_access_key_id", "a")).merge(("storage_s3_secret_access_key", "b"));
        let s3 = Config::from_figment(&f).unwrap().storage_s3.unwrap();
        assert_eq!((s3.bucket.as_str(), s3.region.as_str()), ("hds", "us-east-1"));
        let f = f.merge(("storage_s3_url", "http://s3.example.no"));
        assert_eq!(Config::from_figment(&f).unwrap_err().setting, "STORAGE_S3_URL", "plain http only on loopback");
    }

    fn with(key: &str, value: &str) -> Figment {
        Figment::new().merge(Serialized::default(key, value))
    }

    #[test]
    fn the_outbox_keeps_a_year_unless_told_otherwise_and_at_least_a_month() {
        assert_eq!(Config::from_figment(&Figment::new()).unwrap().mail_retention_days, 365);
        assert_eq!(Config::from_figment(&with("mail_retention_days", "90")).unwrap().mail_retention_days, 90);
        for bad in ["29", "3651", "a year"] {
            let e = Config::from_figment(&with("mail_retention_days", bad)).unwrap_err();
            assert_eq!(e.setting, "MAIL_RETENTION_DAYS", "{bad}");
        }
    }

    #[test]
    fn vat_rate_is_a_percentage_kept_in_basis_points() {
        assert_eq!(Config::from_figment(&Figment::new()).unwrap().vat_rate_bp, 0, "0 % unless configured");
        assert_eq!(Config::from_figment(&with("vat_rate_percent", "25")).unwrap().vat_rate_bp, 2_500);
        assert_eq!(Config::from_figment(&with("vat_rate_percent", "12,5")).unwrap().vat_rate_bp, 1_250);
        for bad in ["abc", "101", "-1", "2.555"] {
            let e = Config::from_figment(&with("vat_rate_percent", bad)).unwrap_err();
            assert_eq!(e.setting, "VAT_RATE_PERCENT", "{bad}");
        }
    }
}
