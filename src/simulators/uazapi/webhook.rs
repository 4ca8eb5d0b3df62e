//! uazapiGO's `/webhook` routes in their simple mode: one webhook per instance, set (created
//! or replaced) by a POST without `action`, and `action: "delete"` with its `id` to remove
//! it. Both routes answer the instance's webhooks as a list, as uazapiGO always does. A
//! webhook is off unless `enabled: true` is sent.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;
use serde_json::Value;

use super::{Refusal, Shared, UazapiInstance, WebhookConfig, authorised};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SetWebhook {
    id: Option<String>,
    action: Option<String>,
    url: Option<String>,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    events: Vec<String>,
    #[serde(default)]
    exclude_messages: Vec<String>,
    #[serde(default)]
    add_url_events: bool,
    /// Spelled `AddUrlTypesMessages` in the schema, `addUrlTypesMessages` in the examples.
    #[serde(default, alias = "AddUrlTypesMessages")]
    add_url_types_messages: bool,
}

fn listed(instance: &UazapiInstance) -> Json<Vec<Value>> {
    let hooks = instance.webhook.iter().map(|hook| hook.json(&instance.id));
    Json(hooks.collect())
}

pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Vec<Value>>, Refusal> {
    let mut instances = shared.instances();
    Ok(listed(authorised(&mut instances, &headers)?))
}

pub(super) async fn set(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Vec<Value>>, Refusal> {
    let mut instances = shared.instances();
    let instance = authorised(&mut instances, &headers)?;
    let set: SetWebhook = serde_json::from_slice(&bytes)
        .map_err(|_| Refusal(StatusCode::BAD_REQUEST, "Invalid payload"))?;
    match set.action.as_deref() {
        None => {
            let Some(url) = set.url.filter(|url| !url.is_empty()) else {
                return Err(Refusal(StatusCode::BAD_REQUEST, "Missing url"));
            };
            let id = instance
                .webhook
                .as_ref()
                .map_or_else(|| uuid::Uuid::new_v4().to_string(), |hook| hook.id.clone());
            instance.webhook = Some(WebhookConfig {
                id,
                url,
                enabled: set.enabled,
                events: set.events,
                exclude_messages: set.exclude_messages,
                add_url_events: set.add_url_events,
                add_url_types_messages: set.add_url_types_messages,
            });
        }
        Some("delete") => {
            if instance.webhook.as_ref().map(|hook| &hook.id) == set.id.as_ref() {
                instance.webhook = None;
            }
        }
        // `add` and `update` manage several webhooks per instance: not simulated.
        Some(_) => return Err(Refusal(StatusCode::BAD_REQUEST, "Invalid action")),
    }
    Ok(listed(instance))
}
