//! What every page needs (language, user, CSRF token, flash message), page rendering, the
//! error pages and the catcher, and the Handlebars helpers for translations.

use super::guards::{ClientAddress, language_of};
use crate::db::users::User;
use crate::domain::language::Language;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult};
use crate::i18n;
use crate::services::Actor;
use rocket::http::Status;
use rocket::request::{FlashMessage, FromRequest, Outcome, Request};
use rocket_dyn_templates::Template;
use rocket_dyn_templates::handlebars::{self, Context, Handlebars, Helper, RenderContext, RenderError, ScopedJson};
use serde_json::{Map, Value, json};

/// The per-request page context.
pub struct Ctx {
    pub lang: Language,
    pub user: Option<User>,
    pub csrf: String,
    pub path: String,
    pub address: ClientAddress,
    flash: Option<(String, String)>,
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
        let flash = req
            .guard::<Option<FlashMessage<'_>>>()
            .await
            .succeeded()
            .flatten()
            .map(|f| (f.kind().to_string(), f.message().to_string()));
        let address = req.guard::<ClientAddress>().await.succeeded().unwrap_or(ClientAddress("unknown".into()));
        Outcome::Success(Ctx {
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
        let mut root = base_context(self.lang, self.user.as_ref(), &self.csrf, &self.path);
        if let Some((kind, message)) = &self.flash {
            root.insert("flash".into(), json!({"kind": kind, "message": message}));
        }
        if let Value::Object(extra) = data {
            root.extend(extra);
        }
        Template::render(name, Value::Object(root))
    }

    /// The logged-in user, or a redirect to the login page.
    pub fn user(&self) -> AppResult<&User> {
        self.user.as_ref().ok_or_else(|| AppError::Unauthorized("err-login-required".into()))
    }

    /// The logged-in user if their role has `permission`; 403 otherwise.
    pub fn require(&self, permission: Permission) -> AppResult<&User> {
        let user = self.user()?;
        super::guards::require(user, permission)?;
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

fn base_context(lang: Language, user: Option<&User>, csrf: &str, path: &str) -> Map<String, Value> {
    let other = match lang {
        Language::Nb => Language::En,
        Language::En => Language::Nb,
    };
    let user = user.map(|u| {
        json!({
            "id": u.id, "name": u.name, "email": u.email, "role": u.role,
            "is_admin": u.role == "admin", "is_case_officer": u.role == "case_officer",
            "is_register_owner": u.role == "register_owner", "is_applicant": u.role == "applicant",
        })
    });
    let mut root = Map::new();
    root.insert("lang".into(), json!(lang.code()));
    root.insert("other_lang".into(), json!({"code": other.code(), "label": i18n::t(other, "language-name")}));
    root.insert("user".into(), json!(user));
    root.insert("csrf".into(), json!(csrf));
    root.insert("path".into(), json!(path));
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
    let cached: &Result<Option<User>, String> = req.local_cache(|| Ok(None));
    let user = cached.as_ref().ok().and_then(|u| u.clone());
    let lang = language_of(req, user.as_ref());
    let csrf = super::csrf::token(req);
    let mut root = base_context(lang, user.as_ref(), &csrf, req.uri().path().as_str());
    root.insert("status".into(), json!(status.code));
    root.insert("title".into(), json!(i18n::t(lang, &format!("status-{}", status.code))));
    root.insert("message".into(), json!(err.public_message(lang)));
    root.insert("fields".into(), json!(err.fields(lang)));
    (status, Template::render("error", Value::Object(root)))
}

/// Answers every error status: with the guard's own error when it left one, as JSON under
/// `/api` and as a page elsewhere.
#[rocket::catch(default)]
pub fn default_catcher(status: Status, req: &Request<'_>) -> AppError {
    match &req.local_cache(Caught::default).0 {
        Some(e) if e.status() == status => e.clone(),
        _ => AppError::from_status(status),
    }
}

fn root_lang(ctx: &Context) -> Language {
    ctx.data().get("lang").and_then(Value::as_str).and_then(Language::from_tag).unwrap_or_default()
}

/// `{{t "key" n=3}}`: the translation of `key` in the page's language (also as a subexpression).
struct TranslateHelper;

impl handlebars::HelperDef for TranslateHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let key = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or(handlebars::RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let lang = root_lang(ctx);
        let text = if h.hash().is_empty() {
            i18n::t(lang, key)
        } else {
            let args: Vec<(&str, i18n::Arg)> = h
                .hash()
                .iter()
                .map(|(k, v)| {
                    let value = match v.value() {
                        Value::Number(n) => i18n::Arg::from(n.as_f64().unwrap_or_default()),
                        Value::String(s) => i18n::Arg::from(s.clone()),
                        other => i18n::Arg::from(other.to_string()),
                    };
                    (*k, value)
                })
                .collect();
            i18n::t_args(lang, key, &args)
        };
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

/// `{{loc name_nb name_en}}`: the first in bokmål, the second in English (falls back to the first).
struct LocaliseHelper;

impl handlebars::HelperDef for LocaliseHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let idx = match root_lang(ctx) {
            Language::Nb => 0,
            Language::En => 1,
        };
        let pick = h
            .param(idx)
            .map(|p| p.value().clone())
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .or_else(|| h.param(0).map(|p| p.value().clone()));
        Ok(ScopedJson::Derived(pick.unwrap_or(Value::Null)))
    }
}

/// `{{concat "a-" b}}`: joins its parameters into one string (for translation keys).
struct ConcatHelper;

impl handlebars::HelperDef for ConcatHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let text: String = h
            .params()
            .iter()
            .map(|p| match p.value() {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect();
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

/// The template engine with our helpers.
pub fn templates() -> impl rocket::fairing::Fairing {
    Template::custom(|engines| {
        engines.handlebars.register_helper("t", Box::new(TranslateHelper));
        engines.handlebars.register_helper("loc", Box::new(LocaliseHelper));
        engines.handlebars.register_helper("concat", Box::new(ConcatHelper));
        engines.handlebars.set_strict_mode(false);
    })
}
