//! What operations watch, read fresh at each scrape: the outbox and the audit chain.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Double, Nullable};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The figures `/metrics` reads from the database.
#[derive(Debug, Clone, QueryableByName)]
pub struct Figures {
    #[diesel(sql_type = BigInt)]
    pub outbox_pending: i64,
    #[diesel(sql_type = Double)]
    pub outbox_oldest_seconds: f64,
    #[diesel(sql_type = BigInt)]
    pub outbox_dead: i64,
    #[diesel(sql_type = Nullable<Double>)]
    pub last_round: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub last_verified: Option<f64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub chain_intact: Option<i64>,
}

pub async fn figures(conn: &mut AsyncPgConnection) -> diesel::QueryResult<Figures> {
    diesel::sql_query(
        "SELECT \
           (SELECT count(*) FROM outbox WHERE state = 'pending') AS outbox_pending, \
           coalesce((SELECT extract(epoch FROM now() - min(created_at)) FROM outbox WHERE state = 'pending'), 0)::float8 AS outbox_oldest_seconds, \
           (SELECT count(*) FROM outbox WHERE state = 'dead') AS outbox_dead, \
           (SELECT extract(epoch FROM max(checked_at))::float8 FROM audit_checks WHERE requested_by IS NULL) AS last_round, \
           (SELECT extract(epoch FROM max(checked_at))::float8 FROM audit_checks) AS last_verified, \
           (SELECT CASE WHEN first_broken IS NULL THEN 1 ELSE 0 END FROM audit_checks ORDER BY id DESC LIMIT 1)::int8 AS chain_intact",
    )
    .get_result(conn)
    .await
}
