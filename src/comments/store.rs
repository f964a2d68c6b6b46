//! SQL for comments.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::{AuthorKind, CommentStatus, NewComment, ThreadRow};

/// Number of published top-level comments (threads) under an article.
pub async fn count_threads(db: impl PgExecutor<'_>, article_id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM comments
            WHERE article_id = $1 AND parent_id IS NULL AND status = 'published'"#,
        article_id
    )
    .fetch_one(db)
    .await
}

/// One page of threads in reading order: top-level comments newest first, each followed by its
/// published replies, oldest first, depth first. Ids follow creation order, so a path of ids sorts
/// replies by age. A reply under a comment that is not published is not shown.
pub async fn thread_page(
    db: impl PgExecutor<'_>,
    article_id: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<ThreadRow>> {
    sqlx::query_as!(
        ThreadRow,
        r#"WITH RECURSIVE roots AS (
               SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS position
                 FROM comments
                WHERE article_id = $1 AND parent_id IS NULL AND status = 'published'
                ORDER BY created_at DESC, id DESC
                LIMIT $2 OFFSET $3
           ), tree AS (
               SELECT c.id, 1 AS depth, ARRAY[r.position, c.id] AS path
                 FROM roots r JOIN comments c ON c.id = r.id
               UNION ALL
               SELECT c.id, t.depth + 1, t.path || c.id
                 FROM tree t JOIN comments c ON c.parent_id = t.id AND c.status = 'published'
           )
           SELECT c.id, c.author_kind AS "author_kind: AuthorKind", c.author_name, c.body,
                  c.body_html, c.disclaimer, c.created_at AS "created_at: DateTime<Utc>", t.depth AS "depth!", p.author_name AS "parent_name?"
             FROM tree t
             JOIN comments c ON c.id = t.id
             LEFT JOIN comments p ON p.id = c.parent_id
            ORDER BY t.path"#,
        article_id,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

/// A published comment on this article, for the "Replying to" line above the form.
pub struct ReplyTarget {
    pub id: i64,
    pub author_name: String,
    pub body: String,
}

pub async fn find_reply_target(
    db: impl PgExecutor<'_>,
    article_id: i64,
    comment_id: i64,
) -> sqlx::Result<Option<ReplyTarget>> {
    sqlx::query_as!(
        ReplyTarget,
        "SELECT id, author_name, body FROM comments
          WHERE id = $1 AND article_id = $2 AND status = 'published'",
        comment_id,
        article_id
    )
    .fetch_optional(db)
    .await
}

#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    #[error("the parent comment is not available")]
    ParentUnavailable,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Stores a guest's comment as pending. The parent, if any, must be a published comment on the
/// same article; it is locked until we commit so it cannot be hidden half-way.
pub async fn insert_pending(
    tx: &mut PgConnection,
    article_id: i64,
    comment: &NewComment,
) -> Result<i64, SubmitError> {
    if let Some(parent_id) = comment.parent_id {
        let parent = sqlx::query!(
            r#"SELECT article_id, status AS "status: CommentStatus" FROM comments WHERE id = $1 FOR SHARE"#,
            parent_id
        )
        .fetch_optional(&mut *tx)
        .await?;
        match parent {
            Some(p) if p.article_id == article_id && p.status == CommentStatus::Published => {}
            _ => return Err(SubmitError::ParentUnavailable),
        }
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO comments (article_id, parent_id, author_kind, author_name, author_email, body, status)
         VALUES ($1, $2, 'guest', $3, $4, $5, 'pending')
         RETURNING id",
        article_id,
        comment.parent_id,
        comment.author_name,
        comment.author_email,
        comment.body
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(id)
}

/// Inserts a comment exactly as given; used to load demo content.
pub async fn insert_raw(
    db: impl PgExecutor<'_>,
    article_id: i64,
    parent_id: Option<i64>,
    author_name: &str,
    body: &str,
    status: CommentStatus,
    created_at: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"INSERT INTO comments (article_id, parent_id, author_kind, author_name, body, status, created_at, published_at)
           VALUES ($1, $2, 'guest', $3, $4, $5, $6::timestamptz, CASE WHEN $5 = 'published'::comment_status THEN $6::timestamptz END)
           RETURNING id"#,
        article_id,
        parent_id,
        author_name,
        body,
        status as CommentStatus,
        created_at as _
    )
    .fetch_one(db)
    .await
}
