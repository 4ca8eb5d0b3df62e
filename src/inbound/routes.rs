//! The admin's view of an account's inbound deliveries: the list, and replays; and the
//! operator's (super admins) of the deliveries that belong to no account (Asaas's).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{Delivery, store};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    auth::CurrentUser,
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
        .routes(utoipa_axum::routes!(list_unowned))
        .routes(utoipa_axum::routes!(operator_replay_dead))
        .routes(utoipa_axum::routes!(operator_replay_one))
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
    let rows = store::list(&state.db, scope.account_id, filter.checked()?, page).await?;
    Ok(ApiJson(Page::from_rows(rows, page, |d| d.id)))
}

impl DeliveryFilter {
    fn checked(&self) -> AppResult<Option<&str>> {
        let status = self.status.as_deref();
        if status.is_some_and(|s| !["pending", "processing", "done", "dead"].contains(&s)) {
            return Err(AppError::validation(
                "status",
                "must be pending, processing, done or dead",
            ));
        }
        Ok(status)
    }
}

fn operator(user: &CurrentUser) -> AppResult<()> {
    if user.is_super_admin {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// Deliveries that belong to no account (Asaas's events), newest first (super admins).
#[utoipa::path(get, path = "/api/v1/webhook-deliveries", tag = "webhooks",
    params(DeliveryFilter, PageParams),
    responses((status = 200, body = Page<Delivery>), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn list_unowned(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(filter): ApiQuery<DeliveryFilter>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> AppResult<ApiJson<Page<Delivery>>> {
    operator(&user)?;
    let page = page.parse()?;
    let rows = store::list_unowned(&state.db, filter.checked()?, page).await?;
    Ok(ApiJson(Page::from_rows(rows, page, |d| d.id)))
}

/// Queues every dead delivery again, of any account or none (super admins; what
/// `whatpro-hub replay-webhooks` does).
#[utoipa::path(post, path = "/api/v1/webhook-deliveries/replay", tag = "webhooks",
    responses((status = 200, body = Replayed), (status = 403, body = Problem)))]
async fn operator_replay_dead(
    State(state): State<AppState>,
    user: CurrentUser,
) -> AppResult<ApiJson<Replayed>> {
    operator(&user)?;
    operator_replay(&state, &user, None).await
}

/// Queues one delivery again, whatever its account (super admins).
#[utoipa::path(post, path = "/api/v1/webhook-deliveries/{deliveryId}/replay", tag = "webhooks",
    params(("deliveryId" = Uuid, Path)),
    responses((status = 200, body = Replayed), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn operator_replay_one(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiPath(delivery): ApiPath<Uuid>,
) -> AppResult<ApiJson<Replayed>> {
    operator(&user)?;
    operator_replay(&state, &user, Some(delivery)).await
}

async fn operator_replay(
    state: &AppState,
    user: &CurrentUser,
    delivery: Option<Uuid>,
) -> AppResult<ApiJson<Replayed>> {
    let replayed = store::replay(&state.db, None, delivery, clock::now()).await?;
    if delivery.is_some() && replayed == 0 {
        return Err(AppError::NotFound);
    }
    state.deliveries.notify_one();
    let target = delivery.map_or_else(|| "dead".to_string(), |d| d.to_string());
    let entry = AuditEntry::by(
        Actor::from(user),
        None,
        "webhook_deliveries.replayed",
        "webhook_delivery",
        target,
    )
    .changes(None::<&()>, Some(&Replayed { replayed }));
    audit::record_alone(&state.db, entry).await?;
    Ok(ApiJson(Replayed { replayed }))
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
