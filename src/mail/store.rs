//! SQL for mail: the outbox, readers' addresses and subscriptions, reply notices, staff alerts.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::Mail;

/// Queues `mail` to be sent from `send_after` on.
pub async fn enqueue(tx: &mut PgConnection, mail: &Mail, send_after: DateTime<Utc>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO outbox (kind, recipient, subject, body_text, body_html, unsubscribe, send_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        mail.kind,
        mail.to,
        mail.subject,
        mail.text,
        mail.html,
        mail.unsubscribe,
        send_after as _
    )
    .fetch_one(tx)
    .await
}

/// A queued mail, claimed for sending.
pub struct Queued {
    pub id: i64,
    pub kind: String,
    pub recipient: Option<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub unsubscribe: Option<String>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// Claims up to `limit` mails due now. The rows stay locked until the transaction ends, and
/// other processes skip them: no mail is sent twice.
pub async fn claim_due(tx: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<Queued>> {
    sqlx::query_as!(
        Queued,
        r#"SELECT id, kind, recipient, subject, body_text, body_html, unsubscribe, attempts,
                  created_at AS "created_at: DateTime<Utc>"
             FROM outbox WHERE status = 'queued' AND send_after <= now()
            ORDER BY send_after, id LIMIT $1
              FOR UPDATE SKIP LOCKED"#,
        limit
    )
    .fetch_all(tx)
    .await
}

pub async fn mark_sent(tx: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1",
        id
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// A failed attempt: try again after `retry_in`, or give up (`None`).
pub async fn mark_failed(
    tx: &mut PgConnection,
    id: i64,
    error: &str,
    retry_in: Option<f64>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE outbox SET attempts = attempts + 1, last_error = $2,
                status = CASE WHEN $3::float8 IS NULL THEN 'failed' ELSE 'queued' END,
                send_after = now() + make_interval(secs => coalesce($3, 0))
          WHERE id = $1",
        id,
        error,
        retry_in
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// A mail as admins see it on the mail page.
pub struct Listed {
    pub id: i64,
    pub kind: String,
    pub recipient: Option<String>,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The latest mails with `status`, newest first.
pub async fn list(db: impl PgExecutor<'_>, status: &str, limit: i64) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as!(
        Listed,
        r#"SELECT id, kind, recipient, subject, status, attempts, last_error,
                  created_at AS "created_at: DateTime<Utc>", sent_at AS "sent_at: DateTime<Utc>"
             FROM outbox WHERE status = $1 ORDER BY id DESC LIMIT $2"#,
        status,
        limit
    )
    .fetch_all(db)
    .await
}

/// How many mails have each status.
pub async fn counts(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, i64, i64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE status = 'queued') AS "queued!",
                  count(*) FILTER (WHERE status = 'sent') AS "sent!",
                  count(*) FILTER (WHERE status = 'failed') AS "failed!"
             FROM outbox"#
    )
    .fetch_one(db)
    .await?;
    Ok((row.queued, row.sent, row.failed))
}

/// Sends a failed mail again; `false` when it is not a failed mail (or its address is forgotten).
pub async fn resend(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE outbox SET status = 'queued', attempts = 0, send_after = now(), created_at = now()
          WHERE id = $1 AND status = 'failed' AND recipient IS NOT NULL",
        id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct Address {
    pub id: i64,
    /// No confirmation was sent in the last day and the address is not confirmed or stopped.
    pub needs_confirmation: bool,
}

/// The row for `email`, made when new.
pub async fn address_for(tx: &mut PgConnection, email: &str) -> sqlx::Result<Address> {
    sqlx::query_as!(
        Address,
        r#"WITH made AS (
               INSERT INTO mail_addresses (email) VALUES ($1)
               ON CONFLICT ((lower(email))) DO UPDATE SET email = mail_addresses.email
               RETURNING id, confirmed_at, confirmation_sent_at, stopped_at
           )
           SELECT id AS "id!",
                  (confirmed_at IS NULL AND stopped_at IS NULL
                   AND (confirmation_sent_at IS NULL OR confirmation_sent_at < now() - interval '1 day'))
                  AS "needs_confirmation!"
             FROM made"#,
        email
    )
    .fetch_one(tx)
    .await
}

pub async fn confirmation_sent(tx: &mut PgConnection, address_id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE mail_addresses SET confirmation_sent_at = now() WHERE id = $1",
        address_id
    )
    .execute(tx)
    .await?;
    Ok(())
}

pub async fn subscribe(tx: &mut PgConnection, comment_id: i64, address_id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO subscriptions (comment_id, address_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        comment_id,
        address_id
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Confirms an address (again, after "stop all", it starts mails again); `false` when there is no
/// such address.
pub async fn confirm(db: impl PgExecutor<'_>, address_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE mail_addresses SET confirmed_at = coalesce(confirmed_at, now()), stopped_at = NULL WHERE id = $1",
        address_id
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Stops mails about one comment, or (`comment` is `None`) all mails to the address.
pub async fn stop(db: &mut PgConnection, address_id: i64, comment: Option<i64>) -> sqlx::Result<bool> {
    let done = match comment {
        Some(comment_id) => {
            sqlx::query!(
                "UPDATE subscriptions SET stopped_at = coalesce(stopped_at, now())
                  WHERE address_id = $1 AND comment_id = $2",
                address_id,
                comment_id
            )
            .execute(&mut *db)
            .await?
        }
        None => {
            sqlx::query!(
                "UPDATE mail_addresses SET stopped_at = coalesce(stopped_at, now()) WHERE id = $1",
                address_id
            )
            .execute(&mut *db)
            .await?
        }
    };
    // Nothing already waiting goes out after this.
    sqlx::query!(
        "UPDATE reply_notices SET mailed_at = now()
          WHERE address_id = $1 AND mailed_at IS NULL AND ($2::bigint IS NULL OR comment_id = $2)",
        address_id,
        comment
    )
    .execute(&mut *db)
    .await?;
    Ok(done.rows_affected() >= 1)
}

/// Notes a published reply for every confirmed, subscribed address of the comment it answers.
pub async fn notice_reply(tx: &mut PgConnection, reply_id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO reply_notices (address_id, comment_id, reply_id)
         SELECT s.address_id, s.comment_id, r.id
           FROM comments r
           JOIN subscriptions s ON s.comment_id = r.parent_id AND s.stopped_at IS NULL
           JOIN mail_addresses a ON a.id = s.address_id AND a.confirmed_at IS NOT NULL AND a.stopped_at IS NULL
          WHERE r.id = $1 AND r.status = 'published'
         ON CONFLICT ON CONSTRAINT reply_notices_once DO NOTHING",
        reply_id
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// Addresses with replies that have waited at least `batch` seconds (the oldest first).
pub async fn addresses_due(db: impl PgExecutor<'_>, batch_secs: f64, limit: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        r#"SELECT address_id AS "address_id!" FROM reply_notices WHERE mailed_at IS NULL
            GROUP BY address_id HAVING min(created_at) <= now() - make_interval(secs => $1)
            ORDER BY min(created_at) LIMIT $2"#,
        batch_secs,
        limit
    )
    .fetch_all(db)
    .await
}

/// A reply waiting to be mailed about.
pub struct Notice {
    pub id: i64,
    pub email: String,
    pub comment_id: i64,
    pub reply_id: i64,
    pub article_slug: String,
    pub article_title: String,
}

/// The waiting replies for one address, locked for this transaction (another process skips
/// them). Only replies still published, to an address still confirmed and wanting them.
pub async fn take_notices(tx: &mut PgConnection, address_id: i64) -> sqlx::Result<Vec<Notice>> {
    let notices = sqlx::query_as!(
        Notice,
        r#"SELECT n.id, a.email, n.comment_id, n.reply_id, ar.slug AS article_slug, ar.title AS article_title
             FROM reply_notices n
             JOIN mail_addresses a ON a.id = n.address_id
             JOIN comments r ON r.id = n.reply_id
             JOIN articles ar ON ar.id = r.article_id
            WHERE n.address_id = $1 AND n.mailed_at IS NULL
            ORDER BY n.id
              FOR UPDATE OF n SKIP LOCKED"#,
        address_id
    )
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE reply_notices SET mailed_at = now() WHERE id = ANY($1)",
        &notices.iter().map(|n| n.id).collect::<Vec<_>>()
    )
    .execute(&mut *tx)
    .await?;
    Ok(notices)
}

/// Whether the reply is still published and the address and subscription still want mail.
pub async fn still_wanted(
    tx: &mut PgConnection,
    address_id: i64,
    comment_id: i64,
    reply_id: i64,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (
             SELECT 1 FROM subscriptions s
               JOIN mail_addresses a ON a.id = s.address_id
               JOIN comments r ON r.id = $3 AND r.status = 'published'
              WHERE s.address_id = $1 AND s.comment_id = $2 AND s.stopped_at IS NULL
                AND a.confirmed_at IS NOT NULL AND a.stopped_at IS NULL) AS "wanted!""#,
        address_id,
        comment_id,
        reply_id
    )
    .fetch_one(tx)
    .await
}

/// Email addresses of active staff who want urgent alerts (admins and moderators unless they said
/// no; midwives if they said yes).
pub async fn alerted_staff(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT email FROM users
          WHERE disabled_at IS NULL AND password_hash IS NOT NULL
            AND coalesce(urgent_alerts, role <> 'midwife') ORDER BY id"
    )
    .fetch_all(db)
    .await
}

/// Forgets the recipients of mails sent long ago, and the email addresses of comments that were
/// never published.
pub async fn forget_old(db: &mut PgConnection, unpublished_email_secs: f64) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE outbox SET recipient = NULL
          WHERE recipient IS NOT NULL AND status <> 'queued' AND created_at < now() - interval '30 days'"
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "UPDATE comments SET author_email = NULL
          WHERE author_email IS NOT NULL AND published_at IS NULL AND status <> 'published'
            AND created_at < now() - make_interval(secs => $1)",
        unpublished_email_secs
    )
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// How the moderation queue stands, for the daily summary.
pub struct QueueNow {
    pub waiting: i64,
    pub urgent: i64,
    pub oldest: Option<DateTime<Utc>>,
}

pub async fn queue_now(db: impl PgExecutor<'_>) -> sqlx::Result<QueueNow> {
    sqlx::query_as!(
        QueueNow,
        r#"SELECT count(*) AS "waiting!", count(*) FILTER (WHERE urgent) AS "urgent!",
                  min(created_at) AS "oldest: DateTime<Utc>"
             FROM comments WHERE status = 'pending'"#
    )
    .fetch_one(db)
    .await
}
