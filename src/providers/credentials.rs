//! A provider server's own credentials, by kind (an instance's go on the instance): held in
//! memory as given, stored sealed with the vault under the provider's id (a sealed value
//! copied onto another provider does not open), never answered, never logged.

use std::{collections::BTreeMap, fmt};

use serde_json::Value;

use super::ProviderKind;
use crate::platform::{
    crypto::Vault,
    error::{AppError, AppResult},
    validate::Validator,
};

pub struct Credentials(BTreeMap<String, String>);

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

impl Credentials {
    /// The `credentials` object of a request, holding exactly `kind`'s keys, each a
    /// non-empty string of at most 4 KiB.
    pub fn from_input(kind: ProviderKind, input: &Value) -> AppResult<Credentials> {
        Credentials::holding(kind.credential_keys(), input)
    }

    /// An instance's `credentials`, holding exactly `keys` (none: the field may be left
    /// out).
    pub fn of_instance(keys: &[&str], input: Option<&Value>) -> AppResult<Credentials> {
        match input {
            None if keys.is_empty() => Ok(Credentials(BTreeMap::new())),
            None => Credentials::holding(keys, &Value::Null),
            Some(input) => Credentials::holding(keys, input),
        }
    }

    fn holding(keys: &[&str], input: &Value) -> AppResult<Credentials> {
        let Some(given) = input.as_object() else {
            let expected = match keys {
                [] => "must be left out: this provider type takes none".to_string(),
                _ => format!("must be an object with {}", keys.join(", ")),
            };
            return Err(AppError::validation("credentials", expected));
        };
        let mut v = Validator::default();
        let mut held = BTreeMap::new();
        for name in given.keys().filter(|k| !keys.contains(&k.as_str())) {
            v.check(
                false,
                &format!("credentials.{name}"),
                "is not a credential of this provider type",
            );
        }
        for key in keys {
            let value = given.get(*key).and_then(Value::as_str).map(str::trim);
            let ok = value.is_some_and(|s| {
                !s.is_empty() && s.len() <= 4096 && !s.chars().any(char::is_control)
            });
            v.check(ok, &format!("credentials.{key}"), "must be given, as text");
            if let Some(value) = value.filter(|_| ok) {
                held.insert((*key).to_string(), value.to_string());
            }
        }
        v.finish()?;
        Ok(Credentials(held))
    }

    pub fn get(&self, key: &str) -> &str {
        self.0.get(key).map(String::as_str).unwrap_or_default()
    }

    /// The last four characters of the first credential, to tell keys apart on screen.
    pub fn hint(&self) -> String {
        let first = self
            .0
            .values()
            .next()
            .map(String::as_str)
            .unwrap_or_default();
        let tail: String = first
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("…{tail}")
    }

    pub fn seal(&self, vault: &Vault, provider_id: uuid::Uuid) -> String {
        let json = serde_json::to_string(&self.0).unwrap_or_default();
        vault.seal(&context(provider_id), &json)
    }

    pub fn open(vault: &Vault, provider_id: uuid::Uuid, sealed: &str) -> AppResult<Credentials> {
        let json = vault.open(&context(provider_id), sealed).map_err(|e| {
            AppError::Internal(anyhow::anyhow!("provider {provider_id} credentials: {e}"))
        })?;
        serde_json::from_str(&json).map(Credentials).map_err(|e| {
            AppError::Internal(anyhow::anyhow!("provider {provider_id} credentials: {e}"))
        })
    }
}

fn context(provider_id: uuid::Uuid) -> String {
    format!("provider_credentials:{provider_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_kind_takes_its_own_keys_and_nothing_else() {
        let ok = Credentials::from_input(ProviderKind::Evolution, &json!({"api_key": " k-1234 "}))
            .unwrap();
        assert_eq!(ok.get("api_key"), "k-1234");
        assert_eq!(ok.hint(), "…1234");
        assert_eq!(format!("{ok:?}"), "Credentials(<redacted>)");
        let err = Credentials::from_input(
            ProviderKind::CloudApi,
            &json!({"access_token": "t", "extra": "x"}),
        );
        let Err(AppError::Validation(errors)) = err else {
            panic!("refused")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["credentials.extra", "credentials.app_secret"]);
        assert!(Credentials::from_input(ProviderKind::Uazapi, &json!("token")).is_err());
    }

    #[test]
    fn sealed_credentials_open_only_under_their_provider() {
        let vault = Vault::new(&[7; 32], &[]);
        let creds =
            Credentials::from_input(ProviderKind::Waha, &json!({"api_key": "secret-key"})).unwrap();
        let id = uuid::Uuid::now_v7();
        let sealed = creds.seal(&vault, id);
        assert!(!sealed.contains("secret-key"));
        assert_eq!(
            Credentials::open(&vault, id, &sealed)
                .unwrap()
                .get("api_key"),
            "secret-key"
        );
        assert!(Credentials::open(&vault, uuid::Uuid::now_v7(), &sealed).is_err());
    }
}
