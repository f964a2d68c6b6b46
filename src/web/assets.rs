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

pub fn router() -> Router<AppState> {
    Router::new().route("/static/css/carethread.css", get(stylesheet))
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
