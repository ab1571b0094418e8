//! Request guards shared by pages and the API: client address, language, the logged-in user
//! (session cookie for pages, bearer token for the API) and permission checks.

use crate::db::{self, Pool, users::User};
use crate::domain::language::Language;
use crate::error::AppError;
use crate::services::{Actor, accounts};
use chrono::Utc;
use rocket::State;
use rocket::http::{Cookie, CookieJar, SameSite};
use rocket::request::{FromRequest, Outcome, Request};

/// Name of the private session cookie.
pub const SESSION_COOKIE: &str = "hds_session";
/// Name of the (plain) language cookie.
pub const LANG_COOKIE: &str = "lang";

/// The client's IP address (from the connection; see `ip_header` in Rocket.toml behind a proxy).
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddress {
    type Error = std::convert::Infallible;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientAddress(req.client_ip().map(|ip| ip.to_string()).unwrap_or_else(|| "unknown".into())))
    }
}

/// Builds the session cookie (private: encrypted and authenticated; HttpOnly; SameSite=Lax so
/// links from e-mails keep the session, while every form also carries a CSRF token).
pub fn session_cookie(secret: String) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, secret)).http_only(true).same_site(SameSite::Lax).path("/").build()
}

/// The request-cache slot of the session row (or why it could not be read).
type SessionSlot = Result<Option<db::users::SessionRow>, String>;

/// The session's user, their unread notices and when the session expires, read once per request
/// (one statement).
async fn session_row<'r>(req: &'r Request<'_>) -> Result<Option<&'r db::users::SessionRow>, AppError> {
    let cached: &'r SessionSlot = req
        .local_cache_async(async {
            let Some(cookie) = req.cookies().get_private(SESSION_COOKIE) else {
                return Ok(None);
            };
            let pool = req.rocket().state::<Pool>().ok_or("no pool")?;
            let mut conn = pool.get().await.map_err(|e| e.to_string())?;
            accounts::session(&mut conn, cookie.value(), Utc::now()).await.map_err(|e| e.to_string())
        })
        .await;
    cached.as_ref().map(Option::as_ref).map_err(|e| AppError::Unavailable(e.clone()))
}

/// The session's user as this request already read it (`None` if it was not read, or there is
/// none): for answers built without awaiting, such as error pages.
pub fn session_user_read(req: &Request<'_>) -> Option<User> {
    let cached: &SessionSlot = req.local_cache(|| Ok(None));
    cached.as_ref().ok().and_then(|s| s.as_ref()).map(|s| s.user.clone())
}

async fn session_user(req: &Request<'_>) -> Result<Option<User>, AppError> {
    Ok(session_row(req).await?.map(|s| s.user.clone()))
}

/// Unread notices of the session's user (0 without a session).
pub async fn session_unread(req: &Request<'_>) -> i64 {
    session_row(req).await.ok().flatten().map_or(0, |s| s.unread)
}

/// Fails a guard with `err`, keeping it for the catcher.
pub fn refuse<T>(req: &Request<'_>, err: AppError) -> Outcome<T, AppError> {
    crate::web::context::remember(req, &err);
    Outcome::Error((err.status(), err))
}

/// The user logged in through the session cookie, if any (pages).
pub struct MaybeUser(pub Option<User>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MaybeUser {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match session_user(req).await {
            Ok(u) => Outcome::Success(MaybeUser(u)),
            Err(e) => refuse(req, e),
        }
    }
}

/// A logged-in user (pages); without a session the page answers with a redirect to /login.
pub struct SessionUser(pub User);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for SessionUser {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        match session_user(req).await {
            Ok(Some(u)) => Outcome::Success(SessionUser(u)),
            Ok(None) => refuse(req, AppError::Unauthorized("err-login-required".into())),
            Err(e) => refuse(req, e),
        }
    }
}

/// A user authenticated by `Authorization: Bearer <token>` (the JSON API).
pub struct ApiUser {
    pub user: User,
    pub token_id: i64,
    pub scope: String,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiUser {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let unauthorized = |m: &str| refuse(req, AppError::Unauthorized(m.into()));
        let Some(header) = req.headers().get_one("Authorization") else {
            return unauthorized("err-bearer-missing");
        };
        let Some(token) = header.strip_prefix("Bearer ").map(str::trim).filter(|t| !t.is_empty()) else {
            return unauthorized("err-bearer-format");
        };
        let Some(pool) = req.rocket().state::<Pool>() else {
            return refuse(req, AppError::Internal("no pool".into()));
        };
        let mut conn = match pool.get().await {
            Ok(c) => c,
            Err(e) => return refuse(req, e.into()),
        };
        match crate::services::tokens::authenticate(&mut conn, token, Utc::now()).await {
            Ok(Some((t, user))) => {
                if t.scope == "read" && !matches!(req.method(), rocket::http::Method::Get | rocket::http::Method::Head)
                {
                    return refuse(req, AppError::Forbidden("err-token-read-only".into()));
                }
                Outcome::Success(ApiUser { user, token_id: t.id, scope: t.scope })
            }
            Ok(None) => unauthorized("err-bearer-invalid"),
            Err(e) => refuse(req, e),
        }
    }
}

/// The actor for the event log.
pub fn actor(user: Option<&User>, address: &ClientAddress) -> Actor {
    Actor { user_id: user.map(|u| u.id), address: Some(address.0.clone()) }
}

/// The interface language: the `lang` cookie, else the user's setting, else `Accept-Language`.
pub fn language_of(req: &Request<'_>, user: Option<&User>) -> Language {
    let cookies: &CookieJar<'_> = req.cookies();
    cookies
        .get(LANG_COOKIE)
        .and_then(|c| Language::from_tag(c.value()))
        .or_else(|| user.and_then(|u| Language::from_tag(&u.language)))
        .or_else(|| req.headers().get_one("Accept-Language").and_then(Language::from_accept_language))
        .unwrap_or_default()
}

/// The managed pool, as a guard.
pub type Db<'r> = &'r State<Pool>;

/// A request guard: 403 (before the body is read) when e-mail and password log-in is turned
/// off (`LOCAL_PASSWORDS=false`).
pub struct PasswordsAllowed;

#[rocket::async_trait]
impl<'r> rocket::request::FromRequest<'r> for PasswordsAllowed {
    type Error = AppError;
    async fn from_request(req: &'r rocket::Request<'_>) -> rocket::request::Outcome<Self, Self::Error> {
        match req.rocket().state::<crate::config::Config>() {
            Some(c) if !c.local_passwords => refuse(req, AppError::Forbidden("err-passwords-off".into())),
            _ => rocket::request::Outcome::Success(PasswordsAllowed),
        }
    }
}
