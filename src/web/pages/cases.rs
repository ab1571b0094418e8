//! Case handling pages: the officers' inbox, the register owners' queue, the decision letter,
//! and the forms behind the case commands and release decisions.

use crate::config::Config;
use crate::db::{self, Pool};
use crate::domain::case::Command;
use crate::domain::release::{self, ReleaseState};
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult};
use crate::services::{self, cases};
use crate::templating::Documents;
use crate::web::context::Ctx;
use crate::web::csrf::CsrfForm;
use crate::web::pages::auth::PageOr;
use crate::web::pages::kept::{Kept, Sent};
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![inbox, queue, decision, command, decide_release, reconsider_release, helseklage, delivered]
}

/// The inbox's filters, as the query of `/inbox` and `/inbox.csv`.
#[derive(FromForm)]
pub(crate) struct InboxQuery<'r> {
    state: Option<&'r str>,
    /// `me` or `none`.
    assignee: Option<&'r str>,
    source: Option<i64>,
    overdue: Option<bool>,
    /// `due` (default), `submitted` or `reference`.
    sort: Option<&'r str>,
    /// `desc` for the reverse order.
    order: Option<&'r str>,
    /// The page, from 1 (the CSV export ignores it).
    page: Option<i64>,
}

impl InboxQuery<'_> {
    fn sort(&self) -> db::cases::InboxSort {
        self.sort.and_then(db::cases::InboxSort::from_code).unwrap_or_default()
    }

    fn descending(&self) -> bool {
        self.order == Some("desc")
    }

    /// The filter for the database (unknown states, assignees and orders are ignored), for
    /// every matching row.
    pub(crate) fn filter(&self, user_id: i64, today: chrono::NaiveDate) -> db::cases::InboxFilter {
        db::cases::InboxFilter {
            sort: self.sort(),
            descending: self.descending(),
            states: db::cases::InboxStates::from_code(self.state.filter(|s| !s.is_empty())),
            assignee: match self.assignee {
                Some("me") => Some(Some(user_id)),
                Some("none") => Some(None),
                _ => None,
            },
            data_source_id: self.source,
            overdue_on: self.overdue.filter(|o| *o).map(|_| today),
        }
    }

    /// The filter and order as a query string, for the CSV link and the pages' links.
    fn query_string(&self) -> String {
        let mut q = self.filter_string();
        if self.sort() != db::cases::InboxSort::default() || self.descending() {
            q.push_str(&format!("&sort={}", self.sort().code()));
            if self.descending() {
                q.push_str("&order=desc");
            }
        }
        q.trim_start_matches('&').to_string()
    }

    /// The filters alone as a query string, for the column headers that change the order.
    fn filter_string(&self) -> String {
        let mut parts = vec![];
        if let Some(s) = self.state {
            parts.push(format!("state={}", crate::web::url_encode(s)));
        }
        if let Some(a) = self.assignee {
            parts.push(format!("assignee={}", crate::web::url_encode(a)));
        }
        if let Some(s) = self.source {
            parts.push(format!("source={s}"));
        }
        if self.overdue == Some(true) {
            parts.push("overdue=true".into());
        }
        parts.join("&")
    }
}

#[get("/inbox?<q..>")]
async fn inbox(ctx: Ctx, pool: &State<Pool>, q: InboxQuery<'_>) -> AppResult<Template> {
    let user = ctx.require(Permission::HandleCases)?;
    let mut conn = services::conn(pool).await?;
    let today = crate::domain::deadlines::oslo_date(Utc::now());
    let page = crate::domain::paging::Page::new(q.page, crate::domain::paging::PAGE_SIZE);
    let filter = q.filter(user.id, today);
    let cases::Inbox { cases: matching, total, counts, sources } = cases::inbox(&mut conn, &filter, page).await?;
    let pages = crate::domain::paging::Page::count(total, page.size);
    let query = q.query_string();
    let page_link = |n: i64| format!("/inbox?{}{}page={n}", query, if query.is_empty() { "" } else { "&" });
    let (previous, next) = page.neighbours(page.number < pages);
    let filters = q.filter_string();
    // Each sortable column: a link that sorts by it (again: the other way round).
    let sort_links: serde_json::Map<String, Value> = db::cases::InboxSort::ALL
        .iter()
        .map(|s| {
            let current = q.sort() == *s;
            let reverse = current && !q.descending();
            let join = if filters.is_empty() { "" } else { "&" };
            let href = format!("/inbox?{filters}{join}sort={}{}", s.code(), if reverse { "&order=desc" } else { "" });
            let aria = match (current, q.descending()) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            };
            (s.code().to_string(), json!({"href": href, "aria_sort": aria}))
        })
        .collect();
    let rows: Vec<Value> = matching
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "reference": a.reference, "title": a.title, "state": a.state, "state_key": format!("state-{}", a.state),
                "due_date": a.due_date.map(|d| d.format("%d.%m.%Y").to_string()), "assigned_to_me": a.assignee_id == Some(user.id), "unassigned": a.assignee_id.is_none(),
                "overdue": a.state.overdue(a.due_date, today),
                "submitted": a.submitted_at.map(crate::domain::deadlines::oslo_day),
                "estimate_pending": a.estimate_pending,
            })
        })
        .collect();
    let counts: Vec<Value> =
        counts.into_iter().map(|(s, n)| json!({"state": s, "key": format!("state-{s}"), "n": n})).collect();
    let shown = filter.states;
    let mut states = vec![
        json!({"value": "all", "label_key": "inbox-all-states", "selected": shown == db::cases::InboxStates::All}),
    ];
    states.extend(crate::domain::case::State::ALL.iter().filter(|s| **s != crate::domain::case::State::Draft).map(
        |s| json!({"value": s.code(), "label_key": format!("state-{}", s.code()), "selected": shown == db::cases::InboxStates::One(*s)}),
    ));
    let sources: Vec<Value> = sources
        .iter()
        .map(|(s, _)| json!({"value": s.id, "label": s.code, "selected": Some(s.id) == q.source}))
        .collect();
    Ok(ctx.page(
        "pages/cases/inbox",
        json!({"cases": rows, "counts": counts, "states": states, "sources": sources, "assignee": q.assignee.unwrap_or(""), "overdue": q.overdue.unwrap_or(false), "count": total,
            "query": query, "sort": sort_links, "sort_code": q.sort().code(), "order": if q.descending() { "desc" } else { "asc" },
            "page": page.number, "pages": pages,
            "previous": previous.map(page_link), "next": next.map(page_link)}),
    ))
}

#[get("/releases?<state>&<page>")]
async fn queue(ctx: Ctx, pool: &State<Pool>, state: Option<&str>, page: Option<i64>) -> AppResult<Template> {
    let user = ctx.require(Permission::DecideOwnReleases)?;
    let org = user.organisation_id.ok_or(AppError::NotFound)?;
    // An unknown state shows them all, as no state does.
    let state = state.and_then(ReleaseState::from_code);
    let page = crate::domain::paging::Page::new(page, crate::domain::paging::PAGE_SIZE);
    let mut conn = services::conn(pool).await?;
    let now = Utc::now();
    let queue = cases::queue(&mut conn, org, state, page).await?;
    let me = services::cases::person(user);
    let rows: Vec<Value> = queue
        .rows
        .into_iter()
        .map(|r| {
            let facts = services::cases::release_facts(&r.release);
            json!({
                "id": r.release.id, "application_id": r.application_id, "reference": r.reference, "title": r.title, "code": r.code,
                "state": r.release.state, "state_key": format!("release-{}", r.release.state), "decider_key": format!("decider-{}", r.release.decider),
                "to_decide": release::to_decide_by(&facts, r.case_state, me),
                "to_deliver": release::to_deliver_by(&facts, r.case_state, me),
                "waiting_days": release::waiting(r.release.state, r.case_state).map(|w| match w {
                    release::Waiting::Decision => now - r.release.created_at,
                    release::Waiting::Delivery => now - r.release.decided_at.unwrap_or(r.release.created_at),
                }.num_days()),
                "estimate_pending": r.estimate_pending,
            })
        })
        .collect();
    let all: i64 = queue.counts.iter().map(|(_, n)| n).sum();
    let mut tabs = vec![json!({"href": "/releases", "key": "all", "n": all, "current": state.is_none()})];
    tabs.extend(queue.counts.iter().map(|(s, n)| {
        json!({"href": format!("/releases?state={s}"), "key": format!("release-{s}"), "n": n, "current": state == Some(*s)})
    }));
    let base = state.map_or("/releases?".to_string(), |s| format!("/releases?state={s}&"));
    let (previous, next) = page.neighbours(page.number < queue.pages);
    Ok(ctx.page(
        "pages/cases/queue",
        json!({"releases": rows, "tabs": tabs, "page": page.number, "pages": queue.pages,
            "previous": previous.map(|n| format!("{base}page={n}")), "next": next.map(|n| format!("{base}page={n}"))}),
    ))
}

#[get("/applications/<id>/decision")]
async fn decision(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (app, d) = cases::decision_of(&mut conn, user, id).await?;
    Ok(ctx.page("pages/cases/decision", json!({"app_id": app.id, "letter": d.letter_html})))
}

#[derive(FromForm)]
struct CommandForm {
    message: Option<String>,
    reasons: Option<String>,
    grounds: Option<String>,
    /// An appeal that came by post or e-mail: the day it was sent.
    sent_on: Option<String>,
    unassign: bool,
    /// The decision is made only from its preview (one click on "decide" shows the letter).
    confirm: bool,
    /// From the preview, back to the case page with the reasons in their form.
    edit: bool,
}

#[post("/applications/<id>/command/<name>", data = "<form>")]
#[allow(clippy::too_many_arguments)]
async fn command(
    ctx: Ctx,
    pool: &State<Pool>,
    documents: &State<Documents>,
    config: &State<Config>,
    id: i64,
    name: &str,
    form: CsrfForm<CommandForm>,
) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let cmd = Command::from_code(name).ok_or(AppError::NotFound)?;
    let f = form.0;
    let mut conn = services::conn(pool).await?;
    // What was typed, for the case page again if the command is refused.
    let sent = Sent {
        case_id: id,
        form: format!("command-{name}"),
        fields: json!({"message": f.message, "reasons": f.reasons, "grounds": f.grounds, "sent_on": f.sent_on}),
        labels: "command-field-",
    };
    if cmd == Command::Decide && f.edit {
        let kept = Kept { form: sent.form, fields: sent.fields, error: String::new(), unsent: None };
        let page = super::applicant::status_page(&ctx, &mut conn, id, Some(&kept)).await?;
        return Ok(PageOr::Page((Status::Ok, page)));
    }
    if cmd == Command::Decide && !f.confirm {
        let reasons = f.reasons.clone().unwrap_or_default();
        return match cases::preview_decision(&mut conn, documents, user, id, &reasons, Utc::now()).await {
            Ok(preview) => {
                let named = |list: &[(String, chrono::NaiveDate)]| -> Vec<Value> {
                    list.iter()
                        .map(|(name, day)| json!({"name": name, "date": day.format("%d.%m.%Y").to_string()}))
                        .collect()
                };
                let data = json!({"app": {"id": id}, "letter": preview.letter, "reasons": reasons,
                    "comment_periods": named(&preview.comment_periods), "unanswered": named(&preview.unanswered)});
                Ok(PageOr::Page((Status::Ok, ctx.page("pages/cases/decide_preview", data))))
            }
            refused => sent.answer(&ctx, &mut conn, refused, "").await,
        };
    }
    let params = cases::Params {
        message: f.message,
        reasons: f.reasons,
        grounds: f.grounds,
        assignee_id: None,
        unassign: f.unassign,
        sent_on: f.sent_on,
    };
    let result =
        cases::command(&mut conn, documents, user, &ctx.actor(), id, cmd, params, config.vat_rate_bp, Utc::now()).await;
    sent.answer(&ctx, &mut conn, result, &format!("done-{name}")).await
}

#[derive(FromForm)]
struct ReleaseForm {
    approve: Option<bool>,
    conditions: String,
    reasons: String,
    dispensation: Option<bool>,
}

#[derive(FromForm)]
struct ReconsiderForm {
    reverse: Option<bool>,
    conditions: String,
    reasons: String,
}

/// The release's decider reconsiders a refusal after an appeal.
#[post("/releases/<id>/reconsider", data = "<form>")]
async fn reconsider_release(
    ctx: Ctx,
    pool: &State<Pool>,
    id: i64,
    form: CsrfForm<ReconsiderForm>,
) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (release, _, _) = cases::load_release(&mut conn, user, id).await?;
    let f = form.0;
    let sent = Sent {
        case_id: release.application_id,
        form: format!("release-{id}-reconsider"),
        fields: json!({"reverse": f.reverse, "conditions": f.conditions, "reasons": f.reasons}),
        labels: "release-field-",
    };
    let input = cases::Reconsideration { reverse: f.reverse, conditions: Some(f.conditions), reasons: Some(f.reasons) };
    let result = cases::reconsider_release(&mut conn, user, &ctx.actor(), id, input, Utc::now()).await;
    sent.answer(&ctx, &mut conn, result, "release-reconsidered").await
}

#[derive(FromForm)]
struct HelseklageForm {
    outcome: String,
    decided_on: String,
    reference: String,
    release_ids: Vec<i64>,
}

/// An officer records Helseklage's outcome.
#[post("/applications/<id>/helseklage", data = "<form>")]
async fn helseklage(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<HelseklageForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let f = form.0;
    let sent = Sent {
        case_id: id,
        form: "helseklage".into(),
        fields: json!({"outcome": f.outcome, "decided_on": f.decided_on, "reference": f.reference, "release_ids": f.release_ids}),
        labels: "release-field-",
    };
    let input = cases::HelseklageAnswer {
        outcome: Some(f.outcome),
        decided_on: Some(f.decided_on),
        reference: Some(f.reference),
        release_ids: f.release_ids,
    };
    let result = cases::record_helseklage(&mut conn, user, &ctx.actor(), id, input, Utc::now()).await;
    sent.answer(&ctx, &mut conn, result, "helseklage-recorded").await
}

#[post("/releases/<id>/decide", data = "<form>")]
async fn decide_release(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<ReleaseForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (release, _, _) = cases::load_release(&mut conn, user, id).await?;
    let f = form.0;
    let sent = Sent {
        case_id: release.application_id,
        form: format!("release-{id}-decide"),
        fields: json!({"approve": f.approve, "conditions": f.conditions, "reasons": f.reasons, "dispensation": f.dispensation}),
        labels: "release-field-",
    };
    let input = cases::ReleaseDecision {
        approve: f.approve,
        conditions: Some(f.conditions),
        reasons: Some(f.reasons),
        dispensation: f.dispensation,
    };
    let result = cases::decide_release(&mut conn, user, &ctx.actor(), id, input, Utc::now()).await;
    sent.answer(&ctx, &mut conn, result, "release-decided").await
}

#[derive(FromForm)]
struct DeliveredForm {
    environment: String,
}

#[post("/releases/<id>/delivered", data = "<form>")]
async fn delivered(
    ctx: Ctx,
    pool: &State<Pool>,
    config: &State<Config>,
    id: i64,
    form: CsrfForm<DeliveredForm>,
) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (release, _, _) = cases::load_release(&mut conn, user, id).await?;
    let environment = form.0.environment;
    let result =
        cases::deliver_in_environment(&mut conn, user, &ctx.actor(), id, &environment, config.vat_rate_bp, Utc::now())
            .await;
    let sent = Sent {
        case_id: release.application_id,
        form: format!("release-{id}-delivered"),
        fields: json!({"environment": environment}),
        labels: "release-field-",
    };
    sent.answer(&ctx, &mut conn, result, "release-delivered-done").await
}
