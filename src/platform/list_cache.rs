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

use super::error::AppResult;
use crate::tenancy::AccountScope;

/// Entries kept at most; past it the cache starts over (lists are cheap to rebuild).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct ListCache(Mutex<HashMap<(Uuid, String), Entry>>);

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
        let key = (scope.account_id, path_and_query.to_owned());
        let cached = self
            .lock()
            .get(&key)
            .filter(|e| e.revision == scope.revision)
            .cloned();
        let entry = match cached {
            Some(entry) => entry,
            None => {
                let body =
                    Bytes::from(serde_json::to_vec(&build.await?).map_err(anyhow::Error::from)?);
                let entry = Entry {
                    revision: scope.revision,
                    etag: etag(scope, path_and_query),
                    body,
                };
                let mut entries = self.lock();
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
                entries.insert(key, entry.clone());
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Uuid, String), Entry>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A weak tag naming the account revision and the URL, not the account's data.
fn etag(scope: &AccountScope, path_and_query: &str) -> HeaderValue {
    let digest = Sha256::digest(format!(
        "{}:{}:{path_and_query}",
        scope.account_id, scope.revision
    ));
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("W/\"{hex}\"")).expect("hex is a valid header value")
}
