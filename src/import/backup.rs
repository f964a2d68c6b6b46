//! Backups with PostgreSQL's own tools, from the same server binaries the embedded database
//! uses: `pg_dump --format=custom` takes a consistent snapshot while the service runs, and
//! `pg_restore` puts one back in a single transaction.

use std::{
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{Context, bail};
use sqlx::PgPool;

/// Writes a backup of the database at `url` to `file`.
pub fn backup(bin_dir: &Path, url: &str, file: &Path) -> anyhow::Result<()> {
    let partial = file.with_extension("partial");
    let status = Command::new(bin_dir.join("pg_dump"))
        .args(["--format=custom", "--no-owner", "--no-privileges"])
        .arg("--file")
        .arg(&partial)
        .arg("--dbname")
        .arg(url)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("could not run {}", bin_dir.join("pg_dump").display()))?;
    if !status.success() {
        let _ = std::fs::remove_file(&partial);
        bail!("pg_dump failed ({status}); no backup was written");
    }
    // Only a finished backup carries the name asked for.
    std::fs::rename(&partial, file).with_context(|| format!("could not write {}", file.display()))?;
    Ok(())
}

/// Whether the database holds no accounts, articles or comments (or no tables at all).
pub async fn is_empty(pool: &PgPool) -> anyhow::Result<bool> {
    let has_tables: bool = sqlx::query_scalar("SELECT to_regclass('comments') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !has_tables {
        return Ok(true);
    }
    Ok(super::store::is_empty(pool).await?)
}

/// Replaces the database at `url` with the backup in `file`, in one transaction.
pub fn restore(bin_dir: &Path, url: &str, file: &Path) -> anyhow::Result<()> {
    if !file.is_file() {
        bail!("there is no backup file {}", file.display());
    }
    let status = Command::new(bin_dir.join("pg_restore"))
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
        ])
        .arg("--dbname")
        .arg(url)
        .arg(file)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("could not run {}", bin_dir.join("pg_restore").display()))?;
    if !status.success() {
        bail!("pg_restore failed ({status}); the database was left as it was");
    }
    Ok(())
}
