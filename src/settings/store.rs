//! SQL for site settings.

use sqlx::{PgConnection, PgExecutor};

/// The version of the settings now.
pub async fn version(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!("SELECT version FROM site_settings_version")
        .fetch_one(db)
        .await
}

/// Every setting changed in the browser: (name, value).
pub async fn overrides(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!("SELECT name, value FROM site_settings ORDER BY name")
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.name, r.value)).collect())
}

/// The newest disclaimer saved in the browser: (version, text).
pub async fn current_disclaimer(db: impl PgExecutor<'_>) -> sqlx::Result<Option<(i64, String)>> {
    let row = sqlx::query!("SELECT id, text FROM disclaimer_versions ORDER BY id DESC LIMIT 1")
        .fetch_optional(db)
        .await?;
    Ok(row.map(|r| (r.id, r.text)))
}

/// Stops other changes of the settings until the caller's transaction ends, and moves the
/// version; the new version.
pub async fn lock_and_move_version(tx: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar!("UPDATE site_settings_version SET version = version + 1 RETURNING version")
        .fetch_one(tx)
        .await
}

pub async fn put(tx: &mut PgConnection, name: &str, value: &str, by: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO site_settings (name, value, changed_by) VALUES ($1, $2, $3)
         ON CONFLICT ON CONSTRAINT site_settings_pkey
         DO UPDATE SET value = EXCLUDED.value, changed_by = EXCLUDED.changed_by, changed_at = now()",
        name,
        value,
        by
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// A new version of the disclaimer; its id.
pub async fn add_disclaimer(tx: &mut PgConnection, text: &str, by: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO disclaimer_versions (text, created_by) VALUES ($1, $2) RETURNING id",
        text,
        by
    )
    .fetch_one(tx)
    .await
}

/// What readers see of every article has changed: each article's comments version moves, which
/// empties every process's thread cache, changes the pages' ETags and (through the trigger of
/// migration 0020) queues a purge of shared caches.
pub async fn touch_every_article(tx: &mut PgConnection) -> sqlx::Result<u64> {
    let done = sqlx::query!("UPDATE articles SET comments_version = comments_version + 1")
        .execute(tx)
        .await?;
    Ok(done.rows_affected())
}
