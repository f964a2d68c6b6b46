//! SQL for accounts, one-time links and failed sign-ins.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::{Role, Staff};

pub struct LoginRow {
    pub id: i64,
    pub password_hash: Option<String>,
    pub disabled: bool,
}

pub async fn find_for_login(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<LoginRow>> {
    sqlx::query_as!(
        LoginRow,
        r#"SELECT id, password_hash, disabled_at IS NOT NULL AS "disabled!"
             FROM users WHERE lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(db)
    .await
}

/// An account that may be signed in: it has a password and is not disabled.
pub async fn find_active(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Staff>> {
    let row = sqlx::query!(
        r#"SELECT id, email, display_name, role AS "role: Role", verified_at IS NOT NULL AS "verified!",
                  password_hash AS "password_hash!"
             FROM users
            WHERE id = $1 AND disabled_at IS NULL AND password_hash IS NOT NULL"#,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Staff {
        id: r.id,
        email: r.email,
        display_name: r.display_name,
        role: r.role,
        verified: r.verified,
        password_hash: r.password_hash,
    }))
}

pub async fn set_password_hash(db: impl PgExecutor<'_>, id: i64, hash: &str) -> sqlx::Result<()> {
    sqlx::query!("UPDATE users SET password_hash = $2 WHERE id = $1", id, hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn record_login(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<()> {
    sqlx::query!("UPDATE users SET last_login_at = now() WHERE id = $1", id)
        .execute(db)
        .await?;
    Ok(())
}

pub struct NewAccount<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub password_hash: Option<&'a str>,
    /// Verified at creation (by the command line, or by the admin named here).
    pub verified: bool,
    pub verified_by: Option<i64>,
}

/// Creates an account; `None` when the email is already in use.
pub async fn insert_account(db: impl PgExecutor<'_>, account: &NewAccount<'_>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"INSERT INTO users (email, display_name, role, password_hash, verified_at, verified_by)
           VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN now() END, $6)
           ON CONFLICT ((lower(email))) DO NOTHING
           RETURNING id"#,
        account.email,
        account.display_name,
        account.role as Role,
        account.password_hash,
        account.verified,
        account.verified_by
    )
    .fetch_optional(db)
    .await
}

/// An account as admins see it.
pub struct AccountRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_by_name: Option<String>,
    pub registration_number: Option<String>,
    pub disabled: bool,
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

pub async fn list_accounts(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<AccountRow>> {
    sqlx::query_as!(
        AccountRow,
        r#"SELECT u.id, u.email, u.display_name, u.role AS "role: Role", u.verified_at AS "verified_at: DateTime<Utc>",
                  v.display_name AS "verified_by_name?", u.registration_number,
                  u.disabled_at IS NOT NULL AS "disabled!", u.password_hash IS NOT NULL AS "has_password!",
                  u.created_at AS "created_at: DateTime<Utc>", u.last_login_at AS "last_login_at: DateTime<Utc>"
             FROM users u LEFT JOIN users v ON v.id = u.verified_by
            ORDER BY u.disabled_at IS NOT NULL, u.display_name, u.id"#
    )
    .fetch_all(db)
    .await
}

/// Whether account `id` has chosen a password (an invitation not yet accepted has none).
pub async fn has_password(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let has = sqlx::query_scalar!(
        r#"SELECT password_hash IS NOT NULL AS "has!" FROM users WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(has.unwrap_or(false))
}

pub async fn role_of(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Role>> {
    sqlx::query_scalar!(r#"SELECT role AS "role: Role" FROM users WHERE id = $1"#, id)
        .fetch_optional(db)
        .await
}

pub async fn find_account_email(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT email FROM users WHERE id = $1", id)
        .fetch_optional(db)
        .await
}

pub async fn find_account_name(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("SELECT display_name FROM users WHERE id = $1", id)
        .fetch_optional(db)
        .await
}

/// Marks an account verified; `false` if there is no such account or it already is.
pub async fn verify(
    db: impl PgExecutor<'_>,
    id: i64,
    by: i64,
    registration_number: Option<&str>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE users SET verified_at = now(), verified_by = $2, registration_number = $3
          WHERE id = $1 AND verified_at IS NULL",
        id,
        by,
        registration_number
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_role(db: impl PgExecutor<'_>, id: i64, role: Role) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE users SET role = $2 WHERE id = $1 AND role <> $2",
        id,
        role as Role
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Disables or enables an account; `false` if it was already so.
pub async fn set_disabled(db: impl PgExecutor<'_>, id: i64, disabled: bool) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE users SET disabled_at = CASE WHEN $2 THEN now() END
          WHERE id = $1 AND (disabled_at IS NOT NULL) <> $2",
        id,
        disabled
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Active admins other than `except`: an admin may not lock the last admin out.
pub async fn count_other_active_admins(db: impl PgExecutor<'_>, except: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM users
            WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1"#,
        except
    )
    .fetch_one(db)
    .await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "account_token_purpose", rename_all = "snake_case")]
pub enum TokenPurpose {
    Invitation,
    PasswordReset,
}

/// Stores a new one-time link and retires any earlier unused one for the same purpose.
pub async fn insert_token(
    tx: &mut PgConnection,
    user_id: i64,
    purpose: TokenPurpose,
    hash: &[u8],
    expires_at: DateTime<Utc>,
    created_by: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE account_tokens SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        user_id,
        purpose as TokenPurpose
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO account_tokens (user_id, purpose, token_hash, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5)",
        user_id,
        purpose as TokenPurpose,
        hash,
        expires_at as _,
        created_by
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub struct TokenOwner {
    pub token_id: i64,
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
}

/// The account behind an unused, unexpired link of this purpose. `lock` holds the link until the
/// transaction ends so it can be used only once.
pub async fn find_valid_token(
    db: impl PgExecutor<'_>,
    hash: &[u8],
    purpose: TokenPurpose,
) -> sqlx::Result<Option<TokenOwner>> {
    sqlx::query_as!(
        TokenOwner,
        r#"SELECT t.id AS token_id, u.id AS user_id, u.email, u.display_name
             FROM account_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
              AND u.disabled_at IS NULL
            FOR UPDATE OF t"#,
        hash,
        purpose as TokenPurpose
    )
    .fetch_optional(db)
    .await
}

pub async fn mark_token_used(db: impl PgExecutor<'_>, token_id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE account_tokens SET used_at = now() WHERE id = $1",
        token_id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// When the latest lockout on any of `keys` ends, if one is in force.
pub async fn lockout_until(db: impl PgExecutor<'_>, keys: &[String]) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar!(
        r#"SELECT max(until) AS "until: DateTime<Utc>" FROM login_lockouts WHERE key = ANY($1) AND until > now()"#,
        keys
    )
    .fetch_one(db)
    .await
}

/// A failed sign-in, and the rule it is counted under.
pub struct Failure<'a> {
    pub key: &'a str,
    /// A keyed hash of the client address.
    pub source: &'a [u8],
    pub limit: i64,
    pub window_secs: f64,
    /// How many distinct sources the failures must come from before the key is locked.
    pub sources: i64,
    pub lockout_secs: f64,
}

/// Records a failed sign-in under its key; locks the key out for `lockout_secs` if this makes
/// `limit` failures from at least `sources` addresses within the window.
pub async fn record_failure(db: &mut PgConnection, failure: &Failure<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO login_failures (key, source) VALUES ($1, $2)",
        failure.key,
        failure.source
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        r#"INSERT INTO login_lockouts (key, until)
           SELECT $1, now() + make_interval(secs => $4)
             FROM login_failures
            WHERE key = $1 AND created_at > now() - make_interval(secs => $3)
           HAVING count(*) >= $2 AND count(DISTINCT source) >= $5
           ON CONFLICT (key) DO UPDATE SET until = EXCLUDED.until, created_at = now()"#,
        failure.key,
        failure.limit,
        failure.window_secs,
        failure.lockout_secs,
        failure.sources
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Forgets old failures so the table stays small.
pub async fn prune_failures(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH gone AS (DELETE FROM login_failures WHERE created_at < now() - interval '1 day')
         DELETE FROM login_lockouts WHERE until < now()"
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A member of staff's mail choices: urgent alerts (the role's default until they choose) and
/// the daily summary.
pub async fn mail_choices(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<(bool, bool)> {
    let row = sqlx::query!(
        r#"SELECT coalesce(urgent_alerts, role <> 'midwife') AS "urgent!", daily_digest FROM users WHERE id = $1"#,
        id
    )
    .fetch_one(db)
    .await?;
    Ok((row.urgent, row.daily_digest))
}

pub async fn set_mail_choices(
    db: impl PgExecutor<'_>,
    id: i64,
    urgent: bool,
    digest: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE users SET urgent_alerts = $2, daily_digest = $3 WHERE id = $1",
        id,
        urgent,
        digest
    )
    .execute(db)
    .await?;
    Ok(())
}
