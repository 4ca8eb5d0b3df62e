//! Making a number: on the provider server first (or registered, for types whose numbers
//! are made in the provider's panel), within the plan's quota, then kept by the hub with
//! its credential and webhook secret sealed. Whatever fails after the server made it takes
//! it back, so neither side keeps half a number.

use rand::distr::{Alphanumeric, SampleString};
use uuid::Uuid;

use super::{Behaviour, Instance, seal, seal_secret, store};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    entitlements::{self, Resource},
    platform::{
        clock,
        error::{AppError, AppResult},
    },
    providers::{
        adapters::{Adapter, NewSession, Server, Session, Webhook},
        credentials::Credentials,
        instances::live::Opened,
    },
    tenancy::AccountScope,
};

/// What a number is made from (its name checked by the caller).
pub struct Number<'a> {
    pub provider_id: Uuid,
    pub name: &'a str,
    /// Digits with country code.
    pub phone: Option<&'a str>,
    pub credentials: Option<&'a serde_json::Value>,
    pub settings: &'a Behaviour,
}

/// What a new instance is made with: its id, and the secret its provider sends back with
/// every webhook (32 random characters).
pub struct Made {
    pub id: Uuid,
    pub token: String,
    pub secret: String,
}

/// Where the provider posts instance `id`'s events.
fn webhook_url(public_url: &str, id: Uuid) -> String {
    format!("{public_url}/api/v1/webhooks/providers/{id}")
}

/// Makes instance `name` on `server` (or registers the one `given` names), its webhook
/// pointing at the hub.
pub async fn make_on_server(
    public_url: &str,
    adapter: &dyn Adapter,
    server: &Server<'_>,
    name: &str,
    given: &Credentials,
) -> AppResult<Made> {
    let id = Uuid::now_v7();
    let secret = Alphanumeric.sample_string(&mut rand::rng(), 32);
    let url = webhook_url(public_url, id);
    let webhook = Webhook {
        url: &url,
        secret: &secret,
    };
    let new = NewSession {
        name,
        given,
        webhook: &webhook,
    };
    let token = adapter.create(server, &new).await?;
    Ok(Made { id, token, secret })
}

/// Makes the number and keeps it; the quota is checked before the server is asked and
/// again when the number is kept (another create may have taken the last slot meanwhile).
pub async fn make(
    state: &AppState,
    scope: &AccountScope,
    number: &Number<'_>,
) -> AppResult<Instance> {
    let opened = Opened::of(state, scope.account_id, number.provider_id).await?;
    let can = opened.adapter.capabilities();
    let given = Credentials::of_instance(can.instance_credentials, number.credentials)?;
    number.settings.ensure_supported(can.settings)?;
    let defaults = &state.config.plan_defaults;
    {
        let mut tx = state.db.begin().await?;
        entitlements::ensure_capacity(&mut tx, defaults, scope.account_id, Resource::Instances)
            .await?;
    }
    let server = opened.server();
    let public_url = &state.config.public_url;
    let made = make_on_server(public_url, opened.adapter, &server, number.name, &given).await?;
    let session = Session {
        name: number.name,
        token: &made.token,
    };
    let kept = async {
        if !number.settings.asked().is_empty() {
            let adapter = opened.adapter;
            adapter
                .apply_settings(&server, &session, number.settings)
                .await?;
        }
        let instance = keep(state, scope, number, &made).await?;
        let url = webhook_url(public_url, made.id);
        let webhook = Webhook {
            url: &url,
            secret: &made.secret,
        };
        if let Err(err) = opened
            .adapter
            .confirm_webhook(&server, &session, &webhook)
            .await
        {
            let mut tx = state.db.begin().await?;
            store::delete(&mut tx, scope.account_id, made.id, clock::now()).await?;
            tx.commit().await?;
            return Err(err.into());
        }
        Ok(instance)
    };
    match kept.await {
        Ok(instance) => Ok(instance),
        Err(err) => {
            // Taken back from the server; what it answers changes nothing for the caller.
            let _ = opened.adapter.delete(&server, &session).await;
            Err(err)
        }
    }
}

/// Keeps a number the server made, within the quota, audited.
async fn keep(
    state: &AppState,
    scope: &AccountScope,
    number: &Number<'_>,
    made: &Made,
) -> AppResult<Instance> {
    let (id, now) = (made.id, clock::now());
    let mut tx = state.db.begin().await?;
    let defaults = &state.config.plan_defaults;
    entitlements::ensure_capacity(&mut tx, defaults, scope.account_id, Resource::Instances).await?;
    let new = store::NewInstance {
        id,
        account_id: scope.account_id,
        provider_id: number.provider_id,
        name: number.name,
        phone: number.phone,
        sealed: &seal(&state.vault, id, &made.token),
        sealed_secret: &seal_secret(&state.vault, id, &made.secret),
        now,
    };
    store::insert(&mut tx, &new).await?;
    store::set_settings(&mut tx, scope.account_id, id, number.settings, now).await?;
    let instance = store::get(&mut tx, scope.account_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let entry = AuditEntry::new(scope, "instance.created", "instance", id)
        .changes(None::<&Instance>, Some(&instance));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(instance)
}
