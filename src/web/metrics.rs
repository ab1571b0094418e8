//! Operations: `GET /metrics` in the Prometheus text format (requests by route and status with a
//! latency histogram; the pool in use and waiting; the outbox's depth, oldest age and dead
//! letters; the last scheduler round and audit-chain verification), and the liveness and
//! readiness probes `GET /health/live` and `GET /health/ready`.
//!
//! `/metrics` answers a `Authorization: Bearer` with `METRICS_TOKEN` when that is set, else only
//! clients on loopback (a scraper beside the service, or through the proxy's own rule).

use crate::config::Config;
use crate::db::Pool;
use crate::web::guards::ClientAddress;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::Response;
use rocket::serde::json::Json;
use rocket::{Data, State, get, routes};
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::Instant;

pub fn routes() -> Vec<rocket::Route> {
    routes![scrape, live, ready]
}

/// The process's recorder (one per process: every instance built in it shares it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".into()), &buckets)
            .expect("valid buckets")
            .build_recorder();
        let handle = recorder.handle();
        // A second service in the same process (the tests) keeps the first recorder.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Times every request and counts it by route (the route's pattern, never the raw path) and status.
pub struct RequestMetrics;

#[rocket::async_trait]
impl Fairing for RequestMetrics {
    fn info(&self) -> Info {
        Info { name: "request metrics", kind: Kind::Request | Kind::Response }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(Instant::now);
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let started = req.local_cache(Instant::now);
        let route = req.route().map(|r| r.uri.origin.path().to_string()).unwrap_or_else(|| "unmatched".into());
        let labels = [
            ("method", req.method().as_str().to_string()),
            ("route", route),
            ("status", res.status().code.to_string()),
        ];
        metrics::counter!("http_requests_total", &labels).increment(1);
        metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    }
}

fn may_scrape(req_token: Option<&str>, config: &Config, address: &ClientAddress) -> bool {
    match &config.metrics_token {
        Some(token) => {
            req_token.is_some_and(|t| super::csrf::constant_time_eq(t.as_bytes(), format!("Bearer {token}").as_bytes()))
        }
        None => address.0.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()),
    }
}

/// The `Authorization` header, for the scrape check.
pub struct Authorization(Option<String>);

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for Authorization {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        rocket::request::Outcome::Success(Authorization(req.headers().get_one("Authorization").map(str::to_string)))
    }
}

#[get("/metrics")]
async fn scrape(
    pool: &State<Pool>,
    config: &State<Config>,
    address: ClientAddress,
    auth: Authorization,
) -> (Status, (ContentType, String)) {
    let text = ContentType::new("text", "plain").with_params(("version", "0.0.4"));
    if !may_scrape(auth.0.as_deref(), config, &address) {
        return (Status::Forbidden, (text, "forbidden\n".into()));
    }
    let status = pool.status();
    metrics::gauge!("db_pool_connections_max").set(status.max_size as f64);
    metrics::gauge!("db_pool_connections_in_use").set(status.size.saturating_sub(status.available) as f64);
    metrics::gauge!("db_pool_waiting").set(status.waiting as f64);
    let figures = match pool.get().await {
        Ok(mut conn) => crate::db::operations::figures(&mut conn).await.ok(),
        Err(_) => None,
    };
    metrics::gauge!("db_up").set(if figures.is_some() { 1.0 } else { 0.0 });
    if let Some(f) = figures {
        metrics::gauge!("outbox_pending").set(f.outbox_pending as f64);
        metrics::gauge!("outbox_oldest_pending_age_seconds").set(f.outbox_oldest_seconds);
        metrics::gauge!("outbox_dead_letters").set(f.outbox_dead as f64);
        if let Some(t) = f.last_round {
            metrics::gauge!("scheduler_last_round_timestamp_seconds").set(t);
        }
        if let Some(t) = f.last_verified {
            metrics::gauge!("audit_chain_last_verified_timestamp_seconds").set(t);
        }
        if let Some(ok) = f.chain_intact {
            metrics::gauge!("audit_chain_intact").set(ok as f64);
        }
    }
    (Status::Ok, (text, handle().render()))
}

/// Liveness: the process answers.
#[get("/health/live")]
fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the database answers (a busy pool is still ready; see `/health`).
#[get("/health/ready")]
async fn ready(pool: &State<Pool>, config: &State<Config>) -> (Status, Json<Value>) {
    use crate::db::Health;
    match crate::services::healthy(pool, config.database_url.as_deref().unwrap_or_default()).await {
        Health::Ok | Health::PoolBusy => (Status::Ok, Json(json!({"status": "ready"}))),
        Health::Down => (Status::ServiceUnavailable, Json(json!({"status": "unavailable", "database": "unreachable"}))),
    }
}
