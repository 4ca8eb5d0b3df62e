//! Account webhooks (admin only) and dashboard apps (any member reads, admins write).

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::get,
};
use serde_json::{Value, json};

use super::wire::WebhookEvent;
use super::{
    auth::{ApiError, ApiResult, admin, member},
    model::{Db, SimDashboardApp, SimWebhook, now, token},
    render,
    routes::{Sim, json_body},
};

pub(super) fn routes() -> Router<Sim> {
    Router::new()
        .route(
            "/api/v1/accounts/{account_id}/webhooks",
            get(list_webhooks).post(create_webhook),
        )
        .route(
            "/api/v1/accounts/{account_id}/webhooks/{id}",
            axum::routing::patch(update_webhook).delete(delete_webhook),
        )
        .route(
            "/api/v1/accounts/{account_id}/dashboard_apps",
            get(list_apps).post(create_app),
        )
        .route(
            "/api/v1/accounts/{account_id}/dashboard_apps/{id}",
            get(show_app).patch(update_app).delete(delete_app),
        )
}

/// Whether this simulated Chatwoot has webhook secrets (≥ 4.11.2), see `unsigned()`.
fn signs(sim: &Sim) -> bool {
    !sim.unsigned.load(std::sync::atomic::Ordering::Relaxed)
}

fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// Checks and applies `{webhook:{url?, name?, subscriptions?}}` to `hook`.
fn apply_webhook(db: &Db, hook: &mut SimWebhook, body: &Value) -> ApiResult<()> {
    let input = &body["webhook"];
    if let Some(url) = input["url"].as_str() {
        hook.url = url.trim().to_string();
    }
    if !is_http_url(&hook.url) {
        return Err(ApiError::invalid("Url is invalid", "url"));
    }
    let taken = db
        .webhooks
        .values()
        .any(|w| w.account_id == hook.account_id && w.id != hook.id && w.url == hook.url);
    if taken {
        return Err(ApiError::invalid("Url has already been taken", "url"));
    }
    if let Some(name) = input.get("name") {
        hook.name = name.as_str().map(str::to_owned);
    }
    if let Some(subscriptions) = input.get("subscriptions") {
        let names: Option<Vec<String>> = subscriptions.as_array().and_then(|items| {
            items
                .iter()
                .map(|s| {
                    s.as_str()
                        .filter(|s| WebhookEvent::parse(s).is_some())
                        .map(str::to_owned)
                })
                .collect()
        });
        hook.subscriptions = names
            .ok_or_else(|| ApiError::invalid("Subscriptions Invalid events", "subscriptions"))?;
    }
    if hook.subscriptions.is_empty() {
        return Err(ApiError::invalid(
            "Subscriptions Invalid events",
            "subscriptions",
        ));
    }
    Ok(())
}

async fn list_webhooks(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    admin(&db, &headers, account_id)?;
    let hooks: Vec<Value> = db
        .webhooks
        .values()
        .filter(|w| w.account_id == account_id)
        .map(|w| render::webhook(w, signs(&sim)))
        .collect();
    Ok(Json(json!({ "payload": { "webhooks": hooks } })))
}

async fn create_webhook(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    admin(&db, &headers, account_id)?;
    let mut hook = SimWebhook {
        id: 0,
        account_id,
        name: None,
        url: String::new(),
        subscriptions: Vec::new(),
        // `has_secure_token`: 24 alphanumeric characters.
        secret: token(24),
    };
    apply_webhook(&db, &mut hook, &body)?;
    hook.id = db.next_id();
    db.webhooks.insert(hook.id, hook.clone());
    Ok(Json(
        json!({ "payload": { "webhook": render::webhook(&hook, signs(&sim)) } }),
    ))
}

async fn update_webhook(
    State(sim): State<Sim>,
    Path((account_id, id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    admin(&db, &headers, account_id)?;
    let mut hook = db
        .webhooks
        .get(&id)
        .filter(|w| w.account_id == account_id)
        .cloned()
        .ok_or_else(ApiError::not_found)?;
    apply_webhook(&db, &mut hook, &body)?;
    db.webhooks.insert(id, hook.clone());
    Ok(Json(
        json!({ "payload": { "webhook": render::webhook(&hook, signs(&sim)) } }),
    ))
}

async fn delete_webhook(
    State(sim): State<Sim>,
    Path((account_id, id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> ApiResult<()> {
    let mut db = sim.db();
    admin(&db, &headers, account_id)?;
    match db.webhooks.get(&id) {
        Some(w) if w.account_id == account_id => {
            db.webhooks.remove(&id);
            Ok(())
        }
        _ => Err(ApiError::not_found()),
    }
}

/// Checks and applies `{dashboard_app:{title?, content?}}`; content must be a non-empty
/// array of `{type:"frame", url:"http(s)://…"}`.
fn apply_app(app: &mut SimDashboardApp, body: &Value) -> ApiResult<()> {
    let input = &body["dashboard_app"];
    if let Some(title) = input["title"].as_str() {
        app.title = title.trim().to_string();
    }
    if app.title.is_empty() {
        return Err(ApiError::invalid("Title can't be blank", "title"));
    }
    if let Some(content) = input.get("content") {
        app.content = content.clone();
    }
    let valid = app.content.as_array().is_some_and(|frames| {
        !frames.is_empty()
            && frames
                .iter()
                .all(|f| f["type"] == "frame" && f["url"].as_str().is_some_and(is_http_url))
    });
    if !valid {
        return Err(ApiError::invalid("Content : Invalid data", "content"));
    }
    Ok(())
}

fn find_app(db: &Db, account_id: i64, id: i64) -> ApiResult<&SimDashboardApp> {
    db.dashboard_apps
        .get(&id)
        .filter(|a| a.account_id == account_id)
        .ok_or_else(ApiError::not_found)
}

async fn list_apps(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    member(&db, &headers, account_id)?;
    let apps: Vec<Value> = db
        .dashboard_apps
        .values()
        .filter(|a| a.account_id == account_id)
        .map(render::dashboard_app)
        .collect();
    Ok(Json(Value::Array(apps)))
}

async fn show_app(
    State(sim): State<Sim>,
    Path((account_id, id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let db = sim.db();
    member(&db, &headers, account_id)?;
    Ok(Json(render::dashboard_app(find_app(&db, account_id, id)?)))
}

async fn create_app(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    let user_id = admin(&db, &headers, account_id)?;
    let mut app = SimDashboardApp {
        id: 0,
        account_id,
        user_id,
        title: String::new(),
        content: Value::Null,
        created_at: now(),
    };
    apply_app(&mut app, &body)?;
    app.id = db.next_id();
    db.dashboard_apps.insert(app.id, app.clone());
    Ok(Json(render::dashboard_app(&app)))
}

async fn update_app(
    State(sim): State<Sim>,
    Path((account_id, id)): Path<(i64, i64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    admin(&db, &headers, account_id)?;
    let mut app = find_app(&db, account_id, id)?.clone();
    apply_app(&mut app, &body)?;
    db.dashboard_apps.insert(id, app.clone());
    Ok(Json(render::dashboard_app(&app)))
}

/// `head :no_content`.
async fn delete_app(
    State(sim): State<Sim>,
    Path((account_id, id)): Path<(i64, i64)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let mut db = sim.db();
    admin(&db, &headers, account_id)?;
    find_app(&db, account_id, id)?;
    db.dashboard_apps.remove(&id);
    Ok(StatusCode::NO_CONTENT)
}
