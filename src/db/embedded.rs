//! The embedded default database: a private PostgreSQL cluster in the data folder, reachable only
//! through a Unix socket in that folder. Used when no `DATABASE_URL` is given.
//!
//! We run the machine's own PostgreSQL server binaries rather than downloading any: a health
//! charity's server should run software its operators installed and patch.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use crate::progress::spinner;
use anyhow::{Context, bail};
use sqlx::{Connection, PgConnection, postgres::PgConnectOptions};
use tokio::process::Command;

/// The database inside the cluster that holds carethread's tables.
pub const DATABASE_NAME: &str = "carethread";
const SUPERUSER: &str = "postgres";
/// Unix sockets have a short path limit (108 bytes on Linux, 104 on macOS).
const MAX_SOCKET_PATH: usize = 100;

pub const NO_BINARIES_HELP: &str = "PostgreSQL's server programs (initdb, pg_ctl) were not found.
carethread needs a PostgreSQL database. Any one of these will do:
  - install PostgreSQL (for example `apt install postgresql` or `brew install postgresql@16`),
    and carethread will run its own private database in the data folder;
  - set DATABASE_URL to a PostgreSQL database you already have;
  - or run `docker compose up`, which starts carethread with its own PostgreSQL.";

#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    /// When we run as root, the server runs as this unprivileged user: PostgreSQL refuses root.
    run_as: Option<nix::unistd::User>,
    started_here: bool,
}

impl EmbeddedPostgres {
    /// Finds the server binaries and plans a cluster in `data_dir/postgres`. Nothing is started yet.
    pub fn new(data_dir: &Path, bin_dir: Option<&Path>) -> anyhow::Result<Self> {
        let bin_dir = match bin_dir {
            Some(dir) if has_server_binaries(dir) => dir.to_path_buf(),
            Some(dir) => bail!(
                "{}: no initdb and pg_ctl there.\n{NO_BINARIES_HELP}",
                dir.display()
            ),
            None => find_server_binaries().context(NO_BINARIES_HELP)?,
        };
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("could not create the data folder {}", data_dir.display()))?;
        let data_dir = std::fs::canonicalize(data_dir)
            .with_context(|| format!("could not open the data folder {}", data_dir.display()))?;
        let cluster_dir = data_dir.join("postgres");
        let socket = cluster_dir.join(".s.PGSQL.5432");
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            bail!(
                "the data folder path {} is too long for the database's socket; \
                 set CARETHREAD_DATA_DIR to a shorter path",
                data_dir.display()
            );
        }
        let run_as = if nix::unistd::geteuid().is_root() {
            let user = nix::unistd::User::from_name(SUPERUSER)
                .context("could not look up the 'postgres' user")?
                .with_context(|| {
                    "PostgreSQL will not run as root, and there is no 'postgres' user to run it as. \
                     Run carethread as a normal user, create a 'postgres' user, or set DATABASE_URL."
                })?;
            Some(user)
        } else {
            None
        };
        Ok(Self {
            bin_dir,
            cluster_dir,
            run_as,
            started_here: false,
        })
    }

    pub fn cluster_dir(&self) -> &Path {
        &self.cluster_dir
    }

    /// Whether this process started the server (rather than finding it running).
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// Creates the cluster on first use, starts the server unless it is already running, and
    /// makes sure carethread's database exists.
    /// Whether the cluster has been created in the data folder.
    pub fn exists(&self) -> bool {
        self.cluster_dir.join("PG_VERSION").exists()
    }

    pub async fn start(&mut self) -> anyhow::Result<()> {
        if !self.cluster_dir.join("PG_VERSION").exists() {
            self.init().await?;
        }
        if !self.is_running().await? {
            let spinner = spinner("Starting the embedded database");
            let started = self
                .pg_ctl(&["start", "-w", "-t", "60", "-s", "-l"], Some(&self.log_file()))
                .await;
            spinner.finish_and_clear();
            if let Err(error) = started {
                // Another carethread process may have started it at the same moment.
                if !self.is_running().await? {
                    let log = std::fs::read_to_string(self.log_file()).unwrap_or_default();
                    let tail: Vec<&str> = log.lines().rev().take(10).collect();
                    let tail: Vec<&str> = tail.into_iter().rev().collect();
                    return Err(error.context(format!(
                        "the embedded database did not start; its log ({}) ends with:\n{}",
                        self.log_file().display(),
                        tail.join("\n")
                    )));
                }
            } else {
                self.started_here = true;
            }
        }
        self.ensure_database().await
    }

    /// Stops the server (fast shutdown: open sessions are ended, nothing committed is lost).
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if self.is_running().await? {
            self.pg_ctl(&["stop", "-m", "fast", "-w", "-s"], None).await?;
        }
        self.started_here = false;
        Ok(())
    }

    /// Stops the server at once, as a crash or power cut would: sessions are cut off and recovery
    /// runs at the next start. For fault tests.
    pub async fn stop_immediately(&mut self) -> anyhow::Result<()> {
        self.pg_ctl(&["stop", "-m", "immediate", "-w", "-s"], None).await
    }

    /// The folder of the server binaries this cluster runs with (and its `pg_dump`, `pg_restore`).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// A `postgres://` address for `database` in this cluster, for tools that take one.
    pub fn url(&self, database: &str) -> String {
        // The host is a placeholder: the `host` parameter names the socket folder instead.
        format!(
            "postgres://{SUPERUSER}@localhost/{database}?host={}",
            self.cluster_dir.display()
        )
    }

    /// Stops the server once process `pid` has exited, however it exits, and then deletes the
    /// cluster if `remove` is set. The test suite uses this so a run never leaves a server behind.
    pub fn stop_when_process_exits(&self, pid: u32, remove: bool) -> anyhow::Result<()> {
        let mut stop = vec![];
        if let Some(user) = &self.run_as {
            stop.extend([
                "runuser".to_owned(),
                "-u".to_owned(),
                user.name.clone(),
                "--".to_owned(),
            ]);
        }
        stop.push(self.bin_dir.join("pg_ctl").display().to_string());
        stop.extend(["stop", "-m", "fast", "-s", "-D"].map(str::to_owned));
        stop.push(self.cluster_dir.display().to_string());
        std::process::Command::new("sh")
            .arg("-c")
            .arg(r#"pid=$1; remove=$2; shift 2; while kill -0 "$pid" 2>/dev/null; do sleep 1; done; "$@"; [ -z "$remove" ] || { rm -rf "$remove"; rmdir "$(dirname "$remove")" 2>/dev/null; }"#)
            .arg("sh")
            .arg(pid.to_string())
            .arg(if remove { self.cluster_dir.display().to_string() } else { String::new() })
            .args(stop)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("could not start the database watchdog")?;
        Ok(())
    }

    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.cluster_dir)
            .username(SUPERUSER)
            .database(database)
            .application_name("carethread")
    }

    async fn is_running(&self) -> anyhow::Result<bool> {
        if !self.cluster_dir.join("PG_VERSION").exists() {
            return Ok(false);
        }
        let status = self
            .command("pg_ctl")
            .arg("status")
            .arg("-D")
            .arg(&self.cluster_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .context("could not run pg_ctl")?;
        Ok(status.success())
    }

    async fn init(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.cluster_dir)
            .with_context(|| format!("could not create {}", self.cluster_dir.display()))?;
        if let Some(user) = &self.run_as {
            nix::unistd::chown(&self.cluster_dir, Some(user.uid), Some(user.gid)).with_context(|| {
                format!(
                    "could not hand {} to the postgres user",
                    self.cluster_dir.display()
                )
            })?;
            let reachable = Command::new("runuser")
                .args(["-u", SUPERUSER, "--", "test", "-w"])
                .arg(&self.cluster_dir)
                .status()
                .await
                .context("could not run runuser to switch to the postgres user")?;
            if !reachable.success() {
                bail!(
                    "the database runs as the 'postgres' user, which cannot reach {}. \
                     Set CARETHREAD_DATA_DIR to a folder it can reach (for example /var/lib/carethread), \
                     or run carethread as a normal user",
                    self.cluster_dir.display()
                );
            }
        }
        let spinner = spinner("Creating the embedded database (first start only)");
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(&self.cluster_dir)
            .args([
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
            ])
            .output()
            .await
            .context("could not run initdb")?;
        spinner.finish_and_clear();
        if !output.status.success() {
            bail!("initdb failed:\n{}", String::from_utf8_lossy(&output.stderr));
        }
        // Reachable only through a socket inside the cluster folder: no TCP port, no other users.
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(self.cluster_dir.join("postgresql.conf"))
            .context("could not open postgresql.conf")?;
        writeln!(
            conf,
            "\n# Added by carethread: a private server reachable only through a socket in this folder.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '.'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 60"
        )?;
        eprintln!("Created the embedded database in {}", self.cluster_dir.display());
        Ok(())
    }

    async fn ensure_database(&self) -> anyhow::Result<()> {
        let mut conn = connect_with_retry(&self.connect_options("postgres")).await?;
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DATABASE_NAME)
            .fetch_one(&mut conn)
            .await?;
        if !exists {
            sqlx::query(&format!("CREATE DATABASE {DATABASE_NAME}"))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok(())
    }

    fn log_file(&self) -> PathBuf {
        self.cluster_dir.join("server.log")
    }

    async fn pg_ctl(&self, args: &[&str], log: Option<&Path>) -> anyhow::Result<()> {
        let mut command = self.command("pg_ctl");
        command.args(args);
        if let Some(log) = log {
            command.arg(log);
        }
        let output = command
            .arg("-D")
            .arg(&self.cluster_dir)
            .stdin(Stdio::null())
            .output()
            .await
            .context("could not run pg_ctl")?;
        if output.status.success() {
            Ok(())
        } else {
            bail!(
                "pg_ctl {} failed: {}",
                args[0],
                String::from_utf8_lossy(&output.stderr).trim()
            )
        }
    }

    /// A server program, run as the postgres user when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", &user.name, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        };
        command.kill_on_drop(false);
        command
    }
}

async fn connect_with_retry(options: &PgConnectOptions) -> anyhow::Result<PgConnection> {
    let mut attempt = 0;
    loop {
        match PgConnection::connect_with(options).await {
            Ok(conn) => return Ok(conn),
            Err(_) if attempt < 50 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error).context("could not connect to the embedded database"),
        }
    }
}

/// `initdb` and `pg_ctl` from PATH, or the newest `/usr/lib/postgresql/*/bin` (Debian and Ubuntu
/// keep them off PATH).
fn has_server_binaries(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

/// The server binaries folder: `pg_bin` when given, else the one found as for the embedded server.
pub fn server_binaries(pg_bin: Option<&Path>) -> anyhow::Result<PathBuf> {
    match pg_bin {
        Some(dir) => Ok(dir.to_path_buf()),
        None => find_server_binaries().context(NO_BINARIES_HELP),
    }
}

fn find_server_binaries() -> anyhow::Result<PathBuf> {
    let has_both = has_server_binaries;
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                // Follow symlinks so pg_ctl finds its `postgres` beside it.
                let real = std::fs::canonicalize(dir.join("pg_ctl"))?;
                return Ok(real.parent().map_or(dir, Path::to_path_buf));
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .context("no PostgreSQL server binaries")
}
