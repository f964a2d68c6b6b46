//! Static files are compiled into the binary, so one file is the whole deployment.

use axum::{
    Router,
    http::{HeaderValue, header},
    response::IntoResponse,
    routing::get,
};

use super::AppState;

const STYLESHEET: &str = include_str!("../../static/css/carethread.css");

/// Bumped with each release so browsers can keep the file for a long time.
pub const STYLESHEET_PATH: &str = concat!("/static/css/carethread.css?v=", env!("CARGO_PKG_VERSION"));

pub fn router(files_dir: Option<&std::path::Path>) -> Router<AppState> {
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
                HeaderValue::from_static("public, max-age=604800"),
            ),
        ],
        STYLESHEET,
    )
}
