use std::{ops::Deref, sync::Arc};

use super::{config::Config, db::Db, list_cache::ListCache, rate_limit::RateLimiters};
use crate::{
    auth::{api_keys::UsageTracker, tokens::TokenService},
    chatwoot::client::ChatwootClient,
};

/// What every handler can reach. Cloning is one reference-count increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: Db,
    pub config: Config,
    pub tokens: TokenService,
    pub rate_limits: RateLimiters,
    pub api_key_usage: UsageTracker,
    /// The configured Chatwoot installation (`CHATWOOT_URL`), if any.
    pub chatwoot: Option<ChatwootClient>,
    pub lists: ListCache,
}

impl AppState {
    pub fn new(db: Db, config: Config) -> anyhow::Result<Self> {
        let chatwoot = config
            .chatwoot_url
            .as_deref()
            .map(ChatwootClient::new)
            .transpose()
            .map_err(|e| anyhow::anyhow!("CHATWOOT_URL: {e}"))?;
        let tokens = TokenService::new(
            &config.signing_keys,
            config.public_url.clone(),
            config.access_token_ttl,
        );
        let rate_limits = RateLimiters::new(
            config.rate_limit_per_minute,
            config.anonymous_rate_limit_per_minute,
        );
        Ok(AppState(Arc::new(Shared {
            db,
            config,
            tokens,
            rate_limits,
            api_key_usage: UsageTracker::default(),
            chatwoot,
            lists: ListCache::default(),
        })))
    }
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
