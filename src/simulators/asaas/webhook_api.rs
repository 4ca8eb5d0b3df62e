//! `/v3/webhooks`: the account's webhook configurations, at most 10 (FACTS).

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    model::SimWebhook,
    objects,
    routes::{self, ApiError, ApiResult, Params, Sim},
    webhooks::redeliver,
    wire::{KNOWN_EVENTS, SendType},
};

const MAX_WEBHOOKS: usize = 10;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookInput {
    name: Option<String>,
    url: Option<String>,
    email: Option<String>,
    enabled: Option<bool>,
    interrupted: Option<bool>,
    auth_token: Option<String>,
    send_type: Option<String>,
    events: Option<Vec<String>>,
}

fn send_type(text: &str) -> ApiResult<SendType> {
    SendType::parse(text).ok_or_else(|| {
        ApiError::invalid(
            "invalid_sendType",
            "Tipo de envio inválido: use SEQUENTIALLY ou NON_SEQUENTIALLY.",
        )
    })
}

fn events(events: Vec<String>) -> ApiResult<Vec<String>> {
    if events.is_empty() {
        return Err(ApiError::invalid(
            "invalid_events",
            "Informe ao menos um evento.",
        ));
    }
    if let Some(unknown) = events.iter().find(|e| !KNOWN_EVENTS.contains(&e.as_str())) {
        return Err(ApiError::invalid(
            "invalid_events",
            format!("Evento desconhecido: {unknown}."),
        ));
    }
    Ok(events)
}

fn url(url: String) -> ApiResult<String> {
    let url = url.trim().to_string();
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(ApiError::invalid(
            "invalid_url",
            "A URL do webhook é inválida.",
        ))
    }
}

/// `POST /v3/webhooks`.
pub(super) async fn create(State(sim): State<Sim>, body: Bytes) -> ApiResult {
    let input: WebhookInput = routes::parse(&body)?;
    let url = url(routes::required(
        input.url,
        "invalid_url",
        "A URL do webhook deve ser informada.",
    )?)?;
    let send_type = send_type(input.send_type.as_deref().unwrap_or("SEQUENTIALLY"))?;
    let events = events(input.events.unwrap_or_default())?;
    let hook = SimWebhook {
        id: uuid::Uuid::new_v4().to_string(),
        name: input.name.unwrap_or_default(),
        url,
        email: input.email,
        enabled: input.enabled.unwrap_or(true),
        interrupted: input.interrupted.unwrap_or(false),
        auth_token: input.auth_token.filter(|t| !t.is_empty()),
        send_type,
        events,
    };
    let mut db = sim.db();
    if db.webhooks.len() >= MAX_WEBHOOKS {
        return Err(ApiError::invalid(
            "invalid_action",
            "Limite de 10 webhooks por conta atingido.",
        ));
    }
    let answer = objects::webhook(&hook);
    db.webhooks.push(hook);
    Ok(Json(answer))
}

/// `GET /v3/webhooks`.
pub(super) async fn list(State(sim): State<Sim>, Query(params): Query<Params>) -> ApiResult {
    let items = sim.db().webhooks.iter().map(objects::webhook).collect();
    routes::list(items, &params)
}

/// `GET /v3/webhooks/{id}`.
pub(super) async fn show(State(sim): State<Sim>, Path(id): Path<String>) -> ApiResult {
    let db = sim.db();
    let hook = db.webhook(&id).ok_or_else(ApiError::not_found)?;
    Ok(Json(objects::webhook(hook)))
}

/// `PUT /v3/webhooks/{id}`. Setting `interrupted` back to false resumes a paused queue
/// and replays its backlog in order, as Asaas does.
pub(super) async fn update(
    State(sim): State<Sim>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let input: WebhookInput = routes::parse(&body)?;
    let new_url = input.url.map(url).transpose()?;
    let new_send_type = input.send_type.as_deref().map(send_type).transpose()?;
    let new_events = input.events.map(events).transpose()?;
    let mut db = sim.db();
    let hook = db.webhook_mut(&id).ok_or_else(ApiError::not_found)?;
    let resumed = hook.interrupted && input.interrupted == Some(false);
    if let Some(name) = input.name {
        hook.name = name;
    }
    if let Some(url) = new_url {
        hook.url = url;
    }
    if input.email.is_some() {
        hook.email = input.email;
    }
    hook.enabled = input.enabled.unwrap_or(hook.enabled);
    hook.interrupted = input.interrupted.unwrap_or(hook.interrupted);
    if let Some(token) = input.auth_token {
        hook.auth_token = Some(token).filter(|t| !t.is_empty());
    }
    hook.send_type = new_send_type.unwrap_or(hook.send_type);
    if let Some(events) = new_events {
        hook.events = events;
    }
    let answer = objects::webhook(hook);
    if resumed {
        db.failures.remove(&id);
        redeliver(&sim, &mut db, Some(&id));
    }
    Ok(Json(answer))
}

/// `DELETE /v3/webhooks/{id}`.
pub(super) async fn remove(State(sim): State<Sim>, Path(id): Path<String>) -> ApiResult {
    let mut db = sim.db();
    let before = db.webhooks.len();
    db.webhooks.retain(|w| w.id != id);
    if db.webhooks.len() == before {
        return Err(ApiError::not_found());
    }
    db.backlog.remove(&id);
    db.failures.remove(&id);
    Ok(Json(json!({ "deleted": true, "id": id })))
}
