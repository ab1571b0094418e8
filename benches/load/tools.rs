//! What the load benchmark runs outside itself: curl for logging in, wrk for HTTP load,
//! pgbench for the database's own figures, and the parsing of their output.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Throughput and latency of one run.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Completed units per second (requests, or submits for the submit run).
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Failed requests (non-2xx/3xx, socket errors) or failed transactions.
    pub errors: u64,
}

/// Runs a command and returns its standard output, or says what failed.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Each program the benchmark needs, or the Debian package to install.
pub fn check_programs() -> Result<(), String> {
    for (program, package) in [("wrk", "wrk"), ("pgbench", "postgresql-client"), ("curl", "curl")] {
        if Command::new(program).arg("--version").output().is_err() {
            return Err(format!("`{program}` is missing: run scripts/bench-load, or apt-get install {package}"));
        }
    }
    Ok(())
}

/// `curl` with the given arguments; the body.
pub fn curl(args: &[&str]) -> Result<String, String> {
    run(Command::new("curl").arg("-sS").args(args))
}

/// Waits until `/health` answers 200.
pub fn wait_healthy(base: &str) -> bool {
    for _ in 0..600 {
        if curl(&["-f", &format!("{base}/health")]).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Logs in through the login form like a browser; returns the `Cookie` header value.
pub fn login(base: &str, dir: &Path, email: &str, password: &str) -> Result<String, String> {
    let jar = dir.join(format!("{email}.jar"));
    let jar = jar.to_str().ok_or("path")?;
    let page = curl(&["-c", jar, "-b", jar, &format!("{base}/login")])?;
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.find(marker).ok_or("no CSRF field on /login")? + marker.len();
    let csrf = page[start..].split('"').next().unwrap_or_default();
    let code = curl(&[
        "-c",
        jar,
        "-b",
        jar,
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--data-urlencode",
        &format!("email={email}"),
        "--data-urlencode",
        &format!("password={password}"),
        "--data-urlencode",
        "next=/",
        "--data-urlencode",
        &format!("csrf_token={csrf}"),
        &format!("{base}/login"),
    ])?;
    if code != "303" {
        return Err(format!("login of {email} answered {code}"));
    }
    // Netscape cookie file: domain, flag, path, secure, expiry, name, value ("#HttpOnly_" lines too).
    let text = std::fs::read_to_string(jar).map_err(|e| e.to_string())?;
    let cookies: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && (!l.starts_with('#') || l.starts_with("#HttpOnly_")))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 7).then(|| format!("{}={}", f[5], f[6]))
        })
        .collect();
    Ok(cookies.join("; "))
}

fn millis(text: &str) -> f64 {
    let split = text.find(|c: char| c.is_alphabetic()).unwrap_or(text.len());
    let value: f64 = text[..split].parse().unwrap_or(f64::NAN);
    match &text[split..] {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => f64::NAN,
    }
}

/// Runs wrk (2 threads, `connections`, `seconds`, latency percentiles) and reads its report.
pub fn wrk(
    url: &str,
    connections: u32,
    seconds: u32,
    script: Option<&Path>,
    headers: &[String],
) -> Result<(Figures, String), String> {
    let mut cmd = Command::new("wrk");
    let threads = connections.clamp(1, 2).to_string();
    cmd.args([
        "-t",
        &threads,
        "-c",
        &connections.to_string(),
        "-d",
        &format!("{seconds}s"),
        "--latency",
        "--timeout",
        "10s",
    ]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    cmd.arg(url);
    let out = run(&mut cmd)?;
    let mut f = Figures::default();
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", r] => f.rate = r.parse().unwrap_or(0.0),
            ["50%", v] => f.p50_ms = millis(v),
            ["99%", v] => f.p99_ms = millis(v),
            ["Non-2xx", "or", "3xx", "responses:", n] => f.errors += n.parse::<u64>().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                f.errors += rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>()
            }
            _ => {}
        }
    }
    Ok((f, out))
}

/// Runs a pgbench script (prepared statements, 2 threads) and reads its report and latency log.
pub fn pgbench(
    url: &str,
    script: &Path,
    connections: u32,
    seconds: u32,
    vars: &[(&str, String)],
    dir: &Path,
) -> Result<(Figures, String), String> {
    let logs = dir.join(format!("pgbench-{}", script.file_stem().and_then(|s| s.to_str()).unwrap_or("x")));
    std::fs::create_dir_all(&logs).map_err(|e| e.to_string())?;
    let mut cmd = Command::new("pgbench");
    cmd.args(["-n", "-M", "prepared", "-j", "2", "-c", &connections.to_string(), "-T", &seconds.to_string(), "-l"])
        .arg(format!("--log-prefix={}/log", logs.display()))
        .arg("-f")
        .arg(script);
    for (k, v) in vars {
        cmd.args(["-D", &format!("{k}={v}")]);
    }
    cmd.arg(url);
    let out = run(&mut cmd)?;
    let mut f = Figures::default();
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("tps = ") {
            f.rate = rest.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
        }
        if let Some(rest) = line.strip_prefix("number of failed transactions: ") {
            f.errors = rest.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0);
        }
    }
    // Log lines: client, transaction, latency in µs, script, epoch, µs.
    let mut latencies: Vec<u64> = vec![];
    for entry in std::fs::read_dir(&logs).map_err(|e| e.to_string())?.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        latencies.extend(text.lines().filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok()));
        let _ = std::fs::remove_file(entry.path());
    }
    latencies.sort_unstable();
    let at = |q: f64| latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)));
    f.p50_ms = at(0.5).map_or(f64::NAN, |v| *v as f64 / 1000.0);
    f.p99_ms = at(0.99).map_or(f64::NAN, |v| *v as f64 / 1000.0);
    Ok((f, out))
}

/// Resident memory of a process in kB (VmRSS), or 0 when it is gone.
pub fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:")?.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// CPU time in µs so far (user + system): of the service, of each PostgreSQL backend connected
/// to `database` (by process id), and of this process's finished children (wrk, pgbench).
pub struct Cpu {
    service: u64,
    backends: std::collections::HashMap<u32, u64>,
    children: u64,
}

/// Per request of a run, in µs of CPU.
pub struct CpuPerRequest {
    pub service: f64,
    pub postgres: f64,
    pub load_generator: f64,
}

fn ticks_per_second() -> u64 {
    run(Command::new("getconf").arg("CLK_TCK")).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(100)
}

/// (own user + system, finished children's user + system) of a process, in clock ticks.
fn ticks(pid: &str) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<u64> =
        stat.rsplit_once(") ")?.1.split_whitespace().skip(11).take(4).filter_map(|f| f.parse().ok()).collect();
    match fields.as_slice() {
        [utime, stime, cutime, cstime] => Some((utime + stime, cutime + cstime)),
        _ => None,
    }
}

impl Cpu {
    pub fn sample(service: u32, database: &str) -> Cpu {
        let us = 1_000_000 / ticks_per_second();
        let mut backends = std::collections::HashMap::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(pid) = name.parse::<u32>() else { continue };
            // A backend's title: "postgres: <user> <database> <address> <state>".
            let title = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let title = String::from_utf8_lossy(&title);
            if title.starts_with("postgres: ") && title.split_whitespace().nth(2) == Some(database) {
                backends.insert(pid, ticks(&name).map_or(0, |t| t.0) * us);
            }
        }
        Cpu {
            service: ticks(&service.to_string()).map_or(0, |t| t.0) * us,
            backends,
            children: ticks("self").map_or(0, |t| t.1) * us,
        }
    }

    /// What was used between `self` and `later`, divided over `requests`.
    pub fn per_request(&self, later: &Cpu, requests: f64) -> CpuPerRequest {
        let postgres: u64 =
            later.backends.iter().map(|(pid, t)| t.saturating_sub(*self.backends.get(pid).unwrap_or(&0))).sum();
        let per = |us: u64| us as f64 / requests.max(1.0);
        CpuPerRequest {
            service: per(later.service.saturating_sub(self.service)),
            postgres: per(postgres),
            load_generator: per(later.children.saturating_sub(self.children)),
        }
    }
}
