//! Boards: a pipeline of stages, the inboxes that feed it, the custom fields its cards carry.

mod layouts;
mod routes;
pub mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use layouts::Layouts;
pub use routes::router;

use super::stages::{self, Kind, NewStage, Stage};
use crate::platform::{clock, db::Tx, error::AppResult, validate::Validator};

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

/// How Chatwoot's events move the board's cards. Data, editable with the board.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// A conversation that starts in a feeding inbox becomes a card in the entry stage.
    pub create_cards: bool,
    /// A conversation's status (`open`, `pending`, `snoozed`, `resolved`) → the stage its
    /// card moves to. `open` only brings back cards from a won or lost stage.
    pub status_stages: BTreeMap<String, Uuid>,
    /// A label that appears on the conversation → the stage its card moves to.
    pub label_stages: BTreeMap<String, Uuid>,
    /// A card moved by hand updates its conversation in Chatwoot: the `whatpro_stage`
    /// attribute, the stage's label, and the status when the deal closes or reopens.
    #[serde(default = "write_back_by_default")]
    pub write_back: bool,
}

fn write_back_by_default() -> bool {
    true
}

pub const STATUSES: [&str; 4] = ["open", "pending", "snoozed", "resolved"];

impl Rules {
    /// Cards follow conversations: resolved → the first won stage, reopened → the entry
    /// stage, snoozed → a stage named "Waiting" when there is one.
    pub fn defaults(stages: &[Stage]) -> Rules {
        let mut status_stages = BTreeMap::new();
        if let Some(won) = stages.iter().find(|s| s.kind == Kind::Won) {
            status_stages.insert("resolved".to_string(), won.id);
        }
        if let Some(entry) = stages.iter().find(|s| s.kind == Kind::Open) {
            status_stages.insert("open".to_string(), entry.id);
        }
        if let Some(waiting) = stages
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case("waiting"))
        {
            status_stages.insert("snoozed".to_string(), waiting.id);
        }
        Rules {
            create_cards: true,
            status_stages,
            label_stages: BTreeMap::new(),
            write_back: true,
        }
    }

    pub fn check(&self, v: &mut Validator, stages: &[Stage]) {
        let known = |id: &Uuid| stages.iter().any(|s| s.id == *id);
        v.check(
            self.status_stages
                .keys()
                .all(|k| STATUSES.contains(&k.as_str())),
            "rules",
            "status_stages keys are open, pending, snoozed or resolved",
        )
        .check(
            self.status_stages
                .values()
                .chain(self.label_stages.values())
                .all(known),
            "rules",
            "stages must be stages of this board",
        )
        .check(
            self.label_stages.len() <= 50,
            "rules",
            "at most 50 label rules",
        );
    }

    /// Drops rules that point at a stage that no longer exists.
    pub fn without_stage(mut self, stage_id: Uuid) -> Rules {
        self.status_stages.retain(|_, s| *s != stage_id);
        self.label_stages.retain(|_, s| *s != stage_id);
        self
    }
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
    #[sqlx(json)]
    pub rules: Rules,
    /// Bumped by every change; send it back to update (a stale one answers 409).
    pub version: i64,
    /// Moves on with every change to the board, its stages or its cards; realtime
    /// streams announce it.
    pub revision: i64,
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

/// A board's own fields, checked the same way on create and update.
pub struct Settings<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub currency: &'a str,
    pub inbox_ids: &'a [i64],
    pub custom_fields: &'a [CustomField],
}

impl Settings<'_> {
    pub fn check(&self, v: &mut Validator) {
        v.text("name", self.name, 120).check(
            self.description.chars().count() <= 2000,
            "description",
            "must be at most 2000 characters",
        );
        check_currency(v, "currency", self.currency);
        check_inbox_ids(v, self.inbox_ids);
        check_custom_fields(v, self.custom_fields);
    }
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

/// New, In progress and Waiting (open), Won, Lost: the pipeline a board starts with.
pub fn default_stages() -> Vec<NewStage> {
    [
        ("New", "#2781f6", Kind::Open),
        ("In progress", "#5b5bd6", Kind::Open),
        ("Waiting", "#ffc53d", Kind::Open),
        ("Won", "#12a594", Kind::Won),
        ("Lost", "#e54666", Kind::Lost),
    ]
    .into_iter()
    .map(|(name, color, kind)| NewStage {
        name: name.into(),
        color: Some(color.into()),
        sla_hours: None,
        kind: Some(kind),
        position: None,
    })
    .collect()
}

/// A board about to be created, already validated.
pub struct Draft {
    pub name: String,
    pub description: String,
    pub currency: String,
    pub inbox_ids: Vec<i64>,
    pub custom_fields: Vec<CustomField>,
    pub stages: Vec<NewStage>,
}

/// Creates the board, its stages in order and its default rules (the caller checked the
/// plan and audits).
pub async fn create(tx: &mut Tx, account_id: Uuid, draft: Draft) -> AppResult<BoardDetail> {
    let now = clock::now();
    let board_id = Uuid::now_v7();
    let built: Vec<Stage> = draft
        .stages
        .iter()
        .enumerate()
        .map(|(position, stage)| stage.build(board_id, position as i32, now))
        .collect();
    let board = Board {
        id: board_id,
        name: draft.name,
        description: draft.description,
        currency: draft.currency,
        inbox_ids: draft.inbox_ids,
        custom_fields: draft.custom_fields,
        rules: Rules::defaults(&built),
        version: 1,
        revision: 0,
        created_at: now,
        updated_at: now,
    };
    store::insert(tx, account_id, &board).await?;
    for stage in &built {
        stages::store::insert(tx, account_id, stage).await?;
    }
    Ok(BoardDetail {
        board,
        stages: built,
    })
}
