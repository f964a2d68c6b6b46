//! "Awaiting a midwife": published questions no staff reply answers yet, urgent first and then
//! oldest first, with those past the answer target (`CARETHREAD_ANSWER_TARGET_HOURS`) marked.
//! A question leaves the list when a midwife's reply is published under it, or when a moderator
//! marks it as needing no reply.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{
    queue::{self, QueueQuery},
    store,
    view::{AwaitingItem, AwaitingPage},
};
use crate::{
    accounts::guard::StaffChrome,
    articles,
    web::page::{age, page_number},
};

/// The tab's address, with the article filter.
pub fn href(article: Option<&str>, page: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(slug) = article {
        query.append_pair("article", slug);
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        "/moderation/awaiting".to_owned()
    } else {
        format!("/moderation/awaiting?{query}")
    }
}

/// What the reply page is told about this list: `from=awaiting`, with the article filter.
pub fn reply_query(article: Option<&str>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("from", "awaiting");
    if let Some(slug) = article {
        query.append_pair("article", slug);
    }
    query.finish()
}

/// Whether a question posted at `posted` is past the answer target at `now`.
pub fn overdue(posted: DateTime<Utc>, now: DateTime<Utc>, target: chrono::Duration) -> bool {
    now - posted > target
}

/// The awaiting list as a page.
pub async fn load(
    db: &PgPool,
    chrome: StaffChrome,
    target: chrono::Duration,
    query: &QueueQuery,
) -> sqlx::Result<AwaitingPage> {
    let found = match query.article.as_deref().filter(|s| !s.is_empty()) {
        Some(slug) => articles::store::find_by_slug(db, slug).await?,
        None => None,
    };
    let article_id = found.as_ref().map(|a| a.id);
    let article = found.map(|a| a.slug);
    let page = page_number(query.page.as_deref());
    let counts = store::counts(db, article_id).await?;
    let awaiting = store::awaiting_count(db, article_id).await?;
    let rows = store::awaiting(db, article_id, queue::PER_PAGE + 1, (page - 1) * queue::PER_PAGE).await?;
    let has_more = rows.len() as i64 > queue::PER_PAGE;
    let now = Utc::now();
    let items = rows
        .into_iter()
        .take(queue::PER_PAGE as usize)
        .map(|row| AwaitingItem {
            overdue: overdue(row.created_at, now, target),
            age: age(row.created_at),
            created_iso: row.created_at.to_rfc3339(),
            id: row.id,
            article_slug: row.article_slug,
            article_title: row.article_title,
            author_name: row.author_name,
            excerpt: super::view::excerpt(&row.body),
            urgent: row.urgent,
            waiting: row.waiting,
        })
        .collect();
    Ok(AwaitingPage {
        chrome,
        tabs: queue::tab_links(&counts, awaiting, None, article.as_deref()),
        target_hours: target.num_hours(),
        reply_query: reply_query(article.as_deref()),
        back: href(article.as_deref(), page),
        next_page: has_more.then(|| href(article.as_deref(), page + 1)),
        previous_page: (page > 1).then(|| href(article.as_deref(), page - 1)),
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_target_is_overdue() {
        let now = Utc::now();
        let target = chrono::Duration::hours(48);
        assert!(!overdue(now - chrono::Duration::hours(47), now, target));
        assert!(overdue(now - chrono::Duration::hours(49), now, target));
    }

    #[test]
    fn addresses_keep_the_filter() {
        assert_eq!(href(None, 1), "/moderation/awaiting");
        assert_eq!(href(Some("a&b"), 2), "/moderation/awaiting?article=a%26b&page=2");
    }
}
