//! CSRF protection for forms: a random token in a private cookie that every form repeats in a
//! hidden `csrf_token` field. [`CsrfForm`] checks it before the form is parsed.

use crate::error::AppError;
use crate::services::accounts::new_secret;
use rocket::data::{self, Data, FromData, ToByteUnit};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, SameSite, Status};
use rocket::request::{FromRequest, Outcome, Request};

/// Name of the private CSRF cookie.
pub const CSRF_COOKIE: &str = "hds_csrf";
/// Name of the hidden form field.
pub const CSRF_FIELD: &str = "csrf_token";

/// The request's CSRF token (created, and set as a cookie, when the browser has none).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// The token for this request, creating it once.
pub fn token(req: &Request<'_>) -> String {
    req.local_cache(|| {
        if let Some(c) = req.cookies().get_private(CSRF_COOKIE) {
            return CsrfToken(c.value().to_string());
        }
        let (secret, _) = new_secret();
        req.cookies().add_private(
            Cookie::build((CSRF_COOKIE, secret.clone())).http_only(true).same_site(SameSite::Lax).path("/").build(),
        );
        CsrfToken(secret)
    })
    .0
    .clone()
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(CsrfToken(token(req)))
    }
}

/// Compares two secrets in time independent of where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a token sent with a form against the cookie.
pub fn verify(req: &Request<'_>, sent: Option<&str>) -> Result<(), AppError> {
    let expected = req.cookies().get_private(CSRF_COOKIE);
    match (expected, sent) {
        (Some(cookie), Some(sent)) if constant_time_eq(cookie.value().as_bytes(), sent.as_bytes()) => Ok(()),
        _ => Err(AppError::Forbidden("err-csrf".into())),
    }
}

/// Remembers the error for the catcher and fails the guard with its status.
pub fn fail<'r, T>(req: &Request<'_>, err: AppError) -> data::Outcome<'r, T, AppError> {
    crate::web::context::remember(req, &err);
    data::Outcome::Error((err.status(), err))
}

/// A form with nothing but its token (logout, delete buttons).
#[derive(FromForm)]
pub struct CsrfOnly {
    #[field(name = "csrf_token")]
    pub _token: String,
}

/// A URL-encoded form whose CSRF token has been checked; its fields parse into `T`.
pub struct CsrfForm<T>(pub T);

#[rocket::async_trait]
impl<'r, T: for<'a> FromForm<'a> + Send + 'static> FromData<'r> for CsrfForm<T> {
    type Error = AppError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let limit = req.limits().get("form").unwrap_or(64.kibibytes());
        let body = match data.open(limit).into_string().await {
            Ok(s) if s.is_complete() => s.into_inner(),
            Ok(_) => return fail(req, AppError::PayloadTooLarge),
            Err(e) => return fail(req, AppError::BadRequest(e.to_string())),
        };
        if Form::values(&body)
            .any(|f| f.value.contains('\0') || rocket::http::RawStr::new(f.value).url_decode_lossy().contains('\0'))
        {
            return fail(req, AppError::Status(422, "err-nul-characters".into()));
        }
        let sent = Form::values(&body).find(|f| f.name == CSRF_FIELD).map(|f| f.value.to_string());
        if let Err(e) = verify(req, sent.as_deref()) {
            return fail(req, e);
        }
        match Form::<T>::parse_encoded(rocket::http::RawStr::new(&body)) {
            Ok(value) => data::Outcome::Success(CsrfForm(value)),
            Err(errors) => {
                let text = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
                fail(req, AppError::Status(Status::UnprocessableEntity.code, text))
            }
        }
    }
}

/// A URL-encoded body whose CSRF token has been checked, kept as text for pages that read
/// dotted field names themselves (the application form).
pub struct CsrfBody(pub String);

#[rocket::async_trait]
impl<'r> FromData<'r> for CsrfBody {
    type Error = AppError;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        // The application form holds far more than other forms: up to 30 sources with 4 000
        // characters of selection each, and æ, ø, å take 6 bytes once URL-encoded.
        let limit = req.limits().get("application-form").unwrap_or(1.mebibytes());
        let body = match data.open(limit).into_string().await {
            Ok(s) if s.is_complete() => s.into_inner(),
            Ok(_) => return fail(req, AppError::PayloadTooLarge),
            Err(e) => return fail(req, AppError::BadRequest(e.to_string())),
        };
        if body.contains('\0') || rocket::http::RawStr::new(&body).url_decode_lossy().contains('\0') {
            return fail(req, AppError::Status(422, "err-nul-characters".into()));
        }
        let sent = Form::values(&body).find(|f| f.name == CSRF_FIELD).map(|f| f.value.to_string());
        match verify(req, sent.as_deref()) {
            Ok(()) => data::Outcome::Success(CsrfBody(body)),
            Err(e) => fail(req, e),
        }
    }
}

impl CsrfToken {
    /// Whether a token sent in a multipart form matches this browser's cookie.
    pub fn matches(&self, sent: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), sent.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_time_eq() {
        assert!(super::constant_time_eq(b"abc", b"abc"));
        assert!(!super::constant_time_eq(b"abc", b"abd"));
        assert!(!super::constant_time_eq(b"abc", b"ab"));
    }
}
