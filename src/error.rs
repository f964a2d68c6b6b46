//! The one error type of the web layer and how each kind is shown to a reader.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::web::page::ErrorPage;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    #[error("comments are closed")]
    CommentsClosed,
    #[error("link expired or used")]
    LinkExpired,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::LinkExpired => StatusCode::GONE,
            Self::CommentsClosed | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Database(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Other(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Errors that mean "the database cannot be reached right now", as opposed to a bug.
fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_)
    )
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let page = match &self {
            Self::NotFound => ErrorPage::not_found(),
            Self::CommentsClosed => ErrorPage::new(
                "Comments are closed",
                "This article is no longer taking new comments. The comments already published are still there to read.",
            ),
            Self::Forbidden(why) => ErrorPage::new("You cannot do that", why),
            Self::LinkExpired => ErrorPage::new(
                "This link has expired",
                "This link has expired or has already been used. Please ask an admin for a new one.",
            ),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(error = %self, "database unavailable");
                ErrorPage::unavailable()
            }
            Self::Database(e) => {
                tracing::error!(error = %e, "database error");
                ErrorPage::internal()
            }
            Self::Other(e) => {
                tracing::error!(error = ?e, "internal error");
                ErrorPage::internal()
            }
        };
        page.into_response_with(status)
    }
}
