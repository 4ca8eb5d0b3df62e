//! What the worker does with a Chatwoot delivery: decodes it once and hands the event to
//! every consumer registered for it at start-up (the inbox mirror here; the Kanban; later
//! metering, the chat, the providers' bridge), so `chatwoot` knows none of them.

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    app::state::AppState,
    chatwoot::{client::WebhookEvent, connection},
    inbound::{Claimed, Handler, store},
    platform::{
        error::{AppError, AppResult},
        text,
    },
    tenancy::accounts,
};

/// Something that acts on Chatwoot's events.
pub trait Consumer: Send + Sync {
    /// Its name in the record of which consumers applied a delivery: stable across versions.
    fn name(&self) -> &'static str;

    /// Whether it acts on `event` at all.
    fn wants(&self, event: &str) -> bool;

    /// Whether it can apply several of `event` of one account together.
    fn groups(&self, _event: &str) -> bool {
        false
    }

    /// Applies events of one account, in order; applying one again must change nothing
    /// (a failed group is applied again one by one, a failed delivery retried).
    fn apply<'a>(
        &'a self,
        state: &'a AppState,
        account_id: Uuid,
        events: &'a [(&'a str, &'a Value)],
    ) -> BoxFuture<'a, AppResult<()>>;
}

/// The handler of deliveries received from Chatwoot.
#[derive(Clone)]
pub struct FromChatwoot {
    consumers: Vec<Arc<dyn Consumer>>,
}

impl FromChatwoot {
    /// Chatwoot's events with the inbox mirror as their first consumer.
    pub fn new() -> Self {
        FromChatwoot {
            consumers: vec![Arc::new(InboxMirror)],
        }
    }

    pub fn consumer(mut self, consumer: impl Consumer + 'static) -> Self {
        self.consumers.push(Arc::new(consumer));
        self
    }

    fn wanting<'a>(&'a self, event: &'a str) -> impl Iterator<Item = &'a Arc<dyn Consumer>> {
        self.consumers.iter().filter(move |c| c.wants(event))
    }

    async fn deliver(&self, state: &AppState, group: &[Claimed]) -> AppResult<()> {
        let bodies = group.iter().map(json_body).collect::<AppResult<Vec<_>>>()?;
        let events: Vec<(&str, &Value)> = group
            .iter()
            .zip(&bodies)
            .map(|(delivery, body)| (delivery.event.as_str(), body))
            .collect();
        let account_id = group[0].account()?;
        // The intake takes only Chatwoot's own event names; one that no consumer wants
        // (typing, the web widget) has nothing to do.
        if let Some((event, _)) = events
            .iter()
            .find(|(e, _)| WebhookEvent::parse(e).is_none())
        {
            return Err(AppError::Internal(anyhow::anyhow!(
                "nothing runs a chatwoot delivery of {event}: not one of Chatwoot's events"
            )));
        }
        // Progress exists only for an event two consumers want, once one failed after the
        // other applied it; the delivery is then handled again alone (right after its group
        // failed) or as a later attempt. Anything else reads nothing.
        let may_be_partial = |d: &&Claimed| {
            (group.len() == 1 || d.attempts > 1) && self.wanting(&d.event).nth(1).is_some()
        };
        let mut done = Vec::new();
        for delivery in group.iter().filter(may_be_partial) {
            for consumer in store::consumers_done(&state.db, delivery.id).await? {
                done.push((delivery.id, consumer));
            }
        }
        let mut applied: Vec<(&'static str, Vec<Uuid>)> = Vec::new();
        for consumer in &self.consumers {
            let (ids, wanted): (Vec<Uuid>, Vec<(&str, &Value)>) = group
                .iter()
                .zip(&events)
                .filter(|(delivery, (event, _))| {
                    consumer.wants(event)
                        && !done
                            .iter()
                            .any(|(id, name)| *id == delivery.id && name == consumer.name())
                })
                .map(|(delivery, event)| (delivery.id, *event))
                .unzip();
            if wanted.is_empty() {
                continue;
            }
            if let Err(err) = consumer.apply(state, account_id, &wanted).await {
                // What the consumers before it applied stays applied: their retry skips it.
                for (name, ids) in &applied {
                    store::record_consumed(&state.db, ids, name).await?;
                }
                return Err(err);
            }
            applied.push((consumer.name(), ids));
        }
        Ok(())
    }
}

impl Default for FromChatwoot {
    fn default() -> Self {
        Self::new()
    }
}

impl Handler for FromChatwoot {
    fn groups(&self, event: &str) -> bool {
        let mut wanting = self.wanting(event).peekable();
        wanting.peek().is_some() && wanting.all(|c| c.groups(event))
    }

    fn handle<'a>(
        &'a self,
        state: &'a AppState,
        delivery: &'a Claimed,
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(self.deliver(state, std::slice::from_ref(delivery)))
    }

    fn handle_group<'a>(
        &'a self,
        state: &'a AppState,
        group: &'a [Claimed],
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(self.deliver(state, group))
    }
}

/// Inbox events carry no inbox id (Chatwoot sends the settings and the channel), so they
/// are a signal to pull the account's inboxes again.
struct InboxMirror;

impl Consumer for InboxMirror {
    fn name(&self) -> &'static str {
        "inbox_mirror"
    }

    fn wants(&self, event: &str) -> bool {
        matches!(event, "inbox_created" | "inbox_updated")
    }

    fn apply<'a>(
        &'a self,
        state: &'a AppState,
        account_id: Uuid,
        _events: &'a [(&'a str, &'a Value)],
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            let account = accounts::store::get(&state.db, account_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let (link, credential) = connection::credential(state, &account).await?;
            connection::pull(state, account.id, &link, &credential).await?;
            Ok(())
        })
    }
}

/// The delivery's body, with any NUL in its text made storable (a contact named with one
/// would otherwise fail on every retry until dead).
fn json_body(delivery: &Claimed) -> AppResult<Value> {
    serde_json::from_str(&text::json_without_nul(&delivery.body))
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored body is not JSON: {e}")))
}
