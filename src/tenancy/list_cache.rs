//! Answers to list requests, kept per account and tagged with the account's revision.
//!
//! Every change to an account's data moves its revision on in the writing transaction
//! (`audit::record`), and the account scope reads the revision with the membership check a
//! request makes anyway. A list whose account has not changed is therefore answered from
//! memory, and a client that sends the `ETag` back gets 304. Because the revision lives in
//! the database, this is correct across replicas without any cross-node invalidation.
//!
//! Only lists whose answer depends on nothing but the account and the URL may use this.

use std::{collections::HashMap, future::Future, sync::Mutex};

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{platform::error::AppResult, tenancy::AccountScope};

/// Bytes of answers kept at most; past it the cache starts over (lists are cheap to
/// rebuild, memory is not free).
const BUDGET_BYTES: usize = 32 * 1024 * 1024;

#[derive(Default)]
pub struct ListCache(Mutex<Entries>);

struct Entries {
    by_key: HashMap<(Uuid, String), Entry>,
    bytes: usize,
    budget: usize,
}

impl Default for Entries {
    fn default() -> Self {
        Entries {
            by_key: HashMap::new(),
            bytes: 0,
            budget: BUDGET_BYTES,
        }
    }
}

#[derive(Clone)]
struct Entry {
    revision: i64,
    etag: HeaderValue,
    body: Bytes,
}

impl ListCache {
    /// Answers `scope`'s list at `path_and_query`, computing it only when the account
    /// changed since it was last built.
    pub async fn respond<T, F>(
        &self,
        scope: &AccountScope,
        path_and_query: &str,
        request_headers: &HeaderMap,
        build: F,
    ) -> AppResult<Response>
    where
        T: Serialize,
        F: Future<Output = AppResult<T>>,
    {
        let tag = Tag {
            account_id: scope.account_id,
            revision: scope.revision,
        };
        self.respond_at(tag, path_and_query, request_headers, build)
            .await
    }

    /// Like [`ListCache::respond`] for a list that follows a revision of its own (a
    /// board's cards follow the board's revision, which moves on far more often than
    /// the account's).
    pub async fn respond_at<T, F>(
        &self,
        tag: Tag,
        path_and_query: &str,
        request_headers: &HeaderMap,
        build: F,
    ) -> AppResult<Response>
    where
        T: Serialize,
        F: Future<Output = AppResult<T>>,
    {
        let key = (tag.account_id, path_and_query.to_owned());
        let cached = self
            .lock()
            .by_key
            .get(&key)
            .filter(|e| e.revision == tag.revision)
            .cloned();
        let entry = match cached {
            Some(entry) => entry,
            None => {
                let body =
                    Bytes::from(serde_json::to_vec(&build.await?).map_err(anyhow::Error::from)?);
                let entry = Entry {
                    revision: tag.revision,
                    etag: etag(tag, path_and_query),
                    body,
                };
                self.lock().insert(key, entry.clone());
                entry
            }
        };
        let unchanged = request_headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|tag| tag == entry.etag);
        let mut response = if unchanged {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            entry.body.into_response()
        };
        let headers = response.headers_mut();
        if !unchanged {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        headers.insert(header::ETAG, entry.etag);
        // Private to the caller, and always revalidated.
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
        Ok(response)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The account a list belongs to and the revision its answer is good for.
#[derive(Debug, Clone, Copy)]
pub struct Tag {
    pub account_id: Uuid,
    pub revision: i64,
}

/// A weak tag naming the revision and the URL, not the data.
fn etag(tag: Tag, path_and_query: &str) -> HeaderValue {
    let digest = Sha256::digest(format!(
        "{}:{}:{path_and_query}",
        tag.account_id, tag.revision
    ));
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("W/\"{hex}\"")).expect("hex is a valid header value")
}

impl Entries {
    fn insert(&mut self, key: (Uuid, String), entry: Entry) {
        if let Some(old) = self.by_key.remove(&key) {
            self.bytes -= key.1.len() + old.body.len();
        }
        let size = key.1.len() + entry.body.len();
        if self.bytes + size > self.budget {
            self.by_key.clear();
            self.bytes = 0;
        }
        self.bytes += size;
        self.by_key.insert(key, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(len: usize) -> Entry {
        Entry {
            revision: 1,
            etag: HeaderValue::from_static("W/\"x\""),
            body: Bytes::from(vec![b'x'; len]),
        }
    }

    #[test]
    fn memory_stays_within_the_budget() {
        let mut entries = Entries {
            budget: 100,
            ..Entries::default()
        };
        let account = Uuid::now_v7();
        entries.insert((account, "/a".into()), entry(40));
        entries.insert((account, "/a".into()), entry(40));
        assert_eq!(
            (entries.by_key.len(), entries.bytes),
            (1, 42),
            "a replaced answer is not counted twice"
        );
        entries.insert((account, "/b".into()), entry(40));
        assert_eq!(entries.bytes, 84);
        entries.insert((account, "/c".into()), entry(40));
        assert_eq!(
            (entries.by_key.len(), entries.bytes),
            (1, 42),
            "past the budget it starts over"
        );
    }
}
