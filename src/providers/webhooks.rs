//! Provider webhooks. The hub gave each instance a secret when it made it, which the
//! provider sends back: in a header (`x-whatpro-webhook-token`) where the hub could set
//! one (Evolution, WAHA), else in the URL the hub registered
//! (`…/webhooks/providers/:instanceId/:secret`: UazAPI, Z-API, Cloud API, whose posts are
//! also signed with the app secret). A post without it, or for no live instance, is 401
//! and stored nowhere. An authentic event is stored, reduced to what moves the instance
//! (never a credential the provider put in it, such as Evolution's `apikey` or UazAPI's
//! `token`), before the answer, and answered 200 whatever it holds: providers drop an
//! event answered 4xx. The inbound worker then applies it: an event that may move the
//! session has it read back from the provider, and the instance's status follows.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    ProviderKind, adapters,
    adapters::{SECRET_HEADER, Signing, Status},
    instances::{
        self,
        live::{Live, Opened},
        store,
    },
};
use crate::{
    app::state::AppState,
    audit::Actor,
    inbound::{Claimed, FROM_PROVIDERS, Handler, store::NewDelivery},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::{ApiPath, ApiQuery},
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receive))
        .routes(routes!(receive_with_secret, verify_subscription))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// `accepted`, or `duplicate` when this event was already stored.
    pub status: &'static str,
}

fn refused() -> AppError {
    AppError::Unauthorized {
        code: "invalid_token",
        message: "This webhook's token does not match the instance's.",
    }
}

/// Receives one event of an instance's provider, the secret in a header.
#[utoipa::path(post, path = "/api/v1/webhooks/providers/{instanceId}", tag = "providers",
    security(()), params(("instanceId" = Uuid, Path)),
    request_body(content = Object, description = "The provider's event, in its own format"),
    responses((status = 200, body = Received),
        (status = 401, body = Problem, description = "invalid_token: nothing stored")))]
async fn receive(
    State(state): State<AppState>,
    ApiPath(instance_id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<ApiJson<Received>> {
    let secret = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    accept(&state, instance_id, secret, &headers, &body).await
}

/// Receives one event of an instance's provider, the secret in the URL.
#[utoipa::path(post, path = "/api/v1/webhooks/providers/{instanceId}/{secret}", tag = "providers",
    security(()), params(("instanceId" = Uuid, Path), ("secret" = String, Path)),
    request_body(content = Object, description = "The provider's event, in its own format"),
    responses((status = 200, body = Received),
        (status = 401, body = Problem, description = "invalid_token or invalid_signature: nothing stored")))]
async fn receive_with_secret(
    State(state): State<AppState>,
    ApiPath((instance_id, secret)): ApiPath<(Uuid, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<ApiJson<Received>> {
    accept(
        &state,
        instance_id,
        Some(secret.as_bytes()),
        &headers,
        &body,
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct Subscription {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// Meta's verification of a callback URL: the challenge is answered, alone, when the
/// verify token is the instance's secret.
#[utoipa::path(get, path = "/api/v1/webhooks/providers/{instanceId}/{secret}", tag = "providers",
    security(()), params(("instanceId" = Uuid, Path), ("secret" = String, Path), Subscription),
    responses((status = 200, body = String, content_type = "text/plain"),
        (status = 401, body = Problem)))]
async fn verify_subscription(
    State(state): State<AppState>,
    ApiPath((instance_id, secret)): ApiPath<(Uuid, String)>,
    ApiQuery(asked): ApiQuery<Subscription>,
) -> AppResult<(StatusCode, String)> {
    let Some(hook) = authentic(&state, instance_id, Some(secret.as_bytes())).await? else {
        return Err(refused());
    };
    let token = asked.verify_token.unwrap_or_default();
    let matches = bool::from(token.as_bytes().ct_eq(hook.secret.as_bytes()));
    let challenge = asked.challenge.filter(|c| {
        !c.is_empty() && c.len() <= 128 && c.chars().all(|ch| ch.is_ascii_alphanumeric())
    });
    match (asked.mode.as_deref(), matches, challenge) {
        (Some("subscribe"), true, Some(challenge)) => Ok((StatusCode::OK, challenge)),
        _ => Err(refused()),
    }
}

/// An instance whose secret the caller showed.
struct Authentic {
    account_id: Uuid,
    provider_id: Uuid,
    kind: ProviderKind,
    secret: String,
}

async fn authentic(
    state: &AppState,
    instance_id: Uuid,
    given: Option<&[u8]>,
) -> AppResult<Option<Authentic>> {
    let Some(key) = store::webhook_key(&state.db, instance_id).await? else {
        return Ok(None);
    };
    let secret = instances::open_secret(&state.vault, instance_id, &key.webhook_secret)?;
    if !bool::from(given.unwrap_or_default().ct_eq(secret.as_bytes())) {
        return Ok(None);
    }
    let Some(kind) = ProviderKind::parse(&key.kind) else {
        return Ok(None);
    };
    Ok(Some(Authentic {
        account_id: key.account_id,
        provider_id: key.provider_id,
        kind,
        secret,
    }))
}

async fn accept(
    state: &AppState,
    instance_id: Uuid,
    given: Option<&[u8]>,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<ApiJson<Received>> {
    let Some(hook) = authentic(state, instance_id, given).await? else {
        return Err(refused());
    };
    let adapter = adapters::of(hook.kind);
    let signed = match adapter.webhook_signing() {
        Signing::None => true,
        Signing::InstanceSecret => adapter.signed(&hook.secret, headers, body),
        Signing::ServerCredential(name) => {
            let opened = Opened::of(state, hook.account_id, hook.provider_id).await?;
            adapter.signed(opened.server().credentials.get(name), headers, body)
        }
    };
    if !signed {
        return Err(AppError::Unauthorized {
            code: "invalid_signature",
            message: "This webhook's signature does not match the provider's.",
        });
    }
    let event: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let heard = adapter.hear(&event);
    let new = kept(instance_id, hook.account_id, &heard, body);
    let fresh = state.delivery_writer.store(new).await?;
    if fresh {
        state.deliveries.notify_one();
    }
    Ok(ApiJson(Received {
        status: if fresh { "accepted" } else { "duplicate" },
    }))
}

/// What is kept of an event: the instance and what moves it, never the provider's body
/// (which may hold a credential). A message is recognised again by its id; any other event
/// by its bytes.
fn kept(instance_id: Uuid, account_id: Uuid, heard: &adapters::Heard, body: &[u8]) -> NewDelivery {
    let key = match &heard.message_id {
        Some(id) => format!("message:{instance_id}:{id}"),
        None => format!("{instance_id}:{}", crate::inbound::key_of_bytes(body)),
    };
    let event: String = heard.event.chars().take(100).collect();
    let stored = json!({
        "instance_id": instance_id,
        "moves_session": heard.moves_session,
        "shows_qr": heard.shows_qr,
        "message_id": heard.message_id,
    });
    NewDelivery {
        account_id: Some(account_id),
        source: FROM_PROVIDERS,
        event,
        dedupe_key: key,
        body: stored.to_string(),
        received_at: clock::now(),
    }
}

/// Applies stored provider events.
pub struct FromProviders;

impl Handler for FromProviders {
    fn handle<'a>(
        &'a self,
        state: &'a AppState,
        delivery: &'a Claimed,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let account_id = delivery.account()?;
            let event: Value = serde_json::from_str(&delivery.body)
                .map_err(|e| AppError::Internal(anyhow::anyhow!("stored body is not JSON: {e}")))?;
            let Some(instance_id) = event["instance_id"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
            else {
                return Ok(());
            };
            // The event is a signal, the provider the truth: events come late and out of
            // order (a stale "open" after a check saw the session closed), so the session
            // is read back, and a QR counts only while the session still connects. Any
            // other event (most are messages) needs no call and no credential: it only
            // shows a number believed stale alive.
            let seen = if event["moves_session"] == true {
                let live = match Live::of(state, account_id, instance_id).await {
                    Ok(live) => live,
                    // Deleted meanwhile: nothing to move.
                    Err(AppError::NotFound) => return Ok(()),
                    Err(err) => return Err(err),
                };
                let mut now = live.read_back().await?;
                if event["shows_qr"] == true && now.status == Status::Connecting {
                    now.status = Status::QrPending;
                }
                Some(now)
            } else {
                let Some(instance) = store::get(&state.db, account_id, instance_id).await? else {
                    return Ok(());
                };
                (instance.status == Status::Stale.as_str()).then(|| {
                    let raw = instance.provider_status.as_deref().unwrap_or_default();
                    adapters::Connection::bare(Status::Connected, raw)
                })
            };
            let now = clock::now();
            let mut tx = state.db.begin().await?;
            store::heard(&mut tx, account_id, instance_id, now).await?;
            let changed = match &seen {
                Some(connection) => {
                    let seen = store::Seen {
                        status: connection.status.as_str(),
                        raw: &connection.raw,
                        phone: connection.phone.as_deref(),
                        seen_at: connection.seen_at,
                        reason: &delivery.event,
                        source: "webhook",
                    };
                    let actor = Actor::system();
                    instances::observe(&mut tx, actor, account_id, instance_id, &seen, now).await?
                }
                None => false,
            };
            tx.commit().await?;
            if let (true, Some(connection)) = (changed, &seen) {
                instances::announce(state, account_id, instance_id, connection.status);
            }
            Ok(())
        })
    }
}
