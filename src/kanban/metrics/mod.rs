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
use time::{Date, Duration, OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};
use utoipa::ToSchema;
use uuid::Uuid;

pub use routes::router;

use super::stages::{Kind, Stage};
use crate::platform::{error::AppError, validate::Validator};

/// The window when the query names none: the 30 days before `to`.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest window a query may ask for.
pub const MAX_DAYS: i64 = 366;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

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
            let parsed = value.map(|s| OffsetDateTime::parse(s, &Rfc3339));
            v.check(
                !matches!(parsed, Some(Err(_))),
                field,
                "must be an RFC 3339 time, like 2026-11-23T00:00:00Z",
            );
            parsed
                .and_then(Result::ok)
                .map(|t| t.to_offset(UtcOffset::UTC))
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
    #[serde(with = "iso_date")]
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
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    /// A Monday.
    const T0: OffsetDateTime = datetime!(2026-11-23 00:00 UTC);

    fn at(hours: i64) -> OffsetDateTime {
        T0 + Duration::hours(hours)
    }

    fn stage(name: &str, kind: Kind, position: i32, sla_hours: Option<i32>) -> Stage {
        Stage {
            id: Uuid::now_v7(),
            board_id: Uuid::nil(),
            name: name.into(),
            color: "#2781f6".into(),
            position,
            sla_hours,
            kind,
            created_at: T0,
            updated_at: T0,
        }
    }

    /// New (SLA 24 h), In progress (SLA 48 h), Waiting, Won, Lost.
    fn pipeline() -> Vec<Stage> {
        vec![
            stage("New", Kind::Open, 0, Some(24)),
            stage("In progress", Kind::Open, 1, Some(48)),
            stage("Waiting", Kind::Open, 2, None),
            stage("Won", Kind::Won, 3, None),
            stage("Lost", Kind::Lost, 4, None),
        ]
    }

    struct Board {
        history: History,
    }

    impl Board {
        fn new() -> Board {
            Board {
                history: History {
                    stages: pipeline(),
                    ..History::default()
                },
            }
        }

        fn stage(&self, index: usize) -> Uuid {
            self.history.stages[index].id
        }

        /// A card created in stage `index` at hour `hour`, worth `value` BRL cents.
        fn card(&mut self, index: usize, hour: i64, value: Option<i64>) -> Uuid {
            let id = Uuid::now_v7();
            let stage_id = self.stage(index);
            self.history.cards.push(CardRow {
                id,
                stage_id,
                value_minor: value,
                currency: value.map(|_| "BRL".into()),
                created_at: at(hour),
                archived_at: None,
            });
            self.event(id, "created", None, Some(index), hour);
            id
        }

        fn event(
            &mut self,
            card_id: Uuid,
            kind: &str,
            from: Option<usize>,
            to: Option<usize>,
            hour: i64,
        ) {
            let stage = |i: Option<usize>| i.map(|i| self.history.stages[i].id);
            let event = EventRow {
                id: Uuid::now_v7(),
                card_id,
                kind: kind.into(),
                from_stage_id: stage(from),
                to_stage_id: stage(to),
                created_at: at(hour),
            };
            self.history.events.push(event);
        }

        /// Moves the card (kind as the move would record it) and updates its row.
        fn move_to(&mut self, card_id: Uuid, to: usize, hour: i64) {
            let card = self.history.cards.iter().find(|c| c.id == card_id).unwrap();
            let from = self
                .history
                .stages
                .iter()
                .position(|s| s.id == card.stage_id);
            let kinds = |i: Option<usize>| i.map(|i| self.history.stages[i].kind);
            let kind = crate::kanban::cards::moves::move_kind(
                kinds(from).unwrap(),
                kinds(Some(to)).unwrap(),
            );
            self.event(card_id, kind, from, Some(to), hour);
            let stage_id = self.stage(to);
            let card = self
                .history
                .cards
                .iter_mut()
                .find(|c| c.id == card_id)
                .unwrap();
            card.stage_id = stage_id;
        }

        fn archive(&mut self, card_id: Uuid, hour: i64) {
            let card = self.history.cards.iter().find(|c| c.id == card_id).unwrap();
            let from = self
                .history
                .stages
                .iter()
                .position(|s| s.id == card.stage_id);
            self.event(card_id, "archived", from, None, hour);
            let card = self
                .history
                .cards
                .iter_mut()
                .find(|c| c.id == card_id)
                .unwrap();
            card.archived_at = Some(at(hour));
        }

        /// The metrics over the window's first two weeks, as of hour `now`.
        fn metrics(&self, now: i64) -> BoardMetrics {
            let window = Window {
                from: T0,
                to: T0 + Duration::weeks(2),
            };
            self.metrics_in(window, now)
        }

        fn metrics_in(&self, window: Window, now: i64) -> BoardMetrics {
            compute(Uuid::nil(), "BRL", &self.history, window, at(now))
        }
    }

    const HOUR: i64 = 3600;

    fn durations(seconds: &[i64]) -> Durations {
        Durations::of(seconds.to_vec())
    }

    #[test]
    fn percentiles_interpolate_and_round() {
        assert_eq!(
            durations(&[]),
            Durations {
                count: 0,
                mean_seconds: None,
                median_seconds: None,
                p90_seconds: None
            }
        );
        let one = durations(&[7]);
        assert_eq!(
            (
                one.count,
                one.mean_seconds,
                one.median_seconds,
                one.p90_seconds
            ),
            (1, Some(7), Some(7), Some(7))
        );
        let four = durations(&[40, 10, 30, 20]);
        assert_eq!(
            (four.mean_seconds, four.median_seconds, four.p90_seconds),
            (Some(25), Some(25), Some(37))
        );
        // Halves round up.
        let two = durations(&[1, 2]);
        assert_eq!((two.mean_seconds, two.median_seconds), (Some(2), Some(2)));
        let ten: Vec<i64> = (1..=10).collect();
        let ten = durations(&ten);
        assert_eq!(
            (ten.mean_seconds, ten.median_seconds, ten.p90_seconds),
            (Some(6), Some(6), Some(9))
        );
        assert_eq!(percentile(&[0, 100], 90), Some(90));
        assert_eq!(
            percentile(&[i64::MAX / 2, i64::MAX / 2], 90),
            Some(i64::MAX / 2)
        );
    }

    #[test]
    fn a_won_card_has_lead_cycle_and_stage_times() {
        let mut b = Board::new();
        let card = b.card(0, 0, Some(150_000));
        b.move_to(card, 1, 10);
        b.move_to(card, 3, 30);
        let m = b.metrics(40);
        assert_eq!(
            m.won,
            Outcome {
                count: 1,
                value_minor: 150_000
            }
        );
        assert_eq!(m.lost, Outcome::default());
        assert_eq!(m.lead_time.median_seconds, Some(30 * HOUR));
        assert_eq!(m.cycle_time.median_seconds, Some(20 * HOUR));
        let stays: Vec<_> = m
            .stages
            .iter()
            .map(|s| s.time_in_stage.mean_seconds)
            .collect();
        assert_eq!(stays, [Some(10 * HOUR), Some(20 * HOUR), None, None, None]);
        let wip: Vec<_> = m
            .stages
            .iter()
            .map(|s| (s.wip, s.wip_value_minor))
            .collect();
        assert_eq!(wip, [(0, 0), (0, 0), (0, 0), (1, 150_000), (0, 0)]);
        assert_eq!(m.throughput.len(), 2);
        assert_eq!((m.throughput[0].won, m.throughput[0].lost), (1, 0));
        assert_eq!((m.throughput[1].won, m.throughput[1].lost), (0, 0));
    }

    #[test]
    fn the_default_window_counts_what_happened_this_second() {
        let mut b = Board::new();
        let card = b.card(0, 0, None);
        b.move_to(card, 3, 30);
        let now = at(30) + Duration::milliseconds(800);
        let window = Window::parse(None, None, now).unwrap();
        let m = compute(Uuid::nil(), "BRL", &b.history, window, at(30));
        assert_eq!(m.won.count, 1);
    }

    #[test]
    fn a_reopened_card_counts_each_close_and_keeps_its_first_cycle_start() {
        let mut b = Board::new();
        let card = b.card(0, 0, Some(1000));
        b.move_to(card, 1, 2);
        b.move_to(card, 3, 5);
        b.move_to(card, 0, 6);
        b.move_to(card, 1, 8);
        b.move_to(card, 3, 12);
        let m = b.metrics(13);
        assert_eq!(
            m.won,
            Outcome {
                count: 2,
                value_minor: 2000
            }
        );
        assert_eq!(m.lead_time, durations(&[5 * HOUR, 12 * HOUR]));
        assert_eq!(m.cycle_time, durations(&[3 * HOUR, 10 * HOUR]));
        // New: 0→2 and 6→8; In progress: 2→5 and 8→12; Won: 5→6 (the stay now is open).
        assert_eq!(m.stages[0].time_in_stage, durations(&[2 * HOUR, 2 * HOUR]));
        assert_eq!(m.stages[1].time_in_stage, durations(&[3 * HOUR, 4 * HOUR]));
        assert_eq!(m.stages[3].time_in_stage, durations(&[HOUR]));
        assert_eq!(m.throughput[0].won, 2);
    }

    #[test]
    fn a_card_created_past_the_entry_stage_starts_its_cycle_at_creation() {
        let mut b = Board::new();
        let card = b.card(1, 0, None);
        b.move_to(card, 0, 1);
        b.move_to(card, 2, 3);
        b.move_to(card, 4, 5);
        let m = b.metrics(6);
        assert_eq!(
            m.lost,
            Outcome {
                count: 1,
                value_minor: 0
            }
        );
        assert_eq!(m.lead_time.median_seconds, Some(5 * HOUR));
        assert_eq!(m.cycle_time.median_seconds, Some(5 * HOUR));
        assert_eq!((m.throughput[0].won, m.throughput[0].lost), (0, 1));
    }

    #[test]
    fn a_card_closed_straight_from_the_entry_stage_has_no_cycle_time() {
        let mut b = Board::new();
        let card = b.card(0, 0, None);
        b.move_to(card, 3, 7);
        let m = b.metrics(8);
        assert_eq!(m.lead_time.median_seconds, Some(7 * HOUR));
        assert_eq!(m.cycle_time.median_seconds, Some(0));
    }

    #[test]
    fn an_archived_card_ends_its_stay_and_leaves_the_wip() {
        let mut b = Board::new();
        let gone = b.card(0, 0, Some(500));
        b.archive(gone, 30);
        b.card(0, 1, Some(700));
        let m = b.metrics(100);
        let new = &m.stages[0];
        assert_eq!((new.wip, new.wip_value_minor), (1, 700));
        assert_eq!(new.time_in_stage, durations(&[30 * HOUR]));
        // The archived stay lasted past the 24 h SLA; the live card has been there 99 h.
        assert_eq!(
            new.sla,
            Some(Sla {
                over_now: 1,
                breaches: 1
            })
        );
        assert_eq!(m.won.count + m.lost.count, 0);
    }

    #[test]
    fn sla_counts_longer_stays_only_and_only_open_stages_have_one() {
        let mut b = Board::new();
        b.history.stages[3].sla_hours = Some(1);
        let quick = b.card(0, 0, None);
        b.move_to(quick, 1, 24); // exactly the SLA: not a breach
        let slow = b.card(0, 0, None);
        b.move_to(slow, 1, 25);
        b.card(0, 90, None);
        b.move_to(quick, 3, 30);
        let m = b.metrics(100);
        assert_eq!(
            m.stages[0].sla,
            Some(Sla {
                over_now: 0,
                breaches: 1
            })
        );
        // `slow` entered In progress at 25 h: 75 h ago, over 48 h; `quick` left it.
        assert_eq!(
            m.stages[1].sla,
            Some(Sla {
                over_now: 1,
                breaches: 0
            })
        );
        assert_eq!(m.stages[2].sla, None);
        assert_eq!(m.stages[3].sla, None, "a won stage has no SLA");
    }

    #[test]
    fn only_events_inside_the_window_count() {
        let mut b = Board::new();
        let early = b.card(0, 0, Some(100));
        b.move_to(early, 3, 5);
        let late = b.card(0, 10, Some(200));
        b.move_to(late, 1, 30);
        b.move_to(late, 4, 50);
        let window = Window {
            from: at(20),
            to: at(40),
        };
        let m = b.metrics_in(window, 60);
        // Only the stay of `late` in New (10→30) ended inside; nothing closed inside.
        assert_eq!(m.stages[0].time_in_stage, durations(&[20 * HOUR]));
        assert_eq!(m.stages[1].time_in_stage.count, 0);
        assert_eq!(m.lead_time.count, 0);
        assert_eq!((m.won.count, m.lost.count), (0, 0));
        // The present does not depend on the window.
        assert_eq!(m.stages[3].wip, 1);
        assert_eq!(m.stages[4].wip, 1);
    }

    #[test]
    fn values_in_another_currency_are_counted_but_not_summed() {
        let mut b = Board::new();
        let card = b.card(0, 0, Some(100));
        b.history.cards[0].currency = Some("USD".into());
        b.card(0, 0, Some(50));
        b.move_to(card, 3, 1);
        let m = b.metrics(2);
        assert_eq!(
            m.won,
            Outcome {
                count: 1,
                value_minor: 0
            }
        );
        assert_eq!((m.stages[0].wip, m.stages[0].wip_value_minor), (1, 50));
    }

    #[test]
    fn an_empty_board_has_every_stage_and_week_with_zeros() {
        let b = Board::new();
        let window = Window {
            from: datetime!(2026-11-25 12:00 UTC),
            to: datetime!(2026-12-07 00:00 UTC),
        };
        let m = b.metrics_in(window, 0);
        let value = serde_json::to_value(&m).unwrap();
        assert_eq!(value["from"], "2026-11-25T12:00:00Z");
        assert_eq!(value["to"], "2026-12-07T00:00:00Z");
        assert_eq!(value["currency"], "BRL");
        let nothing =
            json!({"count": 0, "mean_seconds": null, "median_seconds": null, "p90_seconds": null});
        assert_eq!(value["lead_time"], nothing);
        assert_eq!(value["cycle_time"], nothing);
        assert_eq!(value["won"], json!({"count": 0, "value_minor": 0}));
        // `to` is exclusive: the week of 7 December is not touched.
        assert_eq!(
            value["throughput"],
            json!([
                {"week_start": "2026-11-23", "won": 0, "lost": 0},
                {"week_start": "2026-11-30", "won": 0, "lost": 0},
            ])
        );
        let stages = value["stages"].as_array().unwrap();
        let names: Vec<_> = stages.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["New", "In progress", "Waiting", "Won", "Lost"]);
        assert_eq!(stages[0]["kind"], "open");
        assert_eq!(stages[0]["sla_hours"], 24);
        assert_eq!(stages[0]["wip"], 0);
        assert_eq!(stages[0]["time_in_stage"], nothing);
        assert_eq!(stages[0]["sla"], json!({"over_now": 0, "breaches": 0}));
        assert_eq!(stages[2]["sla"], json!(null));
        assert_eq!(stages[2]["sla_hours"], json!(null));
    }

    #[test]
    fn a_board_without_stages_or_with_a_stray_history_still_computes() {
        let mut b = Board::new();
        let card = b.card(0, 0, None);
        // A stage deleted since: its stays belong to no stage shown.
        let gone = Uuid::now_v7();
        b.history.events.push(EventRow {
            id: Uuid::now_v7(),
            card_id: card,
            kind: "moved".into(),
            from_stage_id: Some(b.stage(0)),
            to_stage_id: Some(gone),
            created_at: at(1),
        });
        let m = b.metrics(2);
        assert_eq!(m.stages[0].time_in_stage.count, 1);
        b.history.stages.clear();
        let m = b.metrics(2);
        assert!(m.stages.is_empty());
    }

    #[test]
    fn the_window_defaults_to_thirty_days_and_is_checked() {
        let now = datetime!(2026-11-23 10:00 UTC);
        // By default the window ends with the current second.
        let w = Window::parse(None, None, now + Duration::milliseconds(300)).unwrap();
        let end = now + Duration::seconds(1);
        assert_eq!((w.from, w.to), (end - Duration::days(30), end));
        let w = Window::parse(Some("2026-11-01T00:00:00-03:00"), None, now).unwrap();
        assert_eq!(w.from, datetime!(2026-11-01 03:00 UTC));
        assert_eq!(w.from.offset(), UtcOffset::UTC);
        let w = Window::parse(None, Some("2026-02-01T00:00:00Z"), now).unwrap();
        assert_eq!(w.from, datetime!(2026-01-02 00:00 UTC));

        let fields = |from: Option<&str>, to: Option<&str>| match Window::parse(from, to, now) {
            Err(AppError::Validation(errors)) => {
                errors.into_iter().map(|e| e.field).collect::<Vec<_>>()
            }
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(
            fields(Some("yesterday"), Some("2026-13-01")),
            ["from", "to"]
        );
        assert_eq!(fields(Some(""), None), ["from"]);
        assert_eq!(fields(Some("2026-11-23T10:00:01Z"), None), ["from"]);
        assert_eq!(
            fields(Some("2025-01-01T00:00:00Z"), Some("2026-01-03T00:00:00Z")),
            ["from"]
        );
        assert!(
            Window::parse(
                Some("2025-01-01T00:00:00Z"),
                Some("2026-01-02T00:00:00Z"),
                now
            )
            .is_ok()
        );
    }
}
