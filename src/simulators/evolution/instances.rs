//! Evolution's instance routes: create, connect (QR or pairing code, the answer depending
//! on the state), connection state, logout, delete. Guard order as Evolution's: the
//! instance must exist (404 even with a wrong key), then the key (the global one, or the
//! instance's own token on its routes).

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Shared, error};

/// One instance: a WhatsApp session on the simulated server.
#[derive(Debug, Clone)]
pub struct SimInstance {
    pub name: String,
    pub id: String,
    /// The instance's own key (`hash` on create).
    pub token: String,
    /// `close`, `connecting` or `open`.
    pub state: &'static str,
    /// QRs shown since the socket opened (Evolution's `count`).
    pub qr_count: u32,
    pub pairing_code: Option<String>,
    /// The phone, once "scanned".
    pub owner: Option<String>,
    /// Where its events go (`webhook.url` of the create), with the headers to send.
    pub webhook: Option<(String, Vec<(String, String)>)>,
    /// The settings row (`/settings/set` body), `null` until set.
    pub settings: Value,
    /// Texts sent through it: (number, text).
    pub sent: Vec<(String, String)>,
    /// Its Chatwoot bridge (`/chatwoot/set` body), `null` until set.
    pub chatwoot: Value,
}

impl SimInstance {
    pub(super) fn qr(&self) -> Value {
        use base64::{Engine, engine::general_purpose::STANDARD};
        let code = format!("2@simulated-qr-{}-{},ref", self.id, self.qr_count);
        let image = STANDARD.encode(crate::simulators::qr_image::qr_png(&code));
        json!({
            "pairingCode": self.pairing_code,
            "code": code,
            "base64": format!("data:image/png;base64,{image}"),
            "count": self.qr_count,
        })
    }
}

/// The key of the request may act on `instance` (the global key, or its own token).
fn allowed(shared: &Shared, headers: &HeaderMap, instance: Option<&SimInstance>) -> bool {
    let key = headers.get("apikey").and_then(|v| v.to_str().ok());
    key == Some(shared.global_key.as_str())
        || instance.is_some_and(|i| key == Some(i.token.as_str()))
}

/// The instance named, once the key may act on it: 404 first, then 401, as Evolution.
pub(super) fn guarded<'a>(
    shared: &Shared,
    instances: &'a mut std::collections::HashMap<String, SimInstance>,
    name: &str,
    headers: &HeaderMap,
) -> Result<&'a mut SimInstance, Box<Response>> {
    let Some(instance) = instances.get_mut(name) else {
        return Err(Box::new(missing(name)));
    };
    if !allowed(shared, headers, Some(instance)) {
        return Err(Box::new(unauthorized()));
    }
    Ok(instance)
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, json!("Unauthorized"))
}

fn missing(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        json!([format!("The \"{name}\" instance does not exist")]),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Create {
    instance_name: Option<String>,
    integration: Option<String>,
    token: Option<String>,
    number: Option<String>,
    webhook: Option<Value>,
}

pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Json(body): Json<Create>,
) -> Response {
    let name = body.instance_name.unwrap_or_default();
    if shared.instances().contains_key(&name) && !name.is_empty() {
        return error(
            StatusCode::FORBIDDEN,
            json!([format!("This name \"{name}\" is already in use.")]),
        );
    }
    if !allowed(&shared, &headers, None) {
        return unauthorized();
    }
    if name.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            json!([["instance requires property \"instanceName\""]]),
        );
    }
    if !matches!(
        body.integration.as_deref(),
        Some("WHATSAPP-BAILEYS" | "WHATSAPP-BUSINESS" | "EVOLUTION")
    ) {
        return error(StatusCode::BAD_REQUEST, json!(["Invalid integration"]));
    }
    let instance = SimInstance {
        id: uuid::Uuid::new_v4().to_string(),
        token: body
            .token
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string().to_uppercase()),
        state: "close",
        qr_count: 0,
        pairing_code: body.number.map(|_| super::pairing_code()),
        owner: None,
        settings: Value::Null,
        sent: Vec::new(),
        chatwoot: Value::Null,
        webhook: body.webhook.as_ref().and_then(|hook| {
            let url = hook["url"].as_str()?.to_string();
            let headers = hook["headers"]
                .as_object()
                .map(|h| {
                    h.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            Some((url, headers))
        }),
        name: name.clone(),
    };
    let answer = json!({
        "instance": {"instanceName": name, "instanceId": instance.id,
                     "integration": body.integration, "webhookWaBusiness": null,
                     "accessTokenWaBusiness": "", "status": "close"},
        "hash": instance.token,
        "webhook": {}, "websocket": {}, "rabbitmq": {}, "nats": {}, "sqs": {},
        "settings": {"rejectCall": false, "msgCall": "", "groupsIgnore": false,
                     "alwaysOnline": false, "readMessages": false, "readStatus": false,
                     "syncFullHistory": false, "wavoipToken": ""},
    });
    shared.instances().insert(name, instance);
    (StatusCode::CREATED, Json(answer)).into_response()
}

#[derive(Deserialize)]
pub(super) struct ConnectQuery {
    number: Option<String>,
}

pub(super) async fn connect(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(query): Query<ConnectQuery>,
) -> Response {
    let mut instances = shared.instances();
    let instance = match guarded(&shared, &mut instances, &name, &headers) {
        Ok(instance) => instance,
        Err(refused) => return *refused,
    };
    match instance.state {
        "open" => {
            Json(json!({"instance": {"instanceName": name, "state": "open"}})).into_response()
        }
        // An open socket answers its current QR: no new pairing code, number or not.
        "connecting" => Json(instance.qr()).into_response(),
        _ => {
            instance.state = "connecting";
            instance.qr_count = 1;
            instance.pairing_code = query.number.map(|_| super::pairing_code());
            let qr = instance.qr();
            super::events::emit(&shared, instance, "qrcode.updated", json!({"qrcode": qr}));
            Json(qr).into_response()
        }
    }
}

pub(super) async fn connection_state(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut instances = shared.instances();
    let instance = match guarded(&shared, &mut instances, &name, &headers) {
        Ok(instance) => instance,
        Err(refused) => return *refused,
    };
    Json(json!({"instance": {"instanceName": name, "state": instance.state}})).into_response()
}

pub(super) async fn logout(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut instances = shared.instances();
    let instance = match guarded(&shared, &mut instances, &name, &headers) {
        Ok(instance) => instance,
        Err(refused) => return *refused,
    };
    if instance.state == "close" {
        return error(
            StatusCode::BAD_REQUEST,
            json!([format!("The \"{name}\" instance is not connected")]),
        );
    }
    super::events::closed(&shared, instance, true);
    Json(json!({"status": "SUCCESS", "error": false, "response": {"message": "Instance logged out"}}))
        .into_response()
}

pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut instances = shared.instances();
    if let Err(refused) = guarded(&shared, &mut instances, &name, &headers) {
        return *refused;
    }
    instances.remove(&name);
    Json(json!({"status": "SUCCESS", "error": false, "response": {"message": "Instance deleted"}}))
        .into_response()
}
