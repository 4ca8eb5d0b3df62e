//! Bringing a subscription into step with Asaas: from a webhook (one payment or the
//! subscription read back from Asaas's API, never taken from the webhook's body, which
//! nothing signs), from the scheduled reconciliation (all its payments), and from the
//! clock (a grace period over, a cancellation or a downgrade due at the period's end).
//! Each ends in [`settle`], which decides the state from what is stored, so duplicates,
//! replays and events out of order all come to the same state.

use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    Status, Subscription,
    standing::{Facts, decide},
    store::{self, PaymentUpdate},
};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    billing::{
        asaas::wire::{self, Payment as AsaasPayment},
        money, plans,
    },
    platform::{
        clock,
        db::Tx,
        error::{AppError, AppResult},
    },
    realtime::AccountNews,
};

/// What a webhook or a pass did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    Settled,
    /// Nothing of ours: why.
    Ignored(&'static str),
}

/// Applies what Asaas now says of payment `asaas_id` to its subscription.
pub async fn apply_payment(state: &AppState, asaas_id: &str) -> AppResult<Applied> {
    let asaas = state.billing.asaas()?;
    let fetched_at = clock::now_micros();
    let Some(payment) = asaas.payment(asaas_id).await? else {
        // Deleted at Asaas: forget it wherever it is ours.
        return match store::payment_subscription(&state.db, asaas_id).await? {
            Some(subscription_id) => {
                let gone = Change::Gone(asaas_id.to_string(), fetched_at);
                settle(state, subscription_id, gone, Actor::system()).await
            }
            None => Ok(Applied::Ignored(
                "a deleted payment of no subscription of ours",
            )),
        };
    };
    let Some(sub_asaas_id) = payment.subscription.clone() else {
        return Ok(Applied::Ignored("a payment of no subscription"));
    };
    match store::by_asaas_id(&state.db, &sub_asaas_id).await? {
        Some(sub) => {
            let read = Change::Payments(vec![payment], None, fetched_at);
            settle(state, sub.id, read, Actor::system()).await
        }
        None => Ok(Applied::Ignored("a payment of no subscription of ours")),
    }
}

/// Applies what Asaas now says of subscription `asaas_id` (ended or not).
pub async fn apply_subscription(state: &AppState, asaas_id: &str) -> AppResult<Applied> {
    let Some(sub) = store::by_asaas_id(&state.db, asaas_id).await? else {
        return Ok(Applied::Ignored("no subscription of ours"));
    };
    let live = still_charged(state, asaas_id).await?;
    settle(state, sub.id, Change::Live(live), Actor::system()).await
}

/// Whether Asaas still charges a subscription the hub made there. One Asaas does not know
/// at all is an error, not an ending: an `ASAAS_API_URL` or key of another environment
/// would otherwise cancel every subscription at the next reconciliation.
async fn still_charged(state: &AppState, asaas_id: &str) -> AppResult<bool> {
    let found = state.billing.asaas()?.subscription(asaas_id).await?;
    let found = found.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "Asaas has no subscription {asaas_id}: is ASAAS_API_URL the environment it was made in?"
        ))
    })?;
    Ok(found.is_live())
}

/// Reads every payment of `sub` and the subscription itself from Asaas, and settles it:
/// what a lost webhook left behind is repaired here. A subscription whose subscribe never
/// heard Asaas's answer (and was not retried) is looked up by our id and adopted: the
/// customer may be paying it.
pub async fn reconcile(state: &AppState, sub: &Subscription) -> AppResult<Applied> {
    let asaas = state.billing.asaas()?;
    let asaas_id = match &sub.asaas_id {
        Some(id) => id.clone(),
        None => {
            let held = store::attempt_until(&state.db, sub.id).await?;
            if held.is_some_and(|until| until > clock::now()) {
                return Ok(Applied::Ignored("a subscribe is under way"));
            }
            let Some(found) = asaas.find_subscription(&sub.id.to_string()).await? else {
                return Ok(Applied::Ignored("never reached Asaas"));
            };
            adopt(state, sub.id, &found.id).await?;
            found.id
        }
    };
    let fetched_at = clock::now_micros();
    let live = still_charged(state, &asaas_id).await?;
    let payments = asaas.subscription_payments(&asaas_id).await?;
    let read = Change::Payments(payments, Some(live), fetched_at);
    settle(state, sub.id, read, Actor::system()).await
}

/// Records that subscription `id` is `asaas_id` at Asaas, unless it already names one.
pub(super) async fn adopt(state: &AppState, id: Uuid, asaas_id: &str) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let Some(mut sub) = store::get(&mut tx, id).await? else {
        return Err(AppError::NotFound);
    };
    tx.lock_account(sub.account_id).await?;
    if sub.asaas_id.is_none() {
        sub.asaas_id = Some(asaas_id.to_string());
        store::save(&mut tx, &sub, clock::now()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Reconciles every subscription not canceled; answers how many were read and how many
/// failed (logged, retried at the next pass).
pub async fn reconcile_all(state: &AppState) -> AppResult<(usize, usize)> {
    let live = [
        Status::Pending,
        Status::Trialing,
        Status::Active,
        Status::PastDue,
        Status::Suspended,
    ];
    let (mut read, mut failed) = (0, 0);
    let mut after = Uuid::nil();
    loop {
        let page = store::in_status(&state.db, &live, after, 100).await?;
        let Some(last) = page.last() else {
            return Ok((read, failed));
        };
        after = last.id;
        for sub in &page {
            read += 1;
            if let Err(err) = reconcile(state, sub).await {
                failed += 1;
                tracing::warn!(subscription = %sub.id, error = %err, "reconciling with Asaas failed");
            }
        }
    }
}

/// What the clock decides: grace periods over, cancellations and downgrades due at the
/// end of the period paid when they were asked for. Answers how many were acted on.
pub async fn settle_due(state: &AppState) -> AppResult<usize> {
    let now = clock::now();
    let mut acted = 0;
    let mut after = Uuid::nil();
    let watched = [
        Status::Pending,
        Status::Active,
        Status::PastDue,
        Status::Trialing,
        Status::Suspended,
    ];
    loop {
        let page = store::in_status(&state.db, &watched, after, 100).await?;
        let Some(last) = page.last() else {
            return Ok(acted);
        };
        after = last.id;
        for sub in page {
            let due = sub.change_at.is_some_and(|at| at <= now);
            let result = if sub.cancel_at_period_end && due {
                end_at_asaas(state, &sub, Actor::system()).await
            } else if sub.pending_plan_id.is_some() && due {
                settle(state, sub.id, Change::TakePendingPlan, Actor::system()).await
            } else if sub.status == Status::PastDue && sub.grace_until.is_some_and(|g| g <= now) {
                settle(state, sub.id, Change::Nothing, Actor::system()).await
            } else {
                continue;
            };
            match result {
                Ok(_) => acted += 1,
                Err(err) => tracing::warn!(subscription = %sub.id, error = %err,
                    "a scheduled billing change failed; it is tried again next minute"),
            }
        }
    }
}

/// Ends `sub` at Asaas, then here, on behalf of `actor`.
pub async fn end_at_asaas(
    state: &AppState,
    sub: &Subscription,
    actor: Actor,
) -> AppResult<Applied> {
    if let Some(asaas_id) = &sub.asaas_id {
        state.billing.asaas()?.delete_subscription(asaas_id).await?;
    }
    settle(state, sub.id, Change::Cancel, actor).await
}

/// Until `shutdown`: every minute the clock's changes, every `BILLING_SYNC_MINUTES` a
/// reconciliation with Asaas. Nothing when billing is off.
pub async fn keep_in_step(state: AppState, shutdown: CancellationToken) {
    if state.billing.asaas().is_err() {
        return;
    }
    // Not at start: replicas restarting together would each read every subscription.
    let every = state.config.billing.sync_every;
    let mut minute = tokio::time::interval(std::time::Duration::from_secs(60));
    let mut sync = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            _ = minute.tick() => {
                if let Err(err) = settle_due(&state).await {
                    tracing::warn!(error = %err, "scheduled billing changes failed");
                }
            }
            _ = sync.tick() => match reconcile_all(&state).await {
                Ok((read, failed)) => tracing::info!(read, failed, "billing reconciled with Asaas"),
                Err(err) => tracing::warn!(error = %err, "billing reconciliation failed"),
            },
            () = shutdown.cancelled() => return,
        }
    }
}

/// What to apply before the state is decided again.
pub(super) enum Change {
    /// Payments as Asaas described them when asked at the time given (microseconds,
    /// `clock::now_micros`); with `Some(live)`
    /// all of them, and whether Asaas still charges the subscription.
    Payments(Vec<AsaasPayment>, Option<bool>, i64),
    /// A payment Asaas did not have when asked at the time given.
    Gone(String, i64),
    /// Whether Asaas still charges the subscription.
    Live(bool),
    /// The account canceled it, and Asaas no longer charges it.
    Cancel,
    /// The paid period of a downgrade is over: the lower plan takes over.
    TakePendingPlan,
    Nothing,
}

/// Applies `change` to subscription `id` and decides its state, under the account's lock,
/// recording and announcing a transition.
pub(super) async fn settle(
    state: &AppState,
    id: Uuid,
    change: Change,
    actor: Actor,
) -> AppResult<Applied> {
    let now = clock::now();
    let account_id = store::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?
        .account_id;
    let mut tx = state.db.begin().await?;
    tx.lock_account(account_id).await?;
    let mut sub = store::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let before = sub.clone();
    let mut asaas_live = None;
    match change {
        Change::Payments(payments, live, fetched_at) => {
            asaas_live = live;
            record_payments(&mut tx, &sub, &payments, live.is_some(), fetched_at).await?;
        }
        Change::Gone(asaas_id, fetched_at) => {
            store::delete_payments(&mut tx, sub.id, &[asaas_id], fetched_at).await?
        }
        Change::Live(live) => asaas_live = Some(live),
        Change::Cancel => sub.status = Status::Canceled,
        Change::TakePendingPlan => {
            if let Some(plan) = sub.pending_plan_id.take() {
                sub.plan_id = plan;
            }
            sub.change_at = None;
        }
        Change::Nothing => {}
    }
    let plan = plans::store::get(&mut tx, sub.plan_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("subscription {id} lost its plan")))?;
    let charges: Vec<_> = store::payments_of(&mut tx, sub.id)
        .await?
        .into_iter()
        .map(|p| (wire::standing(&p.status), p.due_date))
        .collect();
    let decided = decide(
        &Facts {
            status: sub.status,
            trial_ends_at: sub.trial_ends_at,
            grace_until: sub.grace_until,
            cycle: plan.cycle,
            asaas_live,
            charges: &charges,
        },
        now,
        state.config.billing.grace_days,
    );
    sub.status = decided.status;
    sub.grace_until = decided.grace_until;
    sub.current_period_end = decided.current_period_end;
    // The next charge to pay: the earliest still open or late.
    sub.next_due_date = charges
        .iter()
        .filter(|(charge, _)| matches!(charge, wire::Standing::Open | wire::Standing::Overdue))
        .map(|(_, due)| *due)
        .min();
    if sub.status == Status::Canceled && sub.canceled_at.is_none() {
        sub.canceled_at = Some(now);
    }
    let transition = before.status != sub.status;
    if same(&before, &sub) {
        tx.commit().await?;
        return Ok(Applied::Settled);
    }
    store::save(&mut tx, &sub, now).await?;
    let action = if transition {
        transition_action(sub.status)
    } else if before.plan_id != sub.plan_id {
        "subscription.downgraded"
    } else {
        "subscription.updated"
    };
    let entry = AuditEntry::by(actor, Some(account_id), action, "subscription", sub.id)
        .changes(Some(&before), Some(&sub));
    audit::record(&mut tx, entry).await?;
    tx.commit().await?;
    if transition {
        announce(state, &sub);
    }
    Ok(Applied::Settled)
}

fn same(a: &Subscription, b: &Subscription) -> bool {
    a.status == b.status
        && a.next_due_date == b.next_due_date
        && a.grace_until == b.grace_until
        && a.current_period_end == b.current_period_end
        && a.plan_id == b.plan_id
        && a.pending_plan_id == b.pending_plan_id
        && a.canceled_at == b.canceled_at
}

pub(super) fn transition_action(status: Status) -> &'static str {
    match status {
        Status::Pending => "subscription.pending",
        Status::Trialing => "subscription.trialing",
        Status::Active => "subscription.activated",
        Status::PastDue => "subscription.past_due",
        Status::Suspended => "subscription.suspended",
        Status::Canceled => "subscription.canceled",
    }
}

/// Tells the account's screens its billing status changed (after commit).
pub(super) fn announce(state: &AppState, sub: &Subscription) {
    state.realtime.tell(AccountNews {
        account_id: sub.account_id,
        kind: "billing.status_changed".into(),
        data: serde_json::json!({
            "status": sub.status,
            "grace_until": sub.grace_until.map(|g| g.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()),
        }),
    });
}

/// Stores payments as Asaas describes them; with `complete`, those it no longer lists
/// are deleted. A payment Asaas ties to another subscription is not taken.
async fn record_payments(
    tx: &mut Tx,
    sub: &Subscription,
    payments: &[AsaasPayment],
    complete: bool,
    fetched_at: i64,
) -> AppResult<()> {
    let now = clock::now();
    for payment in payments {
        if payment.subscription.as_deref() != sub.asaas_id.as_deref() {
            continue;
        }
        let Some(due_date) = wire::parse_date(&payment.due_date) else {
            tracing::warn!(
                payment = payment.id,
                "an Asaas payment without a readable due date"
            );
            continue;
        };
        let paid_at = payment
            .paid_on()
            .filter(|_| wire::standing(&payment.status) == wire::Standing::Paid)
            .map(|day| day.midnight().assume_utc());
        let update = PaymentUpdate {
            account_id: sub.account_id,
            subscription_id: sub.id,
            asaas_id: &payment.id,
            value_cents: money::from_reais(payment.value),
            status: &payment.status,
            billing_type: &payment.billing_type,
            due_date,
            paid_at,
            invoice_url: payment.invoice_url.as_deref(),
            fetched_at,
        };
        if payment.deleted {
            let gone = std::slice::from_ref(&payment.id);
            store::delete_payments(tx, sub.id, gone, fetched_at).await?;
        } else {
            store::upsert_payment(tx, &update, now).await?;
        }
    }
    if complete {
        let listed: Vec<&str> = payments.iter().map(|p| p.id.as_str()).collect();
        let gone: Vec<String> = store::payments_of(&mut *tx, sub.id)
            .await?
            .into_iter()
            .filter(|p| !listed.contains(&p.asaas_id.as_str()))
            .map(|p| p.asaas_id)
            .collect();
        store::delete_payments(tx, sub.id, &gone, fetched_at).await?;
    }
    Ok(())
}
