use axum::{body::Bytes, extract::State, http::HeaderMap};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::receivers::Receiver;
use crate::{
    app::state::AppState,
    chatwoot::{
        client::WebhookEvent,
        connection::WEBHOOK_SECRET,
        installations,
        signature::{self, SignatureError, Signed},
    },
    inbound::{FROM_CHATWOOT, store},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
        text,
    },
};

/// Chatwoot itself enforces no window; five minutes is what its signing PR advises.
const WINDOW_SECS: i64 = 300;

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(receive))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Receipt {
    /// `accepted`, or `duplicate` when the delivery was already stored.
    pub status: &'static str,
}

/// The fields a delivery is recognised by when Chatwoot sends no delivery id.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    event: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    id: Option<&'a serde_json::value::RawValue>,
    #[serde(default, borrow)]
    updated_at: Option<&'a serde_json::value::RawValue>,
}

/// Deepest nesting taken: what serde_json reads when the worker decodes the body.
const MAX_NESTING: usize = 128;

impl<'a> Envelope<'a> {
    /// Checks the body as the worker will read it (so nothing is acknowledged that cannot be
    /// processed), and takes only Chatwoot's own events.
    fn parse(text: &'a str) -> AppResult<(Envelope<'a>, &'static str)> {
        let invalid = || {
            AppError::validation(
                "body",
                "must be a Chatwoot webhook (JSON, nested at most 128 deep)",
            )
        };
        if !text::json_nesting_within(text.as_bytes(), MAX_NESTING) {
            return Err(invalid());
        }
        let envelope: Envelope = serde_json::from_str(text).map_err(|_| invalid())?;
        let event = WebhookEvent::parse(&envelope.event).map(WebhookEvent::as_str);
        let event = event.ok_or_else(|| {
            AppError::validation(
                "event",
                "must be one of the events Chatwoot sends to account webhooks",
            )
        })?;
        Ok((envelope, event))
    }

    /// What identifies a second delivery of this one: what Chatwoot signed, when it signs
    /// (its `X-Chatwoot-Delivery` is not signed: a replay may carry any); else that header;
    /// else the event, its id and its update time.
    fn dedupe_key(&self, event: &str, signed: Option<Signed>, headers: &HeaderMap) -> String {
        if let Some(signed) = signed {
            return format!("sig:{}", signed.hex());
        }
        match header(headers, "x-chatwoot-delivery") {
            Some(id) if id.len() <= 100 => id.to_string(),
            _ => {
                let raw =
                    |v: Option<&'a serde_json::value::RawValue>| v.map_or("null", |v| v.get());
                let identity = format!("{event}|{}|{}", raw(self.id), raw(self.updated_at));
                let digest = Sha256::digest(identity.as_bytes());
                digest.iter().map(|b| format!("{b:02x}")).collect()
            }
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn refused() -> AppError {
    AppError::Unauthorized {
        code: "invalid_signature",
        message: "The delivery's signature is missing, wrong or outside the 5-minute window.",
    }
}

/// Whether the delivery is signed as `receiver` requires: with its webhook's secret, within
/// the window (answering what was signed), or unsigned only from an installation marked as
/// unable to sign.
fn check(
    state: &AppState,
    receiver: &Receiver,
    headers: &HeaderMap,
    body: &[u8],
) -> AppResult<Result<Option<Signed>, SignatureError>> {
    let signs = receiver
        .installation_id
        .and_then(|id| state.installations.by_id(id))
        .is_none_or(|known| known.installation.signs_webhooks);
    Ok(match (&receiver.webhook_secret, signs) {
        (Some(sealed), _) => {
            let secret = installations::open(&state.vault, WEBHOOK_SECRET, sealed)?;
            signature::verify(
                secret.expose_secret().as_bytes(),
                header(headers, "x-chatwoot-timestamp").unwrap_or_default(),
                header(headers, "x-chatwoot-signature").unwrap_or_default(),
                body,
                clock::now().unix_timestamp(),
                WINDOW_SECS,
            )
            .map(Some)
        }
        // Chatwoot before 4.11.2 cannot sign; only an installation marked so is trusted.
        (None, false) => Ok(None),
        (None, true) => Err(SignatureError::Missing),
    })
}

/// Receives a Chatwoot webhook delivery for one account.
#[utoipa::path(post, path = "/api/v1/webhooks/chatwoot/{accountId}", tag = "webhooks", security(()),
    params(("accountId" = Uuid, Path)),
    request_body(content = Object, content_type = "application/json",
        description = "A Chatwoot webhook body, exactly as Chatwoot sent it"),
    responses((status = 200, body = Receipt), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn receive(
    State(state): State<AppState>,
    ApiPath(account_id): ApiPath<Uuid>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<ApiJson<Receipt>> {
    // An account that is unknown, not connected or disconnected looks the same: 404.
    let verdict = state
        .receivers
        .admit(&state.db, account_id, |receiver| {
            check(&state, receiver, &headers, &body)
        })
        .await?;
    let signed = verdict.map_err(|reason| {
        tracing::info!(account = %account_id, %reason, "webhook delivery refused");
        refused()
    })?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::validation("body", "must be UTF-8 JSON"))?;
    let (envelope, event) = Envelope::parse(text)?;
    let new = store::NewDelivery {
        account_id: Some(account_id),
        source: FROM_CHATWOOT,
        event: event.to_string(),
        dedupe_key: envelope.dedupe_key(event, signed, &headers),
        body: text.to_string(),
        received_at: clock::now(),
    };
    let fresh = state.delivery_writer.store(new).await?;
    if fresh {
        state.deliveries.notify_one();
    }
    Ok(ApiJson(Receipt {
        status: if fresh { "accepted" } else { "duplicate" },
    }))
}
