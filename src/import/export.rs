//! The whole site as JSON Lines, and reading it back into an empty database.
//!
//! The first line is `{"type": "carethread-export", "version": 1, "exported_at": …}`; then one
//! object a line, each with a `type`: `account` (no password hash: people set a new password
//! with a reset link), `article`, `comment` (states, parents, staff replies with the disclaimer
//! they were published with) and `audit` (the audit log). Every other field is the table's own
//! column, by name. Ids are kept, so a parent's id is the id of another `comment` line.

use std::{
    fs::File,
    io::{BufRead, BufReader, BufWriter, Write},
    path::Path,
};

use anyhow::{Context, bail};
use sqlx::PgPool;

pub const FORMAT_VERSION: i64 = 1;

/// Each kind of line: its `type`, its table, and the columns left out.
const TABLES: [(&str, &str, &str); 4] = [
    ("account", "users", "password_hash"),
    ("article", "articles", ""),
    // Keyed hashes of readers' addresses and forms: meaningless without this site's secret.
    ("comment", "comments", "client_hash,submission_key,stamp_hash"),
    ("audit", "audit_log", ""),
];

#[derive(Debug, Default)]
pub struct Counts {
    pub accounts: u64,
    pub articles: u64,
    pub comments: u64,
    pub audit: u64,
}

impl Counts {
    fn add(&mut self, kind: &str, n: u64) {
        match kind {
            "account" => self.accounts += n,
            "article" => self.articles += n,
            "comment" => self.comments += n,
            _ => self.audit += n,
        }
    }

    pub fn describe(&self) -> String {
        format!(
            "{} accounts, {} articles, {} comments and {} audit entries",
            self.accounts, self.articles, self.comments, self.audit
        )
    }
}

/// Writes the whole site to `path`, a page of rows at a time.
pub async fn export(pool: &PgPool, path: &Path) -> anyhow::Result<Counts> {
    let file = File::create(path).with_context(|| format!("could not create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    // One snapshot: rows written later by the running service do not half-appear.
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let header = serde_json::json!({
        "type": "carethread-export",
        "version": FORMAT_VERSION,
        "exported_at": chrono::Utc::now(),
    });
    writeln!(out, "{header}")?;
    let mut counts = Counts::default();
    for (kind, table, without) in TABLES {
        let mut after = 0i64;
        loop {
            let rows: Vec<(i64, String)> =
                super::store::export_page(&mut tx, kind, table, without, after).await?;
            let Some((last, _)) = rows.last() else { break };
            after = *last;
            counts.add(kind, rows.len() as u64);
            for (_, line) in rows {
                writeln!(out, "{line}")?;
            }
        }
    }
    tx.commit().await?;
    out.flush()?;
    out.into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
        .context("could not write the export")?;
    Ok(counts)
}

/// Reads an export into an empty database, keeping every id. One transaction: all or nothing.
pub async fn import(pool: &PgPool, path: &Path) -> anyhow::Result<Counts> {
    let file = File::open(path).with_context(|| format!("could not open {}", path.display()))?;
    let mut lines = BufReader::new(file).lines();
    let first = lines
        .next()
        .transpose()
        .context("the file is not UTF-8 text")?
        .unwrap_or_default();
    let header: serde_json::Value = serde_json::from_str(&first)
        .ok()
        .filter(|h: &serde_json::Value| h["type"] == "carethread-export")
        .context("this is not a carethread export: its first line is not the export's header")?;
    if header["version"].as_i64() != Some(FORMAT_VERSION) {
        bail!(
            "this export is version {}; this carethread reads version {FORMAT_VERSION}",
            header["version"]
        );
    }
    let mut tx = pool.begin().await?;
    if !super::store::is_empty(&mut *tx).await? {
        bail!(
            "the database already has accounts, articles or comments; a carethread export is read only into an empty one"
        );
    }
    super::store::create_export_staging(&mut tx).await?;
    let mut copy = super::store::CopyLines::start(&mut tx).await?;
    for (index, line) in lines.enumerate() {
        let number = index as i64 + 2;
        let line = line.with_context(|| format!("line {number} is not UTF-8 text"))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("line {number} is not valid JSON"))?;
        let kind = value["type"].as_str().unwrap_or("");
        if !TABLES.iter().any(|(k, _, _)| *k == kind) {
            bail!("line {number} has an unknown type '{kind}'");
        }
        copy.push(number, kind, &line).await?;
    }
    copy.finish().await?;
    let mut counts = Counts::default();
    for (kind, table, _) in TABLES {
        let n = super::store::insert_exported(&mut tx, kind, table).await?;
        counts.add(kind, n);
    }
    // Inserting comments moved the articles' versions on; they were exported as they were.
    super::store::restore_article_versions(&mut tx).await?;
    tx.commit().await?;
    Ok(counts)
}
