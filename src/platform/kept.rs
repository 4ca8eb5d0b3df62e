//! Values read from the database (or another service) and kept in memory per key, each with
//! the stamp it was read at (a revision, a version, a time). Whoever keeps one decides which
//! stamps are still good and says why that is safe; this only holds them. The key is an id,
//! or any small copyable key (`(account, number)`).

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex, MutexGuard},
};

use uuid::Uuid;

/// At most this many values are kept; beyond, a quarter is dropped (read again when next
/// needed), so memory follows what is in use and not everything ever read.
const CAPACITY: usize = 10_000;

pub struct Kept<S, T, K = Uuid> {
    values: Mutex<HashMap<K, (S, Arc<T>)>>,
    capacity: usize,
}

impl<S, T, K> Default for Kept<S, T, K> {
    fn default() -> Self {
        Kept {
            values: Mutex::default(),
            capacity: CAPACITY,
        }
    }
}

impl<S: Copy, T, K: Copy + Eq + Hash> Kept<S, T, K> {
    #[cfg(test)]
    fn with_capacity(capacity: usize) -> Self {
        Kept {
            values: Mutex::default(),
            capacity,
        }
    }

    /// What is kept for `id`, when `good` accepts the stamp it was kept with.
    pub fn get(&self, id: K, good: impl FnOnce(S) -> bool) -> Option<Arc<T>> {
        let kept = self.lock();
        let (stamp, value) = kept.get(&id)?;
        good(*stamp).then(|| value.clone())
    }

    /// Keeps `value` for `id` as read at `stamp`, in place of what was kept.
    pub fn put(&self, id: K, stamp: S, value: T) -> Arc<T> {
        let value = Arc::new(value);
        let mut kept = self.lock();
        if kept.len() >= self.capacity && !kept.contains_key(&id) {
            let dropped: Vec<K> = kept.keys().take(self.capacity / 4).copied().collect();
            for old in dropped {
                kept.remove(&old);
            }
        }
        kept.insert(id, (stamp, value.clone()));
        value
    }

    pub fn forget(&self, id: K) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<K, (S, Arc<T>)>> {
        // Entries are replaced whole: a panic elsewhere cannot leave one half written.
        self.values
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_given_back_only_while_its_stamp_is_good() {
        let kept: Kept<i64, &str> = Kept::default();
        let id = Uuid::now_v7();
        assert!(kept.get(id, |_| true).is_none());
        kept.put(id, 3, "three");
        assert_eq!(kept.get(id, |stamp| stamp == 3).as_deref(), Some(&"three"));
        assert!(kept.get(id, |stamp| stamp == 4).is_none());
        kept.put(id, 4, "four");
        assert_eq!(kept.get(id, |stamp| stamp == 4).as_deref(), Some(&"four"));
        kept.forget(id);
        assert!(kept.get(id, |_| true).is_none());
    }

    /// Regression (issue 13, finding 17): nothing grew without bound.
    #[test]
    fn what_is_kept_stays_within_its_capacity() {
        let kept: Kept<i64, u32> = Kept::with_capacity(100);
        let ids: Vec<Uuid> = (0..1000).map(|_| Uuid::now_v7()).collect();
        for (n, id) in ids.iter().enumerate() {
            kept.put(*id, 1, n as u32);
            assert!(kept.lock().len() <= 100);
        }
        let last = *ids.last().unwrap();
        assert_eq!(kept.get(last, |_| true).as_deref(), Some(&999));
    }
}
