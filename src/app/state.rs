use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;
use secrecy::ExposeSecret;

use crate::{
    app::config::Config,
    auth::{api_keys::UsageTracker, rate_limit::RateLimiters, tokens::TokenService},
    chatwoot::installations::{self, Registry},
    platform::{crypto::Vault, db::Db},
    tenancy::list_cache::ListCache,
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
    /// Seals secrets at rest under `ENCRYPTION_KEY`.
    pub vault: Vault,
    /// The Chatwoot installations, as last read from the database.
    pub installations: Registry,
    pub lists: ListCache,
    /// What sessions were last granted in each account, for hot writes that check it again.
    pub grants: crate::tenancy::Grants,
    /// Each account's entitlements as of its revision.
    pub plans: crate::entitlements::PlanCache,
    /// Boards' settings and stages as of each board's structure version.
    pub layouts: crate::kanban::boards::Layouts,
    /// Stores received webhook deliveries, many to a commit under load.
    pub delivery_writer: crate::inbound::DeliveryWriter,
    /// The connected accounts' webhook receivers, kept for a few seconds.
    pub receivers: crate::chatwoot::webhooks::Receivers,
    /// Wakes the webhook worker when a delivery is stored.
    pub deliveries: tokio::sync::Notify,
    /// Relays board changes to open realtime streams.
    pub realtime: crate::realtime::Bus,
    /// What follows an account's connection to Chatwoot (the Kanban's first board).
    pub on_connect: Arc<dyn crate::chatwoot::connection::OnConnect>,
    /// Plans, subscriptions and the Asaas client.
    pub billing: crate::billing::Billing,
    /// What may refuse an account's writes (billing's suspension).
    pub write_gate: Arc<dyn crate::tenancy::WriteGate>,
    /// Calls WhatsApp provider servers.
    pub providers: crate::providers::ProviderClient,
    /// Conversations and inbox members read from Chatwoot lately.
    pub chatwoot_lookups: crate::chatwoot::access::Lookups,
    /// Paces the hub's own calls to each account's Chatwoot.
    pub chatwoot_pace: crate::kanban::writeback::Pace,
    /// The team chat's attachments: their store and signed links.
    pub chat_files: crate::chat::attachments::Files,
}

/// Handlers that need only the database (the metrics page) take it alone.
impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Db {
        state.db.clone()
    }
}

impl AppState {
    /// Builds the state and brings the environment's Chatwoot installation up to date.
    pub async fn new(db: Db, config: Config) -> anyhow::Result<Self> {
        let vault = vault(&config)?;
        let installations = Registry::default();
        installations::bootstrap(&db, &vault, config.chatwoot.as_ref(), &installations)
            .await
            .map_err(|e| anyhow::anyhow!("recording the Chatwoot installation: {e}"))?;
        let tokens = TokenService::new(
            &config.signing_keys,
            config.public_url.clone(),
            config.access_token_ttl,
        );
        let rate_limits = RateLimiters::new(
            config.rate_limit_per_minute,
            config.anonymous_rate_limit_per_minute,
        );
        let billing = crate::billing::Billing::new(&config.billing)?;
        let policy = crate::providers::address::AddressPolicy::new(
            config.providers.denied_networks.clone(),
            config.providers.allowed_networks.clone(),
        );
        let providers = crate::providers::ProviderClient::new(config.providers.timeout, policy)?;
        let chat_files =
            crate::chat::attachments::Files::new(&config.chat_files, &config.public_url)?;
        Ok(AppState(Arc::new(Shared {
            realtime: crate::realtime::Bus::new(db.clone(), config.chat_presence_grace),
            delivery_writer: crate::inbound::DeliveryWriter::start(db.clone()),
            db,
            config,
            tokens,
            rate_limits,
            api_key_usage: UsageTracker::default(),
            vault,
            installations,
            lists: ListCache::default(),
            grants: Default::default(),
            plans: Default::default(),
            layouts: Default::default(),
            chatwoot_pace: Default::default(),
            chatwoot_lookups: Default::default(),
            on_connect: Arc::new(crate::kanban::reconcile::FirstBoard),
            billing,
            providers,
            write_gate: crate::billing::gate(),
            receivers: Default::default(),
            deliveries: tokio::sync::Notify::new(),
            chat_files,
        })))
    }
}

fn vault(config: &Config) -> anyhow::Result<Vault> {
    let key = |secret: &secrecy::SecretString| -> anyhow::Result<[u8; 32]> {
        super::config::base64_decode(secret.expose_secret())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| anyhow::anyhow!("encryption keys must be 32 bytes of base64"))
    };
    let previous = config
        .previous_encryption_keys
        .iter()
        .map(key)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Vault::new(&key(&config.encryption_key)?, &previous))
}

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}
