//! `POST /api/v1/platform-app/events`: install, update and uninstall, sent by whoever
//! manages the installation (a marketplace, a provisioning script), signed like
//! Chatwoot's webhooks but with the installation's app secret:
//! `X-Whatpro-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Whatpro-Timestamp>.<raw body>")>`,
//! a 5-minute window, and each signature accepted once.

use axum::{body::Bytes, extract::State, http::HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    auth::{
        opaque,
        sso::{self, Linked},
    },
    chatwoot::{
        connection::{self, ConnectReport, DisconnectReport, TokenSource},
        installations::{self, Known},
        signature::{self, Signed},
    },
    on_tx,
    platform::{
        client::ClientMeta,
        clock,
        db::{Tx, is_unique_violation},
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        validate::Validator,
    },
    tenancy::accounts,
};

pub const WINDOW_SECS: i64 = 300;

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(event))
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Install,
    Update,
    Uninstall,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlatformEvent {
    pub event: EventKind,
    pub chatwoot_account_id: i64,
    /// The account's name in Chatwoot (install and update).
    pub account_name: Option<String>,
    /// An administrator's access token; without it the installation's platform token is used.
    pub chatwoot_api_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventOutcome {
    pub event: EventKind,
    /// The hub account, when there is one.
    pub account_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected: Option<ConnectReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disconnected: Option<DisconnectReport>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn rejected() -> AppError {
    AppError::Unauthorized {
        code: "invalid_signature",
        message: "The event's signature is missing, wrong or outside the 5-minute window.",
    }
}

/// Receives a signed install, update or uninstall event.
#[utoipa::path(post, path = "/api/v1/platform-app/events", tag = "chatwoot", security(()),
    request_body = PlatformEvent,
    params(
        ("X-Whatpro-Installation" = Option<Uuid>, Header, description = "the installation (default: the environment's)"),
        ("X-Whatpro-Timestamp" = i64, Header, description = "Unix seconds"),
        ("X-Whatpro-Signature" = String, Header, description = "sha256=<hex HMAC>")),
    responses((status = 200, body = EventOutcome), (status = 401, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn event(
    State(state): State<AppState>,
    client: ClientMeta,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<ApiJson<EventOutcome>> {
    let installation = match header(&headers, "x-whatpro-installation") {
        "" => state.installations.default_installation(),
        raw => Uuid::parse_str(raw)
            .ok()
            .and_then(|id| state.installations.by_id(id)),
    }
    .ok_or_else(rejected)?;
    let secret = installations::app_secret(&state.db, &state.vault, installation.installation.id)
        .await?
        .ok_or_else(rejected)?;
    let signed = signature::verify(
        secret.expose_secret().as_bytes(),
        header(&headers, "x-whatpro-timestamp"),
        header(&headers, "x-whatpro-signature"),
        &body,
        clock::now().unix_timestamp(),
        WINDOW_SECS,
    )
    .map_err(|err| {
        tracing::info!(reason = %err, "platform-app event refused");
        rejected()
    })?;
    let event: PlatformEvent = serde_json::from_slice(&body)
        .map_err(|e| AppError::validation("body", format!("not a platform-app event: {e}")))?;
    let mut v = Validator::default();
    v.check(
        event.chatwoot_account_id > 0,
        "chatwoot_account_id",
        "must be positive",
    );
    if let Some(name) = &event.account_name {
        v.text("account_name", name, 120);
    }
    v.finish()?;
    remember(&state, &installation, signed, event.event).await?;

    let linked = Linked {
        installation_id: installation.installation.id,
        chatwoot_account_id: event.chatwoot_account_id,
        name: event.account_name.as_deref().unwrap_or("Chatwoot account"),
    };
    let outcome = match event.event {
        EventKind::Install | EventKind::Update => {
            let mut tx = state.db.begin().await?;
            let account = sso::upsert_account(&mut tx, &linked, &client).await?;
            tx.commit().await?;
            let source = match event.chatwoot_api_token {
                Some(token) => TokenSource::AccessToken(SecretString::from(token)),
                None => TokenSource::Platform,
            };
            let report = connection::connect(&state, &account, source).await?;
            audit_event(&state, &client, account.id, event.event, &report).await?;
            EventOutcome {
                event: event.event,
                account_id: Some(account.id),
                connected: Some(report),
                disconnected: None,
            }
        }
        EventKind::Uninstall => {
            let account = accounts::store::by_chatwoot_id(
                &state.db,
                linked.installation_id,
                linked.chatwoot_account_id,
            )
            .await?;
            let disconnected = match &account {
                Some(account) => {
                    let report = connection::disconnect(&state, account).await?;
                    audit_event(&state, &client, account.id, event.event, &report).await?;
                    Some(report)
                }
                None => None,
            };
            EventOutcome {
                event: event.event,
                account_id: account.map(|a| a.id),
                connected: None,
                disconnected,
            }
        }
    };
    Ok(ApiJson(outcome))
}

/// Records what was signed; a second delivery of it is a replay, however its signature
/// header is spelt.
async fn remember(
    state: &AppState,
    installation: &Known,
    signed: Signed,
    event: EventKind,
) -> AppResult<()> {
    let mut tx: Tx = state.db.begin().await?;
    let sql =
        "INSERT INTO platform_app_events (installation_id, signature_hash, event, received_at)
               VALUES ($1, $2, $3, $4)";
    let kind = match event {
        EventKind::Install => "install",
        EventKind::Update => "update",
        EventKind::Uninstall => "uninstall",
    };
    let inserted: Result<u64, sqlx::Error> = on_tx!(&mut tx, conn => sqlx::query(sql)
        .bind(installation.installation.id).bind(opaque::hash(&signed.hex())).bind(kind)
        .bind(clock::now()).execute(conn).await.map(|r| r.rows_affected()));
    match inserted {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            return Err(AppError::Conflict {
                code: "event_replayed",
                message: "This signed event was already received.".into(),
            });
        }
        Err(err) => return Err(err.into()),
    }
    // Older signatures cannot pass the window check, so their records can go.
    let purge = "DELETE FROM platform_app_events WHERE received_at < $1";
    let horizon = clock::now() - time::Duration::seconds(2 * WINDOW_SECS);
    on_tx!(&mut tx, conn => sqlx::query(purge).bind(horizon).execute(conn).await?.rows_affected());
    tx.commit().await?;
    Ok(())
}

async fn audit_event(
    state: &AppState,
    client: &ClientMeta,
    account_id: Uuid,
    event: EventKind,
    report: &impl Serialize,
) -> AppResult<()> {
    let action = match event {
        EventKind::Install => "platform_app.installed",
        EventKind::Update => "platform_app.updated",
        EventKind::Uninstall => "platform_app.uninstalled",
    };
    audit::record_alone(
        &state.db,
        AuditEntry::by(
            Actor::anonymous(client),
            Some(account_id),
            action,
            "account",
            account_id,
        )
        .changes(None::<&()>, Some(report)),
    )
    .await?;
    Ok(())
}
