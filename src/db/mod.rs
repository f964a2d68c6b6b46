//! The database: a pool on `DATABASE_URL`, or on the embedded default; migrations; the site secret.

pub mod embedded;
mod outage;
pub mod replicas;

pub use outage::Outage;
pub use replicas::{Reads, Replicas};

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::{PgPool, migrate::Migrator, postgres::PgConnectOptions};

use crate::config::Settings;
use embedded::EmbeddedPostgres;

pub static MIGRATOR: Migrator = sqlx::migrate!();

/// Who is opening the database decides who stops the embedded server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// The web service owns the embedded server and stops it when it stops. It creates the
    /// embedded database when there is none.
    Service,
    /// A one-off command stops the server only if it had to start it, and never creates a new
    /// embedded database: a mistyped data folder must not quietly become an empty site.
    Command,
    /// A command that sets a site up (`demo`): like `Command`, but it may create the database.
    Setup,
}

pub struct Database {
    pub pool: PgPool,
    /// Whether the database is reachable just now; shared with the web layer.
    pub outage: Arc<Outage>,
    embedded: Option<EmbeddedPostgres>,
    usage: Usage,
}

impl Database {
    pub async fn open(settings: &Settings, usage: Usage) -> anyhow::Result<Self> {
        let (options, embedded) = match &settings.database_url {
            Some(url) => {
                let options: PgConnectOptions = url
                    .expose_secret()
                    .parse()
                    .context("DATABASE_URL is not a valid PostgreSQL address")?;
                (options, None)
            }
            None => {
                let mut embedded = EmbeddedPostgres::new(&settings.data_dir, settings.pg_bin.as_deref())?;
                anyhow::ensure!(
                    usage != Usage::Command || embedded.exists(),
                    "there is no carethread database in {} yet. Start the service once with `carethread serve` \
                     (it creates one there), give the folder that holds yours with --data-dir \
                     (CARETHREAD_DATA_DIR), or use a PostgreSQL server with DATABASE_URL.",
                    settings.data_dir.display()
                );
                embedded.start().await?;
                (embedded.connect_options(embedded::DATABASE_NAME), Some(embedded))
            }
        };
        let outage = Arc::new(Outage::default());
        // A request waits at most three seconds for a connection; while the database is known to
        // be down the web layer does not wait at all (see `Outage`).
        let pool = Outage::pool_options(&outage)
            .max_connections(settings.db_max_connections)
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(options)
            .await;
        let pool = match pool {
            Ok(pool) => pool,
            Err(error) => {
                if let Some(mut embedded) = embedded {
                    stop_if_ours(&mut embedded, usage).await;
                }
                return Err(error).context("could not connect to the database");
            }
        };
        Ok(Self {
            pool,
            outage,
            embedded,
            usage,
        })
    }

    /// Where PostgreSQL's own tools (`pg_dump`, `pg_restore`) find this database: the folder of
    /// the server binaries, and a connection address.
    pub fn tools(&self, settings: &Settings) -> anyhow::Result<(std::path::PathBuf, String)> {
        match (&self.embedded, &settings.database_url) {
            (Some(embedded), _) => Ok((
                embedded.bin_dir().to_path_buf(),
                embedded.url(embedded::DATABASE_NAME),
            )),
            (None, Some(url)) => Ok((
                embedded::server_binaries(settings.pg_bin.as_deref())?,
                url.expose_secret().to_owned(),
            )),
            (None, None) => anyhow::bail!("no database is configured"),
        }
    }

    /// Applies pending migrations and returns how many there were.
    pub async fn migrate(&self) -> anyhow::Result<usize> {
        let applied_before = applied_migrations(&self.pool).await?;
        MIGRATOR
            .run(&self.pool)
            .await
            .context("could not apply database migrations")?;
        Ok(applied_migrations(&self.pool)
            .await?
            .saturating_sub(applied_before))
    }

    /// Closes the pool and, where this process is responsible for it, stops the embedded server.
    pub async fn close(mut self) {
        self.pool.close().await;
        self.stop_embedded().await;
    }

    async fn stop_embedded(&mut self) {
        if let Some(embedded) = self.embedded.as_mut() {
            stop_if_ours(embedded, self.usage).await;
        }
    }
}

async fn stop_if_ours(embedded: &mut EmbeddedPostgres, usage: Usage) {
    if usage == Usage::Service || embedded.started_here() {
        match embedded.stop().await {
            Ok(()) => tracing::info!("stopped the embedded database"),
            Err(error) => tracing::warn!(%error, "could not stop the embedded database"),
        }
    }
}

async fn applied_migrations(pool: &PgPool) -> anyhow::Result<usize> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(0);
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await?;
    Ok(usize::try_from(count).unwrap_or(0))
}

/// The secret that protects form tokens, shared by every process serving this database.
pub async fn site_secret(pool: &PgPool) -> sqlx::Result<Vec<u8>> {
    sqlx::query_scalar!("SELECT secret FROM site_secret WHERE id")
        .fetch_one(pool)
        .await
}
