//! What readers' pages show: a thread, its comments, the form and the messages around it.

use std::sync::Arc;

use askama::Template;
use serde::Deserialize;

use super::{
    AuthorKind, FormErrors, ThreadRow,
    cache::ThreadData,
    store::ReplyTarget,
    text::{PlainText, Segment},
    thread::ThreadItem,
};
use crate::{articles::Article, config::Config};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ThreadQuery {
    pub page: Option<String>,
    pub reply_to: Option<String>,
    pub posted: Option<String>,
    pub reported: Option<String>,
    /// The reader's private status link, shown once after posting.
    pub status: Option<String>,
}

impl ThreadQuery {
    pub fn page(&self) -> u32 {
        u32::try_from(crate::web::page::page_number(self.page.as_deref())).unwrap_or(1)
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
    /// A staff reply corrected after it was published.
    pub edited: bool,
}

impl CommentView {
    pub fn new(row: ThreadRow, config: &Config) -> Self {
        let local = row.created_at.with_timezone(&config.timezone);
        let is_guest = row.author_kind == AuthorKind::Guest;
        let author_name = match (is_guest, config.show_staff_names) {
            (true, _) => row.author_name,
            (false, true) => format!("{} ({})", row.author_name, config.site_text().staff_label()),
            (false, false) => config.site_text().staff_label(),
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
            edited: row.edited_at.is_some(),
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
pub struct ThreadList<'a> {
    pub items: &'a [ThreadItem<CommentView>],
    pub slug: &'a str,
    pub page: u32,
    pub comments_open: bool,
    pub verified_badge: &'a str,
    /// Shown in a frame on the charity's page: replies stay in the frame, reports open on top.
    pub embed: bool,
    /// For a member of staff signed in: each Reply goes to the comment's page on the dashboard.
    pub for_staff: bool,
}

impl ThreadList<'_> {
    fn reply_href(&self, comment_id: &i64) -> String {
        if self.for_staff {
            return format!("/moderation/comments/{comment_id}#reply");
        }
        let page = if self.page > 1 {
            format!("&page={}", self.page)
        } else {
            String::new()
        };
        let base = thread_path(self.slug, self.embed);
        format!("{base}?reply_to={comment_id}{page}#comment-form")
    }
}

/// Where an article's thread is: its own page, or the page made to sit in a frame.
pub fn thread_path(slug: &str, embed: bool) -> String {
    if embed {
        format!("/embed/articles/{slug}")
    } else {
        format!("/articles/{slug}")
    }
}

/// A thread shown in a frame on the charity's own page (see `embed.js`).
#[derive(Debug, Clone)]
pub struct EmbedFrame {
    /// The sites the frame may talk to (space-separated origins), for its script.
    pub allowed_origins: String,
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
    pub embed: Option<EmbedFrame>,
    /// A member of staff is signed in: they reply from the dashboard, not as a guest.
    pub staff: Option<StaffNotice>,
}

/// What a member of staff signed in sees instead of the guest form.
pub struct StaffNotice {
    /// "a midwife".
    pub role: &'static str,
    /// The comment they wanted to answer, on the dashboard (`?reply_to=`).
    pub reply_href: Option<String>,
}

/// A message at the top of the thread after the reader did something.
pub enum Banner {
    None,
    /// Posted, with the reader's private link to their comment.
    Posted(Option<String>),
    /// Posted, and it mentions a warning sign: what to do now, before any moderator reads it.
    PostedWithSafety(SafetyMessage, Option<String>),
    Reported(&'static str),
}

/// A piece of a help message: words, or a phone number to call with one tap.
pub enum Piece {
    Text(String),
    /// As written, and as a `tel:` address.
    Phone(String, String),
}

/// `text` with the UK help numbers in it (999, 111, 116 123, 0808 2000 247 and other full
/// numbers) made into `tel:` links.
pub fn phone_links(text: &str) -> Vec<Piece> {
    static NUMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b(?:0\d{3} ?\d{3,4} ?\d{3,4}|116 ?\d{3}|999|111)\b").expect("a valid pattern")
    });
    let mut pieces = Vec::new();
    let mut last = 0;
    for found in NUMBER.find_iter(text) {
        if found.start() > last {
            pieces.push(Piece::Text(text[last..found.start()].to_owned()));
        }
        let digits: String = found.as_str().chars().filter(char::is_ascii_digit).collect();
        pieces.push(Piece::Phone(found.as_str().to_owned(), digits));
        last = found.end();
    }
    if last < text.len() {
        pieces.push(Piece::Text(text[last..].to_owned()));
    }
    pieces
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
    /// "Email me when someone replies" was ticked.
    pub notify: bool,
    pub body: String,
    pub replying_to: Option<ReplyingTo>,
    pub errors: FormErrors,
    /// A problem with the whole form rather than one field.
    pub problem: Option<&'static str>,
    /// The signed start of the window in which the form was shown (the same for every reader
    /// then), carried through re-displays.
    pub stamp: String,
    /// The comment being replied to, kept as sent when it could not be looked up.
    pub kept_parent: String,
}

impl FormView {
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.problem.is_some()
    }
}

impl ThreadPage {
    /// A line of a help message with its phone numbers as links (see [`phone_links`]).
    fn with_phones(&self, text: &str) -> Vec<Piece> {
        phone_links(text)
    }

    pub fn thread_href(&self, page: u32) -> String {
        let base = thread_path(&self.article.slug, self.embed.is_some());
        if page <= 1 {
            base
        } else {
            format!("{base}?page={page}")
        }
    }

    fn post_href(&self) -> String {
        format!(
            "{}/comments",
            thread_path(&self.article.slug, self.embed.is_some())
        )
    }

    /// The page's list of comments, rendered once per version of the thread (see `ThreadList`).
    fn threads_html(&self) -> &str {
        self.thread.rendered[rendering(self.article.comments_open, self.embed.is_some())]
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

#[derive(Template)]
#[template(path = "comments/not_sent.html")]
pub struct NotSentPage {
    pub article: NotSentArticle,
    pub form: FormView,
    pub embed: Option<EmbedFrame>,
}

impl NotSentPage {
    pub fn thread_href(&self, _page: u32) -> String {
        thread_path(&self.article.slug, self.embed.is_some())
    }

    fn post_href(&self) -> String {
        format!("{}/comments", self.thread_href(1))
    }
}

/// Which of a page's renderings of its list to use: with or without reply links (the article is
/// open or closed), on its own page or in a frame.
pub fn rendering(comments_open: bool, embed: bool) -> usize {
    usize::from(comments_open) + 2 * usize::from(embed)
}

pub struct NotSentArticle {
    pub slug: String,
}

/// Inside a frame, for a page whose short name has no article: nothing to show, said calmly.
#[derive(Template)]
#[template(path = "comments/not_open.html")]
pub struct NotOpenPage {
    pub embed: Option<EmbedFrame>,
}

#[derive(Template)]
#[template(path = "comments/report.html")]
pub struct ReportPage {
    pub article: Article,
    pub comment: ReplyingTo,
    pub reasons: [&'static str; 5],
    pub problem: Option<&'static str>,
    pub token: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportForm {
    pub reason: String,
}

/// A reader's own comment on its private page.
pub struct StatusComment {
    pub id: i64,
    pub article_slug: String,
    pub article_title: String,
    pub author_name: String,
    pub body: PlainText,
    pub posted_on: String,
    pub posted_at_iso: String,
}

/// The private page behind a reader's status link; no comment when the link has expired.
#[derive(Template)]
#[template(path = "comments/status.html")]
pub struct StatusPage {
    pub comment: Option<StatusComment>,
    /// "waiting", "published" or "not-published".
    pub state: &'static str,
    pub replies: Vec<CommentView>,
    pub verified_badge: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_numbers_become_phone_links() {
        let pieces =
            phone_links("Call 999, NHS 111, Samaritans on 116 123 or the helpline on 0808 2000 247.");
        let phones: Vec<(String, String)> = pieces
            .into_iter()
            .filter_map(|p| match p {
                Piece::Phone(shown, tel) => Some((shown, tel)),
                Piece::Text(_) => None,
            })
            .collect();
        assert_eq!(
            phones,
            [
                ("999".to_owned(), "999".to_owned()),
                ("111".to_owned(), "111".to_owned()),
                ("116 123".to_owned(), "116123".to_owned()),
                ("0808 2000 247".to_owned(), "08082000247".to_owned()),
            ]
        );
        assert!(matches!(
            phone_links("No numbers here.").as_slice(),
            [Piece::Text(_)]
        ));
    }
}
