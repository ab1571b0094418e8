//! A route that does nothing, mounted only with `BENCH_ROUTES=true`: the framework's ceiling
//! (routing, fairings, security headers) that the load benchmark measures the pages against.

use rocket::{Route, get, routes};

#[get("/bench/noop")]
fn noop() -> &'static str {
    ""
}

/// The benchmark's routes.
pub fn routes() -> Vec<Route> {
    routes![noop]
}
