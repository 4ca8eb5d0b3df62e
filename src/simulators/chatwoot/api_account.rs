//! Sign-in, profile and the read-only account resources.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{
    auth::{ApiError, ApiResult, current_user, member},
    model::{Session, now, token},
    render,
    routes::{Sim, json_body},
};

/// devise_token_auth sessions live two months (`token_lifespan`).
const SESSION_SECS: i64 = 60 * 24 * 3600;

/// `POST /auth/sign_in`: a new devise session in the response headers, the user in `data`.
pub(super) async fn sign_in(State(sim): State<Sim>, body: Bytes) -> ApiResult<Response> {
    let body = json_body(&body)?;
    let (email, password) = (
        body["email"].as_str().unwrap_or_default(),
        body["password"].as_str().unwrap_or_default(),
    );
    let mut db = sim.db();
    let Some(user_id) = db
        .user_by_email(email)
        .filter(|u| !password.is_empty() && u.password == password)
        .map(|u| u.id)
    else {
        let body =
            json!({ "success": false, "errors": ["Invalid login credentials. Please try again."] });
        return Ok((StatusCode::UNAUTHORIZED, Json(body)).into_response());
    };
    let session = Session {
        client: token(22),
        access_token: token(22),
        expiry: now().unix_timestamp() + SESSION_SECS,
    };
    let user = db.users.get_mut(&user_id).expect("found above");
    user.sessions.push(session.clone());
    let user = user.clone();
    let data = render::auth_data(&db, &user);
    let mut response = Json(json!({ "data": data })).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("access-token", session.access_token.as_str()),
        ("token-type", "Bearer"),
        ("client", session.client.as_str()),
        ("expiry", &session.expiry.to_string()),
        ("uid", user.email.as_str()),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    Ok(response)
}

/// `GET /auth/validate_token` (Chatwoot wraps devise's answer in `payload`).
pub(super) async fn validate_token(State(sim): State<Sim>, headers: HeaderMap) -> Response {
    let db = sim.db();
    let user = current_user(&db, &headers)
        .ok()
        .filter(|_| headers.get("api_access_token").is_none())
        .and_then(|id| db.users.get(&id));
    match user {
        Some(user) => {
            let mut data = render::auth_data(&db, user);
            data["created_at"] = json!(null);
            Json(json!({ "payload": { "success": true, "data": data } })).into_response()
        }
        None => {
            let body = json!({ "success": false, "errors": ["Invalid login credentials"] });
            (StatusCode::UNAUTHORIZED, Json(body)).into_response()
        }
    }
}

pub(super) async fn profile(State(sim): State<Sim>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let db = sim.db();
    let user_id = current_user(&db, &headers)?;
    Ok(Json(render::profile(&db, &db.users[&user_id])))
}

pub(super) async fn account(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    member(&db, &headers, account_id)?;
    Ok(Json(render::account(&db.accounts[&account_id])))
}

pub(super) async fn inboxes(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    member(&db, &headers, account_id)?;
    let payload: Vec<Value> = db
        .inboxes
        .values()
        .filter(|i| i.account_id == account_id)
        .map(render::inbox)
        .collect();
    Ok(Json(json!({ "payload": payload })))
}

/// A plain array, one agent per membership.
pub(super) async fn agents(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    member(&db, &headers, account_id)?;
    let agents: Vec<Value> = db
        .members_of(account_id)
        .filter_map(|m| render::agent(&db, m))
        .collect();
    Ok(Json(Value::Array(agents)))
}

/// `{payload: [user…]}`: the agents who are members of the inbox.
pub(super) async fn inbox_members(
    State(sim): State<Sim>,
    Path((account_id, inbox_id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    member(&db, &headers, account_id)?;
    let inbox = db
        .inboxes
        .get(&inbox_id)
        .filter(|i| i.account_id == account_id)
        .ok_or_else(ApiError::not_found)?;
    let agents: Vec<Value> = db
        .members_of(account_id)
        .filter(|m| inbox.members.contains(&m.user_id))
        .filter_map(|m| render::agent(&db, m))
        .collect();
    Ok(Json(json!({ "payload": agents })))
}

/// A plain array with `is_member` for the caller.
pub(super) async fn teams(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    let (user_id, _) = member(&db, &headers, account_id)?;
    let teams: Vec<Value> = db
        .teams
        .values()
        .filter(|t| t.account_id == account_id)
        .map(|t| render::team(t, Some(user_id)))
        .collect();
    Ok(Json(Value::Array(teams)))
}

pub(super) async fn labels(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    member(&db, &headers, account_id)?;
    let payload: Vec<Value> = db
        .labels
        .values()
        .filter(|l| l.account_id == account_id)
        .map(|l| {
            json!({
                "id": l.id,
                "title": l.title,
                "description": null,
                "color": l.color,
                "show_on_sidebar": true,
            })
        })
        .collect();
    Ok(Json(json!({ "payload": payload })))
}
