//! Static files are compiled into the binary, so one file is the whole deployment.

use std::sync::LazyLock;

use axum::{
    Router,
    http::{HeaderValue, header},
    response::IntoResponse,
    routing::get,
};

const STYLESHEET: &str = include_str!("../../static/css/carethread.css");
/// The script a charity's page loads to show a thread in a frame (see `comments::embed`).
const EMBED_SCRIPT: &str = include_str!("../../static/js/embed.js");
/// The script inside that frame.
const FRAME_SCRIPT: &str = include_str!("../../static/js/embed-frame.js");
/// Inserts a saved reply at the cursor on the reply page (the form works without it).
const SAVED_REPLIES_SCRIPT: &str = include_str!("../../static/js/saved-replies.js");

/// `path?v=<hash of content>`: a changed file gets a new address, so browsers may keep each for
/// a year and still fetch a changed one at once, whatever the version number says.
fn versioned(path: &str, content: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(content.as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("{path}?v={hash}")
}

pub fn stylesheet_path() -> &'static str {
    static PATH: LazyLock<String> = LazyLock::new(|| versioned("/static/css/carethread.css", STYLESHEET));
    &PATH
}

pub fn frame_script_path() -> &'static str {
    static PATH: LazyLock<String> = LazyLock::new(|| versioned("/static/js/embed-frame.js", FRAME_SCRIPT));
    &PATH
}

pub fn saved_replies_script_path() -> &'static str {
    static PATH: LazyLock<String> =
        LazyLock::new(|| versioned("/static/js/saved-replies.js", SAVED_REPLIES_SCRIPT));
    &PATH
}

pub fn router<S: Clone + Send + Sync + 'static>(files_dir: Option<&std::path::Path>) -> Router<S> {
    let router = Router::new()
        .route("/static/css/carethread.css", get(stylesheet))
        .route("/static/js/embed-frame.js", get(frame_script))
        .route("/static/js/saved-replies.js", get(saved_replies_script))
        .route("/embed.js", get(embed_script));
    match files_dir {
        // The operator's own files, cached for an hour.
        Some(dir) => router.nest_service(
            "/files",
            tower::ServiceBuilder::new()
                .layer(tower_http::set_header::SetResponseHeaderLayer::if_not_present(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ))
                .service(tower_http::services::ServeDir::new(dir)),
        ),
        None => router,
    }
}

const KEEP_A_YEAR: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, KEEP_A_YEAR),
        ],
        STYLESHEET,
    )
}

async fn frame_script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, KEEP_A_YEAR),
        ],
        FRAME_SCRIPT,
    )
}

async fn saved_replies_script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, KEEP_A_YEAR),
        ],
        SAVED_REPLIES_SCRIPT,
    )
}

/// Loaded by other sites' pages at a fixed address, so kept only for an hour.
async fn embed_script() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*")),
        ],
        EMBED_SCRIPT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stylesheet_address_names_its_content() {
        use sha2::Digest;
        let path = stylesheet_path();
        let digest = sha2::Sha256::digest(STYLESHEET.as_bytes());
        let start: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        assert_eq!(path, format!("/static/css/carethread.css?v={start}"));
        assert!(!path.contains(env!("CARGO_PKG_VERSION")));
    }
}
