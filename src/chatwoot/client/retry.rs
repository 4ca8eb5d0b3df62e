//! When and how long to wait before trying a Chatwoot call again.

use std::time::Duration;

use rand::RngExt;
use reqwest::{StatusCode, header::HeaderMap};

/// Retries apply only to calls that are safe to repeat (see `ChatwootClient` docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    /// Delay before the second attempt; it doubles for each further one.
    pub base_delay: Duration,
    /// Ceiling for the doubled delay.
    pub max_delay: Duration,
    /// Ceiling for a server's `Retry-After`, so one answer cannot stall a request for long.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no waiting.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// Delay after failed attempt number `attempt` (1-based): exponential, capped, plus up
    /// to 25 % random jitter so clients that failed together do not retry together.
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        let delay = doubled.min(self.max_delay);
        let jitter_ms = u64::try_from(delay.as_millis() / 4).unwrap_or(0);
        delay + Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
    }

    /// The wait before retrying after `status`: `Retry-After` seconds when given (capped),
    /// the backoff otherwise.
    pub(super) fn delay_after(&self, attempt: u32, headers: &HeaderMap) -> Duration {
        retry_after(headers)
            .map(|wait| wait.min(self.max_retry_after))
            .unwrap_or_else(|| self.backoff(attempt))
    }
}

/// The statuses that say "try again later": rate limit and gateway/overload answers.
pub(super) fn retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` in delta-seconds. The HTTP-date form is ignored (backoff applies).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderValue, RETRY_AFTER};

    #[test]
    fn backoff_doubles_within_the_cap_with_bounded_jitter() {
        let policy = RetryPolicy::default();
        for (attempt, base) in [
            (1, 200),
            (2, 400),
            (3, 800),
            (4, 1600),
            (5, 2000),
            (9, 2000),
        ] {
            let delay = policy.backoff(attempt).as_millis();
            assert!(
                (base..=base + base / 4).contains(&delay),
                "{attempt}: {delay}"
            );
        }
    }

    #[test]
    fn retry_after_seconds_win_but_are_capped() {
        let policy = RetryPolicy::default();
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
        assert_eq!(policy.delay_after(1, &headers), Duration::from_secs(1));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(policy.delay_after(1, &headers), Duration::from_secs(5));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert!(policy.delay_after(1, &headers) < Duration::from_secs(1));
    }

    #[test]
    fn only_overload_statuses_are_retryable() {
        for code in [429, 502, 503, 504] {
            assert!(retryable_status(StatusCode::from_u16(code).unwrap()));
        }
        for code in [400, 401, 404, 422, 500, 501] {
            assert!(!retryable_status(StatusCode::from_u16(code).unwrap()));
        }
    }
}
