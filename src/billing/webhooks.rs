//! Asaas's webhooks: `POST /api/v1/webhooks/asaas`. Asaas signs nothing; it sends back the
//! `authToken` configured on the webhook in `asaas-access-token`, compared in constant
//! time. A delivery is stored (keyed by its event id, so a redelivery is recognised) before
//! it is answered, with exactly 200 (Asaas counts nothing else as delivered and pauses the
//! queue after 15 failures); the inbound worker then processes it, reading the payment or
//! subscription back from Asaas before anything changes.

use axum::{body::Bytes, extract::State, http::HeaderMap};
use futures_util::future::BoxFuture;
use secrecy::ExposeSecret;
use serde::Serialize;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use serde_json::json;

use super::{
    asaas::wire::{Event, EventObject},
    subscriptions,
};
use crate::{
    app::state::AppState,
    inbound::{Claimed, FROM_ASAAS, Handler, store},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    /// `accepted`, or `duplicate` when this event was already stored.
    pub status: &'static str,
}

/// Receives one Asaas event.
#[utoipa::path(post, path = "/api/v1/webhooks/asaas", tag = "billing", security(()),
    request_body(content = Object, description = "An Asaas webhook event"),
    responses((status = 200, body = Received),
        (status = 401, body = Problem, description = "invalid_token: nothing stored"),
        (status = 503, body = Problem)))]
async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<ApiJson<Received>> {
    state.billing.asaas()?;
    let expected = state
        .config
        .billing
        .asaas
        .as_ref()
        .map(|a| a.webhook_token.expose_secret().as_bytes())
        .unwrap_or_default();
    let given = headers
        .get("asaas-access-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if expected.is_empty() || !bool::from(given.ct_eq(expected)) {
        return Err(AppError::Unauthorized {
            code: "invalid_token",
            message: "The asaas-access-token header does not match the webhook's token.",
        });
    }
    let new = kept(&body);
    let fresh = state.delivery_writer.store(new).await?;
    if fresh {
        state.deliveries.notify_one();
    }
    Ok(ApiJson(Received {
        status: if fresh { "accepted" } else { "duplicate" },
    }))
}

/// What is kept of an authentic post: the event's id (its de-duplication key), its name
/// and the ids it names, nothing else: the worker reads the rest back from Asaas, and a
/// card payment's body carries a card token that has no business being stored. Whatever
/// the body, it is kept and answered 200 (anything else counts as a failure at Asaas,
/// which pauses the queue after 15): one the worker cannot read is marked ignored.
fn kept(body: &[u8]) -> store::NewDelivery {
    let event: Option<Event> = serde_json::from_slice(body).ok();
    let short = |s: &str, max: usize| s.chars().take(max).collect::<String>();
    let (name, key) = match &event {
        Some(e) if !e.id.is_empty() => (short(&e.event, 100), short(&e.id, 200)),
        // No id to recognise a second delivery by: its bytes are.
        _ => ("UNREADABLE".to_string(), crate::inbound::key_of_bytes(body)),
    };
    let named = |o: &Option<EventObject>| o.as_ref().map(|o| json!({ "id": short(&o.id, 200) }));
    let body = json!({
        "id": key,
        "event": name,
        "payment": event.as_ref().and_then(|e| named(&e.payment)),
        "subscription": event.as_ref().and_then(|e| named(&e.subscription)),
    });
    store::NewDelivery {
        account_id: None,
        source: FROM_ASAAS,
        event: name,
        dedupe_key: key,
        body: body.to_string(),
        received_at: clock::now(),
    }
}

/// Processes stored Asaas events.
pub struct FromAsaas;

impl Handler for FromAsaas {
    fn handle<'a>(
        &'a self,
        state: &'a AppState,
        delivery: &'a Claimed,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let applied = match serde_json::from_str::<Event>(&delivery.body) {
                Err(_) => subscriptions::Applied::Ignored("not an Asaas event"),
                Ok(event) => apply(state, &event).await?,
            };
            if let subscriptions::Applied::Ignored(why) = applied {
                store::mark_ignored(&state.db, delivery.id, why).await?;
            }
            Ok(())
        })
    }
}

/// Whether `id` looks like an Asaas id (`pay_…`, `sub_…`): it goes into an Asaas URL.
fn well_formed(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

async fn apply(state: &AppState, event: &Event) -> AppResult<subscriptions::Applied> {
    let named = [&event.payment, &event.subscription];
    if named
        .iter()
        .any(|o| o.as_ref().is_some_and(|o| !well_formed(&o.id)))
    {
        return Ok(subscriptions::Applied::Ignored("an id Asaas does not make"));
    }
    if event.event.starts_with("PAYMENT_") {
        return match &event.payment {
            Some(payment) => subscriptions::apply_payment(state, &payment.id).await,
            None => Ok(subscriptions::Applied::Ignored(
                "a payment event without a payment",
            )),
        };
    }
    if event.event.starts_with("SUBSCRIPTION_") {
        return match &event.subscription {
            Some(sub) => subscriptions::apply_subscription(state, &sub.id).await,
            None => Ok(subscriptions::Applied::Ignored(
                "a subscription event without a subscription",
            )),
        };
    }
    Ok(subscriptions::Applied::Ignored(
        "an event billing does not act on",
    ))
}
