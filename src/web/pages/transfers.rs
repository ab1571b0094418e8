//! Transfer pages: the register owner creates a transfer, uploads files one at a time (streamed
//! from the multipart body straight into encrypted storage), publishes or revokes it and sees the
//! receipts; recipients download from the same page.

use crate::config::Config;
use crate::db::Pool;
use crate::domain::transfer::TransferState;
use crate::error::{AppError, AppResult};
use crate::services::{self, transfers as svc, transfers::TransferRole};
use crate::storage::Storage;
use crate::web::context::{Back, Ctx};
use crate::web::csrf::{CsrfForm, CsrfOnly};
use crate::web::download::ReceiptedDownload;
use crate::web::guards::SessionUser;
use crate::web::template::Template;
use crate::web::upload_limits::{TransferUpload, UploadSlot};
use crate::web::views;
use chrono::{NaiveDate, Utc};
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![create, link, show, upload, publish, revoke_confirm, revoke, download]
}

/// A refusal shown as a flash message on the page it came from; other errors propagate.
fn flash_or(ctx: &Ctx, back: Back, e: AppError) -> AppResult<Flash<Redirect>> {
    match &e {
        AppError::Validation(_) => {
            Ok(back.error(e.fields(ctx.lang).into_values().flatten().collect::<Vec<_>>().join(" ")))
        }
        AppError::Conflict(_) | AppError::Forbidden(_) | AppError::PayloadTooLarge | AppError::Status(410, _) => {
            Ok(back.error(e.public_message(ctx.lang)))
        }
        _ => Err(e),
    }
}

#[derive(FromForm)]
struct NewTransferForm {
    /// The last day of availability (`YYYY-MM-DD`); empty for the default.
    expires_on: Option<String>,
    /// Another data holder the extract goes to for linkage; empty for the researcher.
    recipient_organisation_id: Option<String>,
}

#[post("/releases/<id>/transfers", data = "<form>")]
async fn create(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<NewTransferForm>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let (release, _, _) = services::cases::load_release(&mut conn, user, id).await?;
    let back = Back::section(format!("/applications/{}", release.application_id), "releases");
    let expires_at = match form.0.expires_on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(day) => day.and_hms_opt(23, 59, 59).map(|t| t.and_utc()),
            Err(_) => return Ok(back.error(ctx.t("err-expiry-past"))),
        },
    };
    let recipient_organisation_id = match form.0.recipient_organisation_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return Ok(back.error(ctx.t("err-recipient-organisation"))),
        },
    };
    let input = svc::NewTransfer { expires_at, recipient_organisation_id, linked_from: None };
    match svc::create(&mut conn, user, &ctx.actor(), id, input, Utc::now()).await {
        Ok(t) => Ok(Flash::success(Redirect::to(format!("/transfers/{}", t.id)), ctx.t("transfer-created"))),
        Err(e) => flash_or(&ctx, back, e),
    }
}

/// The receiving holder of linkage extract `id` makes the transfer of the linked data to the
/// researcher.
#[post("/transfers/<id>/linked", data = "<_form>")]
async fn link(ctx: Ctx, pool: &State<Pool>, id: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let extract = svc::load(&mut conn, user, id).await?;
    let input = svc::NewTransfer { linked_from: Some(id), ..svc::NewTransfer::default() };
    match svc::create(&mut conn, user, &ctx.actor(), extract.release.id, input, Utc::now()).await {
        Ok(t) => Ok(Flash::success(Redirect::to(format!("/transfers/{}", t.id)), ctx.t("linked-transfer-created"))),
        Err(e) => flash_or(&ctx, Back::page(format!("/transfers/{id}")), e),
    }
}

#[get("/transfers/<id>")]
async fn show(ctx: Ctx, pool: &State<Pool>, config: &State<Config>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let l = svc::load(&mut conn, user, id).await?;
    let state = l.transfer.state;
    if l.role == TransferRole::Recipient && state == TransferState::Open {
        return Err(AppError::NotFound);
    }
    let owner = l.role == TransferRole::Owner;
    // The project's people see the files once they have accepted the source's terms.
    let terms_first = svc::require_terms(&mut conn, user, &l).await.is_err();
    let detail = svc::detail(&mut conn, &l).await?;
    let linkage = l.transfer.recipient_organisation_id.is_some();
    // The receiving holder of an extract does not see the case; it makes the linked data's
    // transfer once the extract is received.
    let receiver = l.role == TransferRole::Recipient && linkage;
    let linked: Vec<Value> =
        detail.linked.iter().map(|t| json!({"id": t.id, "state_key": format!("transfer-state-{}", t.state)})).collect();
    let files: Vec<Value> = detail
        .files
        .iter()
        .filter(|f| f.complete && !terms_first)
        .map(|f| {
            json!({
                "name": f.name, "size": views::size_text(f.size), "sha256": f.sha256,
                "url": format!("/transfers/{id}/files/{}", crate::web::url_encode(&f.name)),
                "deleted": f.bytes_deleted_at.is_some(),
            })
        })
        .collect();
    let receipts: Vec<Value> = detail
        .receipts
        .iter()
        .map(|(r, file, name, email)| {
            json!({"file": file, "who": name, "email": email, "at": crate::domain::deadlines::oslo_time(r.at, false), "iso": r.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "size": views::size_text(r.bytes), "address": r.address})
        })
        .collect();
    Ok(ctx.page(
        "pages/transfers/transfer",
        json!({
            "transfer": {
                "id": l.transfer.id, "state_key": format!("transfer-state-{}", l.transfer.state),
                "expires": crate::domain::deadlines::oslo_day(l.transfer.expires_at),
                "published": l.transfer.published_at.map(|t| crate::domain::deadlines::oslo_time(t, false)),
                "linkage": linkage, "linked_from": l.transfer.linked_from,
            },
            "sees_case": match l.role {
                TransferRole::Officer => true,
                TransferRole::Recipient => !linkage,
                TransferRole::Owner => l.transfer.linked_from.is_none(),
            },
            "linked": linked,
            "can_link": receiver && state == TransferState::Downloaded && detail.linked.is_empty(),
            "app": {"id": l.app.id, "reference": l.app.reference, "title": l.app.title},
            "files": files, "receipts": receipts, "is_owner": owner,
            "show_receipts": l.role != TransferRole::Recipient,
            "can_upload": owner && state.accepts_uploads(),
            "can_publish": owner && state == TransferState::Open && !files.is_empty(),
            "can_revoke": owner && !state.is_final(),
            "can_download": l.role == TransferRole::Recipient && state.downloadable() && !terms_first,
            "terms_first": terms_first,
            "max_size": views::size_text(config.max_transfer_bytes as i64),
        }),
    ))
}

/// The sign-in, the upload slot and the declared length are request guards: each refuses before
/// any byte of the body is read (the file is the data guard, read last).
#[post("/transfers/<id>/files", data = "<file>")]
#[allow(clippy::too_many_arguments)]
async fn upload(
    ctx: Ctx,
    signed_in: SessionUser,
    slot: UploadSlot<'_>,
    pool: &State<Pool>,
    storage: &State<Storage>,
    config: &State<Config>,
    id: i64,
    file: TransferUpload<'_>,
) -> AppResult<Flash<Redirect>> {
    let _slot = slot;
    let back = Back::page(format!("/transfers/{id}"));
    let name = file.file_name.clone();
    let limit = config.max_transfer_bytes;
    match svc::upload(pool, storage, &signed_in.0, &ctx.actor(), id, &name, file.reader(), limit, None, Utc::now())
        .await
    {
        Ok(f) => Ok(back.success(format!("{}: {}", ctx.t("transfer-file-uploaded"), f.name))),
        Err(e) => flash_or(&ctx, back, e),
    }
}

#[post("/transfers/<id>/publish", data = "<_form>")]
async fn publish(ctx: Ctx, pool: &State<Pool>, id: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let back = Back::page(format!("/transfers/{id}"));
    match svc::publish(&mut conn, user, &ctx.actor(), id, Utc::now()).await {
        Ok(_) => Ok(back.success(ctx.t("transfer-published"))),
        Err(e) => flash_or(&ctx, back, e),
    }
}

/// Revoking deletes the files for good: the page asks first.
#[get("/transfers/<id>/revoke")]
async fn revoke_confirm(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let l = svc::load(&mut conn, user, id).await?;
    match l.role {
        TransferRole::Owner => {}
        // Recipients see nothing of a transfer before it is published.
        TransferRole::Recipient if l.transfer.state == TransferState::Open => return Err(AppError::NotFound),
        _ => return Err(AppError::Forbidden("err-transfer-owner-only".into())),
    }
    crate::domain::transfer::check_revoke(l.transfer.state).map_err(svc::refused)?;
    Ok(crate::web::pages::applicant::confirm_page(
        &ctx,
        "transfer-revoke-heading",
        &l.app,
        "transfer-revoke-text",
        (format!("/transfers/{id}/revoke"), format!("/transfers/{id}")),
        "transfer-revoke",
    ))
}

#[post("/transfers/<id>/revoke", data = "<_form>")]
async fn revoke(
    ctx: Ctx,
    pool: &State<Pool>,
    storage: &State<Storage>,
    id: i64,
    _form: CsrfForm<CsrfOnly>,
) -> AppResult<Flash<Redirect>> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let back = Back::page(format!("/transfers/{id}"));
    match svc::revoke(&mut conn, storage, user, &ctx.actor(), id, Utc::now()).await {
        Ok(_) => Ok(back.success(ctx.t("transfer-revoked"))),
        Err(e) => flash_or(&ctx, back, e),
    }
}

#[get("/transfers/<id>/files/<name>")]
async fn download(
    ctx: Ctx,
    pool: &State<Pool>,
    storage: &State<Storage>,
    config: &State<Config>,
    id: i64,
    name: &str,
) -> AppResult<ReceiptedDownload> {
    let user = ctx.user()?;
    crate::web::download::stream_file(pool, storage, user, ctx.actor(), id, name, config.vat_rate_bp).await
}
