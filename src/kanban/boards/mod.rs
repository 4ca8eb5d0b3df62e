//! Boards: a pipeline of stages, the inboxes that feed it, the custom fields its cards carry.

mod routes;
pub mod store;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;

use super::stages::Stage;
use crate::platform::validate::Validator;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Bool,
}

/// A field every card of the board may carry, under `custom_fields.<key>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomField {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldKind,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Board {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// ISO 4217 code card values default to.
    pub currency: String,
    /// Chatwoot inbox ids whose conversations feed the board; empty: every enabled inbox.
    #[sqlx(json)]
    pub inbox_ids: Vec<i64>,
    #[sqlx(json)]
    pub custom_fields: Vec<CustomField>,
    /// Bumped by every change; send it back to update (a stale one answers 409).
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A board with its stages, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardDetail {
    #[serde(flatten)]
    pub board: Board,
    pub stages: Vec<Stage>,
}

pub fn check_currency(v: &mut Validator, field: &str, code: &str) {
    v.check(
        code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()),
        field,
        "must be an ISO 4217 code like BRL or USD",
    );
}

fn check_inbox_ids(v: &mut Validator, ids: &[i64]) {
    v.check(
        ids.len() <= 100,
        "inbox_ids",
        "must list at most 100 inboxes",
    )
    .check(
        ids.iter().all(|id| *id > 0),
        "inbox_ids",
        "must be Chatwoot inbox ids",
    );
}

fn check_custom_fields(v: &mut Validator, fields: &[CustomField]) {
    v.check(
        fields.len() <= 30,
        "custom_fields",
        "must define at most 30 fields",
    );
    let mut keys: Vec<&str> = fields.iter().map(|f| f.key.as_str()).collect();
    let all = keys.len();
    keys.sort_unstable();
    keys.dedup();
    v.check(keys.len() == all, "custom_fields", "keys must be unique");
    for field in fields {
        let key_ok = (1..=40).contains(&field.key.len())
            && field
                .key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        v.check(
            key_ok,
            "custom_fields",
            "keys are 1 to 40 of a-z, 0-9 and _",
        )
        .text("custom_fields", &field.label, 80);
    }
}
