//! The applicant's pages: my applications, the common form (all seven sections), review and
//! submit with the price estimate, the status page with timeline, messages and attachments.

use super::auth::PageOr;
use super::form_fields;
use super::kept::{Kept, Sent};
use crate::config::Config;
use crate::db::{
    Pool,
    applications::{Application, Attachment, Summary},
};
use crate::domain::case::{Command, State};
use crate::domain::fields::FieldErrors;
use crate::domain::form::{self, ApplicationForm};
use crate::domain::pricing::format_nok;
use crate::domain::release;
use crate::error::{AppError, AppResult};
use crate::services::{self, applications as apps, applications::Access};
use crate::storage::Storage;
use crate::web::context::Ctx;
use crate::web::csrf::{CsrfBody, CsrfForm, CsrfOnly};
use crate::web::download::Download;
use crate::web::guards::SessionUser;
use crate::web::template::Template;
use crate::web::upload_limits::{AttachmentUpload, UploadSlot};
use chrono::Utc;
use diesel_async::AsyncPgConnection;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{State as RocketState, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![
        list,
        create,
        status,
        edit,
        save,
        attachments_page,
        review,
        submit,
        withdraw_confirm,
        withdraw,
        copy,
        extension,
        permits,
        message,
        upload,
        download,
        remove_attachment
    ]
}

fn options(values: &[&str], selected: &str, prefix: &str) -> Vec<Value> {
    values
        .iter()
        .map(|v| {
            let key: String = v.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            json!({"value": v, "label_key": format!("{prefix}-{key}"), "selected": *v == selected})
        })
        .collect()
}

fn event_key(kind: &str) -> String {
    format!("event-{}", kind.replace(['.', '_'], "-"))
}

fn summary_json(a: &Summary) -> Value {
    json!({
        "id": a.id, "reference": a.reference, "title": if a.title.is_empty() { None } else { Some(&a.title) }, "state": a.state,
        "state_key": format!("state-{}", a.state), "kind_key": format!("app-kind-{}", a.kind),
        "due_date": a.due_date.map(|d| d.format("%d.%m.%Y").to_string()),
        "overdue": a.state.overdue(a.due_date, crate::domain::deadlines::oslo_date(Utc::now())),
        "awaiting_decision": a.state.awaiting_decision(),
        "updated": crate::domain::deadlines::oslo_time(a.updated_at, false),
    })
}

#[get("/applications?<page>")]
async fn list(ctx: Ctx, pool: &RocketState<Pool>, page: Option<i64>) -> AppResult<Template> {
    let user = ctx.user()?;
    let page = crate::domain::paging::Page::new(page, crate::domain::paging::PAGE_SIZE);
    let mut conn = services::conn(pool).await?;
    let (apps, more) = apps::list_page(&mut conn, user, page).await?;
    let rows: Vec<Value> = apps.iter().map(summary_json).collect();
    let may_apply = user.role.may(crate::domain::role::Permission::Apply);
    let link = |n: i64| format!("/applications?page={n}");
    let (previous, next) = page.neighbours(more);
    Ok(ctx.page(
        "pages/applicant/list",
        json!({"applications": rows, "may_apply": may_apply, "kinds": options(&form::KINDS, "identifiable", "app-kind"), "types": options(&form::TYPES, "new", "app-type"),
            "page": page.number, "previous": previous.map(link), "next": next.map(link)}),
    ))
}

#[derive(FromForm)]
struct NewForm {
    kind: String,
    application_type: String,
    previous_reference: String,
    /// A source chosen in advance (from its page in the catalogue).
    source: Option<i64>,
}

#[post("/applications", data = "<form>")]
async fn create(ctx: Ctx, pool: &RocketState<Pool>, form: CsrfForm<NewForm>) -> AppResult<Redirect> {
    let user = ctx.user()?;
    let f = form.0;
    let draft = ApplicationForm {
        kind: f.kind,
        application_type: f.application_type,
        previous_reference: Some(f.previous_reference),
        data_sources: f
            .source
            .map(|id| form::SourceRequest { data_source_id: Some(id), ..form::SourceRequest::default() })
            .into_iter()
            .collect(),
        ..ApplicationForm::default()
    };
    let mut conn = services::conn(pool).await?;
    let app = apps::create(&mut conn, user, &ctx.actor(), draft, None, Utc::now()).await?;
    Ok(Redirect::to(format!("/applications/{}/edit", app.id)))
}

/// Who acts next, by state.
fn next_step(state: State) -> &'static str {
    match state {
        State::Draft => "next-draft",
        State::Submitted => "next-submitted",
        State::Returned => "next-returned",
        State::InReview => "next-in-review",
        State::Approved | State::PartiallyApproved => "next-approved",
        State::Rejected => "next-rejected",
        State::Appealed => "next-appealed",
        State::Delivered => "next-delivered",
        State::Closed | State::Withdrawn => "next-none",
    }
}

/// The status page.
#[get("/applications/<id>")]
async fn status(ctx: Ctx, pool: &RocketState<Pool>, id: i64) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    status_page(&ctx, &mut conn, id, None).await
}

/// The status page, with a refused form's typed text back in that form (`kept`).
pub(super) async fn status_page(
    ctx: &Ctx,
    conn: &mut AsyncPgConnection,
    id: i64,
    kept: Option<&Kept>,
) -> AppResult<Template> {
    let user = ctx.user()?;
    let kept_in = |form: &str| Kept::in_form(kept, form);
    let apps::StatusFile {
        app,
        access,
        assignee,
        events,
        messages,
        attachments,
        payment,
        releases: release_rows,
        decision,
        helseklage,
        transfers,
        sources,
        linkage_holders,
        statements,
        terms_outstanding,
    } = apps::status_file(conn, user, id).await?;
    // The application as submitted, section by section (not while it is a draft being edited).
    let sections =
        (app.state != State::Draft).then(|| crate::web::views::form_sections(ctx.lang, &apps::form_of(&app), &sources));
    let timeline: Vec<Value> = events
        .iter()
        .map(|e| json!({"at": crate::domain::deadlines::oslo_time(e.at, false), "iso": e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "key": event_key(&e.kind), "mine": e.actor_id == Some(user.id)}))
        .collect();
    let messages: Vec<Value> = messages
        .into_iter()
        .map(|m| json!({"author": m.author_name, "role_key": format!("role-{}", m.author_role), "internal": m.internal, "body": m.body, "at": crate::domain::deadlines::oslo_time(m.created_at, false)}))
        .collect();
    let attachments = attachments_json(ctx.lang, &attachments);
    let state = app.state;
    let is_applicant = access == Access::Applicant;
    let mut payment = super::payment::status_data(ctx, user, &app, access, &payment);
    super::payment::keep(&mut payment, kept);
    // A revised estimate waiting for acceptance is what happens next, whatever the state (one
    // lapses when its case ends).
    let next_key = match (payment["pending"].as_array().is_some_and(|p| !p.is_empty()), is_applicant) {
        (true, true) => "next-accept-estimate",
        (true, false) => "next-estimate-pending",
        _ => next_step(app.state),
    };
    let facts = crate::services::cases::case_from(&app, &release_rows, decision.as_ref(), helseklage.as_ref());
    let me = crate::domain::case::Actor { id: user.id, role: user.role };
    let now = Utc::now();
    // The commands this user may give now, from the lifecycle itself (one source of truth).
    let commands: Vec<Value> = [Command::Assign, Command::Return, Command::Complete, Command::Decide, Command::Appeal, Command::LateAppeal, Command::Close]
        .iter()
        .filter(|c| access != Access::Member && access != Access::RegisterOwner && crate::domain::case::apply(&facts, **c, me, now).is_ok())
        // "Take the case" is not offered to the officer who has it.
        .filter(|c| !(**c == Command::Assign && app.assignee_id == Some(user.id)))
        .map(|c| json!({"name": c.code(), "label_key": format!("command-{}", c.code()), "message": *c == Command::Return, "reasons": *c == Command::Decide, "grounds": matches!(c, Command::Appeal | Command::LateAppeal), "late_reason": *c == Command::LateAppeal,
            "kept": kept_in(&format!("command-{}", c.code()))}))
        .collect();
    // Recusal is checked again when the form is sent; the page offers the form to the decider.
    let no_ties = release::Ties { applicant_id: app.applicant_id, is_member: false };
    let releases: Vec<Value> = release_rows
        .iter()
        .map(|r| {
            let facts = crate::services::cases::release_facts(&r.release);
            let person = crate::services::cases::person(user);
            json!({
                "id": r.release.id, "code": r.code, "name_nb": r.name_nb, "name_en": r.name_en,
                "state_key": format!("release-{}", r.release.state), "decider_key": format!("decider-{}", r.release.decider),
                "conditions": r.release.conditions, "reasons": r.release.reasons, "environment": r.release.environment,
                "decide": release::to_decide_by(&facts, app.state, person),
                "deliver": release::to_deliver_by(&facts, app.state, person),
                "reconsider": access != Access::Member
                    && crate::domain::appeal::reconsider(&facts, r.release.reconsideration, app.state, person, no_ties, true).is_ok(),
                "reconsideration_key": r.release.reconsideration.map(|c| format!("reconsideration-{c}")),
                "dispensation": r.release.dispensation,
                "send_files": release::may_send_files(&facts, app.state, person),
                "kept_decide": kept_in(&format!("release-{}-decide", r.release.id)),
                "kept_reconsider": kept_in(&format!("release-{}-reconsider", r.release.id)),
                "kept_delivered": kept_in(&format!("release-{}-delivered", r.release.id)),
            })
        })
        .collect();
    let closed_releases: Vec<i64> = release_rows
        .iter()
        .filter(|r| terms_outstanding.contains(&r.release.data_source_id))
        .map(|r| r.release.id)
        .collect();
    let transfers = crate::web::views::transfers_of_application(&transfers, access, &closed_releases);
    let decision = decision.map(|d| json!({"outcome_key": format!("outcome-{}", d.outcome), "deadline": d.appeal_deadline.format("%d.%m.%Y").to_string()}));
    let today = crate::domain::deadlines::oslo_date(now);
    let statements_json: Vec<Value> = statements
        .iter()
        .map(|r| {
            let s = &r.statement;
            let st = services::statements::status(s, now);
            let (day, iso) = (crate::domain::deadlines::oslo_day, crate::domain::deadlines::oslo_date);
            // The applicant's side reads neither the address nor the question and the answer
            // of a withheld statement.
            let party = access.applicant_side();
            let reads = !(party && s.withheld);
            json!({
                "id": s.id, "due_on": s.due_on.format("%d.%m.%Y").to_string(),
                "reviewer": if party { services::statements::name_for_party(r) } else { Some(r.reviewer_name.as_str()) },
                "due_iso": s.due_on.to_string(), "status": st.code(), "status_key": format!("statement-{}", st.code()),
                "question": reads.then_some(&s.question), "answer": if reads { s.answer.as_deref() } else { None },
                "withheld": s.withheld, "withheld_reason": s.withheld_reason,
                "asked_on": day(s.created_at), "asked_iso": iso(s.created_at).to_string(),
                "answered_on": s.answered_at.map(day),
                "answered_iso": s.answered_at.map(|t| iso(t).to_string()),
                // The applicant's time to comment, while it runs before a decision.
                "comment_by": s.comment_by_before_decision(state).filter(|by| today <= *by).map(|by| by.format("%d.%m.%Y").to_string()),
            })
        })
        .collect();
    let mut data = json!({
            "app": summary_json(&app.summary()), "next_key": next_key, "timeline": timeline, "messages": messages,
            "attachments": attachments,
            "payment": payment,
            "can_edit": is_applicant && state.editable(),
            "can_withdraw": is_applicant && crate::domain::case::apply(&facts, Command::Withdraw, me, now).is_ok(),
            "can_copy": is_applicant && state != State::Draft,
            // Offered once data have reached the project, and asked again on a page of its own.
            "can_confirm_deletion": is_applicant
                && app.deletion_confirmed_at.is_none()
                && services::reminders::data_delivered(&release_rows),
            "deletion_confirmed": app.deletion_confirmed_at.map(crate::domain::deadlines::oslo_day),
            "permit_ends": app.permit_ends_on.map(|d| d.format("%d.%m.%Y").to_string()),
            "permit_ended": app.permit_ends_on.is_some_and(|end| crate::domain::permit::ended(end, crate::domain::deadlines::oslo_date(now))),
            "can_extend": is_applicant
                && crate::domain::permit::may_extend(state, app.permit_ends_on, app.deletion_confirmed_at.is_some()),
            "can_message": state != State::Draft && access != Access::Member,
            "can_note": access.sees_internal(),
            "note_only": access == Access::RegisterOwner,
            "is_member": access == Access::Member,
            "sections": sections, "sections_open": !is_applicant,
            "commands": commands, "releases": releases, "decision": decision, "transfers": transfers,
            "statements": statements_json,
            // Those who handle the case open each statement; the applicant's side reads them here
            // and may comment in a message before the decision (forvaltningsloven §§ 17 and 18).
            "statements_inline": access.applicant_side(),
            "terms_outstanding": !terms_outstanding.is_empty(),
            "sees_terms": access != Access::RegisterOwner && release_rows.iter().any(|r| r.release.state.granted()),
            "can_ask_statement": access == Access::CaseOfficer && crate::domain::statement::may_request(user.role, state),
            "linkage_holders": linkage_holders.iter().map(|o| json!({"id": o.id, "name": if ctx.lang.english() { o.name_en.clone().unwrap_or_else(|| o.name.clone()) } else { o.name.clone() }})).collect::<Vec<_>>(),
            "helseklage": app.sent_to_helseklage_at.map(crate::domain::deadlines::oslo_day),
            "helseklage_outcome": helseklage.as_ref().map(|h| json!({
                "outcome_key": format!("helseklage-outcome-{}", h.outcome), "decided_on": h.decided_on.format("%d.%m.%Y").to_string(), "reference": h.reference,
            })),
            "record_helseklage": user.role == crate::domain::role::Role::CaseOfficer && app.sent_to_helseklage_at.is_some() && helseklage.is_none(),
            "upheld_releases": release_rows.iter().filter(|r| r.release.reconsideration == Some(crate::domain::appeal::Reconsideration::Upheld))
                .map(|r| json!({"id": r.release.id, "code": r.code, "name_nb": r.name_nb, "name_en": r.name_en})).collect::<Vec<_>>(),
    });
    // The page's own address, also when it answers a refused form's POST; the refused form.
    data["path"] = json!(format!("/applications/{id}"));
    // Who handles the case: named to everyone who sees it (officers' names stand in the case's
    // letters too: the decision is signed by the officer deciding); "not assigned" only to those
    // handling cases, once it is submitted.
    data["assignee"] = json!(assignee);
    data["assignee_is_me"] = json!(app.assignee_id == Some(user.id));
    data["show_unassigned"] = json!(app.assignee_id.is_none() && state != State::Draft && access.sees_internal());
    data["refused"] =
        json!(kept.map(|k| json!({"form": k.form, "error": k.error, "unsent": k.unsent, "typed": k.typed()})));
    data["kept_message"] = kept_in("message");
    data["kept_helseklage"] = kept_in("helseklage");
    Ok(ctx.page("pages/applicant/status", data))
}

fn attachments_json(lang: crate::domain::language::Language, attachments: &[Attachment]) -> Vec<Value> {
    attachments
        .iter()
        .map(|a| json!({"id": a.id, "kind_key": format!("attachment-{}", a.kind), "name": a.name, "size": crate::web::views::file_size(lang, a.size), "sha256": a.sha256}))
        .collect()
}

/// Everything the form page shows: values, options, the catalogue rows and errors.
async fn form_page(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    app: &Application,
    form_value: &Value,
    errors: &FieldErrors,
) -> AppResult<Value> {
    let form: ApplicationForm = serde_json::from_value(form_value.clone()).unwrap_or_default();
    // The catalogue, the attachments and the price estimate of the form from the price lists in
    // force today (SPEC §8).
    let apps::FormSupport { catalogue, attachments, estimate } =
        apps::form_support(conn, app.id, &form, crate::domain::deadlines::oslo_date(Utc::now())).await?;
    let (catalogue, variables) = (catalogue.sources, catalogue.variables);
    let localised = |nb: &str, en: &str| {
        if ctx.lang.english() { en.to_string() } else { nb.to_string() }
    };
    let messages = |key: &str| -> Value {
        errors
            .0
            .get(key)
            .map(|v| json!(v.iter().map(|e| crate::i18n::field_error(ctx.lang, e)).collect::<Vec<_>>()))
            .unwrap_or(Value::Null)
    };
    let mut rows: Vec<Value> = vec![];
    let mut requests = form.data_sources.clone();
    if requests.len() < form::MAX_SOURCES {
        requests.push(form::SourceRequest::default());
    }
    for (i, r) in requests.iter().enumerate() {
        let choices: Vec<Value> = catalogue
            .iter()
            .filter(|(s, _)| s.on_common_form)
            .map(|(s, o)| json!({"value": s.id, "label": format!("{} – {} ({})", s.code, localised(&s.name_nb, &s.name_en), o.name), "selected": Some(s.id) == r.data_source_id}))
            .collect();
        let vars: Vec<Value> = variables
            .iter()
            .filter(|v| Some(v.data_source_id) == r.data_source_id)
            .map(|v| json!({"name": v.name, "label": localised(&v.description_nb, &v.description_en), "identifying_key": format!("identifying-{}", v.identifying), "checked": r.variables.contains(&v.name)}))
            .collect();
        let p = format!("data_sources.{i}");
        rows.push(json!({
            "index": i, "number": i + 1, "choices": choices, "variables": vars, "chosen": r.data_source_id.is_some(),
            "period_from": r.period_from, "period_to": r.period_to, "selection": r.selection,
            "errors": {
                "data_source_id": messages(&format!("{p}.data_source_id")), "variables": messages(&format!("{p}.variables")),
                "period_from": messages(&format!("{p}.period_from")), "period_to": messages(&format!("{p}.period_to")),
                "selection": messages(&format!("{p}.selection")),
            },
        }));
    }
    let mut error_map = serde_json::Map::new();
    for key in errors.0.keys() {
        error_map.insert(key.clone(), messages(key));
    }
    // The summary lists them in the order the form asks them.
    let mut error_order: Vec<&String> = errors.0.keys().collect();
    error_order.sort_by_key(|field| form::form_order(field));
    let lb = form.legal_basis.clone().unwrap_or_default();
    let thesis = form.student_thesis.clone().unwrap_or_default();
    let attachments = attachments_json(ctx.lang, &attachments);
    let required: Vec<Value> = form.required_attachments().iter().map(|k| json!(format!("attachment-{k}"))).collect();
    // Progress per section, from the saved form as a submission would check it.
    let progress = section_progress(&apps::progress(conn, app).await?);
    Ok(json!({
        "progress": progress,
        "app": summary_json(&app.summary()), "version": app.version, "form": form_value, "rows": rows, "errors": error_map,
        "error_order": error_order,
        "estimate": format_nok(estimate.total_ore), "estimate_exemption_key": estimate.exemption.map(|e| format!("exempt-{e}")),
        "members_text": form.members.join("\n"),
        "kinds": options(&form::KINDS, &form.kind, "app-kind"),
        "types": options(&form::TYPES, &form.application_type, "app-type"),
        "purposes": options(&form::PURPOSES, &form.purpose, "purpose"),
        "art6": options(&form::GDPR_ARTICLE_6, &lb.gdpr_article_6, "art6"),
        "art9": options(&form::GDPR_ARTICLE_9, &lb.gdpr_article_9, "art9"),
        "dispensations": options(&form::DISPENSATION, form.dispensation.as_deref().unwrap_or(""), "dispensation"),
        "thesis_levels": options(&form::THESIS_LEVELS, &thesis.level, "thesis"),
        "attachment_kinds": options(&form::ATTACHMENT_KINDS, "", "attachment"),
        "attachments": attachments, "required_attachments": required,
        // Which answers a submission will need, for the fields' marks (as `form::validate` asks).
        "needs": {
            "identifiable": form.is_identifiable(), "rek": form.purpose == "medical_research",
            "invoice": form.fee_exemption().is_none(),
        },
        "yes_no": {
            "dpia_done": form.dpia_done, "consent_based": form.consent_based, "linkage": form.linkage, "controller_approved": form.controller_approved == Some(true),
        },
    }))
}

/// Each section of the form in order with how many of its answers still stand between the
/// application and its submission (0: complete).
fn section_progress(errors: &FieldErrors) -> Vec<Value> {
    form::SECTIONS
        .iter()
        .map(|(section, key)| {
            let missing = errors.0.keys().filter(|f| form::section_of(f) == *section).count();
            let anchor = if *section == "attachments" { "attachments".to_string() } else { format!("s-{section}") };
            json!({"section": section, "title_key": key, "anchor": anchor, "missing": missing, "complete": missing == 0})
        })
        .collect()
}

/// The application, for its own applicant only.
async fn load_own(conn: &mut AsyncPgConnection, ctx: &Ctx, id: i64) -> AppResult<Application> {
    let (app, access) = apps::load(conn, ctx.user()?, id).await?;
    if access != Access::Applicant {
        return Err(AppError::Forbidden("err-forbidden".into()));
    }
    Ok(app)
}

async fn load_editable(conn: &mut AsyncPgConnection, ctx: &Ctx, id: i64) -> AppResult<Application> {
    let app = load_own(conn, ctx, id).await?;
    if !app.state.editable() {
        return Err(AppError::Conflict("err-not-editable".into()));
    }
    Ok(app)
}

#[get("/applications/<id>/edit")]
async fn edit(ctx: Ctx, pool: &RocketState<Pool>, id: i64) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    let app = load_editable(&mut conn, &ctx, id).await?;
    let data = form_page(&mut conn, &ctx, &app, &app.form, &FieldErrors::new()).await?;
    Ok(ctx.page("pages/applicant/form", data))
}

#[post("/applications/<id>/edit", data = "<body>")]
async fn save(ctx: Ctx, pool: &RocketState<Pool>, id: i64, body: CsrfBody) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let app = load_own(&mut conn, &ctx, id).await?;
    let value = form_fields::to_json(&body.0);
    if !app.state.editable() {
        // Submitted or withdrawn in another tab meanwhile: what was typed stays on the page.
        return kept_form(&mut conn, &ctx, &app, &value).await;
    }
    let version = form_fields::field(&body.0, "version").and_then(|v| v.parse::<i32>().ok()).unwrap_or(-1);
    let action = form_fields::field(&body.0, "action");
    let to_review = action.as_deref() == Some("review");
    // The attachments are added on a page of their own, after what was typed is saved.
    let to_attachments = action.as_deref() == Some("attachments");
    let form: ApplicationForm = serde_json::from_value(value.clone()).map_err(|e| crate::web::json_shape_error(&e))?;
    match apps::save(&mut conn, user, &ctx.actor(), id, version, form, Utc::now()).await {
        // Saved, each way on with the word that says so (a tab's kept draft goes with it).
        Ok(saved) if to_review => Ok(PageOr::Flash(Flash::success(
            Redirect::to(format!("/applications/{}/submit", saved.id)),
            ctx.t("draft-saved"),
        ))),
        Ok(saved) if to_attachments => Ok(PageOr::Flash(Flash::success(
            Redirect::to(format!("/applications/{}/attachments", saved.id)),
            ctx.t("draft-saved"),
        ))),
        Ok(saved) => Ok(PageOr::Flash(Flash::success(
            Redirect::to(format!("/applications/{}/edit", saved.id)),
            ctx.t("draft-saved"),
        ))),
        Err(AppError::Validation(errors)) => {
            let mut data = form_page(&mut conn, &ctx, &app, &value, &errors).await?;
            // Said at the top: nothing of this was saved (what was typed is in the form).
            data["not_saved"] = json!(true);
            Ok(PageOr::Page((Status::UnprocessableEntity, ctx.page("pages/applicant/form", data))))
        }
        Err(AppError::Conflict(_)) => {
            let current = load_own(&mut conn, &ctx, id).await?;
            kept_form(&mut conn, &ctx, &current, &value).await
        }
        Err(e) => Err(e),
    }
}

/// The form as typed, when it could not be saved: the application was changed meanwhile (in
/// another tab), and the page carries the current version, so saving again replaces that change
/// knowingly; or it can no longer be changed (submitted or withdrawn), and the text stays on the
/// page to be copied, without the buttons that would save it.
async fn kept_form(conn: &mut AsyncPgConnection, ctx: &Ctx, current: &Application, typed: &Value) -> AppResult<PageOr> {
    let mut data = form_page(conn, ctx, current, typed, &FieldErrors::new()).await?;
    let editable = current.state.editable();
    data["conflict"] = json!(ctx.t(if editable { "stale-kept" } else { "locked-kept" }));
    data["locked"] = json!(!editable);
    Ok(PageOr::Page((Status::Conflict, ctx.page("pages/applicant/form", data))))
}

async fn review_data(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    app: &Application,
    accept_error: bool,
) -> AppResult<Value> {
    let apps::Review { form, errors, organisations: orgs, estimate } =
        apps::review(conn, app, crate::domain::deadlines::oslo_date(Utc::now())).await?;
    // In the order the form asks, not by the fields' names.
    let mut listed: Vec<_> = errors.0.iter().collect();
    listed.sort_by_key(|(field, _)| form::form_order(field));
    let problems: Vec<Value> = listed
        .into_iter()
        .map(|(field, list)| json!({"field": field, "href": if form::section_of(field) == "attachments" { format!("/applications/{}/attachments", app.id) } else { format!("/applications/{}/edit#f-{field}", app.id) }, "label_key": format!("field-{}", field.split('.').filter(|p| p.parse::<usize>().is_err()).collect::<Vec<_>>().join("-").replace('_', "-")), "messages": list.iter().map(|e| crate::i18n::field_error(ctx.lang, e)).collect::<Vec<_>>()}))
        .collect();
    let (lines, rates) = super::payment::estimate_rows(ctx, &orgs, &estimate);
    // Every answer, section by section in form order, with its progress and a link back to it;
    // the attachments in their place among the sections.
    let sources = crate::db::catalogue::sources_by_ids(conn, &form.source_ids()).await?;
    let attachments = crate::db::applications::attachments_of(conn, app.id).await?;
    let progress = section_progress(&errors);
    let mut sections = crate::web::views::form_sections(ctx.lang, &form, &sources);
    let attachment_rows: Vec<Value> = attachments
        .iter()
        .map(|a| json!({"label": ctx.t(&format!("attachment-{}", a.kind)), "value": format!("{} ({})", a.name, crate::web::views::file_size(ctx.lang, a.size))}))
        .collect();
    let at = sections.iter().position(|s| s["section"] == "billing").unwrap_or(sections.len());
    sections.insert(
        at,
        json!({"title": ctx.t("section-attachments"), "rows": attachment_rows, "sources": null, "anchor": "attachments", "section": "attachments"}),
    );
    for s in &mut sections {
        if let Some(p) = progress.iter().find(|p| p["section"] == s["section"]) {
            s["missing"] = p["missing"].clone();
            s["complete"] = p["complete"].clone();
        }
    }
    Ok(json!({
        "sections": sections, "change_href": format!("/applications/{}/edit", app.id),
        "app": summary_json(&app.summary()), "version": app.version, "problems": problems, "ready": errors.is_empty(),
        "estimate_ore": estimate.total_ore, "estimate": format_nok(estimate.total_ore), "sources": form.source_ids().len(),
        "estimate_lines": lines, "estimate_rates": rates,
        "exemption_key": estimate.exemption.map(|e| format!("exempt-{e}")), "accept_error": accept_error,
    }))
}

#[get("/applications/<id>/submit")]
async fn review(ctx: Ctx, pool: &RocketState<Pool>, id: i64) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    let app = load_editable(&mut conn, &ctx, id).await?;
    let data = review_data(&mut conn, &ctx, &app, false).await?;
    Ok(ctx.page("pages/applicant/review", data))
}

#[derive(FromForm)]
struct SubmitForm {
    version: i32,
    estimate_ore: i64,
    accept: bool,
}

#[post("/applications/<id>/submit", data = "<form>")]
async fn submit(
    ctx: Ctx,
    pool: &RocketState<Pool>,
    config: &RocketState<Config>,
    id: i64,
    form: CsrfForm<SubmitForm>,
) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let app = load_editable(&mut conn, &ctx, id).await?;
    if !form.0.accept {
        let data = review_data(&mut conn, &ctx, &app, true).await?;
        return Ok(PageOr::Page((Status::UnprocessableEntity, ctx.page("pages/applicant/review", data))));
    }
    match apps::submit(
        &mut conn,
        user,
        &ctx.actor(),
        id,
        apps::Expected { version: Some(form.0.version), estimate_ore: Some(form.0.estimate_ore) },
        config.case_target_working_days,
        Utc::now(),
    )
    .await
    {
        Ok(done) => Ok(PageOr::Flash(Flash::success(
            Redirect::to(format!("/applications/{id}")),
            format!("{} {}", ctx.t("submitted-as"), done.reference.unwrap_or_default()),
        ))),
        Err(AppError::Validation(_)) => {
            let data = review_data(&mut conn, &ctx, &app, false).await?;
            Ok(PageOr::Page((Status::UnprocessableEntity, ctx.page("pages/applicant/review", data))))
        }
        Err(e) => Err(e),
    }
}

/// Withdrawing cannot be undone: the page asks first.
#[get("/applications/<id>/withdraw")]
async fn withdraw_confirm(ctx: Ctx, pool: &RocketState<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (app, _) = apps::withdrawable(&mut conn, user, id, Utc::now()).await?;
    Ok(confirm_page(
        &ctx,
        "withdraw-confirm-heading",
        &app,
        "withdraw-confirm-text",
        (format!("/applications/{id}/withdraw"), format!("/applications/{id}")),
        "withdraw",
    ))
}

/// A page that asks before an act that cannot be undone: what it does, the act as a button
/// (posting to the first of `to`) and the way back (the second).
pub(crate) fn confirm_page(
    ctx: &Ctx,
    heading: &str,
    app: &crate::db::applications::Application,
    text: &str,
    to: (String, String),
    button: &str,
) -> Template {
    let subject = format!("{} – {}", app.reference.clone().unwrap_or_default(), app.title);
    ctx.page(
        "pages/confirm",
        json!({
            "heading": ctx.t(heading), "subject": subject, "text": ctx.t(text), "action": to.0,
            "button": ctx.t(button), "back": to.1,
        }),
    )
}

#[post("/applications/<id>/withdraw", data = "<_form>")]
async fn withdraw(
    ctx: Ctx,
    pool: &RocketState<Pool>,
    id: i64,
    _form: CsrfForm<CsrfOnly>,
) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    apps::withdraw(&mut conn, user, &ctx.actor(), id, Utc::now()).await?;
    Ok(Flash::success(Redirect::to(format!("/applications/{id}")), ctx.t("withdrawn")))
}

/// The applicant asks for an extension of the permit: a draft of type `extension` naming it.
#[post("/applications/<id>/extension", data = "<_form>")]
async fn extension(
    ctx: Ctx,
    pool: &RocketState<Pool>,
    id: i64,
    _form: CsrfForm<CsrfOnly>,
) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let back = Redirect::to(format!("/applications/{id}"));
    match services::permits::extension_draft(&mut conn, user, &ctx.actor(), id, Utc::now()).await {
        Ok(app) => {
            Ok(Flash::success(Redirect::to(format!("/applications/{}/edit", app.id)), ctx.t("extension-created")))
        }
        Err(AppError::Conflict(key)) => Ok(Flash::error(back, ctx.t(&key))),
        Err(e) => Err(e),
    }
}

/// Officers' overview: permits that have ended without a confirmed deletion of the data.
#[get("/permits")]
async fn permits(ctx: Ctx, pool: &RocketState<Pool>) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let today = crate::domain::deadlines::oslo_date(Utc::now());
    let ended = services::permits::ended_without_deletion(&mut conn, user, today).await?;
    let rows: Vec<Value> = ended
        .iter()
        .map(|p| {
            json!({
                "id": p.app.id, "reference": p.app.reference, "title": p.app.title,
                "applicant": p.applicant_name, "email": p.applicant_email,
                "ends": p.app.permit_ends_on.map(|d| d.format("%d.%m.%Y").to_string()),
                "ends_iso": p.app.permit_ends_on.map(|d| d.format("%Y-%m-%d").to_string()),
                "days": p.days_ended,
                "reminded": p.app.deletion_reminded_at.map(crate::domain::deadlines::oslo_day),
            })
        })
        .collect();
    Ok(ctx.page("pages/cases/permits", json!({"permits": rows, "count": rows.len()})))
}

#[post("/applications/<id>/copy", data = "<_form>")]
async fn copy(ctx: Ctx, pool: &RocketState<Pool>, id: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let app = apps::copy(&mut conn, user, &ctx.actor(), id, Utc::now()).await?;
    Ok(Flash::success(Redirect::to(format!("/applications/{}/edit", app.id)), ctx.t("copied")))
}

#[derive(FromForm)]
struct MessageForm {
    body: String,
    internal: bool,
}

#[post("/applications/<id>/messages", data = "<form>")]
async fn message(ctx: Ctx, pool: &RocketState<Pool>, id: i64, form: CsrfForm<MessageForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let f = form.0;
    let result = apps::post_message(&mut conn, user, &ctx.actor(), id, &f.body, f.internal, Utc::now()).await;
    let sent = Sent {
        case_id: id,
        form: "message".into(),
        fields: json!({"body": f.body, "internal": f.internal}),
        labels: "message-field-",
    };
    sent.answer(&ctx, &mut conn, result, "message-sent").await
}

/// The sign-in and the upload slot are request guards and refuse before any byte of the body is
/// read; the CSRF token is the body's first field, checked before the file is read.
/// The attachment step: its own page, so that no unsaved text of the form can be lost to an
/// upload (the form's button saves first and comes here).
#[get("/applications/<id>/attachments")]
async fn attachments_page(ctx: Ctx, pool: &RocketState<Pool>, id: i64) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    let app = load_editable(&mut conn, &ctx, id).await?;
    let form = apps::form_of(&app);
    let attachments = crate::db::applications::attachments_of(&conn, app.id).await?;
    let required: Vec<Value> = form.required_attachments().iter().map(|k| json!(format!("attachment-{k}"))).collect();
    Ok(ctx.page(
        "pages/applicant/attachments",
        json!({
            "app": summary_json(&app.summary()), "attachments": attachments_json(ctx.lang, &attachments),
            "required_attachments": required, "attachment_kinds": options(&form::ATTACHMENT_KINDS, "", "attachment"),
        }),
    ))
}

#[post("/applications/<id>/attachments", data = "<upload>")]
#[allow(clippy::too_many_arguments)]
async fn upload(
    ctx: Ctx,
    signed_in: SessionUser,
    slot: UploadSlot<'_>,
    pool: &RocketState<Pool>,
    storage: &RocketState<Storage>,
    config: &RocketState<Config>,
    id: i64,
    upload: AttachmentUpload<'_>,
) -> AppResult<Flash<Redirect>> {
    let _slot = slot;
    let back = Redirect::to(format!("/applications/{id}/attachments"));
    let (kind, name) = (upload.kind.clone().unwrap_or_default(), upload.file_name.clone());
    let result = apps::add_attachment(
        pool,
        storage,
        &signed_in.0,
        &ctx.actor(),
        id,
        &kind,
        &name,
        upload.reader(),
        config.max_upload_bytes,
        Utc::now(),
    )
    .await;
    match result {
        Ok(_) => Ok(Flash::success(back, ctx.t("attachment-added"))),
        Err(AppError::Validation(f)) => {
            let text: Vec<String> = f.0.values().flatten().map(|e| crate::i18n::field_error(ctx.lang, e)).collect();
            Ok(Flash::error(back, text.join(" ")))
        }
        Err(AppError::PayloadTooLarge) => Ok(Flash::error(back, ctx.t("err-too-large"))),
        Err(e) => Err(e),
    }
}

#[get("/applications/<id>/attachments/<attachment>")]
async fn download(
    ctx: Ctx,
    pool: &RocketState<Pool>,
    storage: &RocketState<Storage>,
    id: i64,
    attachment: &str,
) -> AppResult<Download> {
    let user = ctx.user()?;
    let attachment_id = uuid::Uuid::parse_str(attachment).map_err(|_| AppError::NotFound)?;
    let mut conn = services::conn(pool).await?;
    let a = apps::open_attachment(&mut conn, user, &ctx.actor(), id, attachment_id, Utc::now()).await?;
    Download::attachment(storage, a).await
}

#[post("/applications/<id>/attachments/<attachment>/delete", data = "<_form>")]
async fn remove_attachment(
    ctx: Ctx,
    pool: &RocketState<Pool>,
    storage: &RocketState<Storage>,
    id: i64,
    attachment: &str,
    _form: CsrfForm<CsrfOnly>,
) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let attachment_id = uuid::Uuid::parse_str(attachment).map_err(|_| AppError::NotFound)?;
    let mut conn = services::conn(pool).await?;
    apps::remove_attachment(&mut conn, storage, user, &ctx.actor(), id, attachment_id, Utc::now()).await?;
    Ok(Flash::success(Redirect::to(format!("/applications/{id}/attachments")), ctx.t("attachment-removed")))
}
