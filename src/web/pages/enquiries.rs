//! Pre-application enquiries (forhåndsveiledning) in the pages: the researcher asks (from the
//! list or from a source's page), officers and the owners of the sources named answer in the
//! thread, and the researcher starts an application from it.

use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::{self, enquiries as svc};
use crate::web::context::{Back, Ctx};
use crate::web::csrf::{CsrfForm, CsrfOnly};
use crate::web::pages::auth::PageOr;
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![list, new_page, create, show, message, close, apply]
}

fn state_key(state: &str) -> String {
    format!("enquiry-state-{state}")
}

#[get("/enquiries")]
async fn list(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let rows = svc::list(&mut conn, user).await?;
    let rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            let e = &r.enquiry;
            json!({
                "id": e.id, "subject": e.subject, "asker": r.asker_name, "state": e.state, "state_key": state_key(&e.state),
                "updated": crate::domain::deadlines::oslo_day(e.updated_at),
                "updated_iso": e.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
        })
        .collect();
    let asker = user.role == crate::domain::role::Role::Applicant;
    Ok(ctx.page("pages/enquiries/list", json!({"rows": rows, "asker": asker})))
}

#[derive(FromForm, Default)]
struct NewForm {
    subject: String,
    question: String,
    source_ids: Vec<i64>,
}

async fn new_form(ctx: &Ctx, pool: &State<Pool>, form: &NewForm, errors: Value) -> AppResult<Template> {
    let conn = services::conn(pool).await?;
    let catalogue = services::catalogue::catalogue(&conn, None).await?;
    let english = ctx.lang.english();
    let sources: Vec<Value> = catalogue
        .sources
        .iter()
        .map(|(s, o)| {
            let name = if english { &s.name_en } else { &s.name_nb };
            let owner = if english { o.name_en.as_deref().unwrap_or(&o.name) } else { &o.name };
            json!({"id": s.id, "label": format!("{} – {name} ({owner})", s.code), "checked": form.source_ids.contains(&s.id)})
        })
        .collect();
    Ok(ctx.page(
        "pages/enquiries/new",
        json!({"path": "/enquiries/new", "form": {"subject": form.subject, "question": form.question}, "sources": sources, "errors": errors}),
    ))
}

/// The researcher's form; `source` chooses a source in advance (from its page in the catalogue).
#[get("/enquiries/new?<source>")]
async fn new_page(ctx: Ctx, pool: &State<Pool>, source: Option<i64>) -> AppResult<Template> {
    ctx.user()?;
    let form = NewForm { source_ids: source.into_iter().collect(), ..<NewForm as Default>::default() };
    new_form(&ctx, pool, &form, json!({})).await
}

#[post("/enquiries", data = "<form>")]
async fn create(ctx: Ctx, pool: &State<Pool>, form: CsrfForm<NewForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let f = form.0;
    let input =
        svc::NewEnquiry { subject: f.subject.clone(), question: f.question.clone(), source_ids: f.source_ids.clone() };
    let result = svc::open(&mut *services::conn(pool).await?, user, &ctx.actor(), input, Utc::now()).await;
    match result {
        Ok(e) => Ok(PageOr::Flash(Flash::success(
            Redirect::to(format!("/enquiries/{}", e.id)),
            ctx.t("done-enquiry-opened"),
        ))),
        Err(e @ AppError::Validation(_)) => {
            let page = new_form(&ctx, pool, &f, ctx.errors(&e)).await?;
            Ok(PageOr::Page((e.status(), page)))
        }
        Err(e) => Err(e),
    }
}

/// `unsent`: a reply that could not be sent (the enquiry was closed meanwhile), shown to be copied
/// with the reason.
fn thread_page(ctx: &Ctx, f: &svc::EnquiryFile, body: &str, errors: Value, unsent: Option<(String, &str)>) -> Template {
    use crate::domain::enquiry as rule;
    let state = f.state();
    let english = ctx.lang.english();
    ctx.page(
        "pages/enquiries/show",
        json!({
            "path": format!("/enquiries/{}", f.enquiry.id),
            "e": {
                "id": f.enquiry.id, "subject": f.enquiry.subject, "asker": f.asker_name,
                "state": f.enquiry.state, "state_key": state_key(&f.enquiry.state),
                "asked": crate::domain::deadlines::oslo_day(f.enquiry.created_at),
                "asked_iso": f.enquiry.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "application_id": f.enquiry.application_id,
            },
            "sources": f.sources.iter().map(|s| json!({"code": s.code, "name": if english { &s.name_en } else { &s.name_nb }})).collect::<Vec<_>>(),
            "messages": f.messages.iter().map(|m| json!({
                "author": m.author_name, "role_key": format!("role-{}", m.author_role), "body": m.body,
                "mine": m.author_id == f.enquiry.asker_id,
                "at": crate::domain::deadlines::oslo_time(m.created_at, false),
                "iso": m.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })).collect::<Vec<_>>(),
            "may_post": rule::may_post(state).is_ok(),
            "may_close": rule::may_close(f.reader, state).is_ok(),
            "may_apply": rule::may_apply(f.reader, f.enquiry.application_id.is_some()).is_ok(),
            "asker": f.reader == rule::Reader::Asker,
            "body": body,
            "conflict": unsent.as_ref().map(|(why, _)| why),
            "unsent": unsent.as_ref().map(|(_, text)| text),
            "errors": errors,
        }),
    )
}

#[get("/enquiries/<id>")]
async fn show(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let f = svc::read(&mut conn, user, id).await?;
    Ok(thread_page(&ctx, &f, "", json!({}), None))
}

#[derive(FromForm)]
struct MessageForm {
    body: String,
}

#[post("/enquiries/<id>/messages", data = "<form>")]
async fn message(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<MessageForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let back = Back::section(format!("/enquiries/{id}"), "thread");
    match svc::post(&mut conn, user, &ctx.actor(), id, &form.0.body, Utc::now()).await {
        Ok(_) => Ok(PageOr::Flash(back.success(ctx.t("done-enquiry-message")))),
        Err(e @ AppError::Validation(_)) => {
            let f = svc::read(&mut conn, user, id).await?;
            Ok(PageOr::Page((e.status(), thread_page(&ctx, &f, &form.0.body, ctx.errors(&e), None))))
        }
        Err(e @ (AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let f = svc::read(&mut conn, user, id).await?;
            let unsent = Some((e.public_message(ctx.lang), form.0.body.as_str()));
            Ok(PageOr::Page((e.status(), thread_page(&ctx, &f, "", json!({}), unsent))))
        }
        Err(e) => Err(e),
    }
}

#[post("/enquiries/<id>/close", data = "<_form>")]
async fn close(ctx: Ctx, pool: &State<Pool>, id: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let back = Redirect::to(format!("/enquiries/{id}"));
    match svc::close(&mut conn, user, &ctx.actor(), id, Utc::now()).await {
        Ok(_) => Ok(Flash::success(back, ctx.t("done-enquiry-closed"))),
        Err(e @ (AppError::Conflict(_) | AppError::Forbidden(_))) => Ok(Flash::error(back, e.public_message(ctx.lang))),
        Err(e) => Err(e),
    }
}

/// The researcher starts an application from the enquiry: the draft opens with its sources chosen.
#[post("/enquiries/<id>/application", data = "<_form>")]
async fn apply(ctx: Ctx, pool: &State<Pool>, id: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    match svc::apply(&mut conn, user, &ctx.actor(), id, Utc::now()).await {
        Ok(app) => {
            Ok(Flash::success(Redirect::to(format!("/applications/{}/edit", app.id)), ctx.t("done-enquiry-applied")))
        }
        Err(e @ (AppError::Conflict(_) | AppError::Forbidden(_))) => {
            Ok(Flash::error(Redirect::to(format!("/enquiries/{id}")), e.public_message(ctx.lang)))
        }
        Err(e) => Err(e),
    }
}
