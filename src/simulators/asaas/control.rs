//! What happens outside the API (a customer pays, a due date passes, the bank refunds),
//! driven from Rust or the page; each change emits the webhook Asaas would.

use time::Duration;

use super::{
    AsaasSimulator,
    model::SimPayment,
    state::Shared,
    today,
    webhooks::{emit_payment, emit_subscription},
    wire::{BillingType, Event, PaymentStatus, SubscriptionStatus},
};

/// Marks a pending or overdue payment paid with `billing`: a card payment is CONFIRMED
/// (paid, money not yet available: no `paymentDate` or `creditDate` yet), PIX and boleto
/// are RECEIVED (settled).
pub(super) fn pay(shared: &Shared, id: &str, billing: BillingType) -> Result<SimPayment, String> {
    let mut db = shared.db();
    let payment = db
        .payment_mut(id)
        .filter(|p| !p.deleted)
        .ok_or_else(|| format!("no payment {id}"))?;
    if !matches!(
        payment.status,
        PaymentStatus::Pending | PaymentStatus::Overdue
    ) {
        return Err(format!("payment {id} is {}", payment.status.as_str()));
    }
    let today = today();
    payment.billing_type = billing;
    payment.client_payment_date = Some(today);
    payment.confirmed_date = Some(today);
    let event = match billing {
        BillingType::CreditCard => {
            payment.status = PaymentStatus::Confirmed;
            Event::PaymentConfirmed
        }
        BillingType::Pix | BillingType::Boleto => {
            payment.status = PaymentStatus::Received;
            payment.payment_date = Some(today);
            // PIX lands at once; a boleto is credited the next day.
            let lag = if billing == BillingType::Boleto { 1 } else { 0 };
            payment.credit_date = Some(today + Duration::days(lag));
            Event::PaymentReceived
        }
        BillingType::Undefined => return Err("pay with PIX, BOLETO or CREDIT_CARD".into()),
    };
    let payment = payment.clone();
    emit_payment(shared, &mut db, event, &payment);
    Ok(payment)
}

/// Moves a payment to `to` when it is in one of `from`, emitting `event`.
fn transition(
    shared: &Shared,
    id: &str,
    from: &[PaymentStatus],
    to: PaymentStatus,
    event: Event,
) -> Result<(), String> {
    let mut db = shared.db();
    let payment = db
        .payment_mut(id)
        .filter(|p| !p.deleted)
        .ok_or_else(|| format!("no payment {id}"))?;
    if !from.contains(&payment.status) {
        return Err(format!("payment {id} is {}", payment.status.as_str()));
    }
    payment.status = to;
    let payment = payment.clone();
    emit_payment(shared, &mut db, event, &payment);
    Ok(())
}

fn or_panic<T>(result: Result<T, String>) -> T {
    result.unwrap_or_else(|message| panic!("asaas simulator: {message}"))
}

/// Control methods. Each panics on an unknown id or a change Asaas would not allow
/// (paying a paid payment): in a test, that is a bug in the test.
impl AsaasSimulator {
    /// A customer pays. Emits PAYMENT_CONFIRMED (card) or PAYMENT_RECEIVED (PIX, boleto).
    pub fn pay(&self, payment_id: &str, billing_type: BillingType) {
        or_panic(pay(&self.shared, payment_id, billing_type));
    }

    /// The due date passed unpaid. Emits PAYMENT_OVERDUE.
    pub fn overdue(&self, payment_id: &str) {
        or_panic(transition(
            &self.shared,
            payment_id,
            &[PaymentStatus::Pending],
            PaymentStatus::Overdue,
            Event::PaymentOverdue,
        ));
    }

    /// The payment is refunded. Emits PAYMENT_REFUNDED.
    pub fn refund(&self, payment_id: &str) {
        or_panic(transition(
            &self.shared,
            payment_id,
            &[PaymentStatus::Received, PaymentStatus::Confirmed],
            PaymentStatus::Refunded,
            Event::PaymentRefunded,
        ));
    }

    /// The payment is removed (as from Asaas's panel). Emits PAYMENT_DELETED.
    pub fn delete_payment(&self, payment_id: &str) {
        let mut db = self.shared.db();
        let payment = or_panic(
            db.payment_mut(payment_id)
                .filter(|p| !p.deleted && !p.status.is_paid())
                .ok_or_else(|| format!("no unpaid payment {payment_id}")),
        );
        payment.deleted = true;
        let payment = payment.clone();
        emit_payment(&self.shared, &mut db, Event::PaymentDeleted, &payment);
    }

    /// The next cycle begins: a PENDING payment due on the subscription's `nextDueDate`,
    /// which moves a cycle on. Emits PAYMENT_CREATED and returns the payment id.
    pub fn next_cycle(&self, subscription_id: &str) -> String {
        let mut db = self.shared.db();
        let active = db
            .subscription(subscription_id)
            .is_some_and(|s| !s.deleted && s.status == SubscriptionStatus::Active);
        if !active {
            panic!("asaas simulator: no active subscription {subscription_id}");
        }
        let payment = db
            .bill_next(subscription_id, today())
            .expect("subscription checked above");
        emit_payment(&self.shared, &mut db, Event::PaymentCreated, &payment);
        payment.id
    }

    /// The subscription stops generating payments. Emits SUBSCRIPTION_INACTIVATED.
    pub fn inactivate(&self, subscription_id: &str) {
        let mut db = self.shared.db();
        let sub = or_panic(
            db.subscription_mut(subscription_id)
                .filter(|s| !s.deleted)
                .ok_or_else(|| format!("no subscription {subscription_id}")),
        );
        sub.status = SubscriptionStatus::Inactive;
        let sub = sub.clone();
        emit_subscription(&self.shared, &mut db, Event::SubscriptionInactivated, &sub);
    }
}
