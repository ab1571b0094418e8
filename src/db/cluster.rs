//! The private PostgreSQL cluster used when no `DATABASE_URL` is configured: initialised under
//! a folder of ours from the machine's `initdb`/`pg_ctl`, listening on 127.0.0.1 only, with a
//! random password. PostgreSQL refuses to run as root, so as root it runs as `postgres`; when
//! that account cannot reach our folder (a checkout under `/root`, mode 0700), the server's own
//! files (data and log) live in a folder of its home tied to the checkout, named in
//! `<folder>/server-home`, while the lock and the password stay in our folder.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Why the private cluster could not be provided; the message says what to install or set.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// initdb/pg_ctl are not on this machine.
    #[error(
        "PostgreSQL's server programs (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql/*/bin: \
         install them (Debian: `apt-get install postgresql`) or set DATABASE_URL to an existing database"
    )]
    NotInstalled,
    /// A command failed; carries its name and output.
    #[error("{0} failed: {1}")]
    Command(String, String),
    /// A file-system problem under the cluster folder.
    #[error("cannot use {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// A running private cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    dir: PathBuf,
    port: u16,
    password: String,
    bin: PathBuf,
    /// True when this process started the server (and so should stop it).
    pub started_here: bool,
}

/// How the cluster is tuned.
#[derive(Debug, Clone, Copy)]
pub enum Durability {
    /// fsync on: for the service's own data.
    Durable,
    /// fsync off: for throw-away test databases.
    Fast,
}

const SUPERUSER: &str = "hds";

/// Names the server's folder when it is not ours (see the module's documentation).
const SERVER_HOME_FILE: &str = "server-home";

/// Where the servers of checkouts the `postgres` account cannot enter keep their files.
const EXTERNAL_HOMES: &str = "/var/lib/postgresql/helsedataservice";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError + '_ {
    move |e| ClusterError::Io(path.to_path_buf(), e)
}

/// Finds the folder holding initdb and pg_ctl: PATH first, then the newest /usr/lib/postgresql/N/bin.
pub fn find_bin_dir() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default();
    let mut versioned: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    versioned.sort_by_key(|v| std::cmp::Reverse(v.0));
    on_path
        .into_iter()
        .chain(versioned.into_iter().map(|(_, p)| p))
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn running_as_root() -> bool {
    fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

/// The unprivileged account that runs the server when we are root.
fn service_account() -> Option<(u32, u32)> {
    let out = Command::new("id").args(["-u", "postgres"]).output().ok()?;
    let uid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    let out = Command::new("id").args(["-g", "postgres"]).output().ok()?;
    let gid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some((uid, gid))
}

fn check(name: &str, out: std::io::Result<Output>) -> Result<Output, ClusterError> {
    let out = out.map_err(|e| ClusterError::Command(name.into(), e.to_string()))?;
    if out.status.success() {
        Ok(out)
    } else {
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        Err(ClusterError::Command(name.into(), text.trim().to_string()))
    }
}

fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io(Path::new("127.0.0.1")))?;
    Ok(listener.local_addr().map_err(io(Path::new("127.0.0.1")))?.port())
}

fn random_hex(bytes: usize) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

impl Cluster {
    /// Makes sure a cluster runs under `dir` (initialising it the first time) and returns it.
    /// Safe to call from several processes at once: they serialise on a lock file.
    pub fn ensure(dir: &Path, durability: Durability) -> Result<Cluster, ClusterError> {
        let bin = find_bin_dir().ok_or(ClusterError::NotInstalled)?;
        fs::create_dir_all(dir).map_err(io(dir))?;
        let dir = dir.canonicalize().map_err(io(dir))?;
        let lock_path = dir.join("cluster.lock");
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
        lock.lock().map_err(io(&lock_path))?;

        let as_root = running_as_root();
        let account = if as_root {
            Some(service_account().ok_or_else(|| {
                ClusterError::Command(
                    "looking up the postgres account".into(),
                    "running as root needs the unprivileged `postgres` account (apt-get install postgresql creates it)"
                        .into(),
                )
            })?)
        } else {
            None
        };
        let mut cluster = Cluster { dir: dir.clone(), port: 0, password: String::new(), bin, started_here: false };
        if !cluster.data().join("PG_VERSION").is_file() {
            cluster.init(account, durability)?;
        }
        let password_file = dir.join("password");
        cluster.password = fs::read_to_string(&password_file).map_err(io(&password_file))?.trim().to_string();

        if let Some(port) = cluster.running_port() {
            cluster.port = port;
        } else {
            cluster.port = free_port()?;
            cluster.start_server(account.is_some())?;
            cluster.started_here = true;
        }
        drop(lock);
        Ok(cluster)
    }

    /// The folder of the server's own files: ours, or the one named in `server-home`.
    pub fn server_home(&self) -> PathBuf {
        Cluster::server_home_of(&self.dir)
    }

    /// The server's folder for the cluster under `dir` (see [`Cluster::server_home`]).
    pub fn server_home_of(dir: &Path) -> PathBuf {
        match fs::read_to_string(dir.join(SERVER_HOME_FILE)) {
            Ok(path) if !path.trim().is_empty() => PathBuf::from(path.trim()),
            _ => dir.to_path_buf(),
        }
    }

    /// The data folder.
    fn data(&self) -> PathBuf {
        self.server_home().join("data")
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.server_home().join("postgres.log")
    }

    /// Starts the server on this cluster's port and waits until it accepts connections.
    fn start_server(&self, as_postgres: bool) -> Result<(), ClusterError> {
        let data = self.data();
        let log = self.log_file();
        let mut cmd = self.pg_command("pg_ctl", as_postgres);
        let out = cmd.args([
            "-D".as_ref(),
            data.as_os_str(),
            "-l".as_ref(),
            log.as_os_str(),
            "-w".as_ref(),
            "-t".as_ref(),
            "60".as_ref(),
            "-o".as_ref(),
            format!("-p {}", self.port).as_ref(),
            "start".as_ref(),
        ]);
        check("pg_ctl start", out.output()).map(|_| ()).map_err(|e| match e {
            ClusterError::Command(n, t) => {
                let tail = fs::read_to_string(&log).unwrap_or_default();
                let tail: Vec<&str> = tail.lines().rev().take(5).collect();
                ClusterError::Command(
                    n,
                    format!("{t}; log: {}", tail.into_iter().rev().collect::<Vec<_>>().join(" | ")),
                )
            }
            other => other,
        })
    }

    /// Starts a stopped server again on the same port (so existing connection URLs work again).
    pub fn restart(&self) -> Result<(), ClusterError> {
        self.start_server(running_as_root())
    }

    fn pg_command(&self, program: &str, as_postgres: bool) -> Command {
        let path = self.bin.join(program);
        if as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn init(&self, account: Option<(u32, u32)>, durability: Durability) -> Result<(), ClusterError> {
        if let Some((uid, gid)) = account {
            let home = self.prepare_server_home(uid, gid)?;
            std::os::unix::fs::chown(&home, Some(uid), Some(gid)).map_err(io(&home))?;
        }
        let data = self.data();
        let password = random_hex(24);
        let pwfile = self.server_home().join("initdb.pw");
        fs::write(&pwfile, &password).map_err(io(&pwfile))?;
        if let Some((uid, gid)) = account {
            std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).map_err(io(&pwfile))?;
        }
        let mut cmd = self.pg_command("initdb", account.is_some());
        cmd.args(["-D".as_ref(), data.as_os_str()])
            .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C.UTF-8", "--auth-local=peer", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()));
        let result = check("initdb", cmd.output());
        let _ = fs::remove_file(&pwfile);
        result?;

        let password_file = self.dir.join("password");
        let mut f = File::create(&password_file).map_err(io(&password_file))?;
        f.write_all(password.as_bytes()).map_err(io(&password_file))?;
        fs::set_permissions(&password_file, fs::Permissions::from_mode(0o600)).map_err(io(&password_file))?;

        let conf = data.join("postgresql.conf");
        let mut settings = String::from(
            "\n# Private cluster of Helsedataservice\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 300\nshared_buffers = 256MB\n",
        );
        if let Durability::Fast = durability {
            settings.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        let mut f = OpenOptions::new().append(true).open(&conf).map_err(io(&conf))?;
        f.write_all(settings.as_bytes()).map_err(io(&conf))?;
        Ok(())
    }

    /// As root: a folder the `postgres` account may write, for the server's files. Our own folder
    /// when the account reaches it through every parent; otherwise a folder under
    /// [`EXTERNAL_HOMES`] named after our folder's path (so each checkout has its own), recorded
    /// in `server-home`.
    fn prepare_server_home(&self, uid: u32, gid: u32) -> Result<PathBuf, ClusterError> {
        let reachable = |dir: &Path| {
            Command::new("runuser")
                .args(["-u", "postgres", "--", "test", "-w"])
                .arg(dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false)
        };
        std::os::unix::fs::chown(&self.dir, Some(uid), Some(gid)).map_err(io(&self.dir))?;
        if reachable(&self.dir) {
            let _ = fs::remove_file(self.dir.join(SERVER_HOME_FILE));
            return Ok(self.dir.clone());
        }
        // Ours again: the lock and the password stay with root.
        std::os::unix::fs::chown(&self.dir, Some(0), Some(0)).map_err(io(&self.dir))?;
        use sha2::Digest;
        let tag = hex::encode(&sha2::Sha256::digest(self.dir.as_os_str().as_encoded_bytes())[..8]);
        let name = self.dir.file_name().and_then(|n| n.to_str()).unwrap_or("cluster");
        let home = Path::new(EXTERNAL_HOMES).join(format!("{name}-{tag}"));
        let base = Path::new(EXTERNAL_HOMES);
        // Called only while our folder has no cluster: a folder left there belongs to a checkout
        // that was deleted from this same path (its password went with it), so it goes.
        if home.exists() {
            fs::remove_dir_all(&home).map_err(io(&home))?;
        }
        fs::create_dir_all(&home).map_err(io(&home))?;
        for folder in [base, home.as_path()] {
            std::os::unix::fs::chown(folder, Some(uid), Some(gid)).map_err(io(folder))?;
            fs::set_permissions(folder, fs::Permissions::from_mode(0o700)).map_err(io(folder))?;
        }
        if !reachable(&home) {
            return Err(ClusterError::Command(
                "preparing the cluster folder".into(),
                format!(
                    "the postgres account can write neither to {} nor to {}; set DATABASE_URL",
                    self.dir.display(),
                    home.display()
                ),
            ));
        }
        let record = self.dir.join(SERVER_HOME_FILE);
        fs::write(&record, home.as_os_str().as_encoded_bytes()).map_err(io(&record))?;
        Ok(home)
    }

    /// The port of a server already running on this data folder, if any.
    fn running_port(&self) -> Option<u16> {
        let data = self.data();
        let status = self.pg_command("pg_ctl", running_as_root()).arg("status").arg("-D").arg(&data).output().ok()?;
        if !status.status.success() {
            return None;
        }
        let pid_file = fs::read_to_string(data.join("postmaster.pid")).ok()?;
        pid_file.lines().nth(3)?.trim().parse().ok()
    }

    /// Stops the server under `dir` if one is running there (without starting anything).
    pub fn stop_if_running(dir: &Path) -> Result<bool, ClusterError> {
        let Some(bin) = find_bin_dir() else { return Ok(false) };
        let cluster = Cluster { dir: dir.to_path_buf(), port: 0, password: String::new(), bin, started_here: false };
        if !cluster.data().join("PG_VERSION").is_file() {
            return Ok(false);
        }
        if cluster.running_port().is_none() {
            return Ok(false);
        }
        cluster.stop().map(|_| true)
    }

    /// A connection URL for one database of this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}", self.password, self.port)
    }

    /// Stops the server (fast shutdown: sessions are ended, data is kept).
    pub fn stop(&self) -> Result<(), ClusterError> {
        let data = self.data();
        let mut cmd = self.pg_command("pg_ctl", running_as_root());
        cmd.arg("-D").arg(&data).args(["-m", "fast", "-w", "stop"]);
        check("pg_ctl stop", cmd.output()).map(|_| ())
    }
}
