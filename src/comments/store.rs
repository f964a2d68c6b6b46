//! SQL for comments.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::{AuthorKind, CommentStatus, NewComment, ThreadRow};

/// A page of threads as one server had it at one moment: the article's `comments_version`, its
/// number of published top-level comments, and the page's comments in reading order.
pub struct ThreadSnapshot {
    pub version: i64,
    pub total_threads: i64,
    pub rows: Vec<ThreadRow>,
}

/// One row of [`thread_snapshot`]: the article's figures, and a comment unless the page is empty.
struct SnapshotRow {
    version: i64,
    total_threads: i64,
    id: Option<i64>,
    author_kind: Option<AuthorKind>,
    author_name: Option<String>,
    body: Option<String>,
    body_html: Option<String>,
    disclaimer: Option<String>,
    created_at: Option<DateTime<Utc>>,
    depth: Option<i32>,
    parent_name: Option<String>,
    edited_at: Option<DateTime<Utc>>,
}

impl SnapshotRow {
    fn into_thread_row(self) -> Option<ThreadRow> {
        Some(ThreadRow {
            id: self.id?,
            author_kind: self.author_kind?,
            author_name: self.author_name?,
            body: self.body?,
            body_html: self.body_html,
            disclaimer: self.disclaimer,
            created_at: self.created_at?,
            depth: self.depth?,
            parent_name: self.parent_name,
            edited_at: self.edited_at,
        })
    }
}

/// One page of an article's threads with the version and count they belong to, in one
/// statement, so in one snapshot of one server (a primary or a replica): the page is exactly the
/// version it says (see `reading::read_snapshot`). `None` when there is no such article.
///
/// Threads in reading order: top-level comments newest first, each followed by its published
/// replies, oldest first, depth first. Ids follow creation order, so a path of ids sorts replies
/// by age. A reply under a comment that is not published is not shown.
pub async fn thread_snapshot(
    db: impl PgExecutor<'_>,
    article_id: i64,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Option<ThreadSnapshot>> {
    let rows = sqlx::query_as!(
        SnapshotRow,
        // Every column is carried through the recursion, and a reply takes its parent's name from
        // the row above it, so nothing is joined afterwards: each step is an index lookup. The
        // article's one row is joined to the page, so an empty page still says its version.
        r#"WITH RECURSIVE article AS (
               SELECT a.comments_version,
                      (SELECT count(*) FROM comments c
                        WHERE c.article_id = a.id AND c.parent_id IS NULL AND c.status = 'published') AS total_threads
                 FROM articles a
                WHERE a.id = $1
           ), roots AS (
               SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS position
                 FROM comments
                WHERE article_id = $1 AND parent_id IS NULL AND status = 'published'
                ORDER BY created_at DESC, id DESC
                LIMIT $2 OFFSET $3
           ), tree AS (
               SELECT c.id, c.author_kind, c.author_name, c.body, c.body_html, c.disclaimer, c.created_at, c.edited_at,
                      1 AS depth, ARRAY[r.position, c.id] AS path, NULL::text AS parent_name
                 FROM roots r JOIN comments c ON c.id = r.id
               UNION ALL
               SELECT c.id, c.author_kind, c.author_name, c.body, c.body_html, c.disclaimer, c.created_at, c.edited_at,
                      t.depth + 1, t.path || c.id, t.author_name
                 FROM tree t JOIN comments c ON c.parent_id = t.id AND c.status = 'published'
           )
           SELECT article.comments_version AS "version!", article.total_threads AS "total_threads!",
                  tree.id AS "id?", tree.author_kind AS "author_kind?: AuthorKind", tree.author_name AS "author_name?",
                  tree.body AS "body?", tree.body_html AS "body_html?", tree.disclaimer AS "disclaimer?",
                  tree.created_at AS "created_at?: DateTime<Utc>", tree.depth AS "depth?",
                  tree.parent_name AS "parent_name?", tree.edited_at AS "edited_at?: DateTime<Utc>"
             FROM article LEFT JOIN tree ON true
            ORDER BY tree.path"#,
        article_id,
        limit,
        offset
    )
    .fetch_all(db)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let (version, total_threads) = (first.version, first.total_threads);
    Ok(Some(ThreadSnapshot {
        version,
        total_threads,
        rows: rows
            .into_iter()
            .filter_map(SnapshotRow::into_thread_row)
            .collect(),
    }))
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

/// A published guest comment on this article, which readers may report. Staff replies are not
/// reportable.
pub async fn find_reportable(
    db: impl PgExecutor<'_>,
    article_id: i64,
    comment_id: i64,
) -> sqlx::Result<Option<ReplyTarget>> {
    sqlx::query_as!(
        ReplyTarget,
        "SELECT id, author_name, body FROM comments
          WHERE id = $1 AND article_id = $2 AND status = 'published' AND author_kind = 'guest'",
        comment_id,
        article_id
    )
    .fetch_optional(db)
    .await
}

/// A guest's post as the database checks and files it.
pub struct Posting<'a> {
    pub article_id: i64,
    pub comment: &'a NewComment,
    pub urgent_signs: &'a [String],
    pub client_hash: &'a [u8],
    /// Names the submitted form (see `safety::spam::FormUse`); `None` when its stamp was
    /// missing or forged.
    pub submission_key: Option<&'a [u8]>,
    /// Names one address's use of a form for one reply target, whatever was written (see
    /// `safety::spam::FormUse`); `None` when its stamp was missing or forged.
    pub stamp_hash: Option<&'a [u8]>,
    /// The hash of the reader's private status link, and when it stops working: stored with
    /// the comment, in the same statement.
    pub status_link: (&'a [u8], DateTime<Utc>),
    /// Why it is spam, whatever the database knows (a filled hidden field, a bad stamp).
    pub spam_first: Option<&'a str>,
    /// Why its words are spam (too many links, a banned phrase), weighed after the form's reuse.
    pub spam_words: Option<&'a str>,
    pub limits: &'a PostingLimits<'a>,
}

/// What a post is held to, and the words of the reasons the database decides.
pub struct PostingLimits<'a> {
    pub per_address: i64,
    pub per_article: i64,
    pub per_form: i64,
    pub repeat_since: DateTime<Utc>,
    pub rate_since: DateTime<Utc>,
    pub seen_since: DateTime<Utc>,
    pub form_reused: &'a str,
    pub seen_before: &'a str,
}

/// What the database knew of a post, and what it did.
#[derive(Debug)]
pub struct Posted {
    /// The same text from the same address on this article within the repeat window: a double
    /// click or a retry. Nothing was stored.
    pub repeat: bool,
    /// Comments from this address, and on this article, within the rate window, before this
    /// one. Comments filed as spam do not count against an article: a flood of spam must not
    /// turn real readers away. At a limit nothing was stored.
    pub by_client: i64,
    pub on_article: i64,
    /// The parent, if any, is a published comment on the same article; it is locked until the
    /// transaction ends so it cannot be hidden half-way. When it is not, nothing was stored.
    pub parent_ok: bool,
    /// Why it was filed as spam, if it was.
    pub spam_reason: Option<String>,
    /// The stored comment; `None` with every check passed means this form was stored before.
    pub id: Option<i64>,
}

/// Checks a guest's post and, when it passes, stores it (pending, or spam) with its status link,
/// by the `post_guest_comment` function (migration `20261202000025`): it takes the advisory
/// locks on `lock_keys` (the poster's address and the article), so the checks and the insert of
/// one address and of one article never interleave with another post's, then checks and stores
/// in one statement. On the pool it is its own transaction (one round trip); inside a
/// transaction the locks are held until that commits. Keys are numbers, never text from a
/// request.
pub async fn post_guest_comment(
    db: impl PgExecutor<'_>,
    lock_keys: &[i64],
    post: &Posting<'_>,
) -> sqlx::Result<Posted> {
    let (link_hash, link_expires) = post.status_link;
    let limits = post.limits;
    sqlx::query_as!(
        Posted,
        r#"SELECT repeat AS "repeat!", by_client AS "by_client!", on_article AS "on_article!",
                  parent_ok AS "parent_ok!", spam_reason, id
             FROM post_guest_comment($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                                     $15, $16, $17, $18, $19, $20, $21, $22, $23)"#,
        lock_keys,
        post.article_id,
        post.client_hash,
        post.comment.body,
        limits.repeat_since as _,
        limits.rate_since as _,
        limits.seen_since as _,
        post.stamp_hash,
        post.submission_key,
        post.comment.parent_id,
        post.spam_first,
        limits.per_form,
        limits.form_reused,
        post.spam_words,
        limits.seen_before,
        post.comment.author_name,
        post.comment.author_email,
        !post.urgent_signs.is_empty(),
        post.urgent_signs,
        limits.per_address,
        limits.per_article,
        link_hash,
        link_expires as _
    )
    .fetch_one(db)
    .await
}

#[derive(Debug, PartialEq, Eq)]
pub enum Reported {
    Recorded,
    /// This reader had already reported it.
    AlreadyReported,
    /// The report that sent it back to the queue.
    ReturnedToQueue,
    /// There is no such published guest comment on this article (staff replies are not
    /// reported: they carry no report link, and readers cannot send them back to the queue).
    NotAvailable,
}

/// Records one reader's report; at `threshold` reports a published comment returns to the queue,
/// hidden from readers until a moderator decides.
pub async fn report(
    tx: &mut PgConnection,
    article_id: i64,
    comment_id: i64,
    client_hash: &[u8],
    reason: &str,
    threshold: i32,
) -> sqlx::Result<Reported> {
    let exists = sqlx::query_scalar!(
        "SELECT id FROM comments
          WHERE id = $1 AND article_id = $2 AND status = 'published' AND author_kind = 'guest'
            FOR UPDATE",
        comment_id,
        article_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if exists.is_none() {
        return Ok(Reported::NotAvailable);
    }
    let inserted = sqlx::query!(
        "INSERT INTO comment_reports (comment_id, client_hash, reason) VALUES ($1, $2, $3)
         ON CONFLICT ON CONSTRAINT comment_reports_once DO NOTHING",
        comment_id,
        client_hash,
        reason
    )
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(Reported::AlreadyReported);
    }
    let count = sqlx::query_scalar!(
        "UPDATE comments SET report_count = report_count + 1 WHERE id = $1 RETURNING report_count",
        comment_id
    )
    .fetch_one(&mut *tx)
    .await?;
    if count >= threshold {
        sqlx::query!("UPDATE comments SET status = 'pending' WHERE id = $1", comment_id)
            .execute(&mut *tx)
            .await?;
        return Ok(Reported::ReturnedToQueue);
    }
    Ok(Reported::Recorded)
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

/// A reader's own comment, found by its status link.
pub struct OwnComment {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub status: super::CommentStatus,
    pub created_at: DateTime<Utc>,
    pub article_slug: String,
    pub article_title: String,
}

pub async fn find_by_status_link(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> sqlx::Result<Option<OwnComment>> {
    sqlx::query_as!(
        OwnComment,
        r#"SELECT c.id, c.parent_id, c.author_name, c.body, c.status AS "status: super::CommentStatus",
                  c.created_at AS "created_at: DateTime<Utc>", a.slug AS article_slug, a.title AS article_title
             FROM comments c JOIN articles a ON a.id = c.article_id
            WHERE c.status_token_hash = $1 AND c.status_link_expires_at > now()"#,
        token_hash
    )
    .fetch_optional(db)
    .await
}

/// Published replies under comment `id`, oldest first, as the thread shows them.
pub async fn published_replies(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Vec<ThreadRow>> {
    sqlx::query_as!(
        ThreadRow,
        r#"SELECT id, author_kind AS "author_kind: AuthorKind", author_name, body, body_html, disclaimer,
                  created_at AS "created_at: DateTime<Utc>", 2 AS "depth!", NULL::text AS parent_name,
                  edited_at AS "edited_at: DateTime<Utc>"
             FROM comments WHERE parent_id = $1 AND status = 'published' ORDER BY created_at, id"#,
        id
    )
    .fetch_all(db)
    .await
}

/// An article whose public pages shared caches should drop.
pub struct DuePurge {
    pub article_id: i64,
    pub slug: String,
}

/// Takes (and forgets) up to `limit` articles whose pages changed at least `settle_seconds` ago:
/// by then every process shows the change, so a cache that asks again gets the new page. Rows
/// another process is taking are skipped.
pub async fn take_purges(
    db: impl PgExecutor<'_>,
    settle_seconds: f64,
    limit: i64,
) -> sqlx::Result<Vec<DuePurge>> {
    sqlx::query_as!(
        DuePurge,
        r#"WITH due AS (
               SELECT article_id FROM cache_purges
                WHERE changed_at <= now() - make_interval(secs => $1)
                ORDER BY changed_at
                LIMIT $2
                  FOR UPDATE SKIP LOCKED
           )
           DELETE FROM cache_purges p USING due, articles a
            WHERE p.article_id = due.article_id AND a.id = p.article_id
           RETURNING p.article_id, a.slug"#,
        settle_seconds,
        limit
    )
    .fetch_all(db)
    .await
}

/// Puts back a purge that could not be sent, to be tried again.
pub async fn requeue_purge(db: impl PgExecutor<'_>, article_id: i64) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO cache_purges (article_id) VALUES ($1)
         ON CONFLICT ON CONSTRAINT cache_purges_pkey DO NOTHING",
        article_id
    )
    .execute(db)
    .await?;
    Ok(())
}
