//! SQL for privacy requests.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;

#[derive(Debug, Serialize)]
pub struct ExportedComment {
    pub id: i64,
    pub article: String,
    pub author_name: String,
    pub body: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub in_reply_to: Option<i64>,
}

pub async fn comments_by_email(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Vec<ExportedComment>> {
    sqlx::query_as!(
        ExportedComment,
        r#"SELECT c.id, a.slug AS article, c.author_name, c.body, c.status::text AS "status!",
                  c.created_at AS "created_at: DateTime<Utc>", c.parent_id AS in_reply_to
             FROM comments c JOIN articles a ON a.id = c.article_id
            WHERE lower(c.author_email) = lower($1)
            ORDER BY c.created_at, c.id"#,
        email
    )
    .fetch_all(db)
    .await
}

#[derive(Debug, Serialize)]
pub struct ExportedAccount {
    pub id: i64,
    pub display_name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

pub async fn account_by_email(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<ExportedAccount>> {
    sqlx::query_as!(
        ExportedAccount,
        r#"SELECT id, display_name, role::text AS "role!", created_at AS "created_at: DateTime<Utc>",
                  last_login_at AS "last_login_at: DateTime<Utc>"
             FROM users WHERE lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(db)
    .await
}

/// Removes the email, the name and the address hash from every comment written with `email`.
pub async fn anonymise(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE comments SET author_email = NULL, author_name = 'Anonymous', client_hash = NULL
          WHERE lower(author_email) = lower($1)",
        email
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
