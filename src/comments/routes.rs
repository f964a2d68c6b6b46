//! Readers' pages: a thread with its form, posting a comment, and reporting one. Posting is a
//! router group of its own (see `router`): it stays open while the database is down, so the
//! reader gets their words back.

use axum::{
    Router,
    extract::{FromRef, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_csrf::{CsrfConfig, CsrfToken};
use serde::Deserialize;

use crate::safety::triage::Category;

use super::{
    CommentForm, Context, FormErrors, Poster, Reader,
    embed::{self, EmbeddingPage},
    reading::{self, banner_for, fresh_form, load_article, load_article_to_write, thread_page},
    report::{self, REASONS},
    store::{self, Reported},
    submit::{self, Outcome, Submission},
    view::{
        Banner, EmbedFrame, FormView, NotOpenPage, NotSentArticle, NotSentPage, ReplyingTo, ReportForm,
        ReportPage, ThreadQuery, thread_path,
    },
};
use crate::{
    articles::Article,
    error::{AppError, DatabaseUnreachable, Result},
    web::{
        caching::Sharing,
        client::ClientKeys,
        form::{Checked, StrictForm, new_token},
        page::render,
    },
};

/// An article's thread. The router wraps it in the sign-in layer, so a member of staff signed in
/// on this browser is shown their own page (see `reading::staff_thread_page`); a guest's request,
/// carrying no session cookie, never reads the session store.
pub fn article_page<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Context: FromRef<S>,
    CsrfConfig: FromRef<S>,
    ClientKeys: FromRef<S>,
{
    Router::new().route("/articles/{slug}", get(show_thread))
}

/// Reading threads in a frame, status pages and reporting comments.
pub fn reading<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Context: FromRef<S>,
    CsrfConfig: FromRef<S>,
    ClientKeys: FromRef<S>,
{
    Router::new()
        .route("/embed/articles/{slug}", get(show_embedded))
        .route("/status/{token}", get(show_status))
        .route(
            "/articles/{slug}/comments/{id}/report",
            get(show_report).post(submit_report),
        )
}

/// Posting a guest's comment.
pub fn posting<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Context: FromRef<S>,
    CsrfConfig: FromRef<S>,
    ClientKeys: FromRef<S>,
{
    Router::new()
        .route("/articles/{slug}/comments", post(submit_comment))
        .route("/embed/articles/{slug}/comments", post(submit_embedded))
}

/// A reader's private page: their comment, its state in kind words, and any published replies.
async fn show_status(State(ctx): State<Context>, Path(token): Path<String>) -> Result<Response> {
    let page = reading::status_page(&ctx, &token).await?;
    let status = if page.comment.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    // The page is the reader's own: no shared cache keeps it, no other site learns its address.
    Ok(private(render(status, &page)))
}

/// A page meant for one person: no cache, shared or the browser's own, keeps it.
fn private(mut response: Response) -> Response {
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    response
}

async fn show_thread(
    reader: Reader,
    Path(slug): Path<String>,
    Query(query): Query<ThreadQuery>,
) -> Result<Response> {
    let article = load_article(&reader.ctx, &slug).await?;
    thread(reader, article, &query, None).await
}

/// A page of the thread with the window's form, on its own page or in a frame: the same for
/// every reader, so shared caches may keep it (see `reading::sharing`), and answered 304 when the
/// reader's copy is current. It sets no cookie.
async fn thread(
    reader: Reader,
    article: Article,
    query: &ThreadQuery,
    frame: Option<EmbedFrame>,
) -> Result<Response> {
    let ctx = &reader.ctx;
    if let (Some(role), None) = (reader.staff, &frame) {
        let page = reading::staff_thread_page(ctx, &article.slug, query, role).await?;
        return Ok(private(render(StatusCode::OK, &page)));
    }
    let now = chrono::Utc::now().timestamp();
    let who = (frame.is_some(), reader.staff_signed_in);
    let sharing = reading::sharing(ctx, &article, query, who, now);
    if let Some(not_modified) = sharing.not_modified(&reader.conditional) {
        return Ok(not_modified);
    }
    if matches!(sharing, Sharing::Public { .. }) {
        let (page, sharing) = reading::shared_page(ctx, article, (query, sharing), (frame, who), now).await?;
        return Ok(reading::page_response(&page, reader.gzip, &sharing));
    }
    let form = fresh_form(ctx, &article, query, now).await?;
    let banner = banner_for(ctx, query);
    let page = thread_page(ctx, article, query.page(), form, (banner, frame)).await?;
    // Named by the version its comments were read at (see `reading::thread_page`).
    let sharing = reading::sharing(ctx, &page.article, query, who, now);
    Ok(sharing.apply(render(StatusCode::OK, &page)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmbedQuery {
    #[serde(flatten)]
    thread: ThreadQuery,
    #[serde(flatten)]
    page: EmbeddingPage,
}

/// The thread in a frame on an allowed site; a calm note inside the frame when comments are not
/// open for the page.
async fn show_embedded(
    reader: Reader,
    Path(slug): Path<String>,
    Query(query): Query<EmbedQuery>,
) -> Result<Response> {
    let ctx = reader.ctx.clone();
    let article = match load_article(&ctx, &slug).await {
        Err(AppError::NotFound) => embed::article_for(&ctx, &slug, &query.page).await?,
        found => Some(found?),
    };
    let response = match article {
        Some(article) => thread(reader, article, &query.thread, Some(embed::frame(&ctx))).await?,
        None => render(
            StatusCode::NOT_FOUND,
            &NotOpenPage {
                embed: Some(embed::frame(&ctx)),
            },
        ),
    };
    Ok(embed::embeddable(&ctx, response))
}

const RATE_LIMITED: &str = "You have posted several comments in a short time, so we need you to wait a few minutes before posting again. Your comment is still here.";
const ARTICLE_BUSY: &str = "This article is receiving a lot of comments just now. Please wait a few minutes and try again. Your comment is still here.";
const STALE_COMMENT_FORM: &str = "For your safety we could not accept the form this time. Your comment is still here: please press \u{201c}Post comment\u{201d} again.";

/// Posting from the thread's page. The form is the same for every reader (a shared cache keeps
/// the page), so it carries no cookie-bound token: like the frame's, a post must come from this
/// site's own page (see `embed::from_this_site`).
async fn submit_comment(
    poster: Poster,
    Path(slug): Path<String>,
    StrictForm(form): StrictForm<CommentForm>,
) -> Result<Response> {
    let answer = submit(poster, &slug, form, None).await;
    Ok(Sharing::Private.apply(answer.unwrap_or_else(IntoResponse::into_response)))
}

/// Posting from the frame, checked the same way (the frame's site keeps no cookies anyway).
async fn submit_embedded(
    poster: Poster,
    Path(slug): Path<String>,
    StrictForm(form): StrictForm<CommentForm>,
) -> Result<Response> {
    let ctx = poster.reader.ctx.clone();
    let response = submit(poster, &slug, form, Some(embed::frame(&ctx)))
        .await
        .unwrap_or_else(IntoResponse::into_response);
    Ok(Sharing::Private.apply(embed::embeddable(&ctx, response)))
}

/// Posting a comment. When the database cannot be reached the reader is told their comment is
/// not saved yet, and given their words back in a form that sends them again.
async fn submit(
    poster: Poster,
    slug: &str,
    form: CommentForm,
    frame: Option<EmbedFrame>,
) -> Result<Response> {
    if poster.reader.ctx.outage.is_down() {
        return Ok(not_sent(slug, form, frame));
    }
    match post_comment(&poster, slug, &form, frame.clone()).await {
        Err(error) if error.is_unavailable() => {
            let mut response = not_sent(slug, form, frame);
            if !matches!(error, AppError::Unavailable) {
                tracing::warn!(%error, "comment not stored: database unavailable");
                response.extensions_mut().insert(DatabaseUnreachable);
            }
            Ok(response)
        }
        answer => answer,
    }
}

/// What a reader is shown again with their form: a status, what to fix, and a message.
type Refusal = (StatusCode, FormErrors, Option<&'static str>);

async fn post_comment(
    poster: &Poster,
    slug: &str,
    form: &CommentForm,
    frame: Option<EmbedFrame>,
) -> Result<Response> {
    let ctx = &poster.reader.ctx;
    let article = load_article_to_write(ctx, slug).await?;
    if !article.comments_open {
        return Err(AppError::CommentsClosed);
    }
    let refusal = if poster.reader.from_this_site {
        match refusal(store_it(poster, form, &article).await?) {
            Ok((help, link)) => return Ok(thanks(&article.slug, help, frame.is_some(), link.as_deref())),
            Err(refusal) => refusal,
        }
    } else {
        tracing::info!("comment form refused: not sent from this site's page");
        STALE
    };
    show_again(ctx, form, article, refusal, frame).await
}

const STALE: Refusal = (
    StatusCode::FORBIDDEN,
    FormErrors {
        name: None,
        email: None,
        body: None,
        parent: None,
    },
    Some(STALE_COMMENT_FORM),
);

/// Hands the reader's comment to the posting rules.
async fn store_it(poster: &Poster, form: &CommentForm, article: &Article) -> Result<Outcome> {
    let ctx = &poster.reader.ctx;
    let submission = Submission {
        form,
        client_hash: &poster.client.hash,
        now: chrono::Utc::now(),
    };
    let keys = (&*ctx.stamp_key, &*ctx.mail_key);
    Ok(submit::submit(&ctx.db, &ctx.config, keys, article, &submission).await?)
}

/// Which help an urgent comment's reader is shown (`None`: not urgent; `Some(None)`: the general
/// message).
type Help = Option<Option<Category>>;

/// Stored (or stored before): the help to show, and the reader's private link. Otherwise what
/// the reader is shown.
fn refusal(outcome: Outcome) -> Result<(Help, Option<String>), Refusal> {
    match outcome {
        // Spam is thanked like anything else: telling a bot what tripped it only helps it.
        Outcome::Stored {
            urgent,
            category,
            status_link,
            ..
        } => Ok((urgent.then_some(category), Some(status_link))),
        Outcome::Repeat { urgent, category } => Ok((urgent.then_some(category), None)),
        Outcome::AddressLimited => Err((
            StatusCode::TOO_MANY_REQUESTS,
            FormErrors::default(),
            Some(RATE_LIMITED),
        )),
        Outcome::ArticleBusy => Err((
            StatusCode::TOO_MANY_REQUESTS,
            FormErrors::default(),
            Some(ARTICLE_BUSY),
        )),
        Outcome::Invalid(errors) => Err((StatusCode::UNPROCESSABLE_ENTITY, errors, None)),
    }
}

/// The thread again with the form as the reader sent it (its stamp too) and what to fix.
async fn show_again(
    ctx: &Context,
    input: &CommentForm,
    article: Article,
    (status, errors, problem): Refusal,
    frame: Option<EmbedFrame>,
) -> Result<Response> {
    let replying_to = match input.parent_id.trim().parse::<i64>() {
        Ok(id) if errors.parent.is_none() => store::find_reply_target(&ctx.db, article.id, id)
            .await?
            .map(ReplyingTo::from),
        _ => None,
    };
    let form = FormView {
        name: input.name.clone(),
        email: input.email.clone(),
        notify: input.wants_replies(),
        body: input.body.clone(),
        replying_to,
        errors,
        problem,
        stamp: input.form_stamp.clone(),
        kept_parent: String::new(),
    };
    let page = thread_page(ctx, article, 1, form, (Banner::None, frame)).await?;
    Ok(render(status, &page))
}

fn not_sent(slug: &str, input: CommentForm, embed: Option<EmbedFrame>) -> Response {
    let page = NotSentPage {
        article: NotSentArticle {
            slug: slug.to_owned(),
        },
        form: FormView {
            notify: input.wants_replies(),
            name: input.name,
            email: input.email,
            body: input.body,
            kept_parent: input.parent_id.trim().to_owned(),
            // The same stamp: if the first try was stored after all, sending again stores nothing new.
            stamp: input.form_stamp,
            ..Default::default()
        },
        embed,
    };
    render(StatusCode::SERVICE_UNAVAILABLE, &page)
}

/// Where a reader goes once their comment is stored: thanks, and the safety message when their
/// words carried warning signs.
fn thanks(slug: &str, help: Help, embed: bool, status_link: Option<&str>) -> Response {
    // `safety-999` and the like name the category whose help is shown; `safety` the general one.
    let (posted, anchor) = match help {
        None => ("1".to_owned(), "thanks"),
        Some(None) => ("safety".to_owned(), "safety"),
        Some(Some(category)) => (format!("safety-{}", category.as_str()), "safety"),
    };
    let link = status_link
        .map(|token| format!("&status={token}"))
        .unwrap_or_default();
    let to = format!("{}?posted={posted}{link}#{anchor}", thread_path(slug, embed));
    Redirect::to(&to).into_response()
}

async fn show_report(
    reader: Reader,
    Path((slug, id)): Path<(String, i64)>,
    csrf: CsrfToken,
) -> Result<Response> {
    report_page(&reader.ctx, &csrf, &slug, id, StatusCode::OK, None).await
}

async fn report_page(
    ctx: &Context,
    csrf: &CsrfToken,
    slug: &str,
    id: i64,
    status: StatusCode,
    problem: Option<&'static str>,
) -> Result<Response> {
    let article = load_article_to_write(ctx, slug).await?;
    let comment = store::find_reportable(&ctx.db, article.id, id)
        .await?
        .ok_or(AppError::NotReportable)?;
    let page = ReportPage {
        article,
        comment: comment.into(),
        reasons: REASONS,
        problem,
        token: new_token(csrf)?,
    };
    Ok((csrf.clone(), render(status, &page)).into_response())
}

/// The reason chosen, or why the report form is shown again.
fn chosen_reason(checked: &Checked<ReportForm>) -> Result<&'static str, (StatusCode, &'static str)> {
    match (
        checked.token_ok,
        REASONS.into_iter().find(|r| *r == checked.form.reason),
    ) {
        (true, Some(reason)) => Ok(reason),
        (false, _) => Err((
            StatusCode::FORBIDDEN,
            "For your safety we could not accept the form this time. Please choose a reason and send it again.",
        )),
        (true, None) => Err((StatusCode::UNPROCESSABLE_ENTITY, "Please choose a reason.")),
    }
}

async fn submit_report(
    poster: Poster,
    Path((slug, id)): Path<(String, i64)>,
    checked: Checked<ReportForm>,
) -> Result<Response> {
    let ctx = &poster.reader.ctx;
    let reason = match chosen_reason(&checked) {
        Ok(reason) => reason,
        Err((status, problem)) => {
            return report_page(ctx, &checked.csrf, &slug, id, status, Some(problem)).await;
        }
    };
    let article = load_article_to_write(ctx, &slug).await?;
    store::find_reportable(&ctx.db, article.id, id)
        .await?
        .ok_or(AppError::NotReportable)?;
    let flag = match report::report(&ctx.db, &ctx.config, &article, id, &poster.client.hash, reason).await? {
        Reported::AlreadyReported => "again",
        Reported::ReturnedToQueue => "queue",
        Reported::Recorded | Reported::NotAvailable => "1",
    };
    let target = format!("/articles/{}?reported={flag}#comments-heading", article.slug);
    Ok(Redirect::to(&target).into_response())
}
