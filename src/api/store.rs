//! SQL for API tokens and comment counts.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::tokens::Scope;

/// Stores a new token for an account that may sign in (not disabled, with a password); `None`
/// when the owner is not such an account.
pub async fn insert_token(
    db: impl PgExecutor<'_>,
    owner: i64,
    name: &str,
    scope: Scope,
    token_hash: &[u8],
    created_by: i64,
) -> sqlx::Result<Option<(i64, String)>> {
    let row = sqlx::query!(
        r#"INSERT INTO api_tokens (user_id, name, scope, token_hash, created_by)
           SELECT u.id, $2, $3, $4, $5 FROM users u
            WHERE u.id = $1 AND u.disabled_at IS NULL AND u.password_hash IS NOT NULL
           RETURNING id, (SELECT display_name FROM users WHERE id = $1) AS "owner_name!""#,
        owner,
        name,
        scope as Scope,
        token_hash,
        created_by
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.id, r.owner_name)))
}

/// A token as admins see it: never the token itself.
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub scope: Scope,
    pub owner_name: String,
    pub owner_disabled: bool,
    pub created_by_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Every token, those in use first, newest first.
pub async fn list_tokens(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<TokenRow>> {
    sqlx::query_as!(
        TokenRow,
        r#"SELECT t.id, t.name, t.scope AS "scope: Scope", o.display_name AS owner_name,
                  o.disabled_at IS NOT NULL AS "owner_disabled!", c.display_name AS "created_by_name?",
                  t.created_at AS "created_at: DateTime<Utc>", t.last_used_at AS "last_used_at: DateTime<Utc>",
                  t.revoked_at AS "revoked_at: DateTime<Utc>"
             FROM api_tokens t
             JOIN users o ON o.id = t.user_id
             LEFT JOIN users c ON c.id = t.created_by
            ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC"#
    )
    .fetch_all(db)
    .await
}

/// Revokes a token in use; `false` when there is no such token or it was revoked before.
pub async fn revoke_token(db: impl PgExecutor<'_>, id: i64, by: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE api_tokens SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL",
        id,
        by
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A token in use, found by its hash.
pub struct UsedToken {
    pub id: i64,
    pub user_id: i64,
    pub scope: Scope,
}

/// Finds the token with this hash, if it is not revoked, and notes that it was used just now.
pub async fn use_token(db: impl PgExecutor<'_>, token_hash: &[u8]) -> sqlx::Result<Option<UsedToken>> {
    sqlx::query_as!(
        UsedToken,
        r#"UPDATE api_tokens SET last_used_at = now()
            WHERE token_hash = $1 AND revoked_at IS NULL
           RETURNING id, user_id, scope AS "scope: Scope""#,
        token_hash
    )
    .fetch_optional(db)
    .await
}

/// Published comments (replies included) of each article named, in one query; a slug that names
/// no article counts 0.
pub async fn published_counts(db: impl PgExecutor<'_>, slugs: &[String]) -> sqlx::Result<Vec<(String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT s.slug AS "slug!",
                  (SELECT count(*) FROM comments c
                    WHERE c.article_id = a.id AND c.status = 'published') AS "count!"
             FROM unnest($1::text[]) AS s(slug)
             LEFT JOIN articles a ON a.slug = s.slug"#,
        slugs
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.slug, r.count)).collect())
}
