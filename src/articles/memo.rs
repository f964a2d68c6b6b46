//! Articles read in the last moments, so a busy article page does not ask the database for the
//! same row on every request.
//!
//! An article (with its comments' version, which keys the thread cache) is re-read at most every
//! `fresh_for`: a change made through another process shows within that time. A change made
//! through this process shows at once, because every request that may change something empties
//! the memo (see `web::forget_articles_after_changes`).

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use super::Article;

/// Past this many articles the memo starts again, so memory stays bounded on big sites.
const MAX_ENTRIES: usize = 10_000;

pub struct ArticleMemo {
    entries: Mutex<HashMap<String, (Instant, Article)>>,
    fresh_for: Duration,
    /// Moves each time the memo is emptied, so a row read before a change is not kept after it.
    generation: AtomicU64,
}

/// When an article was read, as far as the memo is concerned (see [`ArticleMemo::reading`]).
#[derive(Debug, Clone, Copy)]
pub struct Reading(u64);

impl ArticleMemo {
    /// A memo that trusts what it read for `fresh_for`; zero keeps nothing.
    pub fn new(fresh_for: Duration) -> Self {
        Self {
            entries: Mutex::default(),
            fresh_for,
            generation: AtomicU64::new(0),
        }
    }

    /// Call before reading an article from the database, and pass to [`put`](Self::put).
    pub fn reading(&self) -> Reading {
        Reading(self.generation.load(Ordering::Acquire))
    }

    pub fn get(&self, slug: &str) -> Option<Article> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(slug)
            .filter(|(read_at, _)| read_at.elapsed() < self.fresh_for)
            .map(|(_, article)| article.clone())
    }

    /// Keeps `article`, unless the memo was emptied since it was read: a change made meanwhile
    /// may not be in it.
    pub fn put(&self, article: &Article, read: Reading) {
        if self.fresh_for.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if self.generation.load(Ordering::Acquire) != read.0 {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(article.slug.clone(), (Instant::now(), article.clone()));
    }

    /// Forgets everything: something may just have changed.
    pub fn forget_all(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(slug: &str) -> Article {
        Article {
            id: 1,
            slug: slug.into(),
            title: "A".into(),
            url: "https://example.org/a".into(),
            comments_open: true,
            created_at: chrono::Utc::now(),
            comments_version: 3,
        }
    }

    #[test]
    fn an_article_is_trusted_only_while_fresh() {
        let memo = ArticleMemo::new(Duration::from_millis(40));
        memo.put(&article("a"), memo.reading());
        assert_eq!(memo.get("a").map(|a| a.comments_version), Some(3));
        assert!(memo.get("b").is_none());
        std::thread::sleep(Duration::from_millis(50));
        assert!(memo.get("a").is_none(), "read again once stale");
    }

    #[test]
    fn forgetting_and_a_zero_lifetime_keep_nothing() {
        let memo = ArticleMemo::new(Duration::from_secs(60));
        memo.put(&article("a"), memo.reading());
        memo.forget_all();
        assert!(memo.get("a").is_none());
        let off = ArticleMemo::new(Duration::ZERO);
        off.put(&article("a"), off.reading());
        assert!(off.get("a").is_none());
    }

    #[test]
    fn a_row_read_before_a_change_is_not_kept_after_it() {
        let memo = ArticleMemo::new(Duration::from_secs(60));
        let read = memo.reading();
        memo.forget_all(); // a change is made while the row is on its way
        memo.put(&article("a"), read);
        assert!(memo.get("a").is_none());
    }

    #[test]
    fn the_memo_stays_bounded() {
        let memo = ArticleMemo::new(Duration::from_secs(60));
        for i in 0..(MAX_ENTRIES + 10) {
            memo.put(&article(&format!("a{i}")), memo.reading());
        }
        assert!(memo.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
