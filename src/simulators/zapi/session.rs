//! The session routes: status, the QR (as text or image) and the phone code while
//! disconnected, restart, disconnect, and `me` (the instance's data and webhook URLs).
//!
//! Not verified against Z-API, chosen here: a connected instance asked for a QR or a phone
//! code answers 200 `{"connected": true}` (the docs say only that it "will not allow you to
//! connect again"); `GET qr-code` gives the QR's text as `{"value": "2@…"}`; the phone code
//! is `{"code": "ABCD1234"}`; `disconnect` posts no `DisconnectedCallback` (the caller
//! knows), while `restart` of a connected instance posts a `ConnectedCallback` again, as
//! the docs say a restart does.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{
    Shared, ZapiInstance, callbacks,
    gate::{Named, with_instance},
    webhooks,
};

/// `{connected, error, smartphoneConnected}` with Z-API's own `error` sentences.
pub(super) async fn status(
    State(shared): State<Arc<Shared>>,
    Path(named): Path<Named>,
) -> Response {
    with_instance(&shared, &named, |instance| {
        let error = if instance.connected {
            "You are already connected."
        } else {
            "You are not connected."
        };
        Json(json!({
            "connected": instance.connected,
            "error": error,
            "smartphoneConnected": instance.connected,
        }))
        .into_response()
    })
}

/// The QR's text, for a QR component to draw.
pub(super) async fn qr_code(
    State(shared): State<Arc<Shared>>,
    Path(named): Path<Named>,
) -> Response {
    with_instance(&shared, &named, |instance| {
        unless_connected(instance, |i| json!({"value": i.qr_code()}))
    })
}

/// The QR as a PNG data URL.
pub(super) async fn qr_image(
    State(shared): State<Arc<Shared>>,
    Path(named): Path<Named>,
) -> Response {
    use base64::{Engine, engine::general_purpose::STANDARD};
    with_instance(&shared, &named, |instance| {
        unless_connected(instance, |i| {
            let png = crate::simulators::qr_image::qr_png(&i.qr_code());
            json!({"value": format!("data:image/png;base64,{}", STANDARD.encode(png))})
        })
    })
}

/// Eight characters to type in WhatsApp ("Link with phone number"), like `ABCD1234`; the
/// phone in the path is not checked, and `scan` stands for typing the code.
pub(super) async fn phone_code(
    State(shared): State<Arc<Shared>>,
    Path(named): Path<Named>,
) -> Response {
    use rand::distr::{Alphanumeric, SampleString};
    with_instance(&shared, &named, |instance| {
        unless_connected(instance, |_| {
            let code = Alphanumeric.sample_string(&mut rand::rng(), 8);
            json!({"code": code.to_uppercase()})
        })
    })
}

fn unless_connected(
    instance: &ZapiInstance,
    answer: impl FnOnce(&ZapiInstance) -> Value,
) -> Response {
    if instance.connected {
        Json(json!({"connected": true})).into_response()
    } else {
        Json(answer(instance)).into_response()
    }
}

/// Restarts the instance without a new scan.
pub(super) async fn restart(
    State(shared): State<Arc<Shared>>,
    Path(named): Path<Named>,
) -> Response {
    with_instance(&shared, &named, |instance| {
        if instance.connected {
            let url = instance.webhooks.connected.clone();
            webhooks::post(&shared, url, callbacks::connected(instance));
        }
        Json(json!({"value": true})).into_response()
    })
}

/// Detaches the phone; a new QR is needed to connect again.
pub(super) async fn disconnect(
    State(shared): State<Arc<Shared>>,
    Path(named): Path<Named>,
) -> Response {
    with_instance(&shared, &named, |instance| {
        if instance.connected {
            instance.sign_out();
        }
        Json(json!({"value": true})).into_response()
    })
}

/// The instance's data and webhook URLs, with Z-API's field names. `phone` is the
/// simulator's addition (Z-API's docs list no phone here; its `ConnectedCallback` has it).
pub(super) async fn me(State(shared): State<Arc<Shared>>, Path(named): Path<Named>) -> Response {
    with_instance(&shared, &named, |instance| {
        let created = instance.created_at;
        let due = created + time::Duration::days(30);
        let hooks = &instance.webhooks;
        Json(json!({
            "id": instance.id,
            "token": instance.token,
            "due": due.unix_timestamp() * 1_000,
            "created": created
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "connected": instance.connected,
            "phone": instance.phone,
            "receivedCallbackUrl": hooks.received,
            "receiveCallbackSentByMe": hooks.received_sent_by_me,
            "deliveryCallbackUrl": hooks.delivery,
            "connectedCallbackUrl": hooks.connected,
            "disconnectedCallbackUrl": hooks.disconnected,
            "messageStatusCallbackUrl": hooks.message_status,
            "presenceChatCallbackUrl": hooks.chat_presence,
        }))
        .into_response()
    })
}
