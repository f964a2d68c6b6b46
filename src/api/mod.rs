//! The JSON API, version 1, under `/api/v1/`:
//!
//! - public: comment counts for article listings (cacheable, CORS for embedding sites), an
//!   article's published thread, a form stamp and posting a comment, by the page's rules;
//! - staff, with a bearer token an admin makes (`tokens`): the queue, decisions and replies, by the
//!   dashboard's role rules (`guard`);
//! - errors as problem documents (`problem`), strict JSON (`extract`), and the OpenAPI document
//!   generated from the handlers (`openapi`).
//!
//! No route here reads a session or a cookie: staff are known by their token alone, and a JSON
//! body (which an HTML form on another site cannot send) stands in for the form token.

pub mod counts;
pub mod extract;
pub mod guard;
pub mod openapi;
pub mod problem;
pub mod public;
pub mod routes;
pub mod staff;
pub mod store;
pub mod tokens;

use std::sync::Arc;

use axum::{
    Router,
    extract::FromRef,
    http::{HeaderValue, header},
    routing::get,
};
use sqlx::PgPool;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{comments::Context, config::Config, web::client::ClientKeys};

/// Whether `path` is the API's: its errors are problem documents, never pages.
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Context: FromRef<S>,
    ClientKeys: FromRef<S>,
    axum_csrf::CsrfConfig: FromRef<S>,
    PgPool: FromRef<S>,
    Arc<Config>: FromRef<S>,
{
    let public = OpenApiRouter::new()
        .routes(routes!(routes::counts, routes::counts_preflight))
        .routes(routes!(routes::thread, routes::post_comment))
        .routes(routes!(routes::form));
    // What staff read through the API is for them alone: no cache keeps it.
    let staff = OpenApiRouter::new()
        .routes(routes!(routes::queue))
        .routes(routes!(routes::approve))
        .routes(routes!(routes::hide))
        .routes(routes!(routes::unhide))
        .routes(routes!(routes::not_spam))
        .routes(routes!(routes::reply))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    let (router, doc) = OpenApiRouter::with_openapi(openapi::base())
        .merge(public)
        .merge(staff)
        .split_for_parts();
    let document: Arc<str> = openapi::document(doc).into();
    router.route(
        openapi::PATH,
        get(move || {
            let document = Arc::clone(&document);
            async move { ([(header::CONTENT_TYPE, "application/json")], document.to_string()) }
        }),
    )
}
