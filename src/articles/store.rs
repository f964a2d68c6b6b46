//! SQL for articles.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::{Article, ArticleSummary, NewArticle};

pub async fn find_by_slug(db: impl PgExecutor<'_>, slug: &str) -> sqlx::Result<Option<Article>> {
    sqlx::query_as!(
        Article,
        r#"SELECT id, slug, title, url, comments_open, created_at AS "created_at: DateTime<Utc>",
                  comments_version,
                  (SELECT version FROM site_settings_version) AS "settings_version!"
             FROM articles WHERE slug = $1"#,
        slug
    )
    .fetch_optional(db)
    .await
}

/// Articles open for comments, newest first, each with its number of published comments.
pub async fn list_open(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ArticleSummary>> {
    sqlx::query_as!(
        ArticleSummary,
        r#"SELECT a.slug, a.title,
                  (SELECT count(*) FROM comments c
                    WHERE c.article_id = a.id AND c.status = 'published') AS "published_comments!"
             FROM articles a
            WHERE a.comments_open
            ORDER BY a.created_at DESC, a.id DESC"#
    )
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone)]
pub struct ArticleCounts {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub url: String,
    pub comments_open: bool,
    pub published: i64,
    pub pending: i64,
}

/// Every article with its counts, for the command line.
pub async fn list_all(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<ArticleCounts>> {
    sqlx::query_as!(
        ArticleCounts,
        r#"SELECT a.id, a.slug, a.title, a.url, a.comments_open,
                  count(c.id) FILTER (WHERE c.status = 'published') AS "published!",
                  count(c.id) FILTER (WHERE c.status = 'pending') AS "pending!"
             FROM articles a LEFT JOIN comments c ON c.article_id = a.id
            GROUP BY a.id
            ORDER BY a.created_at DESC, a.id DESC"#
    )
    .fetch_all(db)
    .await
}

/// Adds an article; `None` when the slug is taken.
pub async fn insert(db: impl PgExecutor<'_>, article: &NewArticle) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "INSERT INTO articles (slug, title, url, comments_open) VALUES ($1, $2, $3, $4)
         ON CONFLICT ON CONSTRAINT articles_slug_key DO NOTHING
         RETURNING id",
        article.slug.as_str(),
        article.title,
        article.url,
        article.comments_open
    )
    .fetch_optional(db)
    .await
}

/// Opens or closes an article to new comments; the article's id, or `None` when there is no such
/// article.
pub async fn set_comments_open(db: impl PgExecutor<'_>, slug: &str, open: bool) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "UPDATE articles SET comments_open = $2 WHERE slug = $1 RETURNING id",
        slug,
        open
    )
    .fetch_optional(db)
    .await
}

/// Changes an article's title and address; `false` when there is no such article.
pub async fn update(
    db: impl PgExecutor<'_>,
    slug: &str,
    title: &str,
    url: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "UPDATE articles SET title = $2, url = $3 WHERE slug = $1 RETURNING id",
        slug,
        title,
        url
    )
    .fetch_optional(db)
    .await
}

/// Every article's slug and title, by title, for a picker; or, when there are more than `limit`,
/// some `limit + 1` of them, unsorted, which says the site is too big for a picker. Reading stops
/// after `limit + 1` rows, so a site with a hundred thousand articles costs no more than a small one.
pub async fn list_titles(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT slug AS "slug!", title AS "title!"
             FROM (SELECT slug, title, id FROM articles LIMIT $1::bigint + 1) sample
            ORDER BY title, id"#,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.title)).collect())
}

pub async fn count(db: impl PgExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM articles"#)
        .fetch_one(db)
        .await
}
