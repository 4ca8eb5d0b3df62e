//! Evolution's webhook posts: the v2 envelope (`event` lower-case dotted, `data`,
//! `date_time`, `sender`, `server_url`, `apikey` = the instance token), sent to the
//! instance's `webhook.url` with its configured headers, each in a task of its own.

use serde_json::{Value, json};

use super::{Shared, SimInstance};

/// Posts `event` of `instance` to its webhook, when it has one.
pub(super) fn emit(shared: &Shared, instance: &SimInstance, event: &str, data: Value) {
    let Some((url, headers)) = instance.webhook.clone() else {
        return;
    };
    let now = crate::platform::clock::now();
    let envelope = json!({
        "event": event,
        "instance": instance.name,
        "data": data,
        "destination": url,
        "date_time": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "sender": instance.owner,
        "server_url": shared.base_url,
        "apikey": instance.token,
    });
    let body = serde_json::to_vec(&envelope).expect("JSON values serialise");
    shared.webhooks.post(event, &url, body, headers);
}

/// The session closed: on a logout, `logout.instance` first; then `connection.update`
/// with Baileys' 401 (logged out).
pub(super) fn closed(shared: &Shared, instance: &mut SimInstance, logout: bool) {
    instance.state = "close";
    instance.owner = None;
    instance.pairing_code = None;
    if logout {
        emit(shared, instance, "logout.instance", Value::Null);
    }
    let data = json!({"instance": instance.name, "state": "close", "statusReason": 401});
    emit(shared, instance, "connection.update", data);
}
