//! The dashboard: `/moderation`, a comment's page, and the decisions, edits and replies.

use std::sync::Arc;

use axum::{
    Router,
    extract::{FromRef, Path, Query},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_csrf::CsrfConfig;
use serde::Deserialize;
use sqlx::PgPool;

use super::{
    Decision,
    answering::{self, Composed, Draft, FromQuery, Origin, ReplyForm, Shown},
    awaiting,
    confirm::{self, Confirmation},
    queue,
    service::{self, Corrected, Edited},
    view::{CommentPage, NoMorePage},
};
use crate::{
    accounts::{
        auth::safe_next,
        guard::{ActingMidwife, AnyStaff, Moderator, StaffPage},
    },
    config::Config,
    error::{AppError, Result},
    web::form::{Checked, CsrfForm},
};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    CsrfConfig: FromRef<S>,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
{
    Router::new()
        .route("/moderation", get(show_queue))
        .route("/moderation/awaiting", get(show_awaiting))
        .route("/moderation/comments/{id}", get(show_comment))
        .route("/moderation/comments/{id}/no-reply-needed", post(no_reply_needed))
        .route("/moderation/comments/{id}/approve", post(approve))
        .route("/moderation/comments/{id}/hide", post(hide))
        .route("/moderation/comments/{id}/unhide", post(unhide))
        .route("/moderation/comments/{id}/reply", post(reply))
        .route("/moderation/comments/{id}/not-spam", post(not_spam))
        .route("/moderation/comments/{id}/edit", post(edit))
        .route(
            "/moderation/comments/{id}/handled-privately",
            post(handled_privately),
        )
        .route("/moderation/comments/{id}/pass-to-midwife", post(pass_to_midwife))
        .route("/moderation/decisions", post(decide_several))
        .route("/moderation/decisions/{entry}/undo", post(undo))
        .route("/moderation/comments/{id}/correct", post(correct))
        .route("/moderation/no-more-questions", get(show_no_more))
}

async fn show_queue(AnyStaff(page): AnyStaff, Query(query): Query<queue::QueueQuery>) -> Result<Response> {
    let mut queue = queue::load(&page.db, &page.staff, page.chrome().await?, &query).await?;
    queue.decided = confirm::take(&page.session).await;
    Ok(page.render(StatusCode::OK, &queue))
}

async fn show_awaiting(AnyStaff(page): AnyStaff, Query(query): Query<queue::QueueQuery>) -> Result<Response> {
    let target = page.config.answer_target;
    let view = awaiting::load(&page.db, page.chrome().await?, target, &query).await?;
    Ok(page.render(StatusCode::OK, &view))
}

async fn no_reply_needed(
    Moderator(page): Moderator,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<DecisionForm>,
) -> Result<Response> {
    let message = service::no_reply_needed(&page.db, &page.staff, id).await?;
    page.flash(message).await;
    Ok(Redirect::to(&safe_next(Some(&form.back))).into_response())
}

/// A comment's page, with a reply or an edit that needs fixing shown again with its text.
async fn comment_page(
    page: &StaffPage,
    id: i64,
    reply: Option<(String, &'static str)>,
    edit: Option<(String, &'static str)>,
) -> Result<CommentPage> {
    let draft = reply.map_or_else(Draft::default, |(body, problem)| {
        Draft::refused(body, problem, StatusCode::UNPROCESSABLE_ENTITY)
    });
    let shown = Shown {
        draft,
        edit,
        correction: None,
    };
    answering::comment_page(page, id, &FromQuery::default(), shown).await
}

/// The reply page: the question (and the comment it answers) above the reply box, which keeps to
/// the list the midwife came from (`?from=awaiting`).
async fn show_comment(
    AnyStaff(page): AnyStaff,
    Path(id): Path<i64>,
    Query(from): Query<FromQuery>,
) -> Result<Response> {
    let view = answering::comment_page(&page, id, &from, Shown::default()).await?;
    Ok(page.render(StatusCode::OK, &view))
}

/// "No more questions waiting", with the way back to the list.
async fn show_no_more(AnyStaff(page): AnyStaff, Query(from): Query<FromQuery>) -> Result<Response> {
    let origin = Origin::new(&from, crate::comments::CommentStatus::Published);
    let view = NoMorePage {
        chrome: page.chrome().await?,
        list_href: origin.list_href(),
        list_label: origin.list_label(),
    };
    Ok(page.render(StatusCode::OK, &view))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    reason: String,
    /// A private handling's note, for staff only.
    note: String,
    back: String,
    body: String,
    /// The comment that followed on the queue, where the moderator carries on.
    following: String,
}

async fn decide(page: StaffPage, id: i64, form: DecisionForm, decision: Decision) -> Result<Response> {
    let reason = match decision {
        Decision::HandledPrivately => &form.note,
        _ => &form.reason,
    };
    let confirmation = service::decide_named(&page.db, &page.staff, id, decision, reason).await?;
    confirmed(&page, &form, confirmation).await
}

/// Back where the moderator was. On the queue, the confirmation stands where the comment was
/// (before the one that followed it), with Undo; on a comment's page, a message at the top.
async fn confirmed(page: &StaffPage, form: &DecisionForm, confirmation: Confirmation) -> Result<Response> {
    let back = safe_next(Some(&form.back));
    if back != "/moderation" && !back.starts_with("/moderation?") {
        page.flash(confirmation.text()).await;
        return Ok(Redirect::to(&back).into_response());
    }
    let following = form.following.trim().parse::<i64>().ok();
    let confirmation = match confirmation.before {
        Some(_) => confirmation,
        None => confirmation.placed_before(following),
    };
    confirm::keep(&page.session, &confirmation).await;
    // Anchored only on the queue page the form came from, not on the address used instead of one
    // refused (or missing).
    let to = if back == form.back {
        format!("{back}#{}", confirm::ANCHOR)
    } else {
        back
    };
    Ok(Redirect::to(&to).into_response())
}

/// An urgent comment dealt with away from the page: never published, kept with a staff note.
async fn handled_privately(
    Moderator(page): Moderator,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<DecisionForm>,
) -> Result<Response> {
    decide(page, id, form, Decision::HandledPrivately).await
}

/// A waiting comment shown to midwives under "Awaiting a midwife", still unpublished.
async fn pass_to_midwife(
    Moderator(page): Moderator,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<DecisionForm>,
) -> Result<Response> {
    let confirmation = service::pass_to_midwife(&page.db, &page.staff, id).await?;
    confirmed(&page, &form, confirmation).await
}

/// Undoes a decision, named by its audit entry.
async fn undo(
    Moderator(page): Moderator,
    Path(entry): Path<i64>,
    CsrfForm(form, ..): CsrfForm<DecisionForm>,
) -> Result<Response> {
    let confirmation = service::undo(&page.db, &page.staff, entry).await?;
    confirmed(&page, &form, confirmation).await
}

/// "Approve selected" and "Hide selected": the ticked comments (`id`, repeated), the decision
/// and where to go back to.
#[derive(Default)]
struct SeveralForm {
    ids: Vec<i64>,
    decision: Option<Decision>,
    back: String,
}

impl SeveralForm {
    fn parse(fields: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in fields {
            match (name.as_str(), value.as_str()) {
                ("id", id) => form.ids.extend(id.trim().parse::<i64>().ok()),
                ("decision", "approve") => form.decision = Some(Decision::Approve),
                ("decision", "hide") => form.decision = Some(Decision::Hide),
                ("back", _) => form.back = value,
                _ => {}
            }
        }
        form
    }
}

async fn decide_several(
    Moderator(page): Moderator,
    CsrfForm(fields, ..): CsrfForm<Vec<(String, String)>>,
) -> Result<Response> {
    let form = SeveralForm::parse(fields);
    let confirmation = match form.decision {
        Some(decision) => service::decide_several(&page.db, &page.staff, &form.ids, decision).await?,
        None => Confirmation::plain("Nothing was changed: please choose Approve selected or Hide selected."),
    };
    let back = DecisionForm {
        back: form.back,
        ..DecisionForm::default()
    };
    confirmed(&page, &back, confirmation).await
}

async fn approve(
    Moderator(page): Moderator,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<DecisionForm>,
) -> Result<Response> {
    decide(page, id, form, Decision::Approve).await
}

async fn hide(
    Moderator(page): Moderator,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<DecisionForm>,
) -> Result<Response> {
    decide(page, id, form, Decision::Hide).await
}

async fn unhide(
    Moderator(page): Moderator,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<DecisionForm>,
) -> Result<Response> {
    decide(page, id, form, Decision::Unhide).await
}

async fn not_spam(
    Moderator(page): Moderator,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<DecisionForm>,
) -> Result<Response> {
    decide(page, id, form, Decision::NotSpam).await
}

async fn edit(
    Moderator(page): Moderator,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<DecisionForm>,
) -> Result<Response> {
    match service::edit(&page.db, &page.staff, id, &form.body).await? {
        Edited::Saved => {
            page.flash("Saved your edit.").await;
            Ok(Redirect::to(&format!("/moderation/comments/{id}")).into_response())
        }
        Edited::Invalid(problem) => {
            let view = comment_page(&page, id, None, Some((form.body, problem))).await?;
            Ok(page.render(StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
        Edited::NotEditable(why) => Err(AppError::Forbidden(why)),
    }
}

const STALE_REPLY: &str = "For your safety we could not accept the form this time. Your reply is still here: please press the button again.";

/// The reply form's buttons: publish (and perhaps open the next question), preview, or insert a
/// saved reply. Anything but publishing shows the page again with the text: no reply is ever lost.
async fn reply(
    ActingMidwife(page): ActingMidwife,
    Path(id): Path<i64>,
    checked: Checked<ReplyForm>,
) -> Result<Response> {
    let form = checked.form;
    let from = form.from_query();
    let draft = if !checked.token_ok {
        Draft::refused(form.body, STALE_REPLY, StatusCode::FORBIDDEN)
    } else {
        match answering::compose(&page, id, form).await? {
            Composed::Published { to, message } => {
                page.flash(message).await;
                return Ok(Redirect::to(&to).into_response());
            }
            Composed::Again(draft) => draft,
        }
    };
    let status = draft.status;
    let shown = Shown {
        draft,
        ..Shown::default()
    };
    let view = answering::comment_page(&page, id, &from, shown).await?;
    Ok(page.render(status, &view))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CorrectForm {
    body: String,
}

const STALE_CORRECTION: &str = "For your safety we could not accept the form this time. Your correction is still here: please press \u{201c}Publish correction\u{201d} again.";

/// Corrects a published staff reply, as its author or an admin. A problem shows the correction
/// again with its text.
async fn correct(
    AnyStaff(page): AnyStaff,
    Path(id): Path<i64>,
    checked: Checked<CorrectForm>,
) -> Result<Response> {
    let body = checked.form.body;
    let (problem, status) = if checked.token_ok {
        match service::correct_reply(&page.db, &page.staff, id, &body).await? {
            Corrected::Saved => {
                page.flash("Your correction is published. Readers see it marked as edited.")
                    .await;
                return Ok(Redirect::to(&format!("/moderation/comments/{id}")).into_response());
            }
            Corrected::Invalid(problem) => (problem, StatusCode::UNPROCESSABLE_ENTITY),
        }
    } else {
        (STALE_CORRECTION, StatusCode::FORBIDDEN)
    };
    let shown = Shown {
        correction: Some((body, problem)),
        ..Shown::default()
    };
    let view = answering::comment_page(&page, id, &FromQuery::default(), shown).await?;
    Ok(page.render(status, &view))
}
