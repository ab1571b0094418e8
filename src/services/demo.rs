//! Demo data: the catalogue of real Norwegian data sources (from `src/demo/catalogue.json`) and
//! fictitious demo users. Loading is idempotent.

mod history;
pub use history::seed_history;

use super::Actor;
use super::accounts::{NewAccount, create_account};
use crate::db::{
    self,
    catalogue::{InvoicingDetails, NewOrganisation, NewVariable, SourceFields},
};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde::Deserialize;
use std::collections::HashMap;

const CATALOGUE: &str = include_str!("../demo/catalogue.json");

#[derive(Deserialize)]
struct Catalogue {
    organisations: Vec<Org>,
    data_sources: Vec<Source>,
    #[serde(default)]
    price_lists: Vec<DemoPriceList>,
}

/// A published price list version of the demo (SPEC §8: the real helsedata.no prices).
#[derive(Deserialize)]
struct DemoPriceList {
    organisation: String,
    valid_from: chrono::NaiveDate,
    note_nb: String,
    note_en: String,
    items: Vec<DemoItem>,
}

#[derive(Deserialize)]
struct DemoItem {
    code: String,
    description_nb: String,
    description_en: String,
    unit: String,
    amount_nok: i64,
    minimum_quantity: i32,
    exempt_kinds: Vec<String>,
    #[serde(default)]
    data_source_code: Option<String>,
    #[serde(default)]
    requires_hds_authority: bool,
}

#[derive(Deserialize)]
struct Org {
    key: String,
    name: String,
    name_en: Option<String>,
    organisation_number: String,
    is_hds: bool,
    /// The demo hourly rate for organisations without their own list in `price_lists`.
    #[serde(default)]
    hourly_rate_nok: Option<i64>,
    #[serde(default)]
    minimum_hours: i32,
    /// Whether the rate is illustrative (not published by the organisation).
    #[serde(default)]
    rate_is_demo: bool,
    #[serde(default)]
    postal_address: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    bank_account: Option<String>,
}

#[derive(Deserialize)]
struct Source {
    code: String,
    name_nb: String,
    name_en: String,
    kind: String,
    owner: String,
    decision_authority: String,
    on_common_form: bool,
    description_nb: String,
    description_en: String,
    variables: Vec<Var>,
}

#[derive(Deserialize)]
struct Var {
    name: String,
    description_nb: String,
    description_en: String,
    identifying: String,
}

/// Loads the demo catalogue unless its organisations are already there.
pub async fn seed_catalogue(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<()> {
    let catalogue: Catalogue =
        serde_json::from_str(CATALOGUE).map_err(|e| AppError::Internal(format!("demo catalogue: {e}")))?;
    if !db::catalogue::organisations(conn).await?.is_empty() {
        return seed_price_lists(conn, now).await;
    }
    conn.transaction::<_, AppError, _>(async move |tx| {
        let mut ids = HashMap::new();
        for o in &catalogue.organisations {
            let org = db::catalogue::insert_organisation(
                tx,
                &NewOrganisation {
                    name: &o.name,
                    name_en: o.name_en.as_deref(),
                    organisation_number: &o.organisation_number,
                    is_hds: o.is_hds,
                    invoicing: InvoicingDetails {
                        postal_address: o.postal_address.clone(),
                        postal_code: o.postal_code.clone(),
                        city: o.city.clone(),
                        bank_account: o.bank_account.clone(),
                    },
                },
            )
            .await?;
            ids.insert(o.key.clone(), org.id);
        }
        for s in catalogue.data_sources {
            let owner_id = *ids
                .get(&s.owner)
                .ok_or_else(|| AppError::Internal(format!("demo catalogue: unknown owner {}", s.owner)))?;
            let source = db::catalogue::insert_source(
                tx,
                &SourceFields {
                    code: s.code,
                    name_nb: s.name_nb,
                    name_en: s.name_en,
                    kind: s.kind,
                    owner_id,
                    decision_authority: s.decision_authority,
                    on_common_form: s.on_common_form,
                    description_nb: s.description_nb,
                    description_en: s.description_en,
                },
            )
            .await?;
            for v in s.variables {
                db::catalogue::insert_variable(
                    tx,
                    &NewVariable {
                        data_source_id: source.id,
                        name: v.name,
                        description_nb: v.description_nb,
                        description_en: v.description_en,
                        identifying: v.identifying,
                    },
                )
                .await?;
            }
        }
        super::record_event(
            tx,
            &Actor::system(),
            now,
            ("system", None),
            "demo.catalogue_loaded",
            serde_json::json!({}),
        )
        .await?;
        Ok(())
    })
    .await?;
    seed_price_lists(conn, now).await
}

/// Publishes the demo price lists unless some price list exists: the helsedata.no prices of
/// SPEC §8 for Helsedataservice and FHI (with Kreftregisteret's extracts), and for every other
/// organisation an hourly rate from the catalogue — illustrative, and said so in its note.
pub async fn seed_price_lists(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<()> {
    let catalogue: Catalogue =
        serde_json::from_str(CATALOGUE).map_err(|e| AppError::Internal(format!("demo catalogue: {e}")))?;
    if !db::pricing::lists(conn, None).await?.is_empty() {
        return Ok(());
    }
    let stored = db::catalogue::organisations(conn).await?;
    let id_of = |key: &str| {
        let number = catalogue.organisations.iter().find(|o| o.key == key).map(|o| o.organisation_number.clone());
        stored.iter().find(|o| Some(&o.organisation_number) == number.as_ref()).map(|o| o.id)
    };
    let mut lists: Vec<(i64, &DemoPriceList)> = vec![];
    for l in &catalogue.price_lists {
        let org = id_of(&l.organisation)
            .ok_or_else(|| AppError::Internal(format!("demo price list: unknown organisation {}", l.organisation)))?;
        lists.push((org, l));
    }
    let generated: Vec<(i64, DemoPriceList)> = catalogue
        .organisations
        .iter()
        .filter(|o| !catalogue.price_lists.iter().any(|l| l.organisation == o.key))
        .filter_map(|o| {
            let rate = o.hourly_rate_nok?;
            let (nb, en) = if o.rate_is_demo {
                (
                    "Illustrativ timepris i demodataene, ikke publisert av virksomheten.",
                    "Illustrative hourly rate of the demo data, not published by the organisation.",
                )
            } else {
                ("", "")
            };
            let list = DemoPriceList {
                organisation: o.key.clone(),
                valid_from: chrono::NaiveDate::from_ymd_opt(2023, 1, 1)?,
                note_nb: nb.into(),
                note_en: en.into(),
                items: vec![DemoItem {
                    code: "hour".into(),
                    description_nb: "Tilrettelegging og utlevering av data, per påbegynte time".into(),
                    description_en: "Preparation and release of data, per started hour".into(),
                    unit: "per_started_hour".into(),
                    amount_nok: rate,
                    minimum_quantity: o.minimum_hours,
                    exempt_kinds: vec!["student_thesis".into(), "appeal".into()],
                    data_source_code: None,
                    requires_hds_authority: false,
                }],
            };
            Some((id_of(&o.key)?, list))
        })
        .collect();
    let all: Vec<(i64, &DemoPriceList)> = lists.into_iter().chain(generated.iter().map(|(o, l)| (*o, l))).collect();
    let rows: Vec<(i64, chrono::NaiveDate, String, String, Vec<db::pricing::ItemFields>)> = all
        .iter()
        .map(|(org, l)| {
            let items = l
                .items
                .iter()
                .map(|i| db::pricing::ItemFields {
                    code: i.code.clone(),
                    description_nb: i.description_nb.clone(),
                    description_en: i.description_en.clone(),
                    unit: i.unit.clone(),
                    amount_ore: i.amount_nok * 100,
                    minimum_quantity: i.minimum_quantity,
                    exempt_kinds: i.exempt_kinds.clone(),
                    data_source_code: i.data_source_code.clone(),
                    requires_hds_authority: i.requires_hds_authority,
                })
                .collect();
            (*org, l.valid_from, l.note_nb.clone(), l.note_en.clone(), items)
        })
        .collect();
    conn.transaction::<_, AppError, _>(async move |tx| {
        for (org, valid_from, note_nb, note_en, items) in &rows {
            let list = db::pricing::insert_list(tx, *org, *valid_from, (note_nb, note_en), None, now).await?;
            for item in items {
                db::pricing::insert_item(tx, list.id, item).await?;
            }
            db::pricing::publish(tx, list.id, None, now).await?;
        }
        super::record_event(
            tx,
            &Actor::system(),
            now,
            ("system", None),
            "demo.price_lists_loaded",
            serde_json::json!({"versions": rows.len()}),
        )
        .await?;
        Ok(())
    })
    .await
}

/// A demo login printed at start-up.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub email: &'static str,
    pub password: &'static str,
    pub role: &'static str,
    pub name: &'static str,
    /// Organisation number of the register owner's organisation.
    pub organisation: Option<&'static str>,
}

/// The fictitious demo users (no real persons).
pub const DEMO_LOGINS: [DemoLogin; 5] = [
    DemoLogin {
        email: "admin@demo.helsedata.no",
        password: "Demo-admin-2026",
        role: "admin",
        name: "Ada Administrator",
        organisation: None,
    },
    DemoLogin {
        email: "forsker@demo.helsedata.no",
        password: "Demo-forsker-2026",
        role: "applicant",
        name: "Fredrik Forsker",
        organisation: None,
    },
    DemoLogin {
        email: "saksbehandler@demo.helsedata.no",
        password: "Demo-saksbehandler-2026",
        role: "case_officer",
        name: "Sara Saksbehandler",
        organisation: Some("915933149"),
    },
    DemoLogin {
        email: "fhi@demo.helsedata.no",
        password: "Demo-fhi-2026",
        role: "register_owner",
        name: "Frida Forvalter (FHI)",
        organisation: Some("983744516"),
    },
    DemoLogin {
        email: "hdir@demo.helsedata.no",
        password: "Demo-hdir-2026",
        role: "register_owner",
        name: "Henrik Forvalter (Helsedirektoratet)",
        organisation: Some("983544622"),
    },
];

/// Creates the demo users that are missing.
pub async fn seed_users(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<()> {
    let orgs = db::catalogue::organisations(conn).await?;
    for login in DEMO_LOGINS {
        if db::users::by_email(conn, login.email).await?.is_some() {
            continue;
        }
        let organisation_id =
            login.organisation.and_then(|n| orgs.iter().find(|o| o.organisation_number == n)).map(|o| o.id);
        let input = NewAccount {
            email: login.email.into(),
            name: login.name.into(),
            password: login.password.into(),
            role: Some(login.role.into()),
            organisation_id,
            language: Some("nb".into()),
        };
        create_account(conn, &Actor::system(), input, false, now).await?;
    }
    Ok(())
}
