//! Readers' pages: a thread with its form, and posting a comment.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use axum_csrf::CsrfToken;
use serde::Deserialize;

use super::{
    AuthorKind, CommentForm, FormErrors, PARENT_UNAVAILABLE, ThreadRow,
    store::{self, ReplyTarget, SubmitError},
    text::{PlainText, Segment},
    thread::{ThreadItem, layout},
};
use crate::{
    articles::{self, Article},
    config::Config,
    error::{AppError, Result},
    web::{AppState, page::render},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/articles/{slug}", get(show_thread))
        .route("/articles/{slug}/comments", axum::routing::post(submit_comment))
}

/// Query parameters are read leniently: a mistyped page number shows the first page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ThreadQuery {
    page: Option<String>,
    reply_to: Option<String>,
    posted: Option<String>,
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

#[derive(Template)]
#[template(path = "comments/thread.html")]
pub struct ThreadPage {
    pub article: Article,
    pub verified_badge: String,
    pub notice: String,
    pub items: Vec<ThreadItem<CommentView>>,
    pub total_threads: i64,
    pub page: u32,
    pub pages: Vec<PageLink>,
    pub posted: bool,
    pub form: FormView,
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

    fn reply_href(&self, comment_id: &i64) -> String {
        let page = if self.page > 1 {
            format!("&page={}", self.page)
        } else {
            String::new()
        };
        format!(
            "/articles/{}?reply_to={comment_id}{page}#comment-form",
            self.article.slug
        )
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

async fn load_article(state: &AppState, slug: &str) -> Result<Article> {
    articles::store::find_by_slug(&state.db, slug)
        .await?
        .ok_or(AppError::NotFound)
}

async fn thread_page(
    state: &AppState,
    article: Article,
    page: u32,
    form: FormView,
    posted: bool,
) -> Result<ThreadPage> {
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
        .collect();
    let per_page = i64::from(per_page);
    let page_count = u32::try_from((total_threads + per_page - 1) / per_page).unwrap_or(u32::MAX);
    let mut page_view = ThreadPage {
        article,
        verified_badge: state.config.verified_badge.clone(),
        notice: state.config.notice.clone(),
        items: layout(rows, state.config.max_depth),
        total_threads,
        page,
        pages: Vec::new(),
        posted,
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

async fn show_thread(
    State(state): State<AppState>,
    token: CsrfToken,
    Path(slug): Path<String>,
    Query(query): Query<ThreadQuery>,
) -> Result<Response> {
    let article = load_article(&state, &slug).await?;
    let mut form = FormView {
        token: form_token(&token)?,
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
    let posted = query.posted.is_some();
    let page = thread_page(&state, article, query.page(), form, posted).await?;
    Ok((token, render(StatusCode::OK, &page)).into_response())
}

fn form_token(token: &CsrfToken) -> Result<String> {
    token
        .authenticity_token()
        .map_err(|e| AppError::Other(anyhow::anyhow!("form token: {e:?}")))
}

async fn submit_comment(
    State(state): State<AppState>,
    token: CsrfToken,
    Path(slug): Path<String>,
    Form(input): Form<CommentForm>,
) -> Result<Response> {
    let article = load_article(&state, &slug).await?;
    if !article.comments_open {
        return Err(AppError::CommentsClosed);
    }

    // Show the form again with everything the reader typed, a fresh token and what to fix.
    let again = |errors: FormErrors,
                 problem: Option<&'static str>,
                 replying_to: Option<ReplyingTo>|
     -> Result<FormView> {
        Ok(FormView {
            name: input.name.clone(),
            email: input.email.clone(),
            body: input.body.clone(),
            replying_to,
            errors,
            problem,
            token: form_token(&token)?,
        })
    };

    let replying_to = match input.parent_id.trim().parse::<i64>() {
        Ok(id) => store::find_reply_target(&state.db, article.id, id)
            .await?
            .map(ReplyingTo::from),
        Err(_) => None,
    };

    if token.verify(&input.authenticity_token).is_err() {
        tracing::info!("comment form refused: missing or stale form token");
        let form = again(
            FormErrors::default(),
            Some(
                "For your safety we could not accept the form this time. Your comment is still here: please press \u{201c}Post comment\u{201d} again.",
            ),
            replying_to,
        )?;
        let page = thread_page(&state, article, 1, form, false).await?;
        return Ok((token, render(StatusCode::FORBIDDEN, &page)).into_response());
    }

    let comment = match input.parse() {
        Ok(comment) => comment,
        Err(errors) => {
            let form = again(errors, None, replying_to)?;
            let page = thread_page(&state, article, 1, form, false).await?;
            return Ok((token, render(StatusCode::UNPROCESSABLE_ENTITY, &page)).into_response());
        }
    };

    let mut tx = state.db.begin().await?;
    match store::insert_pending(&mut tx, article.id, &comment).await {
        Ok(id) => {
            tx.commit().await?;
            tracing::info!(
                comment.id = id,
                article.id = article.id,
                "comment received for moderation"
            );
            Ok(Redirect::to(&format!("/articles/{}?posted=1#thanks", article.slug)).into_response())
        }
        Err(SubmitError::ParentUnavailable) => {
            drop(tx);
            let errors = FormErrors {
                parent: Some(PARENT_UNAVAILABLE),
                ..Default::default()
            };
            let form = again(errors, None, None)?;
            let page = thread_page(&state, article, 1, form, false).await?;
            Ok((token, render(StatusCode::UNPROCESSABLE_ENTITY, &page)).into_response())
        }
        Err(SubmitError::Database(e)) => Err(e.into()),
    }
}
