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
        let kind =
            crate::kanban::cards::moves::move_kind(kinds(from).unwrap(), kinds(Some(to)).unwrap());
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
