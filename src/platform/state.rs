use std::{ops::Deref, sync::Arc};

use super::{config::Config, db::Db, rate_limit::RateLimiters};
use crate::auth::tokens::TokenService;

/// What every handler can reach. Cloning is one reference-count increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: Db,
    pub config: Config,
    pub tokens: TokenService,
    pub rate_limits: RateLimiters,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> Self {
        let tokens = TokenService::new(
            &config.signing_keys,
            config.public_url.clone(),
            config.access_token_ttl,
        );
        let rate_limits = RateLimiters::new(
            config.rate_limit_per_minute,
            config.anonymous_rate_limit_per_minute,
        );
        AppState(Arc::new(Shared {
            db,
            config,
            tokens,
            rate_limits,
        }))
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
