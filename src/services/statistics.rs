//! The public statistics (SPEC §11): the figures of the last twelve calendar months, as one JSON
//! document that the page and `GET /api/statistics` share.

use crate::db::{
    self,
    statistics::{AgeBucket, ApprovedProject, MonthCount, Workload},
};
use crate::error::AppResult;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Oslo;
use diesel_async::AsyncPgConnection;
use serde_json::{Value, json};

/// How many calendar months the figures cover.
pub const MONTHS: u32 = 12;

/// The first instant (midnight in Norwegian time) of the month `months_back` calendar months
/// before the month of `now` in Norwegian time.
pub fn window_start(now: DateTime<Utc>, months_back: u32) -> DateTime<Utc> {
    let first = first_day(now, months_back);
    let midnight = first.and_hms_opt(0, 0, 0).expect("midnight");
    // Midnight exists on every first of a month in Oslo (the clocks change at 02:00 or 03:00).
    Oslo.from_local_datetime(&midnight).earliest().expect("midnight exists").with_timezone(&Utc)
}

/// The first day of the month `back` calendar months before the month of `now` in Norwegian time.
pub fn first_day(now: DateTime<Utc>, back: u32) -> NaiveDate {
    let (year, month) = month_before(now, back);
    NaiveDate::from_ymd_opt(year, month, 1).expect("a valid date")
}

/// The (year, month) `back` calendar months before the month of `now` in Norwegian time.
fn month_before(now: DateTime<Utc>, back: u32) -> (i32, u32) {
    let local = now.with_timezone(&Oslo);
    let index = local.year() * 12 + local.month0() as i32 - back as i32;
    (index.div_euclid(12), index.rem_euclid(12) as u32 + 1)
}

/// The labels `YYYY-MM` of the window, oldest first.
pub fn month_labels(now: DateTime<Utc>, months: u32) -> Vec<String> {
    (0..months)
        .rev()
        .map(|back| {
            let (year, month) = month_before(now, back);
            format!("{year:04}-{month:02}")
        })
        .collect()
}

/// Counts aligned to `labels` (0 where the database has no row).
pub fn align(labels: &[String], counts: &[MonthCount]) -> Vec<i64> {
    labels.iter().map(|l| counts.iter().find(|c| &c.month == l).map_or(0, |c| c.n)).collect()
}

fn round1(v: Option<f64>) -> Option<f64> {
    v.map(|d| (d * 10.0).round() / 10.0)
}

/// Every public figure, from what the database keeps up to date as cases change (nothing is
/// cached here: a figure is as fresh as the last commit).
pub async fn figures(conn: &mut AsyncPgConnection, now: DateTime<Utc>) -> AppResult<Value> {
    let start = window_start(now, MONTHS - 1);
    let labels = month_labels(now, MONTHS);
    let counts = db::statistics::monthly(conn, first_day(now, MONTHS - 1), first_day(now, 0)).await?;
    let column = |name: &str| align(&labels, &db::statistics::measure(&counts, name));
    let (received, decided, delivered, transfers) =
        (column("received"), column("decided"), column("delivered"), column("transfers"));
    let months: Vec<Value> = labels
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({"month": m, "received": received[i], "decided": decided[i], "delivered": delivered[i], "transfers": transfers[i]})
        })
        .collect();
    let (overall, per_source) = db::statistics::handling_time(conn, start, now).await?;
    let (assessed, complete_first_time): (i64, i64) =
        (column("assessed").iter().sum(), column("complete_first_time").iter().sum());
    let (on_form, all_sources, variables) = db::catalogue::counts(conn).await?;
    let explorer = db::catalogue::sources_with_variables(conn).await?;
    Ok(json!({
        "generated_at": now,
        "period": {"from": labels.first(), "to": labels.last()},
        "months": months,
        "totals": {
            "received": received.iter().sum::<i64>(),
            "decided": decided.iter().sum::<i64>(),
            "delivered": delivered.iter().sum::<i64>(),
            "transfers": transfers.iter().sum::<i64>(),
        },
        "case_handling_days": {
            "from": "complete", "to": "delivered",
            "median": round1(overall.median_days), "p90": round1(overall.p90_days), "count": overall.count,
            "per_source": per_source.iter().map(|d| json!({
                "code": d.code, "name_nb": d.name_nb, "name_en": d.name_en, "median": round1(d.median_days), "p90": round1(d.p90_days), "count": d.count,
            })).collect::<Vec<_>>(),
        },
        "complete_at_first_submission": {
            "assessed": assessed,
            "complete": complete_first_time,
            "share": (assessed > 0).then(|| (complete_first_time as f64 / assessed as f64 * 1000.0).round() / 1000.0),
        },
        "catalogue": {
            "sources": all_sources,
            "sources_on_common_form": on_form,
            "sources_in_variable_explorer": explorer,
            "variables": variables,
        },
    }))
}

/// The register's page number (the first when not given) and up to `limit` of its approved projects.
pub async fn projects(
    conn: &mut AsyncPgConnection,
    page: Option<i64>,
    limit: i64,
) -> AppResult<(i64, Vec<ApprovedProject>)> {
    let (page, offset) = db::statistics::page_and_offset(page);
    Ok((page, db::statistics::approved_projects(conn, limit, offset).await?))
}

/// The officers' part of the dashboard: open cases per officer, and open cases by age.
pub struct CaseLoad {
    pub workload: Vec<Workload>,
    pub ages: Vec<AgeBucket>,
}

/// A register owner's part of the dashboard: the organisation's pending releases by age, and its
/// deliveries per month of the window (`labels`, oldest first).
pub struct OwnerLoad {
    pub ages: Vec<AgeBucket>,
    pub labels: Vec<String>,
    pub deliveries: Vec<i64>,
}

/// The admins' part of the dashboard: outbox messages per state and the audit chain's last check.
pub struct Operations {
    pub outbox: Vec<(String, i64)>,
    pub chain: Value,
}

/// The parts of the dashboard that were asked for.
pub struct Dashboard {
    pub cases: Option<CaseLoad>,
    pub owner: Option<OwnerLoad>,
    pub operations: Option<Operations>,
}

/// Reads the dashboard's parts asked for: case load, organisation `owner`'s releases, operations.
pub async fn dashboard(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    cases: bool,
    owner: Option<i64>,
    operations: bool,
) -> AppResult<Dashboard> {
    let cases = if cases {
        let workload = db::statistics::workload(conn, crate::domain::deadlines::oslo_date(now)).await?;
        let ages = db::statistics::ages(conn, now, None).await?;
        Some(CaseLoad { workload, ages })
    } else {
        None
    };
    let owner = match owner {
        Some(org) => {
            let ages = db::statistics::ages(conn, now, Some(org)).await?;
            let start = window_start(now, MONTHS - 1);
            let labels = month_labels(now, MONTHS);
            let deliveries = align(&labels, &db::statistics::deliveries_of(conn, org, start, now).await?);
            Some(OwnerLoad { ages, labels, deliveries })
        }
        None => None,
    };
    let operations = if operations {
        let outbox = db::notifications::outbox_counts(conn).await?;
        let chain = super::audit::last(conn).await?;
        Some(Operations { outbox, chain })
    } else {
        None
    };
    Ok(Dashboard { cases, owner, operations })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_twelve_calendar_months() {
        let now: DateTime<Utc> = "2026-03-15T10:00:00Z".parse().unwrap();
        let labels = month_labels(now, 12);
        assert_eq!(labels.first().unwrap(), "2025-04");
        assert_eq!(labels.last().unwrap(), "2026-03");
        assert_eq!(labels.len(), 12);
        assert_eq!(window_start(now, 11), "2025-03-31T22:00:00Z".parse::<DateTime<Utc>>().unwrap());
        // Winter time: midnight in Oslo is 23:00 UTC; the Oslo month has begun before UTC's.
        let new_year: DateTime<Utc> = "2026-12-31T23:30:00Z".parse().unwrap();
        assert_eq!(month_labels(new_year, 1), vec!["2027-01".to_string()]);
        assert_eq!(window_start(new_year, 0), "2026-12-31T23:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let counts = vec![MonthCount { month: "2026-01".into(), n: 4 }];
        assert_eq!(align(&labels, &counts)[9], 4);
        assert_eq!(align(&labels, &counts).iter().sum::<i64>(), 4);
    }
}
