//! Webhook URLs, one per callback type, set with `PUT update-webhook-<kind>` `{value: url}`
//! → `{value: true}`; and the posting of callbacks to them, unsigned (Z-API documents no
//! signature).
//!
//! Z-API accepts only HTTPS URLs; with `require_https` on, an http URL is refused with 400
//! `{"error": "Webhook URL must use HTTPS"}` (the wording is the simulator's). An empty
//! `value` clears the URL.

use std::sync::{Arc, atomic::Ordering};

use axum::{
    Json, Router,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::put,
};
use serde_json::{Value, json};

use super::{
    INSTANCE, Shared, Webhooks, error,
    gate::{Named, with_instance},
};

/// The `update-webhook-*` routes, one per kind.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Received,
    /// Received, and the instance's own sent texts echoed there too.
    ReceivedDelivery,
    Delivery,
    Connected,
    Disconnected,
    MessageStatus,
    ChatPresence,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Received,
        Kind::ReceivedDelivery,
        Kind::Delivery,
        Kind::Connected,
        Kind::Disconnected,
        Kind::MessageStatus,
        Kind::ChatPresence,
    ];

    fn path(self) -> &'static str {
        match self {
            Kind::Received => "received",
            Kind::ReceivedDelivery => "received-delivery",
            Kind::Delivery => "delivery",
            Kind::Connected => "connected",
            Kind::Disconnected => "disconnected",
            Kind::MessageStatus => "message-status",
            Kind::ChatPresence => "chat-presence",
        }
    }

    fn store(self, hooks: &mut Webhooks, url: Option<String>) {
        match self {
            Kind::Received => hooks.received = url,
            Kind::ReceivedDelivery => {
                hooks.received_sent_by_me = url.is_some();
                hooks.received = url;
            }
            Kind::Delivery => hooks.delivery = url,
            Kind::Connected => hooks.connected = url,
            Kind::Disconnected => hooks.disconnected = url,
            Kind::MessageStatus => hooks.message_status = url,
            Kind::ChatPresence => hooks.chat_presence = url,
        }
    }
}

/// `router` with the seven `PUT update-webhook-*` routes added.
pub(super) fn routes(mut router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    for kind in Kind::ALL {
        let path = format!("{INSTANCE}/update-webhook-{}", kind.path());
        let handler = move |shared: State<Arc<Shared>>,
                            named: Path<Named>,
                            body: Result<Json<Value>, JsonRejection>| {
            update(kind, shared, named, body)
        };
        router = router.route(&path, put(handler));
    }
    router
}

async fn update(
    kind: Kind,
    State(shared): State<Arc<Shared>>,
    Path(named): Path<Named>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let Some(url) = body
        .ok()
        .and_then(|Json(b)| b["value"].as_str().map(str::to_string))
    else {
        return error(StatusCode::BAD_REQUEST, "value is required");
    };
    let https_only = shared.require_https.load(Ordering::Relaxed);
    if https_only && !url.is_empty() && !url.starts_with("https://") {
        return error(StatusCode::BAD_REQUEST, "Webhook URL must use HTTPS");
    }
    with_instance(&shared, &named, |instance| {
        kind.store(&mut instance.webhooks, (!url.is_empty()).then_some(url));
        Json(json!({"value": true})).into_response()
    })
}

/// Posts `callback` to `url` when there is one, logged under its `type`.
pub(super) fn post(shared: &Shared, url: Option<String>, callback: Value) {
    let Some(url) = url else {
        return;
    };
    let kind = callback["type"].as_str().unwrap_or_default();
    let body = serde_json::to_vec(&callback).expect("JSON values serialise");
    shared.webhooks.post(kind, &url, body, Vec::new());
}
