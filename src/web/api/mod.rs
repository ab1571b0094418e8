//! The JSON API of SPEC §12. Every error is `{"error", "fields"}` with a 4xx status.

/// One list of a module's routes for Rocket and for the OpenAPI document: `routes()` to mount
/// them and `Doc` (merged by [`doc`]) to document them. Each route still needs its
/// `#[utoipa::path]`; the `openapi` test compares the document with the mounted routes.
macro_rules! api_routes {
    ($($route:ident),+ $(,)?) => {
        pub fn routes() -> Vec<rocket::Route> {
            rocket::routes![$($route),+]
        }

        /// These routes in the OpenAPI document (`super::doc`).
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($route),+))]
        pub struct Doc;
    };
}
use api_routes;

pub mod accounts;
pub mod applications;
pub mod catalogue;
pub mod doc;
pub mod enquiries;
pub mod exports;
pub mod members;
pub mod notifications;
pub mod pricing;
pub mod search;
pub mod statements;
pub mod statistics;
pub mod tokens;
pub mod transfers;
pub mod uploads;
pub mod webhooks;

use crate::error::AppError;
use crate::web::csrf::fail;
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::request::Request;
use serde::de::DeserializeOwned;

/// Every API route (mounted under `/api`).
pub fn routes() -> Vec<rocket::Route> {
    let mut routes = accounts::routes();
    routes.extend(catalogue::routes());
    routes.extend(applications::routes());
    routes.extend(notifications::routes());
    routes.extend(statistics::routes());
    routes.extend(pricing::routes());
    routes.extend(transfers::routes());
    routes.extend(uploads::routes());
    routes.extend(tokens::routes());
    routes.extend(search::routes());
    routes.extend(exports::routes());
    routes.extend(webhooks::routes());
    routes.extend(statements::routes());
    routes.extend(enquiries::routes());
    routes.extend(members::routes());
    routes.extend(doc::routes());
    routes
}

/// A JSON body whose problems become our JSON errors: 413 over the `json` limit (1 MiB),
/// 400 for malformed JSON, 422 for well-formed JSON of the wrong shape (naming the field).
pub struct ApiJson<T>(pub T);

#[rocket::async_trait]
impl<'r, T: DeserializeOwned + Send + 'static> FromData<'r> for ApiJson<T> {
    type Error = AppError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        if req.content_type().is_some_and(|ct| !ct.is_json()) {
            return fail(req, AppError::Status(415, "err-body-json".into()));
        }
        let limit = req.limits().get("json").unwrap_or(1.mebibytes());
        let body = match data.open(limit).into_string().await {
            Ok(s) if s.is_complete() => s.into_inner(),
            Ok(_) => return fail(req, AppError::PayloadTooLarge),
            Err(e) => {
                return fail(req, AppError::BadRequest(format!("could not read the body: {e}")));
            }
        };
        // PostgreSQL text cannot hold NUL; refuse it here rather than fail at the database.
        if body.contains("\\u0000") {
            return fail(req, AppError::Status(422, "err-nul-characters".into()));
        }
        // An empty body reads as `null`, so commands without parameters need no body.
        let text = if body.trim().is_empty() { "null" } else { body.as_str() };
        match serde_json::from_str::<T>(text) {
            Ok(v) => data::Outcome::Success(ApiJson(v)),
            Err(e) if e.is_data() => fail(req, crate::web::json_shape_error(&e)),
            Err(e) => fail(req, AppError::BadRequest(format!("malformed JSON: {e}"))),
        }
    }
}
