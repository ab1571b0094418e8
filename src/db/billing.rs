//! What users pay: revised estimates, time records and invoice parts with their lines.

use super::schema::{estimates, invoice_lines, invoices, time_records, users};
use crate::domain::pricing::{self, Line};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

/// A revised estimate.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = estimates)]
pub struct EstimateRow {
    pub id: i64,
    pub application_id: i64,
    pub organisation_id: i64,
    pub minutes: i32,
    pub lines: Value,
    pub total_ore: i64,
    pub message: String,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub accepted_by: Option<i64>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub superseded_at: Option<DateTime<Utc>>,
    /// Never accepted, and its case ended (withdrawn or closed).
    pub lapsed_at: Option<DateTime<Utc>>,
}

impl EstimateRow {
    /// Waiting for the applicant.
    pub fn pending(&self) -> bool {
        self.accepted_at.is_none() && self.superseded_at.is_none() && self.lapsed_at.is_none()
    }
}

/// The revised estimates of an application, oldest first.
pub async fn estimates_of(mut conn: &AsyncPgConnection, application_id: i64) -> QueryResult<Vec<EstimateRow>> {
    estimates::table
        .filter(estimates::application_id.eq(application_id))
        .order(estimates::id)
        .select(EstimateRow::as_select())
        .load(&mut conn)
        .await
}

/// The estimates waiting for the applicant: neither accepted, nor replaced by a later one, nor
/// lapsed with their case. Every read and update of "the pending estimate" starts here.
#[diesel::dsl::auto_type]
pub(super) fn waiting_estimates() -> _ {
    estimates::table
        .filter(estimates::accepted_at.is_null())
        .filter(estimates::superseded_at.is_null())
        .filter(estimates::lapsed_at.is_null())
}

/// Whether a revised estimate waits for the applicant of the application of the row read (a
/// column of a list of applications).
#[diesel::dsl::auto_type]
pub fn estimate_waiting() -> _ {
    diesel::dsl::exists(waiting_estimates().filter(estimates::application_id.eq(super::schema::applications::id)))
}

/// Whether a revised estimate waits for the applicant.
pub async fn has_pending_estimate(conn: &mut AsyncPgConnection, application_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(waiting_estimates().filter(estimates::application_id.eq(application_id))))
        .get_result(conn)
        .await
}

/// A revised estimate to store.
pub struct NewEstimate<'a> {
    pub application_id: i64,
    pub organisation_id: i64,
    pub minutes: i32,
    pub lines: Value,
    pub total_ore: i64,
    pub message: &'a str,
    pub created_by: i64,
}

/// Stores a revised estimate, superseding the organisation's pending one.
pub async fn insert_estimate(
    conn: &mut AsyncPgConnection,
    new: &NewEstimate<'_>,
    now: DateTime<Utc>,
) -> QueryResult<EstimateRow> {
    diesel::update(
        waiting_estimates()
            .filter(estimates::application_id.eq(new.application_id))
            .filter(estimates::organisation_id.eq(new.organisation_id)),
    )
    .set(estimates::superseded_at.eq(now))
    .execute(conn)
    .await?;
    diesel::insert_into(estimates::table)
        .values((
            estimates::application_id.eq(new.application_id),
            estimates::organisation_id.eq(new.organisation_id),
            estimates::minutes.eq(new.minutes),
            estimates::lines.eq(&new.lines),
            estimates::total_ore.eq(new.total_ore),
            estimates::message.eq(new.message),
            estimates::created_by.eq(new.created_by),
            estimates::created_at.eq(now),
        ))
        .returning(EstimateRow::as_returning())
        .get_result(conn)
        .await
}

/// Accepts every pending estimate of an application; returns the ones accepted.
pub async fn accept_estimates(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    by: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<EstimateRow>> {
    diesel::update(waiting_estimates().filter(estimates::application_id.eq(application_id)))
        .set((estimates::accepted_at.eq(now), estimates::accepted_by.eq(by)))
        .returning(EstimateRow::as_returning())
        .get_results(conn)
        .await
}

/// Lapses every estimate of an application still waiting for the applicant; returns them.
pub async fn lapse_estimates(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    now: DateTime<Utc>,
) -> QueryResult<Vec<EstimateRow>> {
    diesel::update(waiting_estimates().filter(estimates::application_id.eq(application_id)))
        .set(estimates::lapsed_at.eq(now))
        .returning(EstimateRow::as_returning())
        .get_results(conn)
        .await
}

/// A time record with its author's name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimeRecord {
    pub id: i64,
    pub application_id: i64,
    pub organisation_id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub minutes: i32,
    pub note: String,
    pub exempt: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_time(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    organisation_id: i64,
    user_id: i64,
    minutes: i32,
    note: &str,
    exempt: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<i64> {
    diesel::insert_into(time_records::table)
        .values((
            time_records::application_id.eq(application_id),
            time_records::organisation_id.eq(organisation_id),
            time_records::user_id.eq(user_id),
            time_records::minutes.eq(minutes),
            time_records::note.eq(note),
            time_records::exempt.eq(exempt),
            time_records::recorded_at.eq(now),
        ))
        .returning(time_records::id)
        .get_result(conn)
        .await
}

/// The time recorded on an application, oldest first.
pub async fn time_of(mut conn: &AsyncPgConnection, application_id: i64) -> QueryResult<Vec<TimeRecord>> {
    type Row = (i64, i64, i64, i64, String, i32, String, Option<String>, DateTime<Utc>);
    let rows: Vec<Row> = time_records::table
        .inner_join(users::table)
        .filter(time_records::application_id.eq(application_id))
        .order(time_records::id)
        .select((
            time_records::id,
            time_records::application_id,
            time_records::organisation_id,
            time_records::user_id,
            users::name,
            time_records::minutes,
            time_records::note,
            time_records::exempt,
            time_records::recorded_at,
        ))
        .load(&mut conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, application_id, organisation_id, user_id, user_name, minutes, note, exempt, recorded_at)| {
            TimeRecord { id, application_id, organisation_id, user_id, user_name, minutes, note, exempt, recorded_at }
        })
        .collect())
}

/// One organisation's part of an application's combined bill.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = invoices)]
pub struct Invoice {
    pub id: i64,
    pub application_id: i64,
    pub organisation_id: i64,
    pub number: String,
    pub status: crate::domain::pricing::InvoiceStatus,
    pub recipient_name: String,
    pub recipient_organisation_number: String,
    pub recipient_reference: String,
    pub net_ore: i64,
    pub vat_rate_bp: i32,
    pub vat_ore: i64,
    pub total_ore: i64,
    pub waived_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub issued_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub waived_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub recipient_address: String,
    pub recipient_postal_code: String,
    pub recipient_city: String,
}

impl Invoice {
    /// The recipient's postal address, as the form gave it.
    pub fn recipient_postal_address(&self) -> crate::domain::ehf::Address {
        crate::domain::ehf::Address {
            street: self.recipient_address.clone(),
            postal_code: self.recipient_postal_code.clone(),
            city: self.recipient_city.clone(),
        }
    }
}

/// A stored invoice line.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = invoice_lines)]
pub struct InvoiceLine {
    pub id: i64,
    pub invoice_id: i64,
    pub position: i32,
    pub price_list_id: Option<i64>,
    pub item_code: String,
    pub description_nb: String,
    pub description_en: String,
    pub unit: String,
    pub quantity: i64,
    pub unit_ore: i64,
    pub amount_ore: i64,
    pub exempt: Option<String>,
}

/// The parts of an application's bill, by organisation.
pub async fn invoices_of(mut conn: &AsyncPgConnection, application_id: i64) -> QueryResult<Vec<Invoice>> {
    invoices::table
        .filter(invoices::application_id.eq(application_id))
        .order(invoices::id)
        .select(Invoice::as_select())
        .load(&mut conn)
        .await
}

pub async fn invoice(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Invoice>> {
    invoices::table.find(id).select(Invoice::as_select()).first(conn).await.optional()
}

pub async fn lock_invoice(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Invoice>> {
    invoices::table.find(id).for_update().select(Invoice::as_select()).first(conn).await.optional()
}

pub async fn lines_of(mut conn: &AsyncPgConnection, invoice_ids: &[i64]) -> QueryResult<Vec<InvoiceLine>> {
    invoice_lines::table
        .filter(invoice_lines::invoice_id.eq_any(invoice_ids))
        .order((invoice_lines::invoice_id, invoice_lines::position))
        .select(InvoiceLine::as_select())
        .load(&mut conn)
        .await
}

/// The recipient of an invoice, from the form.
#[derive(Default)]
pub struct Recipient {
    pub name: String,
    pub organisation_number: String,
    pub reference: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
}

/// Creates a draft part, or replaces a draft part's lines and totals; an issued, paid or
/// waived part is left alone (returns `None`).
#[allow(clippy::too_many_arguments)]
pub async fn upsert_draft(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    organisation_id: i64,
    number: &str,
    recipient: &Recipient,
    lines: &[Line],
    vat_rate_bp: u32,
    now: DateTime<Utc>,
) -> QueryResult<Option<Invoice>> {
    let existing: Option<Invoice> = invoices::table
        .filter(invoices::application_id.eq(application_id))
        .filter(invoices::organisation_id.eq(organisation_id))
        .for_update()
        .select(Invoice::as_select())
        .first(conn)
        .await
        .optional()?;
    let (net, vat, total) = pricing::totals(lines, vat_rate_bp);
    let invoice = match existing {
        Some(i) if i.status != crate::domain::pricing::InvoiceStatus::Draft => return Ok(None),
        Some(i) => {
            diesel::delete(invoice_lines::table.filter(invoice_lines::invoice_id.eq(i.id))).execute(conn).await?;
            diesel::update(invoices::table.find(i.id))
                .set((
                    invoices::recipient_name.eq(&recipient.name),
                    invoices::recipient_organisation_number.eq(&recipient.organisation_number),
                    invoices::recipient_reference.eq(&recipient.reference),
                    invoices::recipient_address.eq(&recipient.address),
                    invoices::recipient_postal_code.eq(&recipient.postal_code),
                    invoices::recipient_city.eq(&recipient.city),
                    invoices::net_ore.eq(net),
                    invoices::vat_rate_bp.eq(vat_rate_bp as i32),
                    invoices::vat_ore.eq(vat),
                    invoices::total_ore.eq(total),
                    invoices::version.eq(invoices::version + 1),
                ))
                .returning(Invoice::as_returning())
                .get_result(conn)
                .await?
        }
        None => {
            diesel::insert_into(invoices::table)
                .values((
                    invoices::application_id.eq(application_id),
                    invoices::organisation_id.eq(organisation_id),
                    invoices::number.eq(number),
                    invoices::recipient_name.eq(&recipient.name),
                    invoices::recipient_organisation_number.eq(&recipient.organisation_number),
                    invoices::recipient_reference.eq(&recipient.reference),
                    invoices::recipient_address.eq(&recipient.address),
                    invoices::recipient_postal_code.eq(&recipient.postal_code),
                    invoices::recipient_city.eq(&recipient.city),
                    invoices::net_ore.eq(net),
                    invoices::vat_rate_bp.eq(vat_rate_bp as i32),
                    invoices::vat_ore.eq(vat),
                    invoices::total_ore.eq(total),
                    invoices::created_at.eq(now),
                ))
                .returning(Invoice::as_returning())
                .get_result(conn)
                .await?
        }
    };
    for (position, l) in lines.iter().enumerate() {
        diesel::insert_into(invoice_lines::table)
            .values((
                invoice_lines::invoice_id.eq(invoice.id),
                invoice_lines::position.eq(position as i32 + 1),
                invoice_lines::price_list_id.eq(l.price_list_id),
                invoice_lines::item_code.eq(&l.item_code),
                invoice_lines::description_nb.eq(&l.description_nb),
                invoice_lines::description_en.eq(&l.description_en),
                invoice_lines::unit.eq(&l.unit),
                invoice_lines::quantity.eq(l.quantity),
                invoice_lines::unit_ore.eq(l.unit_ore),
                invoice_lines::amount_ore.eq(l.amount_ore),
                invoice_lines::exempt.eq(&l.exempt),
            ))
            .execute(conn)
            .await?;
    }
    Ok(Some(invoice))
}

/// Moves a part to `status` (with its time column and a waiver's reason).
pub async fn set_invoice_status(
    conn: &mut AsyncPgConnection,
    id: i64,
    status: &str,
    waived_reason: Option<&str>,
    now: DateTime<Utc>,
) -> QueryResult<Invoice> {
    let target = invoices::table.find(id);
    let bump = invoices::version.eq(invoices::version + 1);
    match status {
        "issued" => {
            diesel::update(target)
                .set((invoices::status.eq(status), invoices::issued_at.eq(now), bump))
                .returning(Invoice::as_returning())
                .get_result(conn)
                .await
        }
        "paid" => {
            diesel::update(target)
                .set((invoices::status.eq(status), invoices::paid_at.eq(now), bump))
                .returning(Invoice::as_returning())
                .get_result(conn)
                .await
        }
        _ => {
            diesel::update(target)
                .set((
                    invoices::status.eq(status),
                    invoices::waived_at.eq(now),
                    invoices::waived_reason.eq(waived_reason),
                    bump,
                ))
                .returning(Invoice::as_returning())
                .get_result(conn)
                .await
        }
    }
}

/// Records the estimate the applicant has now accepted on the application.
pub async fn set_accepted_estimate(
    conn: &mut AsyncPgConnection,
    application_id: i64,
    total_ore: i64,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    use super::schema::applications;
    diesel::update(applications::table.find(application_id))
        .set((applications::estimate_ore.eq(total_ore), applications::estimate_accepted_at.eq(now)))
        .execute(conn)
        .await
}

/// Invoice parts with their application's reference and title, newest first; of one
/// organisation and in one status when given.
pub async fn invoice_overview(
    conn: &mut AsyncPgConnection,
    organisation_id: Option<i64>,
    status: Option<&str>,
) -> QueryResult<Vec<(Invoice, Option<String>, String)>> {
    use super::schema::applications;
    let mut q = invoices::table
        .inner_join(applications::table)
        .select((Invoice::as_select(), applications::reference, applications::title))
        .into_boxed();
    if let Some(org) = organisation_id {
        q = q.filter(invoices::organisation_id.eq(org));
    }
    if let Some(st) = status {
        q = q.filter(invoices::status.eq(st.to_string()));
    }
    q.order(invoices::id.desc()).limit(500).load(conn).await
}
