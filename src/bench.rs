//! `carethread bench-data`: realistic comment data in bulk, for benchmarks.
//!
//! Comments are written with COPY into a staging table with ids of our own, then moved into
//! `comments` in one statement, so a million comments take seconds. Thread shapes follow what
//! comment sections look like: most comments start a thread, the rest answer an earlier comment on
//! the same article, a little deeper each time; bodies run from a line to several paragraphs.
//! One article, `bench-hot`, gets exactly 200 published comments; 1,000 more wait in the queue.

use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sqlx::PgPool;

pub const HOT_SLUG: &str = "bench-hot";
const HOT_COMMENTS: usize = 200;
const PENDING_COMMENTS: usize = 1_000;

const WORDS: &[&str] = &[
    "thank", "you", "for", "this", "page", "it", "helped", "me", "so", "much", "after", "we", "lost", "our",
    "baby", "at", "weeks", "I", "still", "feel", "tired", "and", "sad", "some", "days", "is", "that",
    "normal", "how", "long", "did", "the", "bleeding", "last", "my", "partner", "has", "been", "kind", "but",
    "quiet", "talking", "here", "helps", "midwife", "said", "rest", "walk", "gently", "time", "when", "can",
    "try", "again", "sending", "love", "everyone",
];

/// What was loaded.
pub struct Loaded {
    pub articles: usize,
    pub comments: usize,
}

pub async fn load(pool: &PgPool, articles: usize, comments: usize) -> anyhow::Result<Loaded> {
    anyhow::ensure!(articles >= 1, "--articles must be at least 1");
    anyhow::ensure!(
        comments >= HOT_COMMENTS + PENDING_COMMENTS,
        "--comments must be at least {} (the hot article and the waiting queue)",
        HOT_COMMENTS + PENDING_COMMENTS
    );
    let mut rng = StdRng::seed_from_u64(20_261_125);
    let mut conn = pool.acquire().await?;

    // Articles: bench-hot first, then bench-1 … bench-N-1.
    let first_article: i64 = sqlx::query_scalar(
        "INSERT INTO articles (slug, title, url)
         SELECT CASE WHEN n = 0 THEN 'bench-hot' ELSE 'bench-' || n END,
                CASE WHEN n = 0 THEN 'A busy article' ELSE 'Benchmark article ' || n END,
                'https://example.org/bench/' || n
           FROM generate_series(0, $1 - 1) AS n
         RETURNING id",
    )
    .bind(articles as i64)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .min()
    .unwrap_or(0);

    sqlx::query(
        "CREATE TEMP TABLE bench_comments (
            local_id bigint, article_id bigint, parent_local bigint, author_name text, body text,
            status comment_status, created_at timestamptz)",
    )
    .execute(&mut *conn)
    .await?;

    let progress = ProgressBar::new(comments as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} comments ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    let now = chrono::Utc::now();
    // Per article: the local ids of its published comments and their depths, to reply to.
    let mut threads: Vec<Vec<(u64, u32)>> = vec![Vec::new(); articles];
    let mut copy = conn.copy_in_raw("COPY bench_comments FROM STDIN").await?;
    let mut buffer = String::with_capacity(1 << 20);
    for n in 0..comments {
        let local = n as u64 + 1;
        let (article, status) = if n < HOT_COMMENTS {
            (0, "published")
        } else if n < HOT_COMMENTS + PENDING_COMMENTS {
            (rng.gen_range(0..articles), "pending")
        } else {
            let status = match rng.gen_range(0..100) {
                0..2 => "hidden",
                2..5 => "pending",
                _ => "published",
            };
            // Leave the hot article at exactly its 200.
            let article = if articles > 1 {
                rng.gen_range(1..articles)
            } else {
                0
            };
            (article, status)
        };
        let siblings = &threads[article];
        let reply_to = (!siblings.is_empty() && rng.gen_bool(0.4))
            .then(|| siblings[rng.gen_range(siblings.len().saturating_sub(20)..siblings.len())]);
        let parent = reply_to.filter(|(_, depth)| *depth < 6);
        let body = body(&mut rng);
        // Oldest first, half a minute apart: ids then follow creation order, as they do live.
        let created = now - chrono::Duration::seconds((comments - n) as i64 * 30);
        buffer.push_str(&format!(
            "{local}\t{}\t{}\tReader {}\t{body}\t{status}\t{}\n",
            first_article + article as i64,
            parent.map_or("\\N".to_owned(), |(id, _)| id.to_string()),
            rng.gen_range(1..5000),
            created.to_rfc3339()
        ));
        if status == "published" {
            let depth = parent.map_or(1, |(_, d)| d + 1);
            threads[article].push((local, depth));
        }
        if buffer.len() > (1 << 20) - 10_000 {
            copy.send(std::mem::take(&mut buffer).into_bytes()).await?;
        }
        if n % 1000 == 0 {
            progress.set_position(n as u64);
        }
    }
    copy.send(buffer.into_bytes()).await?;
    copy.finish().await?;
    progress.finish_and_clear();

    // Staging ids are in creation order; offset them past any comments already there.
    sqlx::query("ALTER TABLE comments DISABLE TRIGGER comments_bump_version_on_insert")
        .execute(&mut *conn)
        .await?;
    let base: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM comments")
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO comments (id, article_id, parent_id, author_kind, author_name, body, status, created_at, published_at)
         OVERRIDING SYSTEM VALUE
         SELECT $1 + local_id, article_id, $1 + parent_local, 'guest', author_name, body, status, created_at,
                CASE WHEN status = 'published' THEN created_at END
           FROM bench_comments ORDER BY local_id",
    )
    .bind(base)
    .execute(&mut *conn)
    .await?;
    sqlx::query("SELECT setval(pg_get_serial_sequence('comments', 'id'), (SELECT max(id) FROM comments))")
        .execute(&mut *conn)
        .await?;
    sqlx::query("ALTER TABLE comments ENABLE TRIGGER comments_bump_version_on_insert")
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE articles SET comments_version = comments_version + 1")
        .execute(&mut *conn)
        .await?;
    // As autovacuum would leave a live site's tables: statistics, and the visibility map that lets
    // index-only scans skip the table.
    sqlx::query("VACUUM (ANALYZE) comments")
        .execute(&mut *conn)
        .await?;
    sqlx::query("VACUUM (ANALYZE) articles")
        .execute(&mut *conn)
        .await?;
    Ok(Loaded { articles, comments })
}

fn body(rng: &mut StdRng) -> String {
    // Mostly a few sentences; sometimes several paragraphs.
    let words = match rng.gen_range(0..10) {
        0..6 => rng.gen_range(8..60),
        6..9 => rng.gen_range(60..160),
        _ => rng.gen_range(160..400),
    };
    let mut out = String::new();
    for i in 0..words {
        if i > 0 {
            // Paragraph breaks are escaped for COPY's text format.
            out.push_str(if i % 70 == 0 { "\\n\\n" } else { " " });
        }
        out.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
    }
    out.push('.');
    out
}

/// Serves `file`'s bytes, read once, as an HTML page at every path of `addr`, from a bare axum
/// router with no middleware: the most any page of the same size can be served at.
pub async fn ceiling(file: &std::path::Path, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use axum::{body::Bytes, response::Html};

    let page = Bytes::from(std::fs::read(file).with_context(|| format!("reading {}", file.display()))?);
    let app = axum::Router::new().fallback(move || {
        let page = page.clone();
        async move { Html(page) }
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    axum::serve(listener, app).await?;
    Ok(())
}
