//! The front page: articles that take comments.

use super::{ArticleSummary, store};
use crate::{db::Reads, error::Result, web::page::render};
use askama::Template;
use axum::{
    Router,
    extract::{FromRef, State},
    http::StatusCode,
    response::Response,
    routing::get,
};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Reads: FromRef<S>,
{
    Router::new().route("/", get(index))
}

#[derive(Template)]
#[template(path = "articles/index.html")]
struct IndexPage {
    articles: Vec<ArticleSummary>,
}

/// A public page: read from a replica in use.
async fn index(State(reads): State<Reads>) -> Result<Response> {
    let articles = reads.run(|db| async move { store::list_open(&db).await }).await?;
    Ok(render(StatusCode::OK, &IndexPage { articles }))
}
