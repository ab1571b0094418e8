//! Security headers: Rocket's Shield plus a strict Content-Security-Policy (Shield sets none)
//! and no caching of anything but static files.

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Header;
use rocket::shield::{Frame, NoSniff, Permission, Prefetch, Referrer, Shield, XssFilter};
use rocket::{Request, Response};

/// The policy: only our own scripts, styles, images and forms; no framing, no plugins.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Rocket's Shield with our choices.
pub fn shield() -> Shield {
    Shield::default()
        .enable(NoSniff::Enable)
        .enable(Frame::Deny)
        .enable(Referrer::SameOrigin)
        .enable(Prefetch::Off)
        .enable(XssFilter::Disable)
        .enable(Permission::default())
}

/// Adds the CSP and cache headers to every response.
pub struct SecurityHeaders;

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info { name: "Content-Security-Policy and Cache-Control", kind: Kind::Response }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new("Content-Security-Policy", CONTENT_SECURITY_POLICY));
        res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        if req.uri().path().starts_with("/static/") {
            res.set_header(Header::new("Cache-Control", "public, max-age=3600"));
        } else if !res.headers().contains("Cache-Control") {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
    }
}
