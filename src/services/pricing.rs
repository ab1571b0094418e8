//! User payment commands: estimates (computed, revised, accepted) and time records. Price
//! list administration lives in `price_lists`, the bill in `invoices`.

use super::Actor;
use super::applications::{self as apps, Access, record};
use super::command::{Seen, on_case};
use crate::db::{
    self,
    applications::Application,
    billing::{EstimateRow, Invoice, NewEstimate, TimeRecord},
    catalogue::Organisation,
    users::User,
};
use crate::domain::case::State;
use crate::domain::fields::FieldErrors;
use crate::domain::form::ApplicationForm;
use crate::domain::pricing::{self, CaseFacts, Estimate, Line, PriceList, SourceFact};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;

/// The message refusing to go on while a revised estimate waits.
pub const PENDING_ESTIMATE: &str = "err-estimate-pending";

/// Helsedataservice's own organisation (an installation without one charges no intake or case
/// handling, and officers cannot record hours until an admin marks it).
pub async fn hds_organisation(conn: &mut AsyncPgConnection) -> AppResult<Option<Organisation>> {
    Ok(db::catalogue::organisations(conn).await?.into_iter().find(|o| o.is_hds))
}

/// The organisation a user records hours and estimates for: officers count for
/// Helsedataservice, register owners for their own organisation.
async fn working_organisation(conn: &mut AsyncPgConnection, user: &User, access: Access) -> AppResult<i64> {
    match access {
        Access::CaseOfficer => hds_organisation(conn)
            .await?
            .map(|o| o.id)
            .ok_or_else(|| AppError::Conflict("err-no-hds-organisation".into())),
        Access::RegisterOwner => user.organisation_id.ok_or(AppError::NotFound),
        _ => Err(AppError::Forbidden("err-work-staff-only".into())),
    }
}

/// What pricing needs to know of a form: its sources (owner, authority) and exemption.
pub async fn case_facts(conn: &AsyncPgConnection, form: &ApplicationForm) -> AppResult<CaseFacts> {
    let ids = form.source_ids();
    let sources = db::catalogue::sources_by_ids(conn, &ids)
        .await?
        .into_iter()
        .map(|s| SourceFact {
            code: s.code,
            owner_id: s.owner_id,
            hds_authority: s.decision_authority == crate::domain::catalogue::DecisionAuthority::Hds,
        })
        .collect();
    Ok(CaseFacts { sources, exemption: form.fee_exemption().map(str::to_string) })
}

/// The estimate of a form from the versions in force on `day` (before submission: intake fee
/// and the hourly rates that come on top).
pub async fn estimate_form(conn: &AsyncPgConnection, form: &ApplicationForm, day: NaiveDate) -> AppResult<Estimate> {
    let (orgs, (versions, facts)) =
        tokio::try_join!(biased; super::read(db::catalogue::organisations(conn)), pricing_inputs(conn, form))?;
    Ok(form_estimate(&versions, &orgs, &facts, day))
}

/// What an estimate reads besides the organisations: the published versions and the form's
/// [`case_facts`], sent together (pipelined).
pub async fn pricing_inputs(
    conn: &AsyncPgConnection,
    form: &ApplicationForm,
) -> AppResult<(Vec<PriceList>, CaseFacts)> {
    tokio::try_join!(biased; super::read(db::pricing::published(conn)), case_facts(conn, form))
}

/// As [`estimate_form`], with the organisations already read.
pub async fn estimate_form_among(
    conn: &AsyncPgConnection,
    form: &ApplicationForm,
    day: NaiveDate,
    orgs: &[Organisation],
) -> AppResult<Estimate> {
    let (versions, facts) = pricing_inputs(conn, form).await?;
    Ok(form_estimate(&versions, orgs, &facts, day))
}

/// The estimate of a form's facts from the versions in force on `day`.
fn form_estimate(versions: &[PriceList], orgs: &[Organisation], facts: &CaseFacts, day: NaiveDate) -> Estimate {
    // Without Helsedataservice's organisation no list matches id 0: no intake fee.
    let hds = orgs.iter().find(|o| o.is_hds).map_or(0, |o| o.id);
    pricing::estimate(versions, hds, facts, &[], day)
}

/// The latest revised estimate of each organisation that counts: accepted, or waiting (an
/// accepted one is never superseded, so a lapsed one leaves the one accepted before it).
fn latest_per_organisation(rows: &[EstimateRow]) -> Vec<&EstimateRow> {
    let mut latest: Vec<&EstimateRow> = vec![];
    for r in rows.iter().filter(|r| r.superseded_at.is_none() && r.lapsed_at.is_none()) {
        latest.retain(|l| l.organisation_id != r.organisation_id);
        latest.push(r);
    }
    latest
}

/// The estimate of an application: the intake fee at (first) submission — or today for a
/// draft — plus each organisation's latest revised estimate.
pub async fn estimate_application(conn: &mut AsyncPgConnection, app: &Application) -> AppResult<Estimate> {
    let orgs = db::catalogue::organisations(conn).await?;
    let revised = db::billing::estimates_of(conn, app.id).await?;
    estimate_application_from(conn, app, &orgs, &revised).await
}

/// As [`estimate_application`], with the organisations and the application's revised
/// estimates already read (pages that show them too).
pub async fn estimate_application_from(
    conn: &AsyncPgConnection,
    app: &Application,
    orgs: &[Organisation],
    revised: &[EstimateRow],
) -> AppResult<Estimate> {
    let (versions, facts) = pricing_inputs(conn, &apps::form_of(app)).await?;
    Ok(estimate_application_of(app, &versions, &facts, orgs, revised))
}

/// As [`estimate_application_from`], from what it reads: the [`pricing_inputs`] of the
/// application's form.
pub fn estimate_application_of(
    app: &Application,
    versions: &[PriceList],
    facts: &CaseFacts,
    orgs: &[Organisation],
    revised: &[EstimateRow],
) -> Estimate {
    let day = crate::domain::deadlines::oslo_date(app.first_submitted_at.unwrap_or_else(Utc::now));
    let mut estimate = form_estimate(versions, orgs, facts, day);
    for r in latest_per_organisation(revised) {
        let lines: Vec<Line> = serde_json::from_value(r.lines.clone()).unwrap_or_default();
        estimate.lines.extend(lines);
    }
    estimate.total_ore = estimate.lines.iter().map(|l| l.amount_ore).sum();
    estimate
}

/// What a revised estimate says.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RevisedEstimate {
    /// Estimated hours ("12", "7.5", "7:30").
    pub hours: Option<serde_json::Value>,
    /// Or estimated minutes.
    pub minutes: Option<i64>,
    /// Amounts not priced by the hour (e.g. a fixed price for an extract), in øre.
    pub lines: Vec<AmountLine>,
    /// Why the estimate changes (shown to the applicant).
    pub message: Option<String>,
}

/// A fixed amount in a revised estimate.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(default)]
pub struct AmountLine {
    pub description: Option<String>,
    pub amount_ore: Option<i64>,
}

fn duration_of(value: Option<&serde_json::Value>, minutes: Option<i64>, field: &str, errors: &mut FieldErrors) -> i64 {
    let parsed = match (value, minutes) {
        (_, Some(m)) => Some(m),
        (Some(serde_json::Value::String(s)), None) => pricing::parse_duration(s),
        // A JSON number is read from its text, never through a float.
        (Some(serde_json::Value::Number(n)), None) => pricing::parse_duration(&n.to_string()),
        _ => None,
    };
    match parsed {
        Some(m) if m > 0 => m,
        _ => {
            errors.add(field, "err-duration");
            0
        }
    }
}

pub use crate::domain::case::ESTIMATE_STATES;

/// An owner or case officer sends a revised estimate of their organisation's work; the case
/// waits until the applicant accepts it.
pub async fn revise_estimate(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    input: RevisedEstimate,
    now: DateTime<Utc>,
) -> AppResult<EstimateRow> {
    let (app, access) = apps::load(conn, user, id).await?;
    let organisation_id = working_organisation(conn, user, access).await?;
    if !ESTIMATE_STATES.contains(&app.state) {
        return Err(AppError::Conflict("err-estimate-case-open".into()));
    }
    let mut errors = FieldErrors::new();
    // Hours, fixed amounts, or both; at least one of them.
    let hours_given = input.hours.is_some() || input.minutes.is_some() || input.lines.is_empty();
    let minutes = if hours_given { duration_of(input.hours.as_ref(), input.minutes, "hours", &mut errors) } else { 0 };
    let message = errors.text("message", input.message.as_deref().unwrap_or(""), 1, 4000);
    if minutes > 100_000 * 60 {
        errors.add("hours", "err-duration");
    }
    let mut fixed: Vec<Line> = vec![];
    if input.lines.len() > 20 {
        errors.add_n("lines", "err-too-many", 20);
    }
    for (i, l) in input.lines.iter().enumerate() {
        let description =
            errors.text(&format!("lines.{i}.description"), l.description.as_deref().unwrap_or(""), 1, 300);
        let amount_ore = match l.amount_ore {
            Some(a) if (0..=10_000_000_000).contains(&a) => a,
            _ => {
                errors.add(format!("lines.{i}.amount_ore"), "err-amount");
                0
            }
        };
        fixed.push(Line {
            organisation_id,
            price_list_id: None,
            item_code: "estimate".into(),
            description_nb: description.clone(),
            description_en: description,
            unit: "fixed".into(),
            quantity: 1,
            unit_ore: amount_ore,
            amount_ore,
            exempt: None,
        });
    }
    errors.into_result().map_err(AppError::Validation)?;
    let versions = db::pricing::published(conn).await?;
    let facts = case_facts(conn, &apps::form_of(&app)).await?;
    let mut lines = vec![];
    if minutes > 0 {
        let list = pricing::in_force(&versions, organisation_id, crate::domain::deadlines::oslo_date(now))
            .filter(|l| pricing::hourly_item(l, &facts).is_some())
            .ok_or_else(|| AppError::field("hours", "err-no-hourly-price"))?;
        lines = pricing::work_lines(list, &facts, minutes, 0);
    }
    lines.extend(fixed);
    let total_ore: i64 = lines.iter().map(|l| l.amount_ore).sum();
    let (actor, by) = (actor.clone(), user.id);
    on_case(conn, id, Seen::ANY, async move |tx, current| {
        if !ESTIMATE_STATES.contains(&current.state) {
            return Err(AppError::Conflict("err-estimate-case-open".into()));
        }
        let new = NewEstimate {
            application_id: id,
            organisation_id,
            minutes: minutes as i32,
            lines: serde_json::to_value(&lines).unwrap_or_default(),
            total_ore,
            message: &message,
            created_by: by,
        };
        let row = db::billing::insert_estimate(tx, &new, now).await?;
        let payload = json!({"estimate_id": row.id, "organisation_id": organisation_id, "total_ore": total_ore, "minutes": minutes});
        record(tx, &actor, now, id, "estimate.revised", payload).await?;
        Ok(row)
    })
    .await
}

/// The applicant accepts every pending revised estimate; each acceptance is an event and the
/// application's accepted estimate becomes the new total.
pub async fn accept_estimate(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<EstimateRow>> {
    let (app, access) = apps::load(conn, user, id).await?;
    if access != Access::Applicant {
        return Err(AppError::Forbidden("err-estimate-applicant-accepts".into()));
    }
    if !db::billing::has_pending_estimate(conn, id).await? {
        return Err(AppError::Conflict("err-no-estimate-waiting".into()));
    }
    let (actor, by) = (actor.clone(), user.id);
    let accepted = on_case(conn, id, Seen::ANY, async move |tx, _| {
        let accepted = db::billing::accept_estimates(tx, id, by, now).await?;
        if accepted.is_empty() {
            return Err(AppError::Conflict("err-no-estimate-waiting".into()));
        }
        for e in &accepted {
            record(tx, &actor, now, id, "estimate.accepted", json!({"estimate_id": e.id})).await?;
        }
        let total = estimate_application(tx, &app).await?.total_ore;
        db::billing::set_accepted_estimate(tx, id, total, now).await?;
        Ok(accepted)
    })
    .await?;
    Ok(accepted)
}

/// The revised estimates of an ended case still waiting for the applicant lapse, each with its
/// event: nothing is left for the applicant to accept. Called by `cases::wind_up`, inside the
/// transaction that ends the case.
pub async fn lapse_estimates(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    case_id: i64,
) -> AppResult<()> {
    for e in db::billing::lapse_estimates(tx, case_id, now).await? {
        let payload = json!({"estimate_id": e.id, "organisation_id": e.organisation_id, "total_ore": e.total_ore});
        record(tx, actor, now, case_id, "estimate.lapsed", payload).await?;
    }
    Ok(())
}

/// Refuses to go on while a revised estimate waits (call inside the case's transaction).
pub async fn require_no_pending_estimate(tx: &mut AsyncPgConnection, application_id: i64) -> AppResult<()> {
    if db::billing::has_pending_estimate(tx, application_id).await? {
        return Err(AppError::Conflict(PENDING_ESTIMATE.into()));
    }
    Ok(())
}

/// What a time record says.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Hours {
    /// "1:30", "1.5" or a number of hours.
    pub hours: Option<serde_json::Value>,
    /// "1:30" (hours:minutes).
    pub hours_minutes: Option<String>,
    /// Or whole minutes.
    pub minutes: Option<i64>,
    pub note: Option<String>,
}

/// Records work on a case for the user's organisation (officers: Helsedataservice); work
/// during an appeal is recorded as free of charge.
pub async fn record_hours(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    input: Hours,
    now: DateTime<Utc>,
) -> AppResult<i64> {
    let (app, access) = apps::load(conn, user, id).await?;
    let organisation_id = working_organisation(conn, user, access).await?;
    let mut errors = FieldErrors::new();
    let hours = input.hours.or(input.hours_minutes.map(serde_json::Value::String));
    let minutes = duration_of(hours.as_ref(), input.minutes, "hours", &mut errors);
    if minutes > 24 * 60 {
        errors.add("hours", "err-duration-day");
    }
    let note = errors.text("note", input.note.as_deref().unwrap_or(""), 0, 1000);
    errors.into_result().map_err(AppError::Validation)?;
    if !crate::domain::case::records_work(app.state) {
        return Err(AppError::Conflict("err-work-open-cases".into()));
    }
    let (actor, by) = (actor.clone(), user.id);
    on_case(conn, id, Seen::ANY, async move |tx, current| {
        if !crate::domain::case::records_work(current.state) {
            return Err(AppError::Conflict("err-work-open-cases".into()));
        }
        let exempt = (current.state == State::Appealed).then_some("appeal");
        let record_id =
            db::billing::insert_time(tx, id, organisation_id, by, minutes as i32, &note, exempt, now).await?;
        let payload = json!({"time_record_id": record_id, "organisation_id": organisation_id, "minutes": minutes, "exempt": exempt});
        record(tx, &actor, now, id, "hours.recorded", payload).await?;
        Ok(record_id)
    })
    .await
}

/// The hours recorded on a case.
pub async fn time_records(conn: &mut AsyncPgConnection, application_id: i64) -> AppResult<Vec<TimeRecord>> {
    Ok(db::billing::time_of(conn, application_id).await?)
}

/// What the payment part of a case page shows, as read: every organisation, the revised
/// estimates, the estimate, the hours (for staff only) and the invoice parts.
pub struct Payment {
    pub organisations: Vec<Organisation>,
    pub revised: Vec<EstimateRow>,
    pub estimate: Estimate,
    pub time: Vec<TimeRecord>,
    pub parts: Vec<Invoice>,
}

/// The payment part of `app`'s case page for someone with `access`.
pub async fn payment(conn: &AsyncPgConnection, app: &Application, access: Access) -> AppResult<Payment> {
    // None of the reads depends on another: sent together (pipelined).
    let time = async { if access.sees_internal() { db::billing::time_of(conn, app.id).await } else { Ok(vec![]) } };
    let form = apps::form_of(app);
    let (organisations, revised, (versions, facts), time, parts) = tokio::try_join!(
        biased;
        super::read(db::catalogue::organisations(conn)),
        super::read(db::billing::estimates_of(conn, app.id)),
        pricing_inputs(conn, &form),
        super::read(time),
        super::read(db::billing::invoices_of(conn, app.id)),
    )?;
    let estimate = estimate_application_of(app, &versions, &facts, &organisations, &revised);
    Ok(Payment { organisations, revised, estimate, time, parts })
}
