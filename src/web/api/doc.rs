//! The OpenAPI 3 document of `/api`, generated from the `#[utoipa::path]` annotation above each
//! route (utoipa reads the Rocket attribute below it for the method, path and parameters) and
//! served at `GET /api/openapi.json`. Each API module lists its routes once, in `api_routes!`,
//! which gives both its `routes()` and its `Doc`; a test compares the document with the
//! mounted routes in both directions (README, "OpenAPI").

use rocket::serde::json::Json;
use rocket::{get, routes};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

pub fn routes() -> Vec<rocket::Route> {
    routes![openapi_json]
}

/// Every error of the API (SPEC §12): a message, and the problems per field for 409/422.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    /// What went wrong, in English.
    error: String,
    /// The problems per field (`{"field": ["message", …]}`), empty when none.
    fields: BTreeMap<String, Vec<String>>,
}

/// The error answers every route may give.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum ApiErrors {
    /// Malformed input (bad JSON, a malformed header).
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No valid bearer token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Logged in but not allowed.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such object, or not one this user may see.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Not allowed in the current state, a stale version, or a value that is taken.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// Gone (an expired or revoked transfer).
    #[response(status = 410)]
    Gone(ErrorBody),
    /// The body is over the size limit.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not JSON.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Field-level validation problems, or JSON of the wrong shape.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// Too many attempts; see `Retry-After`.
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
    /// The database is not available; try again shortly.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// The application form (SPEC §5): every field optional while a draft; `version` is required
/// when replacing. The full field list is `domain::form::ApplicationForm`.
#[derive(ToSchema)]
#[schema(value_type = Object, examples(json!({"kind": "research", "type": "new", "title": "Hjerteinfarkt og utdanning", "data_sources": [{"data_source_id": 1, "variables": ["diagnose"], "period_from": "2010-01-01", "period_to": "2024-12-31", "selection": "Alle"}], "version": 1})))]
#[allow(dead_code)]
pub struct ApplicationFormBody(Value);

/// The parameters of a case command; each command reads the ones it needs.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CommandBody {
    /// `submit`: the version the applicant saw.
    version: Option<i32>,
    /// `submit`: the estimate (øre) the applicant accepts.
    accepted_estimate_ore: Option<i64>,
    /// `return`: the message to the applicant.
    message: Option<String>,
    /// `reconsider`, `uphold`, `close`: the reasons.
    reasons: Option<String>,
    /// `appeal`: the grounds.
    grounds: Option<String>,
    /// `assign`: the officer (default: oneself).
    assignee_id: Option<i64>,
    /// `assign`: remove the assignee instead.
    unassign: Option<bool>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `POST /api/auth/token`"))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Helsedataservice API", description = "The JSON API of Helsedataservice (SPEC §12)."),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
struct Root;

/// The document, with every path under `/api` (built once).
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut modules = utoipa::openapi::OpenApiBuilder::new().build();
        for part in [
            super::accounts::Doc::openapi(),
            super::applications::Doc::openapi(),
            super::catalogue::Doc::openapi(),
            super::notifications::Doc::openapi(),
            super::pricing::Doc::openapi(),
            super::statistics::Doc::openapi(),
            super::transfers::Doc::openapi(),
            super::uploads::Doc::openapi(),
            super::tokens::Doc::openapi(),
            super::search::Doc::openapi(),
            super::exports::Doc::openapi(),
            super::webhooks::Doc::openapi(),
            super::statements::Doc::openapi(),
            super::enquiries::Doc::openapi(),
            super::members::Doc::openapi(),
            Doc::openapi(),
        ] {
            modules.merge(part);
        }
        let mut doc = Root::openapi().nest("/api", modules);
        // Operation ids are the handlers' names, which repeat across modules: prefix the tag.
        for item in doc.paths.paths.values_mut() {
            let ops = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                let tag = op.tags.as_ref().and_then(|t| t.first()).cloned().unwrap_or_default();
                op.operation_id = op.operation_id.take().map(|id| format!("{tag}_{id}"));
            }
        }
        doc
    })
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(tag = "meta", responses((status = 200, description = "This document", body = Object)))]
#[get("/openapi.json")]
fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}

#[derive(OpenApi)]
#[openapi(paths(openapi_json))]
struct Doc;
