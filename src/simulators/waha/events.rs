//! WAHA's webhook posts. Each session carries its own `config.webhooks[]`; an event goes to
//! every entry subscribed to it (by name, or `*`) as the envelope `{id, timestamp, event,
//! session, metadata, me, payload, engine, environment}`, with `X-Webhook-Request-Id`,
//! `X-Webhook-Timestamp`, the entry's `customHeaders` and, when it has an `hmac.key`,
//! `X-Webhook-Hmac` (hex HMAC-SHA512 of the raw body) with `X-Webhook-Hmac-Algorithm`.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha512;

use super::{Shared, environment, session::WahaSession};
use crate::simulators::{now_millis, random_text};

/// Crockford's base32 in lower case: the alphabet of the ULIDs in event ids.
const ULID_ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Fires `session.status` for the session's current status, with its last changes.
pub(super) fn session_status(shared: &Shared, session: &WahaSession) {
    let statuses: Vec<Value> = session
        .statuses
        .iter()
        .map(|(status, at)| json!({"status": status.as_str(), "timestamp": at}))
        .collect();
    let payload = json!({
        "name": session.name,
        "status": session.status.as_str(),
        "statuses": statuses,
        "data": null,
    });
    emit(shared, session, "session.status", payload);
}

/// Posts `event` to each of the session's webhooks subscribed to it.
fn emit(shared: &Shared, session: &WahaSession, event: &str, payload: Value) {
    let Some(hooks) = session.config["webhooks"].as_array() else {
        return;
    };
    let at = now_millis();
    let mut envelope = json!({
        "id": format!("evt_{}", ulid(at)),
        "timestamp": at,
        "event": event,
        "session": session.name,
        "payload": payload,
        "engine": "NOWEB",
        "environment": environment(),
    });
    // Both are left out, not null, when the session has none.
    if let Some(metadata) = session.config.get("metadata").filter(|m| !m.is_null()) {
        envelope["metadata"] = metadata.clone();
    }
    if let Some(me) = &session.me {
        envelope["me"] = me.json();
    }
    let body = serde_json::to_vec(&envelope).expect("JSON values serialise");
    for hook in hooks.iter().filter(|hook| subscribed(hook, event)) {
        let Some(url) = hook["url"].as_str() else {
            continue;
        };
        let mut headers = vec![
            ("X-Webhook-Request-Id".to_string(), ulid(at)),
            ("X-Webhook-Timestamp".to_string(), at.to_string()),
        ];
        for custom in hook["customHeaders"].as_array().into_iter().flatten() {
            if let (Some(name), Some(value)) = (custom["name"].as_str(), custom["value"].as_str()) {
                headers.push((name.to_string(), value.to_string()));
            }
        }
        if let Some(key) = hook["hmac"]["key"].as_str().filter(|key| !key.is_empty()) {
            headers.push(("X-Webhook-Hmac".to_string(), hmac_sha512_hex(key, &body)));
            headers.push(("X-Webhook-Hmac-Algorithm".to_string(), "sha512".to_string()));
        }
        shared.webhooks.post(event, url, body.clone(), headers);
    }
}

fn subscribed(hook: &Value, event: &str) -> bool {
    hook["events"]
        .as_array()
        .is_some_and(|events| events.iter().any(|e| e == event || e == "*"))
}

/// A lower-case ULID: 10 characters of the time in ms, then 16 random ones.
fn ulid(at_ms: i64) -> String {
    let time: String = (0..10)
        .rev()
        .map(|i| char::from(ULID_ALPHABET[((at_ms >> (5 * i)) & 31) as usize]))
        .collect();
    time + &random_text(ULID_ALPHABET, 16)
}

fn hmac_sha512_hex(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(key.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
