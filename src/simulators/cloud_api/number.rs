//! The phone-number node: `GET /{id}?fields=…` answers the fields asked (and `id`, which
//! Graph always adds); `POST /{id}` with `webhook_configuration` sets the number's override
//! callback, after the verification handshake.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    extract::{Path, Query, State, rejection::JsonRejection},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use super::{GraphError, Shared, verification};

/// A number on the simulated WhatsApp Business Account, for tests to inspect.
#[derive(Debug, Clone)]
pub struct SimPhoneNumber {
    pub id: String,
    /// As Meta formats it, e.g. `+55 11 99999-0000` (webhooks carry the digits only).
    pub display_phone_number: String,
    pub verified_name: String,
    /// `CONNECTED`, `FLAGGED`, `BANNED`, `RESTRICTED`, `DISCONNECTED`, …
    pub status: String,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub quality_rating: String,
    pub code_verification_status: String,
    /// The override callback, stored only once Meta's verification handshake passed.
    pub callback: Option<String>,
    /// The verify token the stored callback answered to.
    pub verify_token: Option<String>,
    pub sent_texts: Vec<SentText>,
}

/// A text accepted by `POST /{id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentText {
    /// The `wamid.…` answered.
    pub id: String,
    /// `to` as sent.
    pub to: String,
    /// `to` as WhatsApp knows it: the digits only.
    pub wa_id: String,
    pub body: String,
}

/// What Graph answers when no `fields` are asked.
const DEFAULT_FIELDS: [&str; 6] = [
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "platform_type",
    "throughput",
];

impl SimPhoneNumber {
    pub(super) fn new(id: &str, display_phone_number: &str) -> SimPhoneNumber {
        SimPhoneNumber {
            id: id.to_string(),
            display_phone_number: display_phone_number.to_string(),
            verified_name: "Whatpro Simulated Business".to_string(),
            status: "CONNECTED".to_string(),
            quality_rating: "GREEN".to_string(),
            code_verification_status: "VERIFIED".to_string(),
            callback: None,
            verify_token: None,
            sent_texts: Vec::new(),
        }
    }

    /// Field `name` of the node, or `None` when the node type has no such field.
    fn field(&self, name: &str) -> Option<Value> {
        Some(match name {
            "id" => json!(self.id),
            "display_phone_number" => json!(self.display_phone_number),
            "verified_name" => json!(self.verified_name),
            "quality_rating" => json!(self.quality_rating),
            "code_verification_status" => json!(self.code_verification_status),
            "status" => json!(self.status),
            "name_status" => json!("APPROVED"),
            "account_mode" => json!("LIVE"),
            "platform_type" => json!("CLOUD_API"),
            "throughput" => json!({"level": "STANDARD"}),
            "messaging_limit_tier" | "whatsapp_business_manager_messaging_limit" => {
                json!("TIER_1K")
            }
            "is_official_business_account" => json!(false),
            "webhook_configuration" => match &self.callback {
                Some(url) => json!({"phone_number": url}),
                None => json!({}),
            },
            _ => return None,
        })
    }
}

/// A `wamid.…` message id: opaque base64, like Meta's.
pub(super) fn wamid() -> String {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let bytes: [u8; 30] = std::array::from_fn(|_| rand::random_range(0..=u8::MAX));
    format!("wamid.{}", STANDARD.encode(bytes))
}

pub(super) async fn read(
    State(shared): State<Arc<Shared>>,
    Path((_version, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    // The token's own user (a system user): what a client reads to test its token.
    if id == "me" {
        return Json(json!({"id": "100000000000001", "name": "Whatpro System User"}))
            .into_response();
    }
    let numbers = shared.numbers();
    let Some(number) = numbers.get(&id) else {
        return GraphError::unknown_object("get", &id).into_response();
    };
    let asked: Vec<&str> = match query.get("fields") {
        Some(fields) => fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect(),
        None => DEFAULT_FIELDS.to_vec(),
    };
    let mut body = Map::new();
    for name in asked.into_iter().chain(["id"]) {
        let Some(value) = number.field(name) else {
            return GraphError::nonexisting_field(name).into_response();
        };
        body.insert(name.to_string(), value);
    }
    Json(Value::Object(body)).into_response()
}

/// Sets (or, with an empty `override_callback_uri`, clears) the number's override
/// callback. The handshake comes first; a callback that fails it is not stored.
pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Path((_version, id)): Path<(String, String)>,
    body: Result<Json<Value>, JsonRejection>,
) -> Response {
    let exists = shared.numbers().contains_key(&id);
    if !exists {
        return GraphError::unknown_object("post", &id).into_response();
    }
    let config = body
        .map(|Json(body)| body["webhook_configuration"].clone())
        .unwrap_or_default();
    let Some(uri) = config["override_callback_uri"].as_str() else {
        return GraphError::invalid_parameter(
            "The parameter webhook_configuration['override_callback_uri'] is required.",
        )
        .into_response();
    };
    let verify_token = config["verify_token"].as_str().unwrap_or_default();
    let callback = if uri.is_empty() {
        None
    } else {
        if verify_token.is_empty() {
            return GraphError::invalid_parameter(
                "The parameter webhook_configuration['verify_token'] is required.",
            )
            .into_response();
        }
        if let Err(reason) = verification::handshake(&shared, uri, verify_token).await {
            return GraphError::callback_verification_failed(&reason).into_response();
        }
        Some((uri.to_string(), verify_token.to_string()))
    };
    if let Some(number) = shared.numbers().get_mut(&id) {
        (number.callback, number.verify_token) = callback.unzip();
    }
    Json(json!({"success": true})).into_response()
}
