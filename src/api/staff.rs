//! The staff part of the API: the queue, decisions and replies, through the dashboard's own
//! services and by its role rules (see `guard`). Every change made with a token is audited twice:
//! the change itself, with the token's owner as actor, and the token's use.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{guard::ApiStaff, problem::Problem, tokens::Scope};
use crate::{
    articles,
    comments::CommentStatus,
    moderation::{
        ANSWERABLE, Decision, Tab,
        queue::{self as moderation_queue, Listing},
        service::{self, Decided, Replied},
        store,
        view::ItemView,
    },
    web::page::MAX_PAGE,
};

/// A tab of the queue.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum QueueStatus {
    /// Waiting for moderation: urgent first, then oldest first.
    #[default]
    Pending,
    Published,
    Hidden,
    Spam,
}

impl QueueStatus {
    fn tab(self) -> Tab {
        match self {
            QueueStatus::Pending => Tab::Pending,
            QueueStatus::Published => Tab::Published,
            QueueStatus::Hidden => Tab::Hidden,
            QueueStatus::Spam => Tab::Spam,
        }
    }

    fn of(status: CommentStatus) -> Self {
        match status {
            CommentStatus::Pending => QueueStatus::Pending,
            CommentStatus::Published => QueueStatus::Published,
            CommentStatus::Hidden => QueueStatus::Hidden,
            CommentStatus::Spam => QueueStatus::Spam,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// The tab (default `pending`).
    pub status: Option<QueueStatus>,
    /// Only this article's comments.
    #[param(example = "after-a-miscarriage")]
    pub article: Option<String>,
    /// Which page of 50, from 1.
    #[param(minimum = 1, example = 1)]
    pub page: Option<i64>,
}

/// One tab of the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueJson {
    pub status: QueueStatus,
    pub article: Option<String>,
    pub page: i64,
    /// There is a next page.
    pub has_more: bool,
    pub counts: QueueCounts,
    pub items: Vec<QueueItem>,
}

/// How many comments each tab holds (counted up to `capped_at`), with the urgent ones waiting.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCounts {
    pub pending: i64,
    pub published: i64,
    pub hidden: i64,
    pub spam: i64,
    /// Tabs count this far and no further.
    pub capped_at: i64,
    /// Waiting comments that mention a warning sign.
    pub urgent: i64,
    #[schema(format = DateTime)]
    pub oldest_urgent_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleRef {
    pub slug: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InReplyTo {
    pub author: String,
    /// The start of the comment answered.
    pub excerpt: String,
}

/// A comment as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    pub id: i64,
    pub article: ArticleRef,
    pub status: QueueStatus,
    pub author: String,
    /// A reply by staff rather than a reader's comment.
    pub staff_reply: bool,
    /// The reader's email, when given; never for a token whose account awaits verification.
    pub email: Option<String>,
    /// The text as written (plain text; Markdown for a staff reply).
    pub body: String,
    /// A staff reply's sanitised HTML.
    pub body_html: Option<String>,
    #[schema(format = DateTime)]
    pub posted_at: String,
    /// The warning signs it mentions (urgent when any).
    pub urgent_signs: Vec<String>,
    pub spam_reason: Option<String>,
    /// How often and why readers reported it.
    pub reports: Option<String>,
    /// Kinds of personal details it seems to contain (a phone number, an email address…).
    pub personal_data: Vec<String>,
    /// Why it was hidden (staff only).
    pub hidden_reason: Option<String>,
    pub in_reply_to: Option<InReplyTo>,
    /// Published replies a hide would take with it.
    pub published_replies: i64,
    /// What this token may do to it now: `approve`, `hide`, `unhide`, `not-spam`, `reply`.
    pub actions: Vec<&'static str>,
}

impl QueueItem {
    fn new(view: ItemView, status: QueueStatus, caller: &ApiStaff) -> Self {
        let may_change = caller.holder.scope == Scope::Moderate;
        let moderates = may_change && caller.holder.staff.can_moderate();
        let replies = may_change && caller.holder.staff.can_reply();
        let answerable = ANSWERABLE.iter().any(|s| QueueStatus::of(*s) == status);
        let actions = [
            ("approve", moderates && view.can_approve),
            ("hide", moderates && view.can_hide),
            ("unhide", moderates && view.can_unhide),
            ("not-spam", moderates && view.can_mark_not_spam),
            ("reply", replies && answerable),
        ]
        .into_iter()
        .filter_map(|(name, allowed)| allowed.then_some(name))
        .collect();
        Self {
            id: view.id,
            article: ArticleRef {
                slug: view.article_slug,
                title: view.article_title,
            },
            status,
            author: view.author_name,
            staff_reply: view.is_staff,
            email: view.author_email,
            body: view.raw_body,
            body_html: view.body_html,
            posted_at: view.created_iso,
            urgent_signs: view.urgent_signs,
            spam_reason: view.spam_reason,
            reports: view.reports,
            personal_data: view.personal_data.into_iter().map(str::to_owned).collect(),
            hidden_reason: view.hidden_reason,
            in_reply_to: view
                .in_reply_to
                .map(|(author, excerpt)| InReplyTo { author, excerpt }),
            published_replies: view.published_replies,
            actions,
        }
    }
}

/// One tab of the queue as `caller`'s account may see it.
pub async fn queue(caller: &ApiStaff, query: &QueueQuery) -> Result<QueueJson, Problem> {
    let db = &caller.db;
    let status = query.status.unwrap_or_default();
    let article = match query.article.as_deref().filter(|s| !s.is_empty()) {
        Some(slug) => Some(
            articles::store::find_by_slug(db, slug)
                .await?
                .ok_or_else(|| Problem::not_found("No article has that slug."))?,
        ),
        None => None,
    };
    let page = query.page.unwrap_or(1).clamp(1, MAX_PAGE);
    let article_id = article.as_ref().map(|a| a.id);
    let Listing {
        items,
        has_more,
        counts,
    } = moderation_queue::listing(db, &caller.holder.staff, status.tab(), article_id, page).await?;
    let items = items
        .into_iter()
        .map(|item| QueueItem::new(item, status, caller))
        .collect();
    Ok(QueueJson {
        status,
        article: article.map(|a| a.slug),
        page,
        has_more,
        counts: QueueCounts {
            pending: counts.pending,
            published: counts.published,
            hidden: counts.hidden,
            spam: counts.spam,
            capped_at: store::COUNT_CAP,
            urgent: counts.urgent,
            oldest_urgent_at: counts
                .oldest_urgent
                .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        },
        items,
    })
}

/// The optional body of a hide.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HideJson {
    /// Why, for staff only (at most 500 characters).
    #[schema(example = "Shares a phone number", max_length = 500)]
    pub reason: Option<String>,
}

/// A decision made.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionJson {
    pub id: i64,
    /// The comment's status now.
    pub status: QueueStatus,
    #[schema(example = "Approved. The comment is now published.")]
    pub message: &'static str,
}

/// Applies `decision` to comment `id` for `caller`: done, or 409 when someone else decided first.
pub async fn decide(
    caller: &ApiStaff,
    id: i64,
    decision: Decision,
    reason: &str,
) -> Result<DecisionJson, Problem> {
    let verb = match decision {
        Decision::Approve => "approve",
        Decision::Hide => "hide",
        Decision::Unhide => "unhide",
        Decision::NotSpam => "mark as not spam",
        Decision::HandledPrivately => "mark as handled privately",
    };
    super::tokens::record_use(&caller.db, &caller.holder, &format!("{verb} comment {id}")).await?;
    match service::decide_outcome(&caller.db, &caller.holder.staff, id, decision, reason).await? {
        Decided::Done(decision, _) => Ok(DecisionJson {
            id,
            status: QueueStatus::of(decision.leads_to()),
            message: decision.done(),
        }),
        Decided::AlreadyDone(message) => Err(Problem::conflict(message)),
        Decided::InvalidReason(problem) => Err(Problem::fields([("reason", problem)])),
    }
}

/// A staff reply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyJson {
    /// A small Markdown subset (paragraphs, lists, emphasis, links), 1 to 5000 characters.
    #[schema(
        example = "Thank you for asking. **Please call your maternity unit** today.",
        min_length = 1,
        max_length = 5000
    )]
    pub body: String,
}

/// A reply published.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyPublished {
    /// The reply's id.
    pub id: i64,
    /// The comment it answers.
    pub parent_id: i64,
    /// The comment it answers was waiting and is now approved too.
    pub approved_parent: bool,
}

/// Publishes `caller`'s reply under comment `id`.
pub async fn reply(caller: &ApiStaff, id: i64, body: &str) -> Result<ReplyPublished, Problem> {
    super::tokens::record_use(&caller.db, &caller.holder, &format!("reply to comment {id}")).await?;
    let staff = &caller.holder.staff;
    match service::reply(&caller.db, &caller.config, staff, id, body).await? {
        Replied::Published { id: reply, approved } => Ok(ReplyPublished {
            id: reply,
            parent_id: id,
            approved_parent: approved,
        }),
        Replied::Refused {
            problem,
            conflict: true,
        } => Err(Problem::conflict(problem)),
        Replied::Refused { problem, .. } => Err(Problem::fields([("body", problem)])),
    }
}
