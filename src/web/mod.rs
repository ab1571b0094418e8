//! The HTTP layer: request guards, page routes per audience, the JSON API, catchers and
//! security headers.

pub mod api;
pub mod cards;
pub mod charts;
pub mod context;
pub mod csrf;
pub mod download;
pub mod errors;
pub mod guards;
pub mod metrics;
pub mod pages;
pub mod security;
pub mod template;
pub mod upload_limits;
pub mod uploads;
pub mod views;

use rocket::http::RawStr;

/// Percent-encodes a value for a query string.
pub fn url_encode(value: &str) -> String {
    RawStr::new(value).percent_encode().to_string()
}

/// A local redirect target from a `next` parameter; anything else becomes `/`. Control
/// characters make it `/` too (they cannot stand in a `Location` header); other characters
/// outside printable ASCII are percent-encoded, so `/ø` leads to `/%C3%B8`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.chars().any(char::is_control) =>
        {
            let mut target = String::with_capacity(n.len());
            for c in n.chars() {
                if c.is_ascii_graphic() {
                    target.push(c);
                } else {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        target.push_str(&format!("%{b:02X}"));
                    }
                }
            }
            target
        }
        _ => "/".to_string(),
    }
}

/// A serde "wrong type / missing field" error as a 422 naming the field where it can.
pub fn json_shape_error(e: &serde_json::Error) -> crate::error::AppError {
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
    crate::error::AppError::Validation(fields)
}

/// Every route and catcher of the service.
/// Static files are served from `static_files` (written out of the binary at start-up).
pub fn mount(rocket: rocket::Rocket<rocket::Build>, static_files: &std::path::Path) -> rocket::Rocket<rocket::Build> {
    rocket
        .mount("/", pages::routes())
        .mount("/api", api::routes())
        .mount("/", metrics::routes())
        .mount("/static", rocket::fs::FileServer::from(static_files).rank(20))
        .register("/", rocket::catchers![context::default_catcher])
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_is_local_only() {
        assert_eq!(super::safe_next(Some("/admin")), "/admin");
        assert_eq!(super::safe_next(Some("//evil.example")), "/");
        assert_eq!(super::safe_next(Some("https://evil.example")), "/");
        assert_eq!(super::safe_next(None), "/");
        assert_eq!(super::safe_next(Some("/ø x")), "/%C3%B8%20x");
        assert_eq!(super::safe_next(Some("/a\r\nSet-Cookie: x")), "/");
        assert_eq!(super::safe_next(Some("/\u{7f}")), "/");
    }
}
