//! A board's flow and SLA metrics, computed from its cards' history (`card_events`): lead
//! and cycle time of the deals closed in a window, won and lost totals, throughput per ISO
//! week, time spent in each stage, work in progress and SLA breaches.
//!
//! History is the source (ADR 9, ADR 10): a replayed webhook adds no event, so the figures
//! are exact after replays; and an event's `created_at` is when it was recorded. Everything
//! here is a pure function of the rows the store reads; the route only fetches and calls
//! [`compute`].

mod routes;
mod store;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use time::{Date, Duration, OffsetDateTime, UtcOffset};
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;

use super::stages::{Kind, Stage};
use crate::platform::{error::AppError, time_input, validate::Validator};

/// The window when the query names none: the 30 days before `to`.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest window a query may ask for.
pub const MAX_DAYS: i64 = 366;

/// The half-open interval `[from, to)` the window metrics count events in, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
}

impl Window {
    /// Reads the query's `from` and `to` (RFC 3339): `to` defaults to the end of `now`'s
    /// second (events are stamped in whole seconds, so one recorded this second counts),
    /// `from` to [`DEFAULT_DAYS`] before `to`; `from` must come before `to`, at most
    /// [`MAX_DAYS`] apart.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Window, AppError> {
        let mut v = Validator::default();
        let mut time = |field: &str, value: Option<&str>| {
            let parsed = value.map(time_input::parse);
            v.check(!matches!(parsed, Some(Err(_))), field, time_input::EXPECTED);
            parsed.and_then(Result::ok)
        };
        let given_from = time("from", from);
        let given_to = time("to", to);
        v.finish()?;
        let to = given_to.unwrap_or_else(|| {
            let second = now.replace_nanosecond(0).unwrap_or(now);
            second.to_offset(UtcOffset::UTC) + Duration::seconds(1)
        });
        let from = match given_from {
            Some(from) => from,
            None => to
                .checked_sub(Duration::days(DEFAULT_DAYS))
                .ok_or_else(|| AppError::validation("to", "is too far in the past"))?,
        };
        if from >= to {
            return Err(AppError::validation("from", "must be before `to`"));
        }
        if to - from > Duration::days(MAX_DAYS) {
            return Err(AppError::validation(
                "from",
                format!("must be at most {MAX_DAYS} days before `to`"),
            ));
        }
        Ok(Window { from, to })
    }

    fn contains(&self, at: OffsetDateTime) -> bool {
        self.from <= at && at < self.to
    }

    /// The Monday of every ISO week the window touches, oldest first.
    fn weeks(&self) -> Vec<Date> {
        let last = week_start(self.to - Duration::nanoseconds(1));
        let mut week = week_start(self.from);
        let mut weeks = Vec::new();
        while week <= last {
            weeks.push(week);
            week += Duration::weeks(1);
        }
        weeks
    }
}

/// The Monday (UTC) of the ISO week `at` falls in.
fn week_start(at: OffsetDateTime) -> Date {
    let date = at.to_offset(UtcOffset::UTC).date();
    date - Duration::days(i64::from(date.weekday().number_days_from_monday()))
}

/// What the metrics need of a card (archived ones included: their history still counts).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CardRow {
    pub id: Uuid,
    pub stage_id: Uuid,
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    pub created_at: OffsetDateTime,
    pub archived_at: Option<OffsetDateTime>,
}

/// What the metrics need of a history event.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: Uuid,
    pub card_id: Uuid,
    /// `created`, `moved`, `updated`, `archived`, `won`, `lost` or `reopened`.
    pub kind: String,
    pub from_stage_id: Option<Uuid>,
    pub to_stage_id: Option<Uuid>,
    pub created_at: OffsetDateTime,
}

/// Everything [`compute`] reads: the board's stages in board order, the cards that matter
/// to the window or to the present (live ones, and any with an event in the window), and
/// every event of those cards.
#[derive(Debug, Default)]
pub struct History {
    pub stages: Vec<Stage>,
    pub cards: Vec<CardRow>,
    pub events: Vec<EventRow>,
}

/// Count, mean, median and 90th percentile of some durations, in whole seconds (`null`
/// when there are none). Percentiles interpolate between the closest ranks (as NumPy's
/// default and Excel's `PERCENTILE.INC`); every figure is rounded to the nearest second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Durations {
    pub count: i64,
    pub mean_seconds: Option<i64>,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

impl Durations {
    fn of(mut seconds: Vec<i64>) -> Durations {
        seconds.sort_unstable();
        let n = seconds.len() as i128;
        let mean = (n > 0).then(|| {
            let sum: i128 = seconds.iter().map(|&s| i128::from(s)).sum();
            ((2 * sum + n) / (2 * n)) as i64
        });
        Durations {
            count: seconds.len() as i64,
            mean_seconds: mean,
            median_seconds: percentile(&seconds, 50),
            p90_seconds: percentile(&seconds, 90),
        }
    }
}

/// The `p`th percentile of `sorted` (non-negative values), interpolated and rounded.
fn percentile(sorted: &[i64], p: i128) -> Option<i64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = p * last as i128;
    let (low, rest) = ((rank / 100) as usize, rank % 100);
    let base = i128::from(sorted[low]);
    if rest == 0 {
        return Some(base as i64);
    }
    let step = i128::from(sorted[low + 1]) - base;
    Some((base + (step * rest + 50) / 100) as i64)
}

/// Deals closed one way, and their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Outcome {
    pub count: i64,
    /// Sum of the cards' `value_minor` in the board's currency (cards valued in another
    /// currency count in `count` but not here).
    pub value_minor: i64,
}

/// Deals closed in one ISO week (Monday to Sunday, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Week {
    /// The week's Monday, `YYYY-MM-DD`.
    #[serde(with = "crate::platform::time_input::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub week_start: Date,
    pub won: i64,
    pub lost: i64,
}

/// A stage's SLA: who is over it now, and how many stays in the window overran it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Sla {
    /// Live cards in the stage for longer than `sla_hours` (since they last entered it).
    pub over_now: i64,
    /// Stays that ended in the window and lasted longer than `sla_hours`.
    pub breaches: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StageMetrics {
    pub stage_id: Uuid,
    pub name: String,
    pub kind: Kind,
    pub color: String,
    pub sla_hours: Option<i32>,
    /// Live cards in the stage now.
    pub wip: i64,
    /// Their value in the board's currency.
    pub wip_value_minor: i64,
    /// Stays in the stage that ended in the window (by a move or an archive).
    pub time_in_stage: Durations,
    /// `null` unless this is an open stage with `sla_hours`.
    pub sla: Option<Sla>,
}

/// A board's metrics over a window. Window figures count events in `[from, to)`; `wip`
/// and `sla.over_now` are the board as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BoardMetrics {
    pub board_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// The board's currency, which every `value_minor` here is in.
    pub currency: String,
    /// From each card's creation to each time it was won or lost in the window.
    pub lead_time: Durations,
    /// From each card's first move out of the entry stage (its creation, when it was
    /// created in another stage) to each time it was won or lost in the window.
    pub cycle_time: Durations,
    /// Every time a card moved into a won stage in the window (a card won, reopened and
    /// won again counts twice).
    pub won: Outcome,
    pub lost: Outcome,
    /// Every ISO week the window touches, oldest first, including weeks with nothing.
    pub throughput: Vec<Week>,
    /// In board order.
    pub stages: Vec<StageMetrics>,
}

/// Accumulates one stage's figures.
#[derive(Default)]
struct StageTally {
    stays: Vec<i64>,
    breaches: i64,
    wip: i64,
    wip_value: i64,
    over_now: i64,
}

fn seconds(d: Duration) -> i64 {
    d.whole_seconds().max(0)
}

/// Computes the metrics of board `board_id` (currency `currency`) from its history, over
/// `window`, as of `now`.
pub fn compute(
    board_id: Uuid,
    currency: &str,
    history: &History,
    window: Window,
    now: OffsetDateTime,
) -> BoardMetrics {
    let stages = &history.stages;
    let entry = stages.iter().find(|s| s.kind == Kind::Open).map(|s| s.id);
    let sla_of: HashMap<Uuid, Duration> = stages
        .iter()
        .filter(|s| s.kind == Kind::Open)
        .filter_map(|s| Some((s.id, Duration::hours(i64::from(s.sla_hours?)))))
        .collect();
    let cards: HashMap<Uuid, &CardRow> = history.cards.iter().map(|c| (c.id, c)).collect();
    let value = |card: Option<&&CardRow>| {
        card.filter(|c| c.currency.as_deref().is_none_or(|c| c == currency))
            .and_then(|c| c.value_minor)
            .unwrap_or(0)
    };

    let mut by_card: HashMap<Uuid, Vec<&EventRow>> = HashMap::new();
    for event in &history.events {
        by_card.entry(event.card_id).or_default().push(event);
    }

    let mut tallies: HashMap<Uuid, StageTally> = HashMap::new();
    let mut weeks: BTreeMap<Date, (i64, i64)> =
        window.weeks().into_iter().map(|w| (w, (0, 0))).collect();
    let (mut lead, mut cycle) = (Vec::new(), Vec::new());
    let (mut won, mut lost) = (Outcome::default(), Outcome::default());
    // Where each card's current stay began, for the cards still on the board.
    let mut entered: HashMap<Uuid, (Uuid, OffsetDateTime)> = HashMap::new();

    for (card_id, events) in &mut by_card {
        events.sort_by_key(|e| (e.created_at, e.id));
        let card = cards.get(card_id);
        let created = card
            .map(|c| c.created_at)
            .or_else(|| {
                events
                    .iter()
                    .find(|e| e.kind == "created")
                    .map(|e| e.created_at)
            })
            .unwrap_or(events[0].created_at);
        // Where the card started: its `created` event, or else where its first move left.
        let origin = events
            .iter()
            .find(|e| e.kind == "created")
            .and_then(|e| e.to_stage_id)
            .or_else(|| events.first().and_then(|e| e.from_stage_id));
        let mut cycle_start = (origin.is_none() || origin != entry).then_some(created);
        let mut stay: Option<(Uuid, OffsetDateTime)> = None;

        for event in events.iter() {
            let at = event.created_at;
            if let Some(from) = event.from_stage_id {
                if cycle_start.is_none() && Some(from) == entry && event.to_stage_id.is_some() {
                    cycle_start = Some(at);
                }
                if let Some((stage, since)) = stay.take()
                    && stage == from
                    && window.contains(at)
                {
                    let lasted = at - since;
                    let tally = tallies.entry(stage).or_default();
                    tally.stays.push(seconds(lasted));
                    if sla_of.get(&stage).is_some_and(|sla| lasted > *sla) {
                        tally.breaches += 1;
                    }
                }
            }
            if let Some(to) = event.to_stage_id {
                stay = Some((to, at));
            }
            let outcome = match event.kind.as_str() {
                "won" => &mut won,
                "lost" => &mut lost,
                _ => continue,
            };
            if !window.contains(at) {
                continue;
            }
            outcome.count += 1;
            outcome.value_minor += value(card);
            lead.push(seconds(at - created));
            cycle.push(seconds(at - cycle_start.unwrap_or(at)));
            if let Some(week) = weeks.get_mut(&week_start(at)) {
                if event.kind == "won" {
                    week.0 += 1;
                } else {
                    week.1 += 1;
                }
            }
        }
        if let Some(stay) = stay {
            entered.insert(*card_id, stay);
        }
    }

    for card in history.cards.iter().filter(|c| c.archived_at.is_none()) {
        let tally = tallies.entry(card.stage_id).or_default();
        tally.wip += 1;
        tally.wip_value += value(Some(&card));
        let since = match entered.get(&card.id) {
            Some((stage, since)) if *stage == card.stage_id => *since,
            _ => card.created_at,
        };
        if sla_of
            .get(&card.stage_id)
            .is_some_and(|sla| now - since > *sla)
        {
            tally.over_now += 1;
        }
    }

    BoardMetrics {
        board_id,
        from: window.from,
        to: window.to,
        currency: currency.to_string(),
        lead_time: Durations::of(lead),
        cycle_time: Durations::of(cycle),
        won,
        lost,
        throughput: weeks
            .into_iter()
            .map(|(week_start, (won, lost))| Week {
                week_start,
                won,
                lost,
            })
            .collect(),
        stages: stages
            .iter()
            .map(|stage| {
                let tally = tallies.remove(&stage.id).unwrap_or_default();
                StageMetrics {
                    stage_id: stage.id,
                    name: stage.name.clone(),
                    kind: stage.kind,
                    color: stage.color.clone(),
                    sla_hours: stage.sla_hours,
                    wip: tally.wip,
                    wip_value_minor: tally.wip_value,
                    time_in_stage: Durations::of(tally.stays),
                    sla: sla_of.contains_key(&stage.id).then_some(Sla {
                        over_now: tally.over_now,
                        breaches: tally.breaches,
                    }),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
