//! Benchmark: the public statistics over 100 000 generated applications, against a reference
//! measured in the same run on the same database — one sequential scan of the applications table
//! (`SELECT count(*), max(title) …`), the least any query over every application must cost.
//! Prints the median of several runs of each and their ratio. Since issue 25 the figures are read
//! from what the database keeps as rows change (migration `statistics_rollup`; the generator's
//! inserts go through the same triggers), so they should cost far less than the scan.
//!
//! `cargo bench --bench statistics` (or `scripts/bench`). Uses `BENCH_DATABASE_URL` (a server
//! where it may create a database) or a private cluster under `var/bench-pg`.

use chrono::Utc;
use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use helsedataservice::db::{
    self,
    cluster::{Cluster, Durability},
};
use std::time::{Duration, Instant};

const APPLICATIONS: i64 = 100_000;
const RUNS: usize = 7;

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

#[derive(diesel::QueryableByName)]
struct Scan {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Text)]
    title: String,
}

#[tokio::main]
async fn main() -> Result<(), String> {
    if !std::env::args().any(|a| a == "--bench") {
        println!("statistics benchmark: run it with `cargo bench --bench statistics`");
        return Ok(());
    }
    let (admin_url, cluster) = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let c =
                Cluster::ensure(std::path::Path::new("var/bench-pg"), Durability::Fast).map_err(|e| e.to_string())?;
            (c.url("postgres"), Some(c))
        }
    };
    let name = "hds_bench_statistics";
    {
        let mut conn = AsyncPgConnection::establish(&admin_url).await.map_err(|e| e.to_string())?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).await.map_err(|e| e.to_string())?;
    }
    let url = match admin_url.rfind('/') {
        Some(i) => format!("{}/{name}", &admin_url[..i]),
        None => return Err("BENCH_DATABASE_URL must name a database".into()),
    };
    let pool = db::pool(&url, 2)?;
    db::migrate(&pool).await?;
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    let now = Utc::now();
    helsedataservice::services::demo::seed_catalogue(&mut conn, now).await.map_err(|e| e.to_string())?;

    let started = Instant::now();
    let generate = [
        "INSERT INTO users (email, name, role, language) VALUES ('bench-applicant@example.no', 'Bench', 'applicant', 'nb'), \
         ('bench-officer@example.no', 'Officer', 'case_officer', 'nb')",
        // Submitted over the last two years; 80 % completed 1–20 days later, 60 % delivered 10–200
        // days after completion; deterministic from the row number.
        &format!(
            "INSERT INTO applications (applicant_id, state, title, first_submitted_at, submitted_at, completed_at, complete_submitted_at, delivered_at, submit_count) \
             SELECT (SELECT id FROM users WHERE email = 'bench-applicant@example.no'), \
                    CASE WHEN i % 10 < 6 THEN 'delivered' WHEN i % 10 < 8 THEN 'in_review' ELSE 'submitted' END, \
                    'Prosjekt ' || i, s, s, \
                    CASE WHEN i % 10 < 8 THEN s + ((i % 20) + 1) * interval '1 day' END, \
                    CASE WHEN i % 10 < 8 THEN s END, \
                    CASE WHEN i % 10 < 6 THEN s + ((i % 20) + 1) * interval '1 day' + ((i * 7) % 190 + 10) * interval '1 day' END, 1 \
             FROM (SELECT i, now() - (i % 730) * interval '1 day' - (i % 1440) * interval '1 minute' AS s \
                   FROM generate_series(1, {APPLICATIONS}) AS i) g"
        ),
        "INSERT INTO application_sources (application_id, data_source_id) \
         SELECT a.id, (SELECT id FROM data_sources ORDER BY id OFFSET (a.id % 18) LIMIT 1) FROM applications a",
        // Completed cases have a release per source, delivered with the case.
        "INSERT INTO releases (application_id, data_source_id, decider, owner_organisation_id, state, delivered_at) \
         SELECT a.id, x.data_source_id, 'owner', s.owner_id, \
                CASE WHEN a.delivered_at IS NOT NULL THEN 'delivered' ELSE 'pending' END, a.delivered_at \
         FROM applications a JOIN application_sources x ON x.application_id = a.id \
         JOIN data_sources s ON s.id = x.data_source_id WHERE a.completed_at IS NOT NULL",
        "INSERT INTO decisions (application_id, outcome, language, letter_html, decided_by, decided_at, appeal_deadline) \
         SELECT a.id, 'approved', 'nb', '', (SELECT id FROM users WHERE email = 'bench-officer@example.no'), \
                a.completed_at + interval '5 days', current_date FROM applications a WHERE a.completed_at IS NOT NULL",
        // Every fifth application was returned once (outside the hash chain: a throw-away database).
        "INSERT INTO events (at, subject_type, subject_id, kind, payload, prev_hash, hash) \
         SELECT a.first_submitted_at + interval '1 day', 'application', a.id, 'application.returned', '{}', '', md5(a.id::text) \
         FROM applications a WHERE a.id % 5 = 0",
        "ANALYZE",
    ];
    for sql in generate {
        diesel::sql_query(sql).execute(&mut conn).await.map_err(|e| format!("{e}: {sql}"))?;
    }
    println!("generated {APPLICATIONS} applications in {:.1} s", started.elapsed().as_secs_f64());

    let mut reference = vec![];
    let mut figures = vec![];
    for _ in 0..RUNS {
        let t = Instant::now();
        let scan: Scan = diesel::sql_query("SELECT count(*) AS n, max(title) AS title FROM applications")
            .get_result(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        reference.push(t.elapsed());
        assert_eq!(scan.n, APPLICATIONS, "{}", scan.title);
        let t = Instant::now();
        let f =
            helsedataservice::services::statistics::figures(&mut conn, Utc::now()).await.map_err(|e| e.to_string())?;
        figures.push(t.elapsed());
        assert!(f["totals"]["received"].as_i64().unwrap_or(0) > 0);
    }
    let (r, f) = (median(reference), median(figures));
    println!(
        "reference (one sequential scan of {APPLICATIONS} applications): median {:.1} ms",
        r.as_secs_f64() * 1000.0
    );
    println!(
        "statistics (every figure of /api/statistics):                   median {:.1} ms",
        f.as_secs_f64() * 1000.0
    );
    println!("ratio statistics / reference: {:.1}", f.as_secs_f64() / r.as_secs_f64());

    drop(conn);
    drop(pool);
    if let Some(c) = cluster.filter(|c| c.started_here) {
        let _ = c.stop();
    }
    Ok(())
}
