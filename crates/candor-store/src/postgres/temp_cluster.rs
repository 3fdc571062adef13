//! A throwaway PostgreSQL server for tests: `initdb` in a temporary directory,
//! `postgres` on a free loopback port with trust authentication and durability off,
//! stopped and deleted when the [`TempCluster`] is dropped or the process that
//! started it exits.
//!
//! PostgreSQL refuses to run as root, so as root (CI) the server runs as the
//! `postgres` system user (made by the Debian package), or `nobody` without one.
//! The binaries are looked up in `CANDOR_PG_BIN`, then the highest
//! `/usr/lib/postgresql/*/bin`, then `PATH`.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// The environment variable that lets tests skip PostgreSQL (with a printed message)
/// where it is not installed. Without it, a missing PostgreSQL fails the tests.
pub const SKIP_ENV: &str = "CANDOR_SKIP_POSTGRES";

/// A running throwaway server.
pub struct TempCluster {
    dir: PathBuf,
    port: u16,
    /// A shell that waits for this pipe to close (on drop, or when the process dies
    /// however it dies), then stops the server and removes `dir`.
    watchdog: Option<(Child, ChildStdin)>,
}

impl std::fmt::Debug for TempCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TempCluster")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .finish()
    }
}

/// The superuser of the throwaway cluster.
const SUPERUSER: &str = "candor";

impl TempCluster {
    /// Whether tests should skip PostgreSQL ([`SKIP_ENV`] is set to `1`).
    pub fn skipped() -> bool {
        std::env::var(SKIP_ENV).is_ok_and(|v| v == "1")
    }

    /// Starts a server. Errors say what is missing or what failed (with the server's
    /// log).
    pub fn start() -> Result<Self, String> {
        Self::start_with(None)
    }

    /// Starts a server that also accepts TLS, with this certificate and key (PEM).
    pub fn start_with_tls(cert_pem: &str, key_pem: &str) -> Result<Self, String> {
        Self::start_with(Some((cert_pem, key_pem)))
    }

    fn start_with(tls: Option<(&str, &str)>) -> Result<Self, String> {
        let bin = bin_dir()?;
        let run_as = run_as_user()?;
        let dir = std::env::temp_dir().join(format!("candor-pg-{}", crate::new_id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // The watchdog first: whatever fails below, the directory goes with it.
        let mut cluster = Self {
            watchdog: Some(watchdog(&bin, &dir, run_as.as_deref())?),
            dir,
            port: 0,
        };
        if let Some(user) = &run_as {
            run(Command::new("chown")
                .arg(format!("{user}:"))
                .arg(&cluster.dir))?;
        }
        let data = cluster.dir.join("data");
        run(as_user(run_as.as_deref(), &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync"))?;
        let mut tls_options = String::new();
        if let Some((cert, key)) = tls {
            // The server reads its key only when the server's user owns it, mode 0600.
            for (name, pem) in [("server.crt", cert), ("server.key", key)] {
                let path = cluster.dir.join(name);
                std::fs::write(&path, pem).map_err(|e| format!("{}: {e}", path.display()))?;
                run(Command::new("chmod").arg("600").arg(&path))?;
                if let Some(user) = &run_as {
                    run(Command::new("chown").arg(format!("{user}:")).arg(&path))?;
                }
            }
            tls_options = format!(
                " -c ssl=on -c ssl_cert_file={0}/server.crt -c ssl_key_file={0}/server.key",
                cluster.dir.display()
            );
        }
        // A free port can be taken between asking and binding: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port()?;
            let options = format!(
                "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c max_connections=200{tls_options}",
                cluster.dir.display()
            );
            let started = run(as_user(run_as.as_deref(), &bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.join("server.log"))
                .args(["-w", "-t", "60", "-o", &options, "start"]));
            match started {
                Ok(()) => {
                    cluster.port = port;
                    return Ok(cluster);
                }
                Err(e) => {
                    let log =
                        std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
                    last = format!("{e}\n{log}");
                }
            }
        }
        Err(format!("cannot start PostgreSQL: {last}"))
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates an empty database named `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, String> {
        let mut admin = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .map_err(|e| format!("connecting to the throwaway server: {e}"))?;
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .map_err(|e| format!("creating database {name}: {e}"))?;
        Ok(self.url(name))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TempCluster {
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.watchdog.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

fn bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CANDOR_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| d.join("initdb").exists());
    on_path.ok_or_else(|| {
        format!(
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install the Debian package \
             `postgresql` (scripts/setup does), set CANDOR_PG_BIN, or set {SKIP_ENV}=1 to skip"
        )
    })
}

/// `None` when this process may run PostgreSQL itself (not root).
fn run_as_user() -> Result<Option<String>, String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| format!("id -u: {e}"))?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Ok(None);
    }
    let exists = |u: &str| {
        Command::new("id")
            .arg(u)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    ["postgres", "nobody"]
        .into_iter()
        .find(|u| exists(u))
        .map(|u| Some(u.to_owned()))
        .ok_or_else(|| "running as root with neither a `postgres` nor a `nobody` user".into())
}

fn as_user(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.args(["-u", u, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn watchdog(bin: &Path, dir: &Path, user: Option<&str>) -> Result<(Child, ChildStdin), String> {
    let pg_ctl = bin.join("pg_ctl");
    let stop = match user {
        Some(u) => format!("runuser -u {u} -- '{}'", pg_ctl.display()),
        None => format!("'{}'", pg_ctl.display()),
    };
    let script = format!(
        "cat >/dev/null; [ -f '{d}/data/postmaster.pid' ] && {stop} -D '{d}/data' -m immediate stop >/dev/null 2>&1; rm -rf '{d}'",
        d = dir.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("sh: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Nothing is written: only the pipe's end matters. Flushing an empty write checks
    // the pipe is there.
    stdin.flush().map_err(|e| e.to_string())?;
    Ok((child, stdin))
}
