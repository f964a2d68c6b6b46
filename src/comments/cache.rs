//! Published threads, laid out and ready to render, kept per article page while the article's
//! `comments_version` is unchanged. The version is read from the database with the article on
//! every request, so any number of processes stay coherent: a change made through one is seen by
//! all at their next request, without messages between them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use super::{routes::CommentView, thread::ThreadItem};

/// One page of threads.
pub struct ThreadData {
    pub items: Vec<ThreadItem<CommentView>>,
    pub total_threads: i64,
}

/// At most this many pages are kept; past it the cache starts again (cheap, and bounded memory).
const MAX_ENTRIES: usize = 2_000;

/// (article id, page) → (comments version, threads).
type Entries = HashMap<(i64, u32), (i64, Arc<ThreadData>)>;

#[derive(Default)]
pub struct ThreadCache {
    entries: Mutex<Entries>,
}

impl ThreadCache {
    pub fn get(&self, article_id: i64, page: u32, version: i64) -> Option<Arc<ThreadData>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&(article_id, page))
            .filter(|(v, _)| *v == version)
            .map(|(_, data)| Arc::clone(data))
    }

    pub fn put(&self, article_id: i64, page: u32, version: i64, data: Arc<ThreadData>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&(article_id, page)) {
            entries.clear();
        }
        entries.insert((article_id, page), (version, data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(total: i64) -> Arc<ThreadData> {
        Arc::new(ThreadData {
            items: Vec::new(),
            total_threads: total,
        })
    }

    #[test]
    fn an_entry_is_served_only_for_its_version() {
        let cache = ThreadCache::default();
        cache.put(1, 1, 7, data(3));
        assert_eq!(cache.get(1, 1, 7).map(|d| d.total_threads), Some(3));
        assert!(cache.get(1, 1, 8).is_none(), "a newer version misses");
        assert!(cache.get(1, 2, 7).is_none(), "another page misses");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = ThreadCache::default();
        for i in 0..(MAX_ENTRIES as i64 + 10) {
            cache.put(i, 1, 0, data(i));
        }
        assert!(cache.entries.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
