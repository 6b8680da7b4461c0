//! Rendered answers of hot lists (`GET /v1/pod_managers`) kept for a moment, so that a burst of
//! identical requests reads the database and renders the JSON once instead of once each.
//!
//! Every request that may change something (any method but GET, HEAD and OPTIONS) drops them
//! when it is done ([`invalidate_on_write`]), so a client sees its own changes at once. Changes
//! made elsewhere (another instance, the background health checks) show at most the TTL later;
//! what the list shows of PODMs (usage, health) is itself read from caches refreshed every few
//! seconds, so the TTL adds little staleness.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

/// Distinct queries kept; past that the expired ones go, then all.
const MAX_ENTRIES: usize = 64;

#[derive(Debug)]
struct Rendered {
    body: Bytes,
    made_at: Instant,
}

/// Rendered bodies by query string, with a generation that every write bumps.
#[derive(Debug)]
pub struct RenderedCache {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Rendered>>,
}

impl RenderedCache {
    /// Keeps answers for `ttl`; zero keeps nothing.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<String, Rendered>> {
        // Plain data: a panic elsewhere cannot leave it inconsistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Take this before reading what will be rendered, and give it to [`RenderedCache::put`]:
    /// an answer read before a write finished is then never kept.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The answer to `key` rendered less than the TTL ago.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        if self.ttl.is_zero() {
            return None;
        }
        self.entries()
            .get(key)
            .filter(|r| r.made_at.elapsed() < self.ttl)
            .map(|r| r.body.clone())
    }

    /// Keeps `body` as the answer to `key` unless something was written since `generation`.
    pub fn put(&self, key: &str, generation: u64, body: Bytes) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            entries.retain(|_, r| r.made_at.elapsed() < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            key.to_owned(),
            Rendered {
                body,
                made_at: Instant::now(),
            },
        );
    }

    /// Drops every kept answer.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries().clear();
    }
}

/// Drops the rendered answers around every request that may change something.
pub async fn invalidate_on_write(
    State(cache): State<Arc<RenderedCache>>,
    request: Request,
    next: Next,
) -> Response {
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if writes {
        cache.invalidate();
    }
    let response = next.run(request).await;
    if writes {
        cache.invalidate();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_until_a_write_or_the_ttl() {
        let cache = RenderedCache::new(Duration::from_secs(60));
        let generation = cache.generation();
        cache.put("", generation, Bytes::from_static(b"[1]"));
        assert_eq!(cache.get("").as_deref(), Some(&b"[1]"[..]));
        assert_eq!(cache.get("limit=1"), None);
        cache.invalidate();
        assert_eq!(cache.get(""), None);

        let expired = RenderedCache::new(Duration::from_nanos(1));
        expired.put("", expired.generation(), Bytes::from_static(b"[]"));
        std::thread::sleep(Duration::from_millis(1));
        assert_eq!(expired.get(""), None);
        assert_eq!(RenderedCache::new(Duration::ZERO).get(""), None);
    }

    #[test]
    fn an_answer_read_before_a_write_is_never_kept() {
        let cache = RenderedCache::new(Duration::from_secs(60));
        let before = cache.generation();
        cache.invalidate();
        cache.put("", before, Bytes::from_static(b"[stale]"));
        assert_eq!(cache.get(""), None);
    }

    #[test]
    fn many_queries_do_not_grow_without_bound() {
        let cache = RenderedCache::new(Duration::from_secs(60));
        for i in 0..(MAX_ENTRIES * 3) {
            cache.put(&format!("limit={i}"), cache.generation(), Bytes::new());
        }
        assert!(cache.entries().len() <= MAX_ENTRIES);
    }
}
