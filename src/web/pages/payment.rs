//! User payment pages: the public price list, the payment part of the case page (estimate,
//! revised estimates, hours, invoice actions) with its forms, and the printable invoice.

use super::auth::PageOr;
use super::kept::{Kept, Sent, refusal_text};
use crate::db::{self, Pool, applications::Application, users::User};
use crate::domain::pricing::{Estimate, format_nok};
use crate::domain::pricing::{InvoiceAction, InvoiceStatus};
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use crate::services::{self, applications::Access, invoices as bill, price_lists, pricing};
use crate::web::context::{Back, Ctx};
use crate::web::csrf::{CsrfForm, CsrfOnly};
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![
        public_price_list,
        prices,
        revise_estimate,
        accept_estimate,
        record_hours,
        generate_invoice,
        invoice_action,
        invoice,
        invoice_list
    ]
}

fn localised(ctx: &Ctx, nb: &str, en: &str) -> String {
    if ctx.lang.english() { en.to_string() } else { nb.to_string() }
}

fn org_name(ctx: &Ctx, orgs: &[db::catalogue::Organisation], id: i64) -> String {
    orgs.iter()
        .find(|o| o.id == id)
        .map(|o| localised(ctx, &o.name, o.name_en.as_deref().unwrap_or(&o.name)))
        .unwrap_or_default()
}

/// One line of an estimate or invoice as a table row.
fn line_row(ctx: &Ctx, orgs: &[db::catalogue::Organisation], org: i64, l: &LineView) -> Value {
    json!({
        "organisation": org_name(ctx, orgs, org), "description": localised(ctx, &l.description_nb, &l.description_en),
        "quantity": l.quantity, "unit_key": format!("unit-{}", l.unit), "unit_price": format_nok(l.unit_ore),
        "amount": format_nok(l.amount_ore), "exempt_key": l.exempt.as_ref().map(|e| format!("exempt-{e}")),
    })
}

struct LineView {
    description_nb: String,
    description_en: String,
    quantity: i64,
    unit: String,
    unit_ore: i64,
    amount_ore: i64,
    exempt: Option<String>,
}

/// The estimate's lines and the hourly rates that come on top, as table rows.
pub fn estimate_rows(ctx: &Ctx, orgs: &[db::catalogue::Organisation], estimate: &Estimate) -> (Vec<Value>, Vec<Value>) {
    let lines = estimate
        .lines
        .iter()
        .map(|l| {
            let view = LineView {
                description_nb: l.description_nb.clone(),
                description_en: l.description_en.clone(),
                quantity: l.quantity,
                unit: l.unit.clone(),
                unit_ore: l.unit_ore,
                amount_ore: l.amount_ore,
                exempt: l.exempt.clone(),
            };
            line_row(ctx, orgs, l.organisation_id, &view)
        })
        .collect();
    let rates = estimate
        .rates
        .iter()
        .map(|r| {
            json!({
                "organisation": org_name(ctx, orgs, r.organisation_id), "description": localised(ctx, &r.description_nb, &r.description_en),
                "rate": format_nok(r.unit_ore), "minimum": r.minimum_hours, "exempt": r.exempt,
            })
        })
        .collect();
    (lines, rates)
}

/// The payment part of the case page for `user` (what `pricing::payment` read for `access`).
pub fn status_data(ctx: &Ctx, user: &User, app: &Application, access: Access, payment: &pricing::Payment) -> Value {
    let pricing::Payment { organisations: orgs, revised, estimate, time, parts } = payment;
    let (lines, rates) = estimate_rows(ctx, orgs, estimate);
    let pending: Vec<Value> = revised
        .iter()
        .filter(|r| r.pending())
        .map(|r| json!({"organisation": org_name(ctx, orgs, r.organisation_id), "total": format_nok(r.total_ore), "message": r.message, "hours": (r.minutes + 59) / 60}))
        .collect();
    let staff = matches!(access, Access::CaseOfficer | Access::RegisterOwner);
    let time: Vec<Value> = time
        .iter()
        .map(|t| json!({"who": t.user_name, "organisation": org_name(ctx, orgs, t.organisation_id), "hours": format!("{}:{:02}", t.minutes / 60, t.minutes % 60), "note": t.note, "appeal": t.exempt.is_some(), "at": crate::domain::deadlines::oslo_day(t.recorded_at)}))
        .collect();
    let manages = user.role.may(Permission::ManageInvoices);
    let invoice_parts: Vec<Value> = parts
        .iter()
        .map(|p| {
            let own = user.role == Role::RegisterOwner && user.organisation_id == Some(p.organisation_id);
            let may = |action: InvoiceAction| action.apply(p.status).is_some();
            json!({
                "id": p.id, "number": p.number, "organisation": org_name(ctx, orgs, p.organisation_id), "status_key": format!("invoice-{}", p.status),
                "total": format_nok(p.total_ore), "issue": (manages || own) && may(InvoiceAction::Issue), "pay": (manages || own) && may(InvoiceAction::Pay),
                "waive": manages && may(InvoiceAction::Waive),
            })
        })
        .collect();
    let open = crate::services::pricing::ESTIMATE_STATES.contains(&app.state);
    json!({
        "estimate": format_nok(app.estimate_ore.unwrap_or(estimate.total_ore)),
        "estimate_accepted": app.estimate_accepted_at.map(crate::domain::deadlines::oslo_day),
        "exemption_key": estimate.exemption.as_ref().map(|e| format!("exempt-{e}")),
        "lines": lines, "rates": rates, "current_total": format_nok(estimate.total_ore),
        "pending": pending, "can_accept": access == Access::Applicant && revised.iter().any(|r| r.pending()),
        "can_revise": staff && open,
        "can_record_hours": staff && crate::domain::case::records_work(app.state),
        "time": time, "staff": staff,
        "invoice_parts": invoice_parts, "has_invoice": !parts.is_empty(),
        "can_generate": manages && app.first_submitted_at.is_some() && app.state != crate::domain::case::State::Withdrawn,
    })
}

#[get("/price-list")]
async fn public_price_list(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    let today = crate::domain::deadlines::oslo_date(Utc::now());
    let (current, upcoming) = price_lists::public(&mut conn, today).await?;
    let view = |v: &Value| -> Value {
        let org = &v["organisation"];
        json!({
            "organisation": localised(&ctx, org["name"].as_str().unwrap_or(""), org["name_en"].as_str().or(org["name"].as_str()).unwrap_or("")),
            "valid_from": v["valid_from"].as_str().and_then(|d| d.parse::<chrono::NaiveDate>().ok()).map(|d| d.format("%d.%m.%Y").to_string()),
            "note": localised(&ctx, v["note_nb"].as_str().unwrap_or(""), v["note_en"].as_str().unwrap_or("")),
            "items": v["items"].as_array().cloned().unwrap_or_default().iter().map(|i| json!({
                "description": localised(&ctx, i["description_nb"].as_str().unwrap_or(""), i["description_en"].as_str().unwrap_or("")),
                "unit_key": format!("unit-{}", i["unit"].as_str().unwrap_or("")), "amount": format_nok(i["amount_ore"].as_i64().unwrap_or(0)),
                "minimum": i["minimum_quantity"].as_i64().filter(|m| *m > 0), "source": i["data_source_code"],
                "exempt": i["exempt_kinds"].as_array().cloned().unwrap_or_default().iter().filter_map(|k| k.as_str().map(|k| format!("exempt-kind-{k}"))).collect::<Vec<_>>(),
                "hds_only": i["requires_hds_authority"],
            })).collect::<Vec<_>>(),
        })
    };
    Ok(ctx.page(
        "pages/public/price_list",
        json!({"lists": current.iter().map(view).collect::<Vec<_>>(), "upcoming": upcoming.iter().map(view).collect::<Vec<_>>(), "today": today.format("%d.%m.%Y").to_string()}),
    ))
}

/// SPEC §12 names `/prices`; the page lives at `/price-list`.
#[get("/prices")]
fn prices() -> Redirect {
    Redirect::permanent("/price-list")
}

/// Answers a case-page form: back to the case with a success or the problem as a flash.
fn back<T>(ctx: &Ctx, id: i64, at: &'static str, result: AppResult<T>, done_key: &str) -> AppResult<Flash<Redirect>> {
    let to = Back::section(format!("/applications/{id}"), at);
    match result {
        Ok(_) => Ok(to.success(ctx.t(done_key))),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            Ok(to.error(refusal_text(ctx, &e, "payment-field-")))
        }
        Err(e) => Err(e),
    }
}

/// Puts a refused payment form's text back in it: the revised estimate, the hours, or an
/// invoice part's waiver.
pub fn keep(payment: &mut Value, kept: Option<&Kept>) {
    payment["kept_estimate"] = Kept::in_form(kept, "estimate");
    payment["kept_hours"] = Kept::in_form(kept, "hours");
    if let Some(parts) = payment["invoice_parts"].as_array_mut() {
        for part in parts {
            let form = format!("waive-{}", part["id"]);
            part["kept"] = Kept::in_form(kept, &form);
        }
    }
}

#[derive(FromForm)]
struct EstimateForm {
    hours: String,
    message: String,
}

#[post("/applications/<id>/estimate", data = "<form>")]
async fn revise_estimate(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<EstimateForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let f = form.0;
    let fields = json!({"hours": f.hours, "message": f.message});
    let sent = Sent { case_id: id, form: "estimate".into(), fields, labels: "payment-field-" };
    let input = pricing::RevisedEstimate {
        hours: Some(Value::String(f.hours)),
        minutes: None,
        lines: vec![],
        message: Some(f.message),
    };
    let result = pricing::revise_estimate(&mut conn, user, &ctx.actor(), id, input, Utc::now()).await;
    sent.answer(&ctx, &mut conn, result, "estimate-revised-done").await
}

#[post("/applications/<id>/accept-estimate", data = "<_form>")]
async fn accept_estimate(
    ctx: Ctx,
    pool: &State<Pool>,
    id: i64,
    _form: CsrfForm<CsrfOnly>,
) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let result = pricing::accept_estimate(&mut conn, user, &ctx.actor(), id, Utc::now()).await;
    back(&ctx, id, "payment", result, "estimate-accepted-done")
}

#[derive(FromForm)]
struct HoursForm {
    hours: String,
    note: String,
}

#[post("/applications/<id>/hours", data = "<form>")]
async fn record_hours(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<HoursForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let f = form.0;
    let fields = json!({"hours": f.hours, "note": f.note});
    let sent = Sent { case_id: id, form: "hours".into(), fields, labels: "payment-field-" };
    let input =
        pricing::Hours { hours: Some(Value::String(f.hours)), hours_minutes: None, minutes: None, note: Some(f.note) };
    let result = pricing::record_hours(&mut conn, user, &ctx.actor(), id, input, Utc::now()).await;
    sent.answer(&ctx, &mut conn, result, "hours-recorded-done").await
}

#[post("/applications/<id>/invoice/generate", data = "<_form>")]
async fn generate_invoice(
    ctx: Ctx,
    pool: &State<Pool>,
    config: &State<crate::config::Config>,
    id: i64,
    _form: CsrfForm<CsrfOnly>,
) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let result = bill::generate_invoices(&mut conn, user, &ctx.actor(), id, config.vat_rate_bp, Utc::now()).await;
    back(&ctx, id, "invoice", result, "invoice-generated-done")
}

#[derive(FromForm)]
struct InvoiceActionForm {
    reason: Option<String>,
}

#[post("/invoices/<invoice>/<action>", data = "<form>")]
async fn invoice_action(
    ctx: Ctx,
    pool: &State<Pool>,
    invoice: i64,
    action: &str,
    form: CsrfForm<InvoiceActionForm>,
) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let action = bill::InvoiceAction::from_code(action).ok_or(AppError::NotFound)?;
    let mut conn = services::conn(pool).await?;
    let part = bill::part(&mut conn, invoice).await?;
    let reason = form.0.reason;
    let result =
        bill::invoice_action(&mut conn, user, &ctx.actor(), invoice, action, reason.as_deref(), Utc::now()).await;
    if matches!(result, Err(AppError::NotFound)) {
        return Err(AppError::NotFound);
    }
    if action == bill::InvoiceAction::Waive {
        // The reason typed for waiving stays in its form when the waiver is refused.
        let fields = json!({"reason": reason});
        let sent =
            Sent { case_id: part.application_id, form: format!("waive-{invoice}"), fields, labels: "payment-field-" };
        return sent.answer(&ctx, &mut conn, result, "invoice-action-done").await;
    }
    back(&ctx, part.application_id, "invoice", result, "invoice-action-done").map(PageOr::Flash)
}

#[get("/applications/<id>/invoice")]
async fn invoice(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (app, bill::Bill { parts, lines, organisations: orgs }) = bill::printable(&mut conn, user, id).await?;
    let groups: Vec<Value> = parts
        .iter()
        .map(|p| {
            let org = orgs.iter().find(|o| o.id == p.organisation_id);
            let pay = bill::payment_details(p, org);
            json!({
                "due": pay.due_date.map(|d| d.format("%d.%m.%Y").to_string()),
                "account": pay.account.map(|a| crate::domain::payment::format_account(&a)), "kid": pay.kid,
                "address": org.map(|o| o.address().one_line()),
                "number": p.number, "organisation": org_name(&ctx, &orgs, p.organisation_id),
                "organisation_number": org.map(|o| o.organisation_number.clone()), "status_key": format!("invoice-{}", p.status),
                "net": format_nok(p.net_ore), "vat": format_nok(p.vat_ore), "total": format_nok(p.total_ore),
                "vat_rate": format!("{},{:02}", p.vat_rate_bp / 100, p.vat_rate_bp % 100),
                "issued": p.issued_at.map(crate::domain::deadlines::oslo_day), "paid": p.paid_at.map(crate::domain::deadlines::oslo_day),
                "waived_reason": p.waived_reason,
                "lines": lines.iter().filter(|l| l.invoice_id == p.id).map(|l| line_row(&ctx, &orgs, p.organisation_id, &LineView {
                    description_nb: l.description_nb.clone(), description_en: l.description_en.clone(), quantity: l.quantity,
                    unit: l.unit.clone(), unit_ore: l.unit_ore, amount_ore: l.amount_ore, exempt: l.exempt.clone(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let first = &parts[0];
    Ok(ctx.page(
        "pages/payment/invoice",
        json!({
            "app_id": app.id, "reference": app.reference, "title": app.title, "status_key": format!("invoice-{}", bill::combined_status(&parts)),
            "recipient": {
                "name": first.recipient_name, "organisation_number": first.recipient_organisation_number, "reference": first.recipient_reference,
                "address": first.recipient_postal_address().one_line(),
            },
            "groups": groups,
            "net": format_nok(parts.iter().map(|p| p.net_ore).sum()), "vat": format_nok(parts.iter().map(|p| p.vat_ore).sum()),
            "total": format_nok(parts.iter().map(|p| p.total_ore).sum()),
            "date": crate::domain::deadlines::oslo_day(Utc::now()),
        }),
    ))
}

/// The invoice parts to handle: every part for case officers and admins, the own
/// organisation's for register owners.
#[get("/invoices?<status>")]
async fn invoice_list(ctx: Ctx, pool: &State<Pool>, status: Option<&str>) -> AppResult<Template> {
    let user = ctx.user()?;
    let scope = match user.role {
        r if r.may(Permission::ManageInvoices) => None,
        Role::RegisterOwner => Some(user.organisation_id.ok_or(AppError::NotFound)?),
        _ => return Err(AppError::Forbidden("err-forbidden".into())),
    };
    let status = status.and_then(InvoiceStatus::from_code);
    let mut conn = services::conn(pool).await?;
    let (orgs, parts) = bill::overview(&mut conn, scope, status).await?;
    let rows: Vec<Value> = parts
        .iter()
        .map(|(p, reference, title)| {
            json!({
                "id": p.id, "application_id": p.application_id, "number": p.number, "reference": reference, "title": title,
                "organisation": org_name(&ctx, &orgs, p.organisation_id), "status_key": format!("invoice-{}", p.status),
                "total": format_nok(p.total_ore), "created": crate::domain::deadlines::oslo_day(p.created_at),
            })
        })
        .collect();
    let statuses: Vec<Value> = InvoiceStatus::ALL
        .iter()
        .map(|s| json!({"value": s, "label_key": format!("invoice-{s}"), "selected": Some(*s) == status}))
        .collect();
    Ok(ctx.page("pages/payment/invoices", json!({"invoices": rows, "statuses": statuses, "count": rows.len()})))
}
