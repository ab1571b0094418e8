//! Statements (uttalelser) in the pages: the officer asks on a page of its own (errors beside
//! the fields), the reviewer reads the case as submitted and answers beside it, an invited
//! address sets its password from the mailed link, and everyone's list at `/statements`.

use crate::db::Pool;
use crate::error::{AppError, AppResult};
use crate::services::{self, applications as apps, statements as svc};
use crate::storage::Storage;
use crate::web::context::{Back, Ctx};
use crate::web::csrf::CsrfForm;
use crate::web::download::Download;
use crate::web::guards::{PasswordsAllowed, session_cookie};
use crate::web::pages::auth::PageOr;
use crate::web::template::Template;
use chrono::{NaiveDate, Utc};
use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![list, new_page, create, show, answer, party_access, attachment, accept_page, accept]
}

/// A statement as a row of a list or the head of its page.
fn row_json(ctx: &Ctx, row: &crate::db::statements::StatementRow) -> Value {
    let s = &row.statement;
    let status = svc::status(s, Utc::now());
    json!({
        "id": s.id, "application_id": s.application_id,
        "reference": row.reference.clone().unwrap_or_else(|| format!("#{}", s.application_id)), "title": row.title,
        "reviewer_name": row.reviewer_name, "reviewer_email": row.reviewer_email, "requester_name": row.requester_name,
        "question": s.question, "due_on": s.due_on.format("%d.%m.%Y").to_string(), "due_iso": s.due_on.to_string(),
        "status": status.code(), "status_key": format!("statement-{}", status.code()), "lapsed": s.lapsed_at.is_some(),
        "answer": s.answer,
        "withheld": s.withheld, "withheld_reason": s.withheld_reason,
        "answered_at": s.answered_at.map(crate::domain::deadlines::oslo_day),
        "answered_iso": s.answered_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "asked_at": crate::domain::deadlines::oslo_day(s.created_at),
        "asked_iso": s.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "lang": ctx.lang.code(),
    })
}

/// The statements on the person's list: an officer's outstanding ones, a reviewer's own.
#[get("/statements")]
async fn list(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let rows = svc::listed(&mut conn, user).await?;
    let officer = user.role == crate::domain::role::Role::CaseOfficer;
    let rows: Vec<Value> = rows.iter().map(|r| row_json(&ctx, r)).collect();
    Ok(ctx.page("pages/statements/list", json!({"rows": rows, "officer": officer})))
}

#[derive(FromForm, Default)]
struct RequestForm {
    email: String,
    name: String,
    language: String,
    question: String,
    due_on: String,
}

fn request_page(ctx: &Ctx, id: i64, form: &RequestForm, errors: Value, conflict: Option<String>) -> Template {
    ctx.page(
        "pages/statements/new",
        json!({
            "app": {"id": id},
            "path": format!("/applications/{id}/statements/new"),
            "form": {"email": form.email, "name": form.name, "question": form.question, "due_on": form.due_on},
            "languages": crate::domain::language::Language::ALL.iter().map(|l| json!({"code": l.code(), "label": crate::i18n::t(*l, "language-name"), "selected": form.language == l.code() || (form.language.is_empty() && *l == crate::domain::language::Language::Nb)})).collect::<Vec<_>>(),
            "errors": errors,
            "conflict": conflict,
        }),
    )
}

/// The officer's form to ask for a statement on case `id`.
#[get("/applications/<id>/statements/new")]
async fn new_page(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (_, access) = apps::load(&mut conn, user, id).await?;
    if access != apps::Access::CaseOfficer {
        return Err(AppError::Forbidden("err-officers-ask-statements".into()));
    }
    Ok(request_page(&ctx, id, &<RequestForm as Default>::default(), json!({}), None))
}

#[post("/applications/<id>/statements", data = "<form>")]
async fn create(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<RequestForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let f = form.0;
    let due_on = NaiveDate::parse_from_str(f.due_on.trim(), "%Y-%m-%d").ok();
    let input = svc::NewRequest {
        email: f.email.clone(),
        name: Some(f.name.clone()).filter(|n| !n.trim().is_empty()),
        language: Some(f.language.clone()),
        question: f.question.clone(),
        due_on,
    };
    let mut conn = services::conn(pool).await?;
    match svc::request(&mut conn, user, &ctx.actor(), id, input, Utc::now()).await {
        Ok(_) => Ok(PageOr::Flash(
            Back::section(format!("/applications/{id}"), "statements").success(ctx.t("done-statement-requested")),
        )),
        Err(e @ AppError::Validation(_)) => {
            let mut errors = ctx.errors(&e);
            // A date the browser could not give (no date input) reads as missing: say so.
            if due_on.is_none() && !f.due_on.trim().is_empty() {
                errors["due_on"] = json!([ctx.t("err-date")]);
            }
            Ok(PageOr::Page((e.status(), request_page(&ctx, id, &f, errors, None))))
        }
        // The case moved on meanwhile: the question stays on the page with the reason.
        Err(e @ AppError::Conflict(_)) => {
            Ok(PageOr::Page((e.status(), request_page(&ctx, id, &f, json!({}), Some(e.public_message(ctx.lang))))))
        }
        Err(e) => Err(e),
    }
}

/// A statement's page: the question, the case as submitted with its attachments, and the
/// answer (or, for the reviewer who has not answered, the form beside the question).
/// `unsent`: an answer that could not be sent (answered or lapsed meanwhile), shown to be copied
/// with the reason. `reason`: a refused reason for withholding it from the applicant, back in its
/// form.
fn statement_page(
    ctx: &Ctx,
    file: &svc::StatementFile,
    answer: &str,
    errors: Value,
    unsent: Option<(String, &str)>,
    reason: &str,
) -> Template {
    let form = apps::form_of(&file.app);
    let sections = crate::web::views::form_sections(ctx.lang, &form, &file.sources);
    let id = file.row.statement.id;
    let attachments: Vec<Value> = file
        .attachments
        .iter()
        .map(|a| json!({"href": format!("/statements/{id}/attachments/{}", a.id), "name": a.name, "kind_key": format!("attachment-{}", a.kind), "size": crate::web::views::file_size(ctx.lang, a.size)}))
        .collect();
    ctx.page(
        "pages/statements/show",
        json!({
            "s": row_json(ctx, &file.row),
            "path": format!("/statements/{id}"),
            "reviewer": file.reader == svc::Reader::Reviewer,
            "may_answer": file.may_answer(),
            "answer": answer,
            "errors": errors,
            "conflict": unsent.as_ref().map(|(why, _)| why),
            "unsent": unsent.as_ref().map(|(_, text)| text),
            "sections": sections,
            "attachments": attachments,
            "app_id": file.app.id,
            // What the applicant's side reads of it, for those who handle the case; officers
            // change it (the service checks again).
            "party_access": (file.reader == svc::Reader::Handler).then(|| json!({
                "may_set": ctx.user.as_ref().is_some_and(|u| u.role == crate::domain::role::Role::CaseOfficer),
                "reason": if reason.is_empty() { file.row.statement.withheld_reason.as_deref().unwrap_or_default() } else { reason },
            })),
        }),
    )
}

#[get("/statements/<id>")]
async fn show(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let file = svc::read(&mut conn, user, id).await?;
    Ok(statement_page(&ctx, &file, "", json!({}), None, ""))
}

#[derive(FromForm)]
struct AnswerForm {
    answer: String,
}

#[post("/statements/<id>/answer", data = "<form>")]
async fn answer(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<AnswerForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    match svc::answer(&mut conn, user, &ctx.actor(), id, &form.0.answer, Utc::now()).await {
        Ok(_) => Ok(PageOr::Flash(Flash::success(
            Redirect::to(format!("/statements/{id}")),
            ctx.t("done-statement-answered"),
        ))),
        Err(e @ AppError::Validation(_)) => {
            let file = svc::read(&mut conn, user, id).await?;
            Ok(PageOr::Page((e.status(), statement_page(&ctx, &file, &form.0.answer, ctx.errors(&e), None, ""))))
        }
        Err(e @ AppError::Conflict(_)) => {
            let file = svc::read(&mut conn, user, id).await?;
            let unsent = Some((e.public_message(ctx.lang), form.0.answer.as_str()));
            Ok(PageOr::Page((e.status(), statement_page(&ctx, &file, "", json!({}), unsent, ""))))
        }
        Err(e) => Err(e),
    }
}

#[derive(FromForm)]
struct AccessForm {
    /// Withhold it (with `reason`), or share it.
    withhold: bool,
    #[field(default = String::new())]
    reason: String,
}

/// An officer withholds a statement from the applicant's side, with the reason, or shares it.
#[post("/statements/<id>/access", data = "<form>")]
async fn party_access(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<AccessForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let f = form.0;
    let withhold = f.withhold.then_some(f.reason.as_str());
    match svc::set_party_access(&mut conn, user, &ctx.actor(), id, withhold, Utc::now()).await {
        Ok(_) => Ok(PageOr::Flash(
            Back::section(format!("/statements/{id}"), "party-access").success(ctx.t(if f.withhold {
                "done-statement-withheld"
            } else {
                "done-statement-shared"
            })),
        )),
        Err(e @ AppError::Validation(_)) => {
            let file = svc::read(&mut conn, user, id).await?;
            let page = statement_page(&ctx, &file, "", ctx.errors(&e), None, &f.reason);
            Ok(PageOr::Page((e.status(), page)))
        }
        Err(e) => Err(e),
    }
}

#[get("/statements/<id>/attachments/<attachment>")]
async fn attachment(
    ctx: Ctx,
    pool: &State<Pool>,
    storage: &State<Storage>,
    id: i64,
    attachment: &str,
) -> AppResult<Download> {
    let user = ctx.user()?;
    let attachment_id = uuid::Uuid::parse_str(attachment).map_err(|_| AppError::NotFound)?;
    let mut conn = services::conn(pool).await?;
    let a = svc::open_attachment(&mut conn, user, &ctx.actor(), id, attachment_id, Utc::now()).await?;
    Download::attachment(storage, a).await
}

fn accept_form(ctx: &Ctx, token: &str, name: &str, email: &str, errors: Value) -> Template {
    ctx.page(
        "pages/statements/accept",
        json!({"token": token, "form": {"name": name, "email": email}, "errors": errors}),
    )
}

/// The invitation link: the invited address sets its name and password.
#[get("/statements/accept?<token>")]
async fn accept_page(ctx: Ctx, pool: &State<Pool>, _allowed: PasswordsAllowed, token: &str) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    let (_, name, email) = svc::invitation(&mut conn, token, Utc::now()).await?;
    let name = if name == email { String::new() } else { name };
    Ok(accept_form(&ctx, token, &name, &email, json!({})))
}

#[derive(FromForm)]
struct AcceptForm {
    token: String,
    name: String,
    password: String,
    password_confirm: String,
}

#[post("/statements/accept", data = "<form>")]
async fn accept(
    ctx: Ctx,
    pool: &State<Pool>,
    cookies: &CookieJar<'_>,
    _allowed: PasswordsAllowed,
    form: CsrfForm<AcceptForm>,
) -> AppResult<PageOr> {
    let f = form.0;
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    let result = if f.password != f.password_confirm {
        Err(AppError::field("password_confirm", "err-password-mismatch"))
    } else {
        svc::accept_invitation(&mut conn, &ctx.actor(), &f.token, &f.name, &f.password, now).await
    };
    match result {
        Ok((user, statement_id)) => {
            let secret = services::accounts::open_session(&mut conn, &user, &ctx.address.0, now).await?;
            cookies.add_private(session_cookie(secret));
            Ok(PageOr::Redirect(Redirect::to(format!("/statements/{statement_id}"))))
        }
        Err(e @ AppError::Validation(_)) => {
            let (_, _, email) = svc::invitation(&mut conn, &f.token, now).await?;
            Ok(PageOr::Page((
                Status::UnprocessableEntity,
                accept_form(&ctx, &f.token, &f.name, &email, ctx.errors(&e)),
            )))
        }
        Err(e) => Err(e),
    }
}
