//! Conversation reads and message creation (which emits `message_created`).

use std::collections::HashMap;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::HeaderMap,
};
use serde_json::{Value, json};

use super::wire::{MessageType, WebhookEvent};
use super::{
    auth::{ApiError, ApiResult, member},
    delivery::emit,
    model::{Db, Sender, SimConversation, SimMessage, now},
    payloads,
    routes::{Sim, json_body},
};

const PAGE_SIZE: usize = 25;

pub(super) fn find(db: &Db, account_id: i64, display_id: i64) -> ApiResult<&SimConversation> {
    db.conversation(account_id, display_id)
        .ok_or_else(ApiError::not_found)
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(
    value: &Value,
    attribute: &str,
) -> ApiResult<T> {
    serde_json::from_value(value.clone())
        .map_err(|_| ApiError::invalid(format!("{attribute} is not valid"), attribute))
}

/// `GET …/conversations?status=&page=&inbox_id=&assignee_type=` → `{data:{meta,payload}}`.
pub(super) async fn list(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    let (user_id, _) = member(&db, &headers, account_id)?;
    let status = query.get("status").map_or("open", String::as_str);
    let inbox_id = query.get("inbox_id").and_then(|v| v.parse::<i64>().ok());
    let mut matching: Vec<&SimConversation> = db
        .conversations
        .values()
        .filter(|c| c.account_id == account_id)
        .filter(|c| status == "all" || c.status.as_str() == status)
        .filter(|c| inbox_id.is_none_or(|id| c.inbox_id == id))
        .collect();
    matching.sort_by_key(|c| std::cmp::Reverse((c.updated_at, c.display_id)));
    let count = |f: &dyn Fn(&SimConversation) -> bool| matching.iter().filter(|c| f(c)).count();
    let meta = json!({
        "mine_count": count(&|c| c.assignee_id == Some(user_id)),
        "assigned_count": count(&|c| c.assignee_id.is_some()),
        "unassigned_count": count(&|c| c.assignee_id.is_none()),
        "all_count": matching.len(),
    });
    let assignee_type = query.get("assignee_type").map_or("all", String::as_str);
    let page: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let payload: Vec<Value> = matching
        .iter()
        .filter(|c| match assignee_type {
            "me" => c.assignee_id == Some(user_id),
            "assigned" => c.assignee_id.is_some(),
            "unassigned" => c.assignee_id.is_none(),
            _ => true,
        })
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|c| payloads::conversation_rest(&db, c))
        .collect();
    Ok(Json(
        json!({ "data": { "meta": meta, "payload": payload } }),
    ))
}

pub(super) async fn show(
    State(sim): State<Sim>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    member(&db, &headers, account_id)?;
    Ok(Json(payloads::conversation_rest(
        &db,
        find(&db, account_id, display_id)?,
    )))
}
pub(super) async fn labels(
    State(sim): State<Sim>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    member(&db, &headers, account_id)?;
    Ok(Json(
        json!({ "payload": find(&db, account_id, display_id)?.labels }),
    ))
}
/// `{content, message_type:"outgoing"|"incoming", private}` → the message (push format).
pub(super) async fn create_message(
    State(sim): State<Sim>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    let (user_id, _) = member(&db, &headers, account_id)?;
    let contact_id = find(&db, account_id, display_id)?.contact_id;
    let content = body["content"].as_str().unwrap_or_default().to_string();
    if content.trim().is_empty() {
        return Err(ApiError::invalid("Content can't be blank", "content"));
    }
    let (message_type, sender) = match body["message_type"].as_str().unwrap_or("outgoing") {
        "outgoing" => (MessageType::Outgoing, Sender::User(user_id)),
        "incoming" => (MessageType::Incoming, Sender::Contact(contact_id)),
        _ => {
            return Err(ApiError::invalid(
                "Message type is not valid",
                "message_type",
            ));
        }
    };
    let private = body["private"].as_bool().unwrap_or(false);
    add_message(
        &mut db,
        account_id,
        display_id,
        content,
        message_type,
        sender,
        private,
    );
    let conv = find(&db, account_id, display_id)?;
    let message = conv.messages.last().expect("just added");
    emit(
        &sim,
        &db,
        account_id,
        WebhookEvent::MessageCreated,
        payloads::message_webhook(&db, conv, message),
    );
    Ok(Json(payloads::message_push(&db, conv, message)))
}

/// Appends a message; shared with the seeding helpers. Returns its id.
pub(super) fn add_message(
    db: &mut Db,
    account_id: i64,
    display_id: i64,
    content: String,
    message_type: MessageType,
    sender: Sender,
    private: bool,
) -> i64 {
    let id = db.next_id();
    if let Some(conv) = db.conversation_mut(account_id, display_id) {
        let created_at = now();
        conv.messages.push(SimMessage {
            id,
            content,
            message_type,
            private,
            sender,
            created_at,
        });
        conv.updated_at = created_at;
    }
    id
}
