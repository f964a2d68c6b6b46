//! The front page: articles that take comments.

use askama::Template;
use axum::{Router, extract::State, http::StatusCode, response::Response, routing::get};

use super::{ArticleSummary, store};
use crate::{error::Result, web::AppState, web::page::render};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(index))
}

#[derive(Template)]
#[template(path = "articles/index.html")]
struct IndexPage {
    articles: Vec<ArticleSummary>,
}

async fn index(State(state): State<AppState>) -> Result<Response> {
    let articles = store::list_open(&state.db).await?;
    Ok(render(StatusCode::OK, &IndexPage { articles }))
}
