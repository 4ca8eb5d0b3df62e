//! Platform API: platform app tokens only, and only on resources the app created
//! (its permissibles); anything else is 401 `Non permissible resource`.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::HeaderMap,
    routing::{get, post},
};
use serde_json::{Map, Value, json};

use super::wire::Role;
use super::{
    auth::{ApiError, ApiResult, non_permissible, platform_app},
    model::{Db, SimAccount, SimMember, SimUser, now, token},
    render,
    routes::{Sim, json_body},
};

pub(super) fn routes() -> Router<Sim> {
    Router::new()
        .route("/platform/api/v1/accounts", post(create_account))
        .route(
            "/platform/api/v1/accounts/{id}",
            get(show_account).delete(delete_account),
        )
        .route(
            "/platform/api/v1/accounts/{id}/account_users",
            post(add_account_user),
        )
        .route("/platform/api/v1/users", post(create_user))
        .route("/platform/api/v1/users/{id}/token", post(user_token))
}

fn owns_account(db: &Db, app_id: i64, account_id: i64) -> ApiResult<()> {
    if !db.accounts.contains_key(&account_id) {
        return Err(ApiError::not_found());
    }
    if !db.platform_apps[&app_id].accounts.contains(&account_id) {
        return Err(non_permissible());
    }
    Ok(())
}

fn owns_user(db: &Db, app_id: i64, user_id: i64) -> ApiResult<()> {
    if !db.users.contains_key(&user_id) {
        return Err(ApiError::not_found());
    }
    if !db.platform_apps[&app_id].users.contains(&user_id) {
        return Err(non_permissible());
    }
    Ok(())
}

fn text(body: &Value, key: &str) -> Option<String> {
    body[key]
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn attributes(body: &Value) -> Map<String, Value> {
    body["custom_attributes"]
        .as_object()
        .cloned()
        .unwrap_or_default()
}

pub(super) fn insert_account(db: &mut Db, name: &str) -> i64 {
    let id = db.next_id();
    db.accounts.insert(
        id,
        SimAccount {
            id,
            name: name.to_string(),
            locale: "en".into(),
            status: "active".into(),
            support_email: None,
            custom_attributes: Map::new(),
            created_at: now(),
            next_display_id: 1,
        },
    );
    id
}

async fn create_account(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    let app_id = platform_app(&db, &headers)?;
    let name =
        text(&body, "name").ok_or_else(|| ApiError::invalid("Name can't be blank", "name"))?;
    let id = insert_account(&mut db, &name);
    let account = db.accounts.get_mut(&id).expect("just inserted");
    account.locale = text(&body, "locale").unwrap_or_else(|| "en".into());
    account.support_email = text(&body, "support_email");
    account.custom_attributes = attributes(&body);
    let answer = render::platform_account(account);
    db.platform_apps
        .get_mut(&app_id)
        .expect("authenticated")
        .accounts
        .insert(id);
    Ok(Json(answer))
}

async fn show_account(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    let app_id = platform_app(&db, &headers)?;
    owns_account(&db, app_id, id)?;
    Ok(Json(render::platform_account(&db.accounts[&id])))
}

/// Removes the account and everything in it (Chatwoot does this in a job).
async fn delete_account(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<()> {
    let mut db = sim.db();
    let app_id = platform_app(&db, &headers)?;
    owns_account(&db, app_id, id)?;
    db.accounts.remove(&id);
    db.members.retain(|m| m.account_id != id);
    db.inboxes.retain(|_, i| i.account_id != id);
    db.teams.retain(|_, t| t.account_id != id);
    db.labels.retain(|_, l| l.account_id != id);
    db.contacts.retain(|_, c| c.account_id != id);
    db.conversations.retain(|_, c| c.account_id != id);
    db.webhooks.retain(|_, w| w.account_id != id);
    db.dashboard_apps.retain(|_, a| a.account_id != id);
    for app in db.platform_apps.values_mut() {
        app.accounts.remove(&id);
    }
    Ok(())
}

/// `{user_id, role}`: adds the membership or changes its role.
async fn add_account_user(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    let app_id = platform_app(&db, &headers)?;
    owns_account(&db, app_id, account_id)?;
    let user_id = body["user_id"]
        .as_i64()
        .filter(|id| db.users.contains_key(id))
        .ok_or_else(ApiError::not_found)?;
    let role: Role = serde_json::from_value(body["role"].clone()).unwrap_or(Role::Agent);
    let member = match db
        .members
        .iter_mut()
        .find(|m| m.account_id == account_id && m.user_id == user_id)
    {
        Some(existing) => {
            existing.role = role;
            *existing
        }
        None => {
            let member = SimMember {
                id: db.next_id(),
                account_id,
                user_id,
                role,
            };
            db.members.push(member);
            member
        }
    };
    Ok(Json(render::account_user(&member)))
}

/// Creates the user, or adopts the one that already has this email.
async fn create_user(
    State(sim): State<Sim>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    let app_id = platform_app(&db, &headers)?;
    let email = text(&body, "email")
        .filter(|e| e.contains('@'))
        .ok_or_else(|| ApiError::invalid("Email is invalid", "email"))?
        .to_lowercase();
    let id = match db.user_by_email(&email) {
        Some(existing) => existing.id,
        None => {
            let name = text(&body, "name")
                .ok_or_else(|| ApiError::invalid("Name can't be blank", "name"))?;
            let password = text(&body, "password")
                .ok_or_else(|| ApiError::invalid("Password can't be blank", "password"))?;
            let id = db.next_id();
            let user = SimUser {
                id,
                name,
                email,
                api_token: token(24),
                password,
                sessions: Vec::new(),
                custom_attributes: attributes(&body),
                display_name: text(&body, "display_name"),
            };
            db.users.insert(id, user);
            id
        }
    };
    db.platform_apps
        .get_mut(&app_id)
        .expect("authenticated")
        .users
        .insert(id);
    Ok(Json(render::platform_user(&db, &db.users[&id])))
}

/// The user's personal access token.
async fn user_token(
    State(sim): State<Sim>,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    let app_id = platform_app(&db, &headers)?;
    owns_user(&db, app_id, id)?;
    let user = &db.users[&id];
    Ok(Json(json!({
        "access_token": user.api_token,
        "expiry": null,
        "user": {
            "id": user.id,
            "name": user.name,
            "display_name": user.display_name,
            "email": user.email,
            "pubsub_token": format!("pubsub-{}", user.id),
        },
    })))
}
