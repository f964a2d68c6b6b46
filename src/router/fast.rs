//! The application as it is served: a reader's request for an article page that is ready in
//! memory is answered at once; every other request goes through the router and its middleware.
//!
//! A busy article page (one shared on the news, say) is the same bytes for every reader for a
//! form window (see `comments::reading::shared_page`). Sending them takes a few microseconds; the
//! router and the dozen layers around every route took several times that again, for nothing that
//! changes the answer. So the plainest requests for such a page skip them: a `GET` of
//! `/articles/{slug}` with no query, no cookie (so no member of staff, who is shown a page of
//! their own) and no body, while the database is up, whose article, threads and rendered page are
//! all in memory. The answer is the one the handler would give, with every header the middleware
//! adds (the request id, the security headers, the caching policy and `Vary`), the same log line
//! and the same count in the metrics; a test compares the two header for header. Anything else, or
//! anything missing from memory, takes the usual way, which loads what is missing.

use std::{
    convert::Infallible,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    Router,
    extract::{FromRef, MatchedPath, Request},
    http::{HeaderMap, HeaderValue, Method, Uri, header},
    response::Response,
};
use tower::{Service, ServiceExt};

use super::{
    CONTENT_SECURITY_POLICY, HSTS, MAX_HEADER_BYTES, NO_FRAMING, NO_SNIFFING, REQUEST_ID,
    SAME_ORIGIN_REFERRER, app, header_bytes, log_answered, request_span,
};
use crate::{comments, db::Outage, monitoring, state::AppState, web::caching};

/// The route template the metrics and logs name article pages by.
const ARTICLE_ROUTE: &str = "/articles/{slug}";

/// The router, with article pages answered from memory when they can be.
#[derive(Clone)]
pub struct App {
    router: Router,
    fast: Arc<FastPages>,
}

/// The application for `state`, as served.
pub fn service(state: AppState) -> App {
    let fast = Arc::new(FastPages {
        ctx: comments::Context::from_ref(&state),
        outage: Arc::clone(&state.outage),
        https: state.config.https,
    });
    App {
        router: app(state),
        fast,
    }
}

impl Service<Request> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let (router, fast) = (self.router.clone(), Arc::clone(&self.fast));
        Box::pin(async move {
            let started = Instant::now();
            let method = request.method().clone();
            let (response, from_memory) = match fast.answer(&method, request.uri(), request.headers()).await {
                Some(response) => (response, true),
                None => (router.oneshot(request).await?, false),
            };
            // Counted here rather than by a layer of the router's: a layer there is copied for
            // every request. The router's answers bring their route template back with them.
            if monitoring::enabled() {
                let route = match response.extensions().get::<MatchedPath>() {
                    _ if from_memory => ARTICLE_ROUTE,
                    Some(route) => route.as_str(),
                    None => "unmatched",
                };
                let seconds = started.elapsed().as_secs_f64();
                monitoring::request_answered(route, &method, response.status().as_u16(), seconds);
            }
            Ok(response)
        })
    }
}

struct FastPages {
    ctx: comments::Context,
    outage: Arc<Outage>,
    https: bool,
}

impl FastPages {
    /// The answer from memory, or `None` for the usual way.
    async fn answer(&self, method: &Method, uri: &Uri, request: &HeaderMap) -> Option<Response> {
        let started = Instant::now();
        let slug = self.plain_article_request(method, uri, request)?;
        let gzip = caching::accepts_gzip(request)?;
        let mut response = comments::reading::first_page_from_memory(&self.ctx, slug, request, gzip).await?;
        let status = response.status();
        // What the middleware adds to every answer (see `super::app`).
        let id = match request.get(&REQUEST_ID) {
            Some(id) => id.clone(),
            None => HeaderValue::try_from(uuid::Uuid::new_v4().to_string()).ok()?,
        };
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, NO_SNIFFING);
        headers.insert(header::REFERRER_POLICY, SAME_ORIGIN_REFERRER);
        headers.insert(header::X_FRAME_OPTIONS, NO_FRAMING);
        if self.https {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
        }
        let latency = started.elapsed();
        request_span(method, ARTICLE_ROUTE, Some(&id)).in_scope(|| log_answered(status, latency));
        headers.insert(REQUEST_ID.clone(), id);
        Some(response)
    }

    /// The slug of a request the handler would answer with the shared page and the middleware
    /// would let through untouched: a plain `GET /articles/{slug}`.
    fn plain_article_request<'r>(
        &self,
        method: &Method,
        uri: &'r Uri,
        headers: &HeaderMap,
    ) -> Option<&'r str> {
        let plain = method == Method::GET
            && uri.query().is_none()
            && !headers.contains_key(header::COOKIE)
            && !headers.contains_key(header::CONTENT_LENGTH)
            && !headers.contains_key(header::TRANSFER_ENCODING)
            && header_bytes(headers) <= MAX_HEADER_BYTES
            && !self.outage.is_down();
        let slug = uri.path().strip_prefix("/articles/")?;
        let simple = !slug.is_empty()
            && slug.len() <= 200
            && slug
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (plain && simple).then_some(slug)
    }
}
