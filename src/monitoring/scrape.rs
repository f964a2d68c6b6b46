//! Gauges read at scrape time: the pool, the outage state, and one query for the queue and the
//! outbox.

use sqlx::PgPool;

use super::{
    DATABASE_DOWN, MAIL_OUTBOX, POOL_CONNECTIONS, POOL_MAX, POOL_SIZE, QUEUE_OLDEST_SECONDS,
    QUEUE_OLDEST_URGENT_SECONDS, QUEUE_URGENT_WAITING, QUEUE_WAITING,
};

/// The queue and the outbox, as one cheap query sees them (both read partial indexes).
struct Counts {
    waiting: i64,
    urgent_waiting: i64,
    oldest_seconds: f64,
    oldest_urgent_seconds: f64,
    mail_queued: i64,
    mail_sent: i64,
    mail_failed: i64,
}

async fn counts(db: &PgPool) -> Result<Counts, sqlx::Error> {
    sqlx::query_as!(
        Counts,
        r#"
        SELECT
            q.waiting AS "waiting!",
            q.urgent_waiting AS "urgent_waiting!",
            COALESCE(EXTRACT(EPOCH FROM now() - q.oldest)::float8, 0) AS "oldest_seconds!",
            COALESCE(EXTRACT(EPOCH FROM now() - q.oldest_urgent)::float8, 0) AS "oldest_urgent_seconds!",
            m.queued AS "mail_queued!",
            m.sent AS "mail_sent!",
            m.failed AS "mail_failed!"
        FROM
            (SELECT count(*) AS waiting,
                    count(*) FILTER (WHERE urgent) AS urgent_waiting,
                    min(created_at) AS oldest,
                    min(created_at) FILTER (WHERE urgent) AS oldest_urgent
             FROM comments WHERE status = 'pending') q,
            (SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
                    count(*) FILTER (WHERE status = 'sent') AS sent,
                    count(*) FILTER (WHERE status = 'failed') AS failed
             FROM outbox) m
        "#
    )
    .fetch_one(db)
    .await
}

/// Sets the gauges read at scrape time. While the database is down only the pool and the outage
/// state are read; the last counts stay as they were.
pub(super) async fn refresh(db: &PgPool, down: bool) {
    let size = db.size();
    let idle = u32::try_from(db.num_idle()).unwrap_or(u32::MAX).min(size);
    metrics::gauge!(POOL_SIZE).set(f64::from(size));
    metrics::gauge!(POOL_MAX).set(f64::from(db.options().get_max_connections()));
    metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use").set(f64::from(size - idle));
    metrics::gauge!(DATABASE_DOWN).set(if down { 1.0 } else { 0.0 });
    if down {
        return;
    }
    let read = tokio::time::timeout(std::time::Duration::from_secs(2), counts(db)).await;
    let Ok(Ok(c)) = read else {
        tracing::debug!("metrics: could not count the queue and the outbox");
        return;
    };
    #[allow(clippy::cast_precision_loss)]
    let count = |n: i64| n as f64;
    metrics::gauge!(QUEUE_WAITING).set(count(c.waiting));
    metrics::gauge!(QUEUE_URGENT_WAITING).set(count(c.urgent_waiting));
    metrics::gauge!(QUEUE_OLDEST_SECONDS).set(c.oldest_seconds);
    metrics::gauge!(QUEUE_OLDEST_URGENT_SECONDS).set(c.oldest_urgent_seconds);
    metrics::gauge!(MAIL_OUTBOX, "state" => "queued").set(count(c.mail_queued));
    metrics::gauge!(MAIL_OUTBOX, "state" => "sent").set(count(c.mail_sent));
    metrics::gauge!(MAIL_OUTBOX, "state" => "failed").set(count(c.mail_failed));
}
