//! Comments: what guests post, how it is checked, and how published threads are read.

pub mod cache;
pub mod embed;
pub mod purge;
pub mod reading;
pub mod report;
pub mod routes;
pub mod store;
pub mod submit;
pub mod text;
pub mod thread;
pub mod view;

use std::sync::Arc;

use axum::{
    extract::{FromRef, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgPool;

use crate::{
    accounts::auth::SignedIn,
    articles::memo::ArticleMemo,
    config::Config,
    db::{Outage, Reads},
    text::{normalise, normalise_line},
    web::{
        caching::has_cookie,
        client::{Client, ClientKeys},
    },
};

/// What readers' pages and posting need from the application.
#[derive(Clone)]
pub struct Context {
    /// The primary: staff, writes, and the checks before a post.
    pub db: PgPool,
    /// Readers' public reads: a replica when one is in use (see `db::replicas`).
    pub reads: Reads,
    pub config: Arc<Config>,
    pub threads: Arc<cache::ThreadCache>,
    pub articles: Arc<ArticleMemo>,
    /// Signs the time a comment form was shown.
    pub stamp_key: Arc<[u8]>,
    pub outage: Arc<Outage>,
    /// Signs the links in mails.
    pub mail_key: Arc<[u8]>,
    /// The name of the staff session cookie: a request carrying it is never answered with a page
    /// a shared cache keeps (its value is not read here).
    pub staff_cookie: &'static str,
}

/// A reader's request: the context and what decides whether their page may be shared. Reading
/// a thread needs nothing else, so nothing else is worked out: no form token, no client hash.
pub struct Reader {
    pub ctx: Context,
    /// The request came from a page of this site (see `embed::from_this_site`).
    pub from_this_site: bool,
    /// A member of staff signed in on this browser (their role, as "a midwife"): they reply from
    /// the dashboard, and their pages are never cached (see `reading::staff_thread_page`).
    pub staff: Option<&'static str>,
    /// The request carries a staff session cookie.
    pub staff_signed_in: bool,
    /// The request's `If-None-Match`, if any.
    pub conditional: HeaderMap,
    /// The reader's browser takes pages compressed with gzip (see `web::caching::accepts_gzip`).
    pub gzip: bool,
}

impl<S> FromRequestParts<S> for Reader
where
    S: Send + Sync,
    Context: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = Context::from_ref(state);
        Ok(Self {
            staff_signed_in: has_cookie(&parts.headers, ctx.staff_cookie),
            ctx,
            from_this_site: embed::from_this_site(&parts.headers),
            staff: SignedIn::from_request_parts(parts, state)
                .await
                .ok()
                .and_then(|signed_in| signed_in.0)
                .map(|staff| staff.role.with_article()),
            gzip: crate::web::caching::accepts_gzip(&parts.headers) == Some(true),
            conditional: parts
                .headers
                .get_all(header::IF_NONE_MATCH)
                .iter()
                .map(|v| (header::IF_NONE_MATCH, v.clone()))
                .collect(),
        })
    }
}

/// A reader who sends something (a comment, a report): their request and who they are, as a
/// keyed hash of their address that limits and repeats are counted by.
pub struct Poster {
    pub reader: Reader,
    pub client: Client,
}

impl<S> FromRequestParts<S> for Poster
where
    S: Send + Sync,
    Context: FromRef<S>,
    ClientKeys: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            reader: Reader::from_request_parts(parts, state).await?,
            client: Client::from_request_parts(parts, state)
                .await
                .map_err(IntoResponse::into_response)?,
        })
    }
}

pub use crate::text::NAME_MAX_CHARS;
pub const BODY_MAX_CHARS: usize = 5000;
const EMAIL_MAX_CHARS: usize = 254;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "comment_status", rename_all = "lowercase")]
pub enum CommentStatus {
    Pending,
    Published,
    Hidden,
    /// Likely spam, kept apart from the queue until a moderator looks.
    Spam,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "author_kind", rename_all = "lowercase")]
pub enum AuthorKind {
    Guest,
    Staff,
}

/// A published comment as read from a thread, in reading order with its real depth.
#[derive(Debug, Clone)]
pub struct ThreadRow {
    pub id: i64,
    pub author_kind: AuthorKind,
    pub author_name: String,
    pub body: String,
    /// Sanitised HTML of a staff reply.
    pub body_html: Option<String>,
    /// The disclaimer a staff reply was published with.
    pub disclaimer: Option<String>,
    pub created_at: DateTime<Utc>,
    pub depth: i32,
    pub parent_name: Option<String>,
    /// When a staff reply was last corrected after publishing.
    pub edited_at: Option<DateTime<Utc>>,
}

/// The form as posted. Every field is a plain string so nothing the reader typed is lost to a
/// parse error: we check it ourselves and show it back.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CommentForm {
    pub name: String,
    pub email: String,
    pub body: String,
    pub parent_id: String,
    /// Hidden from people; a bot that fills it in gives itself away.
    pub website: String,
    /// When the form was shown, signed (see `safety::spam::stamp`).
    pub form_stamp: String,
    /// "1" when the reader ticked "Email me when someone replies".
    pub notify: String,
}

impl CommentForm {
    pub fn wants_replies(&self) -> bool {
        self.notify.trim() == "1"
    }
}

/// What is wrong with a form, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors {
    pub name: Option<&'static str>,
    pub email: Option<&'static str>,
    pub body: Option<&'static str>,
    pub parent: Option<&'static str>,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// A comment that passed every check on its own; the parent is checked against the database.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub author_name: String,
    pub author_email: Option<String>,
    pub body: String,
    pub parent_id: Option<i64>,
    /// Mail the author when someone replies (to `author_email`, once confirmed).
    pub notify: bool,
}

pub const PARENT_UNAVAILABLE: &str = "The comment you are replying to is not available any more. \
You can post yours as a new comment: your text is still here.";

/// Why a guest's text cannot be kept as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyProblem {
    Empty,
    TooLong,
}

/// A guest's comment text, normalised and trimmed, within 1 to 5000 characters. The one rule for
/// both posting and moderators' edits.
pub fn parse_body(raw: &str) -> Result<String, BodyProblem> {
    let body = normalise(raw).trim().to_owned();
    match body.chars().count() {
        0 => Err(BodyProblem::Empty),
        n if n > BODY_MAX_CHARS => Err(BodyProblem::TooLong),
        _ => Ok(body),
    }
}

impl CommentForm {
    pub fn parse(&self) -> Result<NewComment, FormErrors> {
        let mut errors = FormErrors::default();

        let name = normalise_line(&self.name);
        if name.is_empty() {
            errors.name = Some("Please enter a name. It can be a first name or a made-up one.");
        } else if name.chars().count() > NAME_MAX_CHARS {
            errors.name = Some("Please use a name of 80 characters or fewer.");
        }

        let email = self.email.trim();
        if email.chars().count() > EMAIL_MAX_CHARS
            || (!email.is_empty() && !email_address::EmailAddress::is_valid(email))
        {
            errors.email =
                Some("This does not look like an email address. Please check it, or leave it empty.");
        } else if email.is_empty() && self.wants_replies() {
            errors.email = Some(
                "To be told about replies, please give your email address, or untick \u{201c}Email me when someone replies\u{201d}.",
            );
        }

        let body = match parse_body(&self.body) {
            Ok(body) => body,
            Err(BodyProblem::Empty) => {
                errors.body = Some("Please write your comment.");
                String::new()
            }
            Err(BodyProblem::TooLong) => {
                errors.body =
                    Some("Your comment is longer than 5000 characters. Please shorten it a little.");
                String::new()
            }
        };

        let parent_id = match self.parent_id.trim() {
            "" => None,
            raw => match raw.parse::<i64>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    errors.parent = Some(PARENT_UNAVAILABLE);
                    None
                }
            },
        };

        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(NewComment {
            author_name: name,
            author_email: (!email.is_empty()).then(|| email.to_owned()),
            body,
            parent_id,
            notify: self.wants_replies(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, email: &str, body: &str) -> CommentForm {
        CommentForm {
            name: name.into(),
            email: email.into(),
            body: body.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_form_becomes_a_comment_with_trimmed_text() {
        let comment = form("  Sam ", "", "\n  Thank you for this.  \r\n")
            .parse()
            .unwrap();
        assert_eq!(comment.author_name, "Sam");
        assert_eq!(comment.body, "Thank you for this.");
        assert_eq!(comment.author_email, None);
        assert_eq!(comment.parent_id, None);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = form(" ", "not-an-email", "   ").parse().unwrap_err();
        assert!(errors.name.is_some());
        assert!(errors.email.is_some());
        assert!(errors.body.is_some());
    }

    #[test]
    fn lengths_are_counted_in_characters_not_bytes() {
        assert!(form(&"é".repeat(80), "", "ok").parse().is_ok());
        assert!(form(&"é".repeat(81), "", "ok").parse().is_err());
        assert!(form("Sam", "", &"ü".repeat(5000)).parse().is_ok());
        assert!(form("Sam", "", &"ü".repeat(5001)).parse().is_err());
    }

    #[test]
    fn a_parent_that_is_not_a_number_is_refused() {
        let mut f = form("Sam", "", "hello");
        f.parent_id = "abc".into();
        assert_eq!(f.parse().unwrap_err().parent, Some(PARENT_UNAVAILABLE));
    }

    #[test]
    fn control_characters_are_dropped_but_line_breaks_kept() {
        let comment = form("Sam\u{0}", "", "one\u{0}\ntwo\u{7}").parse().unwrap();
        assert_eq!(comment.author_name, "Sam");
        assert_eq!(comment.body, "one\ntwo");
    }

    #[test]
    fn asking_for_reply_mails_needs_an_email_address() {
        let mut f = form("Sam", "", "hi");
        f.notify = "1".into();
        assert!(f.parse().unwrap_err().email.is_some());
        f.email = "sam@example.org".into();
        assert!(f.parse().unwrap().notify);
    }

    #[test]
    fn a_valid_email_is_kept() {
        let comment = form("Sam", " sam@example.org ", "hi").parse().unwrap();
        assert_eq!(comment.author_email.as_deref(), Some("sam@example.org"));
    }
}
