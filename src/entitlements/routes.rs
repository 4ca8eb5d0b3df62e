use std::collections::BTreeMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Entitlements, Features, Limits, Resource, apply, merge, store};
use crate::{
    audit::{self, AuditEntry},
    platform::{error::AppResult, json::ApiJson, state::AppState},
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(usage))
        .routes(routes!(update_entitlements))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Usage {
    pub limits: Limits,
    pub features: Features,
    /// Live resources counted against the limits, by resource name.
    pub usage: BTreeMap<&'static str, i64>,
}

/// Limits, feature flags and current usage of the account.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/usage", tag = "entitlements",
    params(("accountId" = uuid::Uuid, Path)),
    responses((status = 200, body = Usage), (status = 404, body = crate::platform::error::Problem)))]
async fn usage(State(state): State<AppState>, scope: AccountScope) -> AppResult<ApiJson<Usage>> {
    let entitlements =
        store::effective_for(&state.db, &state.config.plan_defaults, scope.account_id).await?;
    let mut usage = BTreeMap::new();
    for resource in Resource::ALL {
        usage.insert(
            resource.name(),
            store::count(&state.db, scope.account_id, resource).await?,
        );
    }
    Ok(ApiJson(Usage {
        limits: entitlements.limits,
        features: entitlements.features,
        usage,
    }))
}

/// Any subset of limits and features; what is sent replaces the stored override.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntitlementOverrides {
    #[schema(value_type = Object)]
    pub limits: Option<Value>,
    #[schema(value_type = Object)]
    pub features: Option<Value>,
}

/// Overrides the plan for one account (super admin).
#[utoipa::path(put, path = "/api/v1/accounts/{accountId}/entitlements", tag = "entitlements",
    params(("accountId" = uuid::Uuid, Path)), request_body = EntitlementOverrides,
    responses((status = 200, body = Entitlements), (status = 403, body = crate::platform::error::Problem),
        (status = 422, body = crate::platform::error::Problem)))]
async fn update_entitlements(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiJson(body): ApiJson<EntitlementOverrides>,
) -> AppResult<ApiJson<Entitlements>> {
    scope.require(Role::SuperAdmin)?;
    let mut patch = serde_json::Map::new();
    for (group, value) in [("limits", body.limits), ("features", body.features)] {
        if let Some(value) = value {
            patch.insert(group.into(), value);
        }
    }
    let defaults = &state.config.plan_defaults;
    let mut tx = state.db.begin().await?;
    let before = store::overrides_in(&mut tx, scope.account_id).await?;
    let mut after = before.clone();
    merge(&mut after, &Value::Object(patch));
    let effective = apply(&defaults.0, &after)
        .map_err(|e| crate::platform::error::AppError::validation("body", e.to_string()))?;
    store::save_overrides(&mut tx, scope.account_id, &after).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "entitlements.updated", "account", scope.account_id)
            .changes(Some(&before), Some(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(ApiJson(effective))
}
