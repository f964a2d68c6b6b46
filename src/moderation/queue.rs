//! The queue: one tab of comments, its counts, the article filter and the page links.

use serde::Deserialize;
use sqlx::PgPool;

use super::{
    Tab, store,
    view::{ArticleOption, ItemView, QueuePage, TabLink},
};
use crate::{
    accounts::{Staff, guard::StaffChrome},
    articles,
    web::page::{age, page_number},
};

pub const PER_PAGE: i64 = 50;
/// A picker for a site's articles; past a couple of hundred, a box for the slug instead.
const ARTICLE_PICKER_MAX: i64 = 200;

/// Query parameters are read leniently: anything unknown means the default.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QueueQuery {
    pub status: Option<String>,
    pub article: Option<String>,
    pub page: Option<String>,
}

/// One tab of the queue as `staff` may see it.
pub async fn load(
    db: &PgPool,
    staff: &Staff,
    chrome: StaffChrome,
    query: &QueueQuery,
) -> sqlx::Result<QueuePage> {
    let tab = Tab::parse(query.status.as_deref());
    let all_articles = articles::store::list_titles(db, ARTICLE_PICKER_MAX).await?;
    let picker = all_articles.len() as i64 <= ARTICLE_PICKER_MAX;
    let found = match query.article.as_deref().filter(|s| !s.is_empty()) {
        Some(slug) => articles::store::find_by_slug(db, slug).await?,
        None => None,
    };
    let article = found.as_ref().map(|a| a.slug.clone());
    let page = page_number(query.page.as_deref());
    let Listing {
        items,
        has_more,
        counts,
    } = listing(db, staff, tab, found.as_ref().map(|a| a.id), page).await?;
    let awaiting = store::awaiting_count(db, found.as_ref().map(|a| a.id)).await?;
    let href = |tab: Tab, page: i64| queue_href(tab, article.as_deref(), page);
    Ok(QueuePage {
        urgent: urgent_summary(&counts),
        chrome,
        tab,
        tabs: tab_links(&counts, awaiting, Some(tab), article.as_deref()),
        picker,
        article_filter: article.clone().unwrap_or_default(),
        articles: all_articles
            .into_iter()
            .map(|(slug, title)| ArticleOption {
                selected: article.as_deref() == Some(slug.as_str()),
                slug,
                title,
            })
            .collect(),
        back: href(tab, page),
        next_page: has_more.then(|| href(tab, page + 1)),
        previous_page: (page > 1).then(|| href(tab, page - 1)),
        selectable: items.iter().any(|i| i.can_approve || i.can_hide),
        items,
        decided: None,
    })
}

/// One page of a tab as `staff` may see it, whether there is another, and every tab's count.
pub struct Listing {
    pub items: Vec<ItemView>,
    pub has_more: bool,
    pub counts: store::Counts,
}

/// The queue's rows for `tab` (and `article`, when filtered), page `page`: the dashboard and the
/// JSON API list the same.
pub async fn listing(
    db: &PgPool,
    staff: &Staff,
    tab: Tab,
    article: Option<i64>,
    page: i64,
) -> sqlx::Result<Listing> {
    let counts = store::counts(db, article).await?;
    let shown = (tab.status(), tab == Tab::Private);
    let rows = store::queue(db, shown, article, PER_PAGE + 1, (page - 1) * PER_PAGE).await?;
    let has_more = rows.len() as i64 > PER_PAGE;
    let mut items: Vec<ItemView> = rows
        .into_iter()
        .take(PER_PAGE as usize)
        .map(|row| ItemView::from(row).seen_by(staff))
        .collect();
    for i in 1..items.len() {
        items[i - 1].following = Some(items[i].id);
    }
    Ok(Listing {
        items,
        has_more,
        counts,
    })
}

/// The address of a tab's page, with the article filter.
pub fn queue_href(tab: Tab, article: Option<&str>, page: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("status", tab.as_str());
    if let Some(slug) = article {
        query.append_pair("article", slug);
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    format!("/moderation?{}", query.finish())
}

/// The tabs by status, then "Awaiting a midwife" (`current` is `None` on that one).
pub fn tab_links(
    counts: &store::Counts,
    awaiting: i64,
    current: Option<Tab>,
    article: Option<&str>,
) -> Vec<TabLink> {
    let shown = |n: i64| {
        if n >= store::COUNT_CAP {
            format!("{n}+")
        } else {
            n.to_string()
        }
    };
    let mut links: Vec<TabLink> = Tab::ALL
        .into_iter()
        .map(|t| TabLink {
            label: t.label(),
            href: queue_href(t, article, 1),
            count: shown(match t {
                Tab::Pending => counts.pending,
                Tab::Published => counts.published,
                Tab::Hidden => counts.hidden,
                Tab::Spam => counts.spam,
                Tab::Private => counts.private,
            }),
            current: Some(t) == current,
        })
        .collect();
    links.push(TabLink {
        label: "Awaiting a midwife",
        href: super::awaiting::href(article, 1),
        count: shown(awaiting),
        current: current.is_none(),
    });
    links
}

/// "2 urgent comments are waiting; the oldest for 3 hours."
fn urgent_summary(counts: &store::Counts) -> Option<String> {
    counts.oldest_urgent.map(|oldest| {
        let waited = age(oldest).trim_end_matches(" ago").to_owned();
        match counts.urgent {
            1 => format!("1 urgent comment is waiting, for {waited}."),
            n => format!("{n} urgent comments are waiting; the oldest for {waited}."),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_addresses_escape_what_they_carry() {
        assert_eq!(queue_href(Tab::Pending, None, 1), "/moderation?status=pending");
        assert_eq!(
            queue_href(Tab::Hidden, Some("a&b=c"), 3),
            "/moderation?status=hidden&article=a%26b%3Dc&page=3"
        );
    }
}
