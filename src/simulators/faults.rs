//! Faults a test injects into a provider simulator: the next requests wait first, or fail
//! with a status, each for a counted number of requests. Every provider words a failure in
//! its own error body, so the caller says how to answer one.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use axum::{extract::Request, http::StatusCode, middleware::Next, response::Response};

#[derive(Default)]
pub(crate) struct Faults(Mutex<Counted>);

#[derive(Default)]
struct Counted {
    /// The next requests answer this status, as many times as given.
    failing: Option<(u32, StatusCode)>,
    /// The next requests wait this long first, as many times as given.
    slow: Option<(u32, Duration)>,
}

impl Faults {
    /// The next `n` requests fail with `status` (500 when it is no HTTP status).
    pub(crate) fn fail_next(&self, n: u32, status: u16) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.counted().failing = (n > 0).then_some((n, status));
    }

    /// The next `n` requests wait `delay` before they are answered.
    pub(crate) fn delay_next(&self, n: u32, delay: Duration) {
        self.counted().slow = (n > 0).then_some((n, delay));
    }

    /// Middleware body: this request's share of the faults. It waits if one is delayed, then
    /// answers `refuse(status, &request)` if one is failing, else lets the handler answer.
    pub(crate) async fn apply(
        &self,
        request: Request,
        next: Next,
        refuse: impl FnOnce(StatusCode, &Request) -> Response,
    ) -> Response {
        let (failing, slow) = {
            let mut counted = self.counted();
            let failing = take(&mut counted.failing);
            (failing, take(&mut counted.slow))
        };
        if let Some(delay) = slow {
            tokio::time::sleep(delay).await;
        }
        match failing {
            Some(status) => refuse(status, &request),
            None => next.run(request).await,
        }
    }

    fn counted(&self) -> std::sync::MutexGuard<'_, Counted> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One use of a counted fault. Shared on its own for a simulator whose faults fall at other
/// points of its request than `apply`'s (Asaas delays the answer, not the handler).
pub(crate) fn take<T: Copy>(slot: &mut Option<(u32, T)>) -> Option<T> {
    let (left, value) = (*slot)?;
    *slot = (left > 1).then_some((left - 1, value));
    Some(value)
}
