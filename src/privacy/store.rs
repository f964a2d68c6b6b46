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

/// Removes the email, the name and the address hash from every comment written with `email`,
/// and any staff note about contacting its writer.
pub async fn anonymise(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "UPDATE comments SET author_email = NULL, author_name = 'Anonymous', client_hash = NULL, private_note = NULL
          WHERE lower(author_email) = lower($1)",
        email
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A reader's address kept for reply mails, and what it asked for.
#[derive(Debug, serde::Serialize)]
pub struct ExportedMailAddress {
    pub confirmed_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Comments whose replies are mailed to it.
    pub subscribed_comments: Vec<i64>,
}

pub async fn mail_address_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<ExportedMailAddress>> {
    sqlx::query_as!(
        ExportedMailAddress,
        r#"SELECT a.confirmed_at AS "confirmed_at: DateTime<Utc>", a.stopped_at AS "stopped_at: DateTime<Utc>",
                  a.created_at AS "created_at: DateTime<Utc>",
                  coalesce(array_agg(s.comment_id ORDER BY s.comment_id) FILTER (WHERE s.stopped_at IS NULL), '{}')
                    AS "subscribed_comments!"
             FROM mail_addresses a LEFT JOIN subscriptions s ON s.address_id = a.id
            WHERE lower(a.email) = lower($1)
            GROUP BY a.id"#,
        email
    )
    .fetch_optional(db)
    .await
}

/// Forgets the address, its subscriptions and waiting notices, and the mails queued or kept for it.
pub async fn forget_mail_address(db: &mut sqlx::PgConnection, email: &str) -> sqlx::Result<()> {
    sqlx::query!("DELETE FROM mail_addresses WHERE lower(email) = lower($1)", email)
        .execute(&mut *db)
        .await?;
    sqlx::query!("DELETE FROM outbox WHERE lower(recipient) = lower($1)", email)
        .execute(&mut *db)
        .await?;
    Ok(())
}
