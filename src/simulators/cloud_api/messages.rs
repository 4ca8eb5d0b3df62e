//! `POST /{phone-number-id}/messages` for text:
//! `{messaging_product: "whatsapp", to, type: "text", text: {body}}` →
//! `{messaging_product, contacts: [{input, wa_id}], messages: [{id: "wamid.…"}]}`.
//! A `wamid` means "accepted"; statuses come later, when a test calls `deliver_status`.
//!
//! Chosen here (Meta's exact wording unverified): the missing-parameter errors are code
//! 100; a number whose status is not `CONNECTED` answers code 131031 ("Account has been
//! locked"); other message types are refused with code 100, as the simulator models text
//! only.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State, rejection::JsonRejection},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{
    GraphError, Shared,
    number::{SentText, wamid},
};

pub(super) async fn send(
    State(shared): State<Arc<Shared>>,
    Path((_version, id)): Path<(String, String)>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    match accept(&shared, &id, body) {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => error.into_response(),
    }
}

fn accept(
    shared: &Shared,
    id: &str,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Value, GraphError> {
    let mut numbers = shared.numbers();
    let number = numbers
        .get_mut(id)
        .ok_or_else(|| GraphError::unknown_object("post", id))?;
    let Json(body) = body.map_err(|_| GraphError::invalid_parameter("Invalid parameter"))?;
    if body["messaging_product"] != "whatsapp" {
        return Err(GraphError::invalid_parameter(
            "The parameter messaging_product is required.",
        ));
    }
    let to = required(&body["to"], "The parameter to is required.")?;
    let kind = body["type"].as_str().unwrap_or("text");
    if kind != "text" {
        return Err(GraphError::invalid_parameter(&format!(
            "Param type '{kind}' is not simulated: the simulator sends text only"
        )));
    }
    let text = required(
        &body["text"]["body"],
        "The parameter text['body'] is required.",
    )?;
    if number.status != "CONNECTED" {
        return Err(GraphError::account_locked(&number.status));
    }
    let sent = SentText {
        id: wamid(),
        to: to.to_string(),
        wa_id: to.chars().filter(char::is_ascii_digit).collect(),
        body: text.to_string(),
    };
    let answer = json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": sent.to, "wa_id": sent.wa_id}],
        "messages": [{"id": sent.id}],
    });
    number.sent_texts.push(sent);
    Ok(answer)
}

/// A non-empty string parameter, or the code 100 error `missing`.
fn required<'a>(value: &'a Value, missing: &str) -> Result<&'a str, GraphError> {
    value
        .as_str()
        .filter(|text| !text.is_empty())
        .ok_or_else(|| GraphError::invalid_parameter(missing))
}
