//! What the dashboard shows: queue items, tabs, a comment's page.

use askama::Template;

use super::{
    Decision, EDITABLE, Tab,
    confirm::Confirmation,
    store::{ExistingReply, QueueRow},
};
use crate::{
    accounts::{Staff, guard::StaffChrome},
    comments::{
        AuthorKind, CommentStatus,
        text::{PlainText, Segment},
    },
    safety::personal,
    web::page::age,
};

/// A comment on the dashboard.
pub struct ItemView {
    pub id: i64,
    pub article_slug: String,
    pub article_title: String,
    pub is_staff: bool,
    pub author_name: String,
    pub author_email: Option<String>,
    pub body: PlainText,
    pub body_html: Option<String>,
    pub status: &'static str,
    pub can_hide: bool,
    pub can_approve: bool,
    pub can_unhide: bool,
    pub can_mark_not_spam: bool,
    pub can_edit: bool,
    pub hidden_reason: Option<String>,
    pub urgent_signs: Vec<String>,
    pub spam_reason: Option<String>,
    pub reports: Option<String>,
    /// Kinds of personal data found in a guest's text, for the moderator to check.
    pub personal_data: Vec<&'static str>,
    /// The text as typed, for the edit form.
    pub raw_body: String,
    pub age: String,
    pub created_iso: String,
    pub in_reply_to: Option<(String, String)>,
    pub moderated: Option<String>,
    pub published_replies: i64,
    /// "Imported from WordPress": history brought from another system.
    pub imported: Option<String>,
    /// Handled privately: "Jo, 5 minutes ago", and the staff-only note.
    pub handled_privately: Option<String>,
    pub private_note: Option<PlainText>,
    /// Passed to a midwife while waiting: "Jo, 5 minutes ago".
    pub passed_to_midwife: Option<String>,
    pub can_handle_privately: bool,
    pub can_pass_to_midwife: bool,
    /// The comment after this one on the page: where the queue returns after a decision.
    pub following: Option<i64>,
}

impl From<QueueRow> for ItemView {
    fn from(row: QueueRow) -> Self {
        let excerpt = |body: &str| {
            let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
            if flat.chars().count() > 160 {
                format!("{}…", flat.chars().take(160).collect::<String>())
            } else {
                flat
            }
        };
        let is_staff = row.author_kind == AuthorKind::Staff;
        let found = if is_staff {
            Vec::new()
        } else {
            personal::find(&row.body)
        };
        let marks: Vec<_> = found.iter().map(|f| (f.range.clone(), f.kind.label())).collect();
        let mut personal_data: Vec<&'static str> = found.iter().map(|f| f.kind.label()).collect();
        personal_data.dedup();
        let urgent = !row.urgent_signs.is_empty();
        let who_when = |name: Option<String>, at: Option<chrono::DateTime<chrono::Utc>>| {
            at.map(|at| format!("{}, {}", name.as_deref().unwrap_or("someone"), age(at)))
        };
        Self {
            handled_privately: who_when(row.handled_privately_by_name, row.handled_privately_at),
            private_note: row.private_note.as_deref().map(PlainText::new),
            can_pass_to_midwife: urgent
                && !is_staff
                && row.status == CommentStatus::Pending
                && row.passed_to_midwife_at.is_none(),
            passed_to_midwife: who_when(row.passed_to_midwife_by_name, row.passed_to_midwife_at),
            can_handle_privately: urgent && Decision::HandledPrivately.applies_to(row.status),
            following: None,
            id: row.id,
            article_slug: row.article_slug,
            article_title: row.article_title,
            is_staff,
            author_name: row.author_name,
            author_email: row.author_email,
            body: PlainText::marked(&row.body, &marks),
            raw_body: row.body,
            personal_data,
            urgent_signs: row.urgent_signs,
            spam_reason: row.spam_reason,
            reports: (row.report_count > 0).then(|| {
                let n = row.report_count;
                let times = if n == 1 {
                    "once".to_owned()
                } else {
                    format!("{n} times")
                };
                format!("Reported {times}: {}", row.report_reasons.unwrap_or_default())
            }),
            imported: row
                .import_source
                .map(|source| format!("Imported from {}", imported_name(&source))),
            can_mark_not_spam: Decision::NotSpam.applies_to(row.status),
            can_edit: !is_staff && EDITABLE.contains(&row.status),
            body_html: row.body_html,
            status: match row.status {
                CommentStatus::Pending => "Waiting",
                CommentStatus::Published => "Published",
                CommentStatus::Hidden => "Hidden",
                CommentStatus::Spam => "Spam",
            },
            can_approve: Decision::Approve.applies_to(row.status),
            can_hide: Decision::Hide.applies_to(row.status),
            can_unhide: Decision::Unhide.applies_to(row.status),
            hidden_reason: row.hidden_reason,
            age: age(row.created_at),
            created_iso: row.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            in_reply_to: row
                .parent_author_name
                .zip(row.parent_body.as_deref().map(excerpt)),
            moderated: row
                .moderated_by_name
                .zip(row.moderated_at)
                .map(|(name, at)| format!("{name}, {}", age(at))),
            published_replies: row.published_replies,
        }
    }
}

impl ItemView {
    /// What this member of staff may see of it: a midwife account that no admin has verified yet
    /// sees no guest's email address (that role is not vetted until then).
    pub fn seen_by(mut self, staff: &Staff) -> Self {
        if !staff.can_moderate() {
            self.author_email = None;
        }
        self
    }
}

pub struct TabLink {
    pub label: &'static str,
    pub href: String,
    pub count: String,
    pub current: bool,
}

pub struct ArticleOption {
    pub slug: String,
    pub title: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "moderation/queue.html")]
pub struct QueuePage {
    pub chrome: StaffChrome,
    /// "2 urgent comments are waiting; the oldest for 3 hours."
    pub urgent: Option<String>,
    pub tab: Tab,
    pub tabs: Vec<TabLink>,
    /// Pick the article from a list (or type its slug, on sites with many articles).
    pub picker: bool,
    pub article_filter: String,
    pub articles: Vec<ArticleOption>,
    pub items: Vec<ItemView>,
    pub back: String,
    pub next_page: Option<String>,
    pub previous_page: Option<String>,
    /// What the last decision did, shown where the comment was.
    pub decided: Option<Confirmation>,
    /// Some comments here can be approved or hidden several at once.
    pub selectable: bool,
}

impl QueuePage {
    /// The confirmation goes just before comment `id`.
    fn decided_before(&self, id: &i64) -> bool {
        self.decided.as_ref().and_then(|d| d.before) == Some(*id)
    }

    fn can_approve_several(&self) -> bool {
        self.items.iter().any(|i| i.can_approve)
    }

    fn can_hide_several(&self) -> bool {
        self.items.iter().any(|i| i.can_hide)
    }

    /// The confirmation goes at the top: it names no comment on this page.
    fn decided_at_top(&self) -> bool {
        self.decided
            .as_ref()
            .is_some_and(|d| !d.before.is_some_and(|id| self.items.iter().any(|i| i.id == id)))
    }
}

#[derive(Template)]
#[template(path = "moderation/comment.html")]
pub struct CommentPage {
    pub chrome: StaffChrome,
    pub item: ItemView,
    /// An edit that needs fixing, with its text.
    pub edit_body: Option<String>,
    pub edit_problem: Option<&'static str>,
    pub replies: Vec<ReplyView>,
    pub reply_body: String,
    pub problem: Option<&'static str>,
    pub back: String,
    /// The queue's checkboxes are not on a comment's own page.
    pub selectable: bool,
    /// The list the midwife came from (`awaiting` or `pending`) and its article filter, carried
    /// by the reply form so "Publish and open the next question" keeps to that list's order.
    pub from: &'static str,
    pub article: String,
    pub list_href: String,
    pub list_label: &'static str,
    /// The reply as readers will see it, badge and disclaimer included (rendered by the
    /// thread's own template).
    pub preview: Option<String>,
    pub saved_replies: Vec<SavedOption>,
    /// A staff reply this member of staff may correct, with the text to show in the box.
    pub correction: Option<CorrectionBox>,
}

/// A saved reply offered for insertion.
pub struct SavedOption {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub chosen: bool,
}

pub struct CorrectionBox {
    pub body: String,
    pub problem: Option<&'static str>,
}

/// "No more questions waiting", after the last question in a list was answered.
#[derive(Template)]
#[template(path = "moderation/no_more.html")]
pub struct NoMorePage {
    pub chrome: StaffChrome,
    pub list_href: String,
    pub list_label: &'static str,
}

pub struct ReplyView {
    pub id: i64,
    pub is_staff: bool,
    pub author_name: String,
    pub body: PlainText,
    pub age: String,
    /// Its author (or an admin) is looking: offer to correct it.
    pub can_correct: bool,
}

impl ReplyView {
    pub fn new(r: ExistingReply, staff: &Staff) -> Self {
        let is_staff = r.author_kind == AuthorKind::Staff;
        Self {
            id: r.id,
            can_correct: is_staff && (r.author_user_id == Some(staff.id) || staff.is_admin()),
            is_staff,
            author_name: r.author_name,
            body: PlainText::new(&r.body),
            age: age(r.created_at),
        }
    }
}

/// A comment's words on one line, cut at 160 characters.
pub fn excerpt(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 160 {
        format!("{}…", flat.chars().take(160).collect::<String>())
    } else {
        flat
    }
}

/// A question awaiting a midwife's reply.
pub struct AwaitingItem {
    pub id: i64,
    pub article_slug: String,
    pub article_title: String,
    pub author_name: String,
    pub excerpt: String,
    pub urgent: bool,
    pub age: String,
    pub created_iso: String,
    /// Past the answer target.
    pub overdue: bool,
    /// Passed to a midwife and not published.
    pub waiting: bool,
}

#[derive(Template)]
#[template(path = "moderation/awaiting.html")]
pub struct AwaitingPage {
    pub chrome: StaffChrome,
    pub tabs: Vec<TabLink>,
    pub target_hours: i64,
    pub items: Vec<AwaitingItem>,
    /// Carried to each question's reply page, so answering keeps to this list.
    pub reply_query: String,
    pub back: String,
    pub next_page: Option<String>,
    pub previous_page: Option<String>,
}

/// The name of a system comments were imported from, as staff know it.
fn imported_name(source: &str) -> &str {
    match source {
        "wordpress" => "WordPress",
        "drupal" => "Drupal",
        "disqus" => "Disqus",
        "carethread" => "a carethread export",
        other => other,
    }
}
