//! Moderation: the queue of comments, decisions on them, and staff replies.
//!
//! Hiding a comment hides its whole branch from readers: replies often quote or answer what was
//! removed, so they go with it. Unhiding brings the branch back. The dashboard says how many
//! published replies a hide will take with it.
//!
//! Every decision is one conditional UPDATE inside a transaction with its audit entry: when two
//! staff act on the same comment at once, the second finds the comment already changed, nothing is
//! applied twice, and they are told what happened instead.

pub mod answering;
pub mod awaiting;
pub mod confirm;
pub mod markdown;
pub mod queue;
pub mod routes;
pub mod service;
pub mod store;
pub mod view;

use crate::{audit::Action, comments::CommentStatus};

/// A moderator's decision on a comment, with everything the product says about it in one place:
/// which statuses it may start from, where it leads, how the audit log names it and what the
/// moderator is told. The SQL (`status = ANY(…)`) and the buttons on the dashboard both read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A waiting comment is published.
    Approve,
    /// A comment leaves readers' pages, with its replies.
    Hide,
    /// A hidden comment and its replies come back.
    Unhide,
    /// A comment in the spam tab joins the waiting queue.
    NotSpam,
    /// An urgent comment dealt with away from the page (staff contacted the reader): it leaves
    /// the waiting queue without being published, with a note for staff.
    HandledPrivately,
}

impl Decision {
    pub const ALL: [Decision; 5] = [
        Decision::Approve,
        Decision::Hide,
        Decision::Unhide,
        Decision::NotSpam,
        Decision::HandledPrivately,
    ];

    /// The statuses a comment may have for this decision to apply.
    pub fn starts_from(self) -> &'static [CommentStatus] {
        use CommentStatus::{Hidden, Pending, Published, Spam};
        match self {
            Decision::Approve => &[Pending],
            Decision::Hide => &[Pending, Published, Spam],
            Decision::Unhide => &[Hidden],
            Decision::NotSpam => &[Spam],
            Decision::HandledPrivately => &[Pending],
        }
    }

    /// The status the comment has afterwards.
    pub fn leads_to(self) -> CommentStatus {
        match self {
            Decision::Approve | Decision::Unhide => CommentStatus::Published,
            Decision::Hide | Decision::HandledPrivately => CommentStatus::Hidden,
            Decision::NotSpam => CommentStatus::Pending,
        }
    }

    pub fn applies_to(self, status: CommentStatus) -> bool {
        self.starts_from().contains(&status)
    }

    pub fn audit_action(self) -> Action {
        match self {
            Decision::Approve => Action::CommentApproved,
            Decision::Hide => Action::CommentHidden,
            Decision::Unhide => Action::CommentUnhidden,
            Decision::NotSpam => Action::CommentNotSpam,
            Decision::HandledPrivately => Action::CommentHandledPrivately,
        }
    }

    /// The decision as read back from the audit log, for an undo.
    pub fn from_action(action: &str) -> Option<Decision> {
        Decision::ALL
            .into_iter()
            .find(|d| d.audit_action().as_str() == action)
    }

    /// "Approved Kim's comment on", before the article's title; and what follows the title.
    pub fn named(self, author: &str) -> (String, &'static str) {
        let (verb, after) = match self {
            Decision::Approve => ("Approved", ". It is now published."),
            Decision::Hide => ("Hid", ". Readers no longer see it or its replies."),
            Decision::Unhide => ("Unhid", ". It is published again with its replies."),
            Decision::NotSpam => ("Moved", " to the waiting queue."),
            Decision::HandledPrivately => (
                "Marked as handled privately:",
                ". It will not be published, and is kept under \u{201c}Handled privately\u{201d}.",
            ),
        };
        (format!("{verb} {author}\u{2019}s comment on"), after)
    }

    /// "Approved 3 comments", for several at once.
    pub fn counted(self, n: usize) -> String {
        let verb = match self {
            Decision::Approve => "Approved",
            Decision::Hide => "Hid",
            Decision::Unhide => "Unhid",
            Decision::NotSpam => "Moved to the waiting queue:",
            Decision::HandledPrivately => "Marked as handled privately:",
        };
        match n {
            1 => format!("{verb} 1 comment."),
            n => format!("{verb} {n} comments."),
        }
    }

    /// What the moderator is told once it is done.
    pub fn done(self) -> &'static str {
        match self {
            Decision::Approve => "Approved. The comment is now published.",
            Decision::Hide => "Hidden. Readers no longer see this comment or its replies.",
            Decision::Unhide => "Unhidden. The comment and its replies are published again.",
            Decision::NotSpam => "Moved to the waiting queue.",
            Decision::HandledPrivately => "Marked as handled privately. It will not be published.",
        }
    }
}

/// Statuses in which a guest's words may be edited (to take out personal details): not once
/// hidden, since readers will not see them again unless it is unhidden.
pub const EDITABLE: [CommentStatus; 3] = [
    CommentStatus::Pending,
    CommentStatus::Published,
    CommentStatus::Spam,
];

/// Statuses of a comment a staff reply may answer: a waiting one is approved with the reply.
pub const ANSWERABLE: [CommentStatus; 2] = [CommentStatus::Pending, CommentStatus::Published];

pub const REPLY_MAX_CHARS: usize = 5000;
pub const REASON_MAX_CHARS: usize = 500;
pub const NOTE_MAX_CHARS: usize = 2000;
/// At most this many comments are decided at once (a page of the queue is 50).
pub const BULK_MAX: usize = 100;

/// The dashboard's tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Pending,
    Published,
    Hidden,
    Spam,
    /// Urgent comments handled privately: hidden comments with a staff note, never published.
    Private,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Pending, Tab::Published, Tab::Hidden, Tab::Spam, Tab::Private];

    pub fn parse(raw: Option<&str>) -> Self {
        match raw {
            Some("published") => Tab::Published,
            Some("hidden") => Tab::Hidden,
            Some("spam") => Tab::Spam,
            Some("private") => Tab::Private,
            _ => Tab::Pending,
        }
    }

    pub fn status(self) -> CommentStatus {
        match self {
            Tab::Pending => CommentStatus::Pending,
            Tab::Published => CommentStatus::Published,
            Tab::Hidden | Tab::Private => CommentStatus::Hidden,
            Tab::Spam => CommentStatus::Spam,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Pending => "pending",
            Tab::Published => "published",
            Tab::Hidden => "hidden",
            Tab::Spam => "spam",
            Tab::Private => "private",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tab::Pending => "Waiting",
            Tab::Published => "Published",
            Tab::Hidden => "Hidden",
            Tab::Spam => "Spam",
            Tab::Private => "Handled privately",
        }
    }
}

/// A staff reply's text, checked.
pub fn parse_reply(body: &str) -> Result<String, &'static str> {
    // The same normalisation as readers' text: no hidden or reordering characters.
    let body = crate::text::normalise(body);
    let body = body.trim();
    if body.is_empty() {
        return Err("Please write your reply.");
    }
    if body.chars().count() > REPLY_MAX_CHARS {
        return Err("Your reply is longer than 5000 characters. Please shorten it.");
    }
    Ok(body.to_owned())
}

/// A hide reason, checked: optional, short, one paragraph.
pub fn parse_reason(reason: &str) -> Result<Option<String>, &'static str> {
    let reason = crate::text::normalise_line(reason);
    if reason.chars().count() > REASON_MAX_CHARS {
        return Err("Please keep the reason under 500 characters.");
    }
    Ok((!reason.is_empty()).then_some(reason))
}

/// A note on a comment handled privately, checked: for staff only, optional, a few paragraphs.
pub fn parse_note(note: &str) -> Result<Option<String>, &'static str> {
    let note = crate::text::normalise(note);
    let note = note.trim();
    if note.chars().count() > NOTE_MAX_CHARS {
        return Err("Please keep the note under 2000 characters. Your note is still here.");
    }
    Ok((!note.is_empty()).then(|| note.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_must_have_text_and_fit() {
        assert!(parse_reply("  \n ").is_err());
        assert_eq!(parse_reply("  Hello\r\nthere  ").unwrap(), "Hello\nthere");
        assert!(parse_reply(&"a".repeat(5001)).is_err());
    }

    #[test]
    fn replies_lose_direction_overrides_and_zero_width_characters() {
        assert_eq!(
            parse_reply("Call\u{200B} your \u{202E}GP\u{0}").unwrap(),
            "Call your GP"
        );
    }

    #[test]
    fn reasons_are_optional_and_tidied() {
        assert_eq!(parse_reason("   ").unwrap(), None);
        assert_eq!(
            parse_reason(" shares  a\nphone number ").unwrap().as_deref(),
            Some("shares a phone number")
        );
        assert!(parse_reason(&"a".repeat(501)).is_err());
    }

    #[test]
    fn every_decision_leads_somewhere_it_does_not_start_from() {
        for decision in Decision::ALL {
            assert!(!decision.applies_to(decision.leads_to()), "{decision:?}");
            assert!(!decision.starts_from().is_empty());
        }
        assert!(Decision::Hide.applies_to(CommentStatus::Spam));
        assert!(!Decision::Approve.applies_to(CommentStatus::Hidden));
        assert!(!EDITABLE.contains(&CommentStatus::Hidden));
    }

    #[test]
    fn notes_are_optional_and_fit() {
        assert_eq!(parse_note("  ").unwrap(), None);
        assert_eq!(
            parse_note(" Called her. \r\n").unwrap().as_deref(),
            Some("Called her.")
        );
        assert!(parse_note(&"a".repeat(2001)).is_err());
    }

    #[test]
    fn decisions_are_read_back_from_their_audit_names() {
        for decision in Decision::ALL {
            assert_eq!(
                Decision::from_action(decision.audit_action().as_str()),
                Some(decision)
            );
        }
        assert_eq!(Decision::from_action("comment.replied"), None);
    }

    #[test]
    fn an_unknown_tab_means_the_waiting_queue() {
        assert_eq!(Tab::parse(Some("nonsense")), Tab::Pending);
        assert_eq!(Tab::parse(Some("hidden")), Tab::Hidden);
    }
}
