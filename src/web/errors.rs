//! How an [`AppError`] answers over HTTP: JSON (`{"error", "fields"}`, SPEC §12) on `/api`
//! routes, a redirect to the login page for a missing login, and an HTML error page elsewhere.

use crate::domain::language::Language;
use crate::error::AppError;
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder, Response};
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Cursor;

/// Whether the request is for the JSON API.
pub fn is_api(req: &Request<'_>) -> bool {
    let path = req.uri().path();
    path == "/api" || path.starts_with("/api/")
}

/// Builds the JSON error body of SPEC §12.
pub fn json_body(message: &str, fields: &BTreeMap<String, Vec<String>>) -> String {
    json!({ "error": message, "fields": fields }).to_string()
}

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let status = self.status();
        match &self {
            // The path alone: a query may carry a one-time token (an invitation, a confirmation).
            AppError::Internal(detail) => tracing::error!(path = %req.uri().path(), "{detail}"),
            AppError::Unavailable(detail) => tracing::warn!(path = %req.uri().path(), "{detail}"),
            _ => {}
        }
        if is_api(req) {
            let body = json_body(&self.public_message(Language::En), &self.fields(Language::En));
            let mut resp = Response::build();
            resp.status(status).header(ContentType::JSON).sized_body(body.len(), Cursor::new(body));
            if let AppError::TooManyRequests(secs) = self {
                resp.header(Header::new("Retry-After", secs.to_string()));
            }
            if status == Status::Unauthorized {
                resp.header(Header::new("WWW-Authenticate", "Bearer"));
            }
            return resp.ok();
        }
        if let AppError::Unauthorized(_) = self {
            // After a form's POST, back to the page the form was on (the tab kept what was
            // typed: static/drafts.js), not to the POST's address, which has no page.
            let next = if req.method() == rocket::http::Method::Get {
                req.uri().to_string()
            } else {
                req.headers().get_one("Referer").and_then(referring_path).unwrap_or("/").to_string()
            };
            let target = format!("/login?next={}", super::url_encode(&next));
            return Redirect::to(target).respond_to(req);
        }
        super::context::error_page(req, status, &self).respond_to(req)
    }
}

/// The path and query of a `Referer` URL (`https://host/path?q` → `/path?q`).
pub(crate) fn referring_path(referer: &str) -> Option<&str> {
    let rest = &referer[referer.find("://")? + 3..];
    rest.find('/').map(|at| &rest[at..])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_referring_path_is_the_part_after_the_host() {
        assert_eq!(super::referring_path("https://hds.example/applications/7?x=1"), Some("/applications/7?x=1"));
        assert_eq!(super::referring_path("http://127.0.0.1:8000/"), Some("/"));
        assert_eq!(super::referring_path("https://hds.example"), None);
        assert_eq!(super::referring_path("/applications/7"), None, "not a URL");
    }
}
