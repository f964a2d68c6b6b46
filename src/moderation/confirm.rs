//! What a moderator is told after a decision, and where: a sentence naming the comment ("Approved
//! Kim's comment on *After a miscarriage*"), with an Undo button when the decision can be undone.
//! It is kept in the session across the redirect and shown on the queue where the comment was,
//! just before the comment that followed it, so the moderator carries on where they were.

use serde::{Deserialize, Serialize};
use tower_sessions::Session;

const KEY: &str = "moderation.confirmation";

/// The anchor the queue is sent to after a decision: the confirmation itself.
pub const ANCHOR: &str = "decided";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// Before the article's title: "Approved Kim’s comment on".
    pub lead: String,
    /// The article's title, shown in italics.
    pub article: Option<String>,
    /// After the title: ". It is now published."
    pub tail: String,
    /// The audit entry of the decision, when it may be undone.
    pub undo: Option<i64>,
    /// Shown just before this comment on the queue (the one that followed the decided one).
    pub before: Option<i64>,
}

impl Confirmation {
    /// A sentence on its own, with nothing to undo.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            lead: text.into(),
            ..Self::default()
        }
    }

    /// The whole sentence as text (for the comment's page, which shows a plain message).
    pub fn text(&self) -> String {
        match &self.article {
            Some(title) => format!("{} \u{201c}{title}\u{201d}{}", self.lead, self.tail),
            None => format!("{}{}", self.lead, self.tail),
        }
    }

    /// Shown just before comment `id` on the page.
    pub fn placed_before(mut self, id: Option<i64>) -> Self {
        self.before = id;
        self
    }
}

/// Keeps `confirmation` for the next page.
pub async fn keep(session: &Session, confirmation: &Confirmation) {
    if let Err(error) = session.insert(KEY, confirmation).await {
        tracing::warn!(%error, "could not keep a confirmation for the next page");
    }
}

/// The confirmation kept for this page, once.
pub async fn take(session: &Session) -> Option<Confirmation> {
    session.remove::<Confirmation>(KEY).await.ok().flatten()
}
