//! The figures of SPEC §11, read from what the database keeps as rows change (monthly counts and
//! handling times, migration `statistics_rollup`), with `now` passed in so tests can place cases
//! in time. Months are calendar months in Norwegian
//! time (Europe/Oslo).

use super::prepared::KeepPreparedDsl;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamptz};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, QueryableByName)]
pub struct MonthCount {
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct Durations {
    #[diesel(sql_type = Nullable<Text>)]
    pub code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub name_nb: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub name_en: Option<String>,
    #[diesel(sql_type = Nullable<Double>)]
    pub median_days: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    pub p90_days: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

#[derive(Debug, Clone, QueryableByName)]
pub struct MeasureCount {
    #[diesel(sql_type = Text)]
    pub measure: String,
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// The monthly counts kept by the database (migration `statistics_rollup`: triggers update them
/// in the same transaction as the rows they count) for the months from `first` to `last`
/// (`YYYY-MM-01`): received, decided, delivered, transfers, assessed and complete_first_time.
pub async fn monthly(
    conn: &mut AsyncPgConnection,
    first: chrono::NaiveDate,
    last: chrono::NaiveDate,
) -> QueryResult<Vec<MeasureCount>> {
    diesel::sql_query(
        "SELECT measure, to_char(month, 'YYYY-MM') AS month, sum(n)::bigint AS n FROM statistics_months \
         WHERE month >= $1 AND month <= $2 GROUP BY measure, month HAVING sum(n) <> 0 ORDER BY measure, month",
    )
    .bind::<diesel::sql_types::Date, _>(first)
    .bind::<diesel::sql_types::Date, _>(last)
    .keep_prepared()
    .load(conn)
    .await
}

/// The counts of one measure out of [`monthly`]'s rows.
pub fn measure(rows: &[MeasureCount], name: &str) -> Vec<MonthCount> {
    rows.iter().filter(|r| r.measure == name).map(|r| MonthCount { month: r.month.clone(), n: r.n }).collect()
}

/// Case-handling time as the state's KPI counts it: from the submission that was complete (the
/// last before the case was found complete) to delivery, of cases delivered in `[start, now]`;
/// per data source, to that source's own release delivery (delivered in `[start, now]`). Read
/// from the handling times the database keeps as cases are delivered (`statistics_handling`).
pub async fn handling_time(
    conn: &mut AsyncPgConnection,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<(Durations, Vec<Durations>)> {
    let overall: Durations = diesel::sql_query(
        "SELECT NULL::text AS code, NULL::text AS name_nb, NULL::text AS name_en, \
           percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_days, \
           percentile_cont(0.9) WITHIN GROUP (ORDER BY days) AS p90_days, count(*) AS count \
         FROM statistics_handling WHERE data_source_id IS NULL AND delivered_at >= $1 AND delivered_at <= $2",
    )
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(now)
    .keep_prepared()
    .get_result(conn)
    .await?;
    let per_source: Vec<Durations> = diesel::sql_query(
        "SELECT s.code AS code, s.name_nb AS name_nb, s.name_en AS name_en, h.median_days, h.p90_days, h.count \
         FROM (SELECT data_source_id, \
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_days, \
                 percentile_cont(0.9) WITHIN GROUP (ORDER BY days) AS p90_days, count(*) AS count \
               FROM statistics_handling \
               WHERE data_source_id IS NOT NULL AND delivered_at >= $1 AND delivered_at <= $2 \
               GROUP BY data_source_id) h \
         JOIN data_sources s ON s.id = h.data_source_id ORDER BY s.code",
    )
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(now)
    .keep_prepared()
    .load(conn)
    .await?;
    Ok((overall, per_source))
}

/// An approved project for the public register (no personal data).
#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct ApprovedProject {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference: Option<String>,
    #[diesel(sql_type = Text)]
    pub title: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub institution: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub start_date: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub end_date: Option<String>,
    #[diesel(sql_type = Text)]
    pub outcome: String,
    #[diesel(sql_type = Timestamptz)]
    pub decided_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub sources_nb: String,
    #[diesel(sql_type = Text)]
    pub sources_en: String,
}

/// The highest page number of the project register that is looked up (beyond it the list is
/// empty); keeps the offset arithmetic far from overflow (a fuzzing find: `?page=i64::MAX`).
pub const MAX_PAGE: i64 = 1_000_000;

/// A requested page of the project register (1 when absent or out of range) and its offset.
pub fn page_and_offset(page: Option<i64>) -> (i64, i64) {
    let page = page.unwrap_or(1).clamp(1, MAX_PAGE);
    (page, (page - 1) * 100)
}

/// Projects whose latest decision approves them (fully or partly), newest first; the sources
/// are those whose release was approved. A partial approval whose refusals are appealed stays
/// listed: what was granted stands while the rest is reconsidered. The approving decisions are
/// read newest first from their index (`decisions_published`) until the page is full, and only
/// the page's rows are read in full (form, sources): the public register costs a page, not a
/// pass over every decided case (issue 25, at 30 000 decided cases: 120–180 ms for the first
/// page, 600 ms for the 200th).
pub async fn approved_projects(
    conn: &mut AsyncPgConnection,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<ApprovedProject>> {
    diesel::sql_query(
        "SELECT a.id, a.reference, a.title, \
                coalesce(nullif(a.form #>> '{project_leader,institution}', ''), a.form #>> '{controller,name}') AS institution, \
                a.form ->> 'start_date' AS start_date, a.form ->> 'end_date' AS end_date, \
                p.outcome, p.decided_at, \
                coalesce((SELECT string_agg(s.name_nb, ', ' ORDER BY s.code) FROM releases r \
                          JOIN data_sources s ON s.id = r.data_source_id \
                          WHERE r.application_id = a.id AND r.state IN ('approved', 'delivered')), '') AS sources_nb, \
                coalesce((SELECT string_agg(s.name_en, ', ' ORDER BY s.code) FROM releases r \
                          JOIN data_sources s ON s.id = r.data_source_id \
                          WHERE r.application_id = a.id AND r.state IN ('approved', 'delivered')), '') AS sources_en \
         FROM (SELECT d.application_id, d.outcome, d.decided_at \
               FROM decisions d JOIN applications c ON c.id = d.application_id \
               WHERE d.outcome IN ('approved', 'partially_approved') \
                 AND NOT EXISTS (SELECT 1 FROM decisions later \
                                 WHERE later.application_id = d.application_id AND later.id > d.id) \
                 AND c.state IN ('approved', 'partially_approved', 'delivered', 'closed', 'appealed') \
               ORDER BY d.decided_at DESC, d.application_id DESC LIMIT $1 OFFSET $2) p \
         JOIN applications a ON a.id = p.application_id \
         ORDER BY p.decided_at DESC, p.application_id DESC",
    )
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(offset)
    // Planned for its page each time (not kept prepared): the plan made without knowing the page
    // starts parallel workers even for the first (10 ms in psql against 2.3 ms).
    .load(conn)
    .await
}

#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct Workload {
    #[diesel(sql_type = Nullable<BigInt>)]
    pub officer_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub officer: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub open: i64,
    #[diesel(sql_type = BigInt)]
    pub overdue: i64,
}

/// Open cases per assigned officer (and unassigned), with how many are past their due date.
/// Read from the kept counts per officer and due date (`open_cases_due`, migration
/// `dashboard_rollup`): a few hundred rows whatever the number of cases.
pub async fn workload(conn: &mut AsyncPgConnection, today: chrono::NaiveDate) -> QueryResult<Vec<Workload>> {
    diesel::sql_query(
        "SELECT a.officer_id, u.name AS officer, a.open, a.overdue FROM \
           (SELECT nullif(officer_id, 0) AS officer_id, sum(n)::bigint AS open, \
                   coalesce(sum(n) FILTER (WHERE due_date < $1), 0)::bigint AS overdue \
            FROM open_cases_due GROUP BY officer_id) a \
         LEFT JOIN users u ON u.id = a.officer_id ORDER BY u.name NULLS FIRST",
    )
    .bind::<diesel::sql_types::Date, _>(today)
    .keep_prepared()
    .load(conn)
    .await
}

#[derive(Debug, Clone, QueryableByName, serde::Serialize)]
pub struct AgeBucket {
    #[diesel(sql_type = Text)]
    pub bucket: String,
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

/// Open cases (or, with `organisation`, that organisation's pending releases) by age in whole
/// days since first submission (releases: since routing), counted in Oslo calendar days: 0–29,
/// 30–59, 60–89, 90+. Read from the kept counts per day (`open_cases_age`,
/// `pending_releases_age`).
pub async fn ages(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    organisation: Option<i64>,
) -> QueryResult<Vec<AgeBucket>> {
    let days = match organisation {
        None => "SELECT submitted_on AS day, n FROM open_cases_age",
        Some(_) => "SELECT routed_on AS day, n FROM pending_releases_age WHERE organisation_id = $2",
    };
    diesel::sql_query(format!(
        "SELECT b.bucket, coalesce(sum(d.n), 0)::bigint AS n \
         FROM (VALUES (0, '0–29', NULL, 30), (1, '30–59', 30, 60), (2, '60–89', 60, 90), (3, '90+', 90, NULL)) \
              AS b(i, bucket, lo, hi) \
         LEFT JOIN ({days}) d ON (b.lo IS NULL OR ($1 AT TIME ZONE 'Europe/Oslo')::date - d.day >= b.lo) \
                            AND (b.hi IS NULL OR ($1 AT TIME ZONE 'Europe/Oslo')::date - d.day < b.hi) \
         GROUP BY b.i, b.bucket ORDER BY b.i"
    ))
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(organisation.unwrap_or(0))
    .keep_prepared()
    .load(conn)
    .await
}

/// Releases of an organisation delivered per month.
pub async fn deliveries_of(
    conn: &mut AsyncPgConnection,
    organisation: i64,
    start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<Vec<MonthCount>> {
    diesel::sql_query(
        "SELECT to_char(statistics_month(delivered_at), 'YYYY-MM') AS month, count(*) AS n FROM releases \
         WHERE owner_organisation_id = $1 AND delivered_at >= $2 AND delivered_at <= $3 GROUP BY 1 ORDER BY 1",
    )
    .bind::<BigInt, _>(organisation)
    .bind::<Timestamptz, _>(start)
    .bind::<Timestamptz, _>(now)
    .keep_prepared()
    .load(conn)
    .await
}
