//! Organisations, data sources and variables.

use super::schema::{data_sources, organisations, variables};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A stored organisation.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub name_en: Option<String>,
    pub organisation_number: String,
    pub is_hds: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    pub postal_address: String,
    pub postal_code: String,
    pub city: String,
    pub bank_account: Option<String>,
}

impl Organisation {
    /// Its postal address.
    pub fn address(&self) -> crate::domain::ehf::Address {
        crate::domain::ehf::Address {
            street: self.postal_address.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
        }
    }

    /// Where its invoices are sent from and paid to.
    pub fn invoicing(&self) -> InvoicingDetails {
        InvoicingDetails {
            postal_address: self.postal_address.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
            bank_account: self.bank_account.clone(),
        }
    }
}

/// An organisation's postal address and the bank account its invoices are paid to.
#[derive(Debug, Clone, Default, PartialEq, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
pub struct InvoicingDetails {
    pub postal_address: String,
    pub postal_code: String,
    pub city: String,
    pub bank_account: Option<String>,
}

/// A new organisation.
#[derive(Debug, Insertable)]
#[diesel(table_name = organisations)]
pub struct NewOrganisation<'a> {
    pub name: &'a str,
    pub name_en: Option<&'a str>,
    pub organisation_number: &'a str,
    pub is_hds: bool,
    #[diesel(embed)]
    pub invoicing: InvoicingDetails,
}

/// A stored data source (datakilde).
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = data_sources)]
pub struct DataSource {
    pub id: i64,
    pub code: String,
    pub name_nb: String,
    pub name_en: String,
    pub kind: String,
    pub owner_id: i64,
    pub decision_authority: crate::domain::catalogue::DecisionAuthority,
    pub on_common_form: bool,
    pub description_nb: String,
    pub description_en: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// The fields of a data source an admin sets.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = data_sources)]
pub struct SourceFields {
    pub code: String,
    pub name_nb: String,
    pub name_en: String,
    pub kind: String,
    pub owner_id: i64,
    pub decision_authority: String,
    pub on_common_form: bool,
    pub description_nb: String,
    pub description_en: String,
}

/// A stored variable of a data source.
#[derive(Debug, Clone, Queryable, Selectable, serde::Serialize)]
#[diesel(table_name = variables)]
pub struct Variable {
    pub id: i64,
    pub data_source_id: i64,
    pub name: String,
    pub description_nb: String,
    pub description_en: String,
    pub identifying: String,
}

/// A new variable.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = variables)]
pub struct NewVariable {
    pub data_source_id: i64,
    pub name: String,
    pub description_nb: String,
    pub description_en: String,
    pub identifying: String,
}

pub async fn organisations(mut conn: &AsyncPgConnection) -> QueryResult<Vec<Organisation>> {
    organisations::table.order(organisations::name).select(Organisation::as_select()).load(&mut conn).await
}

pub async fn organisation(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<Organisation>> {
    organisations::table.find(id).select(Organisation::as_select()).first(conn).await.optional()
}

pub async fn insert_organisation(conn: &mut AsyncPgConnection, new: &NewOrganisation<'_>) -> QueryResult<Organisation> {
    diesel::insert_into(organisations::table).values(new).returning(Organisation::as_returning()).get_result(conn).await
}

/// Renames an organisation and sets its invoicing details if it still has `version`; `None`
/// when stale.
pub async fn update_organisation(
    conn: &mut AsyncPgConnection,
    id: i64,
    version: i32,
    name: &str,
    name_en: Option<&str>,
    invoicing: &InvoicingDetails,
    now: DateTime<Utc>,
) -> QueryResult<Option<Organisation>> {
    diesel::update(organisations::table.filter(organisations::id.eq(id).and(organisations::version.eq(version))))
        .set((
            invoicing,
            organisations::name.eq(name),
            organisations::name_en.eq(name_en),
            organisations::version.eq(organisations::version + 1),
            organisations::updated_at.eq(now),
        ))
        .returning(Organisation::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Data sources with their owner, optionally filtered by a search text over code, names,
/// descriptions and variable names.
pub async fn sources(
    mut conn: &AsyncPgConnection,
    search: Option<&str>,
) -> QueryResult<Vec<(DataSource, Organisation)>> {
    let mut q = data_sources::table
        .inner_join(organisations::table)
        .select((DataSource::as_select(), Organisation::as_select()))
        .order(data_sources::code)
        .into_boxed();
    let search = search.map(|s| s.replace('\0', ""));
    if let Some(text) = search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let in_variables = variables::table.select(variables::data_source_id).filter(
            variables::name
                .ilike(pattern.clone())
                .or(variables::description_nb.ilike(pattern.clone()))
                .or(variables::description_en.ilike(pattern.clone())),
        );
        q = q.filter(
            data_sources::code
                .ilike(pattern.clone())
                .or(data_sources::name_nb.ilike(pattern.clone()))
                .or(data_sources::name_en.ilike(pattern.clone()))
                .or(data_sources::description_nb.ilike(pattern.clone()))
                .or(data_sources::description_en.ilike(pattern.clone()))
                .or(organisations::name.ilike(pattern))
                .or(data_sources::id.eq_any(in_variables)),
        );
    }
    q.load(&mut conn).await
}

/// The data sources with these ids (a form's requested sources), by code.
pub async fn sources_by_ids(mut conn: &AsyncPgConnection, ids: &[i64]) -> QueryResult<Vec<DataSource>> {
    data_sources::table
        .filter(data_sources::id.eq_any(ids))
        .order(data_sources::code)
        .select(DataSource::as_select())
        .load(&mut conn)
        .await
}

pub async fn source_by_id(conn: &mut AsyncPgConnection, id: i64) -> QueryResult<Option<(DataSource, Organisation)>> {
    data_sources::table
        .inner_join(organisations::table)
        .filter(data_sources::id.eq(id))
        .select((DataSource::as_select(), Organisation::as_select()))
        .first(conn)
        .await
        .optional()
}

pub async fn source_by_code(
    conn: &mut AsyncPgConnection,
    code: &str,
) -> QueryResult<Option<(DataSource, Organisation)>> {
    data_sources::table
        .inner_join(organisations::table)
        .filter(data_sources::code.eq(code))
        .select((DataSource::as_select(), Organisation::as_select()))
        .first(conn)
        .await
        .optional()
}

pub async fn insert_source(conn: &mut AsyncPgConnection, fields: &SourceFields) -> QueryResult<DataSource> {
    diesel::insert_into(data_sources::table).values(fields).returning(DataSource::as_returning()).get_result(conn).await
}

/// Updates a source if it still has `version`; `None` when stale.
pub async fn update_source(
    conn: &mut AsyncPgConnection,
    id: i64,
    version: i32,
    fields: &SourceFields,
    now: DateTime<Utc>,
) -> QueryResult<Option<DataSource>> {
    diesel::update(data_sources::table.filter(data_sources::id.eq(id).and(data_sources::version.eq(version))))
        .set((fields, data_sources::version.eq(data_sources::version + 1), data_sources::updated_at.eq(now)))
        .returning(DataSource::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Variables of the given sources, in name order.
pub async fn variables_of(mut conn: &AsyncPgConnection, source_ids: &[i64]) -> QueryResult<Vec<Variable>> {
    variables::table
        .filter(variables::data_source_id.eq_any(source_ids))
        .order((variables::data_source_id, variables::name))
        .select(Variable::as_select())
        .load(&mut conn)
        .await
}

pub async fn insert_variable(conn: &mut AsyncPgConnection, new: &NewVariable) -> QueryResult<Variable> {
    diesel::insert_into(variables::table).values(new).returning(Variable::as_returning()).get_result(conn).await
}

pub async fn delete_variable(
    conn: &mut AsyncPgConnection,
    source_id: i64,
    variable_id: i64,
) -> QueryResult<Option<Variable>> {
    diesel::delete(variables::table.filter(variables::id.eq(variable_id).and(variables::data_source_id.eq(source_id))))
        .returning(Variable::as_returning())
        .get_result(conn)
        .await
        .optional()
}

/// Counts for the statistics: sources on the common form, sources in total, variables.
pub async fn counts(conn: &mut AsyncPgConnection) -> QueryResult<(i64, i64, i64)> {
    let on_form = data_sources::table.filter(data_sources::on_common_form.eq(true)).count().get_result(conn).await?;
    let all = data_sources::table.count().get_result(conn).await?;
    let vars = variables::table.count().get_result(conn).await?;
    Ok((on_form, all, vars))
}

/// Sources in the variable explorer: those with at least one described variable.
pub async fn sources_with_variables(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    data_sources::table
        .filter(diesel::dsl::exists(variables::table.filter(variables::data_source_id.eq(data_sources::id))))
        .count()
        .get_result(conn)
        .await
}
