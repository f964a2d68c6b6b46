//! Static files are compiled into the binary, so one file is the whole deployment.

use axum::{
    Router,
    http::{HeaderValue, header},
    response::IntoResponse,
    routing::get,
};

const STYLESHEET: &str = include_str!("../../static/css/carethread.css");

/// The stylesheet's address carries a hash of its content, so browsers may keep it for a year and
/// still fetch a changed one at once, whatever the version number says.
pub fn stylesheet_path() -> &'static str {
    static PATH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(STYLESHEET.as_bytes());
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("/static/css/carethread.css?v={hash}")
    });
    &PATH
}

pub fn router<S: Clone + Send + Sync + 'static>(files_dir: Option<&std::path::Path>) -> Router<S> {
    let router = Router::new().route("/static/css/carethread.css", get(stylesheet));
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

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        STYLESHEET,
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
