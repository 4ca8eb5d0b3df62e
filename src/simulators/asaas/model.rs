//! The simulator's records, kept in insertion order (lists answer oldest first).

use std::collections::HashMap;

use axum::body::Bytes;
use time::Date;

use super::wire::{BillingType, Cycle, Event, PaymentStatus, SendType, SubscriptionStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct SimCustomer {
    pub id: String,
    pub date_created: Date,
    pub name: String,
    pub email: Option<String>,
    /// Digits (or the new alphanumeric CNPJ) without punctuation, as Asaas stores it.
    pub cpf_cnpj: String,
    pub mobile_phone: Option<String>,
    pub external_reference: Option<String>,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimSubscription {
    pub id: String,
    pub date_created: Date,
    pub customer: String,
    pub billing_type: BillingType,
    pub cycle: Cycle,
    pub value: f64,
    /// The due date of the next payment still to be generated.
    pub next_due_date: Date,
    /// The day of the month month-based cycles aim for (see `Cycle::after`).
    pub due_day: u8,
    pub description: Option<String>,
    pub status: SubscriptionStatus,
    pub deleted: bool,
    pub external_reference: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimPayment {
    pub id: String,
    pub date_created: Date,
    pub customer: String,
    pub subscription: Option<String>,
    pub value: f64,
    /// Equal to `value`: the simulator charges no fees.
    pub net_value: f64,
    pub description: Option<String>,
    pub billing_type: BillingType,
    pub status: PaymentStatus,
    pub due_date: Date,
    pub original_due_date: Date,
    pub payment_date: Option<Date>,
    pub client_payment_date: Option<Date>,
    pub confirmed_date: Option<Date>,
    pub credit_date: Option<Date>,
    pub invoice_number: String,
    pub external_reference: Option<String>,
    pub deleted: bool,
}

/// A webhook configuration (`POST /v3/webhooks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimWebhook {
    pub id: String,
    pub name: String,
    pub url: String,
    pub email: Option<String>,
    pub enabled: bool,
    /// Paused: events pile up in its backlog until `interrupted` is set back to false.
    pub interrupted: bool,
    pub auth_token: Option<String>,
    pub send_type: SendType,
    pub events: Vec<String>,
}

/// One event as emitted: its id and the exact bytes every delivery of it posts.
#[derive(Debug, Clone)]
pub(super) struct Envelope {
    pub id: String,
    pub event: Event,
    pub body: Bytes,
}

#[derive(Debug, Default)]
pub(super) struct Db {
    pub customers: Vec<SimCustomer>,
    pub subscriptions: Vec<SimSubscription>,
    pub payments: Vec<SimPayment>,
    pub webhooks: Vec<SimWebhook>,
    /// Undelivered events per webhook id, oldest first: failures, and what a paused or
    /// blocked sequential queue holds back.
    pub backlog: HashMap<String, Vec<Envelope>>,
    /// Consecutive failed deliveries per webhook id (Asaas pauses a queue at 15).
    pub failures: HashMap<String, u32>,
    /// Every event emitted, for `resend`.
    pub sent: Vec<Envelope>,
    pub holding: bool,
    pub held: Vec<Envelope>,
    pub event_seq: u64,
    pub invoice_seq: u64,
}

impl Db {
    pub fn customer(&self, id: &str) -> Option<&SimCustomer> {
        self.customers.iter().find(|c| c.id == id)
    }

    pub fn subscription(&self, id: &str) -> Option<&SimSubscription> {
        self.subscriptions.iter().find(|s| s.id == id)
    }

    pub fn subscription_mut(&mut self, id: &str) -> Option<&mut SimSubscription> {
        self.subscriptions.iter_mut().find(|s| s.id == id)
    }

    pub fn payment(&self, id: &str) -> Option<&SimPayment> {
        self.payments.iter().find(|p| p.id == id)
    }

    pub fn payment_mut(&mut self, id: &str) -> Option<&mut SimPayment> {
        self.payments.iter_mut().find(|p| p.id == id)
    }

    pub fn webhook(&self, id: &str) -> Option<&SimWebhook> {
        self.webhooks.iter().find(|w| w.id == id)
    }

    pub fn webhook_mut(&mut self, id: &str) -> Option<&mut SimWebhook> {
        self.webhooks.iter_mut().find(|w| w.id == id)
    }

    /// Generates the subscription's next payment, due on its `next_due_date`, and moves
    /// that date one cycle on, as Asaas does when a subscription is created and at each
    /// cycle. `None` when the subscription is unknown.
    pub fn bill_next(&mut self, subscription_id: &str, today: Date) -> Option<SimPayment> {
        self.invoice_seq += 1;
        let invoice_number = format!("{:08}", self.invoice_seq);
        let sub = self.subscription_mut(subscription_id)?;
        let payment = SimPayment {
            id: new_id("pay_"),
            date_created: today,
            customer: sub.customer.clone(),
            subscription: Some(sub.id.clone()),
            value: sub.value,
            net_value: sub.value,
            description: sub.description.clone(),
            billing_type: sub.billing_type,
            status: PaymentStatus::Pending,
            due_date: sub.next_due_date,
            original_due_date: sub.next_due_date,
            payment_date: None,
            client_payment_date: None,
            confirmed_date: None,
            credit_date: None,
            invoice_number,
            external_reference: sub.external_reference.clone(),
            deleted: false,
        };
        sub.next_due_date = sub.cycle.after(sub.next_due_date, sub.due_day);
        self.payments.push(payment.clone());
        Some(payment)
    }
}

/// `prefix` and 12 random lower-case letters and digits: `pay_3k9x0c2m1q7z`.
pub(super) fn new_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let tail: String = (0..12)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect();
    format!("{prefix}{tail}")
}
