//! Public statistics with charts, the public register of approved projects, and the dashboards
//! of each role.

use crate::db::Pool;
use crate::domain::role::Permission;
use crate::error::{AppError, AppResult};
use crate::services::{self, statistics as stats};
use crate::web::charts::{Series, bars};
use crate::web::context::Ctx;
use crate::web::template::Template;
use chrono::Utc;
use rocket::{State, get, routes};
use serde_json::{Value, json};

pub fn routes() -> Vec<rocket::Route> {
    routes![statistics, projects, dashboard]
}

fn column(figures: &Value, key: &str) -> Vec<f64> {
    figures["months"].as_array().map(|m| m.iter().map(|r| r[key].as_f64().unwrap_or(0.0)).collect()).unwrap_or_default()
}

#[get("/statistics")]
async fn statistics(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    let figures = services::statistics::figures(&mut conn, Utc::now()).await?;
    let labels: Vec<String> = figures["months"]
        .as_array()
        .map(|m| m.iter().map(|r| r["month"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default();
    let (received, decided, delivered) = (ctx.t("stat-received"), ctx.t("stat-decided"), ctx.t("stat-delivered"));
    let flow = bars(
        ctx.lang,
        "chart-applications",
        &ctx.t("stat-applications-title"),
        &ctx.t("stat-applications-desc"),
        &labels,
        &[
            Series { name: &received, values: column(&figures, "received") },
            Series { name: &decided, values: column(&figures, "decided") },
            Series { name: &delivered, values: column(&figures, "delivered") },
        ],
    );
    let transfers_name = ctx.t("stat-transfers");
    let transfers = bars(
        ctx.lang,
        "chart-transfers",
        &ctx.t("stat-transfers-title"),
        &ctx.t("stat-transfers-desc"),
        &labels,
        &[Series { name: &transfers_name, values: column(&figures, "transfers") }],
    );
    let per_source = figures["case_handling_days"]["per_source"].as_array().cloned().unwrap_or_default();
    let codes: Vec<String> = per_source.iter().map(|s| s["code"].as_str().unwrap_or_default().to_string()).collect();
    let (median, p90) = (ctx.t("stat-median"), ctx.t("stat-p90"));
    let kpi = bars(
        ctx.lang,
        "chart-handling",
        &ctx.t("stat-handling-title"),
        &ctx.t("stat-handling-desc"),
        &codes,
        &[
            Series { name: &median, values: per_source.iter().map(|s| s["median"].as_f64().unwrap_or(0.0)).collect() },
            Series { name: &p90, values: per_source.iter().map(|s| s["p90"].as_f64().unwrap_or(0.0)).collect() },
        ],
    );
    let share = figures["complete_at_first_submission"]["share"].as_f64().map(|s| format!("{:.0} %", s * 100.0));
    Ok(ctx.page(
        "pages/statistics",
        json!({
            "title": ctx.t("stat-title"), "figures": figures, "share": share,
            "chart_flow": flow, "chart_transfers": transfers, "chart_handling": kpi,
        }),
    ))
}

#[get("/projects?<page>")]
async fn projects(ctx: Ctx, pool: &State<Pool>, page: Option<i64>) -> AppResult<Template> {
    let mut conn = services::conn(pool).await?;
    let (page, rows) = services::statistics::projects(&mut conn, page, 101).await?;
    let more = rows.len() > 100;
    let items: Vec<Value> = rows
        .iter()
        .take(100)
        .map(|p| {
            json!({
                "reference": p.reference, "title": p.title, "institution": p.institution, "sources_nb": p.sources_nb, "sources_en": p.sources_en,
                "start": p.start_date, "end": p.end_date, "decided": crate::domain::deadlines::oslo_day(p.decided_at),
                "outcome_key": format!("state-{}", p.outcome),
            })
        })
        .collect();
    Ok(ctx.page(
        "pages/projects",
        json!({"title": ctx.t("projects-title"), "items": items, "page": page, "next": more.then_some(page + 1), "prev": (page > 1).then_some(page - 1)}),
    ))
}

#[get("/dashboard")]
async fn dashboard(ctx: Ctx, pool: &State<Pool>) -> AppResult<Template> {
    let user = ctx.user()?;
    let officer = user.role.may(Permission::HandleCases);
    let owner = user.role.may(Permission::DecideOwnReleases);
    let admin = user.role.may(Permission::ReadAudit);
    if !(officer || owner || admin) {
        return Err(AppError::Forbidden("err-dashboards-staff".into()));
    }
    let now = Utc::now();
    let mut conn = services::conn(pool).await?;
    let mut data = json!({"title": ctx.t("dashboard-title")});
    let age_labels: Vec<String> = ["0–29", "30–59", "60–89", "90+"].iter().map(|s| s.to_string()).collect();
    let owner_organisation = if owner { user.organisation_id } else { None };
    let dashboard = stats::dashboard(&mut conn, now, officer || admin, owner_organisation, admin).await?;
    if let Some(stats::CaseLoad { workload, ages }) = &dashboard.cases {
        let names: Vec<String> =
            workload.iter().map(|w| w.officer.clone().unwrap_or_else(|| ctx.t("unassigned"))).collect();
        let (open, overdue) = (ctx.t("dash-open"), ctx.t("dash-overdue"));
        data["workload"] = json!(
            workload
                .iter()
                .zip(&names)
                .map(|(w, n)| json!({"name": n, "open": w.open, "overdue": w.overdue}))
                .collect::<Vec<_>>()
        );
        data["workload_chart"] = json!(bars(
            ctx.lang,
            "chart-workload",
            &ctx.t("dash-workload"),
            &ctx.t("dash-workload-desc"),
            &names,
            &[
                Series { name: &open, values: workload.iter().map(|w| w.open as f64).collect() },
                Series { name: &overdue, values: workload.iter().map(|w| w.overdue as f64).collect() },
            ],
        ));
        let cases = ctx.t("dash-cases");
        data["ages"] = json!(ages);
        data["ages_chart"] = json!(bars(
            ctx.lang,
            "chart-ages",
            &ctx.t("dash-ages"),
            &ctx.t("dash-ages-desc"),
            &age_labels,
            &[Series { name: &cases, values: ages.iter().map(|a| a.n as f64).collect() }],
        ));
    }
    if let Some(stats::OwnerLoad { ages, labels, deliveries }) = &dashboard.owner {
        let (waiting, delivered) = (ctx.t("dash-waiting"), ctx.t("stat-delivered"));
        data["owner"] = json!({
            "waiting": ages.iter().map(|a| a.n).sum::<i64>(),
            "ages": ages,
            "deliveries": labels.iter().zip(deliveries).map(|(m, n)| json!({"month": m, "n": n})).collect::<Vec<_>>(),
        });
        data["owner_ages_chart"] = json!(bars(
            ctx.lang,
            "chart-owner-ages",
            &ctx.t("dash-owner-ages"),
            &ctx.t("dash-owner-ages-desc"),
            &age_labels,
            &[Series { name: &waiting, values: ages.iter().map(|a| a.n as f64).collect() }],
        ));
        data["owner_deliveries_chart"] = json!(bars(
            ctx.lang,
            "chart-owner-deliveries",
            &ctx.t("dash-owner-deliveries"),
            &ctx.t("dash-owner-deliveries-desc"),
            labels,
            &[Series { name: &delivered, values: deliveries.iter().map(|n| *n as f64).collect() }],
        ));
    }
    if let Some(stats::Operations { outbox, chain }) = &dashboard.operations {
        data["admin"] = json!({
            "outbox": outbox.iter().map(|(s, n)| json!({"label": ctx.t(&format!("state-mail-{s}")), "n": n})).collect::<Vec<_>>(),
            "chain": chain,
        });
    }
    Ok(ctx.page("pages/dashboard", data))
}
