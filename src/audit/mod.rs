//! The append-only audit log: written in the same transaction as the change it records,
//! with secrets removed, and readable by account admins.

mod routes;
mod store;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    auth::CurrentUser,
    platform::{client::ClientMeta, db::Tx, error::AppResult},
    tenancy::{AccountScope, Principal},
};

pub use routes::router;

/// Who did it: a signed-in user, a machine client's API key, an operator at the command
/// line, or an unauthenticated caller (failed sign-ins, refresh-token reuse).
#[derive(Debug, Clone)]
pub struct Actor {
    kind: &'static str,
    user_id: Option<Uuid>,
    api_key_id: Option<Uuid>,
    client: Option<ClientMeta>,
}

impl Actor {
    pub fn cli() -> Self {
        Actor {
            kind: "cli",
            user_id: None,
            api_key_id: None,
            client: None,
        }
    }

    /// The hub itself, acting on what an outside service told it (a payment confirmed by
    /// Asaas) or on its schedule (a grace period over).
    pub fn system() -> Self {
        Actor {
            kind: "system",
            user_id: None,
            api_key_id: None,
            client: None,
        }
    }

    pub fn anonymous(client: &ClientMeta) -> Self {
        Actor {
            kind: "anonymous",
            user_id: None,
            api_key_id: None,
            client: Some(client.clone()),
        }
    }

    pub fn user(user_id: Uuid, client: &ClientMeta) -> Self {
        Actor {
            kind: "user",
            user_id: Some(user_id),
            api_key_id: None,
            client: Some(client.clone()),
        }
    }
}

impl From<&AccountScope> for Actor {
    fn from(scope: &AccountScope) -> Self {
        match scope.principal {
            Principal::User { user_id, .. } => Actor::user(user_id, &scope.client),
            Principal::ApiKey { key_id } => Actor {
                kind: "api_key",
                user_id: None,
                api_key_id: Some(key_id),
                client: Some(scope.client.clone()),
            },
        }
    }
}

impl From<&CurrentUser> for Actor {
    fn from(user: &CurrentUser) -> Self {
        Actor::user(user.user_id, &user.client)
    }
}

pub struct AuditEntry {
    actor: Actor,
    account_id: Option<Uuid>,
    action: &'static str,
    resource_type: &'static str,
    resource_id: String,
    before: Option<Value>,
    after: Option<Value>,
}

impl AuditEntry {
    /// An entry for an action inside the scope's account.
    pub fn new(
        scope: &AccountScope,
        action: &'static str,
        resource_type: &'static str,
        resource_id: impl ToString,
    ) -> Self {
        Self::by(
            Actor::from(scope),
            Some(scope.account_id),
            action,
            resource_type,
            resource_id,
        )
    }

    pub fn by(
        actor: Actor,
        account_id: Option<Uuid>,
        action: &'static str,
        resource_type: &'static str,
        resource_id: impl ToString,
    ) -> Self {
        AuditEntry {
            actor,
            account_id,
            action,
            resource_type,
            resource_id: resource_id.to_string(),
            before: None,
            after: None,
        }
    }

    /// The resource before and after; stripped of secrets when written.
    pub fn changes(
        mut self,
        before: Option<&impl Serialize>,
        after: Option<&impl Serialize>,
    ) -> Self {
        // Serialising our own plain structs cannot fail.
        self.before = before.and_then(|b| serde_json::to_value(b).ok());
        self.after = after.and_then(|a| serde_json::to_value(a).ok());
        self
    }
}

/// Writes `entry` in a transaction of its own, for actions whose effect lives outside the
/// database (a call to Chatwoot) or that changed nothing (a refusal).
pub async fn record_alone(db: &crate::platform::db::Db, entry: AuditEntry) -> AppResult<()> {
    let mut tx = db.begin().await?;
    record(&mut tx, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes `entry` inside `tx`: if the change rolls back, so does its record. Every change
/// to an account's data is audited, so this is also where the account's revision moves on,
/// which retires cached answers for it (see `tenancy::list_cache`).
pub async fn record(tx: &mut Tx, mut entry: AuditEntry) -> AppResult<()> {
    entry.before = entry.before.map(redact);
    entry.after = entry.after.map(redact);
    store::insert(tx, &entry).await?;
    if let Some(account_id) = entry.account_id {
        crate::tenancy::accounts::store::bump_revision(tx, account_id).await?;
    }
    Ok(())
}

/// Field names whose values never reach the log.
fn is_secret_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "password",
        "secret",
        "token",
        "api_key",
        "apikey",
        "private_key",
        "encryption_key",
        "authorization",
    ]
    .iter()
    .any(|marker| name.contains(marker))
}

fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if is_secret_name(&k) {
                        Value::String("[redacted]".into())
                    } else {
                        redact(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::redact;

    #[test]
    fn secrets_are_removed_at_any_depth() {
        let cleaned = redact(json!({
            "name": "Main",
            "settings": {"webhook_secret": "s3", "nested": [{"api_key": "k", "x": 1}]},
            "access_token": "t"
        }));
        assert_eq!(
            cleaned,
            json!({
                "name": "Main",
                "settings": {"webhook_secret": "[redacted]", "nested": [{"api_key": "[redacted]", "x": 1}]},
                "access_token": "[redacted]"
            })
        );
    }
}
