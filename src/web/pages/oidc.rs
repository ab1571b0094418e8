//! "Log in with ID-porten / HelseID": leaves for the provider and comes back to the callback,
//! which opens a session for the linked account.

use super::auth::{PageOr, login_page_data};
use crate::config::Config;
use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::{self, accounts, oidc};
use crate::web::context::Ctx;
use crate::web::guards::session_cookie;
use crate::web::safe_next;
use chrono::Utc;
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::response::Redirect;
use rocket::{State, get, routes};

pub fn routes() -> Vec<rocket::Route> {
    routes![start, callback]
}

/// The private cookie holding the state, nonce and PKCE verifier of a login under way.
const PENDING_COOKIE: &str = "hds_oidc";

#[get("/login/oidc/<key>?<next>")]
async fn start(config: &State<Config>, cookies: &CookieJar<'_>, key: &str, next: Option<&str>) -> AppResult<Redirect> {
    let provider = config.oidc.iter().find(|p| p.key == key).ok_or(AppError::NotFound)?;
    let (url, pending) = oidc::start(provider, &config.public_url, &safe_next(next), Utc::now()).await?;
    let value = serde_json::to_string(&pending).map_err(|e| AppError::Internal(e.to_string()))?;
    // Lax, so the cookie comes along on the provider's top-level redirect back to us.
    let cookie = Cookie::build((PENDING_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(rocket::time::Duration::minutes(oidc::PENDING_MINUTES));
    cookies.add_private(cookie);
    Ok(Redirect::to(url))
}

#[allow(clippy::too_many_arguments)]
#[get("/login/oidc/<key>/callback?<code>&<state>")]
async fn callback(
    ctx: Ctx,
    pool: &State<Pool>,
    config: &State<Config>,
    cookies: &CookieJar<'_>,
    key: &str,
    code: Option<&str>,
    state: Option<&str>,
) -> AppResult<PageOr> {
    let provider = config.oidc.iter().find(|p| p.key == key).ok_or(AppError::NotFound)?;
    let pending: Option<oidc::PendingLogin> =
        cookies.get_private(PENDING_COOKIE).and_then(|c| serde_json::from_str(c.value()).ok());
    cookies.remove_private(Cookie::build(PENDING_COOKIE).path("/"));
    let now = Utc::now();
    let result = async {
        let pending = pending.ok_or_else(|| AppError::Unauthorized("login-oidc-failed".into()))?;
        let (Some(code), Some(state)) = (code, state) else {
            return Err(AppError::Unauthorized("login-oidc-failed".into()));
        };
        let identity = oidc::verify_callback(provider, &config.public_url, &pending, code, state, now).await?;
        let mut conn = services::conn(pool).await?;
        let user = oidc::account_for(&mut conn, provider, &identity, &ctx.actor(), now).await?;
        let secret = accounts::open_session(&mut conn, &user, &ctx.address.0, now).await?;
        Ok((secret, pending.next))
    }
    .await;
    match result {
        Ok((secret, next)) => {
            cookies.add_private(session_cookie(secret));
            Ok(PageOr::Redirect(Redirect::to(safe_next(Some(&next)))))
        }
        Err(e @ AppError::Unauthorized(_)) => {
            let data = login_page_data(config, "/", "", Some(ctx.t("login-oidc-failed")));
            Ok(PageOr::Page((e.status(), ctx.page("pages/auth/login", data))))
        }
        Err(e) => Err(e),
    }
}
