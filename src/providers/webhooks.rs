//! Provider webhooks: `POST /api/v1/webhooks/providers/:instanceId`. The hub gave each
//! instance a secret when it made it, which the provider sends back in a header
//! (`x-whatpro-webhook-token`); a post without it, or for no live instance, is 401 and
//! stored nowhere. An authentic event is stored (what the provider put in it as a
//! credential, such as Evolution's `apikey`, removed first) before the answer, and answered
//! 200 whatever it holds: Evolution drops an event answered 4xx. The inbound worker then
//! applies it: a connection or QR event has the session read back from the provider at
//! once, and the instance's status follows.

use axum::{body::Bytes, extract::State, http::HeaderMap};
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    adapters::{SECRET_HEADER, Status},
    instances::{self, live::Live, store},
};
use crate::{
    app::state::AppState,
    inbound::{Claimed, FROM_EVOLUTION, Handler, store::NewDelivery},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
    },
    realtime::AccountNews,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
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

/// Receives one event of an instance's provider.
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
    let Some((account_id, sealed)) = store::webhook_key(&state.db, instance_id).await? else {
        return Err(refused());
    };
    let secret = instances::open_secret(&state.vault, instance_id, &sealed)?;
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(given.ct_eq(secret.as_bytes())) {
        return Err(refused());
    }
    let new = kept(instance_id, account_id, &body);
    let fresh = state.delivery_writer.store(new).await?;
    if fresh {
        state.deliveries.notify_one();
    }
    Ok(ApiJson(Received {
        status: if fresh { "accepted" } else { "duplicate" },
    }))
}

/// What is kept of an Evolution event: its name, the instance, and what moves the
/// instance (the state, the QR's presence), never its `apikey`. A message is recognised
/// again by its id; any other event by its bytes.
fn kept(instance_id: Uuid, account_id: Uuid, body: &[u8]) -> NewDelivery {
    let event: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let name = event["event"]
        .as_str()
        .unwrap_or("unreadable")
        .chars()
        .take(100)
        .collect::<String>();
    let message_id = event["data"]["key"]["id"].as_str();
    let key = match message_id {
        Some(id) => format!("message:{id}"),
        None => crate::inbound::key_of_bytes(body),
    };
    let stored = json!({
        "instance_id": instance_id,
        "event": name,
        "state": event["data"]["state"],
        "status_reason": event["data"]["statusReason"],
        "wuid": event["data"]["wuid"],
        "message_id": message_id,
    });
    NewDelivery {
        account_id: Some(account_id),
        source: FROM_EVOLUTION,
        event: name,
        dedupe_key: key,
        body: stored.to_string(),
        received_at: clock::now(),
    }
}

/// Applies stored Evolution events.
pub struct FromEvolution;

impl Handler for FromEvolution {
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
            // is read back, and a QR counts only while the provider still shows one.
            let moves = matches!(
                delivery.event.as_str(),
                "connection.update" | "qrcode.updated" | "logout.instance" | "remove.instance"
            );
            let seen = match moves {
                false => None,
                true => match Live::of(state, account_id, instance_id).await {
                    Ok(live) => {
                        let now = live.read_back(state).await?;
                        let qr = delivery.event == "qrcode.updated" && now.raw == "connecting";
                        let status = if qr { Status::QrPending } else { now.status };
                        Some((status.as_str(), now.raw))
                    }
                    // Deleted meanwhile: nothing to move.
                    Err(AppError::NotFound) => return Ok(()),
                    Err(err) => return Err(err),
                },
            };
            let now = clock::now();
            let mut tx = state.db.begin().await?;
            store::heard(&mut tx, account_id, instance_id, now).await?;
            // The number itself, as the phone that opened the session says (`wuid`).
            if let Some(phone) = event["wuid"].as_str().and_then(|w| w.split('@').next()) {
                store::set_phone(&mut tx, account_id, instance_id, phone).await?;
            }
            let changed = match &seen {
                Some((status, raw)) => {
                    let seen = store::Seen {
                        status,
                        raw,
                        reason: &delivery.event,
                        source: "webhook",
                    };
                    store::record(&mut tx, account_id, instance_id, &seen, now).await?
                }
                None => false,
            };
            tx.commit().await?;
            if let (true, Some((status, _))) = (changed, &seen) {
                state.realtime.tell(AccountNews {
                    account_id,
                    kind: "instance.status_changed".into(),
                    data: json!({"instance_id": instance_id, "status": status}),
                });
            }
            Ok(())
        })
    }
}
