//! State shared by the simulator's handlers, its delivery worker and its Rust-side handle.

use std::{
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use tokio::sync::{mpsc, watch};

use super::model::{Db, Envelope};

/// One `/v3` request as received, faulted and rejected ones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// The path with its query string: `/v3/customers?cpfCnpj=123`.
    pub path: String,
    pub user_agent: Option<String>,
    pub body: String,
}

/// One webhook delivery attempt, recorded when it finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event_id: String,
    pub event: String,
    pub webhook_id: String,
    pub url: String,
    /// The receiver's status, or `None` when the request failed (see `error`).
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Delivery {
    /// Asaas counts exactly HTTP 200 as delivered; any other answer is a failure.
    pub fn succeeded(&self) -> bool {
        self.status == Some(200)
    }
}

/// A delivery to do: one event for one webhook configuration.
#[derive(Debug)]
pub(super) struct Job {
    pub webhook_id: String,
    pub envelope: Envelope,
    /// Sent even if the webhook's sequential queue is blocked (redeliveries, `resend`).
    pub forced: bool,
}

/// The request quota, announced in `RateLimit-*` headers on every answer.
#[derive(Debug)]
pub(super) struct Quota {
    pub limit: u32,
    pub window: Duration,
    pub used: u32,
    pub since: Instant,
}

/// What the quota headers say after a request.
#[derive(Debug, Clone, Copy)]
pub(super) struct RateHeaders {
    pub limit: u32,
    pub remaining: u32,
    pub reset_secs: u64,
}

impl Quota {
    /// Asaas's account quota: 25,000 requests per 12 hours (FACTS).
    pub fn asaas_default() -> Quota {
        Quota::new(25_000, Duration::from_secs(12 * 60 * 60))
    }

    pub fn new(limit: u32, window: Duration) -> Quota {
        Quota {
            limit,
            window,
            used: 0,
            since: Instant::now(),
        }
    }

    /// Spends one request; `false` when the quota is used up until the window resets.
    pub fn spend(&mut self) -> bool {
        self.roll();
        if self.used >= self.limit {
            return false;
        }
        self.used += 1;
        true
    }

    pub fn headers(&mut self) -> RateHeaders {
        self.roll();
        let left = self.window.saturating_sub(self.since.elapsed());
        RateHeaders {
            limit: self.limit,
            remaining: self.limit.saturating_sub(self.used),
            // Whole seconds, rounded up: "0" would invite a retry that still fails.
            reset_secs: left.as_secs() + u64::from(left.subsec_nanos() > 0),
        }
    }

    fn roll(&mut self) {
        if self.since.elapsed() >= self.window {
            self.used = 0;
            self.since = Instant::now();
        }
    }
}

/// What stands between a request and its handler.
#[derive(Debug)]
pub(super) struct Gate {
    /// The next `n` requests answer this status.
    pub fault: Option<(u32, u16)>,
    /// The next `n` answers are held back this long.
    pub delay: Option<(u32, Duration)>,
    pub quota: Quota,
}

pub(super) struct Shared {
    pub api_key: String,
    /// `http://127.0.0.1:<port>`: invoice links point here.
    pub page_url: String,
    /// `account.id` in webhook bodies.
    pub account_id: String,
    pub db: Mutex<Db>,
    pub gate: Mutex<Gate>,
    pub requests: Mutex<Vec<LoggedRequest>>,
    pub deliveries: Mutex<Vec<Delivery>>,
    /// Deliveries go through one worker, so each webhook receives events in the order
    /// they happened (what Asaas's `SEQUENTIALLY` promises) and tests are deterministic.
    pub jobs: mpsc::UnboundedSender<Job>,
    /// Jobs queued or in flight; `settle` waits for zero.
    pub pending: watch::Sender<usize>,
    pub http: reqwest::Client,
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
