//! The plans the operator sells: a price per cycle and the entitlements it grants. The
//! built-in free plan (`DEFAULT_PLAN_*`) is not one of them: it is what an account without
//! a subscription has.

mod routes;
pub mod store;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entitlements::Entitlements;

pub use routes::router;

/// How often a plan is charged; Asaas's own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Cycle {
    Monthly,
    Quarterly,
    Semiannually,
    Yearly,
}

impl Cycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Cycle::Monthly => "MONTHLY",
            Cycle::Quarterly => "QUARTERLY",
            Cycle::Semiannually => "SEMIANNUALLY",
            Cycle::Yearly => "YEARLY",
        }
    }

    pub fn parse(raw: &str) -> Option<Cycle> {
        [
            Cycle::Monthly,
            Cycle::Quarterly,
            Cycle::Semiannually,
            Cycle::Yearly,
        ]
        .into_iter()
        .find(|c| c.as_str() == raw)
    }

    pub fn months(self) -> u8 {
        match self {
            Cycle::Monthly => 1,
            Cycle::Quarterly => 3,
            Cycle::Semiannually => 6,
            Cycle::Yearly => 12,
        }
    }

    /// `date` plus one cycle; a day the target month lacks becomes its last (Jan 31 → Feb 28).
    pub fn after(self, date: time::Date) -> time::Date {
        let months = date.month() as u32 - 1 + u32::from(self.months());
        let year = date.year() + (months / 12) as i32;
        let month = time::Month::try_from((months % 12 + 1) as u8).unwrap_or(time::Month::December);
        let last = month.length(year);
        time::Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Plan {
    pub id: Uuid,
    /// Unique slug, e.g. `pro`.
    pub code: String,
    pub name: String,
    pub description: String,
    /// Decimal string, e.g. `"149.90"`.
    pub price: String,
    pub currency: String,
    pub cycle: Cycle,
    pub trial_days: i32,
    pub entitlements: Entitlements,
    /// Offered to new subscribers; archived plans keep their subscribers.
    pub active: bool,
    /// Order on the plans page, smallest first.
    pub position: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(skip)]
    pub price_cents: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_cycle_later_keeps_the_day_or_takes_the_months_last() {
        assert_eq!(
            Cycle::Monthly.after(date!(2026 - 01 - 31)),
            date!(2026 - 02 - 28)
        );
        assert_eq!(
            Cycle::Monthly.after(date!(2026 - 12 - 06)),
            date!(2027 - 01 - 06)
        );
        assert_eq!(
            Cycle::Quarterly.after(date!(2026 - 11 - 30)),
            date!(2027 - 02 - 28)
        );
        assert_eq!(
            Cycle::Yearly.after(date!(2028 - 02 - 29)),
            date!(2029 - 02 - 28)
        );
        assert_eq!(
            Cycle::Semiannually.after(date!(2026 - 08 - 15)),
            date!(2027 - 02 - 15)
        );
    }
}
