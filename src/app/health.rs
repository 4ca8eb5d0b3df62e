use std::time::Duration;

use axum::{extract::State, http::StatusCode, routing::get};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    app::state::AppState,
    platform::{
        error::{AppError, AppResult, Problem},
        json::ApiJson,
    },
};

/// `/health/live` and `/health/ready`, and the same under the names orchestrators probe by
/// default (`/healthz` and `/livez`, `/readyz`), which would otherwise reach the web UI's
/// fallback and answer 200 whatever the database's state.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(ready))
        .route("/healthz", get(live))
        .route("/livez", get(live))
        .route("/readyz", get(ready))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(get, path = "/health/live", tag = "health", security(()),
    responses((status = 200, body = Health)))]
async fn live() -> ApiJson<Health> {
    ApiJson(Health { status: "ok" })
}

/// The hub can serve: its database answers.
#[utoipa::path(get, path = "/health/ready", tag = "health", security(()),
    responses((status = 200, body = Health), (status = 503, body = Problem)))]
async fn ready(State(state): State<AppState>) -> AppResult<(StatusCode, ApiJson<Health>)> {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => Ok((StatusCode::OK, ApiJson(Health { status: "ready" }))),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: database check failed");
            Err(AppError::Unavailable {
                reason: "The database is not reachable.".into(),
            })
        }
        Err(_) => Err(AppError::Unavailable {
            reason: "The database did not answer in time.".into(),
        }),
    }
}
