//! Articles read in the last moments, so a busy article page does not ask the database for the
//! same row on every request.
//!
//! An article (with its comments' version, which keys the thread cache) is re-read at most every
//! `fresh_for`: a change made through another process shows within that time. A change made
//! through this process shows at once, because every request that may change something empties
//! the memo (see `web::forget_articles_after_changes`).
//!
//! The articles are kept in a [`moka`] cache: each expires `fresh_for` after it was read (its
//! time to live), and when the memo is full the articles least asked for make room one at a
//! time, so a big site keeps its busy articles instead of the memo starting again. Emptying the
//! memo is immediate for readers: an article read before it carries the memo's old generation and
//! is never returned after it, whenever moka gets round to dropping it.

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use moka::sync::Cache;

use super::Article;

/// At most this many articles are kept, so memory stays bounded on big sites.
const MAX_ENTRIES: u64 = 10_000;

/// Trusting an article for longer than this is as good as for ever (and moka refuses lifetimes
/// over a thousand years).
const LONGEST: Duration = Duration::from_secs(365 * 24 * 60 * 60);

pub struct ArticleMemo {
    /// slug → (the memo's generation when it was read, article); `None` when nothing is kept.
    entries: Option<Cache<String, (u64, Article)>>,
    /// Moves each time the memo is emptied, so a row read before a change is not kept after it.
    generation: AtomicU64,
}

/// When an article was read, as far as the memo is concerned (see [`ArticleMemo::reading`]).
#[derive(Debug, Clone, Copy)]
pub struct Reading(u64);

impl ArticleMemo {
    /// A memo that trusts what it read for `fresh_for`; zero keeps nothing.
    pub fn new(fresh_for: Duration) -> Self {
        let entries = (!fresh_for.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(fresh_for.min(LONGEST))
                .build()
        });
        Self {
            entries,
            generation: AtomicU64::new(0),
        }
    }

    /// Call before reading an article from the database, and pass to [`put`](Self::put).
    pub fn reading(&self) -> Reading {
        Reading(self.generation.load(Ordering::Acquire))
    }

    /// The article if it is kept, counted as a look-up in the metrics.
    pub fn get(&self, slug: &str) -> Option<Article> {
        let found = self.peek(slug);
        crate::monitoring::cache_lookup("article", found.is_some());
        found
    }

    /// The article if it is kept, not counted: for a look-up that may be made again.
    pub fn peek(&self, slug: &str) -> Option<Article> {
        let entries = self.entries.as_ref()?;
        let generation = self.generation.load(Ordering::Acquire);
        entries
            .get(slug)
            .filter(|(read_in, _)| *read_in == generation)
            .map(|(_, article)| article)
    }

    /// Keeps `article`, unless the memo was emptied since it was read: a change made meanwhile
    /// may not be in it.
    pub fn put(&self, article: &Article, read: Reading) {
        let Some(entries) = &self.entries else {
            return;
        };
        if self.generation.load(Ordering::Acquire) != read.0 {
            return;
        }
        // Should the memo be emptied between the check and the insert, the entry is kept under
        // the old generation, which `get` no longer returns.
        entries.insert(article.slug.clone(), (read.0, article.clone()));
    }

    /// Forgets everything: something may just have changed.
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
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
            settings_version: 0,
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
    fn forgetting_is_immediate_for_every_article_and_the_memo_fills_again_after() {
        let memo = ArticleMemo::new(Duration::from_secs(60));
        for i in 0..100 {
            memo.put(&article(&format!("a{i}")), memo.reading());
        }
        assert!((0..100).all(|i| memo.get(&format!("a{i}")).is_some()));
        memo.forget_all();
        // moka drops invalidated entries later, but never returns them.
        assert!((0..100).all(|i| memo.get(&format!("a{i}")).is_none()));
        memo.put(&article("a1"), memo.reading());
        assert!(memo.get("a1").is_some(), "a row read after the change is kept");
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
    fn a_row_stored_just_as_the_memo_is_emptied_is_not_returned() {
        let memo = ArticleMemo::new(Duration::from_secs(60));
        let read = memo.reading();
        // `put` checked the generation, then the memo was emptied before the row went in.
        memo.forget_all();
        let entries = memo.entries.as_ref().unwrap();
        entries.insert("a".into(), (read.0, article("a")));
        assert!(entries.get("a").is_some(), "moka itself would return it");
        assert!(memo.get("a").is_none());
    }

    #[test]
    fn the_memo_stays_bounded() {
        let memo = ArticleMemo::new(Duration::from_secs(60));
        for i in 0..(MAX_ENTRIES + 10) {
            memo.put(&article(&format!("a{i}")), memo.reading());
        }
        let entries = memo.entries.as_ref().unwrap();
        entries.run_pending_tasks();
        assert!(entries.entry_count() <= MAX_ENTRIES);
    }

    #[test]
    fn a_full_memo_keeps_most_of_its_articles_when_one_more_is_read() {
        let memo = ArticleMemo::new(Duration::from_secs(60));
        for i in 0..MAX_ENTRIES {
            memo.put(&article(&format!("a{i}")), memo.reading());
        }
        memo.put(&article("one more"), memo.reading());
        let entries = memo.entries.as_ref().unwrap();
        entries.run_pending_tasks();
        let kept = (0..MAX_ENTRIES)
            .filter(|i| memo.get(&format!("a{i}")).is_some())
            .count();
        assert!(kept as u64 >= MAX_ENTRIES - 1, "only {kept} kept");
    }

    #[test]
    fn a_lifetime_too_long_for_moka_is_shortened() {
        let memo = ArticleMemo::new(Duration::from_millis(u64::MAX));
        memo.put(&article("a"), memo.reading());
        assert!(memo.get("a").is_some());
    }
}
