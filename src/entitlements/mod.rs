//! What an account may have: limits and feature flags. Until billing links accounts to
//! paid plans, every account gets the built-in free plan (overridable in configuration)
//! plus per-account overrides a super admin sets.

mod cache;
mod routes;
pub mod store;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::platform::{
    db::Tx,
    error::{AppError, AppResult},
};

pub use cache::PlanCache;
pub use routes::router;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_agents: i64,
    pub max_teams: i64,
    pub max_inboxes: i64,
    pub max_boards: i64,
    pub max_providers: i64,
    pub max_instances: i64,
    pub max_monthly_messages: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Features {
    pub kanban_enabled: bool,
    pub internal_chat_enabled: bool,
    pub analytics_enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Entitlements {
    pub limits: Limits,
    pub features: Features,
}

/// The plan every account starts on.
#[derive(Debug, Clone)]
pub struct PlanDefaults(pub Entitlements);

impl PlanDefaults {
    /// The earlier service's free plan, each value overridable by `DEFAULT_PLAN_<NAME>`
    /// (for example `DEFAULT_PLAN_MAX_TEAMS=5`, `DEFAULT_PLAN_ANALYTICS_ENABLED=true`).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let free = Entitlements {
            limits: Limits {
                max_agents: 5,
                max_teams: 2,
                max_inboxes: 2,
                max_boards: 2,
                max_providers: 1,
                max_instances: 1,
                max_monthly_messages: 1000,
            },
            features: Features {
                kanban_enabled: true,
                internal_chat_enabled: true,
                analytics_enabled: false,
            },
        };
        let mut overrides = Map::new();
        for (group, fields) in as_object(&serde_json::to_value(&free)?) {
            let mut group_overrides = Map::new();
            for name in as_object(&fields).keys() {
                let var = format!("DEFAULT_PLAN_{}", name.to_uppercase());
                if let Some(raw) = lookup(&var) {
                    let value: Value = serde_json::from_str(&raw)
                        .map_err(|_| anyhow::anyhow!("{var} must be a number or true/false"))?;
                    group_overrides.insert(name.clone(), value);
                }
            }
            overrides.insert(group.clone(), Value::Object(group_overrides));
        }
        Ok(PlanDefaults(
            apply(&free, &Value::Object(overrides))
                .map_err(|_| anyhow::anyhow!("a DEFAULT_PLAN_* value has the wrong type"))?,
        ))
    }
}

fn as_object(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// Lays stored overrides (`{"limits": {...}, "features": {...}}`, any subset) over `base`.
/// Unknown names or wrong types are refused by the typed round trip.
pub fn apply(base: &Entitlements, overrides: &Value) -> Result<Entitlements, serde_json::Error> {
    let mut merged = serde_json::to_value(base)?;
    merge(&mut merged, overrides);
    serde_json::from_value(merged)
}

fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// Everything a create path can be limited on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Agents,
    Teams,
    /// Inboxes enabled in the hub (Chatwoot may have more).
    Inboxes,
    /// Live (not archived) Kanban boards.
    Boards,
    /// WhatsApp provider servers (not deleted).
    Providers,
    /// WhatsApp numbers on them (not deleted).
    Instances,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::Agents => "agents",
            Resource::Teams => "teams",
            Resource::Inboxes => "inboxes",
            Resource::Boards => "boards",
            Resource::Providers => "providers",
            Resource::Instances => "instances",
        }
    }

    pub fn limit(self, limits: &Limits) -> i64 {
        match self {
            Resource::Agents => limits.max_agents,
            Resource::Teams => limits.max_teams,
            Resource::Inboxes => limits.max_inboxes,
            Resource::Boards => limits.max_boards,
            Resource::Providers => limits.max_providers,
            Resource::Instances => limits.max_instances,
        }
    }

    pub const ALL: [Resource; 6] = [
        Resource::Agents,
        Resource::Teams,
        Resource::Inboxes,
        Resource::Boards,
        Resource::Providers,
        Resource::Instances,
    ];
}

/// The one check every create path runs, inside its own transaction and before it writes:
/// it locks the account's writers, counts live resources and refuses past the limit, so
/// two concurrent creates cannot both take the last slot.
pub async fn ensure_capacity(
    tx: &mut Tx,
    defaults: &PlanDefaults,
    account_id: Uuid,
    resource: Resource,
) -> AppResult<()> {
    if !tx.lock_account(account_id).await? {
        return Err(AppError::NotFound);
    }
    let entitlements = store::effective(&mut *tx, defaults, account_id).await?;
    let current = store::count(&mut *tx, account_id, resource).await?;
    let limit = resource.limit(&entitlements.limits);
    if current >= limit {
        return Err(AppError::QuotaExceeded {
            resource: resource.name(),
            limit,
            current,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_environment_and_reject_bad_types() {
        let plan = PlanDefaults::from_lookup(|name| match name {
            "DEFAULT_PLAN_MAX_TEAMS" => Some("7".into()),
            "DEFAULT_PLAN_ANALYTICS_ENABLED" => Some("true".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(plan.0.limits.max_teams, 7);
        assert_eq!(plan.0.limits.max_agents, 5);
        assert!(plan.0.features.analytics_enabled);
        assert!(
            PlanDefaults::from_lookup(|n| (n == "DEFAULT_PLAN_MAX_TEAMS").then(|| "lots".into()))
                .is_err()
        );
    }

    #[test]
    fn overrides_apply_partially_and_refuse_unknown_names() {
        let base = PlanDefaults::from_lookup(|_| None).unwrap().0;
        let merged = apply(&base, &serde_json::json!({"limits": {"max_boards": 10}})).unwrap();
        assert_eq!(merged.limits.max_boards, 10);
        assert_eq!(merged.limits.max_teams, base.limits.max_teams);
        assert!(apply(&base, &serde_json::json!({"limits": {"max_spaceships": 1}})).is_err());
        assert!(
            apply(
                &base,
                &serde_json::json!({"features": {"kanban_enabled": 3}})
            )
            .is_err()
        );
    }
}
