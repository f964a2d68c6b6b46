//! SQL for the audit log.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

pub async fn insert(
    tx: &mut PgConnection,
    actor: Option<i64>,
    action: &str,
    target_type: &str,
    target_id: i64,
    reason: Option<&str>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO audit_log (actor_id, action, target_type, target_id, reason) VALUES ($1, $2, $3, $4, $5)
         RETURNING id",
        actor,
        action,
        target_type,
        target_id,
        reason
    )
    .fetch_one(tx)
    .await
}

/// An entry with the text before and after a change.
pub async fn insert_change(
    tx: &mut PgConnection,
    actor: Option<i64>,
    action: &str,
    (target_type, target_id): (&str, i64),
    before: &str,
    after: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO audit_log (actor_id, action, target_type, target_id, text_before, text_after)
         VALUES ($1, $2, $3, $4, $5, $6)",
        actor,
        action,
        target_type,
        target_id,
        before,
        after
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// An entry naming what changed (`what`, kept as the reason), with its text before and after.
pub async fn insert_named_change(
    tx: &mut PgConnection,
    actor: i64,
    (action, target_type, target_id): (&str, &str, i64),
    what: &str,
    (before, after): (&str, &str),
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO audit_log (actor_id, action, target_type, target_id, reason, text_before, text_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        actor,
        action,
        target_type,
        target_id,
        what,
        before,
        after
    )
    .execute(tx)
    .await?;
    Ok(())
}

pub struct Entry {
    pub id: i64,
    pub actor_name: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<i64>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
    /// A corrected text as it was and as it became.
    pub text_before: Option<String>,
    pub text_after: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
}

/// Newest first, filtered; at most `limit` entries before `before` (an id), for paging.
pub async fn list(
    db: impl PgExecutor<'_>,
    filter: &Filter,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<Entry>> {
    sqlx::query_as!(
        Entry,
        r#"SELECT l.id, u.display_name AS "actor_name?", l.action, l.target_type, l.target_id, l.reason, l.at AS "at: DateTime<Utc>",
                  l.text_before, l.text_after
             FROM audit_log l LEFT JOIN users u ON u.id = l.actor_id
            WHERE ($1::bigint IS NULL OR l.actor_id = $1)
              AND ($2::text IS NULL OR l.action = $2)
              AND ($3::text IS NULL OR l.target_type = $3)
              AND ($4::bigint IS NULL OR l.target_id = $4)
              AND ($5::bigint IS NULL OR l.id < $5)
            ORDER BY l.id DESC
            LIMIT $6"#,
        filter.actor_id,
        filter.action,
        filter.target_type,
        filter.target_id,
        before,
        limit
    )
    .fetch_all(db)
    .await
}

/// The most recent action on a comment, to tell a second moderator what the first one did.
pub async fn latest_for_comment(db: impl PgExecutor<'_>, comment_id: i64) -> sqlx::Result<Option<Entry>> {
    sqlx::query_as!(
        Entry,
        r#"SELECT l.id, u.display_name AS "actor_name?", l.action, l.target_type, l.target_id, l.reason, l.at AS "at: DateTime<Utc>",
                  l.text_before, l.text_after
             FROM audit_log l LEFT JOIN users u ON u.id = l.actor_id
            WHERE l.target_type = 'comment' AND l.target_id = $1 AND l.action <> 'comment.replied'
            ORDER BY l.id DESC LIMIT 1"#,
        comment_id
    )
    .fetch_optional(db)
    .await
}

/// A decision as the log keeps it: what was done to which comment.
pub struct Recorded {
    pub action: String,
    pub target_id: Option<i64>,
}

pub async fn find_comment_entry(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Recorded>> {
    sqlx::query_as!(
        Recorded,
        "SELECT action, target_id FROM audit_log WHERE id = $1 AND target_type = 'comment'",
        id
    )
    .fetch_optional(db)
    .await
}

/// The id of the latest entry about a comment, whatever it was: a decision can be undone only
/// while it is the latest thing that happened to the comment.
pub async fn latest_id_for_comment(db: impl PgExecutor<'_>, comment_id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "SELECT max(id) FROM audit_log WHERE target_type = 'comment' AND target_id = $1",
        comment_id
    )
    .fetch_one(db)
    .await
}
