//! Strict JSON bodies and query strings: anything that does not fit is refused with a problem
//! document before a handler runs, so nothing is stored from it.
//!
//! - a body sent as anything but `Content-Type: application/json` → 415 (an HTML form on another
//!   site cannot send JSON without asking first, which is what keeps the API free of form tokens);
//! - a body that is not valid UTF-8, or not JSON at all → 400;
//! - JSON of the wrong shape (a wrong type, an unknown or repeated field, a number out of range) →
//!   422, naming the field.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use serde::de::DeserializeOwned;

use super::problem::Problem;

/// A JSON body, strictly read.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(request.headers()) {
            return Err(Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = body(request, state).await?;
        parse(&bytes).map(ApiJson)
    }
}

/// A JSON body that may be left out: no body at all, or `null`, means `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let typed = request.headers().contains_key(header::CONTENT_TYPE);
        if typed && !is_json(request.headers()) {
            return Err(Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let bytes = body(request, state).await?;
        match (typed, bytes.is_empty()) {
            (false, true) => Ok(Self(T::default())),
            (false, false) => Err(Problem::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)),
            // JSON's own "nothing" is as good as no body.
            (true, _) if bytes.trim_ascii() == b"null" => Ok(Self(T::default())),
            (true, _) => parse(&bytes).map(OptionalJson),
        }
    }
}

async fn body<S: Send + Sync>(request: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| Problem::for_status(rejection.status()))
}

/// `application/json`, with or without parameters such as a charset.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// Reads `bytes` as a `T`, or says what is wrong with them.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| Problem::bad_request("The body is not valid UTF-8."))?;
    // Every body is an object: an array is not read field by field.
    if !text.trim_start().starts_with('{') {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|error| refused(error, "$"))?;
        return Err(Problem::fields([("$", "Send a JSON object.")]));
    }
    let mut reader = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(|error| {
        let path = error.path().to_string();
        refused(error.into_inner(), &path)
    })?;
    reader.end().map_err(|error| refused(error, "$"))?;
    Ok(value)
}

/// A JSON error as a problem: 400 for text that is not JSON, 422 (naming the field) for JSON of
/// the wrong shape.
fn refused(error: serde_json::Error, path: &str) -> Problem {
    let full = error.to_string();
    let message = full
        .strip_suffix(&format!(" at line {} column {}", error.line(), error.column()))
        .unwrap_or(&full)
        .to_owned();
    match error.classify() {
        serde_json::error::Category::Data => {
            let field = if path.is_empty() || path == "." { "$" } else { path };
            Problem::fields([(field, message)])
        }
        _ => Problem::bad_request(format!("The body is not valid JSON: {message}.")),
    }
}

/// A query string, strictly read: a value that does not fit is refused with 400.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|error| Problem::bad_request(format!("The query string does not fit: {error}.")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        id: Option<i64>,
    }

    fn problem(body: &[u8]) -> Problem {
        parse::<Sample>(body).unwrap_err()
    }

    #[test]
    fn json_of_the_wrong_shape_names_the_field() {
        let p = problem(br#"{"name": 5}"#);
        assert_eq!(p.status, 422);
        assert!(p.errors["name"].starts_with("invalid type: integer `5`"), "{p:?}");
        let p = problem(br#"{"name": "a", "id": 99999999999999999999}"#);
        assert!(p.errors.contains_key("id"), "{p:?}");
        let p = problem(br#"{"name": "a", "colour": "red"}"#);
        assert_eq!(p.status, 422);
        assert!(
            p.errors.values().any(|m| m.contains("unknown field `colour`")),
            "{p:?}"
        );
        let p = problem(br#"["a", 2]"#);
        assert_eq!(p.errors["$"], "Send a JSON object.");
    }

    #[test]
    fn text_that_is_not_json_or_utf8_is_a_bad_request() {
        assert_eq!(problem(b"{\"name\": \"\xff\"}").status, 400);
        assert_eq!(problem(br#"{"name": "a""#).status, 400);
        assert_eq!(problem(br#"{"name": "a"} trailing"#).status, 400);
        assert_eq!(problem(b"").status, 400);
        assert!(parse::<Sample>(br#"{"name": "a"}"#).is_ok());
    }
}
