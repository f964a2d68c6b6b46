//! `/moderation/saved-replies`: the list with the add form, each one's edit page, and deleting.

use std::sync::Arc;

use axum::{
    Router,
    extract::{FromRef, Path},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use axum_csrf::CsrfConfig;
use serde::Deserialize;
use sqlx::PgPool;

use super::{
    Problems, SavedReplyForm,
    service::{self, Saved},
    store,
    view::{EditSavedReplyPage, SavedRepliesPage},
};
use crate::{
    accounts::guard::{ReplyKeeper, StaffPage},
    config::Config,
    error::{AppError, Result},
    web::form::CsrfForm,
};

const LIST: &str = "/moderation/saved-replies";

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    CsrfConfig: FromRef<S>,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
{
    Router::new()
        .route(LIST, get(show_list).post(add))
        .route("/moderation/saved-replies/{id}", get(show_edit).post(edit))
        .route("/moderation/saved-replies/{id}/delete", post(delete))
}

/// The list, with the add form (again with its text and problems when it needs fixing).
async fn list_page(page: &StaffPage, form: SavedReplyForm, problems: Problems) -> Result<SavedRepliesPage> {
    let items = store::list(&page.db).await?;
    Ok(SavedRepliesPage {
        chrome: page.chrome().await?,
        items: items.into_iter().map(Into::into).collect(),
        form,
        problems,
    })
}

async fn show_list(ReplyKeeper(page): ReplyKeeper) -> Result<Response> {
    let view = list_page(&page, SavedReplyForm::default(), Problems::default()).await?;
    Ok(page.render(StatusCode::OK, &view))
}

async fn add(
    ReplyKeeper(page): ReplyKeeper,
    CsrfForm(form, ..): CsrfForm<SavedReplyForm>,
) -> Result<Response> {
    match service::add(&page.db, &page.staff, &form).await? {
        Saved::Done(_) => {
            page.flash("Saved. It is ready to insert into replies.").await;
            Ok(Redirect::to(LIST).into_response())
        }
        Saved::Invalid(problems) => {
            let view = list_page(&page, form, problems).await?;
            Ok(page.render(StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
    }
}

async fn show_edit(ReplyKeeper(page): ReplyKeeper, Path(id): Path<i64>) -> Result<Response> {
    let saved = store::find(&page.db, id).await?.ok_or(AppError::NotFound)?;
    let view = EditSavedReplyPage {
        chrome: page.chrome().await?,
        id,
        form: SavedReplyForm {
            title: saved.title,
            body: saved.body,
        },
        problems: Problems::default(),
    };
    Ok(page.render(StatusCode::OK, &view))
}

async fn edit(
    ReplyKeeper(page): ReplyKeeper,
    Path(id): Path<i64>,
    CsrfForm(form, ..): CsrfForm<SavedReplyForm>,
) -> Result<Response> {
    match service::edit(&page.db, &page.staff, id, &form).await? {
        Saved::Done(_) => {
            page.flash("Saved your changes.").await;
            Ok(Redirect::to(LIST).into_response())
        }
        Saved::Invalid(problems) => {
            let chrome = page.chrome().await?;
            let view = EditSavedReplyPage {
                chrome,
                id,
                form,
                problems,
            };
            Ok(page.render(StatusCode::UNPROCESSABLE_ENTITY, &view))
        }
    }
}

/// Nothing but the form token.
#[derive(Debug, Default, Deserialize)]
pub struct DeleteForm {}

async fn delete(
    ReplyKeeper(page): ReplyKeeper,
    Path(id): Path<i64>,
    CsrfForm(DeleteForm {}, ..): CsrfForm<DeleteForm>,
) -> Result<Response> {
    service::delete(&page.db, &page.staff, id).await?;
    page.flash("Deleted. Replies that used it keep their text.").await;
    Ok(Redirect::to(LIST).into_response())
}
