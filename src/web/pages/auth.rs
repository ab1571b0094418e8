//! Login, logout and self-registration pages.

use crate::config::Config;
use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::{self, accounts};
use crate::web::context::Ctx;
use crate::web::csrf::{CsrfForm, CsrfOnly};
use crate::web::guards::PasswordsAllowed;
use crate::web::guards::{SESSION_COOKIE, session_cookie};
use crate::web::safe_next;
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::{Redirect, Responder};
use rocket::{State, get, post, routes};
use serde_json::json;

pub fn routes() -> Vec<rocket::Route> {
    routes![login_page, login, logout, register_page, register, reregistration_page, confirm_reregistration]
}

/// A page or a redirect.
#[derive(Responder)]
pub enum PageOr {
    Page((Status, Template)),
    Redirect(Redirect),
    Flash(rocket::response::Flash<Redirect>),
}

/// What the login page shows: the password form (unless `LOCAL_PASSWORDS=false`) and a button
/// per OpenID Connect provider.
pub fn login_page_data(config: &Config, next: &str, email: &str, error: Option<String>) -> serde_json::Value {
    let providers: Vec<serde_json::Value> = config
        .oidc
        .iter()
        .map(|p| json!({"key": p.key, "label": p.label, "next": crate::web::url_encode(next)}))
        .collect();
    json!({"next": next, "email": email, "error": error, "providers": providers, "local_passwords": config.local_passwords})
}

#[get("/login?<next>")]
fn login_page(ctx: Ctx, config: &State<Config>, next: Option<&str>) -> Template {
    let data = login_page_data(config, &safe_next(next), "", None);
    ctx.page("pages/auth/login", data)
}

#[derive(FromForm)]
struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[post("/login", data = "<form>")]
async fn login(
    ctx: Ctx,
    pool: &State<Pool>,
    config: &State<Config>,
    _allowed: PasswordsAllowed,
    cookies: &CookieJar<'_>,
    form: CsrfForm<LoginForm>,
) -> AppResult<PageOr> {
    let form = form.0;
    let next = safe_next(form.next.as_deref());
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    match accounts::authenticate(&mut conn, &form.email, &form.password, &ctx.address.0, now).await {
        Ok(user) => {
            let secret = accounts::open_session(&mut conn, &user, &ctx.address.0, now).await?;
            cookies.add_private(session_cookie(secret));
            // No page asked for (or none allowed): the person's own starting page.
            let next = if next == "/" { user.role.home().to_string() } else { next };
            Ok(PageOr::Redirect(Redirect::to(next)))
        }
        Err(e @ (AppError::Unauthorized(_) | AppError::TooManyRequests(_))) => {
            let key = if matches!(e, AppError::TooManyRequests(_)) { "login-throttled" } else { "login-failed" };
            let page = ctx.page("pages/auth/login", login_page_data(config, &next, &form.email, Some(ctx.t(key))));
            Ok(PageOr::Page((e.status(), page)))
        }
        Err(e) => Err(e),
    }
}

#[post("/logout", data = "<_form>")]
async fn logout(pool: &State<Pool>, cookies: &CookieJar<'_>, _form: CsrfForm<CsrfOnly>) -> AppResult<Redirect> {
    if let Some(c) = cookies.get_private(SESSION_COOKIE) {
        let mut conn = services::conn(pool).await?;
        accounts::close_session(&mut conn, c.value()).await?;
    }
    cookies.remove_private(SESSION_COOKIE);
    Ok(Redirect::to("/"))
}

#[get("/register")]
fn register_page(ctx: Ctx, _allowed: PasswordsAllowed) -> Template {
    ctx.page("pages/auth/register", json!({"form": {}}))
}

#[derive(FromForm)]
struct RegisterForm {
    name: String,
    email: String,
    password: String,
    password_confirm: String,
}

/// The link mailed when an address whose account was never confirmed is registered again: a
/// page with one button (a mail scanner that opens links changes nothing).
#[get("/register/confirm?<token>")]
fn reregistration_page(ctx: Ctx, token: &str) -> Template {
    ctx.page("pages/auth/reregister", json!({"token": token}))
}

#[derive(FromForm)]
struct ReregistrationForm {
    token: String,
}

#[post("/register/confirm", data = "<form>")]
async fn confirm_reregistration(
    ctx: Ctx,
    pool: &State<Pool>,
    cookies: &CookieJar<'_>,
    form: CsrfForm<ReregistrationForm>,
) -> AppResult<Redirect> {
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    let user = accounts::confirm_reregistration(&mut conn, &ctx.actor(), &form.0.token, now).await?;
    let secret = accounts::open_session(&mut conn, &user, &ctx.address.0, now).await?;
    cookies.add_private(session_cookie(secret));
    Ok(Redirect::to("/applications"))
}

#[post("/register", data = "<form>")]
async fn register(
    ctx: Ctx,
    pool: &State<Pool>,
    _allowed: PasswordsAllowed,
    form: CsrfForm<RegisterForm>,
) -> AppResult<PageOr> {
    let form = form.0;
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    let input = accounts::NewAccount {
        email: form.email.clone(),
        name: form.name.clone(),
        password: form.password.clone(),
        role: None,
        organisation_id: None,
        language: Some(ctx.lang.code().into()),
    };
    let result = if form.password != form.password_confirm {
        Err(AppError::field("password_confirm", "err-password-mismatch"))
    } else {
        accounts::register(&mut conn, &ctx.actor(), input, now).await
    };
    match result {
        // The same answer whether or not the address had an account (no enumeration).
        Ok(()) => Ok(PageOr::Page((
            Status::Ok,
            ctx.page("pages/auth/registered", json!({"email": form.email.trim().to_lowercase()})),
        ))),
        Err(e @ AppError::Validation(_)) => {
            let page = ctx.page(
                "pages/auth/register",
                json!({"form": {"name": form.name, "email": form.email}, "errors": ctx.errors(&e)}),
            );
            Ok(PageOr::Page((e.status(), page)))
        }
        Err(e) => Err(e),
    }
}
