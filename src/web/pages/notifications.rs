//! Notifications: each person's notices (the bell), their mail preference, the applicant's
//! confirmation of deletion, and the admins' view of the outbox and the development mailbox.

use crate::config::Config;
use crate::db::Pool;
use crate::domain::outbox::OutboxState;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult};
use crate::services;
use crate::web::context::Ctx;
use crate::web::csrf::{CsrfForm, CsrfOnly};
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![
        list,
        mark_read,
        preference,
        confirm_deletion_page,
        confirm_deletion,
        admin_mail,
        retry,
        verify_email,
        resend_verification
    ]
}

#[get("/notifications")]
async fn list(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (notices, digest) = services::notifications::notices_with_digest(&mut conn, user.id).await?;
    let items: Vec<Value> = notices.iter().map(|n| crate::web::views::notice(ctx.lang, n)).collect();
    Ok(ctx
        .page("pages/notifications", json!({"title": ctx.t("notifications-title"), "items": items, "digest": digest})))
}

#[derive(FromForm)]
struct ReadForm {
    /// One notice; absent: all of them.
    id: Option<i64>,
}

#[post("/notifications/read", data = "<form>")]
async fn mark_read(ctx: Ctx, pool: &State<Pool>, form: CsrfForm<ReadForm>) -> AppResult<Redirect> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    match services::notifications::mark_read(&mut conn, user, form.0.id, Utc::now()).await {
        Ok(_) | Err(AppError::NotFound) => {}
        Err(e) => return Err(e),
    }
    Ok(Redirect::to("/notifications"))
}

#[derive(FromForm)]
struct PreferenceForm {
    mail: String,
}

#[post("/notifications/preference", data = "<form>")]
async fn preference(ctx: Ctx, pool: &State<Pool>, form: CsrfForm<PreferenceForm>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    services::notifications::set_mail_preference(&mut conn, user, &form.0.mail).await?;
    Ok(Flash::success(Redirect::to("/notifications"), ctx.t("notifications-preference-saved")))
}

/// Confirming deletion is a statement the applicant answers for: the page asks first.
#[get("/applications/<id>/confirm-deletion")]
async fn confirm_deletion_page(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let app = services::reminders::deletion_confirmable(&mut conn, user, id).await?;
    Ok(crate::web::pages::applicant::confirm_page(
        &ctx,
        "deletion-confirm-heading",
        &app,
        "deletion-confirm-ask",
        (format!("/applications/{id}/confirm-deletion"), format!("/applications/{id}")),
        "deletion-confirm-button",
    ))
}

#[post("/applications/<id>/confirm-deletion", data = "<_form>")]
async fn confirm_deletion(
    ctx: Ctx,
    pool: &State<Pool>,
    id: i64,
    _form: CsrfForm<CsrfOnly>,
) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    services::reminders::confirm_deletion(&mut conn, user, &ctx.actor(), id, Utc::now()).await?;
    Ok(Flash::success(Redirect::to(format!("/applications/{id}")), ctx.t("deletion-confirmed")))
}

#[get("/admin/mail?<state>")]
async fn admin_mail(
    ctx: Ctx,
    pool: &State<Pool>,
    config: &State<Config>,
    mailer: &State<std::sync::Arc<crate::mail::Mailer>>,
    state: Option<String>,
) -> AppResult<Template> {
    ctx.require(Permission::ReadAudit)?;
    let state = state.filter(|s| ["pending", "sent", "dead"].contains(&s.as_str()));
    let mut conn = services::conn(pool).await?;
    let (counts, messages) = services::notifications::outbox(&mut conn, state.as_deref()).await?;
    let counts: Vec<Value> = counts
        .into_iter()
        .map(|(s, n)| json!({"state": s, "label": ctx.t(&format!("state-mail-{s}")), "n": n}))
        .collect();
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id, "recipient": m.recipient, "what": mailer.describe(&m, ctx.lang), "state": m.state,
                "channel": ctx.t(&format!("channel-{}", m.channel)),
                "response_status": m.response_status, "response_excerpt": m.response_excerpt,
                "state_label": ctx.t(&format!("state-mail-{}", m.state)), "attempts": m.attempts,
                "error": m.last_error, "dead": m.state == OutboxState::Dead,
                "next": (m.state == OutboxState::Pending).then(|| crate::domain::deadlines::oslo_time(m.next_attempt_at, false)),
                "created": crate::domain::deadlines::oslo_time(m.created_at, false),
            })
        })
        .collect();
    let files: Vec<Value> = if config.smtp_url.is_none() {
        services::notifications::eml_files(&config.mail_dir)
            .into_iter()
            .take(50)
            .map(|(name, size, at)| json!({"name": name, "size": size, "at": crate::domain::deadlines::oslo_time(at, false)}))
            .collect()
    } else {
        vec![]
    };
    Ok(ctx.page(
        "pages/admin/mail",
        json!({
            "title": ctx.t("admin-mail-title"), "counts": counts, "messages": messages,
            "files": files, "file_mode": config.smtp_url.is_none(),
            "state": state,
        }),
    ))
}

#[post("/admin/mail/<id>/retry", data = "<_form>")]
async fn retry(ctx: Ctx, pool: &State<Pool>, id: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<Redirect> {
    ctx.require(Permission::ReadAudit)?;
    let actor = ctx.actor();
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    services::notifications::retry_message(&mut conn, &actor, id, now).await?;
    Ok(Redirect::to("/admin/mail?state=pending"))
}

#[get("/verify-email?<token>")]
async fn verify_email(ctx: Ctx, pool: &State<Pool>, token: &str) -> AppResult<Flash<Redirect>> {
    // Only the person signed in to the account confirms its address: signed out, log in first
    // and come back to the link.
    let Some(user) = ctx.user.as_ref() else {
        let back = crate::web::url_encode(&format!("/verify-email?token={}", crate::web::url_encode(token)));
        return Ok(Flash::warning(Redirect::to(format!("/login?next={back}")), ctx.t("verify-log-in-first")));
    };
    let mut conn = services::conn(pool).await?;
    services::accounts::verify_email(&mut conn, user, token, Utc::now()).await?;
    Ok(Flash::success(Redirect::to("/applications"), ctx.t("verify-done")))
}

#[post("/verify-email/resend", data = "<_form>")]
async fn resend_verification(ctx: Ctx, pool: &State<Pool>, _form: CsrfForm<CsrfOnly>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    services::accounts::resend_verification(&mut conn, user, Utc::now()).await?;
    Ok(Flash::success(Redirect::to("/applications"), ctx.t("verify-sent")))
}
