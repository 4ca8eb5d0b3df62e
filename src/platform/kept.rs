//! Values read from the database and kept in memory per id, each with the stamp it was read
//! at (a revision, a version, a time). Whoever keeps one decides which stamps are still good
//! and says why that is safe; this only holds them.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use uuid::Uuid;

pub struct Kept<S, T>(Mutex<HashMap<Uuid, (S, Arc<T>)>>);

impl<S, T> Default for Kept<S, T> {
    fn default() -> Self {
        Kept(Mutex::default())
    }
}

impl<S: Copy, T> Kept<S, T> {
    /// What is kept for `id`, when `good` accepts the stamp it was kept with.
    pub fn get(&self, id: Uuid, good: impl FnOnce(S) -> bool) -> Option<Arc<T>> {
        let kept = self.lock();
        let (stamp, value) = kept.get(&id)?;
        good(*stamp).then(|| value.clone())
    }

    /// Keeps `value` for `id` as read at `stamp`, in place of what was kept.
    pub fn put(&self, id: Uuid, stamp: S, value: T) -> Arc<T> {
        let value = Arc::new(value);
        self.lock().insert(id, (stamp, value.clone()));
        value
    }

    pub fn forget(&self, id: Uuid) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, (S, Arc<T>)>> {
        // Entries are replaced whole: a panic elsewhere cannot leave one half written.
        self.0
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
}
