//! SQL for the moderation queue and decisions.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::{Decision, EDITABLE};
use crate::comments::{AuthorKind, CommentStatus};

pub struct Counts {
    pub pending: i64,
    pub published: i64,
    pub hidden: i64,
    pub spam: i64,
    /// Hidden comments handled privately (also counted as hidden).
    pub private: i64,
    /// Waiting comments that mention a warning sign, and when the oldest of them was posted.
    pub urgent: i64,
    pub oldest_urgent: Option<DateTime<Utc>>,
}

/// Tabs count up to this many and then say "1000+": counting tens of thousands of comments on
/// every page view would cost more than the number is worth.
pub const COUNT_CAP: i64 = 1_000;

/// Each count reads only its own status through an index.
pub async fn counts(db: impl PgExecutor<'_>, article_id: Option<i64>) -> sqlx::Result<Counts> {
    sqlx::query_as!(
        Counts,
        r#"SELECT
             (SELECT count(*) FROM (SELECT 1 FROM comments
               WHERE status = 'pending' AND ($1::bigint IS NULL OR article_id = $1) LIMIT $2) w) AS "pending!",
             (SELECT count(*) FROM (SELECT 1 FROM comments
               WHERE status = 'published' AND ($1::bigint IS NULL OR article_id = $1) LIMIT $2) p) AS "published!",
             (SELECT count(*) FROM (SELECT 1 FROM comments
               WHERE status = 'hidden' AND ($1::bigint IS NULL OR article_id = $1) LIMIT $2) h) AS "hidden!",
             (SELECT count(*) FROM (SELECT 1 FROM comments
               WHERE status = 'spam' AND ($1::bigint IS NULL OR article_id = $1) LIMIT $2) s) AS "spam!",
             (SELECT count(*) FROM (SELECT 1 FROM comments
               WHERE status = 'hidden' AND handled_privately_at IS NOT NULL
                 AND ($1::bigint IS NULL OR article_id = $1) LIMIT $2) v) AS "private!",
             (SELECT count(*) FROM comments
               WHERE status = 'pending' AND urgent AND ($1::bigint IS NULL OR article_id = $1)) AS "urgent!",
             (SELECT min(created_at) FROM comments
               WHERE status = 'pending' AND urgent AND ($1::bigint IS NULL OR article_id = $1))
               AS "oldest_urgent: DateTime<Utc>""#,
        article_id,
        COUNT_CAP
    )
    .fetch_one(db)
    .await
}

/// A comment as staff see it.
pub struct QueueRow {
    pub id: i64,
    pub article_slug: String,
    pub article_title: String,
    pub author_kind: AuthorKind,
    pub author_name: String,
    pub author_email: Option<String>,
    pub body: String,
    pub body_html: Option<String>,
    pub status: CommentStatus,
    pub hidden_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub parent_author_name: Option<String>,
    pub parent_body: Option<String>,
    pub moderated_by_name: Option<String>,
    pub moderated_at: Option<DateTime<Utc>>,
    pub published_replies: i64,
    pub urgent_signs: Vec<String>,
    pub spam_reason: Option<String>,
    pub report_count: i32,
    pub report_reasons: Option<String>,
    /// The system it was imported from, if it was.
    pub import_source: Option<String>,
    /// Handled privately: by whom, when, and the staff-only note.
    pub handled_privately_by_name: Option<String>,
    pub handled_privately_at: Option<DateTime<Utc>>,
    pub private_note: Option<String>,
    /// Passed to a midwife while waiting: by whom and when.
    pub passed_to_midwife_by_name: Option<String>,
    pub passed_to_midwife_at: Option<DateTime<Utc>>,
}

/// One tab of the queue: waiting comments oldest first (fair to whoever has waited longest),
/// published and hidden ones newest first; `private_only` keeps those handled privately.
pub async fn queue(
    db: impl PgExecutor<'_>,
    (status, private_only): (CommentStatus, bool),
    article_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<QueueRow>> {
    sqlx::query_as!(
        QueueRow,
        r#"SELECT c.id, a.slug AS article_slug, a.title AS article_title,
                  c.author_kind AS "author_kind: AuthorKind", c.author_name, c.author_email, c.body, c.body_html,
                  c.status AS "status: CommentStatus", c.hidden_reason, c.created_at AS "created_at: DateTime<Utc>",
                  p.author_name AS "parent_author_name?", p.body AS "parent_body?",
                  m.display_name AS "moderated_by_name?", c.moderated_at AS "moderated_at: DateTime<Utc>",
                  (SELECT count(*) FROM comments r WHERE r.parent_id = c.id AND r.status = 'published') AS "published_replies!",
                  c.urgent_signs, c.spam_reason, c.report_count,
                  (SELECT string_agg(DISTINCT reason, '; ') FROM comment_reports x WHERE x.comment_id = c.id) AS "report_reasons?",
                  c.import_source,
                  hp.display_name AS "handled_privately_by_name?",
                  c.handled_privately_at AS "handled_privately_at: DateTime<Utc>", c.private_note,
                  pm.display_name AS "passed_to_midwife_by_name?",
                  c.passed_to_midwife_at AS "passed_to_midwife_at: DateTime<Utc>"
             FROM comments c
             JOIN articles a ON a.id = c.article_id
             LEFT JOIN comments p ON p.id = c.parent_id
             LEFT JOIN users m ON m.id = c.moderated_by
             LEFT JOIN users hp ON hp.id = c.handled_privately_by
             LEFT JOIN users pm ON pm.id = c.passed_to_midwife_by
            WHERE c.status = $1 AND ($2::bigint IS NULL OR c.article_id = $2)
              AND (NOT $5 OR c.handled_privately_at IS NOT NULL)
            ORDER BY CASE WHEN $1 = 'pending'::comment_status THEN c.urgent END DESC,
                     CASE WHEN $1 = 'pending'::comment_status THEN c.created_at END ASC,
                     c.created_at DESC, c.id DESC
            LIMIT $3 OFFSET $4"#,
        status as CommentStatus,
        article_id,
        limit,
        offset,
        private_only
    )
    .fetch_all(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<QueueRow>> {
    sqlx::query_as!(
        QueueRow,
        r#"SELECT c.id, a.slug AS article_slug, a.title AS article_title,
                  c.author_kind AS "author_kind: AuthorKind", c.author_name, c.author_email, c.body, c.body_html,
                  c.status AS "status: CommentStatus", c.hidden_reason, c.created_at AS "created_at: DateTime<Utc>",
                  p.author_name AS "parent_author_name?", p.body AS "parent_body?",
                  m.display_name AS "moderated_by_name?", c.moderated_at AS "moderated_at: DateTime<Utc>",
                  (SELECT count(*) FROM comments r WHERE r.parent_id = c.id AND r.status = 'published') AS "published_replies!",
                  c.urgent_signs, c.spam_reason, c.report_count,
                  (SELECT string_agg(DISTINCT reason, '; ') FROM comment_reports x WHERE x.comment_id = c.id) AS "report_reasons?",
                  c.import_source,
                  hp.display_name AS "handled_privately_by_name?",
                  c.handled_privately_at AS "handled_privately_at: DateTime<Utc>", c.private_note,
                  pm.display_name AS "passed_to_midwife_by_name?",
                  c.passed_to_midwife_at AS "passed_to_midwife_at: DateTime<Utc>"
             FROM comments c
             JOIN articles a ON a.id = c.article_id
             LEFT JOIN comments p ON p.id = c.parent_id
             LEFT JOIN users m ON m.id = c.moderated_by
             LEFT JOIN users hp ON hp.id = c.handled_privately_by
             LEFT JOIN users pm ON pm.id = c.passed_to_midwife_by
            WHERE c.id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Published replies already under a comment, oldest first, so a midwife sees what was said.
pub struct ExistingReply {
    pub id: i64,
    pub author_kind: AuthorKind,
    /// Who wrote a staff reply, so its author may correct it.
    pub author_user_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn replies_to(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Vec<ExistingReply>> {
    sqlx::query_as!(
        ExistingReply,
        r#"SELECT id, author_kind AS "author_kind: AuthorKind", author_user_id, author_name, body,
                  created_at AS "created_at: DateTime<Utc>"
             FROM comments WHERE parent_id = $1 AND status = 'published' ORDER BY created_at, id"#,
        id
    )
    .fetch_all(db)
    .await
}

pub async fn status_of(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<CommentStatus>> {
    sqlx::query_scalar!(
        r#"SELECT status AS "status: CommentStatus" FROM comments WHERE id = $1"#,
        id
    )
    .fetch_optional(db)
    .await
}

/// Applies `decision` to comment `id` if its status allows it (see [`Decision::starts_from`]);
/// `false` when it did not (someone else decided first). Approving clears earlier reports: a
/// comment a moderator has read and approved needs as many new reports to come back. The status
/// it had is kept in `previous_status`, for an undo. `reason` is a hide's reason, or the staff
/// note of a comment handled privately.
pub async fn apply(
    tx: &mut PgConnection,
    id: i64,
    by: i64,
    decision: Decision,
    reason: Option<&str>,
) -> sqlx::Result<bool> {
    let from = decision.starts_from();
    let done = match decision {
        Decision::Approve => {
            sqlx::query!(
                "UPDATE comments SET status = 'published', published_at = now(), moderated_by = $2,
                        moderated_at = now(), report_count = 0, previous_status = status
                  WHERE id = $1 AND status = ANY($3)",
                id,
                by,
                from as &[CommentStatus]
            )
            .execute(&mut *tx)
            .await?
        }
        Decision::Hide => {
            sqlx::query!(
                "UPDATE comments SET status = 'hidden', hidden_reason = $4, moderated_by = $2, moderated_at = now(),
                        previous_status = status
                  WHERE id = $1 AND status = ANY($3)",
                id,
                by,
                from as &[CommentStatus],
                reason
            )
            .execute(&mut *tx)
            .await?
        }
        Decision::Unhide => {
            sqlx::query!(
                "UPDATE comments SET status = 'published', published_at = coalesce(published_at, now()),
                        hidden_reason = NULL, moderated_by = $2, moderated_at = now(), previous_status = status
                  WHERE id = $1 AND status = ANY($3)",
                id,
                by,
                from as &[CommentStatus]
            )
            .execute(&mut *tx)
            .await?
        }
        Decision::NotSpam => {
            sqlx::query!(
                "UPDATE comments SET status = 'pending', spam_reason = NULL, moderated_by = $2, moderated_at = now(),
                        previous_status = status
                  WHERE id = $1 AND status = ANY($3)",
                id,
                by,
                from as &[CommentStatus]
            )
            .execute(&mut *tx)
            .await?
        }
        Decision::HandledPrivately => {
            sqlx::query!(
                "UPDATE comments SET status = 'hidden', handled_privately_at = now(), handled_privately_by = $2,
                        private_note = $4, moderated_by = $2, moderated_at = now(), previous_status = status
                  WHERE id = $1 AND status = ANY($3)",
                id,
                by,
                from as &[CommentStatus],
                reason
            )
            .execute(&mut *tx)
            .await?
        }
    };
    let changed = done.rows_affected() == 1;
    if changed && decision == Decision::Approve {
        sqlx::query!("DELETE FROM comment_reports WHERE comment_id = $1", id)
            .execute(&mut *tx)
            .await?;
    }
    Ok(changed)
}

/// Replaces a guest's words (to remove personal details). `false` for staff replies and for
/// comments whose status does not allow it (see [`EDITABLE`]).
pub async fn edit_guest_text(tx: &mut PgConnection, id: i64, by: i64, body: &str) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE comments SET body = $3, moderated_by = $2, moderated_at = now()
          WHERE id = $1 AND author_kind = 'guest' AND status = ANY($4)",
        id,
        by,
        body,
        &EDITABLE as &[CommentStatus]
    )
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct ReplyParent {
    pub article_id: i64,
    pub status: CommentStatus,
}

/// Locks the comment being answered so its status cannot change under the reply.
pub async fn lock_parent(tx: &mut PgConnection, id: i64) -> sqlx::Result<Option<ReplyParent>> {
    sqlx::query_as!(
        ReplyParent,
        r#"SELECT article_id, status AS "status: CommentStatus" FROM comments WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(tx)
    .await
}

pub struct NewStaffReply<'a> {
    pub article_id: i64,
    pub parent_id: i64,
    pub author_user_id: i64,
    pub author_name: &'a str,
    pub body: &'a str,
    pub body_html: &'a str,
    pub disclaimer: &'a str,
    /// The disclaimer's version, when it was saved in the browser.
    pub disclaimer_version: Option<i64>,
}

/// A staff reply is published at once.
pub async fn insert_staff_reply(tx: &mut PgConnection, reply: &NewStaffReply<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO comments (article_id, parent_id, author_kind, author_user_id, author_name, body, body_html,
                               disclaimer, disclaimer_version, status, published_at, moderated_by, moderated_at)
         VALUES ($1, $2, 'staff', $3, $4, $5, $6, $7, $8, 'published', now(), $3, now())
         RETURNING id",
        reply.article_id,
        reply.parent_id,
        reply.author_user_id,
        reply.author_name,
        reply.body,
        reply.body_html,
        reply.disclaimer,
        reply.disclaimer_version
    )
    .fetch_one(tx)
    .await
}

/// Who wrote staff reply `id` (`None` for a guest's comment, or a reply whose author's account
/// is gone).
pub async fn staff_reply_author(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<i64>> {
    let author = sqlx::query_scalar!(
        "SELECT author_user_id FROM comments WHERE id = $1 AND author_kind = 'staff'",
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(author.flatten())
}

/// A comment about to be corrected, locked so two corrections cannot cross.
pub struct ToCorrect {
    pub author_kind: AuthorKind,
    pub author_user_id: Option<i64>,
    pub body: String,
}

pub async fn lock_for_correction(tx: &mut PgConnection, id: i64) -> sqlx::Result<Option<ToCorrect>> {
    sqlx::query_as!(
        ToCorrect,
        r#"SELECT author_kind AS "author_kind: AuthorKind", author_user_id, body
             FROM comments WHERE id = $1 FOR UPDATE"#,
        id
    )
    .fetch_optional(tx)
    .await
}

/// Replaces a staff reply's text and marks it edited. Readers' pages show it at once: the
/// update moves the article's `comments_version` (see the thread-version trigger).
pub async fn correct_staff_reply(
    tx: &mut PgConnection,
    id: i64,
    body: &str,
    body_html: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE comments SET body = $2, body_html = $3, edited_at = now() WHERE id = $1 AND author_kind = 'staff'",
        id,
        body,
        body_html
    )
    .execute(tx)
    .await?;
    Ok(())
}

/// The question after `after` in the order of "Awaiting a midwife" (urgent first, then oldest
/// first), starting again from the top once past the end; `None` when no other is waiting.
pub async fn next_awaiting(
    db: impl PgExecutor<'_>,
    after: i64,
    article_id: Option<i64>,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"WITH here AS (SELECT urgent, created_at FROM comments WHERE id = $1)
           SELECT c.id FROM comments c LEFT JOIN here h ON true
            WHERE c.status = 'published' AND c.parent_id IS NULL AND c.author_kind = 'guest'
              AND c.no_reply_needed_at IS NULL AND c.id <> $1
              AND ($2::bigint IS NULL OR c.article_id = $2)
              AND NOT EXISTS (SELECT 1 FROM comments r
                               WHERE r.parent_id = c.id AND r.author_kind = 'staff' AND r.status = 'published')
            ORDER BY CASE WHEN h.urgent IS NULL
                            OR c.urgent < h.urgent
                            OR (c.urgent = h.urgent AND (c.created_at, c.id) > (h.created_at, $1))
                          THEN 0 ELSE 1 END,
                     c.urgent DESC, c.created_at, c.id
            LIMIT 1"#,
        after,
        article_id
    )
    .fetch_optional(db)
    .await
}

/// The comment after `after` in the waiting queue's order (urgent first, then oldest first),
/// starting again from the top once past the end; `None` when no other is waiting.
pub async fn next_waiting(
    db: impl PgExecutor<'_>,
    after: i64,
    article_id: Option<i64>,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        r#"WITH here AS (SELECT urgent, created_at FROM comments WHERE id = $1)
           SELECT c.id FROM comments c LEFT JOIN here h ON true
            WHERE c.status = 'pending' AND c.id <> $1
              AND ($2::bigint IS NULL OR c.article_id = $2)
            ORDER BY CASE WHEN h.urgent IS NULL
                            OR c.urgent < h.urgent
                            OR (c.urgent = h.urgent AND (c.created_at > h.created_at
                                OR (c.created_at = h.created_at AND c.id < $1)))
                          THEN 0 ELSE 1 END,
                     c.urgent DESC, c.created_at, c.id DESC
            LIMIT 1"#,
        after,
        article_id
    )
    .fetch_optional(db)
    .await
}

/// A published question no staff reply answers yet.
pub struct AwaitingRow {
    pub id: i64,
    pub article_slug: String,
    pub article_title: String,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub urgent: bool,
    /// Still waiting for moderation: passed to a midwife, not published.
    pub waiting: bool,
}

/// Published guests' top-level comments, and waiting comments passed to a midwife, with no
/// published staff reply under them and not marked as needing none: urgent first, then oldest
/// first.
pub async fn awaiting(
    db: impl PgExecutor<'_>,
    article_id: Option<i64>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<AwaitingRow>> {
    sqlx::query_as!(
        AwaitingRow,
        r#"SELECT c.id, a.slug AS article_slug, a.title AS article_title, c.author_name, c.body,
                  c.created_at AS "created_at: DateTime<Utc>", c.urgent,
                  c.status = 'pending' AS "waiting!"
             FROM comments c
             JOIN articles a ON a.id = c.article_id
            WHERE ((c.status = 'published' AND c.parent_id IS NULL)
                   OR (c.status = 'pending' AND c.passed_to_midwife_at IS NOT NULL))
              AND c.author_kind = 'guest' AND c.no_reply_needed_at IS NULL
              AND ($1::bigint IS NULL OR c.article_id = $1)
              AND NOT EXISTS (SELECT 1 FROM comments r
                               WHERE r.parent_id = c.id AND r.author_kind = 'staff' AND r.status = 'published')
            ORDER BY c.urgent DESC, c.created_at, c.id
            LIMIT $2 OFFSET $3"#,
        article_id,
        limit,
        offset
    )
    .fetch_all(db)
    .await
}

/// How many questions await a staff reply (up to [`COUNT_CAP`]).
pub async fn awaiting_count(db: impl PgExecutor<'_>, article_id: Option<i64>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM (
             SELECT 1 FROM comments c
              WHERE ((c.status = 'published' AND c.parent_id IS NULL)
                     OR (c.status = 'pending' AND c.passed_to_midwife_at IS NOT NULL))
                AND c.author_kind = 'guest' AND c.no_reply_needed_at IS NULL
                AND ($1::bigint IS NULL OR c.article_id = $1)
                AND NOT EXISTS (SELECT 1 FROM comments r
                                 WHERE r.parent_id = c.id AND r.author_kind = 'staff' AND r.status = 'published')
              LIMIT $2) w"#,
        article_id,
        COUNT_CAP
    )
    .fetch_one(db)
    .await
}

/// Takes a published question off the awaiting list; `false` when it is not on it (already
/// marked, answered in the meantime, or not a published question).
pub async fn mark_no_reply_needed(tx: &mut PgConnection, id: i64, by: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE comments SET no_reply_needed_at = now(), no_reply_needed_by = $2
          WHERE id = $1 AND author_kind = 'guest' AND no_reply_needed_at IS NULL
            AND ((status = 'published' AND parent_id IS NULL)
                 OR (status = 'pending' AND passed_to_midwife_at IS NOT NULL))",
        id,
        by
    )
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The comment for an undo, locked so nothing changes it meanwhile: its status, the status before
/// its latest decision, and what names it to staff.
pub struct Undoable {
    pub status: CommentStatus,
    pub previous_status: Option<CommentStatus>,
    pub author_name: String,
    pub article_title: String,
}

pub async fn lock_for_undo(tx: &mut PgConnection, id: i64) -> sqlx::Result<Option<Undoable>> {
    sqlx::query_as!(
        Undoable,
        r#"SELECT c.status AS "status: CommentStatus", c.previous_status AS "previous_status: CommentStatus",
                  c.author_name, a.title AS article_title
             FROM comments c JOIN articles a ON a.id = c.article_id
            WHERE c.id = $1
              FOR UPDATE OF c"#,
        id
    )
    .fetch_optional(tx)
    .await
}

/// Puts comment `id` back to `to`, undoing `decision` (what it set is taken away again). The
/// caller has checked, under the lock, that nothing happened to the comment since.
pub async fn undo(
    tx: &mut PgConnection,
    id: i64,
    by: i64,
    decision: Decision,
    to: CommentStatus,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE comments
            SET status = $3,
                published_at = CASE WHEN $3 IN ('pending'::comment_status, 'spam'::comment_status)
                                    THEN NULL ELSE published_at END,
                hidden_reason = CASE WHEN $3 = 'hidden'::comment_status THEN hidden_reason END,
                handled_privately_at = CASE WHEN $5 THEN NULL ELSE handled_privately_at END,
                handled_privately_by = CASE WHEN $5 THEN NULL ELSE handled_privately_by END,
                private_note = CASE WHEN $5 THEN NULL ELSE private_note END,
                previous_status = NULL, moderated_by = $2, moderated_at = now()
          WHERE id = $1 AND status = $4",
        id,
        by,
        to as CommentStatus,
        decision.leads_to() as CommentStatus,
        decision == Decision::HandledPrivately
    )
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Who wrote comment `id` and on which article, to name it in a confirmation.
pub struct Label {
    pub author_name: String,
    pub article_title: String,
}

pub async fn label(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<Label>> {
    sqlx::query_as!(
        Label,
        "SELECT c.author_name, a.title AS article_title FROM comments c JOIN articles a ON a.id = c.article_id
          WHERE c.id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// Passes a waiting comment to a midwife; `false` when it is not waiting or was passed already.
pub async fn pass_to_midwife(tx: &mut PgConnection, id: i64, by: i64) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE comments SET passed_to_midwife_at = now(), passed_to_midwife_by = $2
          WHERE id = $1 AND status = 'pending' AND author_kind = 'guest' AND passed_to_midwife_at IS NULL",
        id,
        by
    )
    .execute(tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
