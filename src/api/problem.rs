//! Every error the JSON API gives is a problem document (RFC 9457), sent as
//! `application/problem+json`: `type` (always `about:blank`: the status says what kind of
//! problem it is), `title` (the status's name), `status`, `detail` (what happened, in words for a
//! person) and, for a body that needs fixing (422), `errors`: each field that needs fixing and
//! what is wrong with it.

use std::collections::BTreeMap;

use axum::{
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    error::{AppError, DatabaseUnreachable},
    web::page::RETRY_AFTER_SECONDS,
};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// A problem, ready to send.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub detail: String,
    /// Field (a JSON path such as `name` or `reason`; `$` for the body as a whole) → what is wrong.
    pub errors: BTreeMap<String, String>,
    /// Boxed: a problem travels in every `Err`, and few carry headers.
    headers: Box<HeaderMap>,
    /// The database could not be reached: tell the outage watch (see `db::Outage`).
    unreachable: bool,
}

/// A problem document (RFC 9457).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemBody {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: &'static str,
    /// The name of the status.
    #[schema(example = "Unprocessable Content")]
    pub title: &'static str,
    #[schema(example = 422)]
    pub status: u16,
    /// What happened, for a person to read.
    #[schema(example = "Some fields need fixing: see errors.")]
    pub detail: String,
    /// Only for 422: each field that needs fixing and what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            errors: BTreeMap::new(),
            headers: Box::default(),
            unreachable: false,
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }

    /// 422 with every field that needs fixing.
    pub fn fields<K: Into<String>, V: Into<String>>(errors: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut problem = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Some fields need fixing: see errors.",
        );
        problem.errors = errors.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        problem
    }

    /// 429, with how many seconds to wait.
    pub fn too_many(detail: impl Into<String>, retry_after_seconds: i64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
            .with_header(header::RETRY_AFTER, &retry_after_seconds.max(1).to_string())
    }

    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.insert(name, value);
        }
        self
    }

    /// The problem for a bare status from a layer or an extractor.
    pub fn for_status(status: StatusCode) -> Self {
        let detail = match status {
            StatusCode::NOT_FOUND => "There is nothing at this address.",
            StatusCode::METHOD_NOT_ALLOWED => "This address does not take that method: see the Allow header.",
            StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than this service accepts.",
            StatusCode::REQUEST_TIMEOUT => "The request took too long to arrive or to answer.",
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "The request's headers are too large.",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                "Send the body as JSON, with Content-Type: application/json."
            }
            StatusCode::TOO_MANY_REQUESTS => "Too many requests just now. Please wait and try again.",
            StatusCode::SERVICE_UNAVAILABLE => {
                "The comments store cannot be reached just now. Please try again shortly."
            }
            s if s.is_client_error() => "The request was not as this service expects.",
            _ => "Something went wrong on our side. Please try again in a moment.",
        };
        let problem = Self::new(status, detail);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return problem.with_header(header::RETRY_AFTER, RETRY_AFTER_SECONDS);
        }
        problem
    }

    fn body(&self) -> ProblemBody {
        ProblemBody {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            errors: (!self.errors.is_empty()).then(|| self.errors.clone()),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_default();
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
            body,
        )
            .into_response();
        response.headers_mut().extend(*self.headers);
        if self.unreachable {
            response.extensions_mut().insert(DatabaseUnreachable);
        }
        response
    }
}

/// The site's errors, as problems. Database and other errors are logged, and an unreachable
/// database reported, exactly as for pages.
impl From<AppError> for Problem {
    fn from(error: AppError) -> Self {
        match error {
            AppError::NotFound => Self::not_found("There is nothing here with that name or number."),
            AppError::CommentsClosed => Self::forbidden("This article is no longer taking new comments."),
            AppError::Forbidden(why) => Self::forbidden(why),
            other => {
                // The page's own handling logs the cause and marks an unreachable database.
                let page = other.into_response();
                let mut problem = Self::for_status(page.status());
                problem.unreachable = page.extensions().get::<DatabaseUnreachable>().is_some();
                problem
            }
        }
    }
}

impl From<sqlx::Error> for Problem {
    fn from(error: sqlx::Error) -> Self {
        AppError::from(error).into()
    }
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(CONTENT_TYPE))
}

/// An error response to an API address that is not yet a problem document (a bare status from a
/// layer, a page from the outage gate) becomes one, keeping the headers that tell the client what
/// to do next.
pub fn ensure_problem(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let mut problem = Problem::for_status(status);
    for kept in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(value) = response.headers().get(&kept) {
            problem.headers.insert(kept, value.clone());
        }
    }
    problem.unreachable = response.extensions().get::<DatabaseUnreachable>().is_some();
    problem.into_response()
}
