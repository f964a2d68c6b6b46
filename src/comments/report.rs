//! A reader's report on a published comment, and what it leads to.

use super::store::{self, Reported};
use crate::{
    articles::Article,
    audit::{self, Action, Target},
    config::Config,
};

/// Why a reader may report a comment.
pub const REASONS: [&str; 5] = [
    "It shares someone's personal details",
    "It is unkind or abusive",
    "It gives harmful or misleading advice",
    "It is spam or advertising",
    "Something else",
];

/// Records one reader's report (by the keyed hash of their address) with its audit entry when it
/// sends the comment back to the queue. `reason` must be one of [`REASONS`].
pub async fn report(
    db: &sqlx::PgPool,
    config: &Config,
    article: &Article,
    comment_id: i64,
    client_hash: &[u8],
    reason: &str,
) -> sqlx::Result<Reported> {
    let mut tx = db.begin().await?;
    let outcome = store::report(
        &mut tx,
        article.id,
        comment_id,
        client_hash,
        reason,
        config.reports_to_hide,
    )
    .await?;
    if outcome == Reported::ReturnedToQueue {
        audit::record(
            &mut tx,
            None,
            Action::CommentReportedToQueue,
            Target::Comment(comment_id),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(comment.id = comment_id, outcome = ?outcome, "comment reported");
    Ok(outcome)
}
