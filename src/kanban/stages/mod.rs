//! Stages: the columns of a board, in order. Each is open, won or lost (cards moved into
//! a won or lost stage are closed that way) and may carry an SLA in hours.

mod routes;
pub mod store;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;

use crate::platform::validate::Validator;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum Kind {
    Open,
    Won,
    Lost,
}

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Stage {
    pub id: Uuid,
    pub board_id: Uuid,
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
    /// 0 for the first column; the first open stage is where new cards enter.
    pub position: i32,
    /// How long a card may stay before it breaches the stage's SLA.
    pub sla_hours: Option<i32>,
    pub kind: Kind,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStage {
    pub name: String,
    /// `#rrggbb`; default Chatwoot's brand blue.
    pub color: Option<String>,
    pub sla_hours: Option<i32>,
    /// Default `open`.
    pub kind: Option<Kind>,
    /// Where to insert it (default: last).
    pub position: Option<i32>,
}

pub const DEFAULT_COLOR: &str = "#2781f6";

pub fn check_color(v: &mut Validator, color: &str) {
    let ok = color.len() == 7
        && color.starts_with('#')
        && color[1..].chars().all(|c| c.is_ascii_hexdigit());
    v.check(ok, "color", "must look like #2781f6");
}

pub fn check_sla(v: &mut Validator, sla_hours: Option<i32>) {
    v.check(
        sla_hours.is_none_or(|h| (1..=8760).contains(&h)),
        "sla_hours",
        "must be 1 to 8760 hours",
    );
}

impl NewStage {
    pub fn check(&self, v: &mut Validator) {
        v.text("name", &self.name, 80);
        check_color(v, self.color.as_deref().unwrap_or(DEFAULT_COLOR));
        check_sla(v, self.sla_hours);
        v.check(
            self.position.is_none_or(|p| p >= 0),
            "position",
            "must not be negative",
        );
    }

    pub fn build(&self, board_id: Uuid, position: i32, now: OffsetDateTime) -> Stage {
        Stage {
            id: Uuid::now_v7(),
            board_id,
            name: self.name.trim().into(),
            color: self
                .color
                .clone()
                .unwrap_or_else(|| DEFAULT_COLOR.into())
                .to_lowercase(),
            position,
            sla_hours: self.sla_hours,
            kind: self.kind.unwrap_or(Kind::Open),
            created_at: now,
            updated_at: now,
        }
    }
}
