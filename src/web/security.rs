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

/// Adds the CSP and cache headers to every response; behind https (`https`: the public URL is
/// `https://`) also HSTS, and `Secure` on every cookie set (ours and Rocket's flash cookie).
pub struct SecurityHeaders {
    pub https: bool,
}

/// HSTS for a year, subdomains included (only sent when the public URL is https).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info { name: "Content-Security-Policy and Cache-Control", kind: Kind::Response }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new("Content-Security-Policy", CONTENT_SECURITY_POLICY));
        res.set_header(Header::new("Cross-Origin-Opener-Policy", "same-origin"));
        if self.https {
            res.set_header(Header::new("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY));
            let cookies: Vec<String> = res.headers().get("Set-Cookie").map(str::to_string).collect();
            if cookies.iter().any(|c| !has_secure(c)) {
                res.remove_header("Set-Cookie");
                for cookie in cookies {
                    let cookie = if has_secure(&cookie) { cookie } else { format!("{cookie}; Secure") };
                    res.adjoin_header(Header::new("Set-Cookie", cookie));
                }
            }
        }
        if req.uri().path().starts_with("/static/") {
            // A link with the current fingerprint names these bytes for good; any other an hour.
            let current = req.query_value::<&str>("v").and_then(Result::ok) == Some(crate::assets::fingerprint());
            let policy = if current { "public, max-age=31536000, immutable" } else { "public, max-age=3600" };
            res.set_header(Header::new("Cache-Control", policy));
        } else if !res.headers().contains("Cache-Control") {
            res.set_header(Header::new("Cache-Control", "no-store"));
        }
    }
}

/// Whether a `Set-Cookie` value already has the `Secure` attribute.
fn has_secure(cookie: &str) -> bool {
    cookie.split(';').skip(1).any(|a| a.trim().eq_ignore_ascii_case("secure"))
}
