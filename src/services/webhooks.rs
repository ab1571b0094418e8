//! Webhooks: an organisation's own systems hear about events on the applications that ask for
//! its data sources. Register owners manage their organisation's endpoints (admins any
//! organisation's); every delivery goes through the outbox beside e-mail (same claiming, retries
//! and backoff), signed with HMAC-SHA256 over `<timestamp>.<body>`.

use super::Actor;
use super::accounts::new_secret;
use crate::db::{
    self, applications::Application, events::Event, notifications::OutboxMessage, users::User, webhooks::Endpoint,
};
use crate::domain::fields::FieldErrors;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Value, json};

/// Most event kinds one endpoint may choose.
pub const MAX_KINDS: usize = 30;

pub use crate::mail::webhooks::{SIGNATURE_HEADER, sign, signature_header};

/// What an organisation asks for when registering an endpoint.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct EndpointRequest {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub event_kinds: Vec<String>,
    /// Only for admins (register owners always register for their own organisation).
    #[serde(default)]
    pub organisation_id: Option<i64>,
}

/// Whether the URL names a special-purpose address by IP (`domain::net::is_public`, in any
/// spelling) or a `localhost` name, which deliveries must not reach. Names that resolve to such an
/// address are refused when the delivery connects (`mail::webhooks`).
fn internal_address(url: &reqwest::Url) -> bool {
    use std::net::IpAddr;
    let ip = match url.host() {
        Some(openidconnect::url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(openidconnect::url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(openidconnect::url::Host::Domain(d)) => {
            let name = d.trim_end_matches('.').to_ascii_lowercase();
            return name == "localhost" || name.ends_with(".localhost");
        }
        None => return true,
    };
    !crate::domain::net::is_public(ip)
}

fn kind_ok(kind: &str) -> bool {
    let parts: Vec<&str> = kind.split('.').collect();
    parts.len() >= 2
        && kind.len() <= 60
        && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
}

/// Checks a request; returns the URL and the de-duplicated kinds.
pub fn check(req: &EndpointRequest, allow_loopback: bool) -> Result<(String, Vec<String>), FieldErrors> {
    let mut errors = FieldErrors::new();
    let url = errors.text("url", &req.url, 1, 500);
    let loopback =
        url.starts_with("http://127.") || url.starts_with("http://localhost") || url.starts_with("http://[::1]");
    let parsed = reqwest::Url::parse(&url).ok().filter(|u| u.host_str().is_some());
    let internal = parsed.as_ref().is_some_and(|u| internal_address(u) && !(allow_loopback && loopback));
    if !url.is_empty()
        && (parsed.is_none() || internal || !(url.starts_with("https://") || (allow_loopback && loopback)))
    {
        errors.add("url", "err-webhook-url");
    }
    let mut kinds: Vec<String> =
        req.event_kinds.iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect();
    kinds.sort();
    kinds.dedup();
    if kinds.len() > MAX_KINDS || !kinds.iter().all(|k| kind_ok(k)) {
        errors.add("event_kinds", "err-webhook-kinds");
    }
    errors.into_result()?;
    Ok((url, kinds))
}

/// The organisation whose endpoints `user` manages: their own (register owners) or the one asked
/// for (admins); anyone else is refused.
fn organisation_for(user: &User, asked: Option<i64>) -> AppResult<Option<i64>> {
    match user.role {
        Role::Admin => Ok(asked),
        Role::RegisterOwner => Ok(Some(user.organisation_id.ok_or(AppError::NotFound)?)),
        _ => Err(AppError::Forbidden("err-webhooks-staff".into())),
    }
}

/// The endpoints `user` may see: their organisation's, or every one for admins.
pub async fn list(conn: &mut AsyncPgConnection, user: &User) -> AppResult<Vec<Endpoint>> {
    let org = organisation_for(user, None)?;
    Ok(db::webhooks::active(conn, org).await?)
}

/// One endpoint `user` may manage; 404 for anyone else's.
pub async fn load(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<Endpoint> {
    let org = organisation_for(user, None)?;
    let endpoint = db::webhooks::by_id(conn, id).await?.ok_or(AppError::NotFound)?;
    if org.is_some_and(|o| o != endpoint.organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok(endpoint)
}

/// One endpoint `user` may manage (404 for anyone else's) and its newest 200 deliveries.
pub async fn with_deliveries(
    conn: &mut AsyncPgConnection,
    user: &User,
    id: i64,
) -> AppResult<(Endpoint, Vec<OutboxMessage>)> {
    let endpoint = load(conn, user, id).await?;
    let deliveries = db::webhooks::deliveries(conn, endpoint.id, 200).await?;
    Ok((endpoint, deliveries))
}

/// Registers an endpoint; returns the signing secret (shown once) and the endpoint.
pub async fn register(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    req: &EndpointRequest,
    allow_loopback: bool,
    now: DateTime<Utc>,
) -> AppResult<(String, Endpoint)> {
    let org = organisation_for(user, req.organisation_id)?;
    let (url, kinds) = check(req, allow_loopback).map_err(AppError::Validation)?;
    let org = match org {
        Some(o) if db::catalogue::organisation(conn, o).await?.is_some() => o,
        _ => return Err(AppError::field("organisation_id", "err-no-such-organisation")),
    };
    let secret = format!("whsec_{}", new_secret().0);
    let endpoint = conn
        .transaction::<_, AppError, _>(async |tx| {
            let e = db::webhooks::insert(tx, org, &url, &kinds, &secret, Some(user.id), now).await?;
            append(
                tx,
                actor,
                org,
                "webhook.registered",
                json!({"endpoint_id": e.id, "url": e.url, "event_kinds": e.event_kinds}),
                now,
            )
            .await?;
            Ok(e)
        })
        .await?;
    Ok((secret, endpoint))
}

/// Stops deliveries to an endpoint (queued ones fail and are given up).
pub async fn disable(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let endpoint = load(conn, user, id).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        if db::webhooks::disable(tx, id, now).await? == 0 {
            return Err(AppError::NotFound);
        }
        append(tx, actor, endpoint.organisation_id, "webhook.disabled", json!({"endpoint_id": id}), now).await
    })
    .await
}

async fn append(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    organisation_id: i64,
    kind: &str,
    payload: Value,
    now: DateTime<Utc>,
) -> AppResult<()> {
    super::record_event(tx, actor, now, ("organisation", Some(organisation_id)), kind, payload).await?;
    Ok(())
}

/// The body of a delivery: the event and the application it is about, nothing personal; the
/// receiver fetches details over the API with its own token.
pub fn body(app: &Application, event: &Event) -> Value {
    json!({
        "id": event.id, "kind": event.kind, "at": event.at,
        "application": {"id": app.id, "reference": app.reference, "state": app.state, "title": app.title},
        "links": {"application": format!("/api/applications/{}", app.id)},
    })
}

/// The endpoints an event of `kind` about `app` goes to: those of the organisations whose data
/// sources it asks for, once it has been submitted. Read before the event is appended.
pub async fn endpoints_for(conn: &AsyncPgConnection, app: &Application, kind: &str) -> AppResult<Vec<Endpoint>> {
    // Drafts are nobody's business yet, nor is a draft withdrawn before it was ever sent; who of
    // the project was invited or joined (personal addresses) is not the data holders' either.
    if app.first_submitted_at.is_none() || kind.starts_with("member.") {
        return Ok(vec![]);
    }
    let mut endpoints = db::webhooks::active_for_application(conn, app.id).await?;
    endpoints.retain(|e| e.wants(kind));
    Ok(endpoints)
}

/// Queues the event's delivery to each of `endpoints` (from [`endpoints_for`]), in the event's
/// transaction.
pub async fn enqueue(
    conn: &AsyncPgConnection,
    endpoints: &[Endpoint],
    app: &Application,
    event: &Event,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    Ok(db::webhooks::enqueue_all(conn, endpoints, &event.kind, &body(app, event), now).await?)
}
