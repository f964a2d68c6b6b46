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
    /// A report on something readers may not report (a staff reply) or that is not there.
    #[error("not reportable")]
    NotReportable,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Too many passwords are being checked at once (see `accounts::hashing`).
    #[error("busy")]
    Busy,
    /// The database is known to be down (see `db::Outage`).
    #[error("database unavailable")]
    Unavailable,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    FormToken(#[from] crate::web::form::TokenError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            Self::NotFound | Self::NotReportable => StatusCode::NOT_FOUND,
            Self::LinkExpired => StatusCode::GONE,
            Self::CommentsClosed | Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Busy => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(e) if is_unavailable(e) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::FormToken(_) | Self::Other(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Whether this error means the database cannot be reached right now.
    pub fn is_unavailable(&self) -> bool {
        self.status() == StatusCode::SERVICE_UNAVAILABLE
    }
}

/// Marks a response that found the database unreachable, so the web layer can stop waiting for it.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUnreachable;

/// Errors that mean "the database cannot be reached right now", as opposed to a bug: no
/// connection, a broken one, or the server shutting down or starting up.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
            true
        }
        sqlx::Error::Database(e) => e.code().is_some_and(|code| {
            // Class 08: connection exceptions; 57P01-57P03: shut down, crashed, starting up.
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let page = match &self {
            Self::NotFound => ErrorPage::not_found(),
            Self::NotReportable => ErrorPage::new(
                "This cannot be reported",
                "Only published comments from readers can be reported. Replies from our verified staff are checked by our team; if one worries you, please contact us.",
            ),
            Self::CommentsClosed => ErrorPage::new(
                "Comments are closed",
                "This article is no longer taking new comments. The comments already published are still there to read.",
            ),
            Self::Forbidden(why) => ErrorPage::new("You cannot do that", why),
            Self::LinkExpired => ErrorPage::new(
                "This link has expired",
                "This link has expired or has already been used. Please ask an admin for a new one.",
            ),
            Self::Unavailable => ErrorPage::unavailable(),
            Self::Busy => ErrorPage::for_status(StatusCode::TOO_MANY_REQUESTS),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => {
                tracing::warn!(error = %self, "database unavailable");
                let mut response = ErrorPage::unavailable().into_response_with(status);
                response.extensions_mut().insert(DatabaseUnreachable);
                return response;
            }
            Self::Database(e) => {
                tracing::error!(error = %e, "database error");
                ErrorPage::internal()
            }
            Self::FormToken(e) => {
                tracing::error!(error = %e, "internal error");
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
