//! State shared by the simulator's handlers and its Rust-side handle.

use std::sync::{
    Mutex, MutexGuard, PoisonError,
    atomic::{AtomicBool, AtomicU64},
};

use super::model::Db;

/// One webhook delivery attempt, recorded when it finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event: String,
    pub url: String,
    /// `X-Chatwoot-Delivery`.
    pub delivery_id: String,
    /// Whether timestamp and signature headers were sent.
    pub signed: bool,
    /// The receiver's status, or `None` when the request failed (see `error`).
    pub status: Option<u16>,
    pub error: Option<String>,
}

/// The next `remaining` API requests answer `status`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fault {
    pub remaining: u32,
    pub status: u16,
}

pub(super) struct Shared {
    pub db: Mutex<Db>,
    pub fault: Mutex<Option<Fault>>,
    pub requests: AtomicU64,
    pub unsigned: AtomicBool,
    pub deliveries: Mutex<Vec<Delivery>>,
    /// Chatwoot's `DASHBOARD_SCRIPTS`, emitted raw into the dashboard pages.
    pub dashboard_scripts: Mutex<String>,
    /// Posts webhooks; 5 s timeout like Chatwoot's default `WEBHOOK_TIMEOUT`.
    pub http: reqwest::Client,
    /// Deliveries are spawned here, so seeding helpers can emit from any thread.
    pub runtime: tokio::runtime::Handle,
}

impl Shared {
    pub fn db(&self) -> MutexGuard<'_, Db> {
        lock(&self.db)
    }
}

/// A panicking test must not poison the simulator for the others sharing it.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
