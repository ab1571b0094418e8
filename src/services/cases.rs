//! Case handling: the officers' commands (assign, return, complete, decide, reconsider, uphold,
//! close), the applicant's appeal, release decisions by their deciders, deliveries, and the
//! interim reply. Each command: load, apply the pure lifecycle, store state and event in one
//! transaction (the row locked, so two officers cannot both win).

use super::Actor;
use super::applications::{self as apps, Access, case_actor, record, refusal};
use super::command::{Seen, on_case};
use crate::db::{
    self,
    applications::Application,
    cases::{CaseChanges, Decision, InboxFilter, InboxRow, Release},
    catalogue::{DataSource, Organisation},
    users::User,
};
use crate::domain::appeal;
use crate::domain::case::{self, Command, State};
use crate::domain::catalogue::DecisionAuthority;
use crate::domain::fields::FieldErrors;
use crate::domain::interim;
use crate::domain::language::Language;
use crate::domain::paging::Page;
use crate::domain::release::{self, ReleaseState};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::templating::Documents;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;

/// Parameters some commands take.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Params {
    /// `return`: what is missing (sent to the applicant).
    pub message: Option<String>,
    /// `decide`: overall reasons; `appeal`: the grounds.
    pub reasons: Option<String>,
    pub grounds: Option<String>,
    /// `assign`: the officer to assign (default: oneself); `unassign: true` clears it.
    pub assignee_id: Option<i64>,
    pub unassign: bool,
    /// `late_appeal` (an appeal that came by post or e-mail): the day it was sent, `YYYY-MM-DD`
    /// (default: today). Sent by the deadline it is in time; after it, `reasons` says why it is
    /// considered anyway.
    pub sent_on: Option<String>,
}

/// The lifecycle's view of a stored case.
pub async fn case_of(conn: &mut AsyncPgConnection, app: &Application) -> AppResult<case::Case> {
    let releases = db::cases::releases_of(conn, app.id).await?;
    let latest = db::cases::latest_decision(conn, app.id).await?;
    let helseklage = db::cases::helseklage_of(conn, app.id).await?;
    let mut case = case_from(app, &releases, latest.as_ref(), helseklage.as_ref());
    // Linked data still owed to the researcher keep the case from being delivered (the transfers
    // are read only when that is the question left).
    if case.all_delivered {
        let transfers: Vec<crate::domain::transfer::LinkageFacts> = db::transfers::of_application(conn, app.id)
            .await?
            .iter()
            .map(|t| crate::domain::transfer::LinkageFacts {
                id: t.id,
                state: t.state,
                to_another_holder: t.recipient_organisation_id.is_some(),
                linked_from: t.linked_from,
            })
            .collect();
        case.all_delivered = !crate::domain::transfer::linkage_outstanding(&transfers);
    }
    Ok(case)
}

/// The lifecycle's view of a case from rows the caller has already read.
pub fn case_from(
    app: &Application,
    releases: &[db::cases::ReleaseView],
    latest: Option<&db::cases::Decision>,
    helseklage: Option<&db::cases::HelseklageOutcome>,
) -> case::Case {
    let previous = latest.and_then(|d| State::from_code(&d.outcome));
    let states: Vec<ReleaseState> = releases.iter().map(|r| r.release.state).collect();
    case::Case {
        state: app.state,
        applicant_id: app.applicant_id,
        assignee_id: app.assignee_id,
        appeal_deadline: latest.map(|d| d.appeal_deadline),
        releases: states.clone(),
        all_delivered: release::all_delivered(&states),
        previous_outcome: previous,
        sent_to_helseklage: app.sent_to_helseklage_at.is_some(),
        helseklage_answered: helseklage.is_some(),
    }
}

fn required_text(field: &str, value: Option<&str>, max: usize) -> AppResult<String> {
    let mut errors = FieldErrors::new();
    let text = errors.text(field, value.unwrap_or(""), 1, max);
    errors.into_result().map_err(AppError::Validation)?;
    Ok(text)
}

/// The due date of an appeal coming in at `now` (`deadlines::appeal_due_date`).
fn appeal_due_date(app: &Application, now: DateTime<Utc>) -> Option<chrono::NaiveDate> {
    use crate::domain::deadlines::{appeal_due_date, oslo_date};
    let submitted_on = oslo_date(app.submitted_at.or(app.first_submitted_at)?);
    appeal_due_date(submitted_on, app.due_date, oslo_date(now))
}

/// Loads the application and checks that `user` may give `command` now (access, the lifecycle,
/// and for a decision recusal): what the command and its preview both ask first.
async fn allowed(
    conn: &mut AsyncPgConnection,
    user: &User,
    id: i64,
    command: Command,
    now: DateTime<Utc>,
) -> AppResult<(Application, case::Transition)> {
    let (app, access) = apps::load(conn, user, id).await?;
    if access == Access::Member || access == Access::RegisterOwner {
        return Err(AppError::Forbidden("err-role-may-not".into()));
    }
    let facts = case_of(conn, &app).await?;
    let transition = case::apply(&facts, command, case_actor(user), now).map_err(refusal)?;
    if command == Command::Decide
        && let Some(why) = release::recusal(person(user), ties(conn, user, &app).await?)
    {
        return Err(AppError::Forbidden(why.into()));
    }
    Ok((app, transition))
}

/// Runs a named command on an application.
#[allow(clippy::too_many_arguments)]
pub async fn command(
    conn: &mut AsyncPgConnection,
    documents: &Documents,
    user: &User,
    actor: &Actor,
    id: i64,
    command: Command,
    params: Params,
    vat_rate_bp: u32,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    let (app, transition) = allowed(conn, user, id, command, now).await?;

    // Validate parameters before opening the transaction.
    let mut changes = CaseChanges { state: Some(transition.to.code()), ..CaseChanges::default() };
    let mut payload = json!({"from": app.state, "to": transition.to.code()});
    let mut message: Option<String> = None;
    match command {
        Command::Assign => {
            let assignee = if params.unassign { None } else { Some(params.assignee_id.unwrap_or(user.id)) };
            if let Some(a) = assignee {
                let officer = db::users::by_id(conn, a).await?;
                if !officer.is_some_and(|o| o.role == Role::CaseOfficer && o.active) {
                    return Err(AppError::field("assignee_id", "err-not-an-officer"));
                }
            }
            changes.assignee_id = Some(assignee);
            payload["assignee_id"] = json!(assignee);
        }
        Command::Return => {
            let text = required_text("message", params.message.as_deref(), 10_000)?;
            payload["message"] = json!(text);
            message = Some(text);
        }
        Command::Complete => {
            changes.completed_at = Some(now);
            // The KPI's clock starts at the submission found complete.
            changes.complete_submitted_at = app.submitted_at.or(Some(now));
            if app.assignee_id.is_none() {
                changes.assignee_id = Some(Some(user.id));
            }
        }
        Command::Decide => changes.decided_at = Some(now),
        Command::Appeal => {
            changes.appealed_at = Some(now);
            changes.appeal_interim_reply_at = Some(None);
            let grounds = required_text("grounds", params.grounds.as_deref().or(params.reasons.as_deref()), 10_000)?;
            payload["grounds"] = json!(grounds);
            changes.appeal_grounds = Some(grounds);
            changes.due_date = appeal_due_date(&app, now);
            payload["due_date"] = json!(changes.due_date);
        }
        Command::LateAppeal => {
            // The applicant's appeal as it reached Helsedataservice by post or e-mail: in time if
            // sent by the deadline (forvaltningsloven § 30), else with why it is considered (§ 31).
            let mut errors = FieldErrors::new();
            let grounds = errors.text("grounds", params.grounds.as_deref().unwrap_or(""), 1, 10_000);
            let today = crate::domain::deadlines::oslo_date(now);
            let decided_on = app.decided_at.map(crate::domain::deadlines::oslo_date);
            let sent_on = match params.sent_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Some(today),
                Some(text) => match errors.past_day("sent_on", text, today) {
                    // Before the decision it appeals: a slip of the keyboard, not an appeal in time.
                    Some(day) if decided_on.is_some_and(|d| day < d) => {
                        errors.add("sent_on", "err-before-decision");
                        None
                    }
                    day => day,
                },
            };
            let deadline = case_of(conn, &app).await?.appeal_deadline;
            let late = sent_on.is_some_and(|day| !case::appeal_sent_in_time(deadline, day));
            // The year is counted to when the appeal was sent (lodged), not registered.
            if late && !case::late_appeal_considered(decided_on, sent_on.unwrap_or(today)) {
                errors.add("sent_on", "err-late-appeal-after-a-year");
            }
            let reason = errors.text("reasons", params.reasons.as_deref().unwrap_or(""), usize::from(late), 10_000);
            errors.into_result().map_err(AppError::Validation)?;
            payload["grounds"] = json!(grounds);
            payload["sent_on"] = json!(sent_on);
            payload["late"] = json!(late);
            if late {
                payload["late_reason"] = json!(reason);
            }
            changes.appeal_grounds = Some(grounds);
            changes.appealed_at = Some(now);
            changes.appeal_interim_reply_at = Some(None);
            changes.due_date = appeal_due_date(&app, now);
            payload["due_date"] = json!(changes.due_date);
        }
        Command::Close => changes.closed_at = Some(now),
        Command::Deliver => changes.delivered_at = Some(now),
        Command::Submit | Command::Withdraw => {
            return Err(AppError::BadRequest("err-use-submit-withdraw".into()));
        }
    }
    let letter = if command == Command::Decide {
        Some(decision_letter(conn, documents, &app, user, params.reasons.as_deref().unwrap_or(""), now).await?)
    } else {
        None
    };

    let actor = actor.clone();
    let officer = user.id;
    on_case(conn, id, Seen::as_read(&app), async move |tx, current| {
        // A revised estimate the applicant has not accepted holds the case (SPEC §8).
        if matches!(command, Command::Complete | Command::Decide) {
            super::pricing::require_no_pending_estimate(tx, id).await?;
        }
        let updated = db::cases::update_case(tx, &current, &changes, now).await?;
        match command {
            Command::Return => {
                db::applications::insert_message(tx, id, officer, false, message.as_deref().unwrap_or(""), now).await?;
            }
            Command::Complete => {
                let mut routed = vec![];
                for (source_id, authority, owner, code) in db::cases::routing(tx, id).await? {
                    db::cases::insert_release(tx, id, source_id, &authority, owner, now).await?;
                    routed.push(json!({"code": code, "decider": authority}));
                }
                payload["releases"] = json!(routed);
            }
            Command::Decide => {
                let (outcome, reasons, lang, html, deadline) = letter.clone().expect("rendered");
                db::cases::insert_decision(tx, id, &outcome, &reasons, &lang, &html, officer, now, deadline).await?;
                payload["outcome"] = json!(outcome);
                payload["appeal_deadline"] = json!(deadline);
                if updated.state.granted() {
                    payload["permit_ends_on"] = json!(super::permits::grant(tx, &actor, &updated, now).await?);
                }
                // Helsedataservice's part of the bill (intake and case handling) at the decision.
                super::invoices::draft_invoices(tx, &actor, &updated, super::invoices::Parts::Hds, vat_rate_bp, now)
                    .await?;
            }
            // The refused releases go back to their own deciders (forvaltningsloven § 33).
            Command::Appeal | Command::LateAppeal => {
                payload["releases_to_reconsider"] = json!(db::cases::mark_under_appeal(tx, id).await?);
            }
            _ => {}
        }
        record(tx, &actor, now, id, transition.event, payload).await?;
        wind_up(tx, &actor, now, &updated).await?;
        Ok(updated)
    })
    .await
}

/// What is left waiting on a case that has just ended (`State::ended`: withdrawn or closed)
/// lapses, each with its event: the revised estimates for the applicant to accept and the
/// statements asked of reviewers. Nothing for a case that goes on. Call inside the transaction
/// that moved the case, after the case's own event.
pub(crate) async fn wind_up(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    case: &Application,
) -> AppResult<()> {
    if !case.state.ended() {
        return Ok(());
    }
    super::pricing::lapse_estimates(tx, actor, now, case.id).await?;
    super::statements::lapse(tx, actor, now, case.id).await
}

/// What the officer reads before deciding: the letter as it will be sent, the statements the
/// applicant still has time to comment on (the reviewer's name and the last day), and those
/// not answered yet (the reviewer's name and the due date).
pub struct DecisionPreview {
    pub letter: String,
    pub comment_periods: Vec<(String, chrono::NaiveDate)>,
    pub unanswered: Vec<(String, chrono::NaiveDate)>,
}

/// The decision letter as it will be sent, for the officer to read before deciding, with the
/// comment periods still running: nothing is stored; refused as the decision itself would be
/// (state, role, recusal).
pub async fn preview_decision(
    conn: &mut AsyncPgConnection,
    documents: &Documents,
    user: &User,
    id: i64,
    reasons: &str,
    now: DateTime<Utc>,
) -> AppResult<DecisionPreview> {
    let (app, _) = allowed(conn, user, id, Command::Decide, now).await?;
    let letter = decision_letter(conn, documents, &app, user, reasons, now).await?.3;
    let today = crate::domain::deadlines::oslo_date(now);
    let statements = db::statements::rows(conn, db::statements::Scope::Application(id)).await?;
    let comment_periods = statements
        .iter()
        .filter_map(|r| r.statement.comment_by().filter(|by| today <= *by).map(|by| (r.reviewer_name.clone(), by)))
        .collect();
    let unanswered = statements
        .iter()
        .filter(|r| r.statement.progress() == crate::domain::statement::Progress::Open)
        .map(|r| (r.reviewer_name.clone(), r.statement.due_on))
        .collect();
    Ok(DecisionPreview { letter, comment_periods, unanswered })
}

type Letter = (String, String, String, String, chrono::NaiveDate);

/// Renders the decision letter in the applicant's language from the decided releases.
async fn decision_letter(
    conn: &mut AsyncPgConnection,
    documents: &Documents,
    app: &Application,
    officer: &User,
    reasons: &str,
    now: DateTime<Utc>,
) -> AppResult<Letter> {
    if reasons.chars().count() > 10_000 {
        return Err(AppError::field("reasons", "err-too-long"));
    }
    let applicant = db::users::by_id(conn, app.applicant_id).await?.ok_or(AppError::NotFound)?;
    let lang = Language::from_tag(&applicant.language).unwrap_or_default();
    let releases = db::cases::releases_of(conn, app.id).await?;
    let states: Vec<ReleaseState> = releases.iter().map(|r| r.release.state).collect();
    // The lifecycle refuses a decision before every release is decided; this is its outcome.
    let outcome = release::outcome(&states).unwrap_or(State::Rejected).code();
    let form = apps::form_of(app);
    // The decision is made available in the service when it is made.
    let deadline = crate::domain::deadlines::appeal_deadline(crate::domain::deadlines::oslo_date(now));
    let hds = crate::i18n::t(lang, "decider-hds");
    // The body that decided each release, by name (forvaltningsloven § 32: the appeal goes to it).
    let mut owners: Vec<(i64, String)> = vec![];
    for r in releases.iter().filter(|r| r.release.decider == DecisionAuthority::Owner) {
        let id = r.release.owner_organisation_id;
        if owners.iter().all(|(o, _)| *o != id)
            && let Some(org) = db::catalogue::organisation(conn, id).await?
        {
            let name = if lang.english() { org.name_en.unwrap_or(org.name) } else { org.name };
            owners.push((id, name));
        }
    }
    let decider = |r: &db::cases::ReleaseView| match r.release.decider {
        DecisionAuthority::Hds => hds.clone(),
        DecisionAuthority::Owner => owners
            .iter()
            .find(|(o, _)| *o == r.release.owner_organisation_id)
            .map_or_else(|| crate::i18n::t(lang, "decider-owner"), |(_, name)| name.clone()),
    };
    let data = json!({
        "reference": app.reference, "title": app.title, "applicant_name": applicant.name,
        "project_leader": form.project_leader.as_ref().map(|p| p.name.clone()), "institution": form.project_leader.as_ref().map(|p| p.institution.clone()),
        "decided_on": crate::domain::deadlines::oslo_date(now).format("%d.%m.%Y").to_string(), "appeal_deadline": deadline.format("%d.%m.%Y").to_string(),
        "outcome_key": format!("outcome-{outcome}"), "outcome_text_key": format!("outcome-text-{outcome}"),
        "reasons": reasons, "officer_name": officer.name,
        "art6": form.legal_basis.as_ref().map(|l| l.gdpr_article_6.clone()), "art9": form.legal_basis.as_ref().map(|l| l.gdpr_article_9.clone()),
        "rek": form.rek_reference,
        "dispensations": releases.iter().filter(|r| r.release.dispensation && r.release.state.granted()).map(|r| json!({
            "code": r.code, "name": if lang.english() { &r.name_en } else { &r.name_nb },
            "decider": decider(r),
        })).collect::<Vec<_>>(),
        "releases": releases.iter().map(|r| json!({
            "code": r.code, "name": if lang.english() { &r.name_en } else { &r.name_nb },
            "approved": r.release.state.granted(), "conditions": r.release.conditions, "reasons": r.release.reasons,
            "decider": decider(r),
        })).collect::<Vec<_>>(),
    });
    let html = documents.render("decision", lang, data)?;
    Ok((outcome.to_string(), reasons.to_string(), lang.code().to_string(), html, deadline))
}

/// What a release decision says.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReleaseDecision {
    pub approve: Option<bool>,
    pub conditions: Option<String>,
    pub reasons: Option<String>,
    /// Dispensation from the duty of confidentiality granted with the release (a decision of
    /// its own in the letter); only with an approval.
    pub dispensation: Option<bool>,
}

/// A decider's reconsideration of a release refused in an appealed decision.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Reconsideration {
    /// true: the refusal is reversed (the release is granted); false: upheld.
    pub reverse: Option<bool>,
    pub conditions: Option<String>,
    pub reasons: Option<String>,
}

/// Helseklage's outcome, recorded by a case officer.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct HelseklageAnswer {
    /// `upheld`, `reversed` or `partly_reversed`.
    pub outcome: Option<String>,
    /// The date of Helseklage's decision (YYYY-MM-DD).
    pub decided_on: Option<String>,
    /// Helseklage's case reference.
    pub reference: Option<String>,
    /// The releases whose refusal was reversed (for `partly_reversed`).
    pub release_ids: Vec<i64>,
}

/// Loads a release for `user`: 404 unless they may see its application.
pub async fn load_release(
    conn: &mut AsyncPgConnection,
    user: &User,
    id: i64,
) -> AppResult<(Release, Application, Access)> {
    let release = db::cases::release(conn, id).await?.ok_or(AppError::NotFound)?;
    let (app, access) = apps::load(conn, user, release.application_id).await?;
    if access == Access::RegisterOwner && user.organisation_id != Some(release.owner_organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok((release, app, access))
}

/// The user as the release rules see a person.
pub fn person(user: &User) -> release::Person {
    release::Person { id: user.id, role: user.role, organisation_id: user.organisation_id }
}

/// The release rules' view of a stored release.
pub fn release_facts(r: &Release) -> release::Release {
    release::Release { state: r.state, decider: r.decider, owner_organisation_id: r.owner_organisation_id }
}

/// How `user` is tied to `app`, for recusal.
async fn ties(conn: &mut AsyncPgConnection, user: &User, app: &Application) -> AppResult<release::Ties> {
    let is_member = app.applicant_id != user.id && db::applications::is_member(conn, app.id, &user.email).await?;
    Ok(release::Ties { applicant_id: app.applicant_id, is_member })
}

/// Approves (with conditions) or rejects (with reasons) a release, by its decider only.
pub async fn decide_release(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    input: ReleaseDecision,
    now: DateTime<Utc>,
) -> AppResult<Release> {
    let (stored, app, _) = load_release(conn, user, id).await?;
    let me = person(user);
    let ties = ties(conn, user, &app).await?;
    // Checked before the input (who and when first), and again under the locks below.
    release::decide(&release_facts(&stored), app.state, me, ties, true).map_err(refusal)?;
    let mut errors = FieldErrors::new();
    let approve = input.approve;
    if approve.is_none() {
        errors.add("approve", "err-required");
    }
    let conditions = errors.text("conditions", input.conditions.as_deref().unwrap_or(""), 0, 4000);
    let reasons = errors.text(
        "reasons",
        input.reasons.as_deref().unwrap_or(""),
        if approve == Some(false) { 1 } else { 0 },
        4000,
    );
    if input.dispensation == Some(true) && approve != Some(true) {
        errors.add("dispensation", "err-dispensation-with-approval");
    }
    errors.into_result().map_err(AppError::Validation)?;
    let approve = approve.unwrap_or(false);
    let dispensation = input.dispensation == Some(true);
    let (actor, decider) = (actor.clone(), user.id);
    on_case(conn, app.id, Seen::ANY, async move |tx, case| {
        // The application is locked first (as in every case command), then the release.
        super::pricing::require_no_pending_estimate(tx, app.id).await?;
        let current = db::cases::lock_release(tx, id).await?.ok_or(AppError::NotFound)?;
        let transition = release::decide(&release_facts(&current), case.state, me, ties, approve).map_err(refusal)?;
        let decided =
            db::cases::decide_release(tx, id, transition.to, &conditions, &reasons, dispensation, decider, now).await?;
        let payload = json!({"release_id": id, "data_source_id": decided.data_source_id, "approved": approve, "conditions": conditions, "reasons": reasons, "dispensation": dispensation});
        record(tx, &actor, now, decided.application_id, transition.event, payload).await?;
        Ok(decided)
    })
    .await
}

/// The decider of a release refused in an appealed decision reconsiders it (forvaltningsloven
/// § 33): reversed (granted, with conditions) or upheld (with reasons). When the last refusal is
/// reconsidered, what follows is applied in the same transaction (see `domain::appeal::next`):
/// all reversed, the case is decided anew; any upheld, the case goes to Helseklage.
pub async fn reconsider_release(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    input: Reconsideration,
    now: DateTime<Utc>,
) -> AppResult<Release> {
    let (stored, app, _) = load_release(conn, user, id).await?;
    let me = person(user);
    let ties = ties(conn, user, &app).await?;
    let reverse = input.reverse;
    appeal::reconsider(&release_facts(&stored), stored.reconsideration, app.state, me, ties, reverse.unwrap_or(true))
        .map_err(refusal)?;
    let mut errors = FieldErrors::new();
    if reverse.is_none() {
        errors.add("reverse", "err-required");
    }
    let conditions = errors.text("conditions", input.conditions.as_deref().unwrap_or(""), 0, 4000);
    let reasons = errors.text("reasons", input.reasons.as_deref().unwrap_or(""), 1, 4000);
    errors.into_result().map_err(AppError::Validation)?;
    let reverse = reverse.unwrap_or(false);
    let (actor, by) = (actor.clone(), user.id);
    on_case(conn, app.id, Seen::ANY, async move |tx, case| {
        let current = db::cases::lock_release(tx, id).await?.ok_or(AppError::NotFound)?;
        let transition = appeal::reconsider(&release_facts(&current), current.reconsideration, case.state, me, ties, reverse)
            .map_err(refusal)?;
        let result = if reverse { appeal::Reconsideration::Reversed } else { appeal::Reconsideration::Upheld };
        let (conditions, reasons) = if reverse { (conditions, reasons) } else { (current.conditions.clone(), reasons) };
        let done = db::cases::reconsider_release(tx, id, transition.to, result, &conditions, &reasons, by, now).await?;
        let payload = json!({"release_id": id, "data_source_id": done.data_source_id, "reconsideration": result.code(), "conditions": conditions, "reasons": reasons});
        record(tx, &actor, now, case.id, transition.event, payload).await?;
        let all = db::cases::releases_of(tx, case.id).await?;
        let facts: Vec<_> = all.iter().map(|r| (r.release.state, r.release.reconsideration)).collect();
        let system = Actor::system();
        match appeal::next(&facts) {
            appeal::Next::Waiting => {}
            appeal::Next::DecideAnew => {
                let changes = CaseChanges { state: Some(State::InReview.code()), ..CaseChanges::default() };
                db::cases::update_case(tx, &case, &changes, now).await?;
                record(tx, &system, now, case.id, "appeal.reconsidered", json!({"from": case.state, "to": State::InReview})).await?;
            }
            appeal::Next::ToHelseklage { outcome } => {
                let changes = CaseChanges {
                    state: Some(outcome.code()),
                    sent_to_helseklage_at: Some(now),
                    ..CaseChanges::default()
                };
                db::cases::update_case(tx, &case, &changes, now).await?;
                // What Helseklage needs: the appeal, the decision and the case file.
                let upheld: Vec<i64> = all
                    .iter()
                    .filter(|r| r.release.reconsideration == Some(appeal::Reconsideration::Upheld))
                    .map(|r| r.release.id)
                    .collect();
                let payload = json!({
                    "from": case.state, "to": outcome, "sent_to": "Helseklage",
                    "appeal_grounds": case.appeal_grounds, "upheld_releases": upheld,
                    "decision": format!("/applications/{}/decision", case.id),
                    "case_file": format!("/api/applications/{}/archive", case.id),
                });
                record(tx, &system, now, case.id, "appeal.upheld", payload).await?;
            }
        }
        Ok(done)
    })
    .await
}

/// Records Helseklage's outcome and applies it: a reversal (whole or in part) grants the
/// releases whose refusal was upheld, so they can be delivered.
pub async fn record_helseklage(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    input: HelseklageAnswer,
    now: DateTime<Utc>,
) -> AppResult<Application> {
    let (app, _) = apps::load(conn, user, id).await?;
    if user.role != Role::CaseOfficer {
        return Err(AppError::Forbidden("err-role-may-not".into()));
    }
    if app.sent_to_helseklage_at.is_none() || db::cases::helseklage_of(conn, id).await?.is_some() {
        return Err(AppError::Conflict("err-helseklage-not-waiting".into()));
    }
    let mut errors = FieldErrors::new();
    let outcome = input.outcome.as_deref().and_then(appeal::HelseklageOutcome::from_code);
    if outcome.is_none() {
        errors.add("outcome", "err-choice");
    }
    let today = crate::domain::deadlines::oslo_date(now);
    let decided_on = errors.past_day("decided_on", input.decided_on.as_deref().unwrap_or(""), today);
    let reference = errors.text("reference", input.reference.as_deref().unwrap_or(""), 1, 100);
    errors.into_result().map_err(AppError::Validation)?;
    let (outcome, decided_on) = (outcome.unwrap_or(appeal::HelseklageOutcome::Upheld), decided_on.unwrap_or_default());
    let (actor, officer) = (actor.clone(), user.id);
    on_case(conn, id, Seen::ANY, async move |tx, case| {
        if db::cases::helseklage_of(tx, id).await?.is_some() {
            return Err(AppError::Conflict("err-helseklage-not-waiting".into()));
        }
        let all = db::cases::releases_of(tx, id).await?;
        let upheld: Vec<i64> = all
            .iter()
            .filter(|r| r.release.reconsideration == Some(appeal::Reconsideration::Upheld))
            .map(|r| r.release.id)
            .collect();
        let grants = appeal::helseklage_grants(outcome, &upheld, &input.release_ids)
            .map_err(|k| AppError::field("release_ids", k))?;
        db::cases::grant_releases(tx, &grants).await?;
        let answer = db::cases::HelseklageOutcome {
            application_id: id,
            outcome,
            decided_on,
            reference: reference.clone(),
            recorded_by: officer,
            recorded_at: now,
        };
        db::cases::record_helseklage(tx, &answer).await?;
        // The releases as they stand now: those Helseklage reversed are granted.
        let states: Vec<ReleaseState> = all
            .iter()
            .map(|r| if grants.contains(&r.release.id) { ReleaseState::Approved } else { r.release.state })
            .collect();
        let to = match release::standing(&states) {
            Some(to) if case.state.granted() || matches!(case.state, State::Rejected | State::Delivered) => to,
            _ => case.state,
        };
        let changes = CaseChanges { state: Some(to.code()), ..CaseChanges::default() };
        let updated = db::cases::update_case(tx, &case, &changes, now).await?;
        let payload = json!({"from": case.state, "to": to, "outcome": outcome.code(), "decided_on": decided_on, "reference": reference, "granted_releases": grants});
        record(tx, &actor, now, id, "appeal.helseklage_decided", payload).await?;
        // A reversal that grants what was refused gives the permit.
        if to.granted() && !case.state.released_data() {
            super::permits::grant(tx, &actor, &updated, now).await?;
        }
        Ok(updated)
    })
    .await
}

/// Records delivery of an approved release as access granted in a named analysis environment;
/// when every approved release is delivered the application becomes `delivered`.
pub async fn deliver_in_environment(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    environment: &str,
    vat_rate_bp: u32,
    now: DateTime<Utc>,
) -> AppResult<Release> {
    let (stored, app, _) = load_release(conn, user, id).await?;
    let me = person(user);
    release::deliver(&release_facts(&stored), app.state, me).map_err(refusal)?;
    let environment = required_text("environment", Some(environment), 200)?;
    let (actor, by) = (actor.clone(), user.id);
    on_case(conn, app.id, Seen::ANY, async move |tx, app| {
        super::pricing::require_no_pending_estimate(tx, app.id).await?;
        let current = db::cases::lock_release(tx, id).await?.ok_or(AppError::NotFound)?;
        let transition = release::deliver(&release_facts(&current), app.state, me).map_err(refusal)?;
        let delivered = db::cases::deliver_release(tx, id, Some(&environment), by, now).await?;
        let payload = json!({"release_id": id, "environment": environment});
        record(tx, &actor, now, app.id, transition.event, payload).await?;
        finish_if_all_delivered(tx, &actor, &app, vat_rate_bp, now).await?;
        Ok(delivered)
    })
    .await
}

/// Moves the application to `delivered` (stopping the KPI clock) once every approved release is:
/// the lifecycle's `deliver` command, given by the system on the delivering owner's behalf.
/// The application must be locked by the caller's transaction.
pub async fn finish_if_all_delivered(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    app: &Application,
    vat_rate_bp: u32,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let facts = case_of(tx, app).await?;
    let system = case::Actor { id: 0, role: Role::RegisterOwner };
    let Ok(transition) = case::apply(&facts, Command::Deliver, system, now) else { return Ok(()) };
    let changes = CaseChanges { state: Some(transition.to.code()), delivered_at: Some(now), ..CaseChanges::default() };
    let updated = db::cases::update_case(tx, app, &changes, now).await?;
    record(tx, actor, now, app.id, transition.event, json!({"from": app.state})).await?;
    // The register owners' parts of the bill (their hours and deliveries) at delivery.
    super::invoices::draft_invoices(tx, actor, &updated, super::invoices::Parts::Owners, vat_rate_bp, now).await?;
    Ok(())
}

/// Sends the interim replies (foreløpig svar) that are due: a case unanswered a month after
/// submission, an appeal a month after it was lodged (see `domain::interim`), each saying why it
/// takes longer and when an answer can be expected.
pub async fn send_interim_replies(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<usize> {
    let due = db::cases::due_for_interim_reply(conn, now - interim::waited_too_long()).await?;
    let mut sent = 0;
    for app in due {
        let done = on_case(conn, app.id, Seen::ANY, async move |tx, current| {
            let facts = interim::InterimFacts {
                state: Some(current.state),
                first_submitted_at: current.first_submitted_at,
                interim_reply_at: current.interim_reply_at,
                appealed_at: current.appealed_at,
                appeal_interim_reply_at: current.appeal_interim_reply_at,
            };
            let Some(reply) = interim::due(&facts, now) else { return Ok(false) };
            let owners_deciding = db::cases::releases_of(tx, current.id)
                .await?
                .iter()
                .any(|r| r.release.state == ReleaseState::Pending && r.release.decider == DecisionAuthority::Owner);
            let appeal = reply == interim::InterimReply::Appeal;
            db::cases::mark_interim_reply(tx, current.id, appeal, now).await?;
            let expected = interim::expected_by(current.due_date, now);
            let payload = json!({
                "expected_by": expected.format("%d.%m.%Y").to_string(),
                "expected_on": expected,
                "reason": interim::reason(reply, current.state, owners_deciding),
                "appeal": appeal,
            });
            record(tx, &Actor::system(), now, current.id, "application.interim_reply", payload).await?;
            Ok(true)
        })
        .await;
        // An application deleted meanwhile has nothing to reply to.
        let done = match done {
            Err(AppError::NotFound) => false,
            other => other?,
        };
        sent += usize::from(done);
    }
    Ok(sent)
}

/// The officers' inbox as read: the cases that match the filter (each saying whether a revised
/// estimate waits for the applicant), the count per state and the sources (for the filter).
pub struct Inbox {
    /// One page of the matching cases, and how many match in all.
    pub cases: Vec<InboxRow>,
    pub total: i64,
    pub counts: Vec<(String, i64)>,
    pub sources: Vec<(DataSource, Organisation)>,
}

/// Reads page `page` of the officers' inbox with `filter`.
pub async fn inbox(conn: &mut AsyncPgConnection, filter: &InboxFilter, page: Page) -> AppResult<Inbox> {
    // The reads do not depend on each other: sent together (pipelined, issue 25).
    let shared: &AsyncPgConnection = conn;
    let count = async {
        // A filter on the state alone is counted from the kept counts per state.
        if filter.by_state_only() { Ok(None) } else { db::cases::inbox_count(shared, filter).await.map(Some) }
    };
    let (cases, counts, count, sources) = tokio::try_join!(
        biased;
        super::read(db::cases::inbox(shared, filter, page)),
        super::read(db::cases::counts_by_state(shared)),
        super::read(count),
        super::read(db::catalogue::sources(shared, None)),
    )?;
    let total =
        count.unwrap_or_else(|| counts.iter().filter(|(state, _)| filter.states.shows(state)).map(|(_, n)| n).sum());
    Ok(Inbox { cases, total, counts, sources })
}

/// How many cases of the inbox's export are read and sent at a time.
pub const EXPORT_SLICE: usize = 1000;

/// Sends every case that matches `filter`, in its order with its assignee's name, to `out`,
/// [`EXPORT_SLICE`] at a time, as the database sends them: the officers' export, whole at any
/// size (it stopped at 10 000 before) and never all in memory. Stops early, with nothing to
/// undo, when `out` closes (the download was broken off). An error is sent as the last item.
pub async fn inbox_export(
    conn: &mut AsyncPgConnection,
    filter: &InboxFilter,
    out: tokio::sync::mpsc::Sender<AppResult<Vec<db::cases::ExportRow>>>,
) {
    use rocket::futures::TryStreamExt;
    let rows = match db::cases::inbox_export(conn, filter).await {
        Ok(rows) => rows,
        Err(e) => {
            let _ = out.send(Err(e.into())).await;
            return;
        }
    };
    let mut slices = std::pin::pin!(rows.try_chunks(EXPORT_SLICE));
    let mut sent = false;
    while let Some(slice) = slices.try_next().await.transpose() {
        let slice = slice.map_err(|e| AppError::from(e.1));
        let failed = slice.is_err();
        if out.send(slice).await.is_err() || failed {
            return;
        }
        sent = true;
    }
    if !sent {
        // Nothing matches: one empty slice all the same, so that the download starts.
        let _ = out.send(Ok(vec![])).await;
    }
}

/// One page of a register owner's queue.
pub struct Queue {
    /// The page's releases.
    pub rows: Vec<db::cases::QueueRow>,
    /// How many releases the organisation has in each state.
    pub counts: Vec<(ReleaseState, i64)>,
    /// How many pages the shown state (or all) fills.
    pub pages: i64,
}

/// Page `page` of `org`'s releases, of `state` or all: the register owner's queue.
pub async fn queue(
    conn: &mut AsyncPgConnection,
    org: i64,
    state: Option<ReleaseState>,
    page: Page,
) -> AppResult<Queue> {
    let counts = db::cases::release_counts(conn, org).await?;
    let total = counts.iter().filter(|(s, _)| state.is_none_or(|state| state == *s)).map(|(_, n)| n).sum();
    let rows = db::cases::release_queue(conn, org, state, (page.offset, page.size)).await?;
    Ok(Queue { rows, counts, pages: Page::count(total, page.size) })
}

/// An application `user` may see and its latest decision (404 without one).
pub async fn decision_of(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<(Application, Decision)> {
    let (app, _) = apps::load(conn, user, id).await?;
    let decision = db::cases::latest_decision(conn, id).await?.ok_or(AppError::NotFound)?;
    Ok((app, decision))
}
