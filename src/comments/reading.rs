//! The read side of a thread page: the article (through the memo), its published threads
//! (through the cache, rendered once per version) and the page around them.

use std::sync::Arc;

use askama::Template;
use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, header},
    response::{Html, IntoResponse, Response},
};

use super::{
    CommentStatus, Context,
    cache::{PageBytes, ThreadData},
    store,
    text::Segment,
    thread::layout,
    view::{
        Banner, CommentView, EmbedFrame, FormView, PageLink, SafetyMessage, StaffNotice, StatusComment,
        StatusPage, ThreadList, ThreadPage, ThreadQuery, rendering,
    },
};
use crate::{
    articles::{self, Article},
    db::Reads,
    error::{AppError, Result},
    safety::triage::Category,
    web::caching::Sharing,
};

/// The article for a reader's page: from the memo when it was read a moment ago (see
/// `articles::memo`), otherwise from a replica in use.
pub async fn load_article(ctx: &Context, slug: &str) -> Result<Article> {
    load_article_from(ctx, &ctx.reads, slug).await
}

/// The article for posting or reporting: from the memo, otherwise from the primary, where the
/// change will be written.
pub async fn load_article_to_write(ctx: &Context, slug: &str) -> Result<Article> {
    load_article_from(ctx, &ctx.reads.on_primary(), slug).await
}

async fn load_article_from(ctx: &Context, reads: &Reads, slug: &str) -> Result<Article> {
    if let Some(article) = ctx.articles.get(slug) {
        return Ok(article);
    }
    let read = ctx.articles.reading();
    let article = reads
        .run(|db| async move { articles::store::find_by_slug(&db, slug).await })
        .await?
        .ok_or(AppError::NotFound)?;
    // The settings' version comes with the article: read them again only when they changed.
    crate::settings::service::keep_up(&ctx.db, &ctx.config, article.settings_version).await?;
    ctx.articles.put(&article, read);
    Ok(article)
}

/// What a page takes beyond its list of comments: the article, the notice, the form.
const PAGE_AROUND_BYTES: usize = 16 * 1024;

/// A page of the thread that every reader is shown alike (see [`sharing`]), as bytes, with the
/// policy naming it: the bytes sent to the last reader when they are still the page that policy
/// names, else rendered now and kept for the next reader. `sharing` is the article's policy as
/// the memo has it; the page is named by the version its threads were read at (see
/// [`thread_page`]), so it is worked out again only when the two differ. A page answering
/// `?reply_to=` is rendered each time (it is rarely asked for twice, and it reads the comment
/// answered).
pub async fn shared_page(
    ctx: &Context,
    mut article: Article,
    (query, sharing): (&ThreadQuery, Sharing),
    (frame, who): (Option<EmbedFrame>, (bool, bool)),
    now: i64,
) -> Result<(Arc<PageBytes>, Sharing)> {
    let page = query.page();
    let thread = load_threads(ctx, &article, page).await?;
    let sharing = if thread.version == article.comments_version {
        sharing
    } else {
        article.comments_version = thread.version;
        self::sharing(ctx, &article, query, who, now)
    };
    let etag = match &sharing {
        Sharing::Public { etag, .. } if query.reply_to.is_none() => Some(etag.as_str()),
        _ => None,
    };
    let slot = &thread.pages[rendering(article.comments_open, frame.is_some())];
    if let Some(page) = etag.and_then(|etag| slot.get(etag)) {
        return Ok((page, sharing));
    }
    let form = fresh_form(ctx, &article, query, now).await?;
    render_list(ctx, &article, page, &thread, (frame.is_some(), false))?;
    let view = assemble(
        ctx,
        article,
        page,
        Arc::clone(&thread),
        form,
        (Banner::None, frame),
        None,
    );
    let bytes = Bytes::from(
        view.render()
            .map_err(|e| AppError::Other(anyhow::Error::new(e).context("thread page")))?,
    );
    let page = match etag {
        Some(etag) => slot.put(etag, bytes),
        None => Arc::new(PageBytes::new(bytes)),
    };
    Ok((page, sharing))
}

/// A shared page as sent: compressed with gzip when the reader's browser takes it (once for every
/// reader, see [`PageBytes`]), named by `sharing`.
pub fn page_response(page: &PageBytes, gzip: bool, sharing: &Sharing) -> Response {
    let mut response = if gzip {
        let mut response = Html(page.gzip()).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        Html(page.plain.clone()).into_response()
    };
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    sharing.apply(response)
}

/// The first page of an article's thread as every reader is shown it, when all it is made of is
/// in memory: the article in the memo, its threads in the cache at that same version, and the page
/// rendered for the current form window. The same answer the handler would give (304 included);
/// `None` when anything is missing, and the request then goes the usual way, which loads it.
/// Nothing here waits for the database.
pub async fn first_page_from_memory(
    ctx: &Context,
    slug: &str,
    request: &HeaderMap,
    gzip: bool,
) -> Option<Response> {
    let article = ctx.articles.peek(slug)?;
    let query = ThreadQuery::default();
    let sharing = sharing(
        ctx,
        &article,
        &query,
        (false, false),
        chrono::Utc::now().timestamp(),
    );
    let Sharing::Public { etag, .. } = &sharing else {
        return None;
    };
    if let Some(not_modified) = sharing.not_modified(request) {
        crate::monitoring::cache_lookup("article", true);
        return Some(not_modified);
    }
    let thread = ctx
        .threads
        .get(article.id, query.page(), article.comments_version)
        .await?;
    if thread.version != article.comments_version {
        return None;
    }
    let page = thread.pages[rendering(article.comments_open, false)].get(etag)?;
    crate::monitoring::cache_lookup("article", true);
    crate::monitoring::cache_lookup("thread", true);
    Some(page_response(&page, gzip, &sharing))
}

/// The article's page of published threads, with the version and count it belongs to, read in
/// one statement (so one snapshot) on one server: a replica in use, or the primary.
///
/// The thread cache files a page under the article's `comments_version`, so the two must agree.
/// Read apart, a version from the primary (or from a replica further ahead, or from the memo) could
/// file a lagging replica's older page under the newer version, and keep it there until the next
/// change. Read together, the page is exactly the version it says, wherever it came from.
pub async fn read_snapshot(
    reads: &Reads,
    article_id: i64,
    per_page: u32,
    page: u32,
) -> Result<store::ThreadSnapshot> {
    let limit = i64::from(per_page);
    let offset = i64::from(page.saturating_sub(1)) * limit;
    reads
        .run(|db| async move { store::thread_snapshot(&db, article_id, limit, offset).await })
        .await?
        .ok_or(AppError::NotFound)
}

/// A page of the thread with `form` and `banner`.
pub async fn thread_page(
    ctx: &Context,
    mut article: Article,
    page: u32,
    form: FormView,
    (banner, embed): (Banner, Option<EmbedFrame>),
) -> Result<ThreadPage> {
    let thread = load_threads(ctx, &article, page).await?;
    // The page says which version it shows (its ETag names it): the one its threads were read
    // at, which a replica behind the memo's source may make older, or the cache newer.
    article.comments_version = thread.version;
    // Kept from before the article was closed or reopened: render it as it is now.
    render_list(ctx, &article, page, &thread, (embed.is_some(), false))?;
    Ok(assemble(ctx, article, page, thread, form, (banner, embed), None))
}

/// A page of the thread for a member of staff signed in on this browser (`role`, as "a
/// midwife"). What they see is not what readers see (each Reply goes to the comment's page on
/// the dashboard, and there is no guest form), so it is read fresh and never taken from or put
/// in the shared thread cache: from the primary, like everything staff read.
pub async fn staff_thread_page(
    ctx: &Context,
    slug: &str,
    query: &ThreadQuery,
    role: &'static str,
) -> Result<ThreadPage> {
    let page = query.page();
    let article = articles::store::find_by_slug(&ctx.db, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let thread = read_threads(ctx, &ctx.reads.on_primary(), article.id, page).await?;
    render_list(ctx, &article, page, &thread, (false, true))?;
    let reply_to = query
        .reply_to
        .as_deref()
        .and_then(|id| id.trim().parse::<i64>().ok());
    let notice = StaffNotice {
        role,
        reply_href: reply_to.map(|id| format!("/moderation/comments/{id}#reply")),
    };
    let form = FormView::default();
    Ok(assemble(
        ctx,
        article,
        page,
        thread,
        form,
        (Banner::None, None),
        Some(notice),
    ))
}

/// The page around a list of threads.
fn assemble(
    ctx: &Context,
    article: Article,
    page: u32,
    thread: Arc<ThreadData>,
    form: FormView,
    (banner, embed): (Banner, Option<EmbedFrame>),
    staff: Option<StaffNotice>,
) -> ThreadPage {
    let per_page = i64::from(ctx.config.threads_per_page);
    let page_count = u32::try_from((thread.total_threads + per_page - 1) / per_page).unwrap_or(u32::MAX);
    let mut page_view = ThreadPage {
        article,
        notice: ctx.config.site_text().notice(),
        thread,
        page,
        pages: Vec::new(),
        banner,
        form,
        embed,
        staff,
    };
    page_view.pages = (1..=page_count)
        .map(|number| PageLink {
            number,
            href: page_view.thread_href(number),
            current: number == page,
        })
        .collect();
    page_view
}

/// One page of published threads, from the cache while the article's comments are unchanged (or
/// newer there), otherwise from a replica in use.
async fn load_threads(ctx: &Context, article: &Article, page: u32) -> Result<Arc<ThreadData>> {
    ctx.threads
        .get_or_load(article.id, page, article.comments_version, || {
            read_threads(ctx, &ctx.reads, article.id, page)
        })
        .await
}

/// One page of published threads, laid out, with the version they were read at.
async fn read_threads(ctx: &Context, reads: &Reads, article_id: i64, page: u32) -> Result<Arc<ThreadData>> {
    let store::ThreadSnapshot {
        version,
        total_threads,
        rows,
    } = read_snapshot(reads, article_id, ctx.config.threads_per_page, page).await?;
    let rows = rows
        .into_iter()
        .map(|row| {
            let depth = u32::try_from(row.depth).unwrap_or(1);
            (CommentView::new(row, &ctx.config), depth)
        })
        .collect::<Vec<_>>();
    // The rendered list takes about twice the text again, and the page sent about as much.
    let bytes = rows_bytes(&rows) * 4 + PAGE_AROUND_BYTES;
    let data = ThreadData {
        version,
        items: layout(rows, ctx.config.max_depth),
        total_threads,
        bytes,
        rendered: Default::default(),
        pages: Default::default(),
    };
    Ok(Arc::new(data))
}

/// Renders the page's list of comments once, for the article as it is now (open or closed) and
/// where it is shown (its own page or a frame). A list rendered `for_staff` is only ever put in
/// a page's own data, never in the cache's.
fn render_list(
    ctx: &Context,
    article: &Article,
    page: u32,
    thread: &ThreadData,
    (embed, for_staff): (bool, bool),
) -> Result<()> {
    let cell = &thread.rendered[rendering(article.comments_open, embed)];
    if cell.get().is_none() {
        let site = ctx.config.site_text();
        let list = ThreadList {
            items: &thread.items,
            slug: &article.slug,
            page,
            comments_open: article.comments_open,
            verified_badge: &site.verified_badge,
            embed,
            for_staff,
        };
        let html = list
            .render()
            .map_err(|e| AppError::Other(anyhow::Error::new(e).context("thread list")))?;
        let _ = cell.set(html);
    }
    Ok(())
}

/// About what a page of comments takes in memory: their text (kept as segments) and names.
fn rows_bytes(rows: &[(CommentView, u32)]) -> usize {
    rows.iter()
        .map(|(c, _)| {
            let text: usize = c
                .body
                .paragraphs
                .iter()
                .flatten()
                .flatten()
                .map(|s| match s {
                    Segment::Text(t) | Segment::Link(t) | Segment::Mark(t, _) => t.len() + 32,
                })
                .sum();
            text + c.author_name.len() + c.staff_reply.as_ref().map_or(0, |(h, d)| h.len() + d.len()) + 256
        })
        .sum()
}

/// The query of the thread page after a post; anything else is ignored.
pub fn banner_for(ctx: &Context, query: &ThreadQuery) -> Banner {
    // Only something shaped like a link we make: 32 random bytes, base64url.
    let link = query
        .status
        .as_deref()
        .filter(|t| {
            t.len() == 43
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(|token| format!("{}/status/{token}", ctx.config.public_url));
    match (query.posted.as_deref(), query.reported.as_deref()) {
        (Some(posted), _) if posted.starts_with("safety") => {
            // `safety-999` and the like: that category's message; `safety`: the configured one.
            let category = posted.strip_prefix("safety-").and_then(Category::parse);
            let site = ctx.config.site_text();
            let message = site.safety_message(category);
            Banner::PostedWithSafety(SafetyMessage::new(message), link)
        }
        (Some(_), _) => Banner::Posted(link),
        (_, Some("queue" | "1")) => {
            Banner::Reported("Thank you for telling us. A moderator will look at this comment.")
        }
        (_, Some("again")) => Banner::Reported(
            "You have already reported this comment. Thank you: a moderator will look at it.",
        ),
        _ => Banner::None,
    }
}

/// Whether a page of the thread may be kept by shared caches. A page after something the reader
/// did (posted, reported: their private link may be in the address) and any page for signed-in
/// staff is private. Otherwise it is the same for every reader, and known by what it is made
/// of: the article, the version of its comments, the page asked for, and the form's window.
pub fn sharing(
    ctx: &Context,
    article: &Article,
    query: &ThreadQuery,
    (embed, staff): (bool, bool),
    now: i64,
) -> Sharing {
    let after_an_action = query.posted.is_some() || query.reported.is_some() || query.status.is_some();
    if after_an_action || staff {
        return Sharing::Private;
    }
    let window = window_start(ctx, now).to_be_bytes();
    Sharing::public(
        ctx.config.shared_cache_seconds,
        &[
            env!("CARGO_PKG_VERSION").as_bytes(),
            &article.id.to_be_bytes(),
            &article.comments_version.to_be_bytes(),
            &article.settings_version.to_be_bytes(),
            article.slug.as_bytes(),
            article.title.as_bytes(),
            article.url.as_bytes(),
            &[u8::from(article.comments_open), u8::from(embed)],
            &query.page().to_be_bytes(),
            query.reply_to.as_deref().unwrap_or_default().as_bytes(),
            &window,
        ],
    )
}

/// When the form window holding `now` began.
fn window_start(ctx: &Context, now: i64) -> i64 {
    now - now.rem_euclid(ctx.config.form_window_seconds())
}

/// The form as a reader first sees it: empty, with the window's stamp (the same for everyone
/// shown the thread within the window), answering `?reply_to=` when that comment is there to
/// answer.
pub async fn fresh_form(ctx: &Context, article: &Article, query: &ThreadQuery, now: i64) -> Result<FormView> {
    let window = ctx.config.form_window_seconds();
    let mut form = FormView {
        stamp: crate::safety::spam::window_stamp(&ctx.stamp_key, now, window),
        ..Default::default()
    };
    if let Some(reply_to) = query
        .reply_to
        .as_deref()
        .and_then(|id| id.trim().parse::<i64>().ok())
    {
        let found = ctx
            .reads
            .run(|db| async move { store::find_reply_target(&db, article.id, reply_to).await })
            .await?;
        match found {
            Some(target) => form.replying_to = Some(target.into()),
            None => {
                form.problem = Some(
                    "The comment you wanted to reply to is not available any more. You can still add a new comment.",
                )
            }
        }
    }
    Ok(form)
}

/// The private page behind a status link.
pub async fn status_page(ctx: &Context, token: &str) -> Result<StatusPage> {
    let badge = ctx.config.site_text().verified_badge.clone();
    let Some(own) = store::find_by_status_link(&ctx.db, &crate::accounts::tokens::hash(token)).await? else {
        return Ok(StatusPage {
            comment: None,
            state: "waiting",
            replies: Vec::new(),
            verified_badge: badge,
        });
    };
    let state = match own.status {
        CommentStatus::Published => "published",
        CommentStatus::Hidden => "not-published",
        CommentStatus::Pending | CommentStatus::Spam => "waiting",
    };
    let replies = store::published_replies(&ctx.db, own.id).await?;
    let local = own.created_at.with_timezone(&ctx.config.timezone);
    Ok(StatusPage {
        comment: Some(StatusComment {
            id: own.id,
            article_slug: own.article_slug,
            article_title: own.article_title,
            author_name: own.author_name,
            body: super::text::PlainText::new(&own.body),
            posted_on: local.format("%d %b %Y - %H:%M").to_string(),
            posted_at_iso: own.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }),
        state,
        replies: replies
            .into_iter()
            .map(|row| CommentView::new(row, &ctx.config))
            .collect(),
        verified_badge: badge,
    })
}
