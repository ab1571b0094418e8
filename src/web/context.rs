//! What every page needs (language, user, CSRF token, flash message), page rendering, the
//! error pages and the catcher, and the Handlebars helpers for translations.

use super::guards::{ClientAddress, language_of};
use crate::db::users::User;
use crate::domain::language::Language;
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::services::Actor;
use crate::web::template::Template;
use rocket::http::Status;
use rocket::request::{FlashMessage, FromRequest, Outcome, Request};
use rocket::response::{Flash, Redirect};
use serde_json::{Map, Value, json};

/// The per-request page context.
pub struct Ctx {
    pub lang: Language,
    pub user: Option<User>,
    pub csrf: String,
    pub path: String,
    pub address: ClientAddress,
    /// The flash message's kind, text and the section it belongs to (see [`Back`]).
    flash: Option<(String, String, Option<String>)>,
    /// Unread notices of the logged-in user (the bell in the header).
    unread: i64,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Ctx {
    type Error = AppError;
    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let user = match req.guard::<super::guards::MaybeUser>().await {
            Outcome::Success(u) => u.0,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(s) => return Outcome::Forward(s),
        };
        let flash = req.guard::<Option<FlashMessage<'_>>>().await.succeeded().flatten().map(|f| {
            let (kind, at) = f.kind().split_once('@').map_or((f.kind(), None), |(kind, at)| (kind, Some(at)));
            (kind.to_string(), f.message().to_string(), at.map(str::to_string))
        });
        let address = req.guard::<ClientAddress>().await.succeeded().unwrap_or(ClientAddress("unknown".into()));
        // Read with the session, in the same statement (0 without one).
        let unread = super::guards::session_unread(req).await;
        Outcome::Success(Ctx {
            unread,
            lang: language_of(req, user.as_ref()),
            csrf: super::csrf::token(req),
            path: req.uri().path().to_string(),
            user,
            address,
            flash,
        })
    }
}

impl Ctx {
    /// Renders `templates/<name>.html.hbs` with `data` merged over the common context.
    pub fn page(&self, name: &'static str, data: Value) -> Template {
        Template::render(name, self.context(data))
    }

    /// The common context with `data` merged over it.
    fn context(&self, data: Value) -> Value {
        let mut root = base_context(self.lang, self.user.as_ref(), &self.csrf, &self.path);
        root.insert("unread".into(), crate::domain::notice::bell(self.unread));
        if let Some((kind, message, at)) = &self.flash {
            root.insert("flash".into(), json!({"kind": kind, "message": message, "at": at}));
        }
        if let Value::Object(extra) = data {
            root.extend(extra);
        }
        Value::Object(root)
    }

    /// The logged-in user, or a redirect to the login page.
    pub fn user(&self) -> AppResult<&User> {
        self.user.as_ref().ok_or_else(|| AppError::Unauthorized("err-login-required".into()))
    }

    /// The logged-in user if their role has `permission`; 403 otherwise.
    pub fn require(&self, permission: Permission) -> AppResult<&User> {
        let user = self.user()?;
        crate::services::require(user, permission)?;
        Ok(user)
    }

    /// Who is acting, for the event log.
    pub fn actor(&self) -> Actor {
        super::guards::actor(self.user.as_ref(), &self.address)
    }

    /// A translated text.
    pub fn t(&self, key: &str) -> String {
        i18n::t(self.lang, key)
    }

    /// Field errors as `{field: [message, …]}` in the page's language.
    pub fn errors(&self, err: &AppError) -> Value {
        json!(err.fields(self.lang))
    }
}

/// Where a form sends its user back to: a page, or a section of one (`/x#at`).
///
/// A message for a section is shown in that section, where the browser lands; at the top of
/// the page it was out of sight. The section's template holds
/// `{{> partials/landed @root.bare at="…" flash=@root.flash}}` right after its heading; the
/// page's top copy is cut when the section showed it (`web::template::keep_one_flash`).
#[derive(Debug, Clone)]
pub struct Back {
    path: String,
    at: Option<&'static str>,
}

impl Back {
    /// Back to the top of `path`.
    pub fn page(path: impl Into<String>) -> Self {
        Back { path: path.into(), at: None }
    }

    /// Back to section `at` of `path`.
    pub fn section(path: impl Into<String>, at: &'static str) -> Self {
        Back { path: path.into(), at: Some(at) }
    }

    /// There, with a confirmation.
    pub fn success(self, message: String) -> Flash<Redirect> {
        self.flash("success", message)
    }

    /// There, with what went wrong.
    pub fn error(self, message: String) -> Flash<Redirect> {
        self.flash("error", message)
    }

    fn flash(self, kind: &str, message: String) -> Flash<Redirect> {
        match self.at {
            Some(at) => Flash::new(Redirect::to(format!("{}#{at}", self.path)), format!("{kind}@{at}"), message),
            None => Flash::new(Redirect::to(self.path), kind, message),
        }
    }
}

impl From<String> for Back {
    fn from(path: String) -> Self {
        Back::page(path)
    }
}

fn base_context(lang: Language, user: Option<&User>, csrf: &str, path: &str) -> Map<String, Value> {
    let others: Vec<Value> = Language::ALL
        .iter()
        .filter(|l| **l != lang)
        .map(|l| json!({"code": l.code(), "label": i18n::t(*l, "language-name")}))
        .collect();
    let user = user.map(|u| {
        json!({
            "id": u.id, "name": u.name, "email": u.email, "role": u.role,
            "is_admin": u.role == Role::Admin, "is_case_officer": u.role == Role::CaseOfficer,
            "is_register_owner": u.role == Role::RegisterOwner, "is_applicant": u.role == Role::Applicant,
            "is_reviewer": u.role == Role::Reviewer,
            "is_staff": matches!(u.role, Role::Admin | Role::CaseOfficer | Role::RegisterOwner),
            "sees_enquiries": matches!(u.role, Role::Applicant | Role::CaseOfficer | Role::RegisterOwner),
            "sees_statements": matches!(u.role, Role::CaseOfficer | Role::RegisterOwner | Role::Reviewer),
            "unverified": u.email_verified_at.is_none(),
        })
    });
    let mut root = Map::new();
    root.insert("lang".into(), json!(lang.code()));
    root.insert("other_langs".into(), json!(others));
    root.insert("user".into(), json!(user));
    root.insert("csrf".into(), json!(csrf));
    root.insert("path".into(), json!(path));
    root.insert("assets".into(), json!(crate::assets::fingerprint()));
    // The context of the form partials (`{{> partials/field @root.bare name=…}}`): Handlebars
    // merges a partial's hash into a copy of its context, which would otherwise be the whole
    // page's data, copied again for every field (seen in a profile of the inbox).
    root.insert("bare".into(), json!({}));
    root
}

#[derive(Default)]
struct Caught(Option<AppError>);

/// Keeps a guard's error so the catcher can answer with it.
pub fn remember(req: &Request<'_>, err: &AppError) {
    req.local_cache(|| Caught(Some(err.clone())));
}

/// The HTML error page.
pub fn error_page(req: &Request<'_>, status: Status, err: &AppError) -> (Status, Template) {
    let user = super::guards::session_user_read(req);
    let lang = language_of(req, user.as_ref());
    let csrf = super::csrf::token(req);
    let mut root = base_context(lang, user.as_ref(), &csrf, req.uri().path().as_str());
    root.insert("unread".into(), crate::domain::notice::bell(req.local_cache(|| ErrorPageUnread(0)).0));
    root.insert("status".into(), json!(status.code));
    root.insert("title".into(), json!(i18n::t(lang, &format!("status-{}", status.code))));
    root.insert("message".into(), json!(err.public_message(lang)));
    root.insert("fields".into(), json!(err.fields(lang)));
    // A form that failed here (a stale token, too large): the way back to its page, where the
    // tab put back what was typed (static/drafts.js).
    if req.method() != rocket::http::Method::Get {
        let back = req.headers().get_one("Referer").and_then(super::errors::referring_path);
        root.insert("back".into(), json!(back.map(|p| super::safe_next(Some(p)))));
    }
    (status, Template::render("error", Value::Object(root)))
}

/// The bell's count for an error page (read by the catcher, which may wait on the database).
struct ErrorPageUnread(i64);

/// Answers every error status: with the guard's own error when it left one, as JSON under
/// `/api` and as a page elsewhere.
#[rocket::catch(default)]
pub async fn default_catcher(status: Status, req: &Request<'_>) -> AppError {
    // A path no route matched read no session: read it, so the page shows who is logged in.
    let _ = req.guard::<super::guards::MaybeUser>().await;
    let unread = super::guards::session_unread(req).await;
    req.local_cache(|| ErrorPageUnread(unread));
    match &req.local_cache(Caught::default).0 {
        Some(e) if e.status() == status => e.clone(),
        _ => AppError::from_status(status),
    }
}
