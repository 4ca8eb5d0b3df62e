//! How a number behaves on WhatsApp (calls, groups, presence, read receipts): kept by the
//! hub and pushed to providers that apply it; a setting a provider lacks is refused, not
//! silently dropped.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::platform::{
    error::{AppError, AppResult},
    validate::Validator,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Behaviour {
    /// Refuse voice and video calls.
    pub reject_calls: bool,
    /// Sent to a caller whose call was refused.
    pub call_message: Option<String>,
    /// Leave group messages out.
    pub ignore_groups: bool,
    /// Show the number online all the time.
    pub always_online: bool,
    /// Mark incoming messages read.
    pub read_messages: bool,
    /// Mark contacts' status updates seen.
    pub read_status: bool,
}

impl Behaviour {
    pub fn validate(&self) -> AppResult<()> {
        let mut v = Validator::default();
        if let Some(message) = &self.call_message {
            v.check(
                message.chars().count() <= 500,
                "settings.call_message",
                "must be at most 500 characters",
            );
            v.check(
                self.reject_calls,
                "settings.call_message",
                "is sent only when reject_calls is on",
            );
        }
        v.finish()
    }

    /// The settings that differ from the defaults: what a provider must be able to apply.
    pub fn asked(&self) -> Vec<&'static str> {
        let fields = [
            ("reject_calls", self.reject_calls),
            ("call_message", self.call_message.is_some()),
            ("ignore_groups", self.ignore_groups),
            ("always_online", self.always_online),
            ("read_messages", self.read_messages),
            ("read_status", self.read_status),
        ];
        fields
            .into_iter()
            .filter_map(|(name, on)| on.then_some(name))
            .collect()
    }

    /// 409 `not_supported_by_provider` naming what `supported` lacks.
    pub fn ensure_supported(&self, supported: &[&str]) -> AppResult<()> {
        let missing: Vec<_> = self
            .asked()
            .into_iter()
            .filter(|name| !supported.contains(name))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(AppError::Conflict {
            code: "not_supported_by_provider",
            message: format!("This provider type cannot apply {}.", missing.join(", ")),
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// As stored (a JSON text column); what cannot be read back is the defaults.
impl From<String> for Behaviour {
    fn from(stored: String) -> Behaviour {
        serde_json::from_str(&stored).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_differs_from_the_defaults_must_be_supported() {
        let settings = Behaviour {
            ignore_groups: true,
            ..Behaviour::default()
        };
        assert!(settings.ensure_supported(&["ignore_groups"]).is_ok());
        let refused = settings.ensure_supported(&["reject_calls"]);
        assert!(
            matches!(&refused, Err(AppError::Conflict { message, .. }) if message.contains("ignore_groups")),
            "{refused:?}"
        );
        assert!(Behaviour::default().ensure_supported(&[]).is_ok());
    }

    #[test]
    fn a_call_message_needs_calls_rejected() {
        let message = Behaviour {
            call_message: Some("We call back.".into()),
            ..Behaviour::default()
        };
        assert!(message.validate().is_err());
        let both = Behaviour {
            reject_calls: true,
            ..message
        };
        assert!(both.validate().is_ok());
        assert_eq!(
            Behaviour::from("not json".to_string()),
            Behaviour::default()
        );
    }
}
