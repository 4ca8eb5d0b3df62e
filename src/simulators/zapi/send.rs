//! `POST send-text` `{phone, message}` → `{zaapId, messageId, id}`, then a
//! `DeliveryCallback` to the delivery webhook (and, with `receiveCallbackSentByMe`, the
//! text echoed to the received webhook with `fromMe: true`).
//!
//! Not verified against Z-API, chosen here: a disconnected instance answers 400
//! `{"error": "You are not connected."}` (the real service may queue the text instead);
//! a body without `phone` or `message` answers 400 `{"error": "phone and message are
//! required"}`.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    Shared, callbacks, error,
    gate::{Named, with_instance},
    instance::{SentText, message_id},
    webhooks,
};

#[derive(Deserialize)]
pub(super) struct SendText {
    phone: Option<String>,
    message: Option<String>,
}

pub(super) async fn send_text(
    State(shared): State<Arc<Shared>>,
    Path(named): Path<Named>,
    body: Result<Json<SendText>, JsonRejection>,
) -> Response {
    let Ok(Json(SendText {
        phone: Some(phone),
        message: Some(message),
    })) = body
    else {
        return error(StatusCode::BAD_REQUEST, "phone and message are required");
    };
    with_instance(&shared, &named, |instance| {
        if !instance.connected {
            return error(StatusCode::BAD_REQUEST, "You are not connected.");
        }
        let sent = SentText {
            phone,
            message,
            zaap_id: message_id(32),
            message_id: message_id(20),
        };
        let hooks = instance.webhooks.clone();
        webhooks::post(
            &shared,
            hooks.delivery,
            callbacks::delivery(instance, &sent),
        );
        if hooks.received_sent_by_me {
            let echo =
                callbacks::received(instance, &sent.phone, &sent.message, true, &sent.message_id);
            webhooks::post(&shared, hooks.received, echo);
        }
        let answer =
            json!({"zaapId": sent.zaap_id, "messageId": sent.message_id, "id": sent.message_id});
        instance.sent_texts.push(sent);
        Json(answer).into_response()
    })
}
