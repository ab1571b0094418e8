//! User payment commands: estimates (computed, revised, accepted), time records, and the
//! invoice parts of the combined bill. Price list administration lives in `price_lists`.

use super::Actor;
use super::applications::{self as apps, Access, record};
use crate::db::{
    self,
    applications::Application,
    catalogue::Organisation,
    pricing::{EstimateRow, Invoice, NewEstimate, Recipient},
    users::User,
};
use crate::domain::case::State;
use crate::domain::fields::FieldErrors;
use crate::domain::form::ApplicationForm;
use crate::domain::pricing::{self, CaseFacts, Estimate, Line, SourceFact};
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};

static VAT_RATE_BP: AtomicU32 = AtomicU32::new(0);

/// Sets the VAT rate (basis points) from the validated configuration, once at start-up; kept
/// here because invoices are drafted by case commands that know nothing of the configuration.
pub fn configure_vat(rate_bp: u32) {
    VAT_RATE_BP.store(rate_bp, Ordering::Relaxed);
}

/// The configured VAT rate in basis points.
pub fn vat_rate_bp() -> u32 {
    VAT_RATE_BP.load(Ordering::Relaxed)
}

/// The message refusing to go on while a revised estimate waits.
pub const PENDING_ESTIMATE: &str =
    "a revised price estimate waits for the applicant's acceptance; the case goes on once it is accepted";

/// Helsedataservice's own organisation.
pub async fn hds_organisation(conn: &mut AsyncPgConnection) -> AppResult<Organisation> {
    db::catalogue::organisations(conn)
        .await?
        .into_iter()
        .find(|o| o.is_hds)
        .ok_or_else(|| AppError::Internal("no organisation is marked as Helsedataservice".into()))
}

/// The organisation a user records hours and estimates for: officers count for
/// Helsedataservice, register owners for their own organisation.
async fn working_organisation(conn: &mut AsyncPgConnection, user: &User, access: Access) -> AppResult<i64> {
    match access {
        Access::CaseOfficer => Ok(hds_organisation(conn).await?.id),
        Access::RegisterOwner => user.organisation_id.ok_or(AppError::NotFound),
        _ => Err(AppError::Forbidden("only case officers and register owners record work and estimates".into())),
    }
}

/// What pricing needs to know of a form: its sources (owner, authority) and exemption.
pub async fn case_facts(conn: &mut AsyncPgConnection, form: &ApplicationForm) -> AppResult<CaseFacts> {
    let ids = form.source_ids();
    let sources = db::catalogue::sources(conn, None)
        .await?
        .into_iter()
        .filter(|(s, _)| ids.contains(&s.id))
        .map(|(s, _)| SourceFact { code: s.code, owner_id: s.owner_id, hds_authority: s.decision_authority == "hds" })
        .collect();
    Ok(CaseFacts { sources, exemption: form.fee_exemption().map(str::to_string) })
}

/// The estimate of a form from the versions in force on `day` (before submission: intake fee
/// and the hourly rates that come on top).
pub async fn estimate_form(
    conn: &mut AsyncPgConnection,
    form: &ApplicationForm,
    day: NaiveDate,
) -> AppResult<Estimate> {
    let versions = db::pricing::published(conn).await?;
    let hds = hds_organisation(conn).await?;
    let facts = case_facts(conn, form).await?;
    Ok(pricing::estimate(&versions, hds.id, &facts, &[], day))
}

/// The latest (not superseded) revised estimate of each organisation.
fn latest_per_organisation(rows: &[EstimateRow]) -> Vec<&EstimateRow> {
    let mut latest: Vec<&EstimateRow> = vec![];
    for r in rows.iter().filter(|r| r.superseded_at.is_none()) {
        latest.retain(|l| l.organisation_id != r.organisation_id);
        latest.push(r);
    }
    latest
}

/// The estimate of an application: the intake fee at (first) submission — or today for a
/// draft — plus each organisation's latest revised estimate.
pub async fn estimate_application(conn: &mut AsyncPgConnection, app: &Application) -> AppResult<Estimate> {
    let day = app.first_submitted_at.unwrap_or_else(Utc::now).date_naive();
    let mut estimate = estimate_form(conn, &apps::form_of(app), day).await?;
    let revised = db::pricing::estimates_of(conn, app.id).await?;
    for r in latest_per_organisation(&revised) {
        let lines: Vec<Line> = serde_json::from_value(r.lines.clone()).unwrap_or_default();
        estimate.lines.extend(lines);
    }
    estimate.total_ore = estimate.lines.iter().map(|l| l.amount_ore).sum();
    Ok(estimate)
}

/// What a revised estimate says.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct RevisedEstimate {
    /// Estimated hours ("12", "7.5", "7:30").
    pub hours: Option<serde_json::Value>,
    /// Or estimated minutes.
    pub minutes: Option<i64>,
    /// Why the estimate changes (shown to the applicant).
    pub message: Option<String>,
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

const ESTIMATE_STATES: [&str; 6] = ["submitted", "returned", "in_review", "appealed", "approved", "partially_approved"];

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
    if !ESTIMATE_STATES.contains(&app.state.as_str()) {
        return Err(AppError::Conflict("a revised estimate is sent while the case is open".into()));
    }
    let mut errors = FieldErrors::new();
    let minutes = duration_of(input.hours.as_ref(), input.minutes, "hours", &mut errors);
    let message = errors.text("message", input.message.as_deref().unwrap_or(""), 1, 4000);
    if minutes > 100_000 * 60 {
        errors.add("hours", "err-duration");
    }
    errors.into_result().map_err(AppError::Validation)?;
    let versions = db::pricing::published(conn).await?;
    let facts = case_facts(conn, &apps::form_of(&app)).await?;
    let Some(list) = pricing::in_force(&versions, organisation_id, now.date_naive()) else {
        return Err(AppError::field("hours", "err-no-hourly-price"));
    };
    if pricing::hourly_item(list, &facts).is_none() {
        return Err(AppError::field("hours", "err-no-hourly-price"));
    }
    let lines = pricing::work_lines(list, &facts, minutes, 0);
    let total_ore: i64 = lines.iter().map(|l| l.amount_ore).sum();
    let (actor, by) = (actor.clone(), user.id);
    conn.transaction::<_, AppError, _>(async move |tx| {
        let current = db::applications::lock(tx, id).await?.ok_or(AppError::NotFound)?;
        if !ESTIMATE_STATES.contains(&current.state.as_str()) {
            return Err(AppError::Conflict("a revised estimate is sent while the case is open".into()));
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
        let row = db::pricing::insert_estimate(tx, &new, now).await?;
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
        return Err(AppError::Forbidden("only the applicant accepts an estimate".into()));
    }
    if !db::pricing::has_pending_estimate(conn, id).await? {
        return Err(AppError::Conflict("no revised estimate waits for your acceptance".into()));
    }
    let (actor, by) = (actor.clone(), user.id);
    let accepted = conn
        .transaction::<_, AppError, _>(async move |tx| {
            db::applications::lock(tx, id).await?.ok_or(AppError::NotFound)?;
            let accepted = db::pricing::accept_estimates(tx, id, by, now).await?;
            if accepted.is_empty() {
                return Err(AppError::Conflict("no revised estimate waits for your acceptance".into()));
            }
            for e in &accepted {
                record(tx, &actor, now, id, "estimate.accepted", json!({"estimate_id": e.id})).await?;
            }
            let total = estimate_application(tx, &app).await?.total_ore;
            db::pricing::set_accepted_estimate(tx, id, total, now).await?;
            Ok(accepted)
        })
        .await?;
    Ok(accepted)
}

/// Refuses to go on while a revised estimate waits (call inside the case's transaction).
pub async fn require_no_pending_estimate(tx: &mut AsyncPgConnection, application_id: i64) -> AppResult<()> {
    if db::pricing::has_pending_estimate(tx, application_id).await? {
        return Err(AppError::Conflict(PENDING_ESTIMATE.into()));
    }
    Ok(())
}

/// What a time record says.
#[derive(Debug, Clone, Default, serde::Deserialize)]
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

const CLOSED_STATES: [&str; 3] = ["draft", "withdrawn", "closed"];

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
    if CLOSED_STATES.contains(&app.state.as_str()) {
        return Err(AppError::Conflict("work is recorded on open cases".into()));
    }
    let (actor, by) = (actor.clone(), user.id);
    conn.transaction::<_, AppError, _>(async move |tx| {
        let current = db::applications::lock(tx, id).await?.ok_or(AppError::NotFound)?;
        if CLOSED_STATES.contains(&current.state.as_str()) {
            return Err(AppError::Conflict("work is recorded on open cases".into()));
        }
        let exempt = (current.state == State::Appealed.code()).then_some("appeal");
        let record_id =
            db::pricing::insert_time(tx, id, organisation_id, by, minutes as i32, &note, exempt, now).await?;
        let payload = json!({"time_record_id": record_id, "organisation_id": organisation_id, "minutes": minutes, "exempt": exempt});
        record(tx, &actor, now, id, "hours.recorded", payload).await?;
        Ok(record_id)
    })
    .await
}

/// Which parts of the bill to (re)draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    /// Helsedataservice's intake and case handling (at the decision).
    Hds,
    /// The register owners' work and deliveries (at delivery).
    Owners,
    /// Everything (an officer's action).
    All,
}

/// Drafts (or re-drafts) invoice parts inside the caller's transaction; issued parts are kept.
/// Returns the parts drafted.
pub async fn draft_invoices(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    app: &Application,
    parts: Parts,
    now: DateTime<Utc>,
) -> AppResult<Vec<Invoice>> {
    let form = apps::form_of(app);
    let facts = case_facts(tx, &form).await?;
    let versions = db::pricing::published(tx).await?;
    let organisations = db::catalogue::organisations(tx).await?;
    let hds =
        organisations.iter().find(|o| o.is_hds).ok_or_else(|| AppError::Internal("no HDS organisation".into()))?;
    let time = db::pricing::time_of(tx, app.id).await?;
    let releases = db::cases::releases_of(tx, app.id).await?;
    let today = now.date_naive();
    let submitted_on = app.first_submitted_at.unwrap_or(now).date_naive();

    let mut wanted: Vec<i64> = vec![];
    if parts != Parts::Owners {
        wanted.push(hds.id);
    }
    if parts != Parts::Hds {
        for org in facts.sources.iter().map(|s| s.owner_id).chain(time.iter().map(|t| t.organisation_id)) {
            if org != hds.id && !wanted.contains(&org) {
                wanted.push(org);
            }
        }
    }
    let recipient = match (&form.invoice_recipient, &form.controller) {
        (Some(r), _) => Recipient {
            name: r.name.clone(),
            organisation_number: r.organisation_number.clone(),
            reference: r.reference.clone(),
        },
        (None, Some(c)) => Recipient {
            name: c.name.clone(),
            organisation_number: c.organisation_number.clone(),
            reference: String::new(),
        },
        (None, None) => Recipient { name: String::new(), organisation_number: String::new(), reference: String::new() },
    };
    let reference = app.reference.clone().unwrap_or_else(|| format!("APP-{}", app.id));
    let mut drafted = vec![];
    for org_id in wanted {
        let Some(org) = organisations.iter().find(|o| o.id == org_id) else { continue };
        let mut lines: Vec<Line> = vec![];
        if org.is_hds
            && let Some(line) =
                pricing::in_force(&versions, org.id, submitted_on).and_then(|l| pricing::intake_line(l, &facts))
        {
            lines.push(line);
        }
        if let Some(list) = pricing::in_force(&versions, org.id, today) {
            let mine = time.iter().filter(|t| t.organisation_id == org.id);
            let charged: i64 = mine.clone().filter(|t| t.exempt.is_none()).map(|t| i64::from(t.minutes)).sum();
            let appeal: i64 = mine.filter(|t| t.exempt.is_some()).map(|t| i64::from(t.minutes)).sum();
            lines.extend(pricing::work_lines(list, &facts, charged, appeal));
            let delivered = releases
                .iter()
                .filter(|r| r.release.owner_organisation_id == org.id && r.release.state == "delivered")
                .count() as i64;
            lines.extend(pricing::delivery_lines(list, &facts, delivered));
        }
        if lines.is_empty() {
            continue;
        }
        let number = format!("{reference}-{}", org.organisation_number);
        if let Some(invoice) =
            db::pricing::upsert_draft(tx, app.id, org.id, &number, &recipient, &lines, vat_rate_bp(), now).await?
        {
            let payload = json!({"invoice_id": invoice.id, "organisation_id": org.id, "total_ore": invoice.total_ore});
            record(tx, actor, now, app.id, "invoice.drafted", payload).await?;
            drafted.push(invoice);
        }
    }
    Ok(drafted)
}

/// An officer (or admin) drafts every part of the bill now.
pub async fn generate_invoices(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<Invoice>> {
    let app = load_for_invoicing(conn, user, id).await?;
    crate::web::guards::require(user, Permission::ManageInvoices)?;
    if CLOSED_STATES[..2].contains(&app.state.as_str()) {
        return Err(AppError::Conflict("a draft or withdrawn application is not invoiced".into()));
    }
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let current = db::applications::lock(tx, id).await?.ok_or(AppError::NotFound)?;
        draft_invoices(tx, &actor, &current, Parts::All, now).await
    })
    .await
}

/// Loads an application for invoice work: admins see every submitted one, others as usual.
async fn load_for_invoicing(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<Application> {
    if Role::from_code(&user.role) == Some(Role::Admin) {
        let app = db::applications::by_id(conn, id).await?.ok_or(AppError::NotFound)?;
        return if app.first_submitted_at.is_some() { Ok(app) } else { Err(AppError::NotFound) };
    }
    Ok(apps::load(conn, user, id).await?.0)
}

/// What may be done to an invoice part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceAction {
    /// draft → issued.
    Issue,
    /// issued → paid.
    Pay,
    /// draft or issued → waived, with a reason (officers and admins only).
    Waive,
}

impl InvoiceAction {
    /// Parses the action's name in the URL.
    pub fn from_code(code: &str) -> Option<InvoiceAction> {
        match code {
            "issue" => Some(InvoiceAction::Issue),
            "pay" => Some(InvoiceAction::Pay),
            "waive" => Some(InvoiceAction::Waive),
            _ => None,
        }
    }
}

/// Issues, marks paid or waives one organisation's part. Officers and admins act on every
/// part; a register owner issues and marks paid its own organisation's part.
pub async fn invoice_action(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    invoice_id: i64,
    action: InvoiceAction,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<Invoice> {
    let invoice = db::pricing::invoice(conn, invoice_id).await?.ok_or(AppError::NotFound)?;
    let app = load_for_invoicing(conn, user, invoice.application_id).await?;
    let role = Role::from_code(&user.role);
    let own_part = role == Some(Role::RegisterOwner) && user.organisation_id == Some(invoice.organisation_id);
    let allowed =
        role.is_some_and(|r| r.may(Permission::ManageInvoices)) || (own_part && action != InvoiceAction::Waive);
    if !allowed {
        return Err(AppError::Forbidden(match action {
            InvoiceAction::Waive => "only case officers and admins waive an invoice".into(),
            _ => "only case officers, admins and the part's own organisation handle this invoice".into(),
        }));
    }
    let mut errors = FieldErrors::new();
    let reason =
        if action == InvoiceAction::Waive { Some(errors.text("reason", reason.unwrap_or(""), 1, 1000)) } else { None };
    errors.into_result().map_err(AppError::Validation)?;
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        db::applications::lock(tx, app.id).await?.ok_or(AppError::NotFound)?;
        let current = db::pricing::lock_invoice(tx, invoice_id).await?.ok_or(AppError::NotFound)?;
        let (from_ok, to, kind) = match action {
            InvoiceAction::Issue => (current.status == "draft", "issued", "invoice.issued"),
            InvoiceAction::Pay => (current.status == "issued", "paid", "invoice.paid"),
            InvoiceAction::Waive => (matches!(current.status.as_str(), "draft" | "issued"), "waived", "invoice.waived"),
        };
        if !from_ok {
            return Err(AppError::Conflict(format!("an invoice that is {} cannot become {to}", current.status)));
        }
        let updated = db::pricing::set_invoice_status(tx, invoice_id, to, reason.as_deref(), now).await?;
        let payload = match action {
            InvoiceAction::Issue => json!({"invoice_id": invoice_id, "total_ore": updated.total_ore}),
            InvoiceAction::Pay => json!({"invoice_id": invoice_id, "total_ore": updated.total_ore}),
            InvoiceAction::Waive => json!({"invoice_id": invoice_id, "reason": reason}),
        };
        record(tx, &actor, now, app.id, kind, payload).await?;
        Ok(updated)
    })
    .await
}

/// The combined bill's status from its parts: the least advanced part decides.
pub fn combined_status(parts: &[Invoice]) -> &'static str {
    if parts.iter().any(|p| p.status == "draft") {
        "draft"
    } else if parts.iter().any(|p| p.status == "issued") {
        "issued"
    } else if parts.iter().all(|p| p.status == "waived") {
        "waived"
    } else {
        "paid"
    }
}

/// The EHF / PEPPOL-style UBL document of one invoice part, for whoever may see the application.
pub async fn ehf_document(conn: &mut AsyncPgConnection, user: &User, invoice_id: i64) -> AppResult<(String, String)> {
    use crate::domain::ehf::{EhfInvoice, EhfLine, Party};
    let invoice = db::pricing::invoice(conn, invoice_id).await?.ok_or(AppError::NotFound)?;
    load_for_invoicing(conn, user, invoice.application_id).await?;
    let seller = db::catalogue::organisation(conn, invoice.organisation_id).await?.ok_or(AppError::NotFound)?;
    let lines = db::pricing::lines_of(conn, &[invoice.id]).await?;
    let doc = EhfInvoice {
        number: invoice.number.clone(),
        issue_date: invoice.issued_at.unwrap_or_else(Utc::now).date_naive(),
        buyer_reference: invoice.recipient_reference.clone(),
        seller: Party { name: seller.name, organisation_number: seller.organisation_number },
        buyer: Party {
            name: invoice.recipient_name.clone(),
            organisation_number: invoice.recipient_organisation_number.clone(),
        },
        lines: lines
            .iter()
            .map(|l| EhfLine {
                name: match &l.exempt {
                    Some(e) => format!("{} (free: {e})", l.description_nb),
                    None => l.description_nb.clone(),
                },
                unit: l.unit.clone(),
                quantity: l.quantity,
                unit_ore: l.unit_ore,
                amount_ore: l.amount_ore,
            })
            .collect(),
        vat_rate_bp: invoice.vat_rate_bp.max(0) as u32,
        net_ore: invoice.net_ore,
        vat_ore: invoice.vat_ore,
        total_ore: invoice.total_ore,
    };
    Ok((invoice.number, crate::domain::ehf::invoice_xml(&doc)))
}
