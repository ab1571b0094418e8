//! Public pages: the front page, the catalogue and the language switch; `GET /health`.

use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services;
use crate::web::context::Ctx;
use crate::web::safe_next;
use crate::web::template::Template;
use crate::web::views;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::response::Redirect;
use rocket::serde::json::Json;
use rocket::{State, get, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![front, catalogue, source, language, health, accessibility]
}

#[get("/")]
async fn front(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    let (on_form, all, variables) = services::catalogue::counts(&mut conn).await?;
    Ok(ctx.page("pages/public/front", json!({"counts": {"on_form": on_form, "sources": all, "variables": variables}})))
}

/// The accessibility statement (tilgjengelighetserklæring) Norwegian public web services publish.
#[get("/accessibility")]
fn accessibility(ctx: Ctx, config: &State<crate::config::Config>) -> Template {
    // The address of the service's mail (`Name <address>`), where reports are read.
    let contact = config
        .mail_from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| config.mail_from.clone());
    ctx.page("pages/public/accessibility", json!({"contact": contact, "updated": "06.12.2026"}))
}

#[get("/data-sources?<q>")]
async fn catalogue(ctx: Ctx, pool: &State<Pool>, q: Option<&str>) -> AppResult<Template> {
    let q = q.map(|s| s.chars().take(100).collect::<String>());
    // The list shows no variables (each source's page does): one statement, a smaller context.
    let conn = services::conn(pool).await?;
    let sources: Vec<Value> = services::catalogue::sources(&conn, q.as_deref())
        .await?
        .iter()
        .map(|(s, o)| views::source_json(s, o, &[]))
        .collect();
    Ok(ctx.page("pages/public/catalogue", json!({"sources": sources, "q": q, "count": sources.len()})))
}

#[get("/data-sources/<code>", rank = 2)]
async fn source(ctx: Ctx, pool: &State<Pool>, code: &str) -> AppResult<Template> {
    let code = code.to_uppercase();
    if !crate::domain::catalogue::is_valid_source_code(&code) {
        return Err(AppError::NotFound);
    }
    let mut conn = services::conn(pool).await?;
    let entry = services::catalogue::source_by_code(&mut conn, &code).await?;
    Ok(ctx.page(
        "pages/public/source",
        json!({"source": views::source_json(&entry.source, &entry.owner, &entry.variables)}),
    ))
}

/// Switches the interface language (a plain link, so it works without JavaScript).
#[get("/language/<code>?<next>")]
async fn language(code: &str, next: Option<&str>, cookies: &CookieJar<'_>) -> Redirect {
    if let Some(lang) = crate::domain::language::Language::from_tag(code) {
        cookies.add(
            Cookie::build((crate::web::guards::LANG_COOKIE, lang.code()))
                .path("/")
                .same_site(SameSite::Lax)
                .max_age(rocket::time::Duration::days(365))
                .build(),
        );
    }
    Redirect::to(safe_next(next))
}

/// 200 when the database answers (also when every pooled connection is busy: the instance is
/// loaded, not broken, and draining it would move the load to the others), 503 when it does not.
#[get("/health")]
async fn health(pool: &State<Pool>, config: &State<crate::config::Config>) -> (Status, Json<Value>) {
    use crate::db::Health;
    match services::healthy(pool, config.database_url.as_deref().unwrap_or_default()).await {
        Health::Ok => (Status::Ok, Json(json!({"status": "ok", "database": "ok", "pool": "ok"}))),
        Health::PoolBusy => (Status::Ok, Json(json!({"status": "busy", "database": "ok", "pool": "busy"}))),
        Health::Down => (Status::ServiceUnavailable, Json(json!({"status": "unavailable", "database": "unreachable"}))),
    }
}
