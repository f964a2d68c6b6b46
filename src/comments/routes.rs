//! Readers' pages: a thread with its form, and posting a comment.

use askama::Template;
use axum::{
    Router,
    extract::{ConnectInfo, Path, Query, State},
    http::HeaderMap,
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_csrf::CsrfToken;
use serde::Deserialize;
use std::{net::SocketAddr, sync::Arc};

use super::{
    AuthorKind, CommentForm, CommentStatus, FormErrors, PARENT_UNAVAILABLE, ThreadRow,
    cache::ThreadData,
    store::{self, ReplyTarget, Reported, SubmitError},
    text::{PlainText, Segment},
    thread::layout,
};
use crate::web::form::StrictForm;
use crate::{
    articles::{self, Article},
    config::Config,
    error::{AppError, Result},
    safety::{
        spam,
        triage::{Category, Triage},
    },
    web::{AppState, page::render},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/articles/{slug}", get(show_thread))
        .route("/articles/{slug}/comments", axum::routing::post(submit_comment))
        .route(
            "/articles/{slug}/comments/{id}/report",
            get(show_report).post(submit_report),
        )
}

/// Query parameters are read leniently: a mistyped page number shows the first page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ThreadQuery {
    page: Option<String>,
    reply_to: Option<String>,
    posted: Option<String>,
    reported: Option<String>,
}

impl ThreadQuery {
    fn page(&self) -> u32 {
        self.page
            .as_deref()
            .and_then(|p| p.trim().parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    }
}

/// A comment as the template shows it.
pub struct CommentView {
    pub id: i64,
    pub author_name: String,
    pub is_guest: bool,
    /// A verified staff reply: its sanitised HTML and the disclaimer it was published with.
    pub staff_reply: Option<(String, String)>,
    pub posted_on: String,
    pub posted_at_iso: String,
    pub body: PlainText,
    pub parent_name: Option<String>,
}

impl CommentView {
    fn new(row: ThreadRow, config: &Config) -> Self {
        let local = row.created_at.with_timezone(&config.timezone);
        let is_guest = row.author_kind == AuthorKind::Guest;
        let author_name = match (is_guest, config.show_staff_names) {
            (true, _) => row.author_name,
            (false, true) => format!("{} ({})", row.author_name, config.staff_label),
            (false, false) => config.staff_label.clone(),
        };
        Self {
            id: row.id,
            author_name,
            is_guest,
            staff_reply: if is_guest {
                None
            } else {
                row.body_html.zip(row.disclaimer)
            },
            posted_on: local.format("%d %b %Y - %H:%M").to_string(),
            posted_at_iso: row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            body: PlainText::new(&row.body),
            parent_name: row.parent_name,
        }
    }
}

/// The comment a reader is answering, shown above the form.
pub struct ReplyingTo {
    pub id: i64,
    pub author_name: String,
    pub excerpt: String,
}

impl From<ReplyTarget> for ReplyingTo {
    fn from(target: ReplyTarget) -> Self {
        const EXCERPT_CHARS: usize = 140;
        let flat = target.body.split_whitespace().collect::<Vec<_>>().join(" ");
        let excerpt = if flat.chars().count() > EXCERPT_CHARS {
            format!(
                "{}…",
                flat.chars().take(EXCERPT_CHARS).collect::<String>().trim_end()
            )
        } else {
            flat
        };
        Self {
            id: target.id,
            author_name: target.author_name,
            excerpt,
        }
    }
}

pub struct PageLink {
    pub number: u32,
    pub href: String,
    pub current: bool,
}

/// The published comments of one page: the same for every reader, so rendered once and kept
/// with the cached thread.
#[derive(Template)]
#[template(path = "comments/_threads.html")]
struct ThreadList<'a> {
    items: &'a [super::thread::ThreadItem<CommentView>],
    slug: &'a str,
    page: u32,
    comments_open: bool,
    verified_badge: &'a str,
}

impl ThreadList<'_> {
    fn reply_href(&self, comment_id: &i64) -> String {
        let page = if self.page > 1 {
            format!("&page={}", self.page)
        } else {
            String::new()
        };
        format!("/articles/{}?reply_to={comment_id}{page}#comment-form", self.slug)
    }
}

#[derive(Template)]
#[template(path = "comments/thread.html")]
pub struct ThreadPage {
    pub article: Article,
    pub notice: String,
    /// Shared with the thread cache.
    pub thread: Arc<ThreadData>,
    pub page: u32,
    pub pages: Vec<PageLink>,
    pub banner: Banner,
    pub form: FormView,
}

/// A message at the top of the thread after the reader did something.
pub enum Banner {
    None,
    Posted,
    /// Posted, and it mentions a warning sign: what to do now, before any moderator reads it.
    PostedWithSafety(SafetyMessage),
    Reported(&'static str),
}

/// The configured safety message: a lead sentence and a list of what to do.
pub struct SafetyMessage {
    pub lead: Vec<String>,
    pub items: Vec<String>,
}

impl SafetyMessage {
    pub fn new(text: &str) -> Self {
        let (items, lead): (Vec<&str>, Vec<&str>) = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .partition(|l| l.starts_with("- "));
        Self {
            lead: lead.into_iter().map(str::to_owned).collect(),
            items: items
                .into_iter()
                .map(|l| l.trim_start_matches("- ").to_owned())
                .collect(),
        }
    }
}

/// The comment form, with what the reader typed and what needs fixing.
#[derive(Default)]
pub struct FormView {
    pub name: String,
    pub email: String,
    pub body: String,
    pub replying_to: Option<ReplyingTo>,
    pub errors: FormErrors,
    /// A problem with the whole form rather than one field.
    pub problem: Option<&'static str>,
    pub token: String,
    /// The signed time the form was shown, carried through re-displays.
    pub stamp: String,
    /// The comment being replied to, kept as sent when it could not be looked up.
    pub kept_parent: String,
}

impl FormView {
    fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.problem.is_some()
    }
}

impl ThreadPage {
    fn thread_href(&self, page: u32) -> String {
        if page <= 1 {
            format!("/articles/{}", self.article.slug)
        } else {
            format!("/articles/{}?page={page}", self.article.slug)
        }
    }

    /// The page's list of comments, rendered once per version of the thread (see `ThreadList`).
    fn threads_html(&self) -> &str {
        self.thread.rendered[usize::from(self.article.comments_open)]
            .get()
            .map_or("", String::as_str)
    }

    fn page_count(&self) -> u32 {
        self.pages.len() as u32
    }

    fn previous_href(&self) -> Option<String> {
        (self.page > 1 && self.page <= self.page_count()).then(|| self.thread_href(self.page - 1))
    }

    fn next_href(&self) -> Option<String> {
        (self.page < self.page_count()).then(|| self.thread_href(self.page + 1))
    }
}

/// The article, from the memo when it was read a moment ago (see `articles::memo`).
async fn load_article(state: &AppState, slug: &str) -> Result<Article> {
    if let Some(article) = state.articles.get(slug) {
        return Ok(article);
    }
    let read = state.articles.reading();
    let article = articles::store::find_by_slug(&state.db, slug)
        .await?
        .ok_or(AppError::NotFound)?;
    state.articles.put(&article, read);
    Ok(article)
}

async fn thread_page(
    state: &AppState,
    article: Article,
    page: u32,
    form: FormView,
    banner: Banner,
) -> Result<ThreadPage> {
    let thread = load_threads(state, &article, page).await?;
    // Kept from before the article was closed or reopened: render it as it is now.
    render_list(state, &article, page, &thread)?;
    let per_page = i64::from(state.config.threads_per_page);
    let page_count = u32::try_from((thread.total_threads + per_page - 1) / per_page).unwrap_or(u32::MAX);
    let mut page_view = ThreadPage {
        article,
        notice: state.config.notice.clone(),
        thread,
        page,
        pages: Vec::new(),
        banner,
        form,
    };
    page_view.pages = (1..=page_count)
        .map(|number| PageLink {
            number,
            href: page_view.thread_href(number),
            current: number == page,
        })
        .collect();
    Ok(page_view)
}

/// One page of published threads, from the cache while the article's comments are unchanged.
async fn load_threads(state: &AppState, article: &Article, page: u32) -> Result<Arc<ThreadData>> {
    let load = || async {
        let per_page = state.config.threads_per_page;
        let offset = i64::from(page - 1) * i64::from(per_page);
        let total_threads = store::count_threads(&state.db, article.id).await?;
        let rows = store::thread_page(&state.db, article.id, i64::from(per_page), offset).await?;
        let rows = rows
            .into_iter()
            .map(|row| {
                let depth = u32::try_from(row.depth).unwrap_or(1);
                (CommentView::new(row, &state.config), depth)
            })
            .collect::<Vec<_>>();
        // The rendered list takes about twice the text again.
        let bytes = rows_bytes(&rows) * 3;
        let data = ThreadData {
            items: layout(rows, state.config.max_depth),
            total_threads,
            bytes,
            rendered: Default::default(),
        };
        render_list(state, article, page, &data)?;
        Ok(Arc::new(data))
    };
    state
        .threads
        .get_or_load(article.id, page, article.comments_version, load)
        .await
}

/// Renders the page's list of comments once, for the article as it is now (open or closed).
fn render_list(state: &AppState, article: &Article, page: u32, thread: &ThreadData) -> Result<()> {
    let cell = &thread.rendered[usize::from(article.comments_open)];
    if cell.get().is_none() {
        let list = ThreadList {
            items: &thread.items,
            slug: &article.slug,
            page,
            comments_open: article.comments_open,
            verified_badge: &state.config.verified_badge,
        };
        let html = list
            .render()
            .map_err(|e| AppError::Other(anyhow::anyhow!("thread list: {e}")))?;
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
fn banner_for(state: &AppState, query: &ThreadQuery) -> Banner {
    match (query.posted.as_deref(), query.reported.as_deref()) {
        (Some(posted), _) if posted.starts_with("safety") => {
            // `safety-999` and the like: that category's message; `safety`: the configured one.
            let message = match posted.strip_prefix("safety-").and_then(Category::parse) {
                Some(category) => category.message(),
                None => &state.config.safety_message,
            };
            Banner::PostedWithSafety(SafetyMessage::new(message))
        }
        (Some(_), _) => Banner::Posted,
        (_, Some("queue" | "1")) => {
            Banner::Reported("Thank you for telling us. A moderator will look at this comment.")
        }
        (_, Some("again")) => Banner::Reported(
            "You have already reported this comment. Thank you: a moderator will look at it.",
        ),
        _ => Banner::None,
    }
}

async fn show_thread(
    State(state): State<AppState>,
    token: CsrfToken,
    Path(slug): Path<String>,
    Query(query): Query<ThreadQuery>,
) -> Result<Response> {
    let article = load_article(&state, &slug).await?;
    let mut form = FormView {
        token: form_token(&token)?,
        stamp: fresh_stamp(&state),
        ..Default::default()
    };
    if let Some(reply_to) = query
        .reply_to
        .as_deref()
        .and_then(|id| id.trim().parse::<i64>().ok())
    {
        match store::find_reply_target(&state.db, article.id, reply_to).await? {
            Some(target) => form.replying_to = Some(target.into()),
            None => {
                form.problem = Some(
                    "The comment you wanted to reply to is not available any more. You can still add a new comment.",
                )
            }
        }
    }
    let banner = banner_for(&state, &query);
    let page = thread_page(&state, article, query.page(), form, banner).await?;
    Ok((token, render(StatusCode::OK, &page)).into_response())
}

fn form_token(token: &CsrfToken) -> Result<String> {
    token
        .authenticity_token()
        .map_err(|e| AppError::Other(anyhow::anyhow!("form token: {e:?}")))
}

fn fresh_stamp(state: &AppState) -> String {
    spam::stamp(&state.stamp_key, chrono::Utc::now().timestamp())
}

/// A request's client, as a keyed hash: the address itself is never stored.
fn client_hash(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Vec<u8> {
    spam::address_hash(&state.address_key, state.client_address(peer, headers))
}

const RATE_LIMITED: &str = "You have posted several comments in a short time, so we need you to wait a few minutes before posting again. Your comment is still here.";
const ARTICLE_BUSY: &str = "This article is receiving a lot of comments just now. Please wait a few minutes and try again. Your comment is still here.";

/// Posting a comment. When the database cannot be reached the reader is told their comment is
/// not saved yet, and given their words back in a form that sends them again.
async fn submit_comment(
    State(state): State<AppState>,
    token: CsrfToken,
    Path(slug): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    StrictForm(input): StrictForm<CommentForm>,
) -> Result<Response> {
    if state.outage.is_down() {
        return not_sent(&token, &slug, input);
    }
    match store_comment(&state, &token, &slug, peer, &headers, &input).await {
        Err(error) if error.is_unavailable() => {
            let mut response = not_sent(&token, &slug, input)?;
            if !matches!(error, AppError::Unavailable) {
                tracing::warn!(%error, "comment not stored: database unavailable");
                response
                    .extensions_mut()
                    .insert(crate::error::DatabaseUnreachable);
            }
            Ok(response)
        }
        answer => answer,
    }
}

/// Whether `request` posts a guest's comment. Such a request goes on to its handler while the
/// database is down, so that the reader's words come back to them; and it changes nothing readers
/// see, because the comment waits for moderation.
pub fn is_guest_posting(request: &axum::extract::Request) -> bool {
    request.method() == axum::http::Method::POST
        && request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .is_some_and(|path| path.as_str() == "/articles/{slug}/comments")
}

#[derive(Template)]
#[template(path = "comments/not_sent.html")]
struct NotSentPage {
    article: NotSentArticle,
    form: FormView,
}

struct NotSentArticle {
    slug: String,
}

fn not_sent(token: &CsrfToken, slug: &str, input: CommentForm) -> Result<Response> {
    let page = NotSentPage {
        article: NotSentArticle {
            slug: slug.to_owned(),
        },
        form: FormView {
            name: input.name,
            email: input.email,
            body: input.body,
            kept_parent: input.parent_id.trim().to_owned(),
            token: form_token(token)?,
            // The same stamp: if the first try was stored after all, sending again stores nothing new.
            stamp: input.form_stamp,
            ..Default::default()
        },
    };
    Ok((token.clone(), render(StatusCode::SERVICE_UNAVAILABLE, &page)).into_response())
}

async fn store_comment(
    state: &AppState,
    token: &CsrfToken,
    slug: &str,
    peer: SocketAddr,
    headers: &HeaderMap,
    input: &CommentForm,
) -> Result<Response> {
    let article = load_article(state, slug).await?;
    if !article.comments_open {
        return Err(AppError::CommentsClosed);
    }

    let replying_to = match input.parent_id.trim().parse::<i64>() {
        Ok(id) => store::find_reply_target(&state.db, article.id, id)
            .await?
            .map(ReplyingTo::from),
        Err(_) => None,
    };
    // Show the form again with everything the reader typed, a fresh token and what to fix.
    let fresh_token = form_token(token)?;
    let again = |status: StatusCode,
                 errors: FormErrors,
                 problem: Option<&'static str>,
                 replying_to: Option<ReplyingTo>| {
        let form = FormView {
            name: input.name.clone(),
            email: input.email.clone(),
            body: input.body.clone(),
            replying_to,
            errors,
            problem,
            token: fresh_token.clone(),
            stamp: input.form_stamp.clone(),
            kept_parent: String::new(),
        };
        let article = article.clone();
        async move {
            let page = thread_page(state, article, 1, form, Banner::None).await?;
            Ok::<_, AppError>((token.clone(), render(status, &page)).into_response())
        }
    };

    if token.verify(&input.authenticity_token).is_err() {
        tracing::info!("comment form refused: missing or stale form token");
        let problem = "For your safety we could not accept the form this time. Your comment is still here: please press \u{201c}Post comment\u{201d} again.";
        return again(
            StatusCode::FORBIDDEN,
            FormErrors::default(),
            Some(problem),
            replying_to,
        )
        .await;
    }

    let comment = match input.parse() {
        Ok(comment) => comment,
        Err(errors) => return again(StatusCode::UNPROCESSABLE_ENTITY, errors, None, replying_to).await,
    };

    let config = &state.config;
    let now = chrono::Utc::now();
    let client = client_hash(state, peer, headers);

    // One connection for the checks and the insert: fewer trips to the pool under a burst. It is
    // given back before any page is shown again, which needs a connection of its own.
    let mut conn = state.db.acquire().await?;
    let checks = store::pre_checks(
        &mut *conn,
        article.id,
        &client,
        &comment.body,
        now - chrono::Duration::hours(1),
        now - config.rate_window,
        now - chrono::Duration::days(7),
    )
    .await?;
    // The same words again from the same reader (the form shown twice, say): answer as before,
    // store nothing new.
    if checks.repeat {
        return Ok(thanks(&article.slug, &config.warning_signs.check(&comment.body)));
    }
    if checks.by_client >= config.rate_per_address {
        tracing::info!(article.id = article.id, "comment refused: address rate limit");
        drop(conn);
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            FormErrors::default(),
            Some(RATE_LIMITED),
            replying_to,
        )
        .await;
    }
    if checks.on_article >= config.rate_per_article {
        tracing::info!(article.id = article.id, "comment refused: article rate limit");
        drop(conn);
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            FormErrors::default(),
            Some(ARTICLE_BUSY),
            replying_to,
        )
        .await;
    }

    let stamp = spam::check_stamp(
        &state.stamp_key,
        &input.form_stamp,
        now.timestamp(),
        config.min_form_seconds,
    );
    let submission_key = (stamp != spam::Stamp::Invalid)
        .then(|| spam::submission_key(&input.form_stamp, input.parent_id.trim(), &comment.body));
    let spam_reason = spam_reason(state, input, &comment.body, stamp, checks.seen);
    let triage = config.warning_signs.check(&comment.body);
    let filing = store::Filing {
        status: if spam_reason.is_some() {
            CommentStatus::Spam
        } else {
            CommentStatus::Pending
        },
        spam_reason: spam_reason.as_deref(),
        urgent_signs: &triage.signs,
        client_hash: &client,
        submission_key: submission_key.as_deref(),
    };

    // A reply locks its parent until stored; a new thread is a single statement, no transaction.
    let stored = match comment.parent_id {
        Some(_) => {
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            let stored = store::insert_guest_comment(&mut tx, article.id, &comment, &filing).await;
            if stored.is_ok() {
                tx.commit().await?;
            }
            stored
        }
        None => store::insert_guest_comment(&mut conn, article.id, &comment, &filing).await,
    };
    drop(conn);
    match stored {
        Ok(Some(id)) => {
            tracing::info!(
                comment.id = id,
                article.id = article.id,
                urgent = triage.urgent,
                spam = spam_reason.is_some(),
                "comment received for moderation"
            );
            // Spam is thanked like anything else: telling a bot what tripped it only helps it.
            Ok(thanks(&article.slug, &triage))
        }
        // This form was stored before: a double click or a retry. Answer as the first time did.
        Ok(None) => Ok(thanks(&article.slug, &triage)),
        Err(SubmitError::ParentUnavailable) => {
            let errors = FormErrors {
                parent: Some(PARENT_UNAVAILABLE),
                ..Default::default()
            };
            again(StatusCode::UNPROCESSABLE_ENTITY, errors, None, None).await
        }
        Err(SubmitError::Database(e)) => Err(e.into()),
    }
}

/// Where a reader goes once their comment is stored: thanks, and the safety message when their
/// words carried warning signs: that category's (`safety-999`), or the general one (`safety`).
fn thanks(slug: &str, triage: &Triage) -> Response {
    let posted = match (triage.urgent, triage.category) {
        (false, _) => "1#thanks".to_owned(),
        (true, None) => "safety#safety".to_owned(),
        (true, Some(category)) => format!("safety-{}#safety", category.as_str()),
    };
    Redirect::to(&format!("/articles/{slug}?posted={posted}")).into_response()
}

/// Why this post belongs in the spam tab, if it does.
fn spam_reason(
    state: &AppState,
    input: &CommentForm,
    body: &str,
    stamp: spam::Stamp,
    seen_before: bool,
) -> Option<String> {
    if !input.website.trim().is_empty() {
        return Some("filled in the hidden field".into());
    }
    match stamp {
        spam::Stamp::Fine => {}
        spam::Stamp::TooFast => return Some("posted seconds after the form was shown".into()),
        spam::Stamp::Invalid => return Some("the form's time stamp was missing or altered".into()),
    }
    if let Some(reason) = spam::text_reason(body, &state.config.banned_phrases) {
        return Some(reason);
    }
    seen_before.then(|| "the same text was posted before".into())
}

/// Why a reader may report a comment.
pub const REPORT_REASONS: [&str; 5] = [
    "It shares someone's personal details",
    "It is unkind or abusive",
    "It gives harmful or misleading advice",
    "It is spam or advertising",
    "Something else",
];

#[derive(Template)]
#[template(path = "comments/report.html")]
struct ReportPage {
    article: Article,
    comment: ReplyingTo,
    reasons: [&'static str; 5],
    problem: Option<&'static str>,
    token: String,
}

async fn show_report(
    State(state): State<AppState>,
    token: CsrfToken,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response> {
    let article = load_article(&state, &slug).await?;
    let comment = store::find_reply_target(&state.db, article.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let page = ReportPage {
        article,
        comment: comment.into(),
        reasons: REPORT_REASONS,
        problem: None,
        token: form_token(&token)?,
    };
    Ok((token, render(StatusCode::OK, &page)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportForm {
    reason: String,
    authenticity_token: String,
}

async fn submit_report(
    State(state): State<AppState>,
    token: CsrfToken,
    Path((slug, id)): Path<(String, i64)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    StrictForm(form): StrictForm<ReportForm>,
) -> Result<Response> {
    let article = load_article(&state, &slug).await?;
    let comment = store::find_reply_target(&state.db, article.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let reason = REPORT_REASONS.iter().find(|r| **r == form.reason);
    let problem = if token.verify(&form.authenticity_token).is_err() {
        Some((
            StatusCode::FORBIDDEN,
            "For your safety we could not accept the form this time. Please choose a reason and send it again.",
        ))
    } else if reason.is_none() {
        Some((StatusCode::UNPROCESSABLE_ENTITY, "Please choose a reason."))
    } else {
        None
    };
    if let Some((status, problem)) = problem {
        let page = ReportPage {
            article,
            comment: comment.into(),
            reasons: REPORT_REASONS,
            problem: Some(problem),
            token: form_token(&token)?,
        };
        return Ok((token, render(status, &page)).into_response());
    }
    let client = client_hash(&state, peer, &headers);
    let mut tx = state.db.begin().await?;
    let outcome = store::report(
        &mut tx,
        article.id,
        id,
        &client,
        reason.copied().unwrap_or_default(),
        state.config.reports_to_hide,
    )
    .await?;
    if outcome == Reported::ReturnedToQueue {
        crate::audit::record(
            &mut tx,
            None,
            crate::audit::Action::CommentReportedToQueue,
            crate::audit::Target::Comment(id),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    let flag = match outcome {
        Reported::AlreadyReported => "again",
        Reported::ReturnedToQueue => "queue",
        Reported::Recorded | Reported::NotAvailable => "1",
    };
    tracing::info!(comment.id = id, outcome = ?outcome, "comment reported");
    Ok(Redirect::to(&format!(
        "/articles/{}?reported={flag}#comments-heading",
        article.slug
    ))
    .into_response())
}
