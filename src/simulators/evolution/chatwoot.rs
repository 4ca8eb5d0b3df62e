//! Evolution's built-in Chatwoot bridge: `POST /chatwoot/set/{name}` (the server runs with
//! `CHATWOOT_ENABLED=true`). Required: `enabled, accountId (string), token, url, signMsg,
//! reopenConversation, conversationPending`. With `autoCreate`, the server itself lists the
//! account's inboxes in Chatwoot, matches one by name, or makes an API inbox whose webhook
//! is `<server>/chatwoot/webhook/<name>` — as Evolution does, over HTTP.

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{Shared, error, instances::guarded};

const REQUIRED: [&str; 7] = [
    "enabled",
    "accountId",
    "token",
    "url",
    "signMsg",
    "reopenConversation",
    "conversationPending",
];

pub(super) async fn set(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(refused) = guarded(&shared, &mut shared.instances(), &name, &headers) {
        return *refused;
    }
    let missing: Vec<Value> = REQUIRED
        .iter()
        .filter(|key| body[**key].is_null())
        .map(|key| json!([format!("instance requires property \"{key}\"")]))
        .collect();
    if !missing.is_empty() {
        return error(StatusCode::BAD_REQUEST, Value::Array(missing));
    }
    let inbox_name = body["nameInbox"].as_str().unwrap_or(&name).to_string();
    let webhook_url = format!("{}/chatwoot/webhook/{name}", shared.base_url);
    if body["autoCreate"] == true
        && let Err(why) = find_or_make_inbox(&body, &inbox_name, &webhook_url).await
    {
        return error(StatusCode::BAD_REQUEST, json!([why]));
    }
    if let Some(instance) = shared.instances().get_mut(&name) {
        instance.chatwoot = body.clone();
    }
    let mut answer = body;
    answer["nameInbox"] = json!(inbox_name);
    answer["webhook_url"] = json!(webhook_url);
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// The account's inbox named `name` in Chatwoot, made as an API inbox when there is none.
async fn find_or_make_inbox(body: &Value, name: &str, webhook_url: &str) -> Result<(), String> {
    let base = body["url"]
        .as_str()
        .unwrap_or_default()
        .trim_end_matches('/');
    let account = body["accountId"].as_str().unwrap_or_default();
    let token = body["token"].as_str().unwrap_or_default();
    let inboxes = format!("{base}/api/v1/accounts/{account}/inboxes");
    let http = reqwest::Client::new();
    let listed: Value = http
        .get(&inboxes)
        .header("api_access_token", token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("Chatwoot could not be reached: {e}"))?
        .json()
        .await
        .map_err(|e| format!("Chatwoot answered no inbox list: {e}"))?;
    let exists = listed["payload"]
        .as_array()
        .is_some_and(|all| all.iter().any(|inbox| inbox["name"] == name));
    if exists {
        return Ok(());
    }
    let channel = json!({"type": "api", "webhook_url": webhook_url});
    http.post(&inboxes)
        .header("api_access_token", token)
        .json(&json!({"name": name, "channel": channel}))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map(|_| ())
        .map_err(|e| format!("Chatwoot refused the inbox: {e}"))
}
