//! Published threads, laid out and ready to render, kept per article page while the article's
//! `comments_version` is unchanged. The version is read from the database with the article on
//! every request, so any number of processes stay coherent: a change made through one is seen by
//! all at their next request, without messages between them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock},
};

use super::{routes::CommentView, thread::ThreadItem};

/// One page of threads.
pub struct ThreadData {
    pub items: Vec<ThreadItem<CommentView>>,
    pub total_threads: i64,
    /// Roughly what the page's comments take in memory, rendered list included, to keep the
    /// cache bounded.
    pub bytes: usize,
    /// The list as HTML, rendered on first use: with reply links while the article takes
    /// comments (`[1]`) and without (`[0]`). Nothing in it depends on the reader.
    pub rendered: [OnceLock<String>; 2],
}

/// At most this many pages, and about `max_bytes` of comments, are kept; past either the cache
/// starts again (cheap, and memory stays bounded however many articles there are).
const MAX_ENTRIES: usize = 2_000;

/// (article id, page) → (comments version, threads).
type Entries = HashMap<(i64, u32), (i64, Arc<ThreadData>)>;

pub struct ThreadCache {
    entries: Mutex<(Entries, usize)>,
    max_bytes: usize,
}

impl ThreadCache {
    /// A cache holding about `max_bytes` of threads; 0 keeps nothing.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            entries: Mutex::default(),
            max_bytes,
        }
    }

    pub fn get(&self, article_id: i64, page: u32, version: i64) -> Option<Arc<ThreadData>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .0
            .get(&(article_id, page))
            .filter(|(v, _)| *v == version)
            .map(|(_, data)| Arc::clone(data))
    }

    pub fn put(&self, article_id: i64, page: u32, version: i64, data: Arc<ThreadData>) {
        if data.bytes > self.max_bytes {
            return;
        }
        let mut guard = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let (entries, bytes) = &mut *guard;
        if let Some((_, old)) = entries.remove(&(article_id, page)) {
            *bytes = bytes.saturating_sub(old.bytes);
        }
        if entries.len() >= MAX_ENTRIES || *bytes + data.bytes > self.max_bytes {
            entries.clear();
            *bytes = 0;
        }
        *bytes += data.bytes;
        entries.insert((article_id, page), (version, data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_BYTES: usize = 32 * 1024 * 1024;

    fn data(total: i64) -> Arc<ThreadData> {
        Arc::new(ThreadData {
            items: Vec::new(),
            total_threads: total,
            bytes: 1000,
            rendered: Default::default(),
        })
    }

    #[test]
    fn an_entry_is_served_only_for_its_version() {
        let cache = ThreadCache::new(MAX_BYTES);
        cache.put(1, 1, 7, data(3));
        assert_eq!(cache.get(1, 1, 7).map(|d| d.total_threads), Some(3));
        assert!(cache.get(1, 1, 8).is_none(), "a newer version misses");
        assert!(cache.get(1, 2, 7).is_none(), "another page misses");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = ThreadCache::new(MAX_BYTES);
        for i in 0..(MAX_ENTRIES as i64 + 10) {
            cache.put(i, 1, 0, data(i));
        }
        assert!(cache.entries.lock().unwrap().0.len() <= MAX_ENTRIES);
    }

    #[test]
    fn the_cache_stays_within_its_memory_budget() {
        let cache = ThreadCache::new(MAX_BYTES);
        for i in 0..100 {
            cache.put(
                i,
                1,
                0,
                Arc::new(ThreadData {
                    items: Vec::new(),
                    total_threads: 0,
                    bytes: MAX_BYTES / 10,
                    rendered: Default::default(),
                }),
            );
            assert!(cache.entries.lock().unwrap().1 <= MAX_BYTES);
        }
    }

    #[test]
    fn a_cache_of_no_size_keeps_nothing() {
        let cache = ThreadCache::new(0);
        cache.put(1, 1, 7, data(3));
        assert!(cache.get(1, 1, 7).is_none());
    }
}
