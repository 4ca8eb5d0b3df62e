use std::collections::BTreeMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Entitlements, Features, Limits, Resource, apply, merge, store};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    platform::{
        error::{AppError, AppResult},
        json::ApiJson,
        validate::Validator,
    },
    tenancy::{AccountScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(usage))
        .routes(routes!(features))
        .routes(routes!(update_entitlements))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Usage {
    pub limits: Limits,
    pub features: Features,
    /// Live resources counted against the limits, by resource name.
    pub usage: BTreeMap<&'static str, i64>,
    /// Chatwoot messages (incoming and outgoing) this calendar month (UTC), against
    /// `max_monthly_messages`.
    pub messages_this_month: i64,
    /// Agents who sent a message this calendar month.
    pub active_agents_this_month: i64,
}

/// Limits, feature flags and current usage of the account.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/usage", tag = "entitlements",
    params(("accountId" = uuid::Uuid, Path)),
    responses((status = 200, body = Usage), (status = 404, body = crate::platform::error::Problem)))]
async fn usage(State(state): State<AppState>, scope: AccountScope) -> AppResult<ApiJson<Usage>> {
    let entitlements =
        store::effective(&state.db, &state.config.plan_defaults, scope.account_id).await?;
    let mut usage = BTreeMap::new();
    for resource in Resource::ALL {
        usage.insert(
            resource.name(),
            store::count(&state.db, scope.account_id, resource).await?,
        );
    }
    let month = crate::metering::month_of(crate::platform::clock::now());
    let (messages, agents) =
        crate::metering::store::month(&state.db, scope.account_id, &month).await?;
    Ok(ApiJson(Usage {
        limits: entitlements.limits,
        features: entitlements.features,
        usage,
        messages_this_month: messages,
        active_agents_this_month: agents,
    }))
}

/// The feature flags in force for the account (its plan and any overrides), for any member:
/// the UI and the dashboard script hide what is off, and the API refuses it.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/features", tag = "entitlements",
    params(("accountId" = uuid::Uuid, Path)),
    responses((status = 200, body = Features), (status = 404, body = crate::platform::error::Problem)))]
async fn features(
    State(state): State<AppState>,
    scope: AccountScope,
) -> AppResult<ApiJson<Features>> {
    let plan = state
        .plans
        .effective(&state.db, &state.config.plan_defaults, &scope)
        .await?;
    Ok(ApiJson(plan.features.clone()))
}

/// Any subset of limits and features; what is sent replaces the stored override.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntitlementOverrides {
    #[schema(value_type = Option<Object>)]
    pub limits: Option<Value>,
    #[schema(value_type = Option<Object>)]
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
    let defaults = &state.config.plan_defaults;
    let patch = checked_patch(&defaults.0, body)?;
    let mut tx = state.db.begin().await?;
    let before = store::overrides(&mut tx, scope.account_id).await?;
    let mut after = before.clone();
    merge(&mut after, &patch);
    apply(&defaults.0, &after)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("checked overrides did not apply: {e}")))?;
    store::save_overrides(&mut tx, scope.account_id, &after).await?;
    let effective = store::effective(&mut tx, defaults, scope.account_id).await?;
    audit::record(
        &mut tx,
        AuditEntry::new(&scope, "entitlements.updated", "account", scope.account_id)
            .changes(Some(&before), Some(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(ApiJson(effective))
}

/// Checks every overridden name and value, so errors name `limits.max_teams` rather than
/// the whole body: limits are whole numbers of zero or more, features are booleans.
fn checked_patch(defaults: &Entitlements, body: EntitlementOverrides) -> AppResult<Value> {
    let known = serde_json::to_value(defaults).map_err(anyhow::Error::from)?;
    let mut v = Validator::default();
    let mut patch = serde_json::Map::new();
    for (group, value) in [("limits", body.limits), ("features", body.features)] {
        let Some(value) = value else { continue };
        let Some(entries) = value.as_object() else {
            v.check(false, group, "must be an object");
            continue;
        };
        for (name, new) in entries {
            let field = format!("{group}.{name}");
            let valid = match known[group].get(name) {
                None => {
                    v.check(false, &field, "is not a known name");
                    continue;
                }
                Some(Value::Bool(_)) => new.is_boolean(),
                Some(_) => new.as_i64().is_some_and(|n| n >= 0),
            };
            let expected = if group == "limits" {
                "must be a whole number of zero or more"
            } else {
                "must be true or false"
            };
            v.check(valid, &field, expected);
        }
        patch.insert(group.into(), value);
    }
    v.finish()?;
    Ok(Value::Object(patch))
}
