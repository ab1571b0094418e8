//! Database access: the pool, embedded migrations, the private cluster and the queries per
//! table group.

pub mod applications;
pub mod billing;
pub mod cases;
pub mod catalogue;
pub mod cluster;
pub mod codes;
pub mod enquiries;
pub mod events;
pub mod identities;
pub mod members;
pub mod notifications;
pub mod operations;
pub mod permits;
pub mod prepared;
pub mod pricing;
pub mod schema;
pub mod search;
pub mod statements;
pub mod statistics;
pub mod tls;
pub mod transfers;
pub mod uploads;
pub mod users;
pub mod webhooks;

use diesel::prelude::*;
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::time::Duration;

/// The migrations in `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// The connection pool kept in Rocket's managed state.
pub type Pool = diesel_async::pooled_connection::deadpool::Pool<AsyncPgConnection>;
/// One pooled connection.
pub type Conn = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

/// Builds a pool that gives up quickly when the database is away, so requests fail with 503.
pub fn pool(url: &str, size: usize) -> Result<Pool, String> {
    // A checked-out connection is not pinged first (a round trip per checkout): one the server
    // closed is seen as closed and replaced, and a failing query answers 503 like a ping would.
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    // TLS as the URL's `sslmode` asks (see `tls`).
    config.custom_setup = Box::new(|url| Box::pin(tls::connect(url)));
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .build()
        .map_err(|e| e.to_string())
}

/// Applies pending migrations (needs the multi-threaded runtime: the harness blocks in place).
/// Instances starting together take turns (an advisory lock): the first applies what is pending.
pub async fn migrate(pool: &Pool) -> Result<(), String> {
    const MIGRATION_LOCK: i64 = 0x4844_534d; // "HDSM"
    let mut conn = pool.get().await.map_err(|e| format!("cannot connect to the database: {e}"))?;
    diesel::sql_query("SELECT pg_advisory_lock($1)")
        .bind::<diesel::sql_types::BigInt, _>(MIGRATION_LOCK)
        .execute(&mut conn)
        .await
        .map_err(|e| format!("cannot lock for migrations: {e}"))?;
    let mut harness = diesel_async::AsyncMigrationHarness::new(conn);
    let result = harness.run_pending_migrations(MIGRATIONS).map(|_| ()).map_err(|e| format!("migrations failed: {e}"));
    let mut conn = harness.into_inner();
    let _ = advisory_unlock(&mut conn, MIGRATION_LOCK).await;
    result
}

/// Creates `database` on the server behind `admin_url` unless it exists.
pub async fn create_database_if_missing(admin_url: &str, database: &str) -> Result<(), String> {
    let mut conn =
        tls::connect(admin_url).await.map_err(|e| format!("cannot connect to {}: {e}", redact(admin_url)))?;
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Int4)]
        #[allow(dead_code)]
        one: i32,
    }
    let found: Vec<Found> = diesel::sql_query("SELECT 1 AS one FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(database)
        .load(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    if found.is_empty() {
        diesel::sql_query(format!("CREATE DATABASE {}", quote_ident(database)))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Quotes an SQL identifier (for the few statements that cannot take bind parameters).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The URL with its password hidden, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// What the health check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// A pooled connection answered.
    Ok,
    /// Every pooled connection is in use, but the database answers a connection of its own: the
    /// instance is busy, the database is not down.
    PoolBusy,
    /// The database does not answer.
    Down,
}

/// Whether the database answers within two seconds, through the pool or (when the pool has no
/// connection free) through a connection of the check's own to `url`.
pub async fn healthy(pool: &Pool, url: &str) -> Health {
    let through_pool = async {
        let mut conn = pool.get().await.ok()?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.ok()
    };
    if matches!(tokio::time::timeout(Duration::from_secs(2), through_pool).await, Ok(Some(_))) {
        return Health::Ok;
    }
    let status = pool.status();
    if status.size < status.max_size || status.available > 0 {
        return Health::Down;
    }
    let direct = async {
        let mut conn = tls::connect(url).await.ok()?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await.ok()
    };
    match tokio::time::timeout(Duration::from_secs(2), direct).await {
        Ok(Some(_)) => Health::PoolBusy,
        _ => Health::Down,
    }
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Takes the session-level advisory lock `key` if no other session holds it (never waits).
pub async fn try_advisory_lock(conn: &mut AsyncPgConnection, key: i64) -> QueryResult<bool> {
    let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<diesel::sql_types::BigInt, _>(key)
        .get_result(conn)
        .await?;
    Ok(row.locked)
}

/// Releases an advisory lock taken by `try_advisory_lock` on the same connection.
pub async fn advisory_unlock(conn: &mut AsyncPgConnection, key: i64) -> QueryResult<bool> {
    let row: Locked = diesel::sql_query("SELECT pg_advisory_unlock($1) AS locked")
        .bind::<diesel::sql_types::BigInt, _>(key)
        .get_result(conn)
        .await?;
    Ok(row.locked)
}

/// Why a pooled connection could not be had.
pub type PoolError = diesel_async::pooled_connection::deadpool::PoolError;

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_password() {
        assert_eq!(super::redact("postgres://hds:secret@127.0.0.1:5/x"), "postgres://hds:***@127.0.0.1:5/x");
        assert_eq!(super::redact("postgres://127.0.0.1/x"), "postgres://127.0.0.1/x");
    }
}
