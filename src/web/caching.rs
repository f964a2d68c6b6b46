//! What shared caches (Varnish, a CDN) may do with an answer: keep it for everyone for a few
//! seconds, with an `ETag` that `If-None-Match` is answered against with 304, or never keep it.
//!
//! The rule is simple and errs one way: an answer is shareable only when its handler says so
//! (`Sharing::Public`), and then carries nothing that depends on the reader. Everything else is
//! `private, no-store` (the router sets that on any answer that names no policy of its own).

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

/// How long past `s-maxage` a shared cache may serve a page while it fetches a fresh one in the
/// background, and while this service cannot be reached.
pub const STALE_WHILE_REVALIDATE_SECONDS: u32 = 30;
pub const STALE_IF_ERROR_SECONDS: u32 = 300;

/// The policy of answers that must never be kept for anyone else: pages after a post, pages for
/// signed-in staff, anything personal.
pub const PRIVATE: HeaderValue = HeaderValue::from_static("private, no-store");

/// Whether an answer may be kept by shared caches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sharing {
    /// The same for every reader: kept for `seconds` (`s-maxage`; 0 means revalidate every
    /// time) and known by `etag`.
    Public { etag: String, seconds: u32 },
    /// Personal, or after something the reader did: never kept.
    Private,
}

impl Sharing {
    /// A public answer known by the digest of `parts` (everything the page is made from).
    pub fn public(seconds: u32, parts: &[&[u8]]) -> Self {
        Self::Public {
            etag: etag(parts),
            seconds,
        }
    }

    /// A 304 for a request whose `If-None-Match` names this answer's `ETag`.
    pub fn not_modified(&self, request: &HeaderMap) -> Option<Response> {
        let Self::Public { etag, .. } = self else {
            return None;
        };
        let matched = request
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| names(v, etag));
        matched.then(|| self.apply(StatusCode::NOT_MODIFIED.into_response()))
    }

    /// Adds this policy's headers to `response`.
    pub fn apply(&self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        match self {
            Self::Public { etag, seconds } => {
                // Weak: the page is the same whether or not it is sent compressed.
                if let Ok(value) = HeaderValue::from_str(&format!("W/{etag}")) {
                    headers.insert(header::ETAG, value);
                }
                headers.insert(header::CACHE_CONTROL, public_policy(*seconds));
                // A request with a cookie may be a signed-in member of staff, who is shown
                // another page: a cache must not answer them with this one.
                headers.append(header::VARY, HeaderValue::from_static("Cookie"));
            }
            Self::Private => {
                headers.insert(header::CACHE_CONTROL, PRIVATE);
                headers.remove(header::ETAG);
            }
        }
        response
    }
}

/// `Cache-Control` of a public page: browsers always ask again (`max-age=0`, answered 304 when
/// unchanged); shared caches keep it `seconds`.
fn public_policy(seconds: u32) -> HeaderValue {
    if seconds == 0 {
        return HeaderValue::from_static("no-cache");
    }
    let policy = format!(
        "public, max-age=0, s-maxage={seconds}, stale-while-revalidate={STALE_WHILE_REVALIDATE_SECONDS}, \
         stale-if-error={STALE_IF_ERROR_SECONDS}"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static("no-cache"))
}

/// An entity tag (sent weak, `W/"…"`): the first half of a SHA-256 of `parts`, each with its
/// length.
pub fn etag(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.len().to_be_bytes());
        hash.update(part);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &hash.finalize()[..16] {
        tag.push(char::from(HEX[usize::from(byte >> 4)]));
        tag.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    tag.push('"');
    tag
}

/// Whether an `If-None-Match` value names `etag` (`*`, or one of its tags, weak or strong: a
/// GET compares weakly).
fn names(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Whether to send a page compressed with gzip, from the request's `Accept-Encoding`, when the
/// header is plain enough to be sure: absent, or a list of named encodings (`gzip`, `x-gzip`,
/// `identity`, and `deflate`, `br`, `zstd`, which this service does not make) with optional `q`
/// weights. gzip is sent when it is taken with a weight above zero and at least that of
/// `identity`, as the compression layer decides. `None` (a `*`, an odd weight, anything else, or
/// nothing acceptable) leaves the choice to that layer, which reads the header in full.
pub fn accepts_gzip(request: &HeaderMap) -> Option<bool> {
    let (mut gzip, mut identity) = (0.0_f32, None);
    for value in request.get_all(header::ACCEPT_ENCODING) {
        for item in value.to_str().ok()?.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            if name.is_empty() {
                continue;
            }
            let weight = match parts.next().map(str::trim) {
                None => 1.0,
                Some(q) => q
                    .strip_prefix("q=")?
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))?,
            };
            if parts.next().is_some() {
                return None;
            }
            if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                gzip = gzip.max(weight);
            } else if name.eq_ignore_ascii_case("identity") {
                identity = Some(weight);
            } else if !["deflate", "br", "zstd"]
                .iter()
                .any(|known| name.eq_ignore_ascii_case(known))
            {
                return None;
            }
        }
    }
    match identity {
        _ if gzip > 0.0 && identity.is_none_or(|identity| gzip >= identity) => Some(true),
        Some(identity) if identity > 0.0 => Some(false),
        Some(_) => None,
        None => Some(false),
    }
}

/// Whether the request carries a cookie named `name` (its value is not read).
pub fn has_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .any(|(cookie, _)| cookie.trim() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_change_with_any_part_and_parts_cannot_run_together() {
        assert_eq!(etag(&[b"a", b"b"]), etag(&[b"a", b"b"]));
        assert_ne!(etag(&[b"a", b"b"]), etag(&[b"a", b"c"]));
        assert_ne!(etag(&[b"ab", b""]), etag(&[b"a", b"b"]));
        assert!(etag(&[b"x"]).starts_with('"') && etag(&[b"x"]).ends_with('"'));
    }

    #[test]
    fn if_none_match_is_compared_weakly_and_in_lists() {
        let tag = etag(&[b"x"]);
        assert!(names(&tag, &tag));
        assert!(names(&format!("W/{tag}"), &tag));
        assert!(names(&format!("\"other\", {tag}"), &tag));
        assert!(names("*", &tag));
        assert!(!names("\"other\"", &tag));
    }

    #[test]
    fn a_cookie_is_found_by_its_name_only() {
        let headers = |cookie: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
            h
        };
        assert!(has_cookie(
            &headers("a=1; carethread_session=x"),
            "carethread_session"
        ));
        assert!(!has_cookie(
            &headers("a=carethread_session"),
            "carethread_session"
        ));
        assert!(!has_cookie(
            &headers("carethread_session_old=1"),
            "carethread_session"
        ));
        assert!(!has_cookie(&HeaderMap::new(), "carethread_session"));
    }

    #[test]
    fn gzip_is_chosen_only_from_a_header_read_in_full() {
        let headers = |value: Option<&str>| {
            let mut h = HeaderMap::new();
            if let Some(value) = value {
                h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            }
            h
        };
        let choice = |value| accepts_gzip(&headers(value));
        assert_eq!(choice(None), Some(false));
        assert_eq!(choice(Some("gzip, deflate, br, zstd")), Some(true));
        assert_eq!(choice(Some("br;q=1.0, GZIP;q=0.5")), Some(true));
        assert_eq!(choice(Some("x-gzip")), Some(true));
        assert_eq!(choice(Some("br")), Some(false));
        assert_eq!(choice(Some("gzip;q=0")), Some(false));
        assert_eq!(choice(Some("identity")), Some(false));
        assert_eq!(choice(Some("gzip, identity")), Some(true));
        assert_eq!(choice(Some("gzip;q=0.5, identity")), Some(false));
        // Left to the compression layer: wildcards, odd weights, nothing acceptable.
        assert_eq!(choice(Some("*")), None);
        assert_eq!(choice(Some("identity;q=0")), None);
        assert_eq!(choice(Some("gzip;q=2")), None);
        assert_eq!(choice(Some("gzip;level=9")), None);
        assert_eq!(choice(Some("compress")), None);
    }

    #[test]
    fn public_pages_are_kept_by_shared_caches_only() {
        let policy = public_policy(10);
        let policy = policy.to_str().unwrap();
        assert!(policy.starts_with("public, max-age=0, s-maxage=10"));
        assert!(policy.contains("stale-while-revalidate=") && policy.contains("stale-if-error="));
        assert_eq!(public_policy(0), "no-cache");
    }
}
