//! "Log in with ID-porten / HelseID": leaves for the provider and comes back to the callback,
//! which opens a session for the linked account.

use super::auth::{PageOr, login_page_data};
use crate::config::Config;
use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::{self, accounts, oidc};
use crate::web::context::Ctx;
use crate::web::csrf::CsrfForm;
use crate::web::guards::session_cookie;
use crate::web::safe_next;
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::response::Redirect;
use rocket::{State, get, post, routes};
use serde_json::json;

pub fn routes() -> Vec<rocket::Route> {
    routes![start, callback, confirm_page, give_address, confirm_code]
}

/// The private cookie holding the state, nonce and PKCE verifier of a login under way.
const PENDING_COOKIE: &str = "hds_oidc";
/// The private cookie holding the token of a first login waiting for a mailed code.
const CONFIRM_COOKIE: &str = "hds_oidc_confirm";

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
        let next = safe_next(Some(&pending.next));
        match oidc::arrive(&mut conn, provider, &identity, &next, ctx.lang, &ctx.actor(), now).await? {
            oidc::Arrival::Account(user) => {
                let secret = accounts::open_session(&mut conn, &user, &ctx.address.0, now).await?;
                cookies.add_private(session_cookie(secret));
                Ok(Redirect::to(next))
            }
            oidc::Arrival::Confirm(token) => {
                cookies.add_private(confirm_cookie(token));
                Ok(Redirect::to("/login/oidc/confirm"))
            }
        }
    }
    .await;
    match result {
        Ok(redirect) => Ok(PageOr::Redirect(redirect)),
        Err(e @ (AppError::Unauthorized(_) | AppError::Forbidden(_))) => {
            let message = if matches!(e, AppError::Forbidden(_)) {
                e.public_message(ctx.lang)
            } else {
                ctx.t("login-oidc-failed")
            };
            let data = login_page_data(config, "/", "", Some(message));
            Ok(PageOr::Page((e.status(), ctx.page("pages/auth/login", data))))
        }
        Err(e) => Err(e),
    }
}

fn confirm_cookie(token: String) -> Cookie<'static> {
    Cookie::build((CONFIRM_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/login/oidc")
        .max_age(rocket::time::Duration::minutes(crate::domain::federation::CODE_MINUTES))
        .build()
}

fn confirm_token(cookies: &CookieJar<'_>) -> AppResult<String> {
    cookies
        .get_private(CONFIRM_COOKIE)
        .map(|c| c.value().to_string())
        .ok_or_else(|| AppError::Unauthorized("err-oidc-confirmation-expired".into()))
}

/// A first login proves an e-mail address: the form for the address (ID-porten sends none) or
/// for the code mailed to it.
#[get("/login/oidc/confirm")]
async fn confirm_page(ctx: Ctx, pool: &State<Pool>, cookies: &CookieJar<'_>) -> AppResult<Template> {
    let token = confirm_token(cookies)?;
    let mut conn = services::conn(pool).await?;
    let email = oidc::confirmation_address(&mut conn, &token, Utc::now()).await?;
    Ok(ctx.page("pages/auth/oidc_confirm", json!({"email": email, "form": {"email": email}})))
}

#[derive(FromForm)]
struct AddressForm {
    email: String,
}

#[post("/login/oidc/confirm/email", data = "<form>")]
async fn give_address(
    ctx: Ctx,
    pool: &State<Pool>,
    cookies: &CookieJar<'_>,
    form: CsrfForm<AddressForm>,
) -> AppResult<PageOr> {
    let token = confirm_token(cookies)?;
    let mut conn = services::conn(pool).await?;
    match oidc::give_address(&mut conn, &token, &form.0.email, ctx.lang, Utc::now()).await {
        Ok(()) => Ok(PageOr::Redirect(Redirect::to("/login/oidc/confirm"))),
        Err(e @ AppError::Validation(_)) => {
            let email = oidc::confirmation_address(&mut conn, &token, Utc::now()).await?;
            let data = json!({"email": email, "form": {"email": form.0.email}, "errors": ctx.errors(&e)});
            Ok(PageOr::Page((e.status(), ctx.page("pages/auth/oidc_confirm", data))))
        }
        Err(e) => Err(e),
    }
}

#[derive(FromForm)]
struct CodeForm {
    code: String,
}

#[post("/login/oidc/confirm/code", data = "<form>")]
async fn confirm_code(
    ctx: Ctx,
    pool: &State<Pool>,
    config: &State<Config>,
    cookies: &CookieJar<'_>,
    form: CsrfForm<CodeForm>,
) -> AppResult<PageOr> {
    let token = confirm_token(cookies)?;
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    match oidc::confirm_code(&mut conn, &config.oidc, &token, &form.0.code, &ctx.actor(), now).await {
        Ok((user, next)) => {
            cookies.remove_private(Cookie::build(CONFIRM_COOKIE).path("/login/oidc"));
            let secret = accounts::open_session(&mut conn, &user, &ctx.address.0, now).await?;
            cookies.add_private(session_cookie(secret));
            Ok(PageOr::Redirect(Redirect::to(safe_next(Some(&next)))))
        }
        Err(e @ AppError::Validation(_)) => {
            let email = oidc::confirmation_address(&mut conn, &token, now).await?;
            let data = json!({"email": email, "form": {"email": email}, "errors": ctx.errors(&e)});
            Ok(PageOr::Page((e.status(), ctx.page("pages/auth/oidc_confirm", data))))
        }
        Err(e @ AppError::Forbidden(_)) => {
            cookies.remove_private(Cookie::build(CONFIRM_COOKIE).path("/login/oidc"));
            let data = login_page_data(config, "/", "", Some(e.public_message(ctx.lang)));
            Ok(PageOr::Page((e.status(), ctx.page("pages/auth/login", data))))
        }
        Err(e) => Err(e),
    }
}
