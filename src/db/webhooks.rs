//! Webhook endpoints of organisations and their deliveries (outbox rows of channel `webhook`).

use super::notifications::OutboxMessage;
use super::prepared::KeepPreparedDsl;
use super::schema::{application_sources, data_sources, outbox, releases, webhook_endpoints};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

/// A registered receiver.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: i64,
    pub organisation_id: i64,
    pub url: String,
    pub event_kinds: Vec<String>,
    #[serde(skip)]
    pub secret: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl Endpoint {
    /// Whether events of `kind` go to this endpoint (no kinds chosen means every kind).
    pub fn wants(&self, kind: &str) -> bool {
        self.disabled_at.is_none() && (self.event_kinds.is_empty() || self.event_kinds.iter().any(|k| k == kind))
    }
}

pub async fn insert(
    conn: &mut AsyncPgConnection,
    organisation_id: i64,
    url: &str,
    event_kinds: &[String],
    secret: &str,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<Endpoint> {
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::organisation_id.eq(organisation_id),
            webhook_endpoints::url.eq(url),
            webhook_endpoints::event_kinds.eq(event_kinds),
            webhook_endpoints::secret.eq(secret),
            webhook_endpoints::created_by.eq(created_by),
            webhook_endpoints::created_at.eq(now),
        ))
        .returning(Endpoint::as_returning())
        .get_result(conn)
        .await
}

pub async fn by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table.find(id).select(Endpoint::as_select()).first(conn).await.optional()
}

/// Active endpoints, of one organisation or (None) of all.
pub async fn active(conn: &mut AsyncPgConnection, organisation_id: Option<i64>) -> QueryResult<Vec<Endpoint>> {
    let mut q = webhook_endpoints::table
        .filter(webhook_endpoints::disabled_at.is_null())
        .order(webhook_endpoints::id)
        .select(Endpoint::as_select())
        .into_boxed();
    if let Some(org) = organisation_id {
        q = q.filter(webhook_endpoints::organisation_id.eq(org));
    }
    q.load(conn).await
}

pub async fn disable(conn: &mut AsyncPgConnection, id: i64, now: DateTime<Utc>) -> QueryResult<usize> {
    diesel::update(webhook_endpoints::table.find(id).filter(webhook_endpoints::disabled_at.is_null()))
        .set(webhook_endpoints::disabled_at.eq(now))
        .execute(conn)
        .await
}

/// Active endpoints of the organisations that own a source the application asks for or a
/// release of it (one statement).
pub async fn active_for_application(mut conn: &AsyncPgConnection, application_id: i64) -> QueryResult<Vec<Endpoint>> {
    let source_owners = application_sources::table
        .inner_join(data_sources::table)
        .filter(application_sources::application_id.eq(application_id))
        .select(data_sources::owner_id);
    let release_owners =
        releases::table.filter(releases::application_id.eq(application_id)).select(releases::owner_organisation_id);
    webhook_endpoints::table
        .filter(webhook_endpoints::disabled_at.is_null())
        .filter(
            webhook_endpoints::organisation_id
                .eq_any(source_owners)
                .or(webhook_endpoints::organisation_id.eq_any(release_owners)),
        )
        .order(webhook_endpoints::id)
        .select(Endpoint::as_select())
        .load(&mut conn)
        .await
}

/// Queues one delivery of an event to each endpoint in the outbox (recipient: the URL,
/// template: the event kind), in one statement (none: no statement).
pub async fn enqueue_all(
    mut conn: &AsyncPgConnection,
    endpoints: &[Endpoint],
    kind: &str,
    body: &Value,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    if endpoints.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = endpoints
        .iter()
        .map(|endpoint| {
            (
                outbox::recipient.eq(&endpoint.url),
                outbox::language.eq(""),
                outbox::template.eq(kind),
                outbox::context.eq(body),
                outbox::next_attempt_at.eq(now),
                outbox::created_at.eq(now),
                outbox::channel.eq("webhook"),
                outbox::endpoint_id.eq(endpoint.id),
            )
        })
        .collect();
    diesel::insert_into(outbox::table).values(rows).keep_prepared().execute(&mut conn).await
}

/// The newest deliveries to an endpoint.
pub async fn deliveries(conn: &mut AsyncPgConnection, endpoint_id: i64, limit: i64) -> QueryResult<Vec<OutboxMessage>> {
    outbox::table
        .filter(outbox::endpoint_id.eq(endpoint_id))
        .order(outbox::id.desc())
        .limit(limit)
        .select(OutboxMessage::as_select())
        .load(conn)
        .await
}

/// Keeps the receiver's answer to the latest attempt.
pub async fn record_response(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: Option<i32>,
    excerpt: &str,
) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((outbox::response_status.eq(status), outbox::response_excerpt.eq(excerpt)))
        .keep_prepared()
        .execute(conn)
        .await
}
