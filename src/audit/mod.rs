//! The audit log: every moderation and admin action, who did it, to what, why and when.
//! Append-only: the database refuses to change or remove a row.

pub mod store;
pub mod view;

use sqlx::PgConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CommentApproved,
    CommentHidden,
    CommentUnhidden,
    CommentReplied,
    CommentEdited,
    CommentNotSpam,
    CommentReportedToQueue,
    /// A published question taken off "Awaiting a midwife" as needing no reply.
    CommentNoReplyNeeded,
    /// An urgent comment handled away from the page; the staff note is kept on the comment.
    CommentHandledPrivately,
    /// A waiting comment passed to a midwife, without publishing it.
    CommentPassedToMidwife,
    /// A decision undone: the comment is back as it was (the reason names the decision).
    CommentDecisionUndone,
    PrivacyExported,
    PrivacyErased,
    AccountInvited,
    AccountCreated,
    AccountVerified,
    AccountRoleChanged,
    AccountDisabled,
    AccountEnabled,
    ResetLinkIssued,
    InvitationAccepted,
    PasswordResetUsed,
    PasswordChanged,
    ArticleAdded,
    ArticleEdited,
    ArticleClosed,
    ArticleOpened,
    ApiTokenCreated,
    ApiTokenRevoked,
    /// A change made through the JSON API with a token (the change has its own entry too).
    ApiTokenUsed,
    /// Comments brought from another system (the counts are in the reason).
    ImportRun,
    /// A published staff reply corrected by its author or an admin (both texts are kept).
    ReplyCorrected,
    SavedReplyAdded,
    SavedReplyEdited,
    SavedReplyDeleted,
    /// A site setting changed in the browser (the reason names it; both texts are kept).
    SettingChanged,
}

impl Action {
    pub const ALL: [Action; 36] = [
        Action::CommentApproved,
        Action::CommentHidden,
        Action::CommentUnhidden,
        Action::CommentReplied,
        Action::CommentEdited,
        Action::CommentNotSpam,
        Action::CommentReportedToQueue,
        Action::CommentNoReplyNeeded,
        Action::CommentHandledPrivately,
        Action::CommentPassedToMidwife,
        Action::CommentDecisionUndone,
        Action::PrivacyExported,
        Action::PrivacyErased,
        Action::AccountInvited,
        Action::AccountCreated,
        Action::AccountVerified,
        Action::AccountRoleChanged,
        Action::AccountDisabled,
        Action::AccountEnabled,
        Action::ResetLinkIssued,
        Action::InvitationAccepted,
        Action::PasswordResetUsed,
        Action::PasswordChanged,
        Action::ArticleAdded,
        Action::ArticleEdited,
        Action::ArticleClosed,
        Action::ArticleOpened,
        Action::ApiTokenCreated,
        Action::ApiTokenRevoked,
        Action::ApiTokenUsed,
        Action::ImportRun,
        Action::ReplyCorrected,
        Action::SavedReplyAdded,
        Action::SavedReplyEdited,
        Action::SavedReplyDeleted,
        Action::SettingChanged,
    ];

    /// The name stored in the log and used in filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::CommentApproved => "comment.approved",
            Action::CommentHidden => "comment.hidden",
            Action::CommentUnhidden => "comment.unhidden",
            Action::CommentReplied => "comment.replied",
            Action::CommentEdited => "comment.edited",
            Action::CommentNotSpam => "comment.not_spam",
            Action::CommentReportedToQueue => "comment.reported_to_queue",
            Action::CommentNoReplyNeeded => "comment.no_reply_needed",
            Action::CommentHandledPrivately => "comment.handled_privately",
            Action::CommentPassedToMidwife => "comment.passed_to_midwife",
            Action::CommentDecisionUndone => "comment.undone",
            Action::PrivacyExported => "privacy.exported",
            Action::PrivacyErased => "privacy.erased",
            Action::AccountInvited => "account.invited",
            Action::AccountCreated => "account.created",
            Action::AccountVerified => "account.verified",
            Action::AccountRoleChanged => "account.role_changed",
            Action::AccountDisabled => "account.disabled",
            Action::AccountEnabled => "account.enabled",
            Action::ResetLinkIssued => "account.reset_link_issued",
            Action::InvitationAccepted => "account.invitation_accepted",
            Action::PasswordResetUsed => "account.password_reset",
            Action::PasswordChanged => "account.password_changed",
            Action::ArticleAdded => "article.added",
            Action::ArticleEdited => "article.edited",
            Action::ArticleClosed => "article.closed",
            Action::ArticleOpened => "article.opened",
            Action::ApiTokenCreated => "api_token.created",
            Action::ApiTokenRevoked => "api_token.revoked",
            Action::ApiTokenUsed => "api_token.used",
            Action::ImportRun => "import.run",
            Action::ReplyCorrected => "comment.reply_corrected",
            Action::SavedReplyAdded => "saved_reply.added",
            Action::SavedReplyEdited => "saved_reply.edited",
            Action::SavedReplyDeleted => "saved_reply.deleted",
            Action::SettingChanged => "setting.changed",
        }
    }

    /// In words, for the log page.
    pub fn describe(name: &str) -> &'static str {
        match Self::ALL.into_iter().find(|a| a.as_str() == name) {
            Some(Action::CommentApproved) => "approved a comment",
            Some(Action::CommentHidden) => "hid a comment",
            Some(Action::CommentUnhidden) => "unhid a comment",
            Some(Action::CommentReplied) => "replied to a comment",
            Some(Action::CommentEdited) => "edited a comment",
            Some(Action::CommentNotSpam) => "marked a comment as not spam",
            Some(Action::CommentReportedToQueue) => "sent a reported comment back to the queue",
            Some(Action::CommentNoReplyNeeded) => "marked a question as needing no reply",
            Some(Action::CommentHandledPrivately) => "handled a comment privately",
            Some(Action::CommentPassedToMidwife) => "passed a comment to a midwife",
            Some(Action::CommentDecisionUndone) => "undid a decision on a comment",
            Some(Action::PrivacyExported) => "exported someone's data",
            Some(Action::PrivacyErased) => "erased someone's data",
            Some(Action::AccountInvited) => "invited an account",
            Some(Action::AccountCreated) => "created an account",
            Some(Action::AccountVerified) => "verified an account",
            Some(Action::AccountRoleChanged) => "changed a role",
            Some(Action::AccountDisabled) => "disabled an account",
            Some(Action::AccountEnabled) => "enabled an account",
            Some(Action::ResetLinkIssued) => "issued a password-reset link",
            Some(Action::InvitationAccepted) => "accepted an invitation",
            Some(Action::PasswordResetUsed) => "reset their password",
            Some(Action::PasswordChanged) => "changed their password",
            Some(Action::ArticleAdded) => "added an article",
            Some(Action::ArticleEdited) => "edited an article",
            Some(Action::ArticleClosed) => "closed an article to comments",
            Some(Action::ArticleOpened) => "opened an article to comments",
            Some(Action::ApiTokenCreated) => "created an API token",
            Some(Action::ApiTokenRevoked) => "revoked an API token",
            Some(Action::ApiTokenUsed) => "made a change with an API token",
            Some(Action::ImportRun) => "imported comments",
            Some(Action::ReplyCorrected) => "corrected a published reply",
            Some(Action::SavedReplyAdded) => "added a saved reply",
            Some(Action::SavedReplyEdited) => "edited a saved reply",
            Some(Action::SavedReplyDeleted) => "deleted a saved reply",
            Some(Action::SettingChanged) => "changed a site setting",
            None => "did something",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Target {
    Comment(i64),
    Account(i64),
    Article(i64),
    /// Someone's data, by the number of comments it covered (the email is not logged).
    Person(i64),
    ApiToken(i64),
    /// Comments stored at once (an import), by their number.
    Comments(i64),
    SavedReply(i64),
    /// The site settings, by the version the change made.
    Settings(i64),
    /// A version of the disclaimer.
    Disclaimer(i64),
}

impl Target {
    fn parts(self) -> (&'static str, i64) {
        match self {
            Target::Comment(id) => ("comment", id),
            Target::Account(id) => ("account", id),
            Target::Article(id) => ("article", id),
            Target::Person(count) => ("person", count),
            Target::ApiToken(id) => ("api_token", id),
            Target::Comments(count) => ("comments", count),
            Target::SavedReply(id) => ("saved_reply", id),
            Target::Settings(version) => ("settings", version),
            Target::Disclaimer(version) => ("disclaimer", version),
        }
    }
}

/// Adds an entry in the caller's transaction, so the action and its record stand or fall together.
/// Returns the entry's id (an undo names the decision by it).
pub async fn record(
    tx: &mut PgConnection,
    actor: Option<i64>,
    action: Action,
    target: Target,
    reason: Option<&str>,
) -> sqlx::Result<i64> {
    let (target_type, target_id) = target.parts();
    store::insert(tx, actor, action.as_str(), target_type, target_id, reason).await
}

/// Adds an entry naming what changed (`what`, as the reason) with its text as it was and as it
/// became (a site setting), in the caller's transaction.
pub async fn record_change_of(
    tx: &mut PgConnection,
    actor: i64,
    (action, target): (Action, Target),
    what: &str,
    before: &str,
    after: &str,
) -> sqlx::Result<()> {
    let (target_type, target_id) = target.parts();
    store::insert_named_change(
        tx,
        actor,
        (action.as_str(), target_type, target_id),
        what,
        (before, after),
    )
    .await
}

/// Adds an entry that keeps a text as it was and as it became (a corrected reply), in the
/// caller's transaction.
pub async fn record_change(
    tx: &mut PgConnection,
    actor: Option<i64>,
    action: Action,
    target: Target,
    before: &str,
    after: &str,
) -> sqlx::Result<()> {
    let (target_type, target_id) = target.parts();
    store::insert_change(
        tx,
        actor,
        action.as_str(),
        (target_type, target_id),
        before,
        after,
    )
    .await
}
