//! The admin's view of an account's inbound deliveries: the list, and replays.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Delivery, store};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        pagination::{Page, PageParams},
        params::{ApiPath, ApiQuery},
    },
    tenancy::{AccountScope, Role},
};

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(list_deliveries))
        .routes(utoipa_axum::routes!(replay_dead))
        .routes(utoipa_axum::routes!(replay_one))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// `pending`, `processing`, `done` or `dead`.
    pub status: Option<String>,
}

/// The account's received webhook deliveries, newest first (admins).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/webhook-deliveries", tag = "webhooks",
    params(("accountId" = Uuid, Path), DeliveryFilter, PageParams),
    responses((status = 200, body = Page<Delivery>), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_deliveries(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> AppResult<ApiJson<Page<Delivery>>> {
    scope.require(Role::Admin)?;
    let page = page.parse()?;
    let status = filter.status.as_deref();
    if status.is_some_and(|s| !["pending", "processing", "done", "dead"].contains(&s)) {
        return Err(AppError::validation(
            "status",
            "must be pending, processing, done or dead",
        ));
    }
    let rows = store::list(&state.db, scope.account_id, status, page).await?;
    Ok(ApiJson(Page::from_rows(rows, page, |d| d.id)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// How many deliveries went back into the queue.
    pub replayed: u64,
}

async fn replay(
    state: &AppState,
    scope: &AccountScope,
    delivery: Option<Uuid>,
) -> AppResult<ApiJson<Replayed>> {
    scope.require(Role::Admin)?;
    let replayed = store::replay(&state.db, Some(scope.account_id), delivery, clock::now()).await?;
    if let Some(id) = delivery.filter(|_| replayed == 0) {
        return Err(if store::exists(&state.db, scope.account_id, id).await? {
            AppError::Conflict {
                code: "delivery_in_progress",
                message: "A worker is processing this delivery right now; try again shortly."
                    .into(),
            }
        } else {
            AppError::NotFound
        });
    }
    state.deliveries.notify_one();
    audit::record_alone(
        &state.db,
        AuditEntry::new(
            scope,
            "webhook_deliveries.replayed",
            "webhook_delivery",
            delivery.map_or_else(|| "dead".to_string(), |d| d.to_string()),
        )
        .changes(None::<&()>, Some(&Replayed { replayed })),
    )
    .await?;
    Ok(ApiJson(Replayed { replayed }))
}

/// Queues the account's dead deliveries again (admins).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/webhook-deliveries/replay", tag = "webhooks",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = Replayed), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn replay_dead(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<Replayed>> {
    replay(&state, &scope, None).await
}

/// Queues one delivery again, whatever its state (admins); processing is idempotent.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/webhook-deliveries/{deliveryId}/replay", tag = "webhooks",
    params(("accountId" = Uuid, Path), ("deliveryId" = Uuid, Path)),
    responses((status = 200, body = Replayed), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn replay_one(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Replayed>> {
    replay(&state, &scope, Some(path.1)).await
}
