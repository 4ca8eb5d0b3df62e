//! What a Chatwoot call can fail with. Messages carry Chatwoot's own error text or a
//! status, never request headers, tokens or response values.

use reqwest::StatusCode;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatwootError {
    /// The credential is missing, wrong or expired: ask the user to sign in again.
    #[error("Chatwoot rejected the credential")]
    Unauthorized,
    /// The credential is valid but may not do this: not a member of the account, an agent
    /// calling an admin-only endpoint, or a platform app touching a resource it does not own.
    /// Chatwoot answers these with 401 too; the error text tells them apart.
    #[error("Chatwoot denied access to this resource")]
    Forbidden,
    #[error("Chatwoot has no such resource")]
    NotFound,
    /// 400/422: Chatwoot refused the input (its message, or a local check).
    #[error("Chatwoot rejected the input: {0}")]
    Validation(String),
    /// Still 429 after the retries allowed for this call.
    #[error("Chatwoot is rate limiting this client")]
    RateLimited,
    /// Network failure, timeout, or a 5xx that retries did not cure.
    #[error("Chatwoot is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: an unexpected status, a redirect to another host, a body that does
    /// not decode.
    #[error("unexpected answer from Chatwoot: {0}")]
    Unexpected(String),
}

/// 401 texts that mean "authenticated, but not allowed" (Pundit, account membership,
/// platform permissibles, suspended account).
const DENIAL_TEXTS: &[&str] = &[
    "You are not authorized to do this action",
    "You are not authorized to access this account",
    "Non permissible resource",
    "Account is suspended",
];

impl ChatwootError {
    /// Maps a non-success status and its body.
    pub(super) fn from_status(status: StatusCode, body: &[u8]) -> Self {
        let message = error_text(body);
        match status.as_u16() {
            401 if message
                .as_deref()
                .is_some_and(|m| DENIAL_TEXTS.contains(&m)) =>
            {
                ChatwootError::Forbidden
            }
            401 => ChatwootError::Unauthorized,
            403 => ChatwootError::Forbidden,
            404 => ChatwootError::NotFound,
            400 | 422 => ChatwootError::Validation(
                message.unwrap_or_else(|| format!("status {}", status.as_u16())),
            ),
            429 => ChatwootError::RateLimited,
            500..=599 => ChatwootError::Unavailable(format!("status {}", status.as_u16())),
            other => ChatwootError::Unexpected(format!("status {other}")),
        }
    }

    /// A body that did not decode. Only the position is kept: serde's message can quote
    /// response values, and some responses carry tokens.
    pub(super) fn decode(template: &str, err: &serde_json::Error) -> Self {
        ChatwootError::Unexpected(format!(
            "{template}: undecodable body ({:?} error at line {} column {})",
            err.classify(),
            err.line(),
            err.column()
        ))
    }
}

/// Chatwoot's error bodies: `{error}`, `{message}`, `{errors:[…]}` or `{errors:{field:[…]}}`.
fn error_text(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let text = match (&value["error"], &value["message"], &value["errors"]) {
        (Value::String(e), _, _) | (_, Value::String(e), _) => e.clone(),
        (_, _, Value::Array(items)) => join(items.iter()),
        (_, _, Value::Object(fields)) => fields
            .iter()
            .map(|(field, v)| format!("{field} {}", join(v.as_array().into_iter().flatten())))
            .collect::<Vec<_>>()
            .join("; "),
        _ => return None,
    };
    // Keep log lines short and single-line.
    Some(text.chars().filter(|c| !c.is_control()).take(300).collect())
}

fn join<'a>(items: impl Iterator<Item = &'a Value>) -> String {
    items
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(status: u16, body: &str) -> ChatwootError {
        ChatwootError::from_status(StatusCode::from_u16(status).unwrap(), body.as_bytes())
    }

    #[test]
    fn maps_statuses_and_bodies() {
        assert_eq!(
            map(401, r#"{"error":"Invalid Access Token"}"#),
            ChatwootError::Unauthorized
        );
        assert_eq!(
            map(
                401,
                r#"{"errors":["You need to sign in or sign up before continuing."]}"#
            ),
            ChatwootError::Unauthorized
        );
        assert_eq!(
            map(
                401,
                r#"{"error":"You are not authorized to access this account"}"#
            ),
            ChatwootError::Forbidden
        );
        assert_eq!(map(404, ""), ChatwootError::NotFound);
        assert_eq!(
            map(
                422,
                r#"{"message":"Url has already been taken","attributes":["url"]}"#
            ),
            ChatwootError::Validation("Url has already been taken".into())
        );
        assert_eq!(
            map(422, r#"{"errors":{"title":["can't be blank"]}}"#),
            ChatwootError::Validation("title can't be blank".into())
        );
        assert_eq!(
            map(400, "<html>"),
            ChatwootError::Validation("status 400".into())
        );
        assert_eq!(
            map(503, ""),
            ChatwootError::Unavailable("status 503".into())
        );
        assert_eq!(map(409, ""), ChatwootError::Unexpected("status 409".into()));
    }
}
