//! The Chatwoot installations the hub serves: where each one's API lives, which browser
//! origins its dashboard is served from, and its secrets (sealed at rest). The one most
//! deployments have comes from `CHATWOOT_*` variables and is kept in step at start; more
//! are added through the API by a super admin.
//!
//! Every replica keeps an in-memory snapshot ([`Registry`]) for the checks that run on
//! every cross-origin request (CORS, instance tokens, framing); it is reloaded after a
//! change on this replica and every minute (server housekeeping) for changes made elsewhere.

mod routes;
pub mod store;

use std::sync::{Arc, RwLock};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;

use crate::{
    app::config::ChatwootEnv,
    chatwoot::client::ChatwootClient,
    platform::{
        clock,
        crypto::Vault,
        db::Db,
        error::{AppError, AppResult},
    },
};

/// Associated data for sealed values, so one column's ciphertext cannot stand in for another's.
pub const PLATFORM_TOKEN: &str = "chatwoot_platform_token";
pub const APP_SECRET: &str = "chatwoot_app_secret";

/// An installation as the API shows it: never its secrets.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Installation {
    pub id: Uuid,
    pub name: String,
    pub base_url: String,
    /// Browser origins Chatwoot's dashboard is served from.
    pub origins: Vec<String>,
    pub has_platform_token: bool,
    /// `false` for Chatwoot before 4.11.2: its webhooks arrive unsigned and are accepted.
    pub signs_webhooks: bool,
    /// Managed by `CHATWOOT_*` variables; the API cannot change or delete it.
    pub from_env: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// What a replica knows about one installation without asking the database.
pub struct Known {
    pub installation: Installation,
    pub client: ChatwootClient,
}

#[derive(Clone, Default)]
pub struct Registry {
    known: Arc<RwLock<Arc<Vec<Arc<Known>>>>>,
    /// One reload at a time: a reload that read the database before another's change must
    /// not write its older list over the newer one (a new installation would vanish until the
    /// next minute's reload).
    reloading: Arc<tokio::sync::Mutex<()>>,
}

impl Registry {
    fn snapshot(&self) -> Arc<Vec<Arc<Known>>> {
        self.known.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub async fn reload(&self, db: &Db) -> AppResult<()> {
        let _one_at_a_time = self.reloading.lock().await;
        let mut known = Vec::new();
        for installation in store::list(db).await? {
            match ChatwootClient::new(&installation.base_url) {
                Ok(client) => known.push(Arc::new(Known {
                    installation,
                    client,
                })),
                Err(err) => {
                    tracing::warn!(installation = %installation.id, error = %err, "installation skipped")
                }
            }
        }
        *self.known.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(known);
        Ok(())
    }

    pub fn by_id(&self, id: Uuid) -> Option<Arc<Known>> {
        self.snapshot()
            .iter()
            .find(|k| k.installation.id == id)
            .cloned()
    }

    /// The installation whose dashboard is served from `origin`.
    pub fn by_origin(&self, origin: &str) -> Option<Arc<Known>> {
        self.snapshot()
            .iter()
            .find(|k| k.installation.origins.iter().any(|o| o == origin))
            .cloned()
    }

    /// The installation single sign-on uses when the caller names none: the one from the
    /// environment, or the only one there is.
    pub fn default_installation(&self) -> Option<Arc<Known>> {
        let all = self.snapshot();
        all.iter()
            .find(|k| k.installation.from_env)
            .or_else(|| all.first().filter(|_| all.len() == 1))
            .cloned()
    }

    pub fn is_chatwoot_origin(&self, origin: &str) -> bool {
        self.by_origin(origin).is_some()
    }

    /// Every Chatwoot origin the hub knows, for framing and the embedded UI.
    pub fn all_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = self
            .snapshot()
            .iter()
            .flat_map(|k| k.installation.origins.iter().cloned())
            .collect();
        origins.sort();
        origins.dedup();
        origins
    }
}

/// Writes the environment's installation (creating, updating or, when `CHATWOOT_URL` was
/// removed, demoting it to an API-managed one) and adopts accounts made before
/// installations existed.
pub async fn bootstrap(
    db: &Db,
    vault: &Vault,
    env: Option<&ChatwootEnv>,
    registry: &Registry,
) -> AppResult<()> {
    let mut tx = db.begin().await?;
    // Replicas starting together would each find no row and each insert one.
    tx.lock_named("chatwoot_installations.bootstrap").await?;
    match env {
        Some(env) => {
            let now = clock::now();
            let sealed = |context: &str, secret: &Option<SecretString>| {
                secret
                    .as_ref()
                    .map(|s| vault.seal(context, s.expose_secret()))
            };
            let row = store::EnvInstallation {
                base_url: &env.url,
                origins: &env.origins,
                platform_token: sealed(PLATFORM_TOKEN, &env.platform_token),
                app_secret: sealed(APP_SECRET, &env.app_secret),
                signs_webhooks: env.signs_webhooks,
            };
            let id = store::upsert_env(&mut tx, &row, now).await?;
            store::adopt_unlinked_accounts(&mut tx, id).await?;
        }
        None => store::release_env(&mut tx).await?,
    }
    tx.commit().await?;
    registry.reload(db).await
}

/// The installation's platform-app token, opened from its sealed form.
pub async fn platform_token(db: &Db, vault: &Vault, id: Uuid) -> AppResult<Option<SecretString>> {
    let sealed = store::secrets(db, id).await?.and_then(|s| s.platform_token);
    sealed.map(|s| open(vault, PLATFORM_TOKEN, &s)).transpose()
}

/// The secret platform-app events for this installation are signed with.
pub async fn app_secret(db: &Db, vault: &Vault, id: Uuid) -> AppResult<Option<SecretString>> {
    let sealed = store::secrets(db, id).await?.and_then(|s| s.app_secret);
    sealed.map(|s| open(vault, APP_SECRET, &s)).transpose()
}

pub fn open(vault: &Vault, context: &str, sealed: &str) -> AppResult<SecretString> {
    vault
        .open(context, sealed)
        .map(SecretString::from)
        .map_err(|err| {
            AppError::Internal(anyhow::anyhow!(
                "a sealed {context} cannot be opened: {err}"
            ))
        })
}
