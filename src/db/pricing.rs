//! Price list versions and their items.

use super::schema::{price_items, price_lists};
use crate::domain::pricing::{self, PriceItem, PriceList};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored price list version.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = price_lists)]
pub struct PriceListRow {
    pub id: i64,
    pub organisation_id: i64,
    pub valid_from: NaiveDate,
    pub state: crate::domain::pricing::PriceListState,
    pub note_nb: String,
    pub note_en: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub published_by: Option<i64>,
    pub published_at: Option<DateTime<Utc>>,
    pub version: i32,
}

/// A stored price item.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = price_items)]
pub struct ItemRow {
    pub id: i64,
    pub price_list_id: i64,
    pub code: String,
    pub description_nb: String,
    pub description_en: String,
    pub unit: String,
    pub amount_ore: i64,
    pub minimum_quantity: i32,
    pub exempt_kinds: Vec<String>,
    pub data_source_code: Option<String>,
    pub requires_hds_authority: bool,
}

impl ItemRow {
    /// The item as pricing sees it (an unknown unit never matches anything).
    pub fn to_domain(&self) -> Option<PriceItem> {
        Some(PriceItem {
            code: self.code.clone(),
            description_nb: self.description_nb.clone(),
            description_en: self.description_en.clone(),
            unit: pricing::Unit::from_code(&self.unit)?,
            amount_ore: self.amount_ore,
            minimum_quantity: i64::from(self.minimum_quantity),
            exempt_kinds: self.exempt_kinds.clone(),
            data_source_code: self.data_source_code.clone(),
            requires_hds_authority: self.requires_hds_authority,
        })
    }
}

/// The fields of an item as written.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = price_items)]
pub struct ItemFields {
    pub code: String,
    pub description_nb: String,
    pub description_en: String,
    pub unit: String,
    pub amount_ore: i64,
    pub minimum_quantity: i32,
    pub exempt_kinds: Vec<String>,
    #[diesel(treat_none_as_null = true)]
    pub data_source_code: Option<String>,
    pub requires_hds_authority: bool,
}

/// Every version, newest first; of one organisation when given.
pub async fn lists(conn: &mut AsyncPgConnection, organisation_id: Option<i64>) -> QueryResult<Vec<PriceListRow>> {
    let mut q = price_lists::table.select(PriceListRow::as_select()).into_boxed();
    if let Some(org) = organisation_id {
        q = q.filter(price_lists::organisation_id.eq(org));
    }
    q.order((price_lists::organisation_id, price_lists::valid_from.desc(), price_lists::id.desc())).load(conn).await
}

pub async fn list(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<PriceListRow>> {
    price_lists::table.find(id).select(PriceListRow::as_select()).first(conn).await.optional()
}

pub async fn lock_list(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<PriceListRow>> {
    price_lists::table.find(id).for_update().select(PriceListRow::as_select()).first(conn).await.optional()
}

pub async fn items_of(mut conn: &AsyncPgConnection, list_ids: &[i64]) -> QueryResult<Vec<ItemRow>> {
    price_items::table
        .filter(price_items::price_list_id.eq_any(list_ids))
        .order((price_items::price_list_id, price_items::id))
        .select(ItemRow::as_select())
        .load(&mut conn)
        .await
}

pub async fn item(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<ItemRow>> {
    price_items::table.find(id).select(ItemRow::as_select()).first(conn).await.optional()
}

/// Every published version with its items, as pricing sees them.
pub async fn published(mut conn: &AsyncPgConnection) -> QueryResult<Vec<PriceList>> {
    let rows: Vec<PriceListRow> = price_lists::table
        .filter(price_lists::state.eq("published"))
        .select(PriceListRow::as_select())
        .load(&mut conn)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let items = items_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| PriceList {
            id: r.id,
            organisation_id: r.organisation_id,
            valid_from: r.valid_from,
            items: items.iter().filter(|i| i.price_list_id == r.id).filter_map(ItemRow::to_domain).collect(),
        })
        .collect())
}

pub async fn insert_list(
    conn: &mut AsyncPgConnection,
    organisation_id: i64,
    valid_from: NaiveDate,
    notes: (&str, &str),
    by: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<PriceListRow> {
    diesel::insert_into(price_lists::table)
        .values((
            price_lists::organisation_id.eq(organisation_id),
            price_lists::valid_from.eq(valid_from),
            price_lists::note_nb.eq(notes.0),
            price_lists::note_en.eq(notes.1),
            price_lists::created_by.eq(by),
            price_lists::created_at.eq(now),
        ))
        .returning(PriceListRow::as_returning())
        .get_result(conn)
        .await
}

/// Changes a draft's date and notes if `version` is current.
pub async fn update_list(
    conn: &mut AsyncPgConnection,
    id: i64,
    version: i32,
    valid_from: NaiveDate,
    notes: (&str, &str),
) -> QueryResult<Option<PriceListRow>> {
    diesel::update(price_lists::table.find(id).filter(price_lists::version.eq(version)))
        .set((
            price_lists::valid_from.eq(valid_from),
            price_lists::note_nb.eq(notes.0),
            price_lists::note_en.eq(notes.1),
            price_lists::version.eq(price_lists::version + 1),
        ))
        .returning(PriceListRow::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Counts an edit of a draft's items in its version (so a stale page cannot publish).
pub async fn bump_list(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::update(price_lists::table.find(id))
        .set(price_lists::version.eq(price_lists::version + 1))
        .execute(conn)
        .await
}

pub async fn publish(
    conn: &mut AsyncPgConnection,
    id: i64,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> QueryResult<PriceListRow> {
    diesel::update(price_lists::table.find(id))
        .set((
            price_lists::state.eq("published"),
            price_lists::published_by.eq(by),
            price_lists::published_at.eq(now),
            price_lists::version.eq(price_lists::version + 1),
        ))
        .returning(PriceListRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn delete_list(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(price_lists::table.find(id)).execute(conn).await
}

pub async fn insert_item(conn: &mut AsyncPgConnection, list_id: i64, fields: &ItemFields) -> QueryResult<ItemRow> {
    diesel::insert_into(price_items::table)
        .values((fields, price_items::price_list_id.eq(list_id)))
        .returning(ItemRow::as_returning())
        .get_result(conn)
        .await
}

pub async fn update_item(conn: &mut AsyncPgConnection, id: i64, fields: &ItemFields) -> QueryResult<ItemRow> {
    diesel::update(price_items::table.find(id)).set(fields).returning(ItemRow::as_returning()).get_result(conn).await
}

pub async fn delete_item(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<usize> {
    diesel::delete(price_items::table.find(id)).execute(conn).await
}
