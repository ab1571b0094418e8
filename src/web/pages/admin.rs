//! Admin pages: users and roles, organisations, the catalogue (sources, variables, decision
//! authority) and the audit log.

use super::auth::PageOr;
use crate::db::Pool;
use crate::domain::catalogue::{DecisionAuthority, Identifying, SourceKind};
use crate::domain::role::{Permission, Role};
use crate::error::{AppError, AppResult};
use crate::services::{self, accounts, catalogue};
use crate::web::context::{Back, Ctx};
use crate::web::csrf::{CsrfForm, CsrfOnly};
use crate::web::template::Template;
use chrono::Utc;
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{State, get, post, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![
        overview,
        users,
        create_user,
        user,
        update_user,
        organisations,
        create_organisation,
        organisation,
        update_organisation,
        sources,
        new_source,
        create_source,
        source,
        update_source,
        add_variable,
        remove_variable,
        audit,
        verify_audit
    ]
}

fn saved(to: impl Into<Back>, ctx: &Ctx) -> PageOr {
    PageOr::Flash(to.into().success(ctx.t("saved")))
}

/// Re-renders a form page with its errors, or passes other errors on.
fn form_error(ctx: &Ctx, e: AppError, template: &'static str, mut data: Value) -> AppResult<PageOr> {
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

#[get("/admin")]
async fn overview(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = services::conn(pool).await?;
    let chain = services::audit::last(&conn).await?;
    let (on_form, all, variables) = catalogue::counts(&mut conn).await?;
    Ok(ctx.page(
        "pages/admin/overview",
        json!({"chain": chain, "counts": {"on_form": on_form, "sources": all, "variables": variables}}),
    ))
}

fn role_options(selected: &str) -> Vec<Value> {
    Role::ALL
        .iter()
        .map(
            |r| json!({"value": r.code(), "label_key": format!("role-{}", r.code()), "selected": r.code() == selected}),
        )
        .collect()
}

async fn org_options(pool: &Pool, selected: Option<i64>) -> AppResult<Vec<Value>> {
    let conn = services::conn(pool).await?;
    Ok(catalogue::organisations(&conn)
        .await?
        .into_iter()
        .map(|o| json!({"value": o.id, "label": o.name, "selected": Some(o.id) == selected}))
        .collect())
}

async fn users_data(pool: &Pool, form: Value) -> AppResult<Value> {
    let mut conn = services::conn(pool).await?;
    let users: Vec<Value> = accounts::users(&mut conn)
        .await?
        .into_iter()
        .map(|(u, org)| json!({"id": u.id, "email": u.email, "name": u.name, "role_key": format!("role-{}", u.role), "organisation": org, "active": u.active}))
        .collect();
    let role = form.get("role").and_then(Value::as_str).unwrap_or("applicant").to_string();
    let org = form.get("organisation_id").and_then(Value::as_i64);
    // A request holds one connection at a time: waiting for a second while holding one could
    // wait for ever once the pool is busy (every request holding one, each waiting for another).
    drop(conn);
    Ok(
        json!({"users": users, "form": form, "roles": role_options(&role), "organisations": org_options(pool, org).await?}),
    )
}

#[get("/admin/users")]
async fn users(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    ctx.require(Permission::ManageUsers)?;
    Ok(ctx.page("pages/admin/users", users_data(pool, json!({})).await?))
}

#[derive(FromForm)]
struct UserForm {
    email: String,
    name: String,
    password: String,
    role: String,
    organisation_id: Option<i64>,
    language: String,
}

#[post("/admin/users", data = "<form>")]
async fn create_user(ctx: Ctx, pool: &State<Pool>, form: CsrfForm<UserForm>) -> AppResult<PageOr> {
    ctx.require(Permission::ManageUsers)?;
    let f = form.0;
    let input = accounts::NewAccount {
        email: f.email.clone(),
        name: f.name.clone(),
        password: f.password,
        role: Some(f.role.clone()),
        organisation_id: f.organisation_id,
        language: Some(f.language.clone()),
    };
    let result =
        accounts::create_account(&mut *services::conn(pool).await?, &ctx.actor(), input, false, Utc::now()).await;
    match result {
        Ok(u) => Ok(saved(format!("/admin/users/{}", u.id), &ctx)),
        Err(e) => {
            let form = json!({"email": f.email, "name": f.name, "role": f.role, "organisation_id": f.organisation_id, "language": f.language});
            form_error(&ctx, e, "pages/admin/users", users_data(pool, form).await?)
        }
    }
}

async fn user_data(pool: &Pool, id: i64, form: Option<Value>) -> AppResult<Value> {
    let mut conn = services::conn(pool).await?;
    let (u, history) = accounts::user_with_history(&mut conn, id).await?;
    let history: Vec<Value> =
        history.into_iter().map(|e| json!({"at": crate::domain::deadlines::oslo_time(e.at, false), "iso": e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "kind": e.kind, "actor_id": e.actor_id})).collect();
    let form = form.unwrap_or_else(|| json!({"name": u.name, "role": u.role, "organisation_id": u.organisation_id, "language": u.language, "active": u.active, "version": u.version}));
    let role = form["role"].as_str().unwrap_or("applicant").to_string();
    let org = form["organisation_id"].as_i64();
    drop(conn);
    Ok(
        json!({"account": {"id": u.id, "email": u.email}, "form": form, "roles": role_options(&role), "organisations": org_options(pool, org).await?, "history": history}),
    )
}

#[get("/admin/users/<id>")]
async fn user(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    ctx.require(Permission::ManageUsers)?;
    Ok(ctx.page("pages/admin/user", user_data(pool, id, None).await?))
}

#[derive(FromForm)]
struct UserEditForm {
    name: String,
    role: String,
    organisation_id: Option<i64>,
    language: String,
    active: bool,
    version: i32,
    password: String,
}

#[post("/admin/users/<id>", data = "<form>")]
async fn update_user(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<UserEditForm>) -> AppResult<PageOr> {
    ctx.require(Permission::ManageUsers)?;
    let f = form.0;
    let changes = accounts::AccountChanges {
        name: f.name.clone(),
        role: f.role.clone(),
        organisation_id: f.organisation_id,
        language: f.language.clone(),
        active: f.active,
        version: f.version,
        password: Some(f.password),
    };
    let result =
        accounts::update_account(&mut *services::conn(pool).await?, &ctx.actor(), id, changes, Utc::now()).await;
    match result {
        Ok(_) => Ok(saved(format!("/admin/users/{id}"), &ctx)),
        Err(e) => {
            let form = json!({"name": f.name, "role": f.role, "organisation_id": f.organisation_id, "language": f.language, "active": f.active, "version": f.version});
            form_error(&ctx, e, "pages/admin/user", user_data(pool, id, Some(form)).await?)
        }
    }
}

async fn organisations_data(pool: &Pool, form: Value) -> AppResult<Value> {
    let conn = services::conn(pool).await?;
    let orgs = catalogue::organisations(&conn).await?;
    Ok(json!({"organisations": orgs, "form": form}))
}

#[get("/admin/organisations")]
async fn organisations(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    ctx.require(Permission::ManageUsers)?;
    Ok(ctx.page("pages/admin/organisations", organisations_data(pool, json!({})).await?))
}

#[derive(FromForm)]
struct OrganisationForm {
    name: String,
    name_en: String,
    organisation_number: String,
    postal_address: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    bank_account: Option<String>,
    version: Option<i32>,
}

impl OrganisationForm {
    fn input(&self) -> catalogue::OrganisationInput {
        catalogue::OrganisationInput {
            name: self.name.clone(),
            name_en: Some(self.name_en.clone()),
            organisation_number: self.organisation_number.clone(),
            postal_address: self.postal_address.clone(),
            postal_code: self.postal_code.clone(),
            city: self.city.clone(),
            bank_account: self.bank_account.clone(),
            version: self.version,
        }
    }
    fn echo(&self) -> Value {
        json!({
            "name": self.name, "name_en": self.name_en, "organisation_number": self.organisation_number,
            "postal_address": self.postal_address, "postal_code": self.postal_code, "city": self.city,
            "bank_account": self.bank_account, "version": self.version,
        })
    }
}

#[post("/admin/organisations", data = "<form>")]
async fn create_organisation(ctx: Ctx, pool: &State<Pool>, form: CsrfForm<OrganisationForm>) -> AppResult<PageOr> {
    ctx.require(Permission::ManageUsers)?;
    let result =
        catalogue::create_organisation(&mut *services::conn(pool).await?, &ctx.actor(), form.0.input(), Utc::now())
            .await;
    match result {
        Ok(_) => Ok(saved(Back::page("/admin/organisations"), &ctx)),
        Err(e) => form_error(&ctx, e, "pages/admin/organisations", organisations_data(pool, form.0.echo()).await?),
    }
}

#[get("/admin/organisations/<id>")]
async fn organisation(ctx: Ctx, pool: &State<Pool>, id: i64) -> AppResult<Template> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = services::conn(pool).await?;
    let org = catalogue::organisation(&mut conn, id).await?;
    Ok(ctx.page("pages/admin/organisation", json!({"organisation": org, "form": org})))
}

#[post("/admin/organisations/<id>", data = "<form>")]
async fn update_organisation(
    ctx: Ctx,
    pool: &State<Pool>,
    id: i64,
    form: CsrfForm<OrganisationForm>,
) -> AppResult<PageOr> {
    ctx.require(Permission::ManageUsers)?;
    let mut conn = services::conn(pool).await?;
    match catalogue::update_organisation(&mut conn, &ctx.actor(), id, form.0.input(), Utc::now()).await {
        Ok(_) => Ok(saved(format!("/admin/organisations/{id}"), &ctx)),
        Err(e) => {
            let org = catalogue::organisation(&mut conn, id).await?;
            form_error(&ctx, e, "pages/admin/organisation", json!({"organisation": org, "form": form.0.echo()}))
        }
    }
}

#[get("/admin/data-sources")]
async fn sources(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    ctx.require(Permission::ManageCatalogue)?;
    let sources = crate::web::views::catalogue_json(pool, None).await?;
    Ok(ctx.page("pages/admin/sources", json!({"sources": sources})))
}

fn choices(all: &[&'static str], selected: &str, prefix: &str) -> Vec<Value> {
    all.iter().map(|c| json!({"value": c, "label_key": format!("{prefix}-{c}"), "selected": *c == selected})).collect()
}

async fn source_form_data(pool: &Pool, form: Value, source: Option<Value>) -> AppResult<Value> {
    let kinds: Vec<&str> = SourceKind::ALL.iter().map(|k| k.code()).collect();
    let authorities: Vec<&str> = DecisionAuthority::ALL.iter().map(|k| k.code()).collect();
    let identifying: Vec<&str> = Identifying::ALL.iter().map(|k| k.code()).collect();
    Ok(json!({
        "kinds": choices(&kinds, form["kind"].as_str().unwrap_or(""), "kind"),
        "authorities": choices(&authorities, form["decision_authority"].as_str().unwrap_or(""), "authority"),
        "identifying": choices(&identifying, "none", "identifying"),
        "organisations": org_options(pool, form["owner_id"].as_i64()).await?,
        "form": form,
        "source": source,
    }))
}

#[get("/admin/data-sources/new")]
async fn new_source(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    ctx.require(Permission::ManageCatalogue)?;
    let form = json!({"on_common_form": true, "kind": "central_health_register", "decision_authority": "owner"});
    Ok(ctx.page("pages/admin/source", source_form_data(pool, form, None).await?))
}

#[derive(FromForm)]
struct SourceForm {
    code: String,
    name_nb: String,
    name_en: String,
    kind: String,
    owner_id: Option<i64>,
    decision_authority: String,
    on_common_form: bool,
    description_nb: String,
    description_en: String,
    version: Option<i32>,
}

impl SourceForm {
    fn input(&self) -> catalogue::SourceInput {
        catalogue::SourceInput {
            code: self.code.clone(),
            name_nb: self.name_nb.clone(),
            name_en: self.name_en.clone(),
            kind: self.kind.clone(),
            owner_id: self.owner_id,
            decision_authority: self.decision_authority.clone(),
            on_common_form: self.on_common_form,
            description_nb: self.description_nb.clone(),
            description_en: self.description_en.clone(),
            version: self.version,
        }
    }
    fn echo(&self) -> Value {
        json!({
            "code": self.code, "name_nb": self.name_nb, "name_en": self.name_en, "kind": self.kind, "owner_id": self.owner_id,
            "decision_authority": self.decision_authority, "on_common_form": self.on_common_form,
            "description_nb": self.description_nb, "description_en": self.description_en, "version": self.version,
        })
    }
}

#[post("/admin/data-sources", data = "<form>")]
async fn create_source(ctx: Ctx, pool: &State<Pool>, form: CsrfForm<SourceForm>) -> AppResult<PageOr> {
    ctx.require(Permission::ManageCatalogue)?;
    let result =
        catalogue::create_source(&mut *services::conn(pool).await?, &ctx.actor(), form.0.input(), Utc::now()).await;
    match result {
        Ok(s) => Ok(saved(format!("/admin/data-sources/{}", s.id), &ctx)),
        Err(e) => form_error(&ctx, e, "pages/admin/source", source_form_data(pool, form.0.echo(), None).await?),
    }
}

async fn source_value(pool: &Pool, id: i64) -> AppResult<Value> {
    let mut conn = services::conn(pool).await?;
    let (entry, history) = catalogue::source_with_history(&mut conn, id).await?;
    let history: Vec<Value> = history
        .into_iter()
        .map(|e| json!({"at": crate::domain::deadlines::oslo_time(e.at, false), "iso": e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "kind": e.kind, "payload": e.payload.to_string()}))
        .collect();
    let mut value = crate::web::views::source_json(&entry.source, &entry.owner, &entry.variables);
    value["history"] = json!(history);
    value["owner_id"] = json!(entry.owner.id);
    Ok(value)
}

#[get("/admin/data-sources/<id>")]
async fn source(ctx: Ctx, pool: &State<Pool>, id: i64, _flash: Option<FlashMessage<'_>>) -> AppResult<Template> {
    ctx.require(Permission::ManageCatalogue)?;
    let source = source_value(pool, id).await?;
    Ok(ctx.page("pages/admin/source", source_form_data(pool, source.clone(), Some(source)).await?))
}

#[post("/admin/data-sources/<id>", data = "<form>")]
async fn update_source(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<SourceForm>) -> AppResult<PageOr> {
    ctx.require(Permission::ManageCatalogue)?;
    let result =
        catalogue::update_source(&mut *services::conn(pool).await?, &ctx.actor(), id, form.0.input(), Utc::now()).await;
    match result {
        Ok(_) => Ok(saved(format!("/admin/data-sources/{id}"), &ctx)),
        Err(e) => {
            let source = source_value(pool, id).await?;
            form_error(&ctx, e, "pages/admin/source", source_form_data(pool, form.0.echo(), Some(source)).await?)
        }
    }
}

#[derive(FromForm)]
struct VariableForm {
    name: String,
    description_nb: String,
    description_en: String,
    identifying: String,
}

#[post("/admin/data-sources/<id>/variables", data = "<form>")]
async fn add_variable(ctx: Ctx, pool: &State<Pool>, id: i64, form: CsrfForm<VariableForm>) -> AppResult<PageOr> {
    ctx.require(Permission::ManageCatalogue)?;
    let f = form.0;
    let input = catalogue::VariableInput {
        name: f.name.clone(),
        description_nb: f.description_nb.clone(),
        description_en: f.description_en.clone(),
        identifying: f.identifying.clone(),
    };
    let result = catalogue::add_variable(&mut *services::conn(pool).await?, &ctx.actor(), id, input, Utc::now()).await;
    match result {
        Ok(_) => Ok(saved(Back::section(format!("/admin/data-sources/{id}"), "variables"), &ctx)),
        Err(e) => {
            let source = source_value(pool, id).await?;
            let mut data = source_form_data(pool, source.clone(), Some(source)).await?;
            data["variable_form"] =
                json!({"name": f.name, "description_nb": f.description_nb, "description_en": f.description_en});
            data["variable_errors"] = ctx.errors(&e);
            match e {
                AppError::Validation(_) | AppError::Duplicate(_) => {
                    Ok(PageOr::Page((e.status(), ctx.page("pages/admin/source", data))))
                }
                other => Err(other),
            }
        }
    }
}

#[post("/admin/data-sources/<id>/variables/<variable>/delete", data = "<_form>")]
async fn remove_variable(
    ctx: Ctx,
    pool: &State<Pool>,
    id: i64,
    variable: i64,
    _form: CsrfForm<CsrfOnly>,
) -> AppResult<PageOr> {
    ctx.require(Permission::ManageCatalogue)?;
    let mut conn = services::conn(pool).await?;
    catalogue::remove_variable(&mut conn, &ctx.actor(), id, variable, Utc::now()).await?;
    Ok(saved(Back::section(format!("/admin/data-sources/{id}"), "variables"), &ctx))
}

#[get("/admin/audit?<before>")]
async fn audit(ctx: Ctx, pool: &State<Pool>, before: Option<i64>) -> AppResult<(Status, Template)> {
    ctx.require(Permission::ReadAudit)?;
    let mut conn = services::conn(pool).await?;
    let chain = services::audit::last(&conn).await?;
    let events = services::audit::latest(&mut conn, 100, before).await?;
    let next = if events.len() == 100 { events.last().map(|e| e.id) } else { None };
    let names = services::audit::names(&mut conn, &events).await?;
    let rows: Vec<Value> = events.iter().map(|e| crate::web::views::audit_row(ctx.lang, e, &names)).collect();
    Ok((Status::Ok, ctx.page("pages/admin/audit", json!({"chain": chain, "events": rows, "next": next}))))
}

/// Verifies the event chain now (the scheduler does so every round).
#[post("/admin/audit/verify", data = "<_form>")]
async fn verify_audit(ctx: Ctx, pool: &State<Pool>, _form: CsrfForm<CsrfOnly>) -> AppResult<Flash<Redirect>> {
    ctx.require(Permission::ReadAudit)?;
    let mut conn = services::conn(pool).await?;
    services::audit::verify(&mut conn, &ctx.actor(), Utc::now()).await?;
    Ok(Flash::success(Redirect::to("/admin/audit"), ctx.t("chain-verified-now")))
}
