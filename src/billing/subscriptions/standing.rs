//! Access follows payment: the state machine of a subscription, as one pure function of
//! what Asaas says about its charges, so a webhook, a retry, a replay and the scheduled
//! reconciliation all reach the same state whatever order they come in.
//!
//! ```text
//! pending ──paid──▶ active ──overdue──▶ past_due ──grace over──▶ suspended
//!    (a first charge overdue stays pending: nothing was granted)
//! trialing ─paid─▶    ▲                    │                         │
//!                     └────────paid────────┴─────────paid────────────┘
//! any ──Asaas ended it / canceled by the account──▶ canceled
//! ```

use time::{Duration, OffsetDateTime, Time};

use super::Status;
use crate::billing::{asaas::wire::Standing as Charge, plans::Cycle};

/// What decides a subscription's state.
pub struct Facts<'a> {
    pub status: Status,
    pub trial_ends_at: Option<OffsetDateTime>,
    pub grace_until: Option<OffsetDateTime>,
    pub cycle: Cycle,
    /// Whether Asaas still charges it (`None`: not asked).
    pub asaas_live: Option<bool>,
    /// Its charges that were not deleted: how each stands and when it was due.
    pub charges: &'a [(Charge, time::Date)],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub status: Status,
    pub current_period_end: Option<OffsetDateTime>,
    pub grace_until: Option<OffsetDateTime>,
}

pub fn decide(facts: &Facts, now: OffsetDateTime, grace_days: u32) -> Decided {
    let paid_until = facts
        .charges
        .iter()
        .filter(|(charge, _)| *charge == Charge::Paid)
        .map(|(_, due)| {
            facts
                .cycle
                .after(*due)
                .with_time(Time::MIDNIGHT)
                .assume_utc()
        })
        .max();
    let mut decided = Decided {
        status: facts.status,
        current_period_end: paid_until,
        grace_until: None,
    };
    if facts.status == Status::Canceled || facts.asaas_live == Some(false) {
        decided.status = Status::Canceled;
        return decided;
    }
    let overdue = facts.charges.iter().any(|(c, _)| *c == Charge::Overdue);
    let open = facts.charges.iter().any(|(c, _)| *c == Charge::Open);
    decided.status = match paid_until {
        // Behind on an account that paid before: grace, then suspension. The grace runs
        // from when it first fell behind, not from each event.
        Some(_) if overdue => {
            let grace = match (facts.status, facts.grace_until) {
                (Status::PastDue | Status::Suspended, Some(grace)) => grace,
                _ => now + Duration::days(i64::from(grace_days)),
            };
            decided.grace_until = Some(grace);
            if grace <= now {
                Status::Suspended
            } else {
                Status::PastDue
            }
        }
        // Paid for now, or the next charge is out and not yet late.
        Some(until) if until > now || open => Status::Active,
        // A trial lasts until its first charge decides (paid, overdue or refunded), and
        // ends with no charge at all once its time is up.
        _ if facts.trial_ends_at.is_some_and(|end| end > now || open)
            && facts.charges.iter().all(|(c, _)| *c == Charge::Open) =>
        {
            Status::Trialing
        }
        // Never paid (a first charge overdue included: the plan was never granted, so
        // there is nothing to suspend), or what was paid is over or given back.
        _ => Status::Pending,
    };
    decided
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2026-12-06 12:00 UTC);

    fn facts<'a>(status: Status, charges: &'a [(Charge, time::Date)]) -> Facts<'a> {
        Facts {
            status,
            trial_ends_at: None,
            grace_until: None,
            cycle: Cycle::Monthly,
            asaas_live: Some(true),
            charges,
        }
    }

    #[test]
    fn paying_activates_for_one_cycle_from_the_due_date() {
        let open = [(Charge::Open, date!(2026 - 12 - 06))];
        assert_eq!(
            decide(&facts(Status::Pending, &open), NOW, 5).status,
            Status::Pending
        );
        let paid = [(Charge::Paid, date!(2026 - 12 - 06))];
        let decided = decide(&facts(Status::Pending, &paid), NOW, 5);
        assert_eq!(decided.status, Status::Active);
        assert_eq!(
            decided.current_period_end,
            Some(datetime!(2027-01-06 0:00 UTC))
        );
    }

    #[test]
    fn overdue_gives_grace_once_then_suspends() {
        let charges = [
            (Charge::Paid, date!(2026 - 11 - 06)),
            (Charge::Overdue, date!(2026 - 12 - 06)),
        ];
        let first = decide(&facts(Status::Active, &charges), NOW, 5);
        assert_eq!(first.status, Status::PastDue);
        assert_eq!(first.grace_until, Some(NOW + Duration::days(5)));
        // A later event does not move the grace on.
        let mut again = facts(Status::PastDue, &charges);
        again.grace_until = first.grace_until;
        let later = NOW + Duration::days(2);
        assert_eq!(decide(&again, later, 5).grace_until, first.grace_until);
        let after = NOW + Duration::days(5);
        assert_eq!(decide(&again, after, 5).status, Status::Suspended);
        assert_eq!(
            decide(&facts(Status::Active, &charges), NOW, 0).status,
            Status::Suspended
        );
    }

    #[test]
    fn a_late_payment_restores_and_a_refund_takes_back() {
        let paid_late = [
            (Charge::Paid, date!(2026 - 11 - 06)),
            (Charge::Paid, date!(2026 - 12 - 06)),
        ];
        let mut suspended = facts(Status::Suspended, &paid_late);
        suspended.grace_until = Some(NOW);
        let decided = decide(&suspended, NOW, 5);
        assert_eq!(
            (decided.status, decided.grace_until),
            (Status::Active, None)
        );
        let refunded = [(Charge::Void, date!(2026 - 12 - 06))];
        assert_eq!(
            decide(&facts(Status::Active, &refunded), NOW, 5).status,
            Status::Pending
        );
        // The latest charge given back: what was paid before is over.
        let latest_refunded = [
            (Charge::Paid, date!(2026 - 10 - 06)),
            (Charge::Void, date!(2026 - 11 - 06)),
        ];
        let decided = decide(&facts(Status::Active, &latest_refunded), NOW, 5);
        assert_eq!(decided.status, Status::Pending);
        assert_eq!(
            decided.current_period_end,
            Some(datetime!(2026-11-06 0:00 UTC))
        );
    }

    #[test]
    fn a_first_charge_never_paid_grants_nothing_to_suspend() {
        let overdue = [(Charge::Overdue, date!(2026 - 12 - 01))];
        let decided = decide(&facts(Status::Pending, &overdue), NOW, 5);
        assert_eq!(
            (decided.status, decided.grace_until),
            (Status::Pending, None)
        );
        let mut trial = facts(Status::Trialing, &overdue);
        trial.trial_ends_at = Some(NOW - Duration::days(5));
        assert_eq!(decide(&trial, NOW, 5).status, Status::Pending);
        // A trial over with no charge at all is over.
        let mut bare = facts(Status::Trialing, &[]);
        bare.trial_ends_at = Some(NOW - Duration::days(1));
        assert_eq!(decide(&bare, NOW, 5).status, Status::Pending);
        bare.trial_ends_at = Some(NOW + Duration::days(1));
        assert_eq!(decide(&bare, NOW, 5).status, Status::Trialing);
    }

    #[test]
    fn trials_last_until_the_first_charge_decides_and_asaas_can_end_it() {
        let open = [(Charge::Open, date!(2026 - 12 - 20))];
        let mut trial = facts(Status::Trialing, &open);
        trial.trial_ends_at = Some(NOW - Duration::days(1));
        assert_eq!(decide(&trial, NOW, 5).status, Status::Trialing);
        let refunded = [(Charge::Void, date!(2026 - 12 - 20))];
        let mut after_refund = facts(Status::Active, &refunded);
        after_refund.trial_ends_at = trial.trial_ends_at;
        assert_eq!(decide(&after_refund, NOW, 5).status, Status::Pending);
        trial.asaas_live = Some(false);
        assert_eq!(decide(&trial, NOW, 5).status, Status::Canceled);
        let paid = [(Charge::Paid, date!(2026 - 12 - 06))];
        assert_eq!(
            decide(&facts(Status::Canceled, &paid), NOW, 5).status,
            Status::Canceled
        );
    }
}
