//! Webhook emission and delivery like Asaas (FACTS, "Delivery"): a JSON POST per event and
//! configuration with the configured `authToken` in `asaas-access-token`; only HTTP 200
//! counts. Failed events stay in the configuration's backlog; in `SEQUENTIALLY` mode they
//! block the events behind them, and 15 failures in a row pause (`interrupted`) the queue.
//! Asaas retries on a schedule; here retries happen when a test asks (`redeliver_failed`).

use std::sync::Arc;

use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{
    AsaasSimulator,
    model::{Db, Envelope, SimPayment, SimSubscription, SimWebhook},
    objects::{self, Shown},
    state::{Delivery, Job, Shared, lock},
    wire::{DATE_TIME, Event, KNOWN_EVENTS, SendType},
};

/// Consecutive failures after which Asaas pauses a webhook's queue.
const PAUSE_AFTER: u32 = 15;

/// An emitted event: its id (what `resend` takes), name and the body every delivery posts.
#[derive(Debug, Clone, PartialEq)]
pub struct SentEvent {
    pub id: String,
    pub event: String,
    pub body: Value,
}

/// The order in which `release_webhooks` sends what was held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    InOrder,
    Reversed,
}

pub(super) fn emit_payment(shared: &Shared, db: &mut Db, event: Event, payment: &SimPayment) {
    emit(
        shared,
        db,
        event,
        objects::payment(payment, &shared.page_url),
    );
}

pub(super) fn emit_subscription(
    shared: &Shared,
    db: &mut Db,
    event: Event,
    subscription: &SimSubscription,
) {
    emit(
        shared,
        db,
        event,
        objects::subscription(subscription, Shown::Webhook),
    );
}

/// Freezes the event as it is now (later changes do not alter it, as with Asaas) and sends
/// it, or holds it while `hold_webhooks(true)`.
fn emit(shared: &Shared, db: &mut Db, event: Event, object: Value) {
    db.event_seq += 1;
    let id = format!("evt_{}&{}", uuid::Uuid::new_v4().simple(), db.event_seq);
    let key = if event.is_subscription() {
        "subscription"
    } else {
        "payment"
    };
    let now = crate::platform::clock::now();
    let body = json!({
        "id": id,
        "event": event.as_str(),
        "dateCreated": now.format(DATE_TIME).unwrap_or_default(),
        "account": { "id": shared.account_id, "ownerId": null },
        key: object,
    });
    let envelope = Envelope {
        id,
        event,
        body: serde_json::to_vec(&body).unwrap_or_default().into(),
    };
    db.sent.push(envelope.clone());
    if db.holding {
        db.held.push(envelope);
    } else {
        dispatch(shared, db, &envelope, false);
    }
}

/// Queues `envelope` for every enabled configuration subscribed to its event.
fn dispatch(shared: &Shared, db: &Db, envelope: &Envelope, forced: bool) {
    let targets = db
        .webhooks
        .iter()
        .filter(|hook| hook.enabled && hook.events.iter().any(|e| e == envelope.event.as_str()));
    for hook in targets {
        enqueue(
            shared,
            Job {
                webhook_id: hook.id.clone(),
                envelope: envelope.clone(),
                forced,
            },
        );
    }
}

fn enqueue(shared: &Shared, job: Job) {
    shared.pending.send_modify(|n| *n += 1);
    if shared.jobs.send(job).is_err() {
        shared.pending.send_modify(|n| *n -= 1);
    }
}

/// Sends every backlogged event again, oldest first per configuration (paused ones stay).
pub(super) fn redeliver(shared: &Shared, db: &mut Db, only: Option<&str>) {
    let ids: Vec<String> = db
        .webhooks
        .iter()
        .map(|w| w.id.clone())
        .filter(|id| only.is_none_or(|only| only == id))
        .collect();
    for webhook_id in ids {
        for envelope in db.backlog.remove(&webhook_id).unwrap_or_default() {
            let webhook_id = webhook_id.clone();
            let job = Job {
                webhook_id,
                envelope,
                forced: true,
            };
            enqueue(shared, job);
        }
    }
}

/// The delivery worker: one job at a time, so order is kept.
pub(super) async fn run(shared: Arc<Shared>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = jobs.recv().await {
        deliver(&shared, job).await;
        shared.pending.send_modify(|n| *n = n.saturating_sub(1));
    }
}

async fn deliver(shared: &Shared, job: Job) {
    let Job {
        webhook_id,
        envelope,
        forced,
    } = job;
    let (url, token) = {
        let mut db = shared.db();
        let Some(hook) = db.webhook(&webhook_id).filter(|h| h.enabled) else {
            return;
        };
        let (url, token) = (hook.url.clone(), hook.auth_token.clone());
        let queue_blocked = hook.send_type == SendType::Sequentially
            && db.backlog.get(&webhook_id).is_some_and(|q| !q.is_empty());
        if hook.interrupted || (queue_blocked && !forced) {
            db.backlog.entry(webhook_id).or_default().push(envelope);
            return;
        }
        (url, token)
    };
    let mut request = shared
        .http
        .post(&url)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, "Asaas_Hmlg/3.0")
        .body(envelope.body.clone());
    if let Some(token) = &token {
        request = request.header("asaas-access-token", token);
    }
    let (status, error) = match request.send().await {
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(err) => (None, Some(err.without_url().to_string())),
    };
    let delivery = Delivery {
        event_id: envelope.id.clone(),
        event: envelope.event.as_str().to_string(),
        webhook_id: webhook_id.clone(),
        url,
        status,
        error,
    };
    {
        let mut db = shared.db();
        if delivery.succeeded() {
            db.failures.remove(&webhook_id);
        } else {
            let failures = db.failures.entry(webhook_id.clone()).or_default();
            *failures += 1;
            let pause = *failures >= PAUSE_AFTER;
            db.backlog
                .entry(webhook_id.clone())
                .or_default()
                .push(envelope);
            if pause && let Some(hook) = db.webhook_mut(&webhook_id) {
                hook.interrupted = true;
            }
        }
    }
    tracing::debug!(event = %delivery.event, status, "asaas simulator webhook delivery");
    lock(&shared.deliveries).push(delivery);
}

impl AsaasSimulator {
    /// Registers a webhook configuration for every event, sent `SEQUENTIALLY` (Asaas's
    /// default: a failed event blocks the later ones until redelivered). Returns its id.
    pub fn set_webhook(&self, url: &str, auth_token: &str) -> String {
        let hook = SimWebhook {
            id: uuid::Uuid::new_v4().to_string(),
            name: "simulator".into(),
            url: url.into(),
            email: None,
            enabled: true,
            interrupted: false,
            auth_token: Some(auth_token.to_string()).filter(|t| !t.is_empty()),
            send_type: SendType::Sequentially,
            events: KNOWN_EVENTS.iter().map(|e| e.to_string()).collect(),
        };
        let id = hook.id.clone();
        self.shared.db().webhooks.push(hook);
        id
    }

    pub fn webhooks(&self) -> Vec<SimWebhook> {
        self.shared.db().webhooks.clone()
    }

    /// Finished delivery attempts, in the order they finished.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.shared.deliveries).clone()
    }

    /// Waits until every queued delivery has been attempted (held events excepted).
    pub async fn settle(&self) {
        let mut pending = self.shared.pending.subscribe();
        // The sender lives in `shared`, which this handle keeps alive.
        let _ = pending.wait_for(|n| *n == 0).await;
    }

    /// Retries every failed (or blocked) event, oldest first for each configuration.
    /// Paused (`interrupted`) configurations keep theirs until resumed through the API.
    pub fn redeliver_failed(&self) {
        let mut db = self.shared.db();
        redeliver(&self.shared, &mut db, None);
    }

    /// Sends an already emitted event again, with the same id: a duplicate delivery.
    ///
    /// # Panics
    /// If no event with that id was emitted.
    pub fn resend(&self, event_id: &str) {
        let db = self.shared.db();
        let envelope = db
            .sent
            .iter()
            .find(|e| e.id == event_id)
            .unwrap_or_else(|| panic!("no event {event_id} was emitted"))
            .clone();
        dispatch(&self.shared, &db, &envelope, true);
    }

    /// While `true`, events are kept instead of sent, until `release_webhooks`.
    pub fn hold_webhooks(&self, hold: bool) {
        self.shared.db().holding = hold;
    }

    /// Sends the held events in the given order (holding goes on if it was on).
    pub fn release_webhooks(&self, order: Release) {
        let mut db = self.shared.db();
        let mut held = std::mem::take(&mut db.held);
        if order == Release::Reversed {
            held.reverse();
        }
        for envelope in &held {
            dispatch(&self.shared, &db, envelope, false);
        }
    }

    /// Every event emitted so far, oldest first, held ones included.
    pub fn events(&self) -> Vec<SentEvent> {
        let db = self.shared.db();
        let sent = db.sent.iter();
        sent.map(|e| SentEvent {
            id: e.id.clone(),
            event: e.event.as_str().to_string(),
            body: serde_json::from_slice(&e.body).unwrap_or_default(),
        })
        .collect()
    }
}
