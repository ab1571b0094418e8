//! Invoices: the parts of an application's combined bill, one per organisation — drafted at
//! the decision, at delivery or by an officer; issued, paid or waived; exported as EHF.

use super::Actor;
use super::applications::{self as apps, record};
use super::command::{Seen, on_case};
use super::pricing::case_facts;
use crate::db::{
    self,
    applications::Application,
    billing::{Invoice, InvoiceLine, Recipient},
    catalogue::Organisation,
    users::User,
};
use crate::domain::case::State;
use crate::domain::fields::FieldErrors;
use crate::domain::payment;
use crate::domain::pricing::{self, InvoiceStatus, Line};
use crate::domain::release::ReleaseState;
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde_json::json;

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
    vat_rate_bp: u32,
    now: DateTime<Utc>,
) -> AppResult<Vec<Invoice>> {
    let form = apps::form_of(app);
    let facts = case_facts(tx, &form).await?;
    let versions = db::pricing::published(tx).await?;
    let organisations = db::catalogue::organisations(tx).await?;
    let hds_id = organisations.iter().find(|o| o.is_hds).map_or(0, |o| o.id);
    let time = db::billing::time_of(tx, app.id).await?;
    let releases = db::cases::releases_of(tx, app.id).await?;
    let today = crate::domain::deadlines::oslo_date(now);
    let submitted_on = crate::domain::deadlines::oslo_date(app.first_submitted_at.unwrap_or(now));

    let mut wanted: Vec<i64> = vec![];
    if parts != Parts::Owners {
        wanted.push(hds_id);
    }
    if parts != Parts::Hds {
        for org in facts.sources.iter().map(|s| s.owner_id).chain(time.iter().map(|t| t.organisation_id)) {
            if org != hds_id && !wanted.contains(&org) {
                wanted.push(org);
            }
        }
    }
    let recipient = match (&form.invoice_recipient, &form.controller) {
        (Some(r), _) => Recipient {
            name: r.name.clone(),
            organisation_number: r.organisation_number.clone(),
            reference: r.reference.clone(),
            address: r.address.clone(),
            postal_code: r.postal_code.clone(),
            city: r.city.clone(),
        },
        (None, Some(c)) => Recipient {
            name: c.name.clone(),
            organisation_number: c.organisation_number.clone(),
            ..Recipient::default()
        },
        (None, None) => Recipient::default(),
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
                .filter(|r| r.release.owner_organisation_id == org.id && r.release.state == ReleaseState::Delivered)
                .count() as i64;
            lines.extend(pricing::delivery_lines(list, &facts, delivered));
        }
        if lines.is_empty() {
            continue;
        }
        let number = format!("{reference}-{}", org.organisation_number);
        if let Some(invoice) =
            db::billing::upsert_draft(tx, app.id, org.id, &number, &recipient, &lines, vat_rate_bp, now).await?
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
    vat_rate_bp: u32,
    now: DateTime<Utc>,
) -> AppResult<Vec<Invoice>> {
    let app = load_for_invoicing(conn, user, id).await?;
    super::require(user, Permission::ManageInvoices)?;
    billable(app.state)?;
    let actor = actor.clone();
    on_case(conn, id, Seen::ANY, async move |tx, current| {
        // Again on the locked case: a withdrawal may have come since it was read.
        billable(current.state)?;
        draft_invoices(tx, &actor, &current, Parts::All, vat_rate_bp, now).await
    })
    .await
}

/// No bill is drafted for a draft or a withdrawn application.
fn billable(state: State) -> AppResult<()> {
    if matches!(state, State::Draft | State::Withdrawn) {
        return Err(AppError::Conflict("err-invoice-draft-withdrawn".into()));
    }
    Ok(())
}

/// Loads an application for invoice work: admins see every submitted one, others as usual.
async fn load_for_invoicing(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<Application> {
    if user.role == Role::Admin {
        let app = db::applications::by_id(conn, id).await?.ok_or(AppError::NotFound)?;
        return if app.first_submitted_at.is_some() { Ok(app) } else { Err(AppError::NotFound) };
    }
    Ok(apps::load(conn, user, id).await?.0)
}

pub use crate::domain::pricing::InvoiceAction;

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
    let invoice = db::billing::invoice(conn, invoice_id).await?.ok_or(AppError::NotFound)?;
    let app = load_for_invoicing(conn, user, invoice.application_id).await?;
    let own_part = user.role == Role::RegisterOwner && user.organisation_id == Some(invoice.organisation_id);
    let allowed = user.role.may(Permission::ManageInvoices) || (own_part && action != InvoiceAction::Waive);
    if !allowed {
        return Err(AppError::Forbidden(match action {
            InvoiceAction::Waive => "err-invoice-waive-staff".into(),
            _ => "err-invoice-handlers".into(),
        }));
    }
    let mut errors = FieldErrors::new();
    let reason =
        if action == InvoiceAction::Waive { Some(errors.text("reason", reason.unwrap_or(""), 1, 1000)) } else { None };
    errors.into_result().map_err(AppError::Validation)?;
    let actor = actor.clone();
    on_case(conn, app.id, Seen::ANY, async move |tx, _| {
        let current = db::billing::lock_invoice(tx, invoice_id).await?.ok_or(AppError::NotFound)?;
        let (to, kind) = action.apply(current.status).ok_or_else(|| AppError::Conflict(action.refusal().into()))?;
        let updated = db::billing::set_invoice_status(tx, invoice_id, to.code(), reason.as_deref(), now).await?;
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
    let statuses: Vec<_> = parts.iter().map(|p| p.status).collect();
    crate::domain::pricing::combined_status(&statuses).code()
}

/// The EHF / PEPPOL BIS Billing 3.0 document of one invoice part, for whoever may see the
/// application. A draft is shown as if issued today.
pub async fn ehf_document(conn: &mut AsyncPgConnection, user: &User, invoice_id: i64) -> AppResult<(String, String)> {
    use crate::domain::ehf::{EhfInvoice, EhfLine, Party, Payment};
    let invoice = db::billing::invoice(conn, invoice_id).await?.ok_or(AppError::NotFound)?;
    load_for_invoicing(conn, user, invoice.application_id).await?;
    let seller = db::catalogue::organisation(conn, invoice.organisation_id).await?.ok_or(AppError::NotFound)?;
    let lines = db::billing::lines_of(conn, &[invoice.id]).await?;
    let issue_date = crate::domain::deadlines::oslo_date(invoice.issued_at.unwrap_or_else(Utc::now));
    let doc = EhfInvoice {
        number: invoice.number.clone(),
        issue_date,
        due_date: payment::due_date(issue_date),
        payment: seller.bank_account.clone().map(|account| Payment { account, kid: payment::kid(invoice.id) }),
        buyer_reference: invoice.recipient_reference.clone(),
        seller: Party { address: seller.address(), name: seller.name, organisation_number: seller.organisation_number },
        buyer: Party {
            name: invoice.recipient_name.clone(),
            organisation_number: invoice.recipient_organisation_number.clone(),
            address: invoice.recipient_postal_address(),
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

/// How a part is paid, as the bill shows it: the due date once issued, the seller's account
/// and the KID.
pub struct PaymentDetails {
    pub due_date: Option<chrono::NaiveDate>,
    pub account: Option<String>,
    pub kid: String,
}

/// The payment details of an invoice part sent by `seller`.
pub fn payment_details(part: &Invoice, seller: Option<&Organisation>) -> PaymentDetails {
    PaymentDetails {
        due_date: part.issued_at.map(|at| payment::due_date(crate::domain::deadlines::oslo_date(at))),
        account: seller.and_then(|o| o.bank_account.clone()),
        kid: payment::kid(part.id),
    }
}

/// An application's combined bill as read: its parts, their lines and every organisation.
pub struct Bill {
    pub parts: Vec<Invoice>,
    pub lines: Vec<InvoiceLine>,
    pub organisations: Vec<Organisation>,
}

/// The bill of an application, or `None` while it has no part.
pub async fn bill(conn: &AsyncPgConnection, application_id: i64) -> AppResult<Option<Bill>> {
    let parts = db::billing::invoices_of(conn, application_id).await?;
    if parts.is_empty() {
        return Ok(None);
    }
    let ids: Vec<i64> = parts.iter().map(|p| p.id).collect();
    let lines = db::billing::lines_of(conn, &ids).await?;
    let organisations = db::catalogue::organisations(conn).await?;
    Ok(Some(Bill { parts, lines, organisations }))
}

/// The application and its bill for the printable invoice (admins: any submitted one; 404 without a bill).
pub async fn printable(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<(Application, Bill)> {
    let app = load_for_invoicing(conn, user, id).await?;
    let bill = bill(conn, id).await?.ok_or(AppError::NotFound)?;
    Ok((app, bill))
}

/// One invoice part, or 404.
pub async fn part(conn: &mut AsyncPgConnection, id: i64) -> AppResult<Invoice> {
    db::billing::invoice(conn, id).await?.ok_or(AppError::NotFound)
}

/// Every organisation, and the newest invoice parts (of one organisation and status when given).
pub async fn overview(
    conn: &mut AsyncPgConnection,
    organisation_id: Option<i64>,
    status: Option<InvoiceStatus>,
) -> AppResult<(Vec<Organisation>, Vec<(Invoice, Option<String>, String)>)> {
    let organisations = db::catalogue::organisations(conn).await?;
    let parts = db::billing::invoice_overview(conn, organisation_id, status.map(InvoiceStatus::code)).await?;
    Ok((organisations, parts))
}
