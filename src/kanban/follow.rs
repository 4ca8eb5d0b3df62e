//! Cards that follow Chatwoot conversations. The webhook worker hands every stored
//! conversation, message and contact event here; each board fed by the conversation's
//! inbox applies its rules: a card in the entry stage when a conversation starts, moves
//! by status and by label, and the card's fields kept in step.
//!
//! Conversation events carry the conversation's whole state, so applying the newest one
//! gives the same card whatever came before; a state older than the one already applied
//! (events out of order) changes nothing.

use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    boards::{self, Board},
    cards::{
        Card, Priority,
        history::{self, Actor, Event},
        moves, store,
    },
    lock,
    stages::{self, Kind, Stage},
};
use crate::{
    chatwoot::{client as cw, connection, inboxes},
    kanban,
    platform::{clock, db::Tx, error::AppResult, state::AppState},
    realtime::Changed,
    tenancy::users,
};

/// What a conversation event says about the conversation.
#[derive(Debug)]
struct Conversation {
    display_id: i64,
    inbox_id: Option<i64>,
    status: String,
    priority: Option<Priority>,
    labels: Vec<String>,
    contact_id: Option<i64>,
    contact_name: Option<String>,
    contact_avatar: Option<String>,
    assignee: Option<i64>,
    /// `updated_at`, in microseconds.
    updated_micros: i64,
    last_message: Option<(String, OffsetDateTime)>,
}

fn text(value: &Value) -> Option<String> {
    value
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

fn epoch(value: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(value.as_i64()?).ok()
}

impl Conversation {
    /// A conversation read from Chatwoot's API just now: the current truth, so it is
    /// stamped with the time it was read.
    fn from_api(c: &cw::Conversation, read_at: OffsetDateTime) -> Conversation {
        let sender = c.meta.sender.as_ref();
        Conversation {
            display_id: c.id,
            inbox_id: Some(c.inbox_id),
            status: c.status.as_str().to_string(),
            priority: c
                .priority
                .and_then(|p| serde_json::to_value(p).ok())
                .and_then(|p| serde_json::from_value(p).ok()),
            labels: c.labels.iter().map(|l| l.to_lowercase()).collect(),
            contact_id: sender.map(|s| s.id),
            contact_name: sender
                .and_then(|s| s.name.clone())
                .filter(|n| !n.trim().is_empty()),
            contact_avatar: None,
            assignee: c
                .meta
                .assignee
                .as_ref()
                .filter(|a| a.kind.as_deref().is_none_or(|k| k == "user"))
                .map(|a| a.id),
            updated_micros: (read_at.unix_timestamp_nanos() / 1_000) as i64,
            last_message: None,
        }
    }

    /// Reads Chatwoot's webhook shape of a conversation (FACTS §1a).
    fn parse(body: &Value) -> Option<Conversation> {
        let sender = &body["meta"]["sender"];
        let message = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .and_then(|m| Some((text(&m["content"])?, epoch(&m["created_at"])?)));
        Some(Conversation {
            display_id: body["id"].as_i64()?,
            inbox_id: body["inbox_id"].as_i64(),
            status: body["status"].as_str().unwrap_or("open").to_string(),
            priority: serde_json::from_value(body["priority"].clone()).ok(),
            labels: body["labels"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(text)
                        .map(|l| l.to_lowercase())
                        .collect()
                })
                .unwrap_or_default(),
            contact_id: sender["id"]
                .as_i64()
                .or_else(|| body["contact_inbox"]["contact_id"].as_i64()),
            contact_name: text(&sender["name"]),
            contact_avatar: text(&sender["thumbnail"]),
            // Agent bots have ids of their own; only people are assignees on cards.
            assignee: Some(&body["meta"]["assignee"])
                .filter(|a| a["type"].as_str().is_none_or(|t| t == "user"))
                .and_then(|a| a["id"].as_i64()),
            updated_micros: (body["updated_at"].as_f64().unwrap_or(0.0) * 1_000_000.0) as i64,
            last_message: message,
        })
    }
}

/// Applies one stored Chatwoot event to the account's boards.
pub async fn apply(state: &AppState, account_id: Uuid, event: &str, body: &Value) -> AppResult<()> {
    match event {
        "conversation_created" | "conversation_updated" | "conversation_status_changed" => {
            if let Some(conversation) = Conversation::parse(body) {
                follow(state, account_id, &conversation, Apply::All).await?;
            }
        }
        // The message's conversation comes along in full; private notes are not news.
        "message_created" if body["private"] != true => {
            if let Some(mut conversation) = Conversation::parse(&body["conversation"]) {
                let at = body["created_at"].as_str().and_then(|t| {
                    OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
                });
                if let (Some(content), Some(at)) = (text(&body["content"]), at) {
                    conversation.last_message = Some((content, at));
                }
                follow(state, account_id, &conversation, Apply::LastMessage).await?;
            }
        }
        "contact_updated" => {
            if let (Some(id), Some(name)) = (body["id"].as_i64(), text(&body["name"])) {
                let mut tx = state.db.begin().await?;
                let avatar = text(&body["thumbnail"]);
                let touched = store::update_contact(
                    &mut tx,
                    account_id,
                    id,
                    &name,
                    avatar.as_deref(),
                    clock::now(),
                )
                .await?;
                let mut changes = Vec::new();
                for (board_id, cards) in touched {
                    let what = Changed::Cards(cards);
                    changes.push(boards::store::touch(&mut tx, account_id, board_id, what).await?);
                }
                tx.commit().await?;
                state.realtime.announce_all(changes).await;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Whether `board` takes conversations of `inbox`: the inboxes it names, or every inbox
/// enabled in the hub.
async fn feeds(
    tx: &mut Tx,
    account_id: Uuid,
    board: &Board,
    inbox: Option<i64>,
) -> AppResult<bool> {
    let Some(inbox) = inbox else {
        return Ok(board.inbox_ids.is_empty());
    };
    if !board.inbox_ids.is_empty() {
        return Ok(board.inbox_ids.contains(&inbox));
    }
    let known = inboxes::store::all_in(tx, account_id).await?;
    Ok(known
        .iter()
        .find(|i| i.chatwoot_inbox_id == inbox)
        .is_none_or(|i| i.enabled))
}

/// How much of a conversation's state to apply.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Apply {
    /// Everything: cards made, moved and updated.
    All,
    /// A message: the card's last message only.
    LastMessage,
    /// A closed conversation seen by reconciliation: existing cards follow, none is made.
    ExistingOnly,
}

async fn follow(
    state: &AppState,
    account_id: Uuid,
    conversation: &Conversation,
    apply: Apply,
) -> AppResult<Repairs> {
    let mut repairs = Repairs::default();
    for board in boards::store::all_live(&state.db, account_id).await? {
        let mut tx = state.db.begin().await?;
        if !lock::board(&mut tx, account_id, board.id).await?
            || !feeds(&mut tx, account_id, &board, conversation.inbox_id).await?
        {
            continue;
        }
        let stages = stages::store::list(&mut tx, account_id, board.id).await?;
        let outcome =
            apply_to_board(&mut tx, account_id, &board, &stages, conversation, apply).await?;
        match outcome.changed_card() {
            Some(card_id) => {
                kanban::commit(state, tx, account_id, board.id, Changed::card(card_id)).await?;
            }
            None => tx.commit().await?,
        }
        repairs.count(outcome);
    }
    Ok(repairs)
}

/// What applying a conversation did to one board's card.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Created(Uuid),
    Moved(Uuid),
    Updated(Uuid),
    Unchanged,
}

impl Outcome {
    fn changed_card(self) -> Option<Uuid> {
        match self {
            Outcome::Created(id) | Outcome::Moved(id) | Outcome::Updated(id) => Some(id),
            Outcome::Unchanged => None,
        }
    }
}

/// What a reconciliation found out of step, and fixed.
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Repairs {
    /// Conversations read from Chatwoot.
    pub conversations: u32,
    /// Cards that were missing.
    pub created: u32,
    /// Cards in the wrong stage.
    pub moved: u32,
    /// Cards whose fields were out of date.
    pub updated: u32,
}

impl Repairs {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Created(_) => self.created += 1,
            Outcome::Moved(_) => self.moved += 1,
            Outcome::Updated(_) => self.updated += 1,
            Outcome::Unchanged => {}
        }
    }
}

/// Pages of 25 conversations a reconciliation reads: per live status, and of resolved ones.
const LIVE_PAGES: u32 = 8;
const RESOLVED_PAGES: u32 = 2;

/// Re-reads the account's open, pending and snoozed conversations and the most recently
/// resolved ones from Chatwoot, and brings their cards in step: a live conversation's
/// missing card appears, a card that missed a move moves, stale fields are refreshed.
pub async fn reconcile(
    state: &AppState,
    account: &crate::tenancy::accounts::Account,
) -> AppResult<Repairs> {
    let (link, credential) = connection::credential(state, account).await?;
    let mut repairs = Repairs::default();
    let passes = [
        (cw::ConversationStatus::Open, LIVE_PAGES, Apply::All),
        (cw::ConversationStatus::Pending, LIVE_PAGES, Apply::All),
        (cw::ConversationStatus::Snoozed, LIVE_PAGES, Apply::All),
        (
            cw::ConversationStatus::Resolved,
            RESOLVED_PAGES,
            Apply::ExistingOnly,
        ),
    ];
    for (status, pages, apply) in passes {
        for page in 1..=pages {
            let filter = cw::ConversationFilter {
                page: Some(page),
                status: Some(cw::StatusFilter::Is(status)),
                inbox_id: None,
            };
            let found = link
                .known
                .client
                .conversations(&credential, link.chatwoot_account_id, &filter)
                .await
                .map_err(connection::chatwoot_failure)?;
            for conversation in &found.payload {
                repairs.conversations += 1;
                let current = Conversation::from_api(conversation, clock::now());
                let done = follow(state, account.id, &current, apply).await?;
                repairs.created += done.created;
                repairs.moved += done.moved;
                repairs.updated += done.updated;
            }
            if found.payload.len() < 25 {
                break;
            }
        }
    }
    Ok(repairs)
}

async fn apply_to_board(
    tx: &mut Tx,
    account_id: Uuid,
    board: &Board,
    stages: &[Stage],
    conversation: &Conversation,
    apply: Apply,
) -> AppResult<Outcome> {
    let message_only = apply == Apply::LastMessage;
    let found = store::by_conversation(tx, account_id, board.id, conversation.display_id).await?;
    let (before, applied, known_status, quiet_until, created) = match found {
        Some(f) if f.archived => return Ok(Outcome::Unchanged), // archived by a person: stays so
        Some(f) => (
            f.card,
            f.chatwoot_updated_micros.unwrap_or(0),
            f.chatwoot_status,
            f.chatwoot_quiet_until_micros.unwrap_or(0),
            false,
        ),
        None if !board.rules.create_cards || apply != Apply::All => return Ok(Outcome::Unchanged),
        None => {
            let card = create(tx, account_id, board, stages, conversation).await?;
            (card, 0, None, 0, true)
        }
    };
    let mut after = before.clone();
    if let Some((message, at)) = &conversation.last_message
        && after.last_message_at.is_none_or(|known| *at >= known)
    {
        after.last_message = Some(message.chars().take(500).collect());
        after.last_message_at = Some(*at);
    }
    let newer = conversation.updated_micros >= applied;
    if newer && !message_only {
        sync_fields(tx, account_id, &mut after, conversation).await?;
    }
    // The echoes of a write-back (even its halfway states) follow what a person did.
    let echo = conversation.updated_micros <= quiet_until;
    let target = if newer && !message_only && !echo {
        target_stage(
            board,
            stages,
            &before,
            known_status.as_deref(),
            conversation,
        )
    } else {
        None
    };
    if let Some(to) = target {
        let from = stages.iter().find(|s| s.id == before.stage_id);
        after.position = moves::relocate(tx, account_id, &before, to.id, None).await?;
        after.stage_id = to.id;
        after.stage_entered_at = clock::now();
        after.status = to.kind;
        if to.kind != Kind::Lost {
            after.lost_reason = None;
        }
        let kind = moves::move_kind(from.map_or(Kind::Open, |s| s.kind), to.kind);
        history::record(
            tx,
            event(account_id, &after, kind, Some(before.stage_id), Some(to.id)),
        )
        .await?;
    }
    if after != before {
        after.version = before.version + 1;
        after.updated_at = clock::now();
        store::update(tx, account_id, &after, before.version).await?;
    }
    if newer && !message_only {
        // An echo's status is not news: the status known stays the one expected, so a
        // change made in Chatwoot meanwhile still counts as one when it is next seen.
        let status = match (&known_status, echo) {
            (Some(known), true) => known,
            _ => &conversation.status,
        };
        store::mark_chatwoot_state(
            tx,
            account_id,
            after.id,
            conversation.updated_micros,
            status,
        )
        .await?;
    }
    Ok(match (created, target.is_some(), after != before) {
        (true, _, _) => Outcome::Created(after.id),
        (false, true, _) => Outcome::Moved(after.id),
        (false, false, true) => Outcome::Updated(after.id),
        (false, false, false) => Outcome::Unchanged,
    })
}

/// A new card for the conversation in the entry stage.
async fn create(
    tx: &mut Tx,
    account_id: Uuid,
    board: &Board,
    stages: &[Stage],
    conversation: &Conversation,
) -> AppResult<Card> {
    let entry = stages
        .iter()
        .find(|s| s.kind == Kind::Open)
        .or(stages.first())
        .expect("a board keeps at least one stage");
    let title = conversation
        .contact_name
        .clone()
        .unwrap_or_else(|| format!("Conversation #{}", conversation.display_id));
    let mut card = Card::blank(board.id, entry, title, clock::now());
    card.chatwoot_conversation_id = Some(conversation.display_id);
    card.position = moves::make_room(tx, account_id, entry.id, None).await?;
    store::insert(tx, account_id, &card).await?;
    history::record(
        tx,
        event(account_id, &card, "created", None, Some(entry.id)),
    )
    .await?;
    Ok(card)
}

/// Labels, priority, assignee, contact and inbox as Chatwoot has them now.
async fn sync_fields(
    tx: &mut Tx,
    account_id: Uuid,
    card: &mut Card,
    conversation: &Conversation,
) -> AppResult<()> {
    let mut labels = conversation.labels.clone();
    labels.sort();
    labels.dedup();
    card.labels = labels;
    card.priority = conversation.priority;
    card.chatwoot_inbox_id = conversation.inbox_id.or(card.chatwoot_inbox_id);
    card.chatwoot_contact_id = conversation.contact_id.or(card.chatwoot_contact_id);
    if conversation.contact_name.is_some() {
        card.contact_name.clone_from(&conversation.contact_name);
    }
    if conversation.contact_avatar.is_some() {
        card.contact_avatar_url
            .clone_from(&conversation.contact_avatar);
    }
    card.assignee_id = match conversation.assignee {
        Some(id) => users::store::member_by_chatwoot_id(tx, account_id, id).await?,
        None => None,
    };
    Ok(())
}

/// Where the rules send the card: the stage of a status the conversation just took
/// (`open` only brings back closed cards), else a label that just appeared. Rules fire on
/// a change, not a state: a card moved by hand stays put while the conversation keeps its
/// status, and the echo of a write-back (already expected on the card) moves nothing. The
/// status goes first because events may be applied out of order or merged: a conversation
/// seen resolved with a new label was labelled, then resolved.
fn target_stage<'a>(
    board: &Board,
    stages: &'a [Stage],
    card: &Card,
    known_status: Option<&str>,
    conversation: &Conversation,
) -> Option<&'a Stage> {
    let by_label = conversation
        .labels
        .iter()
        .filter(|l| !card.labels.contains(l))
        .find_map(|l| board.rules.label_stages.get(l));
    let by_status = board
        .rules
        .status_stages
        .get(&conversation.status)
        .filter(|_| known_status != Some(conversation.status.as_str()))
        .filter(|_| conversation.status != "open" || card.status != Kind::Open);
    let target = by_status.or(by_label)?;
    stages
        .iter()
        .find(|s| s.id == *target && s.id != card.stage_id)
}

fn event<'a>(
    account_id: Uuid,
    card: &Card,
    kind: &'static str,
    from: Option<Uuid>,
    to: Option<Uuid>,
) -> Event<'a> {
    Event {
        account_id,
        board_id: card.board_id,
        card_id: card.id,
        kind,
        from_stage_id: from,
        to_stage_id: to,
        actor: Actor::chatwoot(),
        reason: None,
        changes: None,
    }
}
