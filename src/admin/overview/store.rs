//! SQL for the overview: three grouped reads over the comments posted since the first week shown,
//! each keyed by the Monday (00:00 UTC) of the week a comment was posted.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Questions posted in one week and how they were answered.
pub struct QuestionWeek {
    pub week: DateTime<Utc>,
    pub questions: i64,
    pub answered: i64,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub within_target: i64,
    pub counted: i64,
}

/// Questions (published top-level guest comments) posted since `since`, by week. A question's
/// answer is the first published staff reply under it. `counted` is the share's denominator:
/// questions answered, or unanswered past the target (posted before `due_before`) and not marked
/// as needing no reply.
pub async fn questions(
    db: impl PgExecutor<'_>,
    since: DateTime<Utc>,
    due_before: DateTime<Utc>,
    target_seconds: f64,
) -> sqlx::Result<Vec<QuestionWeek>> {
    sqlx::query_as!(
        QuestionWeek,
        r#"WITH answers AS (
               SELECT r.parent_id, min(coalesce(r.published_at, r.created_at)) AS answered_at
                 FROM comments r
                WHERE r.author_kind = 'staff' AND r.status = 'published' AND r.parent_id IS NOT NULL
                  AND r.created_at >= $1
                GROUP BY r.parent_id
           ), waits AS (
               SELECT q.created_at, q.no_reply_needed_at, a.answered_at,
                      extract(epoch FROM a.answered_at - q.created_at)::float8 AS seconds
                 FROM comments q LEFT JOIN answers a ON a.parent_id = q.id
                WHERE q.status = 'published' AND q.parent_id IS NULL AND q.author_kind = 'guest'
                  AND q.created_at >= $1
           )
           SELECT date_trunc('week', created_at, 'UTC') AS "week!: DateTime<Utc>",
                  count(*) AS "questions!",
                  count(answered_at) AS "answered!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90_seconds,
                  count(*) FILTER (WHERE seconds <= $3) AS "within_target!",
                  count(*) FILTER (WHERE answered_at IS NOT NULL
                                      OR (created_at < $2 AND no_reply_needed_at IS NULL)) AS "counted!"
             FROM waits
            GROUP BY 1"#,
        since as _,
        due_before as _,
        target_seconds
    )
    .fetch_all(db)
    .await
}

/// Urgent comments posted in one week and how soon staff first saw them.
pub struct UrgentWeek {
    pub week: DateTime<Utc>,
    pub urgent: i64,
    pub seen: i64,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

/// Guests' comments flagged with a warning sign, posted since `since`, by week. One is first seen
/// at the earliest of: a staff action on it in the audit log, or a staff reply under it.
pub async fn urgent(db: impl PgExecutor<'_>, since: DateTime<Utc>) -> sqlx::Result<Vec<UrgentWeek>> {
    sqlx::query_as!(
        UrgentWeek,
        r#"WITH seen AS MATERIALIZED (
               SELECT c.created_at,
                      extract(epoch FROM least(
                          (SELECT min(l.at) FROM audit_log l
                            WHERE l.target_type = 'comment' AND l.target_id = c.id AND l.actor_id IS NOT NULL),
                          (SELECT min(r.created_at) FROM comments r
                            WHERE r.parent_id = c.id AND r.author_kind = 'staff')
                      ) - c.created_at)::float8 AS seconds
                 FROM comments c
                WHERE c.urgent AND c.author_kind = 'guest' AND c.created_at >= $1
           )
           SELECT date_trunc('week', created_at, 'UTC') AS "week!: DateTime<Utc>",
                  count(*) AS "urgent!",
                  count(seconds) AS "seen!",
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median_seconds,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY seconds) AS p90_seconds
             FROM seen
            GROUP BY 1"#,
        since as _
    )
    .fetch_all(db)
    .await
}

/// Spam caught and comments hidden in one week.
pub struct CleanupWeek {
    pub week: DateTime<Utc>,
    pub spam: i64,
    pub hidden: i64,
}

/// Comments posted since `since`, by week: those the spam checks set aside and nobody released
/// (a released one loses its spam reason), and those a moderator hid, spam not counted again.
pub async fn cleanup(db: impl PgExecutor<'_>, since: DateTime<Utc>) -> sqlx::Result<Vec<CleanupWeek>> {
    sqlx::query_as!(
        CleanupWeek,
        r#"SELECT date_trunc('week', created_at, 'UTC') AS "week!: DateTime<Utc>",
                  count(*) FILTER (WHERE spam_reason IS NOT NULL) AS "spam!",
                  count(*) FILTER (WHERE status = 'hidden' AND spam_reason IS NULL) AS "hidden!"
             FROM comments
            WHERE status IN ('spam', 'hidden') AND created_at >= $1
            GROUP BY 1"#,
        since as _
    )
    .fetch_all(db)
    .await
}
