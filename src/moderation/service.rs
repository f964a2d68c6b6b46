//! Moderation's rules: decisions, edits and staff replies, each one transaction with its audit
//! entry. Tested without HTTP in `tests/api/services.rs`.

use std::collections::BTreeMap;

use sqlx::PgPool;

use super::{
    ANSWERABLE, BULK_MAX, Decision,
    confirm::Confirmation,
    markdown, parse_note, parse_reason, parse_reply,
    store::{self, NewStaffReply},
};
use crate::{
    accounts::Staff,
    audit::{self, Action, Target},
    comments::{AuthorKind, CommentStatus},
    config::Config,
    error::{AppError, Result},
    mail,
    web::page::age,
};

/// What became of a decision.
#[derive(Debug, PartialEq, Eq)]
pub enum Decided {
    /// Done, with the audit entry that records it (an undo names the decision by it).
    Done(Decision, i64),
    /// Someone else decided first: what the comment is now, and who made it so.
    AlreadyDone(String),
    /// The hide reason cannot be kept as it is.
    InvalidReason(&'static str),
}

impl Decided {
    /// What the moderator is told.
    pub fn message(self) -> String {
        match self {
            Decided::Done(decision, _) => decision.done().to_owned(),
            Decided::AlreadyDone(message) => message,
            Decided::InvalidReason(problem) => problem.to_owned(),
        }
    }
}

/// Applies `decision` to comment `id` for `staff`, and says what happened: done, or what someone
/// else did first. A hide `reason` that is too long is refused with what to fix.
pub async fn decide(db: &PgPool, staff: &Staff, id: i64, decision: Decision, reason: &str) -> Result<String> {
    decide_outcome(db, staff, id, decision, reason)
        .await
        .map(Decided::message)
}

/// [`decide`], with the outcome as a type.
pub async fn decide_outcome(
    db: &PgPool,
    staff: &Staff,
    id: i64,
    decision: Decision,
    reason: &str,
) -> Result<Decided> {
    let parsed = match decision {
        Decision::Hide => parse_reason(reason),
        Decision::HandledPrivately => parse_note(reason),
        Decision::Approve | Decision::Unhide | Decision::NotSpam => Ok(None),
    };
    let reason = match parsed {
        Ok(reason) => reason,
        Err(problem) => return Ok(Decided::InvalidReason(problem)),
    };
    // A hide's reason goes in the audit log; a private note stays on the comment alone.
    let logged = reason.as_deref().filter(|_| decision == Decision::Hide);
    let mut tx = db.begin().await?;
    if !store::apply(&mut tx, id, staff.id, decision, reason.as_deref()).await? {
        drop(tx);
        return already_done(db, id).await.map(Decided::AlreadyDone);
    }
    let action = decision.audit_action();
    let entry = audit::record(&mut tx, Some(staff.id), action, Target::Comment(id), logged).await?;
    if decision.leads_to() == CommentStatus::Published {
        // A reader's reply published: whoever asked to hear about replies to the comment it
        // answers is told.
        mail::reply_published(&mut tx, id).await?;
    }
    tx.commit().await?;
    tracing::info!(
        comment.id = id,
        user.id = staff.id,
        action = action.as_str(),
        "moderation decision"
    );
    Ok(Decided::Done(decision, entry))
}

/// [`decide`], as the dashboard tells it: the comment named, and the decision to undo.
pub async fn decide_named(
    db: &PgPool,
    staff: &Staff,
    id: i64,
    decision: Decision,
    reason: &str,
) -> Result<Confirmation> {
    match decide_outcome(db, staff, id, decision, reason).await? {
        Decided::Done(decision, entry) => {
            let label = store::label(db, id).await?.ok_or(AppError::NotFound)?;
            let (lead, tail) = decision.named(&label.author_name);
            Ok(Confirmation {
                lead,
                article: Some(label.article_title),
                tail: tail.to_owned(),
                undo: Some(entry),
                before: None,
            })
        }
        other => Ok(Confirmation::plain(other.message())),
    }
}

/// Applies `decision` to each of `ids` (at most [`BULK_MAX`]) exactly as one at a time would be:
/// each in its own transaction with its own audit entry. Those it does not apply to are skipped
/// and counted by what they are now.
pub async fn decide_several(
    db: &PgPool,
    staff: &Staff,
    ids: &[i64],
    decision: Decision,
) -> Result<Confirmation> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids.truncate(BULK_MAX);
    if ids.is_empty() {
        return Ok(Confirmation::plain(
            "Nothing was changed: please tick the comments first.",
        ));
    }
    let mut done = 0;
    let mut skipped: BTreeMap<&'static str, usize> = BTreeMap::new();
    for id in ids {
        let why = match decide_outcome(db, staff, id, decision, "").await {
            Ok(Decided::Done(..)) => {
                done += 1;
                continue;
            }
            Ok(_) => match store::status_of(db, id).await? {
                Some(status) => state_word(status),
                None => "no longer there",
            },
            Err(AppError::NotFound) => "no longer there",
            Err(error) => return Err(error),
        };
        *skipped.entry(why).or_default() += 1;
    }
    let mut text = decision.counted(done);
    if !skipped.is_empty() {
        let total: usize = skipped.values().sum();
        let parts: Vec<String> = skipped
            .iter()
            .map(|(why, n)| match *why {
                "no longer there" => format!("{n} no longer there"),
                why => format!("{n} already {why}"),
            })
            .collect();
        text.push_str(&format!(" Skipped {total}: {}.", parts.join(", ")));
    }
    Ok(Confirmation::plain(text))
}

/// A comment's status in words.
fn state_word(status: CommentStatus) -> &'static str {
    match status {
        CommentStatus::Pending => "waiting for moderation",
        CommentStatus::Published => "published",
        CommentStatus::Hidden => "hidden",
        CommentStatus::Spam => "in the spam tab",
    }
}

/// Tells a member of staff that someone else got there first, and who.
async fn already_done(db: &PgPool, id: i64) -> Result<String> {
    let status = store::status_of(db, id).await?.ok_or(AppError::NotFound)?;
    let state_word = state_word(status);
    Ok(match latest_action(db, id).await? {
        Some(done) => format!("Nothing was changed: this comment is already {state_word} ({done})."),
        None => format!("Nothing was changed: this comment is already {state_word}."),
    })
}

/// "Jo hid it 2 minutes ago": the latest thing staff did to a comment.
async fn latest_action(db: &PgPool, id: i64) -> Result<Option<String>> {
    Ok(audit::store::latest_for_comment(db, id).await?.map(|entry| {
        format!(
            "{} {} {}",
            entry.actor_name.as_deref().unwrap_or("someone"),
            Action::describe(&entry.action).replace(" a comment", " it"),
            age(entry.at)
        )
    }))
}

const STALE_UNDO: &str = "This can no longer be undone, because the comment has changed since";

/// Undoes the decision recorded as audit entry `entry`: the comment goes back to the status it
/// had, with its own audit entry. Refused, kindly, when anything has happened to the comment
/// since (another decision, an edit, a report, an undo).
pub async fn undo(db: &PgPool, staff: &Staff, entry: i64) -> Result<Confirmation> {
    let recorded = audit::store::find_comment_entry(db, entry)
        .await?
        .ok_or(AppError::NotFound)?;
    let (Some(decision), Some(id)) = (Decision::from_action(&recorded.action), recorded.target_id) else {
        return Err(AppError::NotFound);
    };
    let mut tx = db.begin().await?;
    let comment = store::lock_for_undo(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let latest = audit::store::latest_id_for_comment(&mut *tx, id).await?;
    let previous = comment
        .previous_status
        .filter(|_| latest == Some(entry) && comment.status == decision.leads_to());
    let Some(previous) = previous else {
        drop(tx);
        let text = match latest_action(db, id).await? {
            Some(done) => format!("{STALE_UNDO} ({done}). Nothing was changed."),
            None => format!("{STALE_UNDO}. Nothing was changed."),
        };
        return Ok(Confirmation::plain(text).placed_before(Some(id)));
    };
    if !store::undo(&mut tx, id, staff.id, decision, previous).await? {
        return Ok(Confirmation::plain(format!("{STALE_UNDO}. Nothing was changed.")));
    }
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::CommentDecisionUndone,
        Target::Comment(id),
        Some(decision.audit_action().as_str()),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        comment.id = id,
        user.id = staff.id,
        undone = decision.audit_action().as_str(),
        "moderation decision undone"
    );
    Ok(Confirmation {
        lead: format!("Undone. {}\u{2019}s comment on", comment.author_name),
        article: Some(comment.article_title),
        tail: format!(" is {} again.", state_word(previous)),
        undo: None,
        before: Some(id),
    })
}

/// Passes waiting comment `id` to a midwife without publishing it: it shows under "Awaiting a
/// midwife" until a midwife replies or a moderator decides. Audited.
pub async fn pass_to_midwife(db: &PgPool, staff: &Staff, id: i64) -> Result<Confirmation> {
    let mut tx = db.begin().await?;
    if !store::pass_to_midwife(&mut tx, id, staff.id).await? {
        drop(tx);
        store::status_of(db, id).await?.ok_or(AppError::NotFound)?;
        return Ok(Confirmation::plain(
            "Nothing was changed: this comment is not waiting, or was passed to a midwife already.",
        ));
    }
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::CommentPassedToMidwife,
        Target::Comment(id),
        None,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(comment.id = id, user.id = staff.id, "comment passed to a midwife");
    let label = store::label(db, id).await?.ok_or(AppError::NotFound)?;
    Ok(Confirmation {
        lead: format!("Passed {}\u{2019}s comment on", label.author_name),
        article: Some(label.article_title),
        tail: " to a midwife. It is not published; it shows under \u{201c}Awaiting a midwife\u{201d}."
            .to_owned(),
        undo: None,
        before: None,
    })
}

/// What became of an edit of a guest's words.
#[derive(Debug, PartialEq, Eq)]
pub enum Edited {
    Saved,
    /// The text left is empty or too long: the edit is shown again.
    Invalid(&'static str),
    /// A staff reply, or a comment whose status does not allow editing (see `EDITABLE`).
    NotEditable(&'static str),
}

/// Replaces a guest's words, to take out personal details before approving. The audit log
/// records that it was edited, not what was removed.
pub async fn edit(db: &PgPool, staff: &Staff, id: i64, body: &str) -> Result<Edited> {
    let Ok(body) = crate::comments::parse_body(body) else {
        return Ok(Edited::Invalid(
            "The comment must keep between 1 and 5000 characters. Your edit is still here.",
        ));
    };
    let mut tx = db.begin().await?;
    if !store::edit_guest_text(&mut tx, id, staff.id, &body).await? {
        let why = match store::status_of(&mut *tx, id).await? {
            None => return Err(AppError::NotFound),
            Some(CommentStatus::Hidden) => {
                "Hidden comments are not edited. Unhide it first if it needs changing."
            }
            Some(_) => "Staff replies are not edited here.",
        };
        return Ok(Edited::NotEditable(why));
    }
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::CommentEdited,
        Target::Comment(id),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(Edited::Saved)
}

/// What became of a staff reply.
#[derive(Debug, PartialEq, Eq)]
pub enum Replied {
    /// Published; `approved` when the comment it answers was waiting and is now published too.
    Published { id: i64, approved: bool },
    /// The reply cannot be published as it is, or not under this comment: shown again with its
    /// text. `conflict` when it is the comment, not the reply, that stands in the way.
    Refused { problem: &'static str, conflict: bool },
}

/// Publishes a staff reply under comment `id`, approving it first if it was waiting.
pub async fn reply(db: &PgPool, config: &Config, staff: &Staff, id: i64, body: &str) -> Result<Replied> {
    let body = match parse_reply(body) {
        Ok(body) => body,
        Err(problem) => {
            return Ok(Replied::Refused {
                problem,
                conflict: false,
            });
        }
    };
    let mut tx = db.begin().await?;
    let parent = store::lock_parent(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if !ANSWERABLE.contains(&parent.status) {
        let problem = match parent.status {
            CommentStatus::Spam => {
                "This comment is in the spam tab. If it is a real reader's, mark it as not spam first. Your reply is still here."
            }
            _ => {
                "This comment has been hidden, so readers would not see a reply under it. Your reply is still here."
            }
        };
        return Ok(Replied::Refused {
            problem,
            conflict: true,
        });
    }
    let approved = parent.status == CommentStatus::Pending;
    if approved {
        store::apply(&mut tx, id, staff.id, Decision::Approve, None).await?;
        mail::reply_published(&mut tx, id).await?;
        audit::record(
            &mut tx,
            Some(staff.id),
            Action::CommentApproved,
            Target::Comment(id),
            None,
        )
        .await?;
    }
    let (disclaimer, disclaimer_version) = crate::settings::service::disclaimer_now(&mut tx, config).await?;
    let reply = NewStaffReply {
        article_id: parent.article_id,
        parent_id: id,
        author_user_id: staff.id,
        author_name: &staff.display_name,
        body: &body,
        body_html: &markdown::render(&body),
        disclaimer: &disclaimer,
        disclaimer_version,
    };
    let reply_id = store::insert_staff_reply(&mut tx, &reply).await?;
    mail::reply_published(&mut tx, reply_id).await?;
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::CommentReplied,
        Target::Comment(reply_id),
        None,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        comment.id = id,
        reply.id = reply_id,
        user.id = staff.id,
        "staff reply published"
    );
    Ok(Replied::Published {
        id: reply_id,
        approved,
    })
}

/// What became of a correction of a published staff reply.
#[derive(Debug, PartialEq, Eq)]
pub enum Corrected {
    /// Saved, or the same text as before (nothing to record).
    Saved,
    /// The text cannot be published as it is: shown again with it.
    Invalid(&'static str),
}

/// Replaces the text of staff reply `id`, as its author or an admin; anyone else is refused.
/// Readers see "edited" beside its date, and the audit entry keeps both texts.
pub async fn correct_reply(db: &PgPool, staff: &Staff, id: i64, body: &str) -> Result<Corrected> {
    let body = match parse_reply(body) {
        Ok(body) => body,
        Err(problem) => return Ok(Corrected::Invalid(problem)),
    };
    let mut tx = db.begin().await?;
    let reply = store::lock_for_correction(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if reply.author_kind != AuthorKind::Staff {
        return Err(AppError::Forbidden(
            "Only staff replies can be corrected here. A guest's words are edited before publishing.",
        ));
    }
    if reply.author_user_id != Some(staff.id) && !staff.is_admin() {
        return Err(AppError::Forbidden(
            "Only the midwife who wrote this reply, or an admin, can correct it.",
        ));
    }
    if reply.body == body {
        return Ok(Corrected::Saved);
    }
    store::correct_staff_reply(&mut tx, id, &body, &markdown::render(&body)).await?;
    let target = Target::Comment(id);
    audit::record_change(
        &mut tx,
        Some(staff.id),
        Action::ReplyCorrected,
        target,
        &reply.body,
        &body,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(comment.id = id, user.id = staff.id, "staff reply corrected");
    Ok(Corrected::Saved)
}

/// Takes question `id` off "Awaiting a midwife" as needing no reply, with its audit entry; says
/// what happened.
pub async fn no_reply_needed(db: &PgPool, staff: &Staff, id: i64) -> Result<&'static str> {
    let mut tx = db.begin().await?;
    if !store::mark_no_reply_needed(&mut tx, id, staff.id).await? {
        drop(tx);
        store::status_of(db, id).await?.ok_or(AppError::NotFound)?;
        return Ok(
            "This comment is not awaiting a reply: it was answered, marked already, or is not a published question.",
        );
    }
    audit::record(
        &mut tx,
        Some(staff.id),
        Action::CommentNoReplyNeeded,
        Target::Comment(id),
        None,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        comment.id = id,
        user.id = staff.id,
        "question marked as needing no reply"
    );
    Ok("Marked as needing no reply. It has left the awaiting list.")
}
