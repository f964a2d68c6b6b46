//! Saved replies: short texts the team reuses in staff replies (the helpline's details, a kind
//! opening), kept once instead of retyped. Verified midwives and admins add, edit and delete them;
//! the reply page inserts one into the box. They are Markdown like the replies they go into and
//! stay plain text until a reply is published, when the reply's own rendering and sanitising
//! apply: nothing here is ever shown as HTML.

pub mod routes;
pub mod service;
pub mod store;
pub mod view;

use serde::Deserialize;

pub const TITLE_MAX_CHARS: usize = 80;
pub const BODY_MAX_CHARS: usize = 2000;

/// The add and edit form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SavedReplyForm {
    pub title: String,
    pub body: String,
}

/// What needs fixing, field by field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Problems {
    pub title: Option<&'static str>,
    pub body: Option<&'static str>,
}

/// A saved reply's title and text, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedText {
    pub title: String,
    pub body: String,
}

impl SavedReplyForm {
    /// The title on one line, the text trimmed; every problem at once.
    pub fn parse(&self) -> Result<SavedText, Problems> {
        let title = crate::text::normalise_line(&self.title);
        let body = crate::text::normalise(&self.body).trim().to_owned();
        let problems = Problems {
            title: if title.is_empty() {
                Some("Please give it a short title, so it is easy to find.")
            } else if title.chars().count() > TITLE_MAX_CHARS {
                Some("Please keep the title under 80 characters.")
            } else {
                None
            },
            body: if body.is_empty() {
                Some("Please write the text to insert.")
            } else if body.chars().count() > BODY_MAX_CHARS {
                Some("Please keep the text under 2000 characters.")
            } else {
                None
            },
        };
        if problems == Problems::default() {
            Ok(SavedText { title, body })
        } else {
            Err(problems)
        }
    }
}

/// `saved` added to what was already typed, after a blank line: nothing typed is lost.
pub fn insert_after(typed: &str, saved: &str) -> String {
    let typed = typed.trim_end();
    if typed.is_empty() {
        saved.to_owned()
    } else {
        format!("{typed}\n\n{saved}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_reply_needs_a_title_and_a_text_that_fit() {
        let form = |title: &str, body: &str| SavedReplyForm {
            title: title.into(),
            body: body.into(),
        };
        assert!(form("Helpline", "Call us").parse().is_ok());
        let problems = form("  ", "").parse().unwrap_err();
        assert!(problems.title.is_some() && problems.body.is_some());
        assert!(form(&"a".repeat(81), "x").parse().is_err());
        assert!(form("t", &"a".repeat(2001)).parse().is_err());
        assert_eq!(form(" Help\nline ", " x ").parse().unwrap().title, "Help line");
    }

    #[test]
    fn inserting_keeps_what_was_typed() {
        assert_eq!(insert_after("", "Call us"), "Call us");
        assert_eq!(insert_after("Hello.\n", "Call us"), "Hello.\n\nCall us");
    }
}
