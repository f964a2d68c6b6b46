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
    Decision, awaiting, queue,
    service::{self, Edited, Replied},
    store,
    view::{CommentPage, ItemView, ReplyView},
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
}

async fn show_queue(AnyStaff(page): AnyStaff, Query(query): Query<queue::QueueQuery>) -> Result<Response> {
    let queue = queue::load(&page.db, &page.staff, page.chrome().await?, &query).await?;
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
    let row = store::find(&page.db, id).await?.ok_or(AppError::NotFound)?;
    let replies = store::replies_to(&page.db, id).await?;
    let (reply_body, problem) = reply.map_or((String::new(), None), |(body, problem)| (body, Some(problem)));
    Ok(CommentPage {
        chrome: page.chrome().await?,
        back: format!("/moderation/comments/{id}"),
        item: ItemView::from(row).seen_by(&page.staff),
        edit_problem: edit.as_ref().map(|(_, problem)| *problem),
        edit_body: edit.map(|(body, _)| body),
        replies: replies.into_iter().map(ReplyView::from).collect(),
        reply_body,
        problem,
    })
}

async fn show_comment(AnyStaff(page): AnyStaff, Path(id): Path<i64>) -> Result<Response> {
    let view = comment_page(&page, id, None, None).await?;
    Ok(page.render(StatusCode::OK, &view))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DecisionForm {
    reason: String,
    back: String,
    body: String,
}

async fn decide(page: StaffPage, id: i64, form: DecisionForm, decision: Decision) -> Result<Response> {
    let message = service::decide(&page.db, &page.staff, id, decision, &form.reason).await?;
    page.flash(message).await;
    Ok(Redirect::to(&safe_next(Some(&form.back))).into_response())
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

const STALE_REPLY: &str = "For your safety we could not accept the form this time. Your reply is still here: please press \u{201c}Publish reply\u{201d} again.";

/// Publishes a staff reply under comment `id`. A problem shows the reply again with its text: no
/// reply is ever lost.
async fn reply(
    ActingMidwife(page): ActingMidwife,
    Path(id): Path<i64>,
    checked: Checked<DecisionForm>,
) -> Result<Response> {
    let form = checked.form;
    let (problem, status) = if !checked.token_ok {
        (STALE_REPLY, StatusCode::FORBIDDEN)
    } else {
        match service::reply(&page.db, &page.config, &page.staff, id, &form.body).await? {
            Replied::Published { approved, .. } => {
                let also = if approved {
                    " The comment it answers is approved too."
                } else {
                    ""
                };
                page.flash(format!("Your reply is published.{also}")).await;
                return Ok(Redirect::to(&safe_next(Some(&form.back))).into_response());
            }
            Replied::Refused {
                problem,
                conflict: true,
            } => (problem, StatusCode::CONFLICT),
            Replied::Refused { problem, .. } => (problem, StatusCode::UNPROCESSABLE_ENTITY),
        }
    };
    let view = comment_page(&page, id, Some((form.body, problem)), None).await?;
    Ok(page.render(status, &view))
}
