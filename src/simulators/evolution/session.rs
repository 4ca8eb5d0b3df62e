//! Evolution's routes on an open instance's session and settings: `fetchInstances` (the raw
//! database rows, `name` not `instanceName`, capitalised relations), restart, settings (all
//! six booleans required), and `sendText`.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Shared, error, instances::guarded};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Filter {
    instance_name: Option<String>,
}

/// The rows the key may see (its own with an instance token), filtered by name.
pub(super) async fn fetch_instances(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Response {
    let key = headers.get("apikey").and_then(|v| v.to_str().ok());
    let global = key == Some(shared.global_key.as_str());
    let instances = shared.instances();
    if let Some(name) = &filter.instance_name
        && !instances.contains_key(name)
    {
        return error(
            StatusCode::NOT_FOUND,
            json!(format!("Instance \"{name}\" not found")),
        );
    }
    let rows: Vec<Value> = instances
        .values()
        .filter(|i| global || key == Some(i.token.as_str()))
        .filter(|i| filter.instance_name.as_ref().is_none_or(|n| *n == i.name))
        .map(|i| {
            json!({"id": i.id, "name": i.name, "connectionStatus": i.state,
                   "ownerJid": i.owner, "profileName": i.owner.as_ref().map(|_| "Demo phone"),
                   "integration": "WHATSAPP-BAILEYS", "token": i.token,
                   "Setting": i.settings, "Chatwoot": null, "Proxy": null,
                   "_count": {"Message": i.sent.len(), "Contact": 0, "Chat": 0}})
        })
        .collect();
    if rows.is_empty() && !global && filter.instance_name.is_none() {
        return error(StatusCode::UNAUTHORIZED, json!("Unauthorized"));
    }
    Json(Value::Array(rows)).into_response()
}

/// Closes an open socket and connects again; on a closed one, Evolution's caught
/// BadRequest answered 200.
pub(super) async fn restart(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut instances = shared.instances();
    let instance = match guarded(&shared, &mut instances, &name, &headers) {
        Ok(instance) => instance,
        Err(refused) => return *refused,
    };
    match instance.state {
        "close" => Json(json!({"error": true, "message": "[object Object]"})).into_response(),
        "open" => {
            Json(json!({"instance": {"instanceName": name, "state": "open"}})).into_response()
        }
        _ => Json(instance.qr()).into_response(),
    }
}

const REQUIRED: [&str; 6] = [
    "rejectCall",
    "groupsIgnore",
    "alwaysOnline",
    "readMessages",
    "readStatus",
    "syncFullHistory",
];

pub(super) async fn set_settings(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut instances = shared.instances();
    let instance = match guarded(&shared, &mut instances, &name, &headers) {
        Ok(instance) => instance,
        Err(refused) => return *refused,
    };
    let missing: Vec<Value> = REQUIRED
        .iter()
        .filter(|key| !body[**key].is_boolean())
        .map(|key| json!([format!("instance requires property \"{key}\"")]))
        .collect();
    if !missing.is_empty() {
        return error(StatusCode::BAD_REQUEST, Value::Array(missing));
    }
    instance.settings = body.clone();
    let answer = json!({"settings": {"instanceName": name, "settings": body}});
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// Numbers starting with `000` are "not on WhatsApp".
pub(super) async fn send_text(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut instances = shared.instances();
    let instance = match guarded(&shared, &mut instances, &name, &headers) {
        Ok(instance) => instance,
        Err(refused) => return *refused,
    };
    let (Some(number), Some(text)) = (body["number"].as_str(), body["text"].as_str()) else {
        return error(
            StatusCode::BAD_REQUEST,
            json!([["instance requires property \"number\""]]),
        );
    };
    if instance.state != "open" || number.starts_with("000") {
        let jid = format!("{number}@s.whatsapp.net");
        return error(
            StatusCode::BAD_REQUEST,
            json!([{"jid": jid, "exists": false, "number": number}]),
        );
    }
    let id = format!("3EB0{}", uuid::Uuid::new_v4().simple()).to_uppercase();
    instance.sent.push((number.to_string(), text.to_string()));
    let answer = json!({
        "key": {"remoteJid": format!("{number}@s.whatsapp.net"), "fromMe": true, "id": id},
        "pushName": "", "status": "PENDING", "message": {"conversation": text},
        "messageType": "conversation", "instanceId": instance.id, "source": "unknown",
    });
    (StatusCode::CREATED, Json(answer)).into_response()
}
