//! The front page: articles that take comments.

use askama::Template;
use axum::{
    Router,
    extract::{FromRef, State},
    http::StatusCode,
    response::Response,
    routing::get,
};
use sqlx::PgPool;

use super::{ArticleSummary, store};
use crate::{error::Result, web::page::render};

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    PgPool: FromRef<S>,
{
    Router::new().route("/", get(index))
}

#[derive(Template)]
#[template(path = "articles/index.html")]
struct IndexPage {
    articles: Vec<ArticleSummary>,
}

async fn index(State(db): State<PgPool>) -> Result<Response> {
    let articles = store::list_open(&db).await?;
    Ok(render(StatusCode::OK, &IndexPage { articles }))
}
