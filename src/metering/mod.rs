//! Metering: per account and calendar month (UTC), the messages of Chatwoot's
//! conversations (incoming and outgoing; not private notes, not activity) and the agents
//! who sent any. A consumer of Chatwoot's `message_created` events; each message and each
//! agent has a row of its month, so an event delivered twice is counted once. At 80 % and
//! 100 % of `max_monthly_messages` the account is told (audit, realtime, banner): the hub
//! never blocks Chatwoot.

pub mod store;

use futures_util::future::BoxFuture;
use serde_json::Value;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    chatwoot::webhooks::Consumer,
    entitlements,
    platform::{clock, error::AppResult},
    realtime::AccountNews,
};

/// Shares of the monthly message limit the account is told about, in percent.
const THRESHOLDS: [i64; 2] = [80, 100];

/// One message counted.
#[derive(Debug, PartialEq, Eq)]
pub struct Metered {
    pub message_id: i64,
    pub month: String,
    /// The agent who sent it, for an outgoing message of a person.
    pub agent_id: Option<i64>,
}

/// What of a `message_created` event counts; `None` for a note, an activity or a body
/// without a message id.
pub fn metered(body: &Value, now: OffsetDateTime) -> Option<Metered> {
    let kind = body["message_type"].as_str()?;
    if !matches!(kind, "incoming" | "outgoing") || body["private"] == Value::Bool(true) {
        return None;
    }
    let sent_at = match &body["created_at"] {
        Value::String(raw) => OffsetDateTime::parse(raw, &Rfc3339).ok(),
        Value::Number(n) => n
            .as_i64()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()),
        _ => None,
    }
    .unwrap_or(now);
    let sender = &body["sender"];
    let by_person = kind == "outgoing"
        && sender["id"].is_i64()
        && !matches!(
            sender["type"].as_str(),
            Some("contact" | "agent_bot" | "AgentBot")
        );
    Some(Metered {
        message_id: body["id"].as_i64()?,
        month: month_of(sent_at),
        agent_id: by_person.then(|| sender["id"].as_i64()).flatten(),
    })
}

/// `YYYY-MM` of `at`, in UTC.
pub fn month_of(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}", utc.year(), utc.month() as u8)
}

pub struct Metering;

impl Consumer for Metering {
    fn name(&self) -> &'static str {
        "metering"
    }

    fn wants(&self, event: &str) -> bool {
        event == "message_created"
    }

    fn groups(&self, _event: &str) -> bool {
        true
    }

    fn apply<'a>(
        &'a self,
        state: &'a AppState,
        account_id: Uuid,
        events: &'a [(&'a str, &'a Value)],
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(count(state, account_id, events))
    }
}

async fn count(state: &AppState, account_id: Uuid, events: &[(&str, &Value)]) -> AppResult<()> {
    let now = clock::now();
    let messages: Vec<Metered> = events
        .iter()
        .filter_map(|(_, body)| metered(body, now))
        .collect();
    if messages.is_empty() {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let months = store::record(&mut tx, account_id, &messages).await?;
    let limit = entitlements::store::effective(&mut tx, &state.config.plan_defaults, account_id)
        .await?
        .limits
        .max_monthly_messages;
    let mut reached = Vec::new();
    for (month, total) in months {
        if month != month_of(now) || limit <= 0 {
            continue;
        }
        let percent = total.saturating_mul(100) / limit;
        let Some(threshold) = THRESHOLDS.iter().rev().copied().find(|t| percent >= *t) else {
            continue;
        };
        if store::announce_once(&mut tx, account_id, &month, threshold).await? {
            let entry = AuditEntry::by(
                Actor::system(),
                Some(account_id),
                "usage.threshold_reached",
                "account",
                account_id,
            )
            .changes(
                None::<&Value>,
                Some(&serde_json::json!({"month": month, "messages": total, "limit": limit, "percent": threshold})),
            );
            audit::record(&mut tx, entry).await?;
            reached.push(serde_json::json!({
                "metric": "messages", "month": month, "used": total, "limit": limit, "percent": threshold,
            }));
        }
    }
    tx.commit().await?;
    for data in reached {
        state.realtime.tell(AccountNews {
            account_id,
            kind: "usage.threshold_reached".into(),
            data,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn only_conversation_messages_count_in_the_month_they_were_sent() {
        let now = datetime!(2026-12-06 12:00 UTC);
        let incoming = json!({"id": 7, "message_type": "incoming", "private": false,
            "created_at": "2026-11-30T23:59:59Z", "sender": {"id": 3, "type": "contact"}});
        assert_eq!(
            metered(&incoming, now),
            Some(Metered {
                message_id: 7,
                month: "2026-11".into(),
                agent_id: None
            })
        );
        let outgoing = json!({"id": 8, "message_type": "outgoing", "private": false,
            "created_at": 1796558400, "sender": {"id": 12, "type": "user"}});
        assert_eq!(metered(&outgoing, now).unwrap().agent_id, Some(12));
        let note = json!({"id": 9, "message_type": "outgoing", "private": true});
        assert_eq!(metered(&note, now), None);
        let activity = json!({"id": 10, "message_type": "activity", "private": false});
        assert_eq!(metered(&activity, now), None);
        let undated = json!({"id": 11, "message_type": "incoming"});
        assert_eq!(metered(&undated, now).unwrap().month, "2026-12");
    }
}
