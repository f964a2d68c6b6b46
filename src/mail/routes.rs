//! The pages a reader reaches from a mail: confirming their address and stopping mails. Both
//! work without signing in; the signed link is the reader's authority. A page asks before it
//! changes anything (mail scanners open links), except the one-click unsubscribe POST that mail
//! programs send (RFC 8058).

use askama::Template;
use axum::{
    Router,
    extract::{FromRef, Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use serde::Deserialize;

use super::{CONFIRM, Context, STOP, link_token_ok, store};
use crate::{
    error::{AppError, Result},
    web::{form::StrictForm, page::render},
};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Context: FromRef<S>,
{
    Router::new()
        .route("/mail/confirm/{address}/{token}", get(show_confirm).post(confirm))
        .route("/mail/stop/{address}/{token}", get(show_stop).post(stop))
}

#[derive(Template)]
#[template(path = "mail_pages/confirm.html")]
struct ConfirmPage {
    done: bool,
}

/// The link's address, when its signature is right for `purpose`.
fn checked(ctx: &Context, purpose: &str, (address, token): (i64, String)) -> Result<i64> {
    if link_token_ok(&ctx.key, purpose, address, &token) {
        Ok(address)
    } else {
        Err(AppError::LinkExpired)
    }
}

async fn show_confirm(State(ctx): State<Context>, Path(link): Path<(i64, String)>) -> Result<Response> {
    checked(&ctx, CONFIRM, link)?;
    Ok(render(StatusCode::OK, &ConfirmPage { done: false }))
}

async fn confirm(State(ctx): State<Context>, Path(link): Path<(i64, String)>) -> Result<Response> {
    let address = checked(&ctx, CONFIRM, link)?;
    if !store::confirm(&ctx.db, address).await? {
        return Err(AppError::LinkExpired);
    }
    tracing::info!(address.id = address, "mail address confirmed");
    Ok(render(StatusCode::OK, &ConfirmPage { done: true }))
}

#[derive(Template)]
#[template(path = "mail_pages/stop.html")]
struct StopPage {
    comment: Option<i64>,
    done: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StopQuery {
    comment: Option<String>,
}

async fn show_stop(
    State(ctx): State<Context>,
    Path(link): Path<(i64, String)>,
    Query(query): Query<StopQuery>,
) -> Result<Response> {
    checked(&ctx, STOP, link)?;
    let comment = query.comment.and_then(|c| c.parse().ok());
    Ok(render(StatusCode::OK, &StopPage { comment, done: None }))
}

/// The form on the page, or a mail program's one-click `List-Unsubscribe=One-Click`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StopForm {
    what: String,
    comment: String,
    #[serde(rename = "List-Unsubscribe")]
    list_unsubscribe: String,
}

async fn stop(
    State(ctx): State<Context>,
    Path(link): Path<(i64, String)>,
    StrictForm(form): StrictForm<StopForm>,
) -> Result<Response> {
    let address = checked(&ctx, STOP, link)?;
    let comment = (form.what == "comment" && form.list_unsubscribe.is_empty())
        .then(|| form.comment.trim().parse::<i64>().ok())
        .flatten();
    let mut conn = ctx.db.acquire().await?;
    store::stop(&mut conn, address, comment).await?;
    tracing::info!(address.id = address, all = comment.is_none(), "mails stopped");
    let done = if comment.is_some() {
        "We will not email you about this comment again."
    } else {
        "We will not email this address again."
    };
    Ok(render(
        StatusCode::OK,
        &StopPage {
            comment: None,
            done: Some(done),
        },
    ))
}
