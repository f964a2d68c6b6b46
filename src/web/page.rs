//! Rendering pages: one helper turns a template into a response, and the error pages live here.

use askama::Template;
use axum::{
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// How long a reader is asked to wait before trying again when the service is unavailable.
pub const RETRY_AFTER_SECONDS: &str = "10";

/// The highest page number any list accepts; far past the end of any real list.
pub const MAX_PAGE: i64 = 100_000;

/// A page number from a query string: 1 when missing, mistyped, zero or negative, and at most
/// [`MAX_PAGE`], so the offset it leads to always fits.
pub fn page_number(raw: Option<&str>) -> i64 {
    raw.and_then(|p| p.trim().parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .map_or(1, |p| p.min(MAX_PAGE))
}

/// Renders `template` with `status`. A template that fails to render is a bug: log it and show the
/// generic error page instead of half a page.
pub fn render<T: Template>(status: StatusCode, template: &T) -> Response {
    match template.render() {
        Ok(html) if status == StatusCode::SERVICE_UNAVAILABLE => {
            (status, [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)], Html(html)).into_response()
        }
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "template failed to render");
            let fallback = ErrorPage::internal();
            match fallback.render() {
                Ok(html) => (StatusCode::INTERNAL_SERVER_ERROR, Html(html)).into_response(),
                Err(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Something went wrong on our side. Please try again in a moment.",
                )
                    .into_response(),
            }
        }
    }
}

/// "5 minutes ago", for queues where the age matters more than the date.
pub fn age(at: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (chrono::Utc::now() - at).num_seconds().max(0);
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match secs {
        0..60 => "just now".into(),
        60..3600 => plural(secs / 60, "minute"),
        3600..86400 => plural(secs / 3600, "hour"),
        _ => plural(secs / 86400, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(Utc::now()), "just now");
        assert_eq!(age(Utc::now() - Duration::minutes(1)), "1 minute ago");
        assert_eq!(age(Utc::now() - Duration::minutes(5)), "5 minutes ago");
        assert_eq!(age(Utc::now() - Duration::hours(3)), "3 hours ago");
        assert_eq!(age(Utc::now() - Duration::days(2)), "2 days ago");
    }

    #[test]
    fn page_numbers_are_clamped() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("3")), 3);
        for odd in [
            "0",
            "-1",
            "-9223372036854775808",
            "abc",
            "",
            "1e3",
            "99999999999999999999",
        ] {
            assert_eq!(page_number(Some(odd)), 1, "{odd}");
        }
        assert_eq!(page_number(Some("9223372036854775807")), MAX_PAGE);
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub title: &'static str,
    pub message: &'static str,
}

impl ErrorPage {
    pub fn new(title: &'static str, message: &'static str) -> Self {
        Self { title, message }
    }

    pub fn not_found() -> Self {
        Self::new(
            "Page not found",
            "We could not find this page. It may have moved, or the address may be mistyped.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            "Something went wrong",
            "Something went wrong on our side. Please try again in a moment.",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            "Comments are unavailable just now",
            "We cannot reach our comments store at the moment. Please try again in a few minutes.",
        )
    }

    /// The page for a bare status produced by a layer or extractor rather than by our handlers.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::not_found(),
            StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                "That was too long to send",
                "What you sent is larger than we can accept. Please go back, shorten your comment and try again.",
            ),
            StatusCode::REQUEST_TIMEOUT => Self::new(
                "That took too long",
                "We could not finish in time. Please go back and try again.",
            ),
            StatusCode::METHOD_NOT_ALLOWED => Self::new(
                "This page cannot do that",
                "This address does not accept that kind of request. Please go back and use the links on the page.",
            ),
            StatusCode::SERVICE_UNAVAILABLE => Self::unavailable(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Self::new(
                "Your browser sent too much",
                "Your browser sent more information than we accept. Clearing this site's cookies usually fixes it.",
            ),
            StatusCode::TOO_MANY_REQUESTS => Self::new(
                "Please wait a moment",
                "There have been a lot of requests from your connection. Please wait a few minutes and try again.",
            ),
            s if s.is_client_error() => Self::new(
                "We could not understand that",
                "Something in the request was not as we expected. Please go back and try again.",
            ),
            _ => Self::internal(),
        }
    }

    pub fn into_response_with(self, status: StatusCode) -> Response {
        render(status, &self)
    }
}
