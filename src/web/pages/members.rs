//! Members and terms in the pages: a member accepts the mailed invitation (logging in, or making
//! an account), and the project reads and accepts each source's data-use terms on the case's
//! terms page, where the applicant and the officers see who has accepted.

use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::{self, members as svc};
use crate::web::context::{Back, Ctx};
use crate::web::csrf::CsrfForm;
use crate::web::guards::session_cookie;
use crate::web::pages::auth::PageOr;
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![invitation_page, accept_invitation, terms_page, accept_terms]
}

fn invitation_data(ctx: &Ctx, token: &str, v: &svc::InvitationView, name: &str, errors: Value) -> Template {
    let signed_in = ctx.user.as_ref().map(|u| u.email.clone());
    ctx.page(
        "pages/members/invitation",
        json!({
            "token": token, "email": v.invitation.email, "inviter": v.inviter,
            "project": v.app.title, "reference": v.app.reference,
            "has_account": v.has_account,
            "same_person": signed_in.as_deref() == Some(v.invitation.email.as_str()),
            "other_person": signed_in.is_some_and(|e| e != v.invitation.email),
            "login_next": format!("/invitations/accept?token={token}"),
            "form": {"name": name}, "errors": errors,
        }),
    )
}

/// The mailed invitation: accept as the logged-in holder of the address, log in first, or make
/// an account for an address that has none.
#[get("/invitations/accept?<token>")]
async fn invitation_page(ctx: Ctx, pool: &State<Pool>, token: &str) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    let view = svc::invitation(&mut conn, token, Utc::now()).await?;
    Ok(invitation_data(&ctx, token, &view, "", json!({})))
}

#[derive(FromForm)]
struct AcceptForm {
    token: String,
    name: Option<String>,
    password: Option<String>,
    password_confirm: Option<String>,
}

#[post("/invitations/accept", data = "<form>")]
async fn accept_invitation(
    ctx: Ctx,
    pool: &State<Pool>,
    config: &State<crate::config::Config>,
    cookies: &CookieJar<'_>,
    form: CsrfForm<AcceptForm>,
) -> AppResult<PageOr> {
    let f = form.0;
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    if let Some(user) = ctx.user.as_ref() {
        let case = svc::accept(&mut conn, user, &ctx.actor(), &f.token, now).await?;
        return Ok(PageOr::Flash(Flash::success(
            Redirect::to(format!("/applications/{case}")),
            ctx.t("done-invitation"),
        )));
    }
    // A new account takes a password: refused where only single sign-on is allowed.
    if !config.local_passwords {
        return Err(AppError::Forbidden("err-passwords-off".into()));
    }
    let (name, password, confirm) =
        (f.name.unwrap_or_default(), f.password.unwrap_or_default(), f.password_confirm.unwrap_or_default());
    let result = if password != confirm {
        Err(AppError::field("password_confirm", "err-password-mismatch"))
    } else {
        svc::accept_as_new(&mut conn, &ctx.actor(), &f.token, &name, &password, now).await
    };
    match result {
        Ok((user, case)) => {
            let secret = services::accounts::open_session(&mut conn, &user, &ctx.address.0, now).await?;
            cookies.add_private(session_cookie(secret));
            Ok(PageOr::Flash(Flash::success(Redirect::to(format!("/applications/{case}")), ctx.t("done-invitation"))))
        }
        Err(e @ AppError::Validation(_)) => {
            let view = svc::invitation(&mut conn, &f.token, now).await?;
            Ok(PageOr::Page((
                Status::UnprocessableEntity,
                invitation_data(&ctx, &f.token, &view, &name, ctx.errors(&e)),
            )))
        }
        Err(e) => Err(e),
    }
}

fn terms_data(ctx: &Ctx, file: &svc::TermsFile, errors: Value) -> Template {
    let english = ctx.lang.english();
    let terms: Vec<Value> = file
        .terms
        .iter()
        .map(|(s, t)| {
            json!({
                "terms_id": t.id, "version": t.version, "code": s.code,
                "name": if english { &s.name_en } else { &s.name_nb },
                "text": if english { &t.text_en } else { &t.text_nb },
                "outstanding": file.mine_outstanding.contains(&s.id),
            })
        })
        .collect();
    let people: Vec<Value> = file
        .people
        .iter()
        .map(|p| {
            json!({
                "email": p.email, "name": p.name, "applicant": p.applicant,
                "invited": p.invitation.as_ref().map(|i| crate::domain::deadlines::oslo_day(i.invited_at)),
                "joined": p.invitation.as_ref().and_then(|i| i.accepted_at).map(crate::domain::deadlines::oslo_day),
                "cells": file.terms.iter().map(|(s, _)| {
                    let at = p.accepted.iter().find(|(id, _)| *id == s.id).map(|(_, at)| crate::domain::deadlines::oslo_day(*at));
                    json!({"code": s.code, "accepted": at})
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    ctx.page(
        "pages/members/terms",
        json!({
            "app": {"id": file.app.id, "title": file.app.title, "reference": file.app.reference},
            "terms": terms, "people": people,
            "may_accept": !file.mine_outstanding.is_empty(),
            "errors": errors,
        }),
    )
}

#[get("/applications/<id>/terms")]
async fn terms_page(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let file = svc::terms_file(&mut conn, user, id).await?;
    Ok(terms_data(&ctx, &file, json!({})))
}

#[derive(FromForm)]
struct TermsForm {
    terms_ids: Vec<i64>,
}

#[post("/applications/<id>/terms", data = "<form>")]
async fn accept_terms(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<TermsForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    match svc::accept_terms(&mut conn, user, &ctx.actor(), id, &form.0.terms_ids, Utc::now()).await {
        Ok(()) => {
            Ok(PageOr::Flash(Back::section(format!("/applications/{id}"), "transfers").success(ctx.t("done-terms"))))
        }
        Err(e @ AppError::Validation(_)) => {
            let file = svc::terms_file(&mut conn, user, id).await?;
            Ok(PageOr::Page((e.status(), terms_data(&ctx, &file, ctx.errors(&e)))))
        }
        Err(e @ AppError::Conflict(_)) => Ok(PageOr::Flash(Flash::error(
            Redirect::to(format!("/applications/{id}/terms")),
            e.public_message(ctx.lang),
        ))),
        Err(e) => Err(e),
    }
}
