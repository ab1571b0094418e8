//! The JSON API of SPEC §12. Every error is `{"error", "fields"}` with a 4xx status.

pub mod accounts;
pub mod catalogue;

use crate::error::AppError;
use crate::web::csrf::fail;
use rocket::data::{self, Data, FromData};
use rocket::request::Request;
use rocket::serde::json::Json;
use serde::de::DeserializeOwned;

/// Every API route (mounted under `/api`).
pub fn routes() -> Vec<rocket::Route> {
    let mut routes = accounts::routes();
    routes.extend(catalogue::routes());
    routes
}

/// A JSON body whose problems become our JSON errors: 413 over the `json` limit (1 MiB),
/// 400 for malformed JSON, 422 for well-formed JSON of the wrong shape (naming the field).
pub struct ApiJson<T>(pub T);

#[rocket::async_trait]
impl<'r, T: DeserializeOwned + Send + 'static> FromData<'r> for ApiJson<T> {
    type Error = AppError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        use rocket::serde::json::Error;
        match Json::<T>::from_data(req, data).await {
            data::Outcome::Success(Json(v)) => data::Outcome::Success(ApiJson(v)),
            data::Outcome::Forward(f) => data::Outcome::Forward(f),
            data::Outcome::Error((_, e)) => {
                let err = match e {
                    Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => AppError::PayloadTooLarge,
                    Error::Io(io) => AppError::BadRequest(format!("could not read the body: {io}")),
                    Error::Parse(_, e) if e.is_data() => json_shape_error(&e),
                    Error::Parse(_, e) => AppError::BadRequest(format!("malformed JSON: {e}")),
                };
                fail(req, err)
            }
        }
    }
}

/// A serde "wrong type / missing field" error as a 422 naming the field where it can.
fn json_shape_error(e: &serde_json::Error) -> AppError {
    let text = e.to_string();
    let field = text
        .split('`')
        .nth(1)
        .filter(|_| text.starts_with("missing field") || text.starts_with("unknown field"))
        .unwrap_or("body")
        .to_string();
    let mut fields = crate::domain::fields::FieldErrors::new();
    fields.add(field, "err-json-shape");
    let _ = &mut fields;
    AppError::Validation(fields)
}
