//! Price list administration pages: admins for every organisation, register owners for their
//! own. Draft a version, edit its items, review and publish it; published versions are read-only.

use super::auth::PageOr;
use crate::db::Pool;
use crate::domain::pricing::{EXEMPT_KINDS, Unit, format_nok};
use crate::error::{AppError, AppResult};
use crate::services::{self, price_lists};
use crate::web::context::{Back, Ctx};
use crate::web::csrf::{CsrfForm, CsrfOnly};
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![index, create, show, update, add_item, update_item, remove_item, publish, delete]
}

async fn index_data(ctx: &Ctx, pool: &Pool, form: Value) -> AppResult<Value> {
    let user = ctx.user()?;
    let scope = price_lists::managed_organisation(user)?;
    let mut conn = services::conn(pool).await?;
    let (rows, orgs) = price_lists::overview(&mut conn, scope).await?;
    let name = |id: i64| orgs.iter().find(|o| o.id == id).map(|o| o.name.clone()).unwrap_or_default();
    let today = crate::domain::deadlines::oslo_date(Utc::now());
    let lists: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "organisation": name(r.organisation_id), "valid_from": r.valid_from.format("%d.%m.%Y").to_string(),
                "state_key": format!("price-list-{}", r.state), "future": r.valid_from > today,
            })
        })
        .collect();
    let selected = form.get("organisation_id").and_then(Value::as_i64);
    let organisations: Vec<Value> = orgs
        .iter()
        .filter(|o| scope.is_none_or(|s| s == o.id))
        .map(|o| json!({"value": o.id, "label": o.name, "selected": Some(o.id) == selected}))
        .collect();
    Ok(json!({"lists": lists, "organisations": organisations, "form": form, "is_admin": scope.is_none()}))
}

#[get("/admin/price-lists")]
async fn index(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    let data = index_data(&ctx, pool, json!({"copy_current": true})).await?;
    Ok(ctx.page("pages/admin/price_lists", data))
}

#[derive(FromForm)]
struct NewListForm {
    organisation_id: Option<i64>,
    valid_from: String,
    note_nb: String,
    note_en: String,
    copy_current: bool,
}

fn error_page(ctx: &Ctx, e: AppError, template: &'static str, mut data: Value) -> AppResult<PageOr> {
    match e {
        AppError::Validation(_) | AppError::Duplicate(_) | AppError::Conflict(_) => {
            data["errors"] = ctx.errors(&e);
            if let AppError::Conflict(_) = e {
                data["conflict"] = json!(e.public_message(ctx.lang));
            }
            Ok(PageOr::Page((e.status(), ctx.page(template, data))))
        }
        other => Err(other),
    }
}

#[post("/admin/price-lists", data = "<form>")]
async fn create(ctx: Ctx, pool: &State<Pool>, form: CsrfForm<NewListForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let f = form.0;
    let input = price_lists::ListInput {
        organisation_id: f.organisation_id,
        valid_from: Some(f.valid_from.clone()),
        note_nb: Some(f.note_nb.clone()),
        note_en: Some(f.note_en.clone()),
        copy_current: f.copy_current,
        version: None,
    };
    let result = price_lists::create(&mut *services::conn(pool).await?, user, &ctx.actor(), input, Utc::now()).await;
    match result {
        Ok(list) => {
            Ok(PageOr::Flash(Flash::success(Redirect::to(format!("/admin/price-lists/{}", list.id)), ctx.t("saved"))))
        }
        Err(e) => {
            let form = json!({"organisation_id": f.organisation_id, "valid_from": f.valid_from, "note_nb": f.note_nb, "note_en": f.note_en, "copy_current": f.copy_current});
            let data = index_data(&ctx, pool, form).await?;
            error_page(&ctx, e, "pages/admin/price_lists", data)
        }
    }
}

/// The units to choose from, `selected` chosen.
fn units(selected: &str) -> Vec<Value> {
    Unit::ALL
        .iter()
        .map(
            |u| json!({"value": u.code(), "label_key": format!("unit-{}", u.code()), "selected": u.code() == selected}),
        )
        .collect()
}

/// The kinds of applicant an item may be free for, those `chosen` ticked.
fn kinds(chosen: &[String]) -> Vec<Value> {
    EXEMPT_KINDS
        .iter()
        .map(|k| json!({"value": k, "label_key": format!("exempt-kind-{k}"), "checked": chosen.iter().any(|c| c == k)}))
        .collect()
}

async fn show_data(ctx: &Ctx, pool: &Pool, id: i64, new_item: Value) -> AppResult<Value> {
    let user = ctx.user()?;
    let mut conn = services::conn(pool).await?;
    let price_lists::ListWithItems { list, items, organisation: org } = price_lists::open(&mut conn, user, id).await?;
    let draft = list.state == crate::domain::pricing::PriceListState::Draft;
    let rows: Vec<Value> = items
        .iter()
        .map(|i| {
            json!({
                "id": i.id, "code": i.code,
                "description": if ctx.lang.english() { &i.description_en } else { &i.description_nb },
                "unit_key": format!("unit-{}", i.unit), "units": units(&i.unit), "amount": format_nok(i.amount_ore),
                "minimum_quantity": i.minimum_quantity,
                "kinds": kinds(&i.exempt_kinds), "exempt": i.exempt_kinds.iter().map(|k| format!("exempt-kind-{k}")).collect::<Vec<_>>(),
                "data_source_code": i.data_source_code,
                // What its edit form shows: the item as saved, or what was typed (`keep_in`).
                "form": {
                    "code": i.code, "description_nb": i.description_nb, "description_en": i.description_en,
                    "amount_nok": format!("{}.{:02}", i.amount_ore / 100, i.amount_ore % 100), "minimum_quantity": i.minimum_quantity,
                    "data_source_code": i.data_source_code, "requires_hds_authority": i.requires_hds_authority,
                },
            })
        })
        .collect();
    let chosen: Vec<String> = new_item["exempt_kinds"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    Ok(json!({
        "path": format!("/admin/price-lists/{}", list.id),
        "list": {
            "id": list.id, "organisation": org.map(|o| o.name), "valid_from": list.valid_from.to_string(),
            "valid_from_text": list.valid_from.format("%d.%m.%Y").to_string(), "state_key": format!("price-list-{}", list.state),
            "note_nb": list.note_nb, "note_en": list.note_en, "version": list.version, "draft": draft,
        },
        "items": rows, "new_item": new_item, "new_units": units(new_item["unit"].as_str().unwrap_or("per_started_hour")),
        "new_kinds": kinds(&chosen),
    }))
}

#[get("/admin/price-lists/<id>")]
async fn show(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    let data = show_data(&ctx, pool, id, json!({})).await?;
    Ok(ctx.page("pages/admin/price_list", data))
}

#[derive(FromForm)]
struct HeaderForm {
    valid_from: String,
    note_nb: String,
    note_en: String,
    version: i32,
}

#[post("/admin/price-lists/<id>", data = "<form>")]
async fn update(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<HeaderForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let f = form.0;
    let typed = json!({"valid_from": f.valid_from, "note_nb": f.note_nb, "note_en": f.note_en});
    let input = price_lists::ListInput {
        organisation_id: None,
        valid_from: Some(f.valid_from),
        note_nb: Some(f.note_nb),
        note_en: Some(f.note_en),
        copy_current: false,
        version: Some(f.version),
    };
    let result =
        price_lists::update(&mut *services::conn(pool).await?, user, &ctx.actor(), id, input, Utc::now()).await;
    match result {
        Ok(_) => Ok(PageOr::Flash(Flash::success(Redirect::to(format!("/admin/price-lists/{id}")), ctx.t("saved")))),
        Err(e) => {
            // What was typed, over the list as it is now (its current version: after a conflict,
            // saving again replaces the other change knowingly).
            let mut data = show_data(&ctx, pool, id, json!({})).await?;
            for field in ["valid_from", "note_nb", "note_en"] {
                data["list"][field] = typed[field].clone();
            }
            error_page(&ctx, e, "pages/admin/price_list", data)
        }
    }
}

#[derive(FromForm)]
struct ItemForm {
    code: String,
    description_nb: String,
    description_en: String,
    unit: String,
    amount_nok: String,
    minimum_quantity: Option<i64>,
    exempt_kinds: Vec<String>,
    data_source_code: String,
    requires_hds_authority: bool,
}

impl ItemForm {
    fn input(&self) -> price_lists::ItemInput {
        price_lists::ItemInput {
            code: Some(self.code.clone()),
            description_nb: Some(self.description_nb.clone()),
            description_en: Some(self.description_en.clone()),
            unit: Some(self.unit.clone()),
            amount_ore: None,
            amount_nok: Some(self.amount_nok.clone()),
            minimum_quantity: self.minimum_quantity,
            exempt_kinds: self.exempt_kinds.clone(),
            data_source_code: Some(self.data_source_code.clone()),
            requires_hds_authority: self.requires_hds_authority,
        }
    }

    /// Puts what was typed into an item's form (the table shows the item as saved), the form open
    /// with `error`.
    fn keep_in(&self, row: &mut Value, error: String) {
        row["form"] = self.echo();
        row["units"] = json!(units(&self.unit));
        row["kinds"] = json!(kinds(&self.exempt_kinds));
        row["kept_error"] = json!(error);
    }

    fn echo(&self) -> Value {
        json!({
            "code": self.code, "description_nb": self.description_nb, "description_en": self.description_en, "unit": self.unit,
            "amount_nok": self.amount_nok, "minimum_quantity": self.minimum_quantity, "exempt_kinds": self.exempt_kinds,
            "data_source_code": self.data_source_code, "requires_hds_authority": self.requires_hds_authority,
        })
    }
}

#[post("/admin/price-lists/<id>/items", data = "<form>")]
async fn add_item(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<ItemForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let result =
        price_lists::add_item(&mut *services::conn(pool).await?, user, &ctx.actor(), id, form.0.input(), Utc::now())
            .await;
    match result {
        Ok(_) => Ok(PageOr::Flash(Back::section(format!("/admin/price-lists/{id}"), "items").success(ctx.t("saved")))),
        Err(e) => {
            let data = show_data(&ctx, pool, id, form.0.echo()).await?;
            error_page(&ctx, e, "pages/admin/price_list", data)
        }
    }
}

#[post("/admin/price-lists/<id>/items/<item>", data = "<form>")]
async fn update_item(ctx: Ctx, pool: &State<Pool>, id: i64, item: i64, form: CsrfForm<ItemForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let result = price_lists::update_item(
        &mut *services::conn(pool).await?,
        user,
        &ctx.actor(),
        id,
        item,
        form.0.input(),
        Utc::now(),
    )
    .await;
    match result {
        Ok(_) => Ok(PageOr::Flash(Back::section(format!("/admin/price-lists/{id}"), "items").success(ctx.t("saved")))),
        Err(e @ (AppError::Validation(_) | AppError::Duplicate(_) | AppError::Conflict(_))) => {
            // The item's form open again with what was typed and the reason; the form that adds
            // an item stays as it was.
            let mut data = show_data(&ctx, pool, id, json!({})).await?;
            let rows = data["items"].as_array_mut().into_iter().flatten();
            if let Some(row) = rows.into_iter().find(|r| r["id"] == item) {
                form.0.keep_in(row, item_refusal(&ctx, &e));
            }
            Ok(PageOr::Page((e.status(), ctx.page("pages/admin/price_list", data))))
        }
        Err(e) => Err(e),
    }
}

/// An item form's refusal in words, each field's messages after its name.
fn item_refusal(ctx: &Ctx, e: &AppError) -> String {
    let AppError::Validation(_) = e else { return e.public_message(ctx.lang) };
    let label = |field: &str| match field {
        "code" => "code",
        "description_nb" => "description-nb",
        "description_en" => "description-en",
        "unit" => "unit",
        "minimum_quantity" => "minimum-quantity",
        "exempt_kinds" => "free-for",
        "data_source_code" => "only-source",
        _ => "price-nok",
    };
    e.fields(ctx.lang)
        .into_iter()
        .map(|(k, v)| format!("{}: {}", ctx.t(label(&k)), v.join(" ")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[post("/admin/price-lists/<id>/items/<item>/delete", data = "<_form>")]
async fn remove_item(ctx: Ctx, pool: &State<Pool>, id: i64, item: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let result =
        price_lists::remove_item(&mut *services::conn(pool).await?, user, &ctx.actor(), id, item, Utc::now()).await;
    match result {
        Ok(_) => Ok(PageOr::Flash(Flash::success(
            Redirect::to(format!("/admin/price-lists/{id}")),
            ctx.t("price-item-removed"),
        ))),
        Err(e) => {
            let data = show_data(&ctx, pool, id, json!({})).await?;
            error_page(&ctx, e, "pages/admin/price_list", data)
        }
    }
}

#[derive(FromForm)]
struct PublishForm {
    version: i32,
}

#[post("/admin/price-lists/<id>/publish", data = "<form>")]
async fn publish(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<PublishForm>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let result = price_lists::publish(
        &mut *services::conn(pool).await?,
        user,
        &ctx.actor(),
        id,
        Some(form.0.version),
        Utc::now(),
    )
    .await;
    match result {
        Ok(_) => Ok(PageOr::Flash(Flash::success(
            Redirect::to(format!("/admin/price-lists/{id}")),
            ctx.t("price-list-published-done"),
        ))),
        Err(e) => {
            let data = show_data(&ctx, pool, id, json!({})).await?;
            error_page(&ctx, e, "pages/admin/price_list", data)
        }
    }
}

#[post("/admin/price-lists/<id>/delete", data = "<_form>")]
async fn delete(ctx: Ctx, pool: &State<Pool>, id: i64, _form: CsrfForm<CsrfOnly>) -> AppResult<PageOr> {
    let user = ctx.user()?;
    let result = price_lists::delete_draft(&mut *services::conn(pool).await?, user, &ctx.actor(), id, Utc::now()).await;
    match result {
        Ok(_) => Ok(PageOr::Flash(Flash::success(Redirect::to("/admin/price-lists".to_string()), ctx.t("saved")))),
        Err(e) => {
            let data = show_data(&ctx, pool, id, json!({})).await?;
            error_page(&ctx, e, "pages/admin/price_list", data)
        }
    }
}
