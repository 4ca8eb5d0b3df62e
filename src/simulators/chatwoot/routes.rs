//! The router, the request counter and fault injection.

use std::sync::{Arc, atomic::Ordering};

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::{Value, json};

use super::{
    api_account, api_conversation_state, api_conversations, api_inboxes, api_integrations,
    api_platform,
    auth::{ApiError, ApiResult},
    dashboard,
    state::{Shared, lock},
};

pub(super) type Sim = Arc<Shared>;

pub(super) fn router(shared: Sim) -> Router {
    const ACCOUNT: &str = "/api/v1/accounts/{account_id}";
    const CONVERSATION: &str = "/api/v1/accounts/{account_id}/conversations/{display_id}";
    let application = Router::new()
        .route("/app/login", get(dashboard::login))
        .route("/app/accounts/{account_id}/{*rest}", get(dashboard::shell))
        .route("/auth/sign_in", post(api_account::sign_in))
        .route("/auth/validate_token", get(api_account::validate_token))
        .route("/api/v1/profile", get(api_account::profile))
        .route(ACCOUNT, get(api_account::account))
        .route(
            &format!("{ACCOUNT}/inboxes"),
            get(api_account::inboxes).post(api_inboxes::create),
        )
        .route(&format!("{ACCOUNT}/agents"), get(api_account::agents))
        .route(&format!("{ACCOUNT}/teams"), get(api_account::teams))
        .route(&format!("{ACCOUNT}/labels"), get(api_account::labels))
        .route(
            &format!("{ACCOUNT}/conversations"),
            get(api_conversations::list),
        )
        .route(CONVERSATION, get(api_conversations::show))
        .route(
            &format!("{ACCOUNT}/inbox_members/{{inbox_id}}"),
            get(api_account::inbox_members),
        )
        .route(
            &format!("{CONVERSATION}/toggle_status"),
            post(api_conversation_state::toggle_status),
        )
        .route(
            &format!("{CONVERSATION}/toggle_priority"),
            post(api_conversation_state::toggle_priority),
        )
        .route(
            &format!("{CONVERSATION}/assignments"),
            post(api_conversation_state::assign),
        )
        .route(
            &format!("{CONVERSATION}/labels"),
            get(api_conversations::labels).post(api_conversation_state::set_labels),
        )
        .route(
            &format!("{CONVERSATION}/custom_attributes"),
            post(api_conversation_state::set_custom_attributes),
        )
        .route(
            &format!("{CONVERSATION}/messages"),
            post(api_conversations::create_message),
        )
        .merge(api_integrations::routes())
        .merge(api_platform::routes());
    application
        .fallback(|| async { ApiError::not_found() })
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            count_and_inject,
        ))
        .with_state(shared)
}

/// Counts every request and, while a fault is armed, answers with its status instead.
async fn count_and_inject(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    sim.requests.fetch_add(1, Ordering::SeqCst);
    let injected = {
        let mut fault = lock(&sim.fault);
        match fault.as_mut() {
            Some(f) if f.remaining > 0 => {
                f.remaining -= 1;
                let status = f.status;
                if f.remaining == 0 {
                    *fault = None;
                }
                Some(status)
            }
            _ => None,
        }
    };
    let Some(status) = injected else {
        return next.run(request).await;
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        axum::Json(json!({ "error": "injected by the simulator" })),
    )
        .into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

/// Request bodies are read leniently (Rails does not insist on a content type); an empty
/// body is `{}`.
pub(super) fn json_body(bytes: &[u8]) -> ApiResult<Value> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(bytes).map_err(|_| ApiError::bad_request("body is not JSON"))
}
