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

use super::{asaas::wire::Event, subscriptions};
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
    responses((status = 200, body = Received), (status = 400, body = Problem),
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
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::validation("body", "must be UTF-8 JSON"))?;
    let event: Event = serde_json::from_str(text)
        .map_err(|_| AppError::validation("body", "must be an Asaas event with id and event"))?;
    if event.id.is_empty() || event.id.len() > 200 || event.event.len() > 100 {
        return Err(AppError::validation(
            "body",
            "id and event must be short strings",
        ));
    }
    let new = store::NewDelivery {
        account_id: None,
        source: FROM_ASAAS,
        event: event.event,
        dedupe_key: event.id,
        body: text.to_string(),
        received_at: clock::now(),
    };
    let fresh = state.delivery_writer.store(new).await?;
    if fresh {
        state.deliveries.notify_one();
    }
    Ok(ApiJson(Received {
        status: if fresh { "accepted" } else { "duplicate" },
    }))
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

async fn apply(state: &AppState, event: &Event) -> AppResult<subscriptions::Applied> {
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
