//! Demo data: the catalogue of real Norwegian data sources (from `src/demo/catalogue.json`) and
//! fictitious demo users. Loading is idempotent.

use super::Actor;
use super::accounts::{NewAccount, create_account};
use crate::db::{
    self,
    catalogue::{NewOrganisation, NewVariable, SourceFields},
    events::NewEvent,
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
}

#[derive(Deserialize)]
struct Org {
    key: String,
    name: String,
    name_en: Option<String>,
    organisation_number: String,
    is_hds: bool,
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
        return Ok(());
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
        db::events::append(
            tx,
            now,
            NewEvent {
                actor_id: None,
                address: None,
                subject_type: "system",
                subject_id: None,
                kind: "demo.catalogue_loaded",
                payload: serde_json::json!({}),
            },
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
