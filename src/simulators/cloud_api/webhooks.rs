//! Meta's webhook posts (`samples/meta-webhook-*.json`): `object:
//! "whatsapp_business_account"`, one entry per WABA, one change with `field: "messages"`
//! whose value holds `metadata.phone_number_id` and either `messages` or `statuses`.
//!
//! The body goes as Meta writes it, every non-ASCII character as a `\uXXXX` escape, and is
//! signed over those exact bytes: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app
//! secret, body)>`. A receiver that re-serialises before checking will fail, as with Meta.

use std::fmt::Write;

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Shared, SimPhoneNumber, number::wamid};

/// Contact `from` wrote `text` to `number`.
pub(super) fn message(shared: &Shared, number: &SimPhoneNumber, from: &str, text: &str) -> Value {
    envelope(
        shared,
        json!({
            "messaging_product": "whatsapp",
            "metadata": metadata(number),
            "contacts": [{"profile": {"name": from}, "wa_id": from}],
            "messages": [{
                "from": from,
                "id": wamid(),
                "timestamp": timestamp(),
                "type": "text",
                "text": {"body": text},
            }],
        }),
    )
}

/// Message `message_id`, sent by `number` to `recipient`, reached `status`. A `failed` one
/// carries Meta's generic "undeliverable" error.
pub(super) fn status(
    shared: &Shared,
    number: &SimPhoneNumber,
    message_id: &str,
    recipient: &str,
    status: &str,
) -> Value {
    let mut entry = json!({
        "id": message_id,
        "status": status,
        "timestamp": timestamp(),
        "recipient_id": recipient,
    });
    if status == "failed" {
        entry["errors"] = json!([{
            "code": 131_026,
            "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "Message Undeliverable."},
        }]);
    }
    envelope(
        shared,
        json!({"messaging_product": "whatsapp", "metadata": metadata(number), "statuses": [entry]}),
    )
}

fn envelope(shared: &Shared, value: Value) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": shared.waba_id, "changes": [{"field": "messages", "value": value}]}],
    })
}

/// Webhooks name the number by id, and by its display number in digits only.
fn metadata(number: &SimPhoneNumber) -> Value {
    let digits: String = number
        .display_phone_number
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    json!({"display_phone_number": digits, "phone_number_id": number.id})
}

/// Unix seconds, as a string (Meta's habit).
fn timestamp() -> String {
    crate::platform::clock::now().unix_timestamp().to_string()
}

/// Posts `payload` to the number's callback, when it has one, signed; logs `kind`.
pub(super) fn post(shared: &Shared, number: &SimPhoneNumber, kind: &str, payload: &Value) {
    let Some(url) = number.callback.clone() else {
        return;
    };
    let body = ascii_json(&payload.to_string());
    let headers = vec![
        ("User-Agent".to_string(), "facebookexternalua".to_string()),
        (
            "X-Hub-Signature-256".to_string(),
            signature(&shared.app_secret, &body),
        ),
    ];
    shared.webhooks.post(kind, &url, body.into_bytes(), headers);
}

/// `json` with every non-ASCII character written `\uXXXX` (UTF-16 units, so a surrogate
/// pair beyond the BMP). serde_json writes non-ASCII only inside strings, where the escape
/// means the same character, so the JSON keeps its value.
fn ascii_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out
}

/// `sha256=` and the lower-case hex of HMAC-SHA256 of `body` under the app secret.
fn signature(app_secret: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::ascii_json;

    #[test]
    fn non_ascii_is_escaped_like_meta_writes_it() {
        let json = serde_json::json!({"body": "Olá 👋"}).to_string();
        let ascii = ascii_json(&json);
        assert_eq!(ascii, r#"{"body":"Ol\u00e1 \ud83d\udc4b"}"#);
        let back: serde_json::Value = serde_json::from_str(&ascii).unwrap();
        assert_eq!(back["body"], "Olá 👋");
    }
}
