//! Comment counts for article listings: `GET /api/v1/counts?slug=a&slug=b`, for the organisation's
//! own pages to show "3 comments" beside each article.
//!
//! The answer is cacheable for a minute (`Cache-Control: public, max-age=60`) and carries a strong
//! `ETag` (a hash of the body), so `If-None-Match` gets a bodiless 304. Browsers on an allowed
//! embedding site (`CARETHREAD_EMBED_ORIGINS`) may read it: for those origins the answer says
//! `Access-Control-Allow-Origin: <origin>`; for any other it carries no CORS header at all. Every
//! answer says `Vary: Origin`, so a shared cache keeps the two apart.

use std::collections::BTreeMap;

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{problem::Problem, store};
use crate::{config::Config, db::Reads};

/// Most slugs one request may ask about.
pub const MAX_SLUGS: usize = 100;
const MAX_SLUG_CHARS: usize = 100;

/// Published comments per article.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountsJson {
    /// Every slug asked for, with its published comments (replies included); a slug that names no
    /// article counts 0.
    #[schema(example = json!({"after-a-miscarriage": 3, "early-pregnancy": 0}))]
    pub counts: BTreeMap<String, i64>,
}

/// The slugs in a query string (`slug=a&slug=b`), each once; other parameters are ignored.
pub fn slugs(query: Option<&str>) -> Result<Vec<String>, Problem> {
    let mut slugs: Vec<String> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(name, _)| name == "slug")
        .map(|(_, value)| value.trim().to_owned())
        .collect();
    slugs.sort_unstable();
    slugs.dedup();
    if slugs.is_empty() || slugs.iter().any(String::is_empty) {
        return Err(Problem::bad_request(
            "Name at least one article: ?slug=first&slug=second.",
        ));
    }
    if slugs.len() > MAX_SLUGS {
        return Err(Problem::bad_request(format!(
            "Ask about at most {MAX_SLUGS} articles at once."
        )));
    }
    if slugs.iter().any(|s| s.chars().count() > MAX_SLUG_CHARS) {
        return Err(Problem::bad_request(format!(
            "A slug has at most {MAX_SLUG_CHARS} characters."
        )));
    }
    Ok(slugs)
}

/// The counts, from a replica in use (see `db::replicas`).
pub async fn counts(reads: &Reads, slugs: &[String]) -> Result<CountsJson, Problem> {
    let counts = reads
        .run(|db| async move { store::published_counts(&db, slugs).await })
        .await?;
    Ok(CountsJson {
        counts: counts.into_iter().collect(),
    })
}

/// The answer: the body with its validators and cache headers, or 304 when the client's copy is
/// current; CORS headers for an allowed origin.
pub fn respond(request: &HeaderMap, config: &Config, body: &CountsJson) -> Response {
    let json = serde_json::to_vec(body).unwrap_or_default();
    let etag = format!("\"{}\"", hex(&Sha256::digest(&json)[..16]));
    let mut response = if not_modified(request, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, "application/json")], json).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    if cors(request, config, headers) {
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag"),
        );
    }
    response
}

/// The answer to a CORS preflight: what an allowed origin may send.
pub fn preflight(request: &HeaderMap, config: &Config) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, OPTIONS"));
    if cors(request, config, headers) {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("If-None-Match"),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    response
}

/// `Vary: Origin` always; `Access-Control-Allow-Origin` when the request's origin may embed.
/// Whether it may.
fn cors(request: &HeaderMap, config: &Config, headers: &mut HeaderMap) -> bool {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    let allowed = request
        .get(header::ORIGIN)
        .filter(|origin| origin.to_str().is_ok_and(|o| config.embed_allowed(o)));
    match allowed {
        Some(origin) => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            true
        }
        None => false,
    }
}

/// Whether `If-None-Match` names `etag` (compared weakly, as RFC 9110 asks) or is `*`.
fn not_modified(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_read_once_each_and_bounded() {
        assert_eq!(slugs(Some("slug=b&slug=a&x=1&slug=b")).unwrap(), ["a", "b"]);
        assert_eq!(slugs(None).unwrap_err().status, 400);
        assert_eq!(slugs(Some("slug=")).unwrap_err().status, 400);
        let many: Vec<String> = (0..=MAX_SLUGS).map(|i| format!("slug=a{i}")).collect();
        assert_eq!(slugs(Some(&many.join("&"))).unwrap_err().status, 400);
    }

    #[test]
    fn if_none_match_compares_weakly_and_knows_star() {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, "\"x\", W/\"abc\"".parse().unwrap());
        assert!(not_modified(&headers, "\"abc\""));
        assert!(!not_modified(&headers, "\"abd\""));
        headers.insert(header::IF_NONE_MATCH, "*".parse().unwrap());
        assert!(not_modified(&headers, "\"abc\""));
    }
}
