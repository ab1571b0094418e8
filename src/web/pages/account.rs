//! The user's own page: personal API tokens (created, shown once, revoked) and the identities
//! (ID-porten, HelseID …) linked to the account.

use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::{self, tokens};
use crate::web::context::{Back, Ctx};
use crate::web::csrf::{CsrfForm, CsrfOnly};
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![account, create_token, revoke_token, choose_language]
}

async fn render(ctx: &Ctx, pool: &Pool, extra: Value, status: Status) -> AppResult<(Status, Template)> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let list: Vec<Value> = tokens::list(&mut conn, user, Utc::now())
        .await?
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "name": t.name, "scope_label": ctx.t(&format!("token-scope-{}", t.scope)),
                "created": crate::domain::deadlines::oslo_day(t.created_at), "expires": crate::domain::deadlines::oslo_day(t.expires_at),
                "used": t.last_used_at.map(|at| crate::domain::deadlines::oslo_time(at, false)),
            })
        })
        .collect();
    let identities: Vec<Value> = services::accounts::identities(&mut conn, user.id)
        .await?
        .iter()
        .map(|i| json!({"provider": i.provider, "issuer": i.issuer, "since": crate::domain::deadlines::oslo_day(i.created_at)}))
        .collect();
    let languages: Vec<Value> = crate::domain::language::Language::ALL
        .iter()
        .map(|l| json!({"code": l.code(), "label": crate::i18n::t(*l, "language-name"), "chosen": l.code() == user.language}))
        .collect();
    let mut data = json!({"title": ctx.t("account-title"), "tokens": list, "identities": identities, "form": {"days": 90}, "languages": languages});
    if let (Value::Object(d), Value::Object(e)) = (&mut data, extra) {
        d.extend(e);
    }
    Ok((status, ctx.page("pages/account", data)))
}

#[get("/account")]
async fn account(ctx: Ctx, pool: &State<Pool>) -> AppResult<(Status, Template)> {
    render(&ctx, pool, json!({}), Status::Ok).await
}

#[derive(FromForm)]
struct LanguageForm {
    language: String,
}

/// The language of the person's e-mail and letters (the page's own language is the cookie's).
#[post("/account/language", data = "<form>")]
async fn choose_language(ctx: Ctx, pool: &State<Pool>, form: CsrfForm<LanguageForm>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    services::accounts::choose_language(&mut conn, user, &ctx.actor(), &form.0.language, Utc::now()).await?;
    Ok(Back::section("/account", "language").success(ctx.t("mail-language-saved")))
}

#[derive(FromForm)]
struct TokenForm {
    name: String,
    scope: String,
    expires_in_days: Option<i64>,
}

/// Creates a token and shows its secret on the page this once (never in a cookie or a redirect).
#[post("/account/tokens", data = "<form>")]
async fn create_token(ctx: Ctx, pool: &State<Pool>, form: CsrfForm<TokenForm>) -> AppResult<(Status, Template)> {
    let user = ctx.user()?;
    let form = form.0;
    let req = tokens::TokenRequest {
        name: form.name.clone(),
        scope: form.scope.clone(),
        expires_in_days: form.expires_in_days,
    };
    let result = tokens::create(&mut *services::conn(pool).await?, user, &ctx.actor(), &req, Utc::now()).await;
    match result {
        Ok((secret, token)) => {
            let created = json!({"secret": secret, "name": token.name, "expires": crate::domain::deadlines::oslo_day(token.expires_at)});
            render(&ctx, pool, json!({"created": created}), Status::Created).await
        }
        Err(e @ AppError::Validation(_)) => {
            let extra = json!({"errors": ctx.errors(&e), "form": {"name": form.name, "scope": form.scope, "days": form.expires_in_days}});
            render(&ctx, pool, extra, e.status()).await
        }
        Err(e) => Err(e),
    }
}

#[post("/account/tokens/<id>/revoke", data = "<_form>")]
async fn revoke_token(ctx: Ctx, pool: &State<Pool>, id: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    tokens::revoke(&mut conn, user, &ctx.actor(), id, Utc::now()).await?;
    Ok(Flash::success(Redirect::to("/account"), ctx.t("token-revoked")))
}
