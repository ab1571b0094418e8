//! The webhooks page of register owners (their organisation's endpoints) and admins (all):
//! register an endpoint (the signing secret is shown once), remove it, see its deliveries.

use crate::config::Config;
use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::{self, webhooks};
use crate::web::context::Ctx;
use crate::web::csrf::{CsrfForm, CsrfOnly};
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![page, register, endpoint, disable]
}

async fn render(ctx: &Ctx, pool: &Pool, extra: Value, status: Status) -> AppResult<(Status, Template)> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let list: Vec<Value> = webhooks::list(&mut conn, user)
        .await?
        .iter()
        .map(|e| json!({"id": e.id, "url": e.url, "kinds": e.event_kinds.join(", "), "organisation_id": e.organisation_id}))
        .collect();
    let organisations: Vec<Value> = if user.role.may(crate::domain::role::Permission::ManageUsers) {
        services::catalogue::organisations(&conn)
            .await?
            .iter()
            .map(|o| json!({"value": o.id, "label": o.name}))
            .collect()
    } else {
        vec![]
    };
    let mut data =
        json!({"title": ctx.t("webhooks-title"), "endpoints": list, "organisations": organisations, "form": {}});
    if let (Value::Object(d), Value::Object(e)) = (&mut data, extra) {
        d.extend(e);
    }
    Ok((status, ctx.page("pages/webhooks/list", data)))
}

#[get("/webhooks")]
async fn page(ctx: Ctx, pool: &State<Pool>) -> AppResult<(Status, Template)> {
    render(&ctx, pool, json!({}), Status::Ok).await
}

#[derive(FromForm)]
struct EndpointForm {
    url: String,
    event_kinds: String,
    organisation_id: Option<i64>,
}

#[post("/webhooks", data = "<form>")]
async fn register(
    ctx: Ctx,
    pool: &State<Pool>,
    config: &State<Config>,
    form: CsrfForm<EndpointForm>,
) -> AppResult<(Status, Template)> {
    let user = ctx.user()?;
    let form = form.0;
    let req = webhooks::EndpointRequest {
        url: form.url.clone(),
        event_kinds: form.event_kinds.split([',', ' ', '\n']).map(str::to_string).collect(),
        organisation_id: form.organisation_id,
    };
    let allow_loopback = config.webhook_allow_loopback;
    let result =
        webhooks::register(&mut *services::conn(pool).await?, user, &ctx.actor(), &req, allow_loopback, Utc::now())
            .await;
    match result {
        Ok((secret, e)) => {
            render(&ctx, pool, json!({"created": {"secret": secret, "url": e.url}}), Status::Created).await
        }
        Err(e @ AppError::Validation(_)) => {
            let extra = json!({"errors": ctx.errors(&e), "form": {"url": form.url, "event_kinds": form.event_kinds}});
            render(&ctx, pool, extra, e.status()).await
        }
        Err(e) => Err(e),
    }
}

#[get("/webhooks/<id>")]
async fn endpoint(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (e, deliveries) = webhooks::with_deliveries(&mut conn, user, id).await?;
    let deliveries: Vec<Value> = deliveries
        .iter()
        .map(|m| {
            json!({
                "id": m.id, "kind": m.template, "state_label": ctx.t(&format!("state-mail-{}", m.state)), "attempts": m.attempts,
                "created": crate::domain::deadlines::oslo_time(m.created_at, false), "status": m.response_status,
                "excerpt": m.response_excerpt, "error": m.last_error,
            })
        })
        .collect();
    Ok(ctx.page(
        "pages/webhooks/endpoint",
        json!({"title": ctx.t("webhooks-title"), "endpoint": {"id": e.id, "url": e.url, "kinds": e.event_kinds.join(", "), "disabled": e.disabled_at.is_some()}, "deliveries": deliveries}),
    ))
}

#[post("/webhooks/<id>/disable", data = "<_form>")]
async fn disable(ctx: Ctx, pool: &State<Pool>, id: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    webhooks::disable(&mut conn, user, &ctx.actor(), id, Utc::now()).await?;
    Ok(Flash::success(Redirect::to("/webhooks"), ctx.t("webhooks-disabled")))
}
