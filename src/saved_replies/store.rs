//! SQL for saved replies.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

pub struct SavedReply {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by_name: Option<String>,
}

/// Every saved reply, by title.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<SavedReply>> {
    sqlx::query_as!(
        SavedReply,
        r#"SELECT s.id, s.title, s.body, s.updated_at AS "updated_at: DateTime<Utc>",
                  u.display_name AS "updated_by_name?"
             FROM saved_replies s LEFT JOIN users u ON u.id = s.updated_by
            ORDER BY lower(s.title), s.id"#
    )
    .fetch_all(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<SavedReply>> {
    sqlx::query_as!(
        SavedReply,
        r#"SELECT s.id, s.title, s.body, s.updated_at AS "updated_at: DateTime<Utc>",
                  u.display_name AS "updated_by_name?"
             FROM saved_replies s LEFT JOIN users u ON u.id = s.updated_by
            WHERE s.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

pub async fn insert(tx: &mut PgConnection, title: &str, body: &str, by: Option<i64>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO saved_replies (title, body, created_by, updated_by) VALUES ($1, $2, $3, $3) RETURNING id",
        title,
        body,
        by
    )
    .fetch_one(tx)
    .await
}

/// `false` when there is no such saved reply (deleted in the meantime).
pub async fn update(tx: &mut PgConnection, id: i64, title: &str, body: &str, by: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE saved_replies SET title = $2, body = $3, updated_by = $4, updated_at = now() WHERE id = $1",
        id,
        title,
        body,
        by
    )
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The title of the saved reply deleted, if there was one.
pub async fn delete(tx: &mut PgConnection, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("DELETE FROM saved_replies WHERE id = $1 RETURNING title", id)
        .fetch_optional(tx)
        .await
}
