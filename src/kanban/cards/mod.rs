//! Cards: one per deal or conversation, in a stage at a position. Positions are dense per
//! stage, counted from each card's rank; updates carry the version they read (a stale one
//! answers 409); every change leaves an event in the card's history, which the metrics
//! read.

mod export;
pub mod history;
pub mod moves;
mod routes;
pub mod store;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;

use super::{
    boards::{Board, CustomField, FieldKind},
    stages::Kind,
};
use crate::platform::{
    error::{AppError, FieldError},
    validate::Validator,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Card {
    pub id: Uuid,
    pub board_id: Uuid,
    pub stage_id: Uuid,
    /// 0 for the top of its stage; positions of a stage are always 0..n-1.
    pub position: i32,
    /// What orders the stage (positions are counted from it, see [`moves`]).
    #[serde(skip)]
    pub rank: i64,
    /// When the card entered its current stage (what its stage's SLA counts from).
    #[serde(with = "time::serde::rfc3339")]
    pub stage_entered_at: OffsetDateTime,
    pub title: String,
    /// The Chatwoot conversation's display id (as in Chatwoot's URLs).
    pub chatwoot_conversation_id: Option<i64>,
    pub chatwoot_contact_id: Option<i64>,
    pub chatwoot_inbox_id: Option<i64>,
    pub contact_name: Option<String>,
    pub contact_avatar_url: Option<String>,
    pub last_message: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_message_at: Option<OffsetDateTime>,
    /// The deal's value in minor units (cents) of `currency`.
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    pub priority: Option<Priority>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub due_at: Option<OffsetDateTime>,
    pub assignee_id: Option<Uuid>,
    #[sqlx(json)]
    pub labels: Vec<String>,
    /// Values of the board's custom fields, by key.
    #[sqlx(json)]
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    /// Follows the kind of the card's stage.
    pub status: Kind,
    pub lost_reason: Option<String>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Card {
    /// A new card at the top of `stage`, before its fields are filled in and it is placed.
    pub fn blank(
        board_id: Uuid,
        stage: &super::stages::Stage,
        title: String,
        now: OffsetDateTime,
    ) -> Card {
        Card {
            id: Uuid::now_v7(),
            board_id,
            stage_id: stage.id,
            position: 0,
            rank: 0,
            stage_entered_at: now,
            title,
            chatwoot_conversation_id: None,
            chatwoot_contact_id: None,
            chatwoot_inbox_id: None,
            contact_name: None,
            contact_avatar_url: None,
            last_message: None,
            last_message_at: None,
            value_minor: None,
            currency: None,
            priority: None,
            due_at: None,
            assignee_id: None,
            labels: Vec::new(),
            custom_fields: Map::new(),
            status: stage.kind,
            lost_reason: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

/// The fields a person edits, shared by create and update. In an update, a field left
/// out stays as it is, and `null` clears the ones that may be empty.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardFields {
    pub title: Option<String>,
    /// The Chatwoot conversation (display id) the card follows: one of the account's, whose
    /// inbox feeds the board and (for anyone but an admin) whom the person works in
    /// Chatwoot. The card's inbox and contact are then taken from Chatwoot.
    pub chatwoot_conversation_id: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub contact_avatar_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub value_minor: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub currency: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Priority>)]
    pub priority: Option<Option<Priority>>,
    /// RFC 3339.
    #[serde(default, deserialize_with = "nullable_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Option<OffsetDateTime>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    pub assignee_id: Option<Option<Uuid>>,
    pub labels: Option<Vec<String>>,
    /// Merged into the card's values; `null` removes one.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Map<String, Value>>,
}

/// Tells a field left out (`None`) from one set to `null` (`Some(None)`).
fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

fn nullable_time<'de, D>(de: D) -> Result<Option<Option<OffsetDateTime>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    crate::platform::time_input::option(de).map(Some)
}

impl CardFields {
    /// Applies the fields present onto `card`.
    pub fn apply(self, card: &mut Card) {
        let trimmed = |s: String| s.trim().to_string();
        if let Some(title) = self.title {
            card.title = trimmed(title);
        }
        // A Chatwoot link is set (once checked, see `links`), never cleared: a card keeps the
        // conversation it came from.
        if self.chatwoot_conversation_id.is_some() {
            card.chatwoot_conversation_id = self.chatwoot_conversation_id;
        }
        macro_rules! replace {
            ($($field:ident),*) => { $( if let Some(value) = self.$field { card.$field = value; } )* };
        }
        replace!(value_minor, currency, priority, due_at, assignee_id);
        if let Some(name) = self.contact_name {
            card.contact_name = name.map(trimmed).filter(|n| !n.is_empty());
        }
        if let Some(url) = self.contact_avatar_url {
            card.contact_avatar_url = url.filter(|u| !u.is_empty());
        }
        if let Some(labels) = self.labels {
            let mut labels: Vec<String> = labels.iter().map(|l| l.trim().to_lowercase()).collect();
            labels.sort();
            labels.dedup();
            card.labels = labels;
        }
        if let Some(values) = self.custom_fields {
            for (key, value) in values {
                if value.is_null() {
                    card.custom_fields.remove(&key);
                } else {
                    card.custom_fields.insert(key, value);
                }
            }
        }
    }
}

/// Checks a card as it would be stored, against its board's custom fields.
pub fn check(card: &Card, board: &Board) -> Result<(), AppError> {
    let mut v = Validator::default();
    v.text("title", &card.title, 200);
    for (field, id) in [
        ("chatwoot_conversation_id", card.chatwoot_conversation_id),
        ("chatwoot_contact_id", card.chatwoot_contact_id),
        ("chatwoot_inbox_id", card.chatwoot_inbox_id),
    ] {
        v.check(
            id.is_none_or(|id| id > 0),
            field,
            "must be a positive Chatwoot id",
        );
    }
    if let Some(name) = &card.contact_name {
        v.text("contact_name", name, 200);
    }
    if let Some(url) = &card.contact_avatar_url {
        v.url("contact_avatar_url", url);
    }
    v.check(
        card.value_minor
            .is_none_or(|m| (0..=1_000_000_000_000_000).contains(&m)),
        "value_minor",
        "must be 0 or more (minor units, e.g. cents)",
    );
    if let Some(currency) = &card.currency {
        super::boards::check_currency(&mut v, "currency", currency);
    }
    v.check(card.labels.len() <= 30, "labels", "at most 30 labels");
    v.check(
        card.labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().count() <= 60 && !l.contains(char::is_whitespace)),
        "labels",
        "labels are 1 to 60 characters without spaces, like Chatwoot's",
    );
    for (key, value) in &card.custom_fields {
        match board.custom_fields.iter().find(|f| &f.key == key) {
            Some(field) => {
                v.check(
                    fits(field, value),
                    "custom_fields",
                    &format!("`{key}` does not fit its type"),
                );
            }
            None => {
                v.check(
                    false,
                    "custom_fields",
                    &format!("`{key}` is not a field of this board"),
                );
            }
        }
    }
    v.finish()
}

/// Checks an update: only the fields it changes. What a card already holds (a name
/// Chatwoot gave it, a custom field the board has since retyped) never blocks a change to
/// another field.
pub fn check_changes(before: &Card, after: &Card, board: &Board) -> Result<(), AppError> {
    let Err(AppError::Validation(errors)) = check(after, board) else {
        return Ok(());
    };
    let (was, is) = (field_values(before), field_values(after));
    let changed: Vec<FieldError> = errors
        .into_iter()
        .filter(|e| was.get(&e.field) != is.get(&e.field))
        .collect();
    if changed.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(changed))
    }
}

fn field_values(card: &Card) -> Map<String, Value> {
    match serde_json::to_value(card) {
        Ok(Value::Object(fields)) => fields,
        _ => Map::new(),
    }
}

fn fits(field: &CustomField, value: &Value) -> bool {
    match (field.kind, value) {
        (FieldKind::Text, Value::String(s)) => s.chars().count() <= 1000,
        (FieldKind::Number, Value::Number(_)) | (FieldKind::Bool, Value::Bool(_)) => true,
        (FieldKind::Date, Value::String(s)) => {
            time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE).is_ok()
        }
        _ => false,
    }
}
