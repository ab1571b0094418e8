//! Price list versions (prisliste): drafted, reviewed and published by admins for every
//! organisation and by register owners for their own. A published version is never changed
//! (the database refuses it too); a new version with a later date replaces it.

use super::Actor;
use crate::db::{
    self,
    catalogue::Organisation,
    pricing::{ItemFields, ItemRow, PriceListRow},
    users::User,
};
use crate::domain::fields::FieldErrors;
use crate::domain::pricing::PriceListState;
use crate::domain::pricing::{self, EXEMPT_KINDS, Unit};
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Value, json};

/// Refused edits of a published version.
pub const PUBLISHED: &str = "err-price-list-published";

/// Appends an event about a price list version (inside the caller's transaction).
async fn record(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    list_id: i64,
    kind: &str,
    payload: Value,
) -> AppResult<()> {
    super::record_event(tx, actor, now, ("price_list", Some(list_id)), kind, payload).await?;
    Ok(())
}

/// The organisation whose lists `user` may manage: `None` for admins (every one).
pub fn managed_organisation(user: &User) -> AppResult<Option<i64>> {
    super::require(user, Permission::ManagePriceLists)?;
    match user.role {
        Role::Admin => Ok(None),
        _ => user.organisation_id.map(Some).ok_or(AppError::NotFound),
    }
}

/// Loads a version `user` may manage; another organisation's is 404.
pub async fn load(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<PriceListRow> {
    let scope = managed_organisation(user)?;
    let list = db::pricing::list(conn, id).await?.ok_or(AppError::NotFound)?;
    if scope.is_some_and(|org| org != list.organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok(list)
}

/// A version with its items and its organisation.
pub struct ListWithItems {
    pub list: PriceListRow,
    pub items: Vec<ItemRow>,
    pub organisation: Option<Organisation>,
}

/// Reads the items and the organisation of `list`.
async fn with_items_of(conn: &mut AsyncPgConnection, list: PriceListRow) -> AppResult<ListWithItems> {
    let items = db::pricing::items_of(conn, &[list.id]).await?;
    let organisation = db::catalogue::organisation(conn, list.organisation_id).await?;
    Ok(ListWithItems { list, items, organisation })
}

/// A version with its items and organisation, as read after a change (404 if there is none).
pub async fn with_items(conn: &mut AsyncPgConnection, id: i64) -> AppResult<ListWithItems> {
    let list = db::pricing::list(conn, id).await?.ok_or(AppError::NotFound)?;
    with_items_of(conn, list).await
}

/// A version `user` may manage (another organisation's is 404) with its items and organisation.
pub async fn open(conn: &mut AsyncPgConnection, user: &User, id: i64) -> AppResult<ListWithItems> {
    let list = load(conn, user, id).await?;
    with_items_of(conn, list).await
}

/// The versions of organisation `scope` (every one for `None`) and every organisation.
pub async fn overview(
    conn: &mut AsyncPgConnection,
    scope: Option<i64>,
) -> AppResult<(Vec<PriceListRow>, Vec<Organisation>)> {
    let lists = db::pricing::lists(conn, scope).await?;
    let organisations = db::catalogue::organisations(conn).await?;
    Ok((lists, organisations))
}

/// The versions of organisation `scope` (all for `None`) with their items, and every organisation.
pub async fn managed(
    conn: &mut AsyncPgConnection,
    scope: Option<i64>,
) -> AppResult<(Vec<PriceListRow>, Vec<ItemRow>, Vec<Organisation>)> {
    let lists = db::pricing::lists(conn, scope).await?;
    let items = db::pricing::items_of(conn, &lists.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    let organisations = db::catalogue::organisations(conn).await?;
    Ok((lists, items, organisations))
}

/// A version's header as written.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ListInput {
    pub organisation_id: Option<i64>,
    pub valid_from: Option<String>,
    pub note_nb: Option<String>,
    pub note_en: Option<String>,
    /// Start from the items of the version in force today.
    pub copy_current: bool,
    pub version: Option<i32>,
}

fn parse_header(input: &ListInput, errors: &mut FieldErrors) -> (Option<NaiveDate>, String, String) {
    let valid_from = match input.valid_from.as_deref().map(str::trim) {
        None | Some("") => {
            errors.add("valid_from", "err-required");
            None
        }
        Some(s) => match s.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add("valid_from", "err-date");
                None
            }
        },
    };
    let note_nb = errors.text("note_nb", input.note_nb.as_deref().unwrap_or(""), 0, 2000);
    let note_en = errors.text("note_en", input.note_en.as_deref().unwrap_or(""), 0, 2000);
    (valid_from, note_nb, note_en)
}

/// Drafts a new version (optionally starting from the items in force today).
pub async fn create(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    input: ListInput,
    now: DateTime<Utc>,
) -> AppResult<PriceListRow> {
    let scope = managed_organisation(user)?;
    let organisation_id = match (scope, input.organisation_id) {
        (Some(own), None) => own,
        (Some(own), Some(asked)) if asked == own => own,
        (Some(_), Some(_)) => return Err(AppError::NotFound),
        (None, Some(asked)) => asked,
        (None, None) => return Err(AppError::field("organisation_id", "err-required")),
    };
    if db::catalogue::organisation(conn, organisation_id).await?.is_none() {
        return Err(AppError::field("organisation_id", "err-choice"));
    }
    let mut errors = FieldErrors::new();
    let (valid_from, note_nb, note_en) = parse_header(&input, &mut errors);
    errors.into_result().map_err(AppError::Validation)?;
    let valid_from = valid_from.unwrap_or_default();
    let template: Vec<ItemRow> = if input.copy_current {
        let rows = db::pricing::lists(conn, Some(organisation_id)).await?;
        let current = rows
            .iter()
            .filter(|r| {
                r.state == PriceListState::Published && r.valid_from <= crate::domain::deadlines::oslo_date(now)
            })
            .max_by_key(|r| (r.valid_from, r.id));
        match current {
            Some(c) => db::pricing::items_of(conn, &[c.id]).await?,
            None => vec![],
        }
    } else {
        vec![]
    };
    let (actor, by) = (actor.clone(), user.id);
    conn.transaction::<_, AppError, _>(async move |tx| {
        let list =
            db::pricing::insert_list(tx, organisation_id, valid_from, (&note_nb, &note_en), Some(by), now).await?;
        for i in &template {
            db::pricing::insert_item(tx, list.id, &fields_of(i)).await?;
        }
        let payload =
            json!({"organisation_id": organisation_id, "valid_from": valid_from, "copied_items": template.len()});
        record(tx, &actor, now, list.id, "price_list.drafted", payload).await?;
        Ok(list)
    })
    .await
}

fn fields_of(i: &ItemRow) -> ItemFields {
    ItemFields {
        code: i.code.clone(),
        description_nb: i.description_nb.clone(),
        description_en: i.description_en.clone(),
        unit: i.unit.clone(),
        amount_ore: i.amount_ore,
        minimum_quantity: i.minimum_quantity,
        exempt_kinds: i.exempt_kinds.clone(),
        data_source_code: i.data_source_code.clone(),
        requires_hds_authority: i.requires_hds_authority,
    }
}

/// Refuses anything but a draft (409), before the transaction.
fn require_draft(list: &PriceListRow) -> AppResult<()> {
    if list.state != PriceListState::Draft {
        return Err(AppError::Conflict(PUBLISHED.into()));
    }
    Ok(())
}

/// Locks a draft for a change, checking again under the lock (and the version when given).
async fn lock_draft(tx: &mut AsyncPgConnection, id: i64, expected_version: Option<i32>) -> AppResult<PriceListRow> {
    let current = db::pricing::lock_list(tx, id).await?.ok_or(AppError::NotFound)?;
    require_draft(&current)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(crate::services::applications::stale());
    }
    Ok(current)
}

/// Changes a draft's date and notes.
pub async fn update(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    input: ListInput,
    now: DateTime<Utc>,
) -> AppResult<PriceListRow> {
    let mut errors = FieldErrors::new();
    let (valid_from, note_nb, note_en) = parse_header(&input, &mut errors);
    if input.version.is_none() {
        errors.add("version", "err-version-required");
    }
    // Check the state first: a published version is a 409 whatever the input.
    require_draft(&load(conn, user, id).await?)?;
    errors.into_result().map_err(AppError::Validation)?;
    let (valid_from, version, actor) =
        (valid_from.unwrap_or_default(), input.version.unwrap_or_default(), actor.clone());
    conn.transaction::<_, AppError, _>(async move |tx| {
        lock_draft(tx, id, None).await?;
        let updated = db::pricing::update_list(tx, id, version, valid_from, (&note_nb, &note_en))
            .await?
            .ok_or_else(crate::services::applications::stale)?;
        record(tx, &actor, now, id, "price_list.edited", json!({"valid_from": valid_from})).await?;
        Ok(updated)
    })
    .await
}

/// An item as written (amount in øre, or in kroner as text from a page).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ItemInput {
    pub code: Option<String>,
    pub description_nb: Option<String>,
    pub description_en: Option<String>,
    pub unit: Option<String>,
    pub amount_ore: Option<i64>,
    pub amount_nok: Option<String>,
    pub minimum_quantity: Option<i64>,
    pub exempt_kinds: Vec<String>,
    pub data_source_code: Option<String>,
    pub requires_hds_authority: bool,
}

fn parse_item(input: &ItemInput) -> AppResult<ItemFields> {
    let mut errors = FieldErrors::new();
    let code = errors.text("code", input.code.as_deref().unwrap_or(""), 1, 40).to_lowercase();
    if !code.is_empty() && !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        errors.add("code", "err-code");
    }
    let description_nb = errors.text("description_nb", input.description_nb.as_deref().unwrap_or(""), 1, 300);
    let description_en = errors.text("description_en", input.description_en.as_deref().unwrap_or(""), 1, 300);
    let unit = input.unit.clone().unwrap_or_default();
    if Unit::from_code(&unit).is_none() {
        errors.add("unit", "err-choice");
    }
    let amount_ore = match (input.amount_ore, input.amount_nok.as_deref().map(str::trim).filter(|s| !s.is_empty())) {
        (Some(ore), _) => Some(ore),
        (None, Some(text)) => pricing::parse_nok(text),
        (None, None) => None,
    };
    let amount_ore = match amount_ore {
        Some(a) if (0..=10_000_000_000).contains(&a) => a,
        _ => {
            errors.add("amount", "err-amount");
            0
        }
    };
    let minimum_quantity = input.minimum_quantity.unwrap_or(0);
    if !(0..=10_000).contains(&minimum_quantity) {
        errors.add("minimum_quantity", "err-amount");
    }
    let mut exempt_kinds = vec![];
    for k in &input.exempt_kinds {
        if !EXEMPT_KINDS.contains(&k.as_str()) {
            errors.add("exempt_kinds", "err-choice");
        } else if !exempt_kinds.contains(k) {
            exempt_kinds.push(k.clone());
        }
    }
    let data_source_code = input.data_source_code.as_deref().map(|s| s.trim().to_uppercase()).filter(|s| !s.is_empty());
    if data_source_code.as_ref().is_some_and(|c| c.len() > 20) {
        errors.add("data_source_code", "err-too-long");
    }
    errors.into_result().map_err(AppError::Validation)?;
    Ok(ItemFields {
        code,
        description_nb,
        description_en,
        unit,
        amount_ore,
        minimum_quantity: minimum_quantity as i32,
        exempt_kinds,
        data_source_code,
        requires_hds_authority: input.requires_hds_authority,
    })
}

fn duplicate_code(e: diesel::result::Error) -> AppError {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            let mut f = FieldErrors::new();
            f.add("code", "err-duplicate-code");
            AppError::Duplicate(f)
        }
        other => other.into(),
    }
}

/// Adds an item to a draft.
pub async fn add_item(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    input: ItemInput,
    now: DateTime<Utc>,
) -> AppResult<ItemRow> {
    require_draft(&load(conn, user, id).await?)?;
    let fields = parse_item(&input)?;
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        lock_draft(tx, id, None).await?;
        let item = db::pricing::insert_item(tx, id, &fields).await.map_err(duplicate_code)?;
        db::pricing::bump_list(tx, id).await?;
        let payload = json!({"item_id": item.id, "code": item.code, "amount_ore": item.amount_ore, "unit": item.unit});
        record(tx, &actor, now, id, "price_list.item_added", payload).await?;
        Ok(item)
    })
    .await
}

/// Changes an item of a draft.
pub async fn update_item(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    item_id: i64,
    input: ItemInput,
    now: DateTime<Utc>,
) -> AppResult<ItemRow> {
    require_draft(&load(conn, user, id).await?)?;
    let item = db::pricing::item(conn, item_id).await?.filter(|i| i.price_list_id == id).ok_or(AppError::NotFound)?;
    let fields = parse_item(&input)?;
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        lock_draft(tx, id, None).await?;
        let updated = db::pricing::update_item(tx, item.id, &fields).await.map_err(duplicate_code)?;
        db::pricing::bump_list(tx, id).await?;
        let payload = json!({"item_id": item.id, "code": updated.code, "amount_ore": updated.amount_ore, "previous_amount_ore": item.amount_ore});
        record(tx, &actor, now, id, "price_list.item_edited", payload).await?;
        Ok(updated)
    })
    .await
}

/// Removes an item from a draft.
pub async fn remove_item(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    item_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    require_draft(&load(conn, user, id).await?)?;
    let item = db::pricing::item(conn, item_id).await?.filter(|i| i.price_list_id == id).ok_or(AppError::NotFound)?;
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        lock_draft(tx, id, None).await?;
        db::pricing::delete_item(tx, item.id).await?;
        db::pricing::bump_list(tx, id).await?;
        record(tx, &actor, now, id, "price_list.item_removed", json!({"item_id": item.id, "code": item.code})).await
    })
    .await
}

/// Publishes a reviewed draft (its version must match what the reviewer saw). It comes into
/// force on its date, which may not lie in the past: prices already charged never change.
pub async fn publish(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    version: Option<i32>,
    now: DateTime<Utc>,
) -> AppResult<PriceListRow> {
    load(conn, user, id).await?;
    let (actor, by) = (actor.clone(), user.id);
    conn.transaction::<_, AppError, _>(async move |tx| {
        // The date and the items as they are under the list's lock: a change of either made
        // meanwhile (without a version) cannot slip a past date or an empty list through.
        let current = lock_draft(tx, id, version).await?;
        if current.valid_from < crate::domain::deadlines::oslo_date(now) {
            return Err(AppError::field("valid_from", "err-past-date"));
        }
        if db::pricing::items_of(tx, &[id]).await?.is_empty() {
            return Err(AppError::field("items", "err-no-items"));
        }
        let published = db::pricing::publish(tx, id, Some(by), now).await?;
        let payload = json!({"organisation_id": current.organisation_id, "valid_from": current.valid_from});
        record(tx, &actor, now, id, "price_list.published", payload).await?;
        Ok(published)
    })
    .await
}

/// Deletes a draft nobody needs.
pub async fn delete_draft(
    conn: &mut AsyncPgConnection,
    user: &User,
    actor: &Actor,
    id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    require_draft(&load(conn, user, id).await?)?;
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let current = lock_draft(tx, id, None).await?;
        db::pricing::delete_list(tx, id).await?;
        record(tx, &actor, now, id, "price_list.deleted", json!({"organisation_id": current.organisation_id})).await
    })
    .await
}

/// A version with its items as JSON (public and admin views).
pub fn list_json(list: &PriceListRow, items: &[ItemRow], organisation: Option<&db::catalogue::Organisation>) -> Value {
    json!({
        "id": list.id, "valid_from": list.valid_from, "state": list.state, "version": list.version,
        "note_nb": list.note_nb, "note_en": list.note_en, "published_at": list.published_at,
        "organisation": organisation.map(|o| json!({"id": o.id, "name": o.name, "name_en": o.name_en, "organisation_number": o.organisation_number, "is_hds": o.is_hds})),
        "items": items.iter().filter(|i| i.price_list_id == list.id).map(|i| json!({
            "id": i.id, "code": i.code, "description_nb": i.description_nb, "description_en": i.description_en,
            "unit": i.unit, "amount_ore": i.amount_ore, "minimum_quantity": i.minimum_quantity,
            "exempt_kinds": i.exempt_kinds, "data_source_code": i.data_source_code, "requires_hds_authority": i.requires_hds_authority,
        })).collect::<Vec<_>>(),
    })
}

/// The versions in force on `day`, one per organisation (Helsedataservice first), and the
/// published versions that come into force later.
pub async fn public(conn: &mut AsyncPgConnection, day: NaiveDate) -> AppResult<(Vec<Value>, Vec<Value>)> {
    let rows: Vec<PriceListRow> =
        db::pricing::lists(conn, None).await?.into_iter().filter(|r| r.state == PriceListState::Published).collect();
    let organisations = db::catalogue::organisations(conn).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let items = db::pricing::items_of(conn, &ids).await?;
    let mut current = vec![];
    let mut upcoming = vec![];
    let mut orgs = organisations.clone();
    orgs.sort_by_key(|o| (!o.is_hds, o.name.clone()));
    for org in &orgs {
        let mine: Vec<&PriceListRow> = rows.iter().filter(|r| r.organisation_id == org.id).collect();
        if let Some(c) = mine.iter().filter(|r| r.valid_from <= day).max_by_key(|r| (r.valid_from, r.id)) {
            current.push(list_json(c, &items, Some(org)));
        }
        for u in mine.iter().filter(|r| r.valid_from > day) {
            upcoming.push(list_json(u, &items, Some(org)));
        }
    }
    Ok((current, upcoming))
}
