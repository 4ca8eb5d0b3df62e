//! Back into Chatwoot: a card moved by hand updates its conversation, so agents working in
//! Chatwoot see the pipeline too. The conversation gets the custom attribute
//! `whatpro_stage` (the stage's name), the label the board maps to the stage (labels
//! mapped to other stages come off), and its status when the deal closes (won or lost →
//! resolved) or reopens (→ open).
//!
//! The request is queued in the move's transaction, as a job of the webhook queue (same
//! lease, retries, backoff, dead letter and replay, ADR 8): the move never waits for
//! Chatwoot, and a Chatwoot outage loses nothing. A newer move of the same card supersedes
//! a queued one. Calls are paced per account. The card expects the echo: its labels and
//! known status already say what Chatwoot will report, and rules fire only on a change
//! (see `follow`), so the webhooks that come back do not move the card again.

use std::num::NonZeroU32;

use futures_util::future::BoxFuture;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{
    boards::Board,
    cards::{Card, store},
    stages::{Kind, Stage},
};
use crate::{
    app::state::AppState,
    chatwoot::{
        client::{ChatwootError, ConversationStatus},
        connection,
    },
    inbound::{Claimed, Handler, store as queue},
    platform::{
        clock,
        db::Tx,
        error::{AppError, AppResult},
    },
    tenancy::accounts,
};

/// The queue's name for these jobs.
pub const EVENT: &str = "card_write_back";
/// Chatwoot calls per second per account, at most.
const CALLS_PER_SECOND: u32 = 5;
/// How long after a move Chatwoot's events about the card count as echoes of the
/// write-back still to come (once it is done, only until then plus [`ECHO_SKEW`]).
pub const ECHO_WAIT: time::Duration = time::Duration::minutes(2);
/// Allowance for Chatwoot's clock running ahead of the hub's.
const ECHO_SKEW: time::Duration = time::Duration::seconds(2);

/// What the conversation should look like after a card's move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteBack {
    pub card_id: Uuid,
    pub conversation_id: i64,
    /// The conversation's inbox as the card knows it (from Chatwoot); a conversation found in
    /// another inbox is not the card's, and is left alone.
    #[serde(default)]
    pub inbox_id: Option<i64>,
    /// The value of `whatpro_stage`.
    pub stage: String,
    pub status: Option<ConversationStatus>,
    pub add_label: Option<String>,
    pub remove_labels: Vec<String>,
}

/// What moving `card` from `from` to `to` by hand asks of its conversation, if anything;
/// the labels Chatwoot will report are applied to the card now.
pub fn plan(board: &Board, from: &Stage, to: &Stage, card: &mut Card) -> Option<WriteBack> {
    let conversation_id = card.chatwoot_conversation_id?;
    // Only a conversation tied the checked way (by Chatwoot's events, or `links`) has an inbox.
    let inbox_id = card.chatwoot_inbox_id?;
    if !board.rules.write_back || from.id == to.id {
        return None;
    }
    let status = match (from.kind, to.kind) {
        (Kind::Open, Kind::Won | Kind::Lost) => Some(ConversationStatus::Resolved),
        (Kind::Won | Kind::Lost, Kind::Open) => Some(ConversationStatus::Open),
        _ => None,
    };
    let rules = &board.rules.label_stages;
    let add_label = rules
        .iter()
        .find(|(_, stage)| **stage == to.id)
        .map(|(label, _)| label.clone());
    // Every label of another stage, not only those the card shows: the card's labels may
    // lag behind Chatwoot's.
    let remove_labels: Vec<String> = rules
        .iter()
        .filter(|(_, stage)| **stage != to.id)
        .map(|(label, _)| label.clone())
        .collect();
    card.labels.retain(|l| !remove_labels.contains(l));
    if let Some(label) = &add_label
        && !card.labels.contains(label)
    {
        card.labels.push(label.clone());
        card.labels.sort();
    }
    Some(WriteBack {
        card_id: card.id,
        conversation_id,
        inbox_id: Some(inbox_id),
        stage: to.name.clone(),
        status,
        add_label,
        remove_labels,
    })
}

/// Queues the write-back in the move's transaction, replacing one still waiting for the
/// same card.
pub async fn enqueue(tx: &mut Tx, account_id: Uuid, write_back: &WriteBack) -> AppResult<()> {
    let body = serde_json::to_string(write_back).map_err(anyhow::Error::from)?;
    let group = write_back.card_id.to_string();
    queue::enqueue_job(tx, account_id, EVENT, &group, &body).await
}

/// Paces calls to each account's Chatwoot.
pub struct Pace(DefaultKeyedRateLimiter<Uuid>);

impl Default for Pace {
    fn default() -> Self {
        let per_second = NonZeroU32::new(CALLS_PER_SECOND).expect("non-zero");
        Pace(RateLimiter::keyed(Quota::per_second(per_second)))
    }
}

impl Pace {
    async fn wait(&self, account_id: Uuid) {
        self.0.until_key_ready(&account_id).await;
    }
}

/// The hub's own jobs ([`FROM_HUB`](crate::inbound::FROM_HUB)): write-backs, queued by
/// card moves and nothing else.
pub struct HubJobs;

impl Handler for HubJobs {
    fn handle<'a>(&'a self, state: &'a AppState, job: &'a Claimed) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            match job.event.as_str() {
                EVENT => perform(state, job.account()?, &job.body).await,
                other => Err(AppError::Internal(anyhow::anyhow!(
                    "no hub job is named {other}"
                ))),
            }
        })
    }
}

/// Runs a queued write-back: reads the conversation, then changes only what differs, so
/// a retry after a partial failure repeats nothing that already happened.
pub async fn perform(state: &AppState, account_id: Uuid, body: &str) -> AppResult<()> {
    let write_back: WriteBack = serde_json::from_str(body)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("stored write-back unreadable: {e}")))?;
    let Some(account) = accounts::store::get(&state.db, account_id).await? else {
        return Ok(());
    };
    let (link, credential) = match connection::credential(state, &account).await {
        Ok(found) => found,
        // Disconnected since the move: nothing to write to.
        Err(AppError::Conflict {
            code: "chatwoot_not_connected",
            ..
        }) => return Ok(()),
        Err(err) => return Err(err),
    };
    let client = &link.known.client;
    let (cw_account, id) = (link.chatwoot_account_id, write_back.conversation_id);
    let failed = |err: ChatwootError| AppError::Internal(anyhow::anyhow!("Chatwoot: {err}"));
    state.chatwoot_pace.wait(account_id).await;
    let conversation = match client.conversation(&credential, cw_account, id).await {
        Ok(conversation) => conversation,
        Err(ChatwootError::NotFound) => return Ok(()), // deleted in Chatwoot
        Err(err) => return Err(failed(err)),
    };
    if write_back
        .inbox_id
        .is_some_and(|inbox| inbox != conversation.inbox_id)
    {
        tracing::warn!(card = %write_back.card_id, "write-back skipped: the conversation is not in the card's inbox");
        return Ok(());
    }
    let stage = Value::String(write_back.stage.clone());
    if conversation.custom_attributes.get("whatpro_stage") != Some(&stage) {
        let mut attributes = conversation.custom_attributes.clone();
        attributes.insert("whatpro_stage".into(), stage);
        state.chatwoot_pace.wait(account_id).await;
        client
            .set_custom_attributes(&credential, cw_account, id, &attributes)
            .await
            .map_err(failed)?;
    }
    let mut labels: Vec<String> = conversation
        .labels
        .iter()
        .filter(|l| !write_back.remove_labels.contains(&l.to_lowercase()))
        .cloned()
        .collect();
    if let Some(label) = &write_back.add_label
        && !labels.iter().any(|l| l.eq_ignore_ascii_case(label))
    {
        labels.push(label.clone());
    }
    if labels != conversation.labels {
        state.chatwoot_pace.wait(account_id).await;
        client
            .set_conversation_labels(&credential, cw_account, id, &labels)
            .await
            .map_err(failed)?;
    }
    if let Some(status) = write_back.status
        && status != conversation.status
    {
        state.chatwoot_pace.wait(account_id).await;
        client
            .toggle_status(&credential, cw_account, id, status)
            .await
            .map_err(failed)?;
    }
    let echoes_until = clock::micros(clock::now() + ECHO_SKEW);
    store::quiet_until(&state.db, account_id, write_back.card_id, echoes_until).await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use time::OffsetDateTime;

    use super::*;
    use crate::kanban::boards::Rules;

    fn stage(name: &str, kind: Kind) -> Stage {
        let now = OffsetDateTime::UNIX_EPOCH;
        Stage {
            id: Uuid::now_v7(),
            board_id: Uuid::nil(),
            name: name.into(),
            color: "#1f93ff".into(),
            position: 0,
            sla_hours: None,
            kind,
            created_at: now,
            updated_at: now,
        }
    }

    fn board(rules: Rules) -> Board {
        let now = OffsetDateTime::UNIX_EPOCH;
        Board {
            id: Uuid::nil(),
            name: "Sales".into(),
            description: String::new(),
            currency: "BRL".into(),
            inbox_ids: vec![],
            custom_fields: vec![],
            rules,
            version: 1,
            revision: 0,
            created_at: now,
            updated_at: now,
        }
    }

    fn card(stage: &Stage, conversation: Option<i64>, labels: &[&str]) -> Card {
        let mut card = Card::blank(
            Uuid::nil(),
            stage,
            "Deal".into(),
            OffsetDateTime::UNIX_EPOCH,
        );
        card.chatwoot_conversation_id = conversation;
        card.chatwoot_inbox_id = conversation.map(|_| 7);
        card.labels = labels.iter().map(|l| l.to_string()).collect();
        card
    }

    #[test]
    fn closing_resolves_and_reopening_opens() {
        let (open, won, lost) = (
            stage("New", Kind::Open),
            stage("Won", Kind::Won),
            stage("Lost", Kind::Lost),
        );
        let board = board(Rules {
            write_back: true,
            ..Rules::default()
        });
        let mut deal = card(&open, Some(7), &[]);
        let to_won = plan(&board, &open, &won, &mut deal).unwrap();
        assert_eq!(to_won.status, Some(ConversationStatus::Resolved));
        assert_eq!(to_won.stage, "Won");
        assert_eq!(to_won.conversation_id, 7);
        assert_eq!(plan(&board, &won, &lost, &mut deal).unwrap().status, None);
        let back = plan(&board, &lost, &open, &mut deal).unwrap();
        assert_eq!(back.status, Some(ConversationStatus::Open));
        assert!(plan(&board, &open, &open, &mut deal).is_none(), "no move");
    }

    #[test]
    fn the_stages_label_goes_on_and_other_stage_labels_come_off() {
        let (new, hot, cold) = (
            stage("New", Kind::Open),
            stage("Hot", Kind::Open),
            stage("Cold", Kind::Open),
        );
        let board = board(Rules {
            write_back: true,
            label_stages: BTreeMap::from([
                ("hot".to_string(), hot.id),
                ("cold".to_string(), cold.id),
            ]),
            ..Rules::default()
        });
        let mut deal = card(&new, Some(7), &["cold", "vip"]);
        let planned = plan(&board, &new, &hot, &mut deal).unwrap();
        assert_eq!(planned.add_label.as_deref(), Some("hot"));
        assert_eq!(planned.remove_labels, ["cold"]);
        assert_eq!(deal.labels, ["hot", "vip"], "the card expects the echo");
    }

    #[test]
    fn nothing_is_written_without_a_conversation_or_when_the_board_says_no() {
        let (new, won) = (stage("New", Kind::Open), stage("Won", Kind::Won));
        let quiet = board(Rules::default());
        assert!(plan(&quiet, &new, &won, &mut card(&new, Some(7), &[])).is_none());
        let loud = board(Rules {
            write_back: true,
            ..Rules::default()
        });
        assert!(plan(&loud, &new, &won, &mut card(&new, None, &[])).is_none());
        // A conversation id without the inbox Chatwoot gave it was never checked (issue 13,
        // finding 5): nothing is written to it.
        let mut unchecked = card(&new, Some(7), &[]);
        unchecked.chatwoot_inbox_id = None;
        assert!(plan(&loud, &new, &won, &mut unchecked).is_none());
    }
}
