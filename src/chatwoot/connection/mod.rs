//! Connecting a hub account to its Chatwoot account: a Chatwoot API token kept sealed for
//! background work, the hub's webhook and Dashboard App registered in Chatwoot (never
//! twice), and a first sync of inboxes, agents and teams. Disconnecting removes both
//! registrations and stops the account's webhook processing.

mod routes;
pub mod store;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;

use super::{
    client::{ChatwootError, Credential, DashboardAppFrame, Role as ChatwootRole, WebhookEvent},
    inboxes::sync::{self, RemoteInbox, SyncReport},
    installations::{self, Known},
};
use crate::{
    app::state::AppState,
    auth::opaque,
    platform::{
        clock,
        error::{AppError, AppResult},
    },
    tenancy::accounts::Account,
};

/// What the hub listens to: cards follow conversations, messages and contacts; the
/// inbox mirror follows inbox changes.
pub const EVENTS: [WebhookEvent; 8] = [
    WebhookEvent::ConversationCreated,
    WebhookEvent::ConversationStatusChanged,
    WebhookEvent::ConversationUpdated,
    WebhookEvent::ContactCreated,
    WebhookEvent::ContactUpdated,
    WebhookEvent::MessageCreated,
    WebhookEvent::InboxCreated,
    WebhookEvent::InboxUpdated,
];
pub const API_TOKEN: &str = "chatwoot_account_token";
pub const WEBHOOK_SECRET: &str = "chatwoot_webhook_secret";
const WEBHOOK_NAME: &str = "Whatpro Hub";
const DASHBOARD_APP_TITLE: &str = "Whatpro Hub";

/// Where the account's Chatwoot lives.
pub struct Link {
    pub known: Arc<Known>,
    pub chatwoot_account_id: i64,
}

pub fn link(state: &AppState, account: &Account) -> AppResult<Link> {
    let known = account
        .chatwoot_installation_id
        .and_then(|id| state.installations.by_id(id));
    match (known, account.chatwoot_account_id) {
        (Some(known), Some(chatwoot_account_id)) => Ok(Link {
            known,
            chatwoot_account_id,
        }),
        _ => Err(AppError::Conflict {
            code: "chatwoot_not_linked",
            message: "This account is not linked to a Chatwoot account of a known installation."
                .into(),
        }),
    }
}

pub enum TokenSource {
    /// An administrator's personal access token of that Chatwoot account.
    AccessToken(SecretString),
    /// The installation's platform-app token: the hub's own service user is made an
    /// administrator of the account (the platform app must own the account).
    Platform,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    Unchanged,
    Removed,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Registration {
    pub id: Option<i64>,
    pub action: Action,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookRegistration {
    #[serde(flatten)]
    pub registration: Registration,
    pub url: String,
    /// Whether Chatwoot gave the webhook a signing secret (4.11.2 and later).
    pub signed: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectReport {
    pub webhook: WebhookRegistration,
    pub dashboard_app: Registration,
    pub sync: SyncReport,
    /// The board made for an account that had none, fed by every enabled inbox.
    pub default_board_id: Option<Uuid>,
}

/// What another domain does once an account is connected (the Kanban makes its first
/// board), registered by `app`; its answer is the report's `default_board_id`.
pub trait OnConnect: Send + Sync {
    fn connected<'a>(
        &'a self,
        state: &'a AppState,
        account: &'a Account,
    ) -> BoxFuture<'a, AppResult<Option<Uuid>>>;
}

pub fn webhook_url(state: &AppState, account_id: Uuid) -> String {
    format!(
        "{}/api/v1/webhooks/chatwoot/{account_id}",
        state.config.public_url
    )
}

pub fn dashboard_app_url(state: &AppState) -> String {
    format!("{}/embedded/conversation", state.config.public_url)
}

/// What a failed Chatwoot call means to the person connecting.
pub fn chatwoot_failure(err: ChatwootError) -> AppError {
    match err {
        ChatwootError::Unauthorized => AppError::BadRequest {
            code: "chatwoot_token_rejected",
            message: "Chatwoot did not accept this token.".into(),
        },
        ChatwootError::Forbidden => AppError::Forbidden {
            code: "chatwoot_admin_required",
            message: "Chatwoot refused: the token must belong to an administrator of this \
                      Chatwoot account (or the platform app must own the account).",
        },
        ChatwootError::Validation(message) => AppError::BadRequest {
            code: "chatwoot_rejected",
            message: format!("Chatwoot refused the request: {message}"),
        },
        other => {
            tracing::warn!(error = %other, "Chatwoot call failed");
            AppError::Unavailable {
                reason: "Chatwoot cannot be reached; try again.".into(),
            }
        }
    }
}

/// The account token to act with, checked: an administrator's own token, or one the
/// platform app obtains for the hub's service user.
async fn account_token(
    state: &AppState,
    link: &Link,
    source: TokenSource,
) -> AppResult<(SecretString, &'static str)> {
    let client = &link.known.client;
    match source {
        TokenSource::AccessToken(token) => {
            let profile = client
                .profile(&Credential::ApiToken(token.clone()))
                .await
                .map_err(chatwoot_failure)?;
            let admin = profile
                .accounts
                .iter()
                .any(|a| a.id == link.chatwoot_account_id && a.role == ChatwootRole::Administrator);
            if !admin {
                return Err(chatwoot_failure(ChatwootError::Forbidden));
            }
            Ok((token, "access_token"))
        }
        TokenSource::Platform => {
            let platform_token =
                installations::platform_token(&state.db, &state.vault, link.known.installation.id)
                    .await?
                    .ok_or_else(|| AppError::BadRequest {
                        code: "platform_token_missing",
                        message: "This installation has no platform-app token; connect with an \
                                  administrator's access token instead."
                            .into(),
                    })?;
            let platform = client.platform(platform_token);
            let host = reqwest::Url::parse(&state.config.public_url)
                .ok()
                .and_then(|u| u.host_str().map(String::from))
                .filter(|h| h.contains('.'))
                .unwrap_or_else(|| "whatpro-hub.invalid".into());
            let service_user = super::client::NewUser {
                name: "Whatpro Hub".into(),
                email: format!("whatpro-hub@{host}"),
                password: format!("Wp1!{}", opaque::new_shared_secret()).into(),
                display_name: Some("Whatpro Hub".into()),
                custom_attributes: Default::default(),
            };
            let user = platform
                .create_user(&service_user)
                .await
                .map_err(chatwoot_failure)?;
            platform
                .add_account_user(
                    link.chatwoot_account_id,
                    user.id,
                    ChatwootRole::Administrator,
                )
                .await
                .map_err(chatwoot_failure)?;
            let token = platform
                .user_token(user.id)
                .await
                .map_err(chatwoot_failure)?;
            Ok((token.access_token, "platform"))
        }
    }
}

/// Connects (or re-connects) the account; safe to repeat.
pub async fn connect(
    state: &AppState,
    account: &Account,
    source: TokenSource,
) -> AppResult<ConnectReport> {
    let link = link(state, account)?;
    let (token, token_source) = account_token(state, &link, source).await?;
    let credential = Credential::ApiToken(token.clone());
    let client = &link.known.client;
    let cw_account = link.chatwoot_account_id;

    let url = webhook_url(state, account.id);
    let hooks = client
        .list_webhooks(&credential, cw_account)
        .await
        .map_err(chatwoot_failure)?;
    let mut ours = hooks.into_iter().filter(|w| w.url == url);
    let (webhook, action) = match ours.next() {
        Some(hook) if EVENTS.iter().all(|e| hook.subscriptions.contains(e)) => {
            (hook, Action::Unchanged)
        }
        Some(hook) => {
            let updated = client
                .update_webhook(
                    &credential,
                    cw_account,
                    hook.id,
                    &url,
                    WEBHOOK_NAME,
                    &EVENTS,
                )
                .await
                .map_err(chatwoot_failure)?;
            (updated, Action::Updated)
        }
        None => {
            let created = client
                .create_webhook(&credential, cw_account, &url, WEBHOOK_NAME, &EVENTS)
                .await
                .map_err(chatwoot_failure)?;
            (created, Action::Created)
        }
    };
    // A twin left by an interrupted earlier attempt would deliver every event twice.
    for twin in ours {
        client
            .delete_webhook(&credential, cw_account, twin.id)
            .await
            .map_err(chatwoot_failure)?;
    }

    let app_url = dashboard_app_url(state);
    let apps = client
        .dashboard_apps(&credential, cw_account)
        .await
        .map_err(chatwoot_failure)?;
    let dashboard_app = match apps
        .iter()
        .find(|a| a.content.iter().any(|f| f.url == app_url))
    {
        Some(app) => Registration {
            id: Some(app.id),
            action: Action::Unchanged,
        },
        None => {
            let frame = [DashboardAppFrame::frame(app_url.clone())];
            let app = client
                .create_dashboard_app(&credential, cw_account, DASHBOARD_APP_TITLE, &frame)
                .await
                .map_err(chatwoot_failure)?;
            Registration {
                id: Some(app.id),
                action: Action::Created,
            }
        }
    };

    let now = clock::now();
    let row = store::ConnectionRow {
        status: "connected".into(),
        token_source: token_source.into(),
        api_token: Some(state.vault.seal(API_TOKEN, token.expose_secret())),
        webhook_id: Some(webhook.id),
        webhook_secret: webhook
            .secret
            .as_ref()
            .map(|s| state.vault.seal(WEBHOOK_SECRET, s.expose_secret())),
        dashboard_app_id: dashboard_app.id,
        last_error: None,
        connected_at: Some(now),
        last_sync_at: None,
        last_sync_report: None,
        last_reconciled_at: None,
        last_reconcile_report: None,
        updated_at: now,
    };
    let mut tx = state.db.begin().await?;
    store::save(&mut tx, account.id, &row).await?;
    tx.commit().await?;
    state.receivers.forget(account.id);
    let sync = pull(state, account.id, &link, &credential).await?;
    let default_board_id = state.on_connect.connected(state, account).await?;
    Ok(ConnectReport {
        webhook: WebhookRegistration {
            registration: Registration {
                id: Some(webhook.id),
                action,
            },
            url,
            signed: webhook.secret.is_some(),
        },
        dashboard_app,
        sync,
        default_board_id,
    })
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisconnectReport {
    pub webhook: Registration,
    pub dashboard_app: Registration,
}

/// Removes the hub's webhook and Dashboard App from Chatwoot and forgets the token.
pub async fn disconnect(state: &AppState, account: &Account) -> AppResult<DisconnectReport> {
    let Some(row) = store::get(&state.db, account.id)
        .await?
        .filter(|r| r.status != "disconnected")
    else {
        let unchanged = Registration {
            id: None,
            action: Action::Unchanged,
        };
        return Ok(DisconnectReport {
            webhook: unchanged.clone(),
            dashboard_app: unchanged,
        });
    };
    let link = link(state, account)?;
    let client = &link.known.client;
    if let Some(sealed) = &row.api_token {
        let credential =
            Credential::ApiToken(installations::open(&state.vault, API_TOKEN, sealed)?);
        let gone = |r: Result<(), ChatwootError>| match r {
            Ok(()) | Err(ChatwootError::NotFound) => Ok(()),
            Err(err) => Err(chatwoot_failure(err)),
        };
        if let Some(id) = row.webhook_id {
            gone(
                client
                    .delete_webhook(&credential, link.chatwoot_account_id, id)
                    .await,
            )?;
        }
        if let Some(id) = row.dashboard_app_id {
            gone(
                client
                    .delete_dashboard_app(&credential, link.chatwoot_account_id, id)
                    .await,
            )?;
        }
    }
    let now = clock::now();
    let cleared = store::ConnectionRow {
        status: "disconnected".into(),
        api_token: None,
        webhook_id: None,
        webhook_secret: None,
        dashboard_app_id: None,
        last_error: None,
        updated_at: now,
        ..row.clone()
    };
    let mut tx = state.db.begin().await?;
    store::save(&mut tx, account.id, &cleared).await?;
    tx.commit().await?;
    state.receivers.forget(account.id);
    Ok(DisconnectReport {
        webhook: Registration {
            id: row.webhook_id,
            action: Action::Removed,
        },
        dashboard_app: Registration {
            id: row.dashboard_app_id,
            action: Action::Removed,
        },
    })
}

/// The account's stored Chatwoot credential, for background work.
pub async fn credential(state: &AppState, account: &Account) -> AppResult<(Link, Credential)> {
    let row = store::get(&state.db, account.id)
        .await?
        .filter(|r| r.status == "connected");
    let Some(sealed) = row.and_then(|r| r.api_token) else {
        return Err(AppError::Conflict {
            code: "chatwoot_not_connected",
            message: "Connect this account to Chatwoot first.".into(),
        });
    };
    let link = link(state, account)?;
    let token = installations::open(&state.vault, API_TOKEN, &sealed)?;
    Ok((link, Credential::ApiToken(token)))
}

/// Pulls inboxes, agents and teams from Chatwoot and applies them in one transaction.
pub async fn pull(
    state: &AppState,
    account_id: Uuid,
    link: &Link,
    credential: &Credential,
) -> AppResult<SyncReport> {
    let client = &link.known.client;
    let cw_account = link.chatwoot_account_id;
    let inboxes = client
        .inboxes(credential, cw_account)
        .await
        .map_err(chatwoot_failure)?;
    let agents = client
        .agents(credential, cw_account)
        .await
        .map_err(chatwoot_failure)?;
    let teams = client
        .teams(credential, cw_account)
        .await
        .map_err(chatwoot_failure)?;
    let remote: Vec<RemoteInbox> = inboxes.iter().map(RemoteInbox::from).collect();

    let config = &state.config;
    let mut tx = state.db.begin().await?;
    let report = SyncReport {
        inboxes: sync::apply_inboxes(&mut tx, config, account_id, &remote, true).await?,
        agents: sync::apply_agents(
            &mut tx,
            config,
            account_id,
            link.known.installation.id,
            &agents,
        )
        .await?,
        teams: sync::apply_teams(&mut tx, config, account_id, &teams).await?,
        synced_at: clock::now(),
    };
    let json = serde_json::to_value(&report).map_err(anyhow::Error::from)?;
    store::record_sync(&mut tx, account_id, report.synced_at, &json).await?;
    crate::tenancy::accounts::store::bump_revision(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(report)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConnectionStatus {
    /// `connected`, `disconnected` (never connected, or disconnected) or `error`.
    pub status: String,
    pub installation_id: Option<Uuid>,
    pub chatwoot_account_id: Option<i64>,
    /// `access_token` or `platform`.
    pub token_source: Option<String>,
    pub webhook_id: Option<i64>,
    pub webhook_url: String,
    pub webhook_signed: bool,
    pub dashboard_app_id: Option<i64>,
    /// Whether Chatwoot answered with the stored token just now.
    pub healthy: Option<bool>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub connected_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sync_at: Option<OffsetDateTime>,
    #[schema(value_type = Option<Object>)]
    pub last_sync: Option<serde_json::Value>,
    /// When the cards were last compared with Chatwoot's conversations, and what was fixed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_reconciled_at: Option<OffsetDateTime>,
    #[schema(value_type = Option<Object>)]
    pub last_reconcile: Option<serde_json::Value>,
}

/// The connection as stored, plus a live check of the token when connected.
pub async fn status(state: &AppState, account: &Account) -> AppResult<ConnectionStatus> {
    let row = store::get(&state.db, account.id).await?;
    let healthy = match &row {
        Some(r) if r.status == "connected" => {
            let (link, credential) = credential(state, account).await?;
            Some(link.known.client.profile(&credential).await.is_ok())
        }
        _ => None,
    };
    Ok(ConnectionStatus {
        status: row
            .as_ref()
            .map_or_else(|| "disconnected".into(), |r| r.status.clone()),
        installation_id: account.chatwoot_installation_id,
        chatwoot_account_id: account.chatwoot_account_id,
        token_source: row.as_ref().map(|r| r.token_source.clone()),
        webhook_id: row.as_ref().and_then(|r| r.webhook_id),
        webhook_url: webhook_url(state, account.id),
        webhook_signed: row.as_ref().is_some_and(|r| r.webhook_secret.is_some()),
        dashboard_app_id: row.as_ref().and_then(|r| r.dashboard_app_id),
        healthy,
        last_error: row.as_ref().and_then(|r| r.last_error.clone()),
        connected_at: row.as_ref().and_then(|r| r.connected_at),
        last_sync_at: row.as_ref().and_then(|r| r.last_sync_at),
        last_sync: row
            .as_ref()
            .and_then(|r| r.last_sync_report.clone().map(|j| j.0)),
        last_reconciled_at: row.as_ref().and_then(|r| r.last_reconciled_at),
        last_reconcile: row.and_then(|r| r.last_reconcile_report.map(|j| j.0)),
    })
}
