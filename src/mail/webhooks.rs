//! Sends webhook deliveries from the outbox: a signed POST to the endpoint; any 2xx answer is
//! success, anything else (or no answer) a failed attempt retried like mail. The receiver's
//! status and the start of its answer are kept for the admin page.

use crate::db::{self, notifications::OutboxMessage};
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "X-HDS-Signature";

/// The hex HMAC-SHA256 of `<timestamp>.<body>` under the endpoint's secret.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The value of [`SIGNATURE_HEADER`].
pub fn signature_header(secret: &str, timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

/// Characters of a receiver's answer that are kept.
pub const EXCERPT_CHARS: usize = 500;

/// Bytes of a receiver's answer that are read at most (the rest is never read: an endless or
/// huge answer neither fills the memory nor holds the worker).
pub const ANSWER_BYTES: usize = 4 * 1024;

/// Reads the start of an answer: at most [`ANSWER_BYTES`], then lets the connection go.
async fn answer_start(mut resp: reqwest::Response) -> String {
    let mut bytes: Vec<u8> = Vec::with_capacity(ANSWER_BYTES);
    while bytes.len() < ANSWER_BYTES {
        match resp.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk[..chunk.len().min(ANSWER_BYTES - bytes.len())]),
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// An error with its causes, as the operator needs it ("error sending request: … : dns error: …").
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Whether a delivery may connect to `ip`: a public address, or loopback when the settings allow
/// it (`WEBHOOK_ALLOW_LOOPBACK`, for tests and development).
pub fn may_connect(ip: std::net::IpAddr, allow_loopback: bool) -> bool {
    crate::domain::net::is_public(ip) || (allow_loopback && ip.is_loopback())
}

/// Resolves names for deliveries, keeping only the addresses a delivery may connect to: the check
/// happens at connect time, after DNS, so a name cannot lead inside however it resolves.
struct PublicOnly {
    allow_loopback: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (host, allow_loopback) = (name.as_str().to_string(), self.allow_loopback);
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<std::net::SocketAddr> =
                found.into_iter().filter(|a| may_connect(a.ip(), allow_loopback)).collect();
            if usable.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(usable.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP client for deliveries: short timeouts, no redirects followed (a receiver cannot
/// bounce a signed delivery elsewhere), and names resolved to public addresses only.
pub fn client(allow_loopback: bool) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(std::sync::Arc::new(PublicOnly { allow_loopback }))
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .map_err(|e| format!("webhook client: {e}"))
}

/// Delivers one message; returns a short receipt ("HTTP 200") or the failure.
pub async fn deliver(
    tx: &mut AsyncPgConnection,
    client: &reqwest::Client,
    allow_loopback: bool,
    msg: &OutboxMessage,
) -> Result<String, String> {
    let endpoint = match msg.endpoint_id {
        Some(id) => db::webhooks::by_id(tx, id).await.map_err(|e| e.to_string())?,
        None => None,
    };
    let Some(endpoint) = endpoint.filter(|e| e.disabled_at.is_none()) else {
        return Err("the endpoint was removed".into());
    };
    // An address written in the URL is not resolved, so it is checked here.
    let literal = reqwest::Url::parse(&endpoint.url).ok().and_then(|u| match u.host() {
        Some(openidconnect::url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(openidconnect::url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    });
    if literal.is_some_and(|ip| !may_connect(ip, allow_loopback)) {
        let refused = "the endpoint's address is not public".to_string();
        db::webhooks::record_response(tx, msg.id, None, "").await.map_err(|e| e.to_string())?;
        return Err(refused);
    }
    let body = msg.context.to_string();
    let timestamp = Utc::now().timestamp();
    let result = client
        .post(&endpoint.url)
        .header("Content-Type", "application/json")
        .header("User-Agent", "Helsedataservice-Webhooks/1")
        .header("X-HDS-Event", &msg.template)
        .header("X-HDS-Delivery", msg.id.to_string())
        .header(SIGNATURE_HEADER, signature_header(&endpoint.secret, timestamp, &body))
        .body(body)
        .send()
        .await;
    let (status, excerpt, outcome) = match result {
        Err(e) => (None, String::new(), Err(format!("no answer: {}", with_causes(&e)))),
        Ok(resp) => {
            let status = resp.status();
            let text = answer_start(resp).await;
            let excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
            let outcome = if status.is_success() {
                Ok(format!("HTTP {}", status.as_u16()))
            } else {
                Err(format!("HTTP {}", status.as_u16()))
            };
            (Some(i32::from(status.as_u16())), excerpt, outcome)
        }
    };
    db::webhooks::record_response(tx, msg.id, status, &excerpt).await.map_err(|e| e.to_string())?;
    outcome
}
