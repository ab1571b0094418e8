//! Load benchmark (SPEC §13, issue 25): the service's release build on a fresh database with
//! generated data at national scale (100 000 applications over every state, 1 000 000 events,
//! 500 users), driven over loopback by `wrk`, against the same work done by `pgbench` directly on
//! the same PostgreSQL (scripts with the SQL the routes run, prepared statements) as the
//! reference. Every page is rendered afresh (there is no page cache). Prints, for each page (the
//! applicant's status page, the officer's case page, the inbox's first page, the catalogue, "my
//! applications", the dashboard) and the submit (create + submit through the API), requests per
//! second and p50/p99 latency with its pgbench figures and the ratio; then 32 connections of
//! mixed load over those pages, the submits and a command (an officer's note on a case) with
//! each one's p99; then the statistics as a visitor gets them; and last one line
//! `summary: page_ratio_min=… submit_ratio=… p99_ms_max=… statistics_ms=…`.
//!
//! `cargo bench --bench load` (or `scripts/bench-load`, which installs wrk first). Settings:
//! `BENCH_DATABASE_URL` (a server where it may create a database; else a private cluster under
//! `var/bench-load-pg`, fsync on), `BENCH_SECONDS` per run (15), `BENCH_CONNECTIONS` (16),
//! `BENCH_POOL_SIZE` (the service's `DATABASE_POOL_SIZE`, else its default), `BENCH_KEEP` (leave
//! the database and its server running afterwards, for pgbench or `EXPLAIN` by hand).
//! `-- --queries` prints the SQL each route runs instead of measuring (private cluster only), on
//! two pooled connections, each route's third request, marking the statements prepared anew;
//! `-- --soak MINUTES` runs a soak at moderate load and prints the service's RSS every minute;
//! `-- --submit` measures only the submit and its two references (a minute instead of five, for
//! working on that route; `perf record -p` the printed pid while it runs).

#[path = "load/tools.rs"]
mod tools;

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use helsedataservice::db::cluster::{Cluster, Durability};
use std::path::{Path, PathBuf};
use std::process::Command;
use tools::{Cpu, CpuPerRequest, Figures};

const CLUSTER_DIR: &str = "var/bench-load-pg";
const DATABASE: &str = "hds_bench_load";
const APPLICANT: (&str, &str) = ("forsker@demo.helsedata.no", "Demo-forsker-2026");
const OFFICER: (&str, &str) = ("saksbehandler@demo.helsedata.no", "Demo-saksbehandler-2026");
/// A researcher with about 200 applications ("my applications"), with the demo researcher's password.
const BUSY: (&str, &str) = ("bench1@example.no", "Demo-forsker-2026");

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(diesel::QueryableByName)]
struct Hash {
    #[diesel(sql_type = Text)]
    token_hash: String,
}

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn sql_error(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    pairs.iter().fold(template.to_string(), |t, (k, v)| t.replace(k, v))
}

/// A complete form of the given kind naming one source (fictitious project).
fn form(kind: &str, purpose: &str, source_id: i64) -> String {
    serde_json::json!({
        "kind": kind, "type": "new", "title": "Belastningsmåling", "summary": "Fiktivt prosjekt for måling.",
        "purpose": purpose, "start_date": "2027-01-01", "end_date": "2030-12-31",
        "project_leader": {"name": "Kari Forsker", "email": "kari@example.no", "institution": "Universitetet i Oslo"},
        "controller": {"name": "Universitetet i Oslo", "organisation_number": "971035854"}, "processor": null,
        "members": [], "legal_basis": {"gdpr_article_6": "6(1)(e)", "gdpr_article_9": "9(2)(j)", "justification": "Forskning."},
        "rek_reference": "2026/12345", "dpia_done": true, "dispensation": "requested", "consent_based": false,
        "controller_approved": true,
        "data_sources": [{"data_source_id": source_id, "variables": ["lopenr"], "period_from": "2010-01-01", "period_to": "2025-12-31", "selection": "Alle"}],
        "linkage": false, "linkage_key": null, "storage": "TSD", "access": "Prosjektgruppen", "deletion_date": "2031-12-31",
        "publication": "Aggregert", "invoice_recipient": {"name": "UiO", "organisation_number": "971035854", "reference": "B"},
        "student_thesis": null,
    })
    .to_string()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1).map(|s| s.trim().to_string()))
        .unwrap_or_default();
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:")?.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cores} cores ({cpu}), {:.0} GiB", mem_kb as f64 / 1048576.0)
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("load benchmark: run it with `cargo bench --bench load` or scripts/bench-load");
        return Ok(());
    }
    let queries = args.iter().any(|a| a == "--queries");
    let soak: Option<u64> = args.iter().position(|a| a == "--soak").and_then(|i| args.get(i + 1)?.parse().ok());
    let only_submit = args.iter().any(|a| a == "--submit");
    tools::check_programs()?;
    let (seconds, connections) = (setting("BENCH_SECONDS", 15), setting("BENCH_CONNECTIONS", 16));

    let (admin_url, cluster) = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => (url, None),
        Err(_) => {
            let c = Cluster::ensure(Path::new(CLUSTER_DIR), Durability::Durable).map_err(sql_error)?;
            (c.url("postgres"), Some(c))
        }
    };
    let url = match admin_url.rfind('/') {
        Some(i) => format!("{}/{DATABASE}", &admin_url[..i]),
        None => return Err("BENCH_DATABASE_URL must name a database".into()),
    };
    {
        let mut conn = AsyncPgConnection::establish(&admin_url).await.map_err(sql_error)?;
        for sql in [format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"), format!("CREATE DATABASE {DATABASE}")] {
            conn.batch_execute(&sql).await.map_err(sql_error)?;
        }
        if queries {
            conn.batch_execute(&format!("ALTER DATABASE {DATABASE} SET log_statement = 'all'"))
                .await
                .map_err(sql_error)?;
        }
    }

    let work = tempfile::tempdir().map_err(sql_error)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(sql_error)?.port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(work.path().join("service.log")).map_err(sql_error)?;
    let key: Vec<u8> = uuid::Uuid::new_v4().as_bytes().iter().chain(uuid::Uuid::new_v4().as_bytes()).copied().collect();
    use base64::Engine;
    let mut service = Command::new(env!("CARGO_BIN_EXE_helsedataservice"));
    service
        .arg("demo")
        .env("DATABASE_URL", &url)
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "critical")
        .env("RUST_LOG", "warn")
        .env("STORAGE_DIR", work.path().join("storage"))
        .env("MAIL_DIR", work.path().join("mail"))
        .env("STORAGE_MASTER_KEY", base64::engine::general_purpose::STANDARD.encode(&key))
        .stdout(log.try_clone().map_err(sql_error)?)
        .stderr(log);
    if let Ok(size) = std::env::var("BENCH_POOL_SIZE") {
        service.env("DATABASE_POOL_SIZE", size);
    }
    if queries {
        // Two connections (the demo data's set-up needs two at once), so that a route's third
        // request shows which statements stay prepared and which are parsed and planned anew.
        service.env("DATABASE_POOL_SIZE", "2");
    }
    let mut child = service.spawn().map_err(sql_error)?;
    let result =
        measure(&base, &url, work.path(), child.id(), seconds, connections, Mode { queries, soak, only_submit }).await;
    let _ = child.kill();
    let _ = child.wait();
    if result.is_err() {
        eprintln!("{}", std::fs::read_to_string(work.path().join("service.log")).unwrap_or_default());
    }
    if std::env::var_os("BENCH_KEEP").is_some() {
        println!("kept (BENCH_KEEP): the database {url}, its server still running");
        return result;
    }
    if let Ok(mut conn) = AsyncPgConnection::establish(&admin_url).await {
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")).await;
    }
    if let Some(c) = cluster.filter(|c| c.started_here) {
        let _ = c.stop();
    }
    result
}

/// What a run does besides the figures: print each route's SQL, soak, or measure only the submit.
struct Mode {
    queries: bool,
    soak: Option<u64>,
    only_submit: bool,
}

async fn measure(
    base: &str,
    url: &str,
    dir: &Path,
    pid: u32,
    seconds: u32,
    connections: u32,
    mode: Mode,
) -> Result<(), String> {
    let Mode { queries, soak, only_submit } = mode;
    if !tools::wait_healthy(base) {
        return Err("the service did not start".into());
    }
    let mut conn = AsyncPgConnection::establish(url).await.map_err(sql_error)?;
    let npr: Id = diesel::sql_query("SELECT id FROM data_sources WHERE code = 'NPR'")
        .get_result(&mut conn)
        .await
        .map_err(sql_error)?;
    let started = std::time::Instant::now();
    let data = include_str!("load/data.sql")
        .replace("__FORM__", &form("identifiable", "medical_research", npr.id).replace('\'', "''"));
    conn.batch_execute(&data).await.map_err(sql_error)?;
    // As autovacuum leaves a database in steady state (visibility map set, statistics current).
    conn.batch_execute("VACUUM ANALYZE").await.map_err(sql_error)?;
    println!("generated 100 000 applications and 1 000 000 events in {:.1} s", started.elapsed().as_secs_f64());

    let applicant_cookie = tools::login(base, dir, APPLICANT.0, APPLICANT.1)?;
    let officer_cookie = tools::login(base, dir, OFFICER.0, OFFICER.1)?;
    let busy_cookie = tools::login(base, dir, BUSY.0, BUSY.1)?;
    let token: serde_json::Value = serde_json::from_str(&tools::curl(&[
        "-f",
        "-H",
        "Content-Type: application/json",
        "-d",
        &serde_json::json!({"email": APPLICANT.0, "password": APPLICANT.1}).to_string(),
        &format!("{base}/api/auth/token"),
    ])?)
    .map_err(sql_error)?;
    let token = token["token"].as_str().ok_or("no token")?.to_string();
    // The generated applications only (the demo's own history gives the researcher a few more).
    let ids: Vec<i64> = diesel::sql_query(
        "SELECT a.id FROM applications a JOIN users u ON u.id = a.applicant_id WHERE u.email = $1 \
         AND a.title LIKE '%: registerdata og utfall' ORDER BY a.id",
    )
    .bind::<Text, _>(APPLICANT.0)
    .load::<Id>(&mut conn)
    .await
    .map_err(sql_error)?
    .into_iter()
    .map(|r| r.id)
    .collect();
    // pgbench picks `:first + 100 * random(0, 999)`: the generator gives the applicant every
    // hundredth.
    let first = *<[i64]>::first(&ids).ok_or("the applicant has no applications")?;
    if ids.len() != 1000 || ids.iter().enumerate().any(|(k, id)| *id != first + 100 * k as i64) {
        return Err(format!("unexpected application ids of the applicant: {} rows from {first}", ids.len()));
    }
    let session = |email: &'static str| {
        diesel::sql_query(
            "SELECT s.token_hash FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1 ORDER BY s.id DESC LIMIT 1",
        )
        .bind::<Text, _>(email)
    };
    let applicant_session = session(APPLICANT.0).get_result::<Hash>(&mut conn).await.map_err(sql_error)?.token_hash;
    let token_hash = diesel::sql_query(
        "SELECT t.token_hash FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = $1 ORDER BY t.id DESC LIMIT 1",
    )
    .bind::<Text, _>(APPLICANT.0)
    .get_result::<Hash>(&mut conn)
    .await
    .map_err(sql_error)?
    .token_hash;
    let user_id =
        |email: &'static str| diesel::sql_query("SELECT id FROM users WHERE email = $1").bind::<Text, _>(email);
    let applicant_id = user_id(APPLICANT.0).get_result::<Id>(&mut conn).await.map_err(sql_error)?.id;
    let officer_id = user_id(OFFICER.0).get_result::<Id>(&mut conn).await.map_err(sql_error)?.id;
    let officer_session = session(OFFICER.0).get_result::<Hash>(&mut conn).await.map_err(sql_error)?.token_hash;
    let busy_session = session(BUSY.0).get_result::<Hash>(&mut conn).await.map_err(sql_error)?.token_hash;
    let busy_id = user_id(BUSY.0).get_result::<Id>(&mut conn).await.map_err(sql_error)?.id;
    let id_list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let write = |name: &str, text: String| -> Result<PathBuf, String> {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(sql_error)?;
        Ok(p)
    };
    let status_script = |name: &str, path: &str, cookie: &str| {
        write(
            name,
            fill(
                include_str!("load/status.lua"),
                &[("__PATH__", path), ("__IDS__", &id_list), ("__COOKIE__", cookie), ("__HEADERS__", "")],
            ),
        )
    };
    // Status pages (every request reads the database), and the ceiling once more with the same
    // script (its Lua costs wrk about as much as the route costs Rocket).
    let status_lua = status_script("status.lua", "/applications/", &applicant_cookie)?;
    let case_lua = status_script("case.lua", "/applications/", &officer_cookie)?;
    let noop_lua = status_script("noop.lua", "/health?id=", &applicant_cookie)?;
    let submit_form = form("aggregated", "health_analysis", npr.id);
    let submit_lua = write(
        "submit.lua",
        fill(include_str!("load/submit.lua"), &[("__TOKEN__", &token), ("__FORM__", &submit_form)]),
    )?;

    let officer_token: serde_json::Value = serde_json::from_str(&tools::curl(&[
        "-f",
        "-H",
        "Content-Type: application/json",
        "-d",
        &serde_json::json!({"email": OFFICER.0, "password": OFFICER.1}).to_string(),
        &format!("{base}/api/auth/token"),
    ])?)
    .map_err(sql_error)?;
    let officer_token = officer_token["token"].as_str().ok_or("no token")?.to_string();
    let command_lua = write(
        "command.lua",
        fill(include_str!("load/command.lua"), &[("__TOKEN__", &officer_token), ("__IDS__", &id_list)]),
    )?;

    if queries {
        let cookies = [applicant_cookie.as_str(), officer_cookie.as_str(), busy_cookie.as_str()];
        return crate::print_queries(base, &ids, cookies, &token, &submit_form);
    }
    if let Some(minutes) = soak {
        let soak_lua = write(
            "soak.lua",
            fill(
                include_str!("load/soak.lua"),
                &[
                    ("__IDS__", &id_list),
                    ("__APPLICANT_COOKIE__", &applicant_cookie),
                    ("__OFFICER_COOKIE__", &officer_cookie),
                    ("__DELAY__", "100"),
                ],
            ),
        )?;
        return soak_run(base, pid, minutes, &soak_lua);
    }

    println!("machine: {}; {connections} connections, {seconds} s per run, service pid {pid}", machine());
    let http = |path: &str, script: Option<&Path>, headers: &[String]| -> Result<(Figures, CpuPerRequest), String> {
        tools::wrk(&format!("{base}{path}"), connections, 2, script, headers)?; // warm-up
        let before = Cpu::sample(pid, DATABASE);
        let (figures, _) = tools::wrk(&format!("{base}{path}"), connections, seconds, script, headers)?;
        let cpu = before.per_request(&Cpu::sample(pid, DATABASE), figures.rate * f64::from(seconds));
        Ok((figures, cpu))
    };
    let vars = vec![
        ("first", first.to_string()),
        ("applicant_session", applicant_session),
        ("officer_session", officer_session),
        ("busy_session", busy_session),
        ("busy", busy_id.to_string()),
        ("npr", npr.id.to_string()),
        ("token_hash", token_hash),
        ("applicant", applicant_id.to_string()),
        ("officer", officer_id.to_string()),
        ("form", submit_form.clone()),
    ];
    let script = |name: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/load").join(format!("{name}.sql"));
    let reference = |name: &str| -> Result<Figures, String> {
        Ok(tools::pgbench(url, &script(name), connections, seconds, &vars, dir)?.0)
    };
    // submit.sql with the reads of each JSON answer (answer.sql) after each of its two commits.
    let answer = std::fs::read_to_string(script("answer")).map_err(sql_error)?;
    let answer: Vec<&str> = answer.lines().filter(|l| !l.starts_with("--")).collect();
    let submit_sql = std::fs::read_to_string(script("submit")).map_err(sql_error)?;
    let submit_answers = write(
        "submit_answers.sql",
        submit_sql
            .lines()
            .flat_map(|l| std::iter::once(l).chain(answer.iter().copied().filter(move |_| l == "COMMIT;")))
            .map(|l| format!("{l}\n"))
            .collect(),
    )?;
    // The submit and its two references: (pairs, HTTP requests/s, CPU per pair, pgbench writes,
    // pgbench writes and answers' reads).
    let submit_phase = || -> Result<(Figures, f64, CpuPerRequest, Figures, Figures), String> {
        let before = Cpu::sample(pid, DATABASE);
        let (mut submit, report) = tools::wrk(&format!("{base}/"), connections, seconds, Some(&submit_lua), &[])?;
        let submits = submits_of(&report);
        let cpu = before.per_request(&Cpu::sample(pid, DATABASE), submits);
        let requests_per_second = submit.rate;
        submit.rate = submits / f64::from(seconds);
        let pg_submit = reference("submit")?;
        let pg_submit_answers = tools::pgbench(url, &submit_answers, connections, seconds, &vars, dir)?.0;
        Ok((submit, requests_per_second, cpu, pg_submit, pg_submit_answers))
    };
    let header = || {
        println!();
        println!(
            "{:<36} {:>9} {:>8} {:>8} | {:>9} {:>8} {:>8} | {:>6}",
            "", "HTTP /s", "p50 ms", "p99 ms", "pgbench/s", "p50 ms", "p99 ms", "ratio"
        );
    };
    let row = |name: &str, h: &Figures, p: Option<&Figures>| {
        let errors = if h.errors > 0 { format!("  ({} failed)", h.errors) } else { String::new() };
        match p {
            Some(p) => println!(
                "{name:<36} {:>9.0} {:>8.2} {:>8.2} | {:>9.0} {:>8.2} {:>8.2} | {:>6.2}{errors}",
                h.rate,
                h.p50_ms,
                h.p99_ms,
                p.rate,
                p.p50_ms,
                p.p99_ms,
                h.rate / p.rate
            ),
            None => println!("{name:<36} {:>9.0} {:>8.2} {:>8.2} |{errors}", h.rate, h.p50_ms, h.p99_ms),
        }
    };
    let submit_rows = |submit: &Figures, requests_per_second: f64, pg: &Figures, pg_answers: &Figures| {
        row("submit (create + submit, per pair)", submit, Some(pg));
        row("  against writes and answers' reads", submit, Some(pg_answers));
        println!("(submit: {requests_per_second:.0} HTTP requests/s; its latencies are per request, create or submit)");
        println!();
    };
    // Where the CPU goes: the service, PostgreSQL's backends serving it, and wrk, per request.
    // All three share the machine's cores, so even a service that cost nothing could not serve
    // more than cores / (PostgreSQL + wrk) requests a second.
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
    let cpu_header = || {
        println!(
            "{:<36} {:>9} {:>10} {:>9} | {:>22}",
            "CPU per request, µs", "service", "PostgreSQL", "wrk", "bound with a free service"
        );
    };
    let cpu_row = |name: &str, c: &CpuPerRequest, ceiling: Option<f64>| {
        let bound = cores * 1e6 / (c.postgres + c.load_generator).max(1.0);
        let of_ceiling = ceiling.map(|n| format!(" = {:>4.2} of no-op", bound / n)).unwrap_or_default();
        println!(
            "{name:<36} {:>9.0} {:>10.0} {:>9.0} | {:>8.0}/s{of_ceiling}",
            c.service, c.postgres, c.load_generator, bound
        );
    };
    let submit_ratio = |submit: &Figures, pg: &Figures| {
        println!("submit / pgbench submit:   {:.2} (goal ≥ 0.60)", submit.rate / pg.rate);
    };
    if only_submit {
        let (submit, requests_per_second, submit_cpu, pg_submit, pg_submit_answers) = submit_phase()?;
        header();
        submit_rows(&submit, requests_per_second, &pg_submit, &pg_submit_answers);
        cpu_header();
        cpu_row("submit (per pair)", &submit_cpu, None);
        println!();
        submit_ratio(&submit, &pg_submit);
        return Ok(());
    }

    let officer_header = format!("Cookie: {officer_cookie}");
    let busy_header = format!("Cookie: {busy_cookie}");
    let page = |name, path, script, headers: &[&String], reference, connections| Load {
        name,
        path,
        script,
        headers: headers.iter().map(|h| h.to_string()).collect(),
        reference,
        connections,
    };
    // Each page with its pgbench script, and its share of the mixed load's connections.
    let pages = vec![
        page("status page (applicant)", "/", Some(status_lua.as_path()), &[], "status", 5),
        page("case page (officer)", "/", Some(case_lua.as_path()), &[], "case", 5),
        page("inbox, first page (officer)", "/inbox", None, &[&officer_header], "inbox", 4),
        page("catalogue", "/data-sources", None, &[], "catalogue", 4),
        page("my applications (50 of ~200)", "/applications", None, &[&busy_header], "mine", 3),
        page("dashboard (officer)", "/dashboard", None, &[&officer_header], "dashboard", 3),
    ];
    let (noop, noop_cpu) = http("/health", None, &[])?;
    let (noop_scripted, noop_scripted_cpu) = http("/", Some(&noop_lua), &[])?;
    let mut measured = vec![];
    for p in &pages {
        let (figures, cpu) = http(p.path, p.script, &p.headers)?;
        let reference = reference(p.reference)?;
        measured.push((p.name, figures, cpu, reference));
    }
    let (submit, requests_per_second, submit_cpu, pg_submit, pg_submit_answers) = submit_phase()?;

    header();
    row("GET /health (framework ceiling)", &noop, None);
    row("  the same, through the status script", &noop_scripted, None);
    for (name, figures, _, reference) in &measured {
        row(name, figures, Some(reference));
    }
    submit_rows(&submit, requests_per_second, &pg_submit, &pg_submit_answers);
    cpu_header();
    let ceiling = Some(noop.rate);
    cpu_row("GET /health", &noop_cpu, ceiling);
    cpu_row("  the same, through the status script", &noop_scripted_cpu, ceiling);
    for (name, _, cpu, _) in &measured {
        cpu_row(name, cpu, ceiling);
    }
    cpu_row("submit (per pair)", &submit_cpu, None);
    println!();
    let page_ratio_min = measured.iter().map(|(_, h, _, p)| h.rate / p.rate).fold(f64::INFINITY, f64::min);
    println!("lowest page / pgbench ratio: {page_ratio_min:.2} (goal ≥ 0.70)");
    submit_ratio(&submit, &pg_submit);

    // Mixed load: 32 connections at once over the pages, the submits and a command, each kind
    // driven by its own wrk so that each has its own latencies.
    let mut mix = pages;
    mix.push(page("submit (create, submit)", "/", Some(submit_lua.as_path()), &[], "", 4));
    mix.push(page("command (officer's note)", "/", Some(command_lua.as_path()), &[], "", 4));
    let total: u32 = mix.iter().map(|m| m.connections).sum();
    println!();
    println!("mixed load: {total} connections for {seconds} s");
    let results: Vec<(&str, WrkResult)> = std::thread::scope(|scope| {
        let handles: Vec<_> = mix
            .iter()
            .map(|m| {
                let url = format!("{base}{}", m.path);
                (m.name, scope.spawn(move || tools::wrk(&url, m.connections, seconds, m.script, &m.headers)))
            })
            .collect();
        handles.into_iter().map(|(name, h)| (name, h.join().unwrap_or_else(|_| Err("wrk panicked".into())))).collect()
    });
    println!("{:<36} {:>9} {:>8} {:>8}", "", "HTTP /s", "p50 ms", "p99 ms");
    let mut p99_ms_max: f64 = 0.0;
    for (name, result) in results {
        let (figures, _) = result?;
        row(name, &figures, None);
        p99_ms_max = p99_ms_max.max(figures.p99_ms);
    }
    println!("highest p99 under mixed load: {p99_ms_max:.1} ms (goal ≤ 100)");

    // The statistics as a visitor gets them: nothing cached, one connection, nothing else running.
    let (statistics, _) = tools::wrk(&format!("{base}/api/statistics"), 1, seconds.min(10), None, &[])?;
    println!();
    println!(
        "statistics GET /api/statistics at 100 000 applications: p50 {:.1} ms, p99 {:.1} ms (goal ≤ 50)",
        statistics.p50_ms, statistics.p99_ms
    );
    println!();
    println!(
        "summary: page_ratio_min={page_ratio_min:.2} submit_ratio={:.2} p99_ms_max={p99_ms_max:.1} statistics_ms={:.1}",
        submit.rate / pg_submit.rate,
        statistics.p50_ms
    );
    Ok(())
}

/// One kind of request under load: its name, path, wrk script and headers, the pgbench script of
/// the same statements, and its connections in the mixed load.
struct Load<'a> {
    name: &'a str,
    path: &'a str,
    script: Option<&'a Path>,
    headers: Vec<String>,
    reference: &'a str,
    connections: u32,
}

type WrkResult = Result<(Figures, String), String>;

/// The submits a submit run counted (its `done` prints them per thread).
fn submits_of(report: &str) -> f64 {
    report.lines().filter_map(|l| l.strip_prefix("submits: ")?.split_whitespace().next()?.parse::<f64>().ok()).sum()
}

/// Runs one request of each kind and prints the statements the database received for it.
fn print_queries(base: &str, ids: &[i64], cookies: [&str; 3], token: &str, form: &str) -> Result<(), String> {
    let [applicant, officer, busy] = cookies;
    let log = Cluster::server_home_of(Path::new(CLUSTER_DIR)).join("postgres.log");
    let read_log = || std::fs::read(&log).map_err(sql_error);
    // Each GET three times; the last request's statements are printed, and those whose prepared
    // statement name was not in the log before it are marked: prepared anew on a warm connection.
    // `since`: where in the log this route's first request began (names repeat across runs). If
    // both earlier requests went to the other connection, the kept statements are marked too (the
    // session's look-up among them is the tell): run it again before reading a mark as a fault.
    let once = |name: &str, args: &[&str], since: usize| -> Result<String, String> {
        std::thread::sleep(std::time::Duration::from_millis(300));
        let before = read_log()?.len();
        let body = tools::curl(args)?;
        std::thread::sleep(std::time::Duration::from_millis(300));
        let text = read_log()?;
        let earlier = String::from_utf8_lossy(&text[since.min(before)..before.min(text.len())]).into_owned();
        let added = String::from_utf8_lossy(&text[before.min(text.len())..]).into_owned();
        // Each statement, and whether its prepared statement's name is new since `since`.
        let statements: Vec<(bool, &str)> = added
            .lines()
            .filter(|l| l.contains("LOG:  execute") || l.contains("LOG:  statement"))
            .map(|l| l.split("LOG:  ").nth(1).unwrap_or(l))
            .map(|s| {
                let name = s.strip_prefix("execute ").and_then(|r| r.split(':').next());
                (name.is_some_and(|n| !earlier.contains(&format!("execute {n}:"))), s)
            })
            .collect();
        let fresh = statements.iter().filter(|(anew, _)| *anew).count();
        println!("== {name}: {} statements, {fresh} prepared anew", statements.len());
        for (anew, s) in &statements {
            println!("  {}{s}", if *anew { "[new] " } else { "" });
        }
        Ok(body)
    };
    let warm = |name: &str, args: &[&str]| -> Result<String, String> {
        let since = read_log()?.len();
        tools::curl(args)?;
        tools::curl(args)?;
        once(name, args, since)
    };
    let auth = format!("Authorization: Bearer {token}");
    warm("health", &[&format!("{base}/health")])?;
    warm("status page", &["-H", &format!("Cookie: {applicant}"), &format!("{base}/applications/{}", ids[0])])?;
    warm("case page", &["-H", &format!("Cookie: {officer}"), &format!("{base}/applications/{}", ids[0])])?;
    warm("inbox", &["-H", &format!("Cookie: {officer}"), &format!("{base}/inbox")])?;
    warm("catalogue", &[&format!("{base}/data-sources")])?;
    warm("my applications", &["-H", &format!("Cookie: {busy}"), &format!("{base}/applications")])?;
    warm("dashboard", &["-H", &format!("Cookie: {officer}"), &format!("{base}/dashboard")])?;
    warm("statistics", &[&format!("{base}/api/statistics")])?;
    // The create and the submit, three times too: the last pair on a warm connection.
    let since = read_log()?.len();
    let pair = |print: bool| -> Result<(), String> {
        let create =
            ["-H", &auth, "-H", "Content-Type: application/json", "-d", form, &format!("{base}/api/applications")];
        let created = if print { once("create", &create, since)? } else { tools::curl(&create)? };
        let id = serde_json::from_str::<serde_json::Value>(&created).map_err(sql_error)?["id"].clone();
        let submit = [
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "-d",
            "{}",
            &format!("{base}/api/applications/{id}/submit"),
        ];
        let submitted = if print { once("submit", &submit, since)? } else { tools::curl(&submit)? };
        if print {
            println!("  (answer begins: {})", &submitted[..submitted.len().min(200)]);
        }
        Ok(())
    };
    pair(false)?;
    pair(false)?;
    pair(true)?;
    Ok(())
}

/// Moderate load (4 connections, 100 ms between requests each) for `minutes`, printing the
/// service's resident memory after every minute.
fn soak_run(base: &str, pid: u32, minutes: u64, script: &Path) -> Result<(), String> {
    println!(
        "soak: {minutes} min, 4 connections each waiting 100 ms between requests (status page, inbox, catalogue); {}",
        machine()
    );
    let start = tools::rss_kb(pid);
    println!("minute  0: RSS {start} kB");
    let mut last = start;
    for m in 1..=minutes {
        let (f, _) = tools::wrk(&format!("{base}/"), 4, 60, Some(script), &[])?;
        last = tools::rss_kb(pid);
        println!(
            "minute {m:>2}: RSS {last} kB, {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} failed",
            f.rate, f.p50_ms, f.p99_ms, f.errors
        );
    }
    println!("RSS grew by {} kB over {minutes} min", last as i64 - start as i64);
    Ok(())
}
