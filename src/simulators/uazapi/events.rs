//! uazapiGO's webhook posts: plain JSON, no signature, to the instance's webhook when it is
//! enabled and lists the event. Every body carries the instance `token` (the receiver must
//! not log or keep it), `BaseUrl`, `EventType`, `instanceName` and `owner`.

use serde_json::json;

use super::{Shared, UazapiInstance};

/// Posts a `connection` event with the instance's state; `logged_out` marks the phone's
/// logout (`type: "LoggedOut"`).
pub(super) fn connection(shared: &Shared, instance: &UazapiInstance, logged_out: bool) {
    const EVENT: &str = "connection";
    let Some(hook) = &instance.webhook else {
        return;
    };
    if !hook.enabled || !hook.events.iter().any(|event| event == EVENT) {
        return;
    }
    let mut body = json!({
        "BaseUrl": shared.base_url,
        "EventType": EVENT,
        "instance": instance.event_json(),
        "instanceName": instance.name,
        "owner": instance.owner,
        "token": instance.token,
    });
    if logged_out {
        body["type"] = json!("LoggedOut");
    }
    let url = if hook.add_url_events {
        format!("{}/{EVENT}", hook.url.trim_end_matches('/'))
    } else {
        hook.url.clone()
    };
    let body = serde_json::to_vec(&body).expect("JSON values serialise");
    shared.webhooks.post(EVENT, &url, body, Vec::new());
}
