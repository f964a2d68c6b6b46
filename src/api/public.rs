//! The public part of the API: an article's published thread as JSON, a fresh form stamp, and
//! posting a comment. Every rule is the page's own: the thread comes from the same query and
//! layout, and a comment goes through `comments::submit` like the HTML form's.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::Problem;
use crate::{
    comments::{
        CommentForm, Context, FormErrors,
        reading::{load_article, load_article_to_write, read_snapshot},
        store::ThreadSnapshot,
        submit::{self, Outcome, Submission},
        thread::{ThreadItem, layout},
        view::{CommentView, SafetyMessage},
    },
    config::Config,
    error::AppError,
    text::normalise,
    web::{client::Client, page::MAX_PAGE},
};

/// A page number: 1 when left out; past the end of the thread the page is empty.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Which page, from 1 (numbers above 100000 read as 100000).
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
}

impl PageQuery {
    pub fn number(&self) -> i64 {
        self.page.unwrap_or(1).clamp(1, MAX_PAGE)
    }
}

/// An article, as the thread names it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleJson {
    #[schema(example = "after-a-miscarriage")]
    pub slug: String,
    pub title: String,
    /// The article itself, on the organisation's site.
    pub url: String,
    /// Whether it takes new comments.
    pub comments_open: bool,
}

/// One page of an article's published comments, as the page shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadJson {
    pub article: ArticleJson,
    pub page: i64,
    /// How many pages of threads there are (0 when there is no comment yet).
    pub pages: i64,
    /// Top-level comments per page.
    pub per_page: u32,
    /// Published top-level comments (threads) on the article.
    pub total_threads: i64,
    /// In reading order: conversations newest first, each followed by its replies, oldest first.
    pub comments: Vec<CommentJson>,
}

/// A published comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentJson {
    pub id: i64,
    /// The level it is shown at: 1 for a conversation, 2 for a reply to it, and so on, up to the
    /// site's deepest level; deeper replies are shown at that level, right after the comment they
    /// answer, and name it in `in_reply_to`.
    #[schema(minimum = 1, example = 1)]
    pub depth: u32,
    /// Whom a reply shown shallower than it really is answers (as the page says "In reply to …").
    pub in_reply_to: Option<String>,
    /// The name shown: the reader's own, or the staff label for a staff reply.
    #[schema(example = "Sam")]
    pub author: String,
    /// The byline as the page writes it after "By".
    #[schema(example = "Sam (not verified)")]
    pub author_label: String,
    /// A reply by verified staff.
    pub verified: bool,
    /// The badge shown beside a verified staff reply.
    #[schema(example = "Verified midwife")]
    pub badge: Option<String>,
    #[schema(format = DateTime, example = "2026-03-13T17:12:00Z")]
    pub posted_at: String,
    /// The text as written: plain text for readers' comments (escape it before showing it); for a
    /// staff reply, the Markdown it was written in.
    pub body: String,
    /// A staff reply only: its sanitised HTML (paragraphs, lists, emphasis, links), safe to insert.
    pub body_html: Option<String>,
    /// A staff reply only: the disclaimer it was published with, to show after it.
    pub disclaimer: Option<String>,
}

impl CommentJson {
    fn new(item: ThreadItem<(CommentView, String)>, config: &Config) -> Self {
        let (comment, body) = item.comment;
        let (body_html, disclaimer) = comment.staff_reply.unzip();
        Self {
            id: comment.id,
            depth: item.level,
            in_reply_to: comment.parent_name.filter(|_| item.capped),
            author_label: if comment.is_guest {
                format!("{} (not verified)", comment.author_name)
            } else {
                comment.author_name.clone()
            },
            author: comment.author_name,
            verified: !comment.is_guest,
            badge: (!comment.is_guest).then(|| config.site_text().verified_badge.clone()),
            posted_at: comment.posted_at_iso,
            body,
            body_html,
            disclaimer,
        }
    }
}

/// A page of the thread of `slug`.
pub async fn thread(ctx: &Context, slug: &str, page: i64) -> Result<ThreadJson, Problem> {
    let article = load_article(ctx, slug).await?;
    let per_page = ctx.config.threads_per_page;
    let page_number = u32::try_from(page).unwrap_or(u32::MAX);
    let ThreadSnapshot {
        total_threads, rows, ..
    } = read_snapshot(&ctx.reads, article.id, per_page, page_number).await?;
    let rows = rows
        .into_iter()
        .map(|row| {
            let depth = u32::try_from(row.depth).unwrap_or(1);
            let body = row.body.clone();
            ((CommentView::new(row, &ctx.config), body), depth)
        })
        .collect();
    Ok(ThreadJson {
        page,
        pages: (total_threads + i64::from(per_page) - 1) / i64::from(per_page),
        per_page,
        total_threads,
        comments: layout(rows, ctx.config.max_depth)
            .into_iter()
            .map(|item| CommentJson::new(item, &ctx.config))
            .collect(),
        article: ArticleJson {
            slug: article.slug,
            title: article.title,
            url: article.url,
            comments_open: article.comments_open,
        },
    })
}

/// A new form stamp, to send back with the comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormStamp {
    /// Signed note of when the form was shown. Send it back unchanged as `form_stamp`, once: a
    /// comment without a valid one, sent within seconds of it or a day after, or with a stamp that
    /// already stored another comment, goes to the spam tab, as on the HTML form.
    #[schema(example = "1786000000.3f2a9c0d1e4b5a6c.0123456789abcdef0123456789abcdef")]
    pub form_stamp: String,
}

/// A fresh stamp for a comment on `slug`, which must be open for comments.
pub async fn form_stamp(ctx: &Context, slug: &str) -> Result<FormStamp, Problem> {
    let article = load_article(ctx, slug).await?;
    if !article.comments_open {
        return Err(AppError::CommentsClosed.into());
    }
    Ok(FormStamp {
        form_stamp: crate::safety::spam::stamp(&ctx.stamp_key, chrono::Utc::now().timestamp()),
    })
}

/// A comment as JSON: the HTML form's fields. Fields left out are empty, and every problem is
/// reported at once.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewCommentJson {
    /// A first name or a made-up one, 1 to 80 characters.
    #[schema(required = true, example = "Sam", min_length = 1, max_length = 80)]
    pub name: String,
    /// Optional, never shown; kept only to tell the reader about replies.
    #[schema(example = "sam@example.org", max_length = 254)]
    pub email: Option<String>,
    /// Plain text, 1 to 5000 characters.
    #[schema(
        required = true,
        example = "Thank you for writing this.",
        min_length = 1,
        max_length = 5000
    )]
    pub body: String,
    /// The published comment this replies to.
    #[schema(example = json!(null))]
    pub parent_id: Option<i64>,
    /// The stamp from `GET /api/v1/articles/{slug}/form`.
    pub form_stamp: Option<String>,
    /// Tell the reader by email when someone replies (needs `email`; they confirm first).
    pub notify: Option<bool>,
    /// Leave out or empty. A trap for bots, as on the HTML form: a comment that fills it goes to
    /// the spam tab.
    #[schema(example = "")]
    pub website: Option<String>,
}

impl NewCommentJson {
    /// The form the HTML page would have sent, normalised the same way.
    fn into_form(self) -> CommentForm {
        let text = |value: Option<String>| normalise(&value.unwrap_or_default());
        CommentForm {
            name: normalise(&self.name),
            email: text(self.email),
            body: normalise(&self.body),
            parent_id: self.parent_id.map(|id| id.to_string()).unwrap_or_default(),
            notify: if self.notify == Some(true) {
                "1".into()
            } else {
                String::new()
            },
            website: text(self.website),
            form_stamp: text(self.form_stamp),
        }
    }
}

/// The configured safety message: a lead and a list of what to do now.
#[derive(Debug, Serialize, ToSchema)]
pub struct SafetyMessageJson {
    pub lead: Vec<String>,
    pub items: Vec<String>,
}

/// A comment received for moderation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// Always `pending`: every comment waits for a moderator.
    #[schema(example = "pending")]
    pub status: &'static str,
    /// The comment mentions a warning sign: show `safety_message` now.
    pub urgent: bool,
    #[schema(
        example = "Thank you. Your comment has been received and will appear once a moderator has approved it."
    )]
    pub message: &'static str,
    /// Only when `urgent`: where to get help now, before any moderator has read the comment.
    pub safety_message: Option<SafetyMessageJson>,
}

/// The safety message for an urgent comment: its category's help, or the configured general
/// message. The one place the API reads it.
fn safety_message(config: &Config, category: Option<crate::safety::triage::Category>) -> SafetyMessageJson {
    let site = config.site_text();
    let message = SafetyMessage::new(site.safety_message(category));
    SafetyMessageJson {
        lead: message.lead,
        items: message.items,
    }
}

const RATE_LIMITED: &str =
    "You have posted several comments in a short time. Please wait a few minutes before posting again.";
const ARTICLE_BUSY: &str =
    "This article is receiving a lot of comments just now. Please wait a few minutes and try again.";

/// Posts a comment on `slug` from `client`, by the HTML form's rules.
pub async fn post(
    ctx: &Context,
    client: &Client,
    slug: &str,
    input: NewCommentJson,
) -> Result<Received, Problem> {
    let article = load_article_to_write(ctx, slug).await?;
    if !article.comments_open {
        return Err(AppError::CommentsClosed.into());
    }
    let form = input.into_form();
    let submission = Submission {
        form: &form,
        client_hash: &client.hash,
        now: chrono::Utc::now(),
    };
    let window = ctx.config.rate_window.num_seconds();
    match submit::submit(
        &ctx.db,
        &ctx.config,
        (&ctx.stamp_key, &ctx.mail_key),
        &article,
        &submission,
    )
    .await?
    {
        // Spam and repeats are answered like anything else: telling a bot what tripped it only helps it.
        Outcome::Stored { urgent, category, .. } | Outcome::Repeat { urgent, category } => Ok(Received {
            status: "pending",
            urgent,
            message: "Thank you. Your comment has been received and will appear once a moderator has approved it.",
            safety_message: urgent.then(|| safety_message(&ctx.config, category)),
        }),
        Outcome::AddressLimited => Err(Problem::too_many(RATE_LIMITED, window)),
        Outcome::ArticleBusy => Err(Problem::too_many(ARTICLE_BUSY, window)),
        Outcome::Invalid(errors) => Err(Problem::fields(field_errors(&errors))),
    }
}

/// The form's problems under the JSON field names.
fn field_errors(errors: &FormErrors) -> Vec<(&'static str, &'static str)> {
    [
        ("name", errors.name),
        ("email", errors.email),
        ("body", errors.body),
        ("parent_id", errors.parent),
    ]
    .into_iter()
    .filter_map(|(field, problem)| problem.map(|p| (field, p)))
    .collect()
}
