//! WAHA's session routes: list, create, read, replace the config, delete, the account, and
//! the start, stop, restart and logout actions (201 with the SessionDTO, as NestJS answers
//! a POST).

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    Shared, lifecycle,
    refusal::{Refusal, body},
    session::{SessionStatus, WahaSession},
};

/// The session named, once the edition serves the name: 422 first, then 404, as WAHA.
pub(super) fn existing<'a>(
    shared: &Shared,
    sessions: &'a mut HashMap<String, WahaSession>,
    name: &str,
) -> Result<&'a mut WahaSession, Refusal> {
    shared.serves(name)?;
    sessions.get_mut(name).ok_or_else(Refusal::not_found)
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    all: Option<bool>,
}

/// Sessions by name; stopped ones only with `?all=true`.
pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<ListQuery>,
) -> Json<Vec<Value>> {
    let all = query.all.unwrap_or(false);
    let sessions = shared.sessions();
    let mut shown: Vec<&WahaSession> = sessions
        .values()
        .filter(|s| all || s.status != SessionStatus::Stopped)
        .collect();
    shown.sort_by(|a, b| a.name.cmp(&b.name));
    Json(shown.into_iter().map(WahaSession::info).collect())
}

#[derive(Deserialize, Default)]
pub(super) struct Create {
    name: Option<String>,
    start: Option<bool>,
    config: Option<Value>,
}

pub(super) async fn create(
    State(shared): State<Arc<Shared>>,
    bytes: Bytes,
) -> Result<Response, Refusal> {
    let create: Create = body(&bytes)?;
    let name = create
        .name
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "default".to_string());
    shared.serves(&name)?;
    let mut sessions = shared.sessions();
    if sessions.contains_key(&name) {
        return Err(Refusal::unprocessable(format!(
            "Session '{name}' already exists. Use PUT to update it."
        )));
    }
    let mut session = WahaSession::new(name.clone(), create.config);
    let answer = if create.start.unwrap_or(true) {
        lifecycle::start(&shared, &mut session)
    } else {
        session.dto()
    };
    sessions.insert(name, session);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

pub(super) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let mut sessions = shared.sessions();
    Ok(Json(existing(&shared, &mut sessions, &name)?.info()))
}

#[derive(Deserialize, Default)]
pub(super) struct Update {
    config: Option<Value>,
}

/// Replaces the whole config; a running session restarts to take it.
pub(super) async fn update(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, Refusal> {
    let update: Update = body(&bytes)?;
    let mut sessions = shared.sessions();
    let session = existing(&shared, &mut sessions, &name)?;
    session.set_config(update.config);
    let answer = if session.status.is_running() {
        lifecycle::restart(&shared, session)
    } else {
        session.dto()
    };
    Ok(Json(answer))
}

/// Stop, logout and delete in one; deleting a session that is not there is fine.
pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<StatusCode, Refusal> {
    shared.serves(&name)?;
    let mut sessions = shared.sessions();
    if let Some(mut session) = sessions.remove(&name) {
        lifecycle::stop(&shared, &mut session);
    }
    Ok(StatusCode::OK)
}

/// The account the session is logged in as, or `null`.
pub(super) async fn me(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Json<Value>, Refusal> {
    let mut sessions = shared.sessions();
    let session = existing(&shared, &mut sessions, &name)?;
    Ok(Json(
        session.me.as_ref().map_or(Value::Null, |me| me.json()),
    ))
}

/// Runs a lifecycle action on the session named and answers its DTO with 201.
fn act(
    shared: &Shared,
    name: &str,
    action: fn(&Shared, &mut WahaSession) -> Value,
) -> Result<Response, Refusal> {
    let mut sessions = shared.sessions();
    let session = existing(shared, &mut sessions, name)?;
    Ok((StatusCode::CREATED, Json(action(shared, session))).into_response())
}

pub(super) async fn start(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Response, Refusal> {
    act(&shared, &name, lifecycle::start)
}

pub(super) async fn stop(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Response, Refusal> {
    act(&shared, &name, lifecycle::stop)
}

pub(super) async fn restart(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Response, Refusal> {
    act(&shared, &name, lifecycle::restart)
}

pub(super) async fn logout(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Response, Refusal> {
    act(&shared, &name, lifecycle::logout)
}
