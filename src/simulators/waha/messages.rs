//! `POST /api/sendText`: a text from a WORKING session, answered with the WAMessage WAHA
//! gives back (the message as the `message.any` event would show it).

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    Shared,
    refusal::{Refusal, body},
    session::SessionStatus,
    sessions::existing,
};
use crate::simulators::random_text;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct SendText {
    session: Option<String>,
    chat_id: Option<String>,
    text: Option<String>,
}

pub(super) async fn send_text(
    State(shared): State<Arc<Shared>>,
    bytes: Bytes,
) -> Result<Response, Refusal> {
    let send: SendText = body(&bytes)?;
    let chat_id = send.chat_id.filter(|c| !c.is_empty());
    let Some(chat_id) = chat_id else {
        return Err(Refusal::missing("chatId"));
    };
    let Some(text) = send.text else {
        return Err(Refusal::missing("text"));
    };
    let name = send.session.unwrap_or_else(|| "default".to_string());
    let mut sessions = shared.sessions();
    let session = existing(&shared, &mut sessions, &name)?;
    let Some(me) = session
        .me
        .as_ref()
        .filter(|_| session.status == SessionStatus::Working)
    else {
        return Err(Refusal::Status {
            session: name,
            status: session.status,
            expected: SessionStatus::Working,
        });
    };
    // Baileys names the messages it sends `3EB0` and hex.
    let key = format!("3EB0{}", random_text(b"0123456789ABCDEF", 18));
    let message = json!({
        "id": format!("true_{chat_id}_{key}"),
        "timestamp": crate::simulators::now_millis() / 1_000,
        "from": me.id,
        "fromMe": true,
        "source": "api",
        "to": chat_id,
        "participant": null,
        "body": text,
        "hasMedia": false,
        "media": null,
        "ack": 1,
        "ackName": "SERVER",
        "vCards": [],
        "replyTo": null,
        "_data": {},
    });
    Ok((StatusCode::CREATED, Json(message)).into_response())
}
