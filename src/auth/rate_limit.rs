//! Request rate limits: per principal once authenticated, per client IP otherwise.
//! GCRA buckets in memory, so limits are per replica; headers follow the IETF
//! RateLimit header fields draft.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use uuid::Uuid;

use crate::{
    app::state::AppState,
    auth::Authentication,
    platform::{
        client::ClientMeta,
        error::{AppError, Problem},
    },
};

/// Instance tokens asked for by the dashboard script, per minute: every Chatwoot page load
/// and every opened frame asks for one, and an office shares one address.
const EMBED_ATTEMPTS_PER_IP: u32 = 600;
const EMBED_ATTEMPTS_PER_SESSION: u32 = 60;

type Limiter<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// An authenticated principal's bucket: a user, or an API key (by its hash).
#[derive(Clone, Hash, PartialEq, Eq)]
enum Principal {
    User(Uuid),
    ApiKey(Vec<u8>),
}

/// Hashes of API keys found live, each with when it was last found so; bounded, and
/// forgotten an hour after (the next use verifies the key again and brings it back).
#[derive(Default)]
struct VerifiedKeys(std::sync::Mutex<std::collections::HashMap<Vec<u8>, std::time::Instant>>);

const VERIFIED_KEYS_MAX: usize = 100_000;
const VERIFIED_KEY_KEPT: Duration = Duration::from_secs(3600);

impl VerifiedKeys {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<Vec<u8>, std::time::Instant>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn contains(&self, hash: &[u8]) -> bool {
        self.lock().contains_key(hash)
    }

    fn insert(&self, hash: &[u8]) {
        let mut keys = self.lock();
        if keys.len() < VERIFIED_KEYS_MAX || keys.contains_key(hash) {
            keys.insert(hash.to_vec(), std::time::Instant::now());
        }
    }

    fn remove(&self, hash: &[u8]) {
        self.lock().remove(hash);
    }

    fn forget_old(&self) {
        self.lock()
            .retain(|_, seen| seen.elapsed() < VERIFIED_KEY_KEPT);
    }
}

/// Attempts counted against both the client IP and the presented credential, so neither
/// spraying from one IP nor rotating IPs against one credential gets far.
struct Attempts {
    by_ip: Limiter<Vec<u8>>,
    by_credential: Limiter<Vec<u8>>,
    ip_limit: u32,
    credential_limit: u32,
}

impl Attempts {
    fn new(ip_limit: u32, credential_limit: u32) -> Self {
        Attempts {
            by_ip: limiter(ip_limit),
            by_credential: limiter(credential_limit),
            ip_limit,
            credential_limit,
        }
    }

    fn count(&self, ip: IpAddr, credential: &[u8]) -> Result<(), AppError> {
        let by_ip = ip.to_string().into_bytes();
        let checks = [
            (&self.by_ip, self.ip_limit, by_ip),
            (
                &self.by_credential,
                self.credential_limit,
                credential.to_vec(),
            ),
        ];
        for (limiter, limit, key) in checks {
            if let Some(wait) = RateLimiters::check(limiter, limit, &key).retry_after {
                return Err(AppError::RateLimited {
                    retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                });
            }
        }
        Ok(())
    }

    fn forget_idle(&self) {
        self.by_ip.retain_recent();
        self.by_credential.retain_recent();
    }
}

pub struct RateLimiters {
    /// API keys this replica found live in the database: only they get a bucket of their own.
    verified_keys: VerifiedKeys,
    /// Instance tokens issued to the dashboard script, and their exchanges.
    embed_attempts: Attempts,
    per_user: Limiter<Principal>,
    per_ip: Limiter<IpAddr>,
    user_limit: u32,
    ip_limit: u32,
}

/// Outcome of one check, enough to write the headers.
struct Decision {
    limit: u32,
    remaining: u32,
    retry_after: Option<Duration>,
}

fn limiter<K: Clone + std::hash::Hash + Eq>(per_minute: u32) -> Limiter<K> {
    let per_minute = NonZeroU32::new(per_minute.max(1)).expect("max(1) is non-zero");
    RateLimiter::keyed(Quota::per_minute(per_minute))
        .with_middleware::<StateInformationMiddleware>()
}

impl RateLimiters {
    pub fn new(user_limit: u32, ip_limit: u32) -> Self {
        RateLimiters {
            verified_keys: VerifiedKeys::default(),
            embed_attempts: Attempts::new(EMBED_ATTEMPTS_PER_IP, EMBED_ATTEMPTS_PER_SESSION),
            per_user: limiter(user_limit),
            per_ip: limiter(ip_limit),
            user_limit: user_limit.max(1),
            ip_limit: ip_limit.max(1),
        }
    }

    /// Counts an instance-token request or exchange: a budget sized for the dashboard
    /// script, which asks on every page load and frame (each still checked by Chatwoot).
    pub fn embed_attempt(&self, ip: IpAddr, credential: &[u8]) -> Result<(), AppError> {
        self.embed_attempts.count(ip, credential)
    }

    /// The API key with this hash is live: from now on it is counted as its own principal.
    pub fn key_verified(&self, hash: &[u8]) {
        self.verified_keys.insert(hash);
    }

    /// The key with this hash is unknown, revoked or expired: it counts against its IP.
    pub fn key_refused(&self, hash: &[u8]) {
        self.verified_keys.remove(hash);
    }

    /// Forgets buckets that have refilled, so memory follows active clients only.
    pub fn forget_idle(&self) {
        self.verified_keys.forget_old();
        self.embed_attempts.forget_idle();
        self.per_user.retain_recent();
        self.per_ip.retain_recent();
    }

    fn check<K: Clone + std::hash::Hash + Eq>(
        limiter: &Limiter<K>,
        limit: u32,
        key: &K,
    ) -> Decision {
        match limiter.check_key(key) {
            Ok(snapshot) => Decision {
                limit,
                remaining: snapshot.remaining_burst_capacity(),
                retry_after: None,
            },
            Err(not_until) => Decision {
                limit,
                remaining: 0,
                retry_after: Some(not_until.wait_time_from(DefaultClock::default().now())),
            },
        }
    }
}

/// Limits the API; health probes, metrics and UI assets are not counted.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Webhooks come from a few Chatwoot hosts in bursts, and Chatwoot does not retry a
    // refused account webhook: their signatures protect them, not a per-IP budget.
    let path = req.uri().path();
    if !path.starts_with("/api/") || path.starts_with("/api/v1/webhooks/") {
        return next.run(req).await;
    }
    let limits = &state.rate_limits;
    let decision = match req.extensions().get::<Authentication>() {
        Some(Authentication::Session(claims)) => RateLimiters::check(
            &limits.per_user,
            limits.user_limit,
            &Principal::User(claims.sub),
        ),
        // A key not yet found live counts against the client's IP, like no key at all, so
        // made-up keys (each a database lookup) cannot each open a bucket of their own.
        Some(Authentication::ApiKey { hash }) if limits.verified_keys.contains(hash) => {
            RateLimiters::check(
                &limits.per_user,
                limits.user_limit,
                &Principal::ApiKey(hash.clone()),
            )
        }
        _ => {
            let ip = req
                .extensions()
                .get::<ClientMeta>()
                .map(|m| m.ip)
                .unwrap_or(IpAddr::from([0, 0, 0, 0]));
            RateLimiters::check(&limits.per_ip, limits.ip_limit, &ip)
        }
    };
    let mut response = match decision.retry_after {
        Some(wait) => {
            let mut response = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests; retry after the time in Retry-After.",
            )
            .into_response();
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(seconds));
            response
        }
        None => next.run(req).await,
    };
    write_headers(response.headers_mut(), &decision);
    response
}

fn write_headers(headers: &mut HeaderMap, decision: &Decision) {
    let refill_secs = 60.0 / f64::from(decision.limit);
    let reset = (f64::from(decision.limit - decision.remaining.min(decision.limit)) * refill_secs)
        .ceil() as u64;
    headers.insert("ratelimit-limit", HeaderValue::from(decision.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(decision.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(reset));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_then_refuses_with_a_wait() {
        let limits = RateLimiters::new(3, 3);
        let ip = IpAddr::from([192, 0, 2, 1]);
        for expected in [2, 1, 0] {
            let d = RateLimiters::check(&limits.per_ip, limits.ip_limit, &ip);
            assert_eq!((d.remaining, d.retry_after), (expected, None));
        }
        let refused = RateLimiters::check(&limits.per_ip, limits.ip_limit, &ip);
        assert!(refused.retry_after.unwrap() > Duration::from_secs(1));
        let other = RateLimiters::check(
            &limits.per_ip,
            limits.ip_limit,
            &IpAddr::from([192, 0, 2, 2]),
        );
        assert!(other.retry_after.is_none());
    }
}
