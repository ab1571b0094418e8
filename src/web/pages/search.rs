//! The search page: the catalogue for everyone, and the cases the logged-in user may see.

use crate::db::Pool;
use crate::error::AppResult;
use crate::services::{self, search};
use crate::web::context::Ctx;
use crate::web::template::Template;
use rocket::{State, get, routes};
use serde_json::json;

pub fn routes() -> Vec<rocket::Route> {
    routes![page]
}

#[get("/search?<q>")]
async fn page(ctx: Ctx, pool: &State<Pool>, q: Option<&str>) -> AppResult<Template> {
    let q = search::query(q)?;
    let mut conn = services::conn(pool).await?;
    let (sources, variables) = search::catalogue(&mut conn, &q).await?;
    let cases = match &ctx.user {
        Some(user) => search::cases(&mut conn, user, &q).await?,
        None => vec![],
    };
    let en = ctx.lang.english();
    let sources: Vec<_> =
        sources.iter().map(|s| json!({"code": s.code, "name": if en { &s.name_en } else { &s.name_nb }})).collect();
    let variables: Vec<_> = variables
        .iter()
        .map(|v| json!({"code": v.code, "name": v.name, "description": if en { &v.description_en } else { &v.description_nb }}))
        .collect();
    let cases: Vec<_> = cases
        .iter()
        .map(|c| json!({"id": c.id, "reference": c.reference, "title": c.title, "state_key": format!("state-{}", c.state)}))
        .collect();
    let searched = !q.is_empty();
    Ok(ctx.page(
        "pages/search",
        json!({"title": ctx.t("search"), "q": q, "searched": searched, "sources": sources, "variables": variables, "cases": cases, "logged_in": ctx.user.is_some()}),
    ))
}
