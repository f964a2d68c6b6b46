//! Answering in a row. The reply page knows which list the midwife came from ("Awaiting a
//! midwife", or the waiting queue) and carries it in the reply form, so "Publish and open the next
//! question" opens the next question in that list's order, and a kind page says when none is left.
//! Preview and inserting a saved reply show the page again with the text kept in the box: both
//! are plain form posts, so they work without JavaScript.

use askama::Template;
use axum::http::StatusCode;
use serde::Deserialize;

use super::{
    Tab, awaiting, parse_reply, queue,
    service::{self, Replied},
    store,
    view::{CommentPage, CorrectionBox, ItemView, ReplyView, SavedOption},
};
use crate::{
    accounts::{auth::safe_next, guard::StaffPage},
    articles,
    comments::{
        AuthorKind, CommentStatus, ThreadRow,
        thread::layout,
        view::{CommentView, ThreadList},
    },
    error::{AppError, Result},
    saved_replies,
};

/// The lists a midwife answers from, each in its own order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// Published questions no midwife has answered: urgent first, then oldest first.
    Awaiting,
    /// Comments waiting for moderation: urgent first, then oldest first.
    Waiting,
}

impl List {
    pub fn as_str(self) -> &'static str {
        match self {
            List::Awaiting => "awaiting",
            List::Waiting => "pending",
        }
    }
}

/// Where the midwife came from: `?from=awaiting&article=…` on the reply page, hidden fields in
/// its form. Read leniently: anything unknown means the list the comment is in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct FromQuery {
    pub from: String,
    pub article: String,
}

/// A list, with its article filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub list: List,
    pub article: Option<String>,
}

impl Origin {
    /// The list named in `query`; without one, the list a comment with `status` is found in.
    pub fn new(query: &FromQuery, status: CommentStatus) -> Self {
        let list = match query.from.as_str() {
            "awaiting" => List::Awaiting,
            "pending" => List::Waiting,
            _ if status == CommentStatus::Pending => List::Waiting,
            _ => List::Awaiting,
        };
        let article = Some(query.article.trim().to_owned()).filter(|a| !a.is_empty());
        Self { list, article }
    }

    pub fn list_href(&self) -> String {
        match self.list {
            List::Awaiting => awaiting::href(self.article.as_deref(), 1),
            List::Waiting => queue::queue_href(Tab::Pending, self.article.as_deref(), 1),
        }
    }

    pub fn list_label(&self) -> &'static str {
        match self.list {
            List::Awaiting => "Awaiting a midwife",
            List::Waiting => "the waiting comments",
        }
    }

    fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("from", self.list.as_str());
        if let Some(slug) = &self.article {
            query.append_pair("article", slug);
        }
        query.finish()
    }

    /// A comment's reply page, keeping to this list.
    pub fn comment_href(&self, id: i64) -> String {
        format!("/moderation/comments/{id}?{}", self.query())
    }

    /// The page that says no question is left, with the way back to this list.
    pub fn no_more_href(&self) -> String {
        format!("/moderation/no-more-questions?{}", self.query())
    }

    /// The next comment in this list's order after `id`, starting again from the top once past
    /// the end; `None` when no other is waiting.
    pub async fn next_after(&self, db: &sqlx::PgPool, id: i64) -> Result<Option<i64>> {
        let article_id = match &self.article {
            Some(slug) => match articles::store::find_by_slug(db, slug).await? {
                Some(article) => Some(article.id),
                None => return Ok(None),
            },
            None => None,
        };
        Ok(match self.list {
            List::Awaiting => store::next_awaiting(db, id, article_id).await?,
            List::Waiting => store::next_waiting(db, id, article_id).await?,
        })
    }
}

/// The reply form as posted. `intent` says which button was pressed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReplyForm {
    pub body: String,
    pub back: String,
    pub intent: String,
    /// The saved reply to insert.
    pub saved: String,
    pub from: String,
    pub article: String,
}

impl ReplyForm {
    pub fn from_query(&self) -> FromQuery {
        FromQuery {
            from: self.from.clone(),
            article: self.article.clone(),
        }
    }
}

/// The reply box as the page shows it again.
#[derive(Debug, Clone)]
pub struct Draft {
    pub body: String,
    pub problem: Option<&'static str>,
    pub preview: bool,
    pub saved: Option<i64>,
    pub status: StatusCode,
}

impl Default for Draft {
    fn default() -> Self {
        Self {
            body: String::new(),
            problem: None,
            preview: false,
            saved: None,
            status: StatusCode::OK,
        }
    }
}

impl Draft {
    /// The text again, with what stands in the way.
    pub fn refused(body: String, problem: &'static str, status: StatusCode) -> Self {
        Self {
            body,
            problem: Some(problem),
            status,
            ..Self::default()
        }
    }
}

/// What the reply page shows besides the comment: the reply box, an edit of the guest's words,
/// a correction of a staff reply, each with text that needs fixing.
#[derive(Debug, Default)]
pub struct Shown {
    pub draft: Draft,
    pub edit: Option<(String, &'static str)>,
    pub correction: Option<(String, &'static str)>,
}

/// What a press of one of the reply form's buttons leads to.
pub enum Composed {
    /// Published: go to `to`, telling the midwife `message`.
    Published { to: String, message: String },
    /// The page again, with the reply box as it should be shown.
    Again(Draft),
}

/// Publishes, previews, or inserts a saved reply, as the button pressed asks.
pub async fn compose(page: &StaffPage, id: i64, mut form: ReplyForm) -> Result<Composed> {
    let intent = std::mem::take(&mut form.intent);
    match intent.as_str() {
        "preview" => Ok(Composed::Again(match parse_reply(&form.body) {
            Ok(_) => Draft {
                body: form.body,
                preview: true,
                ..Draft::default()
            },
            Err(problem) => Draft::refused(form.body, problem, StatusCode::UNPROCESSABLE_ENTITY),
        })),
        "insert" => insert_saved(&page.db, form).await.map(Composed::Again),
        intent => publish(page, id, form, intent == "next").await,
    }
}

async fn insert_saved(db: &sqlx::PgPool, form: ReplyForm) -> Result<Draft> {
    let chosen = match form.saved.trim().parse::<i64>() {
        Ok(saved_id) => saved_replies::store::find(db, saved_id).await?,
        Err(_) => None,
    };
    Ok(match chosen {
        Some(saved) => Draft {
            body: saved_replies::insert_after(&form.body, &saved.body),
            saved: Some(saved.id),
            ..Draft::default()
        },
        None => Draft::refused(
            form.body,
            "Please choose a saved reply to insert. Your reply is still here.",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    })
}

async fn publish(page: &StaffPage, id: i64, form: ReplyForm, then_next: bool) -> Result<Composed> {
    let (problem, status) = match service::reply(&page.db, &page.config, &page.staff, id, &form.body).await? {
        Replied::Published { approved, .. } => {
            let also = if approved {
                " The comment it answers is approved too."
            } else {
                ""
            };
            let published = format!("Your reply is published.{also}");
            if !then_next {
                let to = safe_next(Some(&form.back));
                return Ok(Composed::Published {
                    to,
                    message: published,
                });
            }
            let origin = Origin::new(&form.from_query(), CommentStatus::Published);
            return Ok(match origin.next_after(&page.db, id).await? {
                Some(next) => Composed::Published {
                    to: origin.comment_href(next),
                    message: format!("{published} Here is the next question."),
                },
                None => Composed::Published {
                    to: origin.no_more_href(),
                    message: published,
                },
            });
        }
        Replied::Refused {
            problem,
            conflict: true,
        } => (problem, StatusCode::CONFLICT),
        Replied::Refused { problem, .. } => (problem, StatusCode::UNPROCESSABLE_ENTITY),
    };
    Ok(Composed::Again(Draft::refused(form.body, problem, status)))
}

/// A comment's page for `page.staff`, with the reply box, edit and correction as `shown` says.
pub async fn comment_page(page: &StaffPage, id: i64, from: &FromQuery, shown: Shown) -> Result<CommentPage> {
    let row = store::find(&page.db, id).await?.ok_or(AppError::NotFound)?;
    let origin = Origin::new(from, row.status);
    let replies = store::replies_to(&page.db, id).await?;
    let staff = &page.staff;
    let saved_replies = if staff.can_reply() {
        saved_replies::store::list(&page.db).await?
    } else {
        Vec::new()
    };
    let correction = if row.author_kind == AuthorKind::Staff && row.status != CommentStatus::Hidden {
        let author = store::staff_reply_author(&page.db, id).await?;
        let may = author == Some(staff.id) || staff.is_admin();
        may.then(|| match shown.correction {
            Some((body, problem)) => CorrectionBox {
                body,
                problem: Some(problem),
            },
            None => CorrectionBox {
                body: row.body.clone(),
                problem: None,
            },
        })
    } else {
        None
    };
    // The way back: to the list named, or to the queue as before.
    let (list_href, list_label) = if from.from.is_empty() {
        ("/moderation".to_owned(), "the queue")
    } else {
        (origin.list_href(), origin.list_label())
    };
    let draft = shown.draft;
    let preview = if draft.preview {
        // The disclaimer and badge as readers will see them, even if changed through another process.
        crate::settings::service::catch_up(&page.db, &page.config).await?;
        Some(preview(page, &row.article_slug, &draft.body)?)
    } else {
        None
    };
    Ok(CommentPage {
        chrome: page.chrome().await?,
        back: format!("/moderation/comments/{id}"),
        item: ItemView::from(row).seen_by(staff),
        edit_problem: shown.edit.as_ref().map(|(_, problem)| *problem),
        edit_body: shown.edit.map(|(body, _)| body),
        replies: replies.into_iter().map(|r| ReplyView::new(r, staff)).collect(),
        reply_body: draft.body,
        problem: draft.problem,
        from: origin.list.as_str(),
        article: origin.article.clone().unwrap_or_default(),
        list_href,
        list_label,
        preview,
        saved_replies: saved_replies
            .into_iter()
            .map(|s| SavedOption {
                chosen: draft.saved == Some(s.id),
                id: s.id,
                title: s.title,
                body: s.body,
            })
            .collect(),
        correction,
        selectable: false,
    })
}

/// The reply as readers will see it: rendered and sanitised as publishing would, and laid out by
/// the thread's own template with the name, badge and disclaimer readers are shown.
fn preview(page: &StaffPage, slug: &str, body: &str) -> Result<String> {
    let body = parse_reply(body).unwrap_or_default();
    let site = page.config.site_text();
    let row = ThreadRow {
        id: 0,
        author_kind: AuthorKind::Staff,
        author_name: page.staff.display_name.clone(),
        body_html: Some(super::markdown::render(&body)),
        body,
        disclaimer: Some(site.disclaimer.clone()),
        created_at: chrono::Utc::now(),
        depth: 1,
        parent_name: None,
        edited_at: None,
    };
    let items = layout(vec![(CommentView::new(row, &page.config), 1)], 1);
    let list = ThreadList {
        items: &items,
        slug,
        page: 1,
        comments_open: false,
        verified_badge: &site.verified_badge,
        embed: false,
        // As readers see it.
        for_staff: false,
    };
    list.render()
        .map_err(|e| AppError::Other(anyhow::Error::new(e).context("reply preview")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(from: &str, article: &str) -> FromQuery {
        FromQuery {
            from: from.into(),
            article: article.into(),
        }
    }

    #[test]
    fn without_a_list_named_the_comment_s_own_list_is_used() {
        let waiting = Origin::new(&query("", ""), CommentStatus::Pending);
        assert_eq!(waiting.list, List::Waiting);
        let published = Origin::new(&query("nonsense", ""), CommentStatus::Published);
        assert_eq!(published.list, List::Awaiting);
        let named = Origin::new(&query("pending", ""), CommentStatus::Published);
        assert_eq!(named.list, List::Waiting);
    }

    #[test]
    fn addresses_keep_the_list_and_its_filter() {
        let origin = Origin::new(&query("awaiting", "a&b"), CommentStatus::Published);
        assert_eq!(
            origin.comment_href(7),
            "/moderation/comments/7?from=awaiting&article=a%26b"
        );
        assert_eq!(
            origin.no_more_href(),
            "/moderation/no-more-questions?from=awaiting&article=a%26b"
        );
        assert_eq!(origin.list_href(), "/moderation/awaiting?article=a%26b");
    }
}
