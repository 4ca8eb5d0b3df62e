//! Small input checks that collect every failing field, so one response lists them all.

use super::error::{AppError, FieldError};

#[derive(Default)]
pub struct Validator(Vec<FieldError>);

impl Validator {
    pub fn check(&mut self, ok: bool, field: &str, message: &str) -> &mut Self {
        if !ok {
            self.0.push(FieldError {
                field: field.into(),
                message: message.into(),
            });
        }
        self
    }

    /// A required human-readable name: trimmed, 1 to `max` characters, no control characters.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> &mut Self {
        let trimmed = value.trim();
        self.check(!trimmed.is_empty(), field, "must not be empty")
            .check(
                trimmed.chars().count() <= max,
                field,
                &format!("must be at most {max} characters"),
            )
            .check(
                !trimmed.chars().any(char::is_control),
                field,
                "must not contain control characters",
            )
    }

    pub fn email(&mut self, field: &str, value: &str) -> &mut Self {
        let ok = value.len() <= 254
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            })
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        self.check(ok, field, "must be an email address")
    }

    pub fn url(&mut self, field: &str, value: &str) -> &mut Self {
        let ok = (value.starts_with("https://") || value.starts_with("http://"))
            && value.len() <= 2048
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        self.check(ok, field, "must be an http(s) URL")
    }

    pub fn finish(&mut self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(std::mem::take(&mut self.0)))
        }
    }
}

/// The field a serde error from axum is about: `Failed to deserialize {what}: path.to.field:
/// message` names it by its path; a missing field is named in the message instead
/// (``missing field `x` ``), under the path of the object that lacks it, if any.
pub fn failing_field(text: &str, what: &str) -> Option<String> {
    let detail = text.split_once(what).map_or(text, |(_, rest)| rest);
    let (path, message) = match detail.split_once(": ") {
        Some((path, message)) if !path.is_empty() && !path.contains(' ') => (Some(path), message),
        _ => (None, detail),
    };
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    match (path, missing) {
        (Some(path), Some(name)) => Some(format!("{path}.{name}")),
        (Some(field), None) | (None, Some(field)) => Some(field.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_failure() {
        let mut v = Validator::default();
        v.text("name", "  ", 10)
            .email("email", "nope")
            .url("avatar_url", "javascript:alert(1)");
        match v.finish() {
            Err(AppError::Validation(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["name", "email", "avatar_url"]);
            }
            other => panic!("expected validation error, got {other:?}"),
        }
        assert!(
            Validator::default()
                .text("name", "Ana", 10)
                .email("e", "a@b.co")
                .finish()
                .is_ok()
        );
    }
}
