use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Cycle, Plan, store};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    auth::CurrentUser,
    billing::money,
    entitlements::Entitlements,
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiQuery,
        validate::Validator,
    },
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(update_plan, delete_plan))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Archived plans too (super admins only).
    #[serde(default)]
    pub include_archived: bool,
}

/// The plans on offer, in order. Public: the pricing page needs no account.
#[utoipa::path(get, path = "/api/v1/plans", tag = "billing", security(()), params(PlanQuery),
    responses((status = 200, body = Vec<Plan>), (status = 403, body = Problem)))]
async fn list_plans(
    State(state): State<AppState>,
    user: Option<CurrentUser>,
    ApiQuery(query): ApiQuery<PlanQuery>,
) -> AppResult<ApiJson<Vec<Plan>>> {
    if query.include_archived && !user.is_some_and(|u| u.is_super_admin) {
        return Err(AppError::forbidden());
    }
    Ok(ApiJson(
        store::list(&state.db, query.include_archived).await?,
    ))
}

/// A plan as super admins write it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    #[schema(example = "pro")]
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Decimal string with at most two decimals, e.g. `"149.90"`.
    #[schema(example = "149.90")]
    pub price: String,
    /// Only `BRL` (what Asaas charges in).
    #[serde(default = "brl")]
    pub currency: String,
    /// `MONTHLY`, `QUARTERLY`, `SEMIANNUALLY` or `YEARLY`.
    #[schema(example = "MONTHLY")]
    pub cycle: String,
    #[serde(default)]
    pub trial_days: i32,
    pub entitlements: Entitlements,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub position: i32,
}

fn brl() -> String {
    "BRL".into()
}

fn yes() -> bool {
    true
}

impl PlanInput {
    /// The plan this input describes, checked, as `id` created at `created_at`.
    fn into_plan(self, id: Uuid, created_at: time::OffsetDateTime) -> AppResult<Plan> {
        let mut v = Validator::default();
        let code_ok = (2..=40).contains(&self.code.len())
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !self.code.starts_with('-');
        v.check(code_ok, "code", "must be 2 to 40 of a-z, 0-9 and -")
            .text("name", &self.name, 80)
            .check(
                self.description.chars().count() <= 500,
                "description",
                "must be at most 500 characters",
            );
        let price = money::parse(&self.price).filter(|cents| *cents > 0);
        v.check(
            price.is_some(),
            "price",
            "must be a positive amount like 149.90",
        );
        v.check(self.currency == "BRL", "currency", "must be BRL");
        let cycle = Cycle::parse(&self.cycle);
        v.check(
            cycle.is_some(),
            "cycle",
            "must be MONTHLY, QUARTERLY, SEMIANNUALLY or YEARLY",
        );
        v.check(
            (0..=365).contains(&self.trial_days),
            "trial_days",
            "must be between 0 and 365",
        );
        let limits = serde_json::to_value(&self.entitlements.limits).unwrap_or_default();
        for (name, value) in limits.as_object().into_iter().flatten() {
            v.check(
                value.as_i64().is_some_and(|n| n >= 0),
                &format!("entitlements.limits.{name}"),
                "must be zero or more",
            );
        }
        v.finish()?;
        Ok(Plan {
            id,
            code: self.code,
            name: self.name.trim().to_string(),
            description: self.description.trim().to_string(),
            price: String::new(),
            price_cents: price.unwrap_or_default(),
            currency: self.currency,
            cycle: cycle.unwrap_or(Cycle::Monthly),
            trial_days: self.trial_days,
            entitlements: self.entitlements,
            active: self.active,
            position: self.position,
            created_at,
            updated_at: clock::now(),
        })
        .map(|mut plan| {
            plan.price = money::format(plan.price_cents);
            plan
        })
    }
}

fn super_admin(user: &CurrentUser) -> AppResult<()> {
    if user.is_super_admin {
        Ok(())
    } else {
        Err(AppError::forbidden())
    }
}

/// Creates a plan (super admin).
#[utoipa::path(post, path = "/api/v1/plans", tag = "billing", request_body = PlanInput,
    responses((status = 201, body = Plan), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(body): ApiJson<PlanInput>,
) -> AppResult<(StatusCode, ApiJson<Plan>)> {
    super_admin(&user)?;
    let plan = body.into_plan(Uuid::now_v7(), clock::now())?;
    let mut tx = state.db.begin().await?;
    store::insert(&mut tx, &plan).await?;
    let entry = AuditEntry::by(Actor::from(&user), None, "plan.created", "plan", plan.id)
        .changes(None::<&Plan>, Some(&plan));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(plan)))
}

/// Replaces a plan (super admin). Subscribers get new entitlements at once; a plan with
/// subscribers keeps its price and cycle (409 `plan_has_subscribers`: offer a new plan and
/// archive this one), which Asaas charges them.
#[utoipa::path(put, path = "/api/v1/plans/{planId}", tag = "billing", request_body = PlanInput,
    params(("planId" = Uuid, Path)),
    responses((status = 200, body = Plan), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(plan_id): Path<Uuid>,
    ApiJson(body): ApiJson<PlanInput>,
) -> AppResult<ApiJson<Plan>> {
    super_admin(&user)?;
    let mut tx = state.db.begin().await?;
    let before = store::get(&mut tx, plan_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let plan = body.into_plan(plan_id, before.created_at)?;
    let repriced = plan.price_cents != before.price_cents || plan.cycle != before.cycle;
    if repriced && store::has_subscribers(&mut tx, plan_id).await? {
        return Err(AppError::Conflict {
            code: "plan_has_subscribers",
            message: "Accounts are subscribed to this plan at its price and cycle: make a new plan and archive this one.".into(),
        });
    }
    store::update(&mut tx, &plan).await?;
    let entry = AuditEntry::by(Actor::from(&user), None, "plan.updated", "plan", plan.id)
        .changes(Some(&before), Some(&plan));
    audit::record(&mut tx, entry).await?;
    // Every subscriber's entitlements may have changed: their caches follow revisions.
    crate::billing::subscriptions::store::bump_subscribers(&mut tx, plan_id).await?;
    tx.commit().await?;
    Ok(ApiJson(plan))
}

/// Withdraws a plan (super admin): deleted when no subscription ever named it, archived
/// (kept for its subscribers, offered to no one) otherwise.
#[utoipa::path(delete, path = "/api/v1/plans/{planId}", tag = "billing",
    params(("planId" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_plan(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(plan_id): Path<Uuid>,
) -> AppResult<StatusCode> {
    super_admin(&user)?;
    let mut tx = state.db.begin().await?;
    let plan = store::get(&mut tx, plan_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let action = if store::delete_unused(&mut tx, plan_id).await? {
        "plan.deleted"
    } else {
        store::archive(&mut tx, plan_id, clock::now()).await?;
        "plan.archived"
    };
    let entry = AuditEntry::by(Actor::from(&user), None, action, "plan", plan_id)
        .changes(Some(&plan), None::<&Plan>);
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
