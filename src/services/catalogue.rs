//! The catalogue: organisations, data sources, variables. Changes are admin commands, each one
//! transaction with its event; a change of decision authority is an event of its own.

use super::Actor;
use super::accounts::{organisation_number, unique_violation};
use crate::db::{
    self,
    catalogue::{DataSource, InvoicingDetails, NewOrganisation, NewVariable, Organisation, SourceFields, Variable},
    events::Event,
};
use crate::domain::catalogue::{
    DecisionAuthority, Identifying, SourceKind, is_valid_source_code, is_valid_variable_name,
};
use crate::domain::fields::FieldErrors;
use crate::domain::payment;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::json;

async fn record(
    tx: &mut AsyncPgConnection,
    actor: &Actor,
    now: DateTime<Utc>,
    subject: (&str, i64),
    kind: &str,
    payload: serde_json::Value,
) -> AppResult<()> {
    super::record_event(tx, actor, now, (subject.0, Some(subject.1)), kind, payload).await?;
    Ok(())
}

/// Input for an organisation.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct OrganisationInput {
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    #[serde(default)]
    pub organisation_number: String,
    /// Postal address (street or PO box), printed on its invoices. Each invoicing field left
    /// out keeps its value (empty for a new organisation); an empty text clears it.
    #[serde(default)]
    pub postal_address: Option<String>,
    /// Four-digit postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    /// The bank account its invoices are paid to (eleven digits, dots and spaces allowed).
    #[serde(default)]
    pub bank_account: Option<String>,
    #[serde(default)]
    pub version: Option<i32>,
}

/// Checks an organisation's postal address and bank account over what it had (`before`);
/// every field may be empty.
fn invoicing_details(
    input: &OrganisationInput,
    before: InvoicingDetails,
    errors: &mut FieldErrors,
) -> InvoicingDetails {
    let optional = |errors: &mut FieldErrors, field: &str, value: Option<&String>, old: String, max: usize| match value
        .map(|v| v.trim())
    {
        None => old,
        Some("") => String::new(),
        Some(v) => errors.text(field, v, 1, max),
    };
    let postal_address = optional(errors, "postal_address", input.postal_address.as_ref(), before.postal_address, 200);
    let city = optional(errors, "city", input.city.as_ref(), before.city, 100);
    let postal_code = input.postal_code.as_deref().map(|c| c.trim().to_string()).unwrap_or(before.postal_code);
    if !postal_code.is_empty() && !payment::valid_postal_code(&postal_code) {
        errors.add("postal_code", "err-postal-code");
    }
    let bank_account = match input.bank_account.as_deref().map(str::trim) {
        None => before.bank_account,
        Some("") => None,
        Some(text) => {
            let account = payment::account_number(text);
            if account.is_none() {
                errors.add("bank_account", "err-bank-account");
            }
            account
        }
    };
    InvoicingDetails { postal_address, postal_code, city, bank_account }
}

/// Creates an organisation (admin).
pub async fn create_organisation(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    input: OrganisationInput,
    now: DateTime<Utc>,
) -> AppResult<Organisation> {
    let mut errors = FieldErrors::new();
    let name = errors.text("name", &input.name, 2, 200);
    let name_en =
        input.name_en.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| errors.text("name_en", s, 2, 200));
    let number = organisation_number(&input.organisation_number, "organisation_number", &mut errors);
    let invoicing = invoicing_details(&input, InvoicingDetails::default(), &mut errors);
    errors.clone().into_result().map_err(AppError::Validation)?;
    let number = number.ok_or(AppError::Validation(errors))?;
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let org = db::catalogue::insert_organisation(
            tx,
            &NewOrganisation {
                name: &name,
                name_en: name_en.as_deref(),
                organisation_number: number.as_str(),
                is_hds: false,
                invoicing,
            },
        )
        .await
        .map_err(|e| unique_violation(e, "organisation_number"))?;
        record(
            tx,
            &actor,
            now,
            ("organisation", org.id),
            "organisation.created",
            json!({"name": org.name, "organisation_number": org.organisation_number}),
        )
        .await?;
        Ok(org)
    })
    .await
}

/// Renames an organisation (admin); the number is fixed once registered.
pub async fn update_organisation(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    id: i64,
    input: OrganisationInput,
    now: DateTime<Utc>,
) -> AppResult<Organisation> {
    let before = db::catalogue::organisation(conn, id).await?.ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let name = errors.text("name", &input.name, 2, 200);
    let name_en =
        input.name_en.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| errors.text("name_en", s, 2, 200));
    let invoicing = invoicing_details(&input, before.invoicing(), &mut errors);
    errors.into_result().map_err(AppError::Validation)?;
    let version = input.version.unwrap_or(before.version);
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let org = db::catalogue::update_organisation(tx, id, version, &name, name_en.as_deref(), &invoicing, now)
            .await?
            .ok_or_else(|| AppError::Conflict("err-organisation-changed".into()))?;
        record(
            tx,
            &actor,
            now,
            ("organisation", id),
            "organisation.updated",
            if before.invoicing() == org.invoicing() {
                json!({"from": before.name, "to": org.name})
            } else {
                json!({"from": before.name, "to": org.name, "invoicing": org.invoicing()})
            },
        )
        .await?;
        Ok(org)
    })
    .await
}

/// Input for a data source.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct SourceInput {
    pub code: String,
    pub name_nb: String,
    pub name_en: String,
    pub kind: String,
    pub owner_id: Option<i64>,
    pub decision_authority: String,
    pub on_common_form: bool,
    #[serde(default)]
    pub description_nb: String,
    #[serde(default)]
    pub description_en: String,
    #[serde(default)]
    pub version: Option<i32>,
}

async fn check_source(conn: &mut AsyncPgConnection, input: &SourceInput) -> AppResult<SourceFields> {
    let mut errors = FieldErrors::new();
    let code = input.code.trim().to_uppercase();
    if code.is_empty() {
        errors.add("code", "err-required");
    } else if !is_valid_source_code(&code) {
        errors.add("code", "err-source-code");
    }
    let name_nb = errors.text("name_nb", &input.name_nb, 2, 200);
    let name_en = errors.text("name_en", &input.name_en, 2, 200);
    let description_nb = errors.text("description_nb", &input.description_nb, 0, 4000);
    let description_en = errors.text("description_en", &input.description_en, 0, 4000);
    if SourceKind::from_code(&input.kind).is_none() {
        errors.add("kind", "err-choice");
    }
    if DecisionAuthority::from_code(&input.decision_authority).is_none() {
        errors.add("decision_authority", "err-choice");
    }
    match input.owner_id {
        None => errors.add("owner_id", "err-required"),
        Some(id) => {
            if db::catalogue::organisation(conn, id).await?.is_none() {
                errors.add("owner_id", "err-no-such-organisation");
            }
        }
    }
    errors.into_result().map_err(AppError::Validation)?;
    Ok(SourceFields {
        code,
        name_nb,
        name_en,
        kind: input.kind.clone(),
        owner_id: input.owner_id.unwrap_or_default(),
        decision_authority: input.decision_authority.clone(),
        on_common_form: input.on_common_form,
        description_nb,
        description_en,
    })
}

/// Adds a data source (admin).
pub async fn create_source(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    input: SourceInput,
    now: DateTime<Utc>,
) -> AppResult<DataSource> {
    let fields = check_source(conn, &input).await?;
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let source = db::catalogue::insert_source(tx, &fields).await.map_err(|e| unique_violation(e, "code"))?;
        record(
            tx,
            &actor,
            now,
            ("data_source", source.id),
            "data_source.created",
            json!({"code": source.code, "decision_authority": source.decision_authority}),
        )
        .await?;
        Ok(source)
    })
    .await
}

/// Edits a data source (admin); a change of decision authority is recorded as its own event.
pub async fn update_source(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    id: i64,
    input: SourceInput,
    now: DateTime<Utc>,
) -> AppResult<DataSource> {
    let (before, _) = db::catalogue::source_by_id(conn, id).await?.ok_or(AppError::NotFound)?;
    let fields = check_source(conn, &input).await?;
    let version = input.version.unwrap_or(before.version);
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let source = db::catalogue::update_source(tx, id, version, &fields, now)
            .await
            .map_err(|e| unique_violation(e, "code"))?
            .ok_or_else(|| AppError::Conflict("err-source-changed".into()))?;
        record(
            tx,
            &actor,
            now,
            ("data_source", id),
            "data_source.updated",
            json!({"code": source.code, "version": source.version}),
        )
        .await?;
        if before.decision_authority != source.decision_authority {
            record(
                tx,
                &actor,
                now,
                ("data_source", id),
                "data_source.decision_authority_changed",
                json!({"code": source.code, "from": before.decision_authority, "to": source.decision_authority}),
            )
            .await?;
        }
        Ok(source)
    })
    .await
}

/// Input for a variable.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct VariableInput {
    pub name: String,
    #[serde(default)]
    pub description_nb: String,
    #[serde(default)]
    pub description_en: String,
    pub identifying: String,
}

/// Adds a variable to a source (admin).
pub async fn add_variable(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    source_id: i64,
    input: VariableInput,
    now: DateTime<Utc>,
) -> AppResult<Variable> {
    db::catalogue::source_by_id(conn, source_id).await?.ok_or(AppError::NotFound)?;
    let mut errors = FieldErrors::new();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "err-required");
    } else if !is_valid_variable_name(&name) {
        errors.add("name", "err-variable-name");
    }
    let description_nb = errors.text("description_nb", &input.description_nb, 0, 1000);
    let description_en = errors.text("description_en", &input.description_en, 0, 1000);
    if Identifying::from_code(&input.identifying).is_none() {
        errors.add("identifying", "err-choice");
    }
    errors.into_result().map_err(AppError::Validation)?;
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let v = db::catalogue::insert_variable(
            tx,
            &NewVariable {
                data_source_id: source_id,
                name,
                description_nb,
                description_en,
                identifying: input.identifying,
            },
        )
        .await
        .map_err(|e| unique_violation(e, "name"))?;
        record(
            tx,
            &actor,
            now,
            ("data_source", source_id),
            "variable.added",
            json!({"name": v.name, "identifying": v.identifying}),
        )
        .await?;
        Ok(v)
    })
    .await
}

/// Removes a variable from a source (admin).
pub async fn remove_variable(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    source_id: i64,
    variable_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let actor = actor.clone();
    conn.transaction::<_, AppError, _>(async move |tx| {
        let v = db::catalogue::delete_variable(tx, source_id, variable_id).await?.ok_or(AppError::NotFound)?;
        record(tx, &actor, now, ("data_source", source_id), "variable.removed", json!({"name": v.name})).await?;
        Ok(())
    })
    .await
}

/// Every organisation.
pub async fn organisations(conn: &AsyncPgConnection) -> AppResult<Vec<Organisation>> {
    Ok(db::catalogue::organisations(conn).await?)
}

/// One organisation, or 404.
pub async fn organisation(conn: &mut AsyncPgConnection, id: i64) -> AppResult<Organisation> {
    db::catalogue::organisation(conn, id).await?.ok_or(AppError::NotFound)
}

/// How many sources are on the common form, how many there are, and how many variables.
pub async fn counts(conn: &mut AsyncPgConnection) -> AppResult<(i64, i64, i64)> {
    Ok(db::catalogue::counts(conn).await?)
}

/// The sources with their owners, optionally searched (without variables).
pub async fn sources(conn: &AsyncPgConnection, search: Option<&str>) -> AppResult<Vec<(DataSource, Organisation)>> {
    Ok(db::catalogue::sources(conn, search).await?)
}

/// The catalogue: sources with their owners, optionally searched, and the variables of those sources.
pub struct Catalogue {
    pub sources: Vec<(DataSource, Organisation)>,
    pub variables: Vec<Variable>,
}

/// The catalogue with its variables, optionally searched.
pub async fn catalogue(conn: &AsyncPgConnection, search: Option<&str>) -> AppResult<Catalogue> {
    let sources = db::catalogue::sources(conn, search).await?;
    let ids: Vec<i64> = sources.iter().map(|(s, _)| s.id).collect();
    let variables = db::catalogue::variables_of(conn, &ids).await?;
    Ok(Catalogue { sources, variables })
}

/// One source with its owner and variables.
pub struct SourceEntry {
    pub source: DataSource,
    pub owner: Organisation,
    pub variables: Vec<Variable>,
}

/// A source with its owner (without variables), or 404.
pub async fn source_with_owner(conn: &mut AsyncPgConnection, id: i64) -> AppResult<(DataSource, Organisation)> {
    db::catalogue::source_by_id(conn, id).await?.ok_or(AppError::NotFound)
}

/// A source by id with its owner and variables, or 404.
pub async fn source_by_id(conn: &mut AsyncPgConnection, id: i64) -> AppResult<SourceEntry> {
    let (source, owner) = source_with_owner(conn, id).await?;
    let variables = db::catalogue::variables_of(conn, &[source.id]).await?;
    Ok(SourceEntry { source, owner, variables })
}

/// A source by its (upper-case) code with its owner and variables, or 404.
pub async fn source_by_code(conn: &mut AsyncPgConnection, code: &str) -> AppResult<SourceEntry> {
    let (source, owner) = db::catalogue::source_by_code(conn, code).await?.ok_or(AppError::NotFound)?;
    let variables = db::catalogue::variables_of(conn, &[source.id]).await?;
    Ok(SourceEntry { source, owner, variables })
}

/// A source by id with its owner, variables and the events about it (the admin's page), or 404.
pub async fn source_with_history(conn: &mut AsyncPgConnection, id: i64) -> AppResult<(SourceEntry, Vec<Event>)> {
    let entry = source_by_id(conn, id).await?;
    let history = db::events::for_subject(conn, "data_source", id).await?;
    Ok((entry, history))
}
