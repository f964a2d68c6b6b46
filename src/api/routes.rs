//! The API's handlers: each reads the request, calls one function of `counts`, `public` or
//! `staff`, and answers JSON. The `#[utoipa::path]` on each is its part of the OpenAPI document;
//! problem responses (4xx, 5xx) get their `application/problem+json` body there in `openapi`.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    counts::{self, CountsJson},
    extract::{ApiJson, ApiQuery, OptionalJson},
    guard::{ApiMidwife, ApiModerator, ApiReader},
    problem::Problem,
    public::{self, FormStamp, NewCommentJson, PageQuery, Received, ThreadJson},
    staff::{self, DecisionJson, HideJson, QueueJson, QueueQuery, ReplyJson, ReplyPublished},
};
use crate::{
    comments::{Context, Poster},
    config::Config,
    moderation::Decision,
};

/// Published comment counts of up to 100 articles.
#[utoipa::path(
    get,
    path = "/api/v1/counts",
    tag = "public",
    params(
        ("slug" = Vec<String>, Query, description = "An article's slug; repeat for more articles (at most 100).",
         example = json!(["after-a-miscarriage"])),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a copy you hold."),
    ),
    responses(
        (status = 200, description = "Published comments per slug. Cacheable for 60 seconds; for an allowed embedding origin the answer carries `Access-Control-Allow-Origin`.",
         body = CountsJson,
         headers(("ETag" = String, description = "A hash of the body"),
                 ("Cache-Control" = String, description = "public, max-age=60"))),
        (status = 304, description = "Your copy (named in If-None-Match) is current."),
        (status = 400, description = "No slug, more than 100, or an empty one."),
    )
)]
pub async fn counts(
    State(ctx): State<Context>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let slugs = counts::slugs(query.as_deref())?;
    let body = counts::counts(&ctx.reads, &slugs).await?;
    Ok(counts::respond(&headers, &ctx.config, &body))
}

/// CORS preflight for the counts, from an embedding site.
#[utoipa::path(
    options,
    path = "/api/v1/counts",
    tag = "public",
    responses((status = 204, description = "For an allowed origin, the CORS headers it may use; for any other, none.")),
)]
pub async fn counts_preflight(State(config): State<Arc<Config>>, headers: HeaderMap) -> Response {
    counts::preflight(&headers, &config)
}

/// A page of an article's published comments, as its page shows them.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{slug}/comments",
    tag = "public",
    params(("slug" = String, Path, description = "The article's slug", example = "after-a-miscarriage"), PageQuery),
    responses(
        (status = 200, description = "The page's threads, in reading order", body = ThreadJson),
        (status = 404, description = "No article has this slug."),
    )
)]
pub async fn thread(
    State(ctx): State<Context>,
    Path(slug): Path<String>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ThreadJson>, Problem> {
    Ok(Json(public::thread(&ctx, &slug, query.number()).await?))
}

/// A fresh form stamp, to send back with a new comment.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{slug}/form",
    tag = "public",
    params(("slug" = String, Path, description = "The article's slug", example = "after-a-miscarriage")),
    responses(
        (status = 200, description = "A stamp for one comment", body = FormStamp),
        (status = 403, description = "The article takes no new comments."),
        (status = 404, description = "No article has this slug."),
    )
)]
pub async fn form(State(ctx): State<Context>, Path(slug): Path<String>) -> Result<Response, Problem> {
    let stamp = public::form_stamp(&ctx, &slug).await?;
    let mut response = Json(stamp).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Posts a comment for moderation, by the HTML form's rules.
#[utoipa::path(
    post,
    path = "/api/v1/articles/{slug}/comments",
    tag = "public",
    params(("slug" = String, Path, description = "The article's slug", example = "after-a-miscarriage")),
    request_body(content = NewCommentJson, content_type = "application/json"),
    responses(
        (status = 202, description = "Received: it waits for a moderator. When `urgent`, show `safety_message` now.", body = Received),
        (status = 403, description = "The article takes no new comments."),
        (status = 404, description = "No article has this slug."),
        (status = 422, description = "Every field that needs fixing, in `errors`. Nothing was stored."),
        (status = 429, description = "Too many comments from this address, or on this article, just now.",
         headers(("Retry-After" = i64, description = "Seconds to wait"))),
    )
)]
pub async fn post_comment(
    poster: Poster,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<NewCommentJson>,
) -> Result<(StatusCode, Json<Received>), Problem> {
    let received = public::post(&poster.reader.ctx, &poster.client, &slug, input).await?;
    Ok((StatusCode::ACCEPTED, Json(received)))
}

/// One tab of the moderation queue. Any token.
#[utoipa::path(
    get,
    path = "/api/v1/queue",
    tag = "staff",
    params(QueueQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tab, its counts and its comments", body = QueueJson),
        (status = 404, description = "No article has the slug in `article`."),
    )
)]
pub async fn queue(
    ApiReader(caller): ApiReader,
    ApiQuery(query): ApiQuery<QueueQuery>,
) -> Result<Json<QueueJson>, Problem> {
    Ok(Json(staff::queue(&caller, &query).await?))
}

/// Publishes a waiting comment.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/approve",
    tag = "staff",
    params(("id" = i64, Path, description = "The comment", example = 1)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Approved", body = DecisionJson),
        (status = 404, description = "No such comment."),
        (status = 409, description = "The comment is not waiting (someone decided first): `detail` says what it is now."),
    )
)]
pub async fn approve(
    ApiModerator(caller): ApiModerator,
    Path(id): Path<i64>,
) -> Result<Json<DecisionJson>, Problem> {
    Ok(Json(staff::decide(&caller, id, Decision::Approve, "").await?))
}

/// Hides a comment, with its replies, from readers.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/hide",
    tag = "staff",
    params(("id" = i64, Path, description = "The comment", example = 1)),
    request_body(content = Option<HideJson>, content_type = "application/json", description = "Optional: the reason, for staff only."),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Hidden", body = DecisionJson),
        (status = 404, description = "No such comment."),
        (status = 409, description = "The comment is already hidden: `detail` says who hid it."),
        (status = 422, description = "The reason is too long."),
    )
)]
pub async fn hide(
    ApiModerator(caller): ApiModerator,
    Path(id): Path<i64>,
    OptionalJson(body): OptionalJson<HideJson>,
) -> Result<Json<DecisionJson>, Problem> {
    let reason = body.reason.unwrap_or_default();
    Ok(Json(staff::decide(&caller, id, Decision::Hide, &reason).await?))
}

/// Publishes a hidden comment and its replies again.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/unhide",
    tag = "staff",
    params(("id" = i64, Path, description = "The comment", example = 1)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Unhidden", body = DecisionJson),
        (status = 404, description = "No such comment."),
        (status = 409, description = "The comment is not hidden: `detail` says what it is now."),
    )
)]
pub async fn unhide(
    ApiModerator(caller): ApiModerator,
    Path(id): Path<i64>,
) -> Result<Json<DecisionJson>, Problem> {
    Ok(Json(staff::decide(&caller, id, Decision::Unhide, "").await?))
}

/// Moves a comment from the spam tab to the waiting queue.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/not-spam",
    tag = "staff",
    params(("id" = i64, Path, description = "The comment", example = 1)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Now waiting for moderation", body = DecisionJson),
        (status = 404, description = "No such comment."),
        (status = 409, description = "The comment is not in the spam tab: `detail` says what it is now."),
    )
)]
pub async fn not_spam(
    ApiModerator(caller): ApiModerator,
    Path(id): Path<i64>,
) -> Result<Json<DecisionJson>, Problem> {
    Ok(Json(staff::decide(&caller, id, Decision::NotSpam, "").await?))
}

/// Publishes a reply under a comment, approving the comment first if it was waiting. Tokens of
/// verified midwives (and verified admins) only.
#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/replies",
    tag = "staff",
    params(("id" = i64, Path, description = "The comment answered", example = 1)),
    request_body(content = ReplyJson, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Published", body = ReplyPublished),
        (status = 404, description = "No such comment."),
        (status = 409, description = "The comment is hidden or in the spam tab, so it takes no reply."),
        (status = 422, description = "The reply is empty or too long."),
    )
)]
pub async fn reply(
    ApiMidwife(caller): ApiMidwife,
    Path(id): Path<i64>,
    ApiJson(input): ApiJson<ReplyJson>,
) -> Result<(StatusCode, Json<ReplyPublished>), Problem> {
    let published = staff::reply(&caller, id, &input.body).await?;
    Ok((StatusCode::CREATED, Json(published)))
}
