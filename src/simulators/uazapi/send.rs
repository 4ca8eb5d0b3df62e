//! `POST /send/text`: a text from a connected instance, answered with the message as
//! uazapiGO stores it (`id` is `<owner>:<messageid>`) and a `response` status.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{InstanceStatus, Refusal, Shared, authorised};
use crate::simulators::random_text;

#[derive(Deserialize, Default)]
pub(super) struct SendText {
    number: Option<String>,
    text: Option<String>,
}

pub(super) async fn text(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, Refusal> {
    let mut instances = shared.instances();
    let instance = authorised(&mut instances, &headers)?;
    let send: SendText = serde_json::from_slice(&bytes).unwrap_or_default();
    let (Some(number), Some(text)) = (
        send.number.filter(|n| !n.is_empty()),
        send.text.filter(|t| !t.is_empty()),
    ) else {
        return Err(Refusal(StatusCode::BAD_REQUEST, "Missing number or text"));
    };
    // uazapiGO inherits wuzapi's answer for an instance with no live WhatsApp client.
    if instance.status != InstanceStatus::Connected {
        return Err(Refusal(StatusCode::INTERNAL_SERVER_ERROR, "No session"));
    }
    let chat = if number.contains('@') {
        number
    } else {
        format!("{number}@s.whatsapp.net")
    };
    let message_id = random_text(b"0123456789ABCDEF", 32);
    Ok(Json(json!({
        "id": format!("{}:{message_id}", instance.owner),
        "messageid": message_id,
        "chatid": chat,
        "fromMe": true,
        "isGroup": chat.ends_with("@g.us"),
        "messageType": "Conversation",
        "type": "text",
        "text": text,
        "messageTimestamp": crate::simulators::now_millis(),
        "sender": format!("{}@s.whatsapp.net", instance.owner),
        "senderName": instance.profile_name,
        "wasSentByApi": true,
        "response": {"status": "success", "message": "Message sent successfully"},
    })))
}
