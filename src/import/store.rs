//! SQL for imports. Comments are copied into a temporary staging table first; then duplicates,
//! comments imported before and comments without an article are set aside, parents are resolved
//! (within the file, or among comments imported earlier) and everything is inserted with one
//! statement, in the caller's transaction.

use sqlx::{PgConnection, PgExecutor, postgres::PgCopyIn};

use super::{StaffAccount, StagingRow};

/// An active staff account by email, for the staff map.
pub async fn staff_account(db: impl PgExecutor<'_>, email: &str) -> sqlx::Result<Option<StaffAccount>> {
    sqlx::query_as!(
        StaffAccount,
        "SELECT id, display_name AS name FROM users WHERE lower(email) = lower($1) AND disabled_at IS NULL",
        email
    )
    .fetch_optional(db)
    .await
}

pub async fn create_staging(tx: &mut PgConnection) -> sqlx::Result<()> {
    // A temporary table is private to this connection and gone when the transaction ends.
    sqlx::query(
        "CREATE TEMPORARY TABLE import_staging (
             position bigint NOT NULL, source_id text NOT NULL, parent_source_id text,
             thread_key text NOT NULL, author_name text NOT NULL, author_email text,
             created_at timestamptz NOT NULL, status comment_status NOT NULL, body text NOT NULL,
             staff_user_id bigint, body_html text
         ) ON COMMIT DROP",
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Streams staging rows to the database with COPY, a buffer at a time.
pub struct CopyStaging<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    buffer: String,
}

impl<'c> CopyStaging<'c> {
    pub async fn start(tx: &'c mut PgConnection) -> sqlx::Result<Self> {
        let copy = tx
            .copy_in_raw(
                "COPY import_staging (position, source_id, parent_source_id, thread_key, author_name,
                     author_email, created_at, status, body, staff_user_id, body_html) FROM STDIN",
            )
            .await?;
        Ok(Self {
            copy,
            buffer: String::with_capacity(1 << 20),
        })
    }

    pub async fn push(&mut self, position: i64, row: &StagingRow) -> anyhow::Result<()> {
        use std::fmt::Write as _;
        let b = &mut self.buffer;
        let _ = write!(b, "{position}\t");
        field(b, Some(&row.source_id));
        field(b, row.parent_source_id.as_deref());
        field(b, Some(&row.thread_key));
        field(b, Some(&row.author_name));
        field(b, row.author_email.as_deref());
        field(b, Some(&row.created_at.to_rfc3339()));
        field(b, Some(row.status));
        field(b, Some(&row.body));
        field(b, row.staff_user_id.map(|id| id.to_string()).as_deref());
        field(b, row.body_html.as_deref());
        b.pop();
        b.push('\n');
        if b.len() > (1 << 20) {
            self.copy.send(std::mem::take(b).into_bytes()).await?;
        }
        Ok(())
    }

    pub async fn finish(mut self) -> sqlx::Result<()> {
        if !self.buffer.is_empty() {
            self.copy
                .send(std::mem::take(&mut self.buffer).into_bytes())
                .await?;
        }
        self.copy.finish().await?;
        Ok(())
    }

    pub async fn abort(self, why: &str) -> sqlx::Result<()> {
        self.copy.abort(why).await
    }
}

/// One field of COPY's text format, then a tab.
fn field(buffer: &mut String, value: Option<&str>) {
    match value {
        None => buffer.push_str("\\N"),
        Some(value) => {
            for c in value.chars() {
                match c {
                    '\\' => buffer.push_str("\\\\"),
                    '\t' => buffer.push_str("\\t"),
                    '\n' => buffer.push_str("\\n"),
                    '\r' => buffer.push_str("\\r"),
                    c => buffer.push(c),
                }
            }
        }
    }
    buffer.push('\t');
}

/// The articles already here for these pages (`keys[i]` at address `urls[i]`): the one imported
/// before from the same page, else one with the same address. Returns `(key, id)` for each found.
pub async fn find_articles(
    tx: &mut PgConnection,
    source: &str,
    keys: &[String],
    urls: &[String],
) -> sqlx::Result<Vec<(String, i64)>> {
    let found = sqlx::query!(
        r#"SELECT x.key AS "key!", a.id
             FROM unnest($2::text[], $3::text[]) AS x(key, url)
             CROSS JOIN LATERAL (
                 SELECT id FROM articles
                  WHERE (import_source = $1 AND import_id = x.key) OR url = x.url
                  ORDER BY (import_source = $1 AND import_id = x.key) DESC NULLS LAST, id
                  LIMIT 1) AS a"#,
        source,
        keys,
        urls
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(found.into_iter().map(|row| (row.key, row.id)).collect())
}

/// Creates articles for pages of `source`, all in one statement. A page whose slug is taken is
/// not created: the caller tries it again with another. Returns `(key, id)` for each created.
pub async fn create_articles(
    tx: &mut PgConnection,
    source: &str,
    new: &NewArticles,
) -> sqlx::Result<Vec<(String, i64)>> {
    let created = sqlx::query!(
        r#"INSERT INTO articles (slug, title, url, import_source, import_id)
           SELECT slug, title, url, $1, key FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])
                                                 AS x(key, slug, title, url)
           ON CONFLICT ON CONSTRAINT articles_slug_key DO NOTHING
           RETURNING import_id AS "key!", id"#,
        source,
        &new.keys,
        &new.slugs,
        &new.titles,
        &new.urls
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(created.into_iter().map(|row| (row.key, row.id)).collect())
}

/// Articles to create, column by column.
#[derive(Debug, Default)]
pub struct NewArticles {
    pub keys: Vec<String>,
    pub slugs: Vec<String>,
    pub titles: Vec<String>,
    pub urls: Vec<String>,
}

/// What storing the staged comments did.
#[derive(Debug, Default)]
pub struct Stored {
    pub no_article: u64,
    pub duplicates: u64,
    pub already_imported: u64,
    pub orphans: u64,
    pub published: u64,
    pub pending: u64,
    pub spam: u64,
    pub staff_replies: u64,
}

/// Stores the staged comments: everything below runs in the caller's transaction. Each step
/// writes a new temporary table rather than updating one, and only of keys: a million comments'
/// text is written once to the staging table and once to `comments`, never row by row.
pub async fn store_staged(
    tx: &mut PgConnection,
    source: &str,
    staged: i64,
    articles: &[(String, i64)],
    disclaimer: &str,
) -> sqlx::Result<Stored> {
    let (keys, ids): (Vec<String>, Vec<i64>) = articles.iter().cloned().unzip();
    // A million rows are sorted, joined and indexed below: in memory, not in files on disk,
    // for this transaction only.
    sqlx::query("SET LOCAL work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    // The first of each source id, with its article, and whether it was imported before: only
    // the keys are sorted, not the comments' text.
    sqlx::query(
        "CREATE TEMPORARY TABLE import_rows ON COMMIT DROP AS
         SELECT DISTINCT ON (s.source_id) s.position, s.source_id, s.parent_source_id, s.status,
                s.staff_user_id, a.id AS article_id,
                EXISTS (SELECT 1 FROM comments c WHERE c.import_source = $1 AND c.import_id = s.source_id) AS already
           FROM import_staging s
           LEFT JOIN unnest($2::text[], $3::bigint[]) AS a(thread_key, id) ON a.thread_key = s.thread_key
          ORDER BY s.source_id, s.position",
    )
    .bind(source)
    .bind(&keys)
    .bind(&ids)
    .execute(&mut *tx)
    .await?;
    let (distinct, no_article, already): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE article_id IS NULL),
                count(*) FILTER (WHERE article_id IS NOT NULL AND already)
           FROM import_rows",
    )
    .fetch_one(&mut *tx)
    .await?;
    // The new comments' ids, given now so that replies can name their parents; the text stays
    // in the staging table until the insert reads it once.
    sqlx::query(
        "CREATE TEMPORARY TABLE import_new ON COMMIT DROP AS
         SELECT r.*, nextval((SELECT pg_get_serial_sequence('comments', 'id'))::regclass) AS new_id
           FROM import_rows r WHERE r.article_id IS NOT NULL AND NOT r.already",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("CREATE INDEX ON import_new (source_id)")
        .execute(&mut *tx)
        .await?;
    sqlx::query("ANALYZE import_new").execute(&mut *tx).await?;
    // A parent in this file, or imported before; one on another page does not count.
    sqlx::query(
        "CREATE TEMPORARY TABLE import_parents ON COMMIT DROP AS
         SELECT n.new_id, coalesce(p.new_id, c.id) AS parent_id
           FROM import_new n
           LEFT JOIN import_new p ON p.source_id = n.parent_source_id AND p.article_id = n.article_id
           LEFT JOIN comments c ON c.import_source = $1 AND c.import_id = n.parent_source_id
                               AND c.article_id = n.article_id
          WHERE n.parent_source_id IS NOT NULL",
    )
    .bind(source)
    .execute(&mut *tx)
    .await?;
    sqlx::query("ANALYZE import_parents").execute(&mut *tx).await?;
    let (published, pending, spam, staff_replies): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'published'), count(*) FILTER (WHERE status = 'pending'),
                count(*) FILTER (WHERE status = 'spam'), count(*) FILTER (WHERE staff_user_id IS NOT NULL)
           FROM import_new",
    )
    .fetch_one(&mut *tx)
    .await?;
    let orphans: i64 = sqlx::query_scalar("SELECT count(*) FROM import_parents WHERE parent_id IS NULL")
        .fetch_one(&mut *tx)
        .await?;
    // One statement: a parent and its replies arrive together, in whatever order the file had.
    sqlx::query(
        "INSERT INTO comments (id, article_id, parent_id, author_kind, author_user_id, author_name, author_email,
                               body, body_html, disclaimer, status, created_at, published_at, spam_reason,
                               import_source, import_id, imported_at)
         OVERRIDING SYSTEM VALUE
         SELECT n.new_id, n.article_id, p.parent_id,
                CASE WHEN n.staff_user_id IS NULL THEN 'guest' ELSE 'staff' END::author_kind,
                n.staff_user_id, s.author_name, s.author_email, s.body, s.body_html,
                CASE WHEN n.staff_user_id IS NOT NULL THEN $2 END,
                n.status, s.created_at, CASE WHEN n.status = 'published' THEN s.created_at END,
                CASE WHEN n.status = 'spam' THEN 'Marked as spam in ' || $1 END,
                $1, n.source_id, now()
           FROM import_new n JOIN import_staging s ON s.position = n.position
           LEFT JOIN import_parents p ON p.new_id = n.new_id",
    )
    .bind(source)
    .bind(disclaimer)
    .execute(&mut *tx)
    .await?;
    // The trigger leaves imported comments to us: readers' pages change once per article.
    sqlx::query(
        "UPDATE articles SET comments_version = comments_version + 1
          WHERE id IN (SELECT DISTINCT article_id FROM import_new WHERE status = 'published')",
    )
    .execute(&mut *tx)
    .await?;
    let n = |v: i64| v as u64;
    Ok(Stored {
        no_article: n(no_article),
        duplicates: n(staged - distinct),
        already_imported: n(already),
        orphans: n(orphans),
        published: n(published),
        pending: n(pending),
        spam: n(spam),
        staff_replies: n(staff_replies),
    })
}

/// One page of a table as export lines, after id `after`. `table` and `without` are constants
/// from the export's own list, never input.
pub async fn export_page(
    tx: &mut PgConnection,
    kind: &str,
    table: &str,
    without: &str,
    after: i64,
) -> sqlx::Result<Vec<(i64, String)>> {
    let minus: String = without
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| format!(" - '{c}'"))
        .collect();
    sqlx::query_as(&format!(
        "SELECT id, (jsonb_build_object('type', $1::text) || (to_jsonb(t){minus}))::text
           FROM {table} t WHERE id > $2 ORDER BY id LIMIT 5000"
    ))
    .bind(kind)
    .bind(after)
    .fetch_all(tx)
    .await
}

/// Whether the database has no accounts, articles or comments yet.
pub async fn is_empty(db: impl PgExecutor<'_>) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT NOT (EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM articles)
                    OR EXISTS (SELECT 1 FROM comments)) AS "empty!""#
    )
    .fetch_one(db)
    .await
}

pub async fn create_export_staging(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query(
        "CREATE TEMPORARY TABLE export_staging (line_number bigint NOT NULL, kind text NOT NULL, line jsonb NOT NULL)
             ON COMMIT DROP",
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Streams the lines of an export to the staging table with COPY.
pub struct CopyLines<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    buffer: String,
}

impl<'c> CopyLines<'c> {
    pub async fn start(tx: &'c mut PgConnection) -> sqlx::Result<Self> {
        let copy = tx
            .copy_in_raw("COPY export_staging (line_number, kind, line) FROM STDIN")
            .await?;
        Ok(Self {
            copy,
            buffer: String::with_capacity(1 << 20),
        })
    }

    pub async fn push(&mut self, number: i64, kind: &str, line: &str) -> sqlx::Result<()> {
        use std::fmt::Write as _;
        let _ = write!(self.buffer, "{number}\t");
        field(&mut self.buffer, Some(kind));
        field(&mut self.buffer, Some(line));
        self.buffer.pop();
        self.buffer.push('\n');
        if self.buffer.len() > (1 << 20) {
            self.copy
                .send(std::mem::take(&mut self.buffer).into_bytes())
                .await?;
        }
        Ok(())
    }

    pub async fn finish(mut self) -> sqlx::Result<()> {
        if !self.buffer.is_empty() {
            self.copy
                .send(std::mem::take(&mut self.buffer).into_bytes())
                .await?;
        }
        self.copy.finish().await?;
        Ok(())
    }
}

/// Inserts the staged lines of one kind into `table` with their ids, in one statement (so a
/// reply may come before its parent), then moves the table's id sequence past them.
pub async fn insert_exported(tx: &mut PgConnection, kind: &str, table: &str) -> sqlx::Result<u64> {
    let inserted = sqlx::query(&format!(
        "INSERT INTO {table} OVERRIDING SYSTEM VALUE
         SELECT (jsonb_populate_record(NULL::{table}, line - 'type')).*
           FROM export_staging WHERE kind = $1 ORDER BY line_number"
    ))
    .bind(kind)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(&format!(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
    ))
    .execute(&mut *tx)
    .await?;
    Ok(inserted)
}

pub async fn restore_article_versions(tx: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE articles a SET comments_version = (s.line->>'comments_version')::bigint
           FROM export_staging s WHERE s.kind = 'article' AND (s.line->>'id')::bigint = a.id",
    )
    .execute(tx)
    .await?;
    Ok(())
}
