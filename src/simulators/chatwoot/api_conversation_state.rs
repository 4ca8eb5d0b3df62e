//! Conversation changes that Chatwoot reports as `conversation_status_changed` /
//! `conversation_updated`. Unchanged values emit nothing, as Chatwoot's dirty tracking.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
};
use serde_json::{Value, json};

use super::wire::{ConversationStatus, Priority, WebhookEvent};
use super::{
    api_conversations::{find, parse},
    auth::{ApiResult, member},
    delivery::{change, conversation_event},
    model::{Db, SimConversation, now},
    render,
    routes::{Sim, json_body},
};

/// An explicit `status` sets it; none toggles (open → resolved, anything else → open).
pub(super) async fn toggle_status(
    State(sim): State<Sim>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    member(&db, &headers, account_id)?;
    let previous = find(&db, account_id, display_id)?.status;
    let status = match &body["status"] {
        Value::Null => match previous {
            ConversationStatus::Open => ConversationStatus::Resolved,
            _ => ConversationStatus::Open,
        },
        value => parse::<ConversationStatus>(value, "status")?,
    };
    if status != previous {
        let conv = db
            .conversation_mut(account_id, display_id)
            .expect("found above");
        conv.status = status;
        conv.updated_at = now();
        // Chatwoot's status event carries `changed_attributes: null` (FACTS §1a); the
        // update event that follows lists the change.
        conversation_event(
            &sim,
            &db,
            account_id,
            display_id,
            WebhookEvent::ConversationStatusChanged,
            vec![],
        );
        let changes = vec![change("status", previous.as_str(), status.as_str())];
        conversation_event(
            &sim,
            &db,
            account_id,
            display_id,
            WebhookEvent::ConversationUpdated,
            changes,
        );
    }
    Ok(Json(json!({
        "meta": {},
        "payload": {
            "success": true,
            "conversation_id": display_id,
            "current_status": status,
            "snoozed_until": null,
        },
    })))
}

/// `{priority: "low"|…|null}`; answers 200 with an empty body.
pub(super) async fn toggle_priority(
    State(sim): State<Sim>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<()> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    member(&db, &headers, account_id)?;
    let previous = find(&db, account_id, display_id)?.priority;
    let priority: Option<Priority> = parse(&body["priority"], "priority")?;
    let key = (account_id, display_id);
    update(
        &sim,
        &mut db,
        key,
        "priority",
        json!(previous),
        json!(priority),
        |conv| conv.priority = priority,
    );
    Ok(())
}

/// `{assignee_id}` → the agent JSON, `{team_id}` → the team row; an id that is not in the
/// account unassigns and answers `null`, as Chatwoot does.
pub(super) async fn assign(
    State(sim): State<Sim>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    member(&db, &headers, account_id)?;
    let conv = find(&db, account_id, display_id)?;
    let (attr, previous, current, answer) = if body.get("assignee_id").is_some() {
        let agent = body["assignee_id"]
            .as_i64()
            .and_then(|id| db.member(account_id, id))
            .copied();
        let answer = agent
            .and_then(|m| render::agent(&db, &m))
            .unwrap_or(Value::Null);
        (
            "assignee_id",
            conv.assignee_id,
            agent.map(|m| m.user_id),
            answer,
        )
    } else if body.get("team_id").is_some() {
        let team = body["team_id"]
            .as_i64()
            .and_then(|id| db.teams.get(&id))
            .filter(|t| t.account_id == account_id);
        let answer = team.map_or(Value::Null, |t| render::team(t, None));
        ("team_id", conv.team_id, team.map(|t| t.id), answer)
    } else {
        return Ok(Json(Value::Null));
    };
    update(
        &sim,
        &mut db,
        (account_id, display_id),
        attr,
        json!(previous),
        json!(current),
        |conv| match attr {
            "assignee_id" => conv.assignee_id = current,
            _ => conv.team_id = current,
        },
    );
    Ok(Json(answer))
}

/// Replaces the label set (titles are not checked against account labels, like Chatwoot).
pub(super) async fn set_labels(
    State(sim): State<Sim>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    member(&db, &headers, account_id)?;
    let previous = find(&db, account_id, display_id)?.labels.clone();
    let mut labels: Vec<String> = parse(&body["labels"], "labels")?;
    labels.dedup();
    let current = labels.clone();
    update(
        &sim,
        &mut db,
        (account_id, display_id),
        "label_list",
        json!(previous),
        json!(labels),
        |conv| conv.labels = current,
    );
    Ok(Json(json!({ "payload": labels })))
}

pub(super) async fn set_custom_attributes(
    State(sim): State<Sim>,
    Path((account_id, display_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    member(&db, &headers, account_id)?;
    let previous = find(&db, account_id, display_id)?.custom_attributes.clone();
    let attributes: serde_json::Map<String, Value> =
        parse(&body["custom_attributes"], "custom_attributes")?;
    let current = attributes.clone();
    let (before, after) = (Value::Object(previous), Value::Object(attributes.clone()));
    update(
        &sim,
        &mut db,
        (account_id, display_id),
        "custom_attributes",
        before,
        after,
        |conv| conv.custom_attributes = current,
    );
    Ok(Json(json!({ "custom_attributes": attributes })))
}

/// Applies a change that Chatwoot's dirty tracking would see: `apply` sets the new value,
/// `updated_at` moves on, and `conversation_updated` lists `attr` from `previous` to
/// `current`. An unchanged value emits nothing.
fn update(
    sim: &Sim,
    db: &mut Db,
    (account_id, display_id): (i64, i64),
    attr: &str,
    previous: Value,
    current: Value,
    apply: impl FnOnce(&mut SimConversation),
) {
    if previous == current {
        return;
    }
    let conv = db
        .conversation_mut(account_id, display_id)
        .expect("found by the caller");
    apply(conv);
    conv.updated_at = now();
    let changes = vec![change(attr, previous, current)];
    conversation_event(
        sim,
        db,
        account_id,
        display_id,
        WebhookEvent::ConversationUpdated,
        changes,
    );
}
