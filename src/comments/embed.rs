//! Threads on the charity's own page: `/embed/articles/{slug}` is the thread without the site's
//! header and footer, framed by `embed.js` on the pages of the sites in
//! `CARETHREAD_EMBED_ORIGINS` (and no others: only these answers name them in `frame-ancestors`).
//!
//! Posting works inside the frame when the article's site is another site, where browsers keep
//! no cookie for the frame: the frame's form carries no cookie-bound token. A cross-site forgery
//! is refused instead by checking that the post comes from this site's own page (its `Origin`,
//! or failing that its `Referer`, names this host), and the signed form stamp and the rate limits
//! apply as on the thread's own page.

use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::Response,
};
use serde::Deserialize;

use super::{Context, view::EmbedFrame};
use crate::{
    articles::{self, Article, NewArticle},
    audit::{self, Action, Target},
    error::Result,
};

/// Marks an answer that may be shown in a frame on an allowed site (the router leaves out
/// `X-Frame-Options` for it).
#[derive(Debug, Clone, Copy)]
pub struct Embeddable;

/// The code a charity pastes into its page to show an article's comments there: the element
/// `embed.js` fills (found by `data-carethread-article`), the script from this site, and a link
/// for readers without JavaScript. `site` is the public address, without a trailing slash.
pub fn snippet(site: &str, slug: &str) -> String {
    format!(
        "<div id=\"carethread\" data-carethread-article=\"{slug}\"></div>\n\
         <script src=\"{site}/embed.js\" async></script>\n\
         <noscript><a href=\"{site}/articles/{slug}\">Read and add comments</a></noscript>"
    )
}

/// The frame around a thread for this site's settings.
pub fn frame(ctx: &Context) -> EmbedFrame {
    EmbedFrame {
        allowed_origins: ctx.config.embed_origins.join(" "),
    }
}

/// The security policy of a framed answer: the site's usual one, but framed by the allowed sites.
pub fn content_security_policy(ctx: &Context) -> HeaderValue {
    let ancestors = if ctx.config.embed_origins.is_empty() {
        "'none'".to_owned()
    } else {
        ctx.config.embed_origins.join(" ")
    };
    let policy = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; \
         form-action 'self'; frame-ancestors {ancestors}; base-uri 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static("frame-ancestors 'none'"))
}

/// Makes `response` one an allowed site may frame.
pub fn embeddable(ctx: &Context, mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, content_security_policy(ctx));
    response.extensions_mut().insert(Embeddable);
    response
}

/// Whether a form post comes from a page of this site: its `Origin` (or, when a browser sends
/// none, its `Referer`) names the host it was sent to.
pub fn from_this_site(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let named = |value: &str| {
        value
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
            .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
    };
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) if origin != "null" => named(origin),
        _ => headers
            .get(header::REFERER)
            .and_then(|r| r.to_str().ok())
            .is_some_and(named),
    }
}

/// What the embedding page tells the frame about itself (used only to create an article for a
/// new short name when `CARETHREAD_AUTO_ARTICLES` is on).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EmbeddingPage {
    pub title: Option<String>,
    pub url: Option<String>,
}

/// The article for `slug`, created from the embedding page's title and address when the
/// settings allow it and the address is on an allowed site. `None`: comments are not open here.
pub async fn article_for(ctx: &Context, slug: &str, page: &EmbeddingPage) -> Result<Option<Article>> {
    if let Some(article) = articles::store::find_by_slug(&ctx.db, slug).await? {
        return Ok(Some(article));
    }
    let (Some(title), Some(url)) = (page.title.as_deref(), page.url.as_deref()) else {
        return Ok(None);
    };
    let on_allowed_site = url_origin(url).is_some_and(|origin| ctx.config.embed_allowed(&origin));
    if !ctx.config.auto_articles || !on_allowed_site {
        return Ok(None);
    }
    let Ok(new) = NewArticle::parse(slug, title, url, true) else {
        return Ok(None);
    };
    let mut tx = ctx.db.begin().await?;
    if let Some(id) = articles::store::insert(&mut *tx, &new).await? {
        audit::record(
            &mut tx,
            None,
            Action::ArticleAdded,
            Target::Article(id),
            Some("embedded"),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(slug, "article created for an embedding page");
    Ok(articles::store::find_by_slug(&ctx.db, slug).await?)
}

/// `https://host[:port]` of an absolute address.
fn url_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty() && !authority.contains('@')).then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn a_post_from_this_sites_own_page_is_recognised() {
        let host = (header::HOST, "comments.example.org");
        assert!(from_this_site(&headers(&[
            host.clone(),
            (header::ORIGIN, "https://comments.example.org")
        ])));
        assert!(from_this_site(&headers(&[
            host.clone(),
            (header::REFERER, "https://comments.example.org/embed/articles/a")
        ])));
        assert!(!from_this_site(&headers(&[
            host.clone(),
            (header::ORIGIN, "https://evil.example")
        ])));
        assert!(!from_this_site(&headers(&[
            host.clone(),
            (header::ORIGIN, "https://comments.example.org.evil.example")
        ])));
        assert!(!from_this_site(&headers(&[
            host.clone(),
            (header::ORIGIN, "null")
        ])));
        assert!(!from_this_site(&headers(&[host])));
    }

    #[test]
    fn only_absolute_addresses_have_an_origin() {
        assert_eq!(
            url_origin("https://www.example.org/a?b#c").as_deref(),
            Some("https://www.example.org")
        );
        assert_eq!(url_origin("/relative"), None);
        assert_eq!(url_origin("https://user@evil.example/"), None);
    }
}
