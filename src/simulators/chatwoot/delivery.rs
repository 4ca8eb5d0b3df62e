//! Webhook emission like Chatwoot ≥ 4.11.2 (`WebhookListener` + `Webhooks::Trigger`):
//! the flat payload with `event` merged in, POSTed to every account webhook subscribed to
//! the event, signed with that webhook's secret, once, fire-and-forget.

use std::sync::{Arc, atomic::Ordering};

use serde_json::{Map, Value, json};

use super::wire::{self, WebhookEvent};
use super::{
    model::{Db, now},
    payloads,
    state::{Delivery, Shared, lock},
};

/// `{attr: {previous_value, current_value}}`, one item of `changed_attributes`.
pub(super) fn change(attr: &str, previous: impl Into<Value>, current: impl Into<Value>) -> Value {
    json!({ attr: { "previous_value": previous.into(), "current_value": current.into() } })
}

/// Emits a conversation event for the conversation as it is now. `changes` becomes
/// `changed_attributes` on the update events (`null` when empty, as Chatwoot sends for
/// status changes).
pub(super) fn conversation_event(
    shared: &Arc<Shared>,
    db: &Db,
    account_id: i64,
    display_id: i64,
    event: WebhookEvent,
    changes: Vec<Value>,
) {
    let Some(conv) = db.conversation(account_id, display_id) else {
        return;
    };
    let mut payload = payloads::conversation_webhook(db, conv);
    if event != WebhookEvent::ConversationCreated {
        let changed = if changes.is_empty() {
            Value::Null
        } else {
            Value::Array(changes)
        };
        payload.insert("changed_attributes".into(), changed);
    }
    emit(shared, db, account_id, event, payload);
}

/// Posts `payload` + `event` to each subscribed webhook of the account.
pub(super) fn emit(
    shared: &Arc<Shared>,
    db: &Db,
    account_id: i64,
    event: WebhookEvent,
    mut payload: Map<String, Value>,
) {
    payload.insert("event".into(), json!(event.as_str()));
    // Serialised once: the bytes signed are exactly the bytes posted.
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let targets = db.webhooks.values().filter(|w| {
        w.account_id == account_id && w.subscriptions.iter().any(|s| s == event.as_str())
    });
    for hook in targets {
        let task = deliver(
            shared.clone(),
            event,
            hook.url.clone(),
            hook.secret.clone(),
            body.clone(),
        );
        shared.runtime.spawn(task);
    }
}

async fn deliver(
    shared: Arc<Shared>,
    event: WebhookEvent,
    url: String,
    secret: String,
    body: Vec<u8>,
) {
    let delivery_id = uuid::Uuid::new_v4().to_string();
    let signed = !shared.unsigned.load(Ordering::Relaxed) && !secret.is_empty();
    let mut request = shared
        .http
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .header("X-Chatwoot-Delivery", &delivery_id);
    if signed {
        let timestamp = now().unix_timestamp();
        request = request
            .header("X-Chatwoot-Timestamp", timestamp.to_string())
            .header(
                "X-Chatwoot-Signature",
                wire::signature(secret.as_bytes(), timestamp, &body),
            );
    }
    // Chatwoot logs and swallows failures of account webhooks; so do we, recording them.
    let (status, error) = match request.body(body).send().await {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(err) => (None, Some(err.without_url().to_string())),
    };
    tracing::debug!(event = event.as_str(), status, "simulator webhook delivery");
    lock(&shared.deliveries).push(Delivery {
        event: event.as_str().to_string(),
        url,
        delivery_id,
        signed,
        status,
        error,
    });
}
