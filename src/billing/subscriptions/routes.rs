use axum::{extract::State, http::StatusCode};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Payment, Pix, Status, Subscription,
    flow::{self, SubscribeInput, Subscribed},
    store,
};
use crate::{
    app::state::AppState,
    billing::plans::{self, Plan},
    entitlements::Entitlements,
    platform::{
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        pagination::{Page, PageParams},
        params::{ApiPath, ApiQuery},
    },
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(billing))
        .routes(routes!(subscribe, change_plan, cancel))
        .routes(routes!(payments))
        .routes(routes!(payment_pix))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: Uuid,
    pub status: Status,
    pub plan: Plan,
    /// The plan a downgrade moves to when the paid period ends.
    pub pending_plan: Option<Plan>,
    pub billing_type: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub current_period_end: Option<OffsetDateTime>,
    #[serde(with = "crate::platform::time_input::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub next_due_date: Option<Date>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub trial_ends_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub grace_until: Option<OffsetDateTime>,
    /// Ends when the paid period does.
    pub cancel_at_period_end: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

pub async fn view(state: &AppState, sub: &Subscription) -> AppResult<SubscriptionView> {
    let plan = |id| async move {
        plans::store::get(&state.db, id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("plan {id} is gone")))
    };
    let pending_plan = match sub.pending_plan_id {
        Some(id) => Some(plan(id).await?),
        None => None,
    };
    Ok(SubscriptionView {
        id: sub.id,
        status: sub.status,
        plan: plan(sub.plan_id).await?,
        pending_plan,
        billing_type: sub.billing_type.clone(),
        current_period_end: sub.current_period_end,
        next_due_date: sub.next_due_date,
        trial_ends_at: sub.trial_ends_at,
        grace_until: sub.grace_until,
        cancel_at_period_end: sub.cancel_at_period_end,
        created_at: sub.created_at,
    })
}

/// The account's billing. Agents see only `status` and `grace_until` (for the banner).
#[derive(Debug, Serialize, ToSchema)]
pub struct BillingView {
    /// `none` before the first subscription, else the newest subscription's status.
    pub status: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub grace_until: Option<OffsetDateTime>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<BillingDetails>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BillingDetails {
    pub subscription: Option<SubscriptionView>,
    pub plan: Option<Plan>,
    pub pending_plan: Option<Plan>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub current_period_end: Option<OffsetDateTime>,
    #[serde(with = "crate::platform::time_input::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    pub next_due_date: Option<Date>,
    /// The latest payments, newest first (the rest at `…/billing/payments`).
    pub payments: Vec<Payment>,
    /// What the account may have now: the plan in force and any overrides.
    pub entitlements: Entitlements,
}

/// Latest payments the billing page shows.
const LATEST: u32 = 5;

/// The account's subscription, latest payments and entitlements in force.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/billing", tag = "billing",
    params(("accountId" = Uuid, Path)),
    responses((status = 200, body = BillingView), (status = 404, body = Problem),
        (status = 503, body = Problem, description = "billing_unavailable: no ASAAS_API_KEY")))]
async fn billing(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<BillingView>> {
    // The billing page tells "not configured on this hub" from "not subscribed".
    state.billing.asaas()?;
    let sub = store::latest(&state.db, scope.account_id).await?;
    let status = sub
        .as_ref()
        .map_or("none", |s| s.status.as_str())
        .to_string();
    let grace_until = sub.as_ref().and_then(|s| s.grace_until);
    if scope.role < Role::Supervisor {
        return Ok(ApiJson(BillingView {
            status,
            grace_until,
            details: None,
        }));
    }
    let subscription = match &sub {
        Some(sub) => Some(view(&state, sub).await?),
        None => None,
    };
    let page = crate::platform::pagination::PageRequest {
        limit: LATEST,
        after: None,
    };
    let mut payments = store::payments_page(&state.db, scope.account_id, page).await?;
    payments.truncate(LATEST as usize);
    let entitlements = crate::entitlements::store::effective(
        &state.db,
        &state.config.plan_defaults,
        scope.account_id,
    )
    .await?;
    let details = BillingDetails {
        plan: subscription.as_ref().map(|s| s.plan.clone()),
        pending_plan: subscription.as_ref().and_then(|s| s.pending_plan.clone()),
        current_period_end: sub.as_ref().and_then(|s| s.current_period_end),
        next_due_date: sub.as_ref().and_then(|s| s.next_due_date),
        subscription,
        payments,
        entitlements,
    };
    Ok(ApiJson(BillingView {
        status,
        grace_until,
        details: Some(details),
    }))
}

/// Subscribes the account to a plan (account admin): creates the Asaas customer (once) and
/// subscription, and answers with the first charge (for PIX, its code and QR image).
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/billing/subscription", tag = "billing",
    params(("accountId" = Uuid, Path)), request_body = SubscribeInput,
    responses((status = 201, body = Subscribed), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "already_subscribed, subscription_in_progress"),
        (status = 422, body = Problem, description = "validation_failed, invalid_cpf_cnpj, asaas_rejected"),
        (status = 502, body = Problem, description = "asaas_unreachable"),
        (status = 503, body = Problem, description = "billing_unavailable")))]
async fn subscribe(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<SubscribeInput>,
) -> AppResult<(StatusCode, ApiJson<Subscribed>)> {
    scope.require(Role::Admin)?;
    let subscribed = flow::subscribe(&state, &scope, body).await?;
    Ok((StatusCode::CREATED, ApiJson(subscribed)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePlan {
    pub plan_id: Uuid,
}

/// Changes the plan (account admin): a dearer one at once, a cheaper one when the paid
/// period ends (`pending_plan`), once the account's usage fits it.
#[utoipa::path(put, path = "/api/v1/accounts/{accountId}/billing/subscription", tag = "billing",
    params(("accountId" = Uuid, Path)), request_body = ChangePlan,
    responses((status = 200, body = SubscriptionView), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "not_subscribed, usage_exceeds_plan"),
        (status = 422, body = Problem), (status = 502, body = Problem), (status = 503, body = Problem)))]
async fn change_plan(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<ChangePlan>,
) -> AppResult<ApiJson<SubscriptionView>> {
    scope.require(Role::Admin)?;
    let sub = flow::change(&state, &scope, body.plan_id).await?;
    Ok(ApiJson(view(&state, &sub).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CancelQuery {
    /// End it now rather than when the paid period ends.
    #[serde(default)]
    pub immediately: bool,
}

/// Cancels the subscription (account admin) at the end of the paid period, or now.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/billing/subscription", tag = "billing",
    params(("accountId" = Uuid, Path), CancelQuery),
    responses((status = 200, body = SubscriptionView), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "not_subscribed"),
        (status = 502, body = Problem), (status = 503, body = Problem)))]
async fn cancel(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(query): ApiQuery<CancelQuery>,
) -> AppResult<ApiJson<SubscriptionView>> {
    scope.require(Role::Admin)?;
    let sub = flow::cancel(&state, &scope, query.immediately).await?;
    Ok(ApiJson(view(&state, &sub).await?))
}

/// Every payment of the account, newest first (admins and supervisors).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/billing/payments", tag = "billing",
    params(("accountId" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<Payment>), (status = 403, body = Problem)))]
async fn payments(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(params): ApiQuery<PageParams>,
) -> AppResult<ApiJson<Page<Payment>>> {
    scope.require(Role::Supervisor)?;
    let page = params.parse()?;
    let rows = store::payments_page(&state.db, scope.account_id, page).await?;
    Ok(ApiJson(Page::from_rows(rows, page, |p| p.id)))
}

/// The PIX code and QR image of an open charge (admins and supervisors).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/billing/payments/{paymentId}/pix",
    tag = "billing", params(("accountId" = Uuid, Path), ("paymentId" = Uuid, Path)),
    responses((status = 200, body = Pix), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "payment_not_open")))]
async fn payment_pix(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
) -> AppResult<ApiJson<Pix>> {
    scope.require(Role::Supervisor)?;
    let payment = store::payment(&state.db, scope.account_id, path.1)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ApiJson(flow::pix_of(&state, &payment).await?))
}
