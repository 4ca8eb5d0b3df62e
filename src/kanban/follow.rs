//! Cards that follow Chatwoot conversations. The webhook worker hands every stored
//! conversation, message and contact event here; each board fed by the conversation's
//! inbox applies its rules: a card in the entry stage when a conversation starts, moves
//! by status and by label, and the card's fields kept in step.
//!
//! Conversation events carry the conversation's whole state, so applying the newest one
//! gives the same card whatever came before; a state older than the one already applied
//! (events out of order) changes nothing.
//!
//! The worker hands over a run of such events at once ([`apply_many`]): each board takes
//! them all, in order, under one lock and one transaction, so a burst costs a board one
//! lock, one revision and one announcement per run instead of per event.

use std::collections::HashMap;

use futures_util::future::BoxFuture;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    boards::{self, Board, BoardDetail},
    cards::{
        Card, Priority,
        history::{self, Actor, Event},
        moves, store,
    },
    lock::{self, Hold},
    stages::{Kind, Stage},
};
use crate::{
    app::state::AppState,
    chatwoot::{
        client as cw, connection,
        inboxes::{self, Inbox},
        webhooks::Consumer,
    },
    kanban,
    platform::{
        clock,
        db::{Tx, is_unique_violation},
        error::{AppError, AppResult},
        text as plain_text, time_input,
    },
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

/// A contact's name as cards hold names: what the hub's own rules accept of a name typed
/// by a person (one line, at most 200 characters), so the card stays editable.
fn contact_name(name: &str) -> Option<String> {
    Some(plain_text::one_line(name, 200)).filter(|n| !n.is_empty())
}

/// A label as cards hold labels: lower case, no white space, at most 60 characters.
fn label(raw: &str) -> Option<String> {
    let label: String = plain_text::one_line(raw, 60)
        .replace(' ', "-")
        .to_lowercase();
    Some(label).filter(|l| !l.is_empty())
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
            labels: c.labels.iter().filter_map(|l| label(l)).collect(),
            contact_id: sender.map(|s| s.id),
            contact_name: sender
                .and_then(|s| s.name.as_deref())
                .and_then(contact_name),
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
                .map(|l| l.iter().filter_map(|l| label(l.as_str()?)).collect())
                .unwrap_or_default(),
            contact_id: sender["id"]
                .as_i64()
                .or_else(|| body["contact_inbox"]["contact_id"].as_i64()),
            contact_name: sender["name"].as_str().and_then(contact_name),
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

/// Whether [`apply_many`] takes `event` in a run: the conversation and message events,
/// which concern one conversation's card on each board.
pub fn batched(event: &str) -> bool {
    matches!(
        event,
        "conversation_created"
            | "conversation_updated"
            | "conversation_status_changed"
            | "message_created"
    )
}

/// What a conversation or message event asks of the boards, if anything.
fn parse_event(event: &str, body: &Value) -> Option<(Conversation, Apply)> {
    match event {
        "conversation_created" | "conversation_updated" | "conversation_status_changed" => {
            Some((Conversation::parse(body)?, Apply::All))
        }
        // The message's conversation comes along in full; private notes are not news.
        "message_created" if body["private"] != true => {
            let mut conversation = Conversation::parse(&body["conversation"])?;
            let at = body["created_at"]
                .as_str()
                .and_then(|t| time_input::parse(t).ok());
            if let (Some(content), Some(at)) = (text(&body["content"]), at) {
                conversation.last_message = Some((content, at));
            }
            Some((conversation, Apply::LastMessage))
        }
        _ => None,
    }
}

/// The Kanban as a consumer of Chatwoot's events: conversations and messages move cards,
/// a contact's new name reaches their cards.
pub struct FollowsChatwoot;

impl Consumer for FollowsChatwoot {
    fn name(&self) -> &'static str {
        "kanban"
    }

    fn wants(&self, event: &str) -> bool {
        batched(event) || event == "contact_updated"
    }

    fn groups(&self, event: &str) -> bool {
        batched(event)
    }

    fn apply<'a>(
        &'a self,
        state: &'a AppState,
        account_id: Uuid,
        events: &'a [(&'a str, &'a Value)],
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(apply_many(state, account_id, events))
    }
}

/// Applies stored Chatwoot events of one account, in the order given, one by one as they
/// would be alone. Conversation and message events ([`batched`]) next to each other are
/// applied together: each board takes them under one lock, in one transaction, and
/// announces once the cards they changed. All of a run's work on a board is kept or none
/// of it; an error may leave earlier boards (or earlier runs) applied, which is harmless,
/// since applying an event again changes nothing.
pub async fn apply_many(
    state: &AppState,
    account_id: Uuid,
    events: &[(&str, &Value)],
) -> AppResult<()> {
    let mut run = Vec::new();
    for &(event, body) in events {
        if batched(event) {
            run.extend(parse_event(event, body));
            continue;
        }
        if !run.is_empty() {
            follow(state, account_id, &std::mem::take(&mut run)).await?;
        }
        apply_other(state, account_id, event, body).await?;
    }
    if !run.is_empty() {
        follow(state, account_id, &run).await?;
    }
    Ok(())
}

/// An event other than a conversation's: a contact's new name and picture go onto every
/// card of theirs.
async fn apply_other(
    state: &AppState,
    account_id: Uuid,
    event: &str,
    body: &Value,
) -> AppResult<()> {
    if event == "contact_updated"
        && let (Some(id), Some(name)) = (body["id"].as_i64(), text(&body["name"]))
    {
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
        state.realtime.announce_all(changes);
    }
    Ok(())
}

/// What one run of events reads once rather than per event, for all boards: the
/// account's inboxes and the hub member behind each Chatwoot assignee.
#[derive(Default)]
struct Lookups {
    inboxes: Option<Vec<Inbox>>,
    members: HashMap<i64, Option<Uuid>>,
}

impl Lookups {
    async fn inboxes(&mut self, tx: &mut Tx, account_id: Uuid) -> AppResult<&[Inbox]> {
        if self.inboxes.is_none() {
            self.inboxes = Some(inboxes::store::all_in(tx, account_id).await?);
        }
        Ok(self.inboxes.as_deref().unwrap_or_default())
    }

    async fn member(
        &mut self,
        tx: &mut Tx,
        account_id: Uuid,
        chatwoot_user_id: i64,
    ) -> AppResult<Option<Uuid>> {
        if let Some(member) = self.members.get(&chatwoot_user_id) {
            return Ok(*member);
        }
        let member = users::store::member_by_chatwoot_id(tx, account_id, chatwoot_user_id).await?;
        self.members.insert(chatwoot_user_id, member);
        Ok(member)
    }
}

/// Whether `board` takes conversations of `inbox`: the inboxes it names, or every inbox
/// enabled in the hub.
async fn feeds(
    tx: &mut Tx,
    account_id: Uuid,
    board: &Board,
    inbox: Option<i64>,
    lookups: &mut Lookups,
) -> AppResult<bool> {
    let Some(inbox) = inbox else {
        return Ok(board.inbox_ids.is_empty());
    };
    if !board.inbox_ids.is_empty() {
        return Ok(board.inbox_ids.contains(&inbox));
    }
    let known = lookups.inboxes(tx, account_id).await?;
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

/// Applies conversation states, in order, to every live board they feed: per board one
/// transaction holding the board for events (one run at a time), one revision and one
/// announcement naming the cards that changed.
async fn follow(
    state: &AppState,
    account_id: Uuid,
    conversations: &[(Conversation, Apply)],
) -> AppResult<Repairs> {
    let mut repairs = Repairs::default();
    let mut lookups = Lookups::default();
    let ids: Vec<i64> = conversations.iter().map(|(c, _)| c.display_id).collect();
    for listed in boards::store::all_live(&state.db, account_id).await? {
        let mut tx = state.db.begin().await?;
        lock::hold(&mut tx, listed.id, Hold::Events).await?;
        // The board's rules and stages as of holding it (it may have changed since it was
        // listed, or be gone).
        let Some(layout) = state.layouts.read(&mut tx, account_id, listed.id).await? else {
            continue;
        };
        let mut on: Option<OnBoard> = None;
        let mut changed = Vec::new();
        for (conversation, apply) in conversations {
            if !feeds(
                &mut tx,
                account_id,
                &layout.board,
                conversation.inbox_id,
                &mut lookups,
            )
            .await?
            {
                continue;
            }
            let on = match &mut on {
                Some(on) => on,
                None => on.insert(OnBoard::new(&mut tx, account_id, &layout, &ids).await?),
            };
            let outcome = apply_to_board(&mut tx, on, conversation, *apply, &mut lookups).await?;
            if let Some(card_id) = outcome.changed_card()
                && !changed.contains(&card_id)
            {
                changed.push(card_id);
            }
            repairs.count(outcome);
        }
        if let Some(on) = &mut on {
            on.settle(&mut tx).await?;
        }
        if changed.is_empty() {
            tx.commit().await?;
        } else {
            kanban::commit(state, tx, account_id, listed.id, Changed::Cards(changed)).await?;
        }
    }
    Ok(repairs)
}

/// A board taking a run of events, and what the run knows of it. The run changes its cards
/// in memory and writes them when it settles: each card once, however many events touched
/// it (new cards and the history all in one statement each). Every write of a stored card
/// checks the version the run read, so a person's edit meanwhile fails the run, which is
/// then applied again.
/// (A write-back only ever shortens a card's echo window, without holding the board: held
/// a few milliseconds longer, the window errs on the side of an echo.)
struct OnBoard<'a> {
    account_id: Uuid,
    board: &'a Board,
    stages: &'a [Stage],
    /// The rank below a stage's last card, the run's unwritten cards included.
    ends: HashMap<Uuid, i64>,
    /// The cards of the run's conversations, as they now are: read when the run starts
    /// (every conversation of the run at once), or made by it. A card being applied is
    /// taken out and put back.
    cards: HashMap<i64, Tracked>,
    /// The cards' history, written when the run settles.
    history: Vec<Event<'static>>,
}

/// A conversation's card as a run knows it.
struct Tracked {
    /// As the run has it.
    card: Card,
    archived: bool,
    /// The version stored; `None` for a card the run made.
    stored: Option<i64>,
    /// `card` differs from what is stored.
    dirty: bool,
    /// `updated_at` (µs) of the newest conversation state applied.
    applied: i64,
    /// The conversation status last seen (or expected after a write-back).
    status: Option<String>,
    /// Conversation states up to this time (µs) are echoes of a write-back.
    quiet_until: i64,
    /// `applied` and `status` are not stored yet.
    unsaved: bool,
}

impl<'a> OnBoard<'a> {
    /// The board as a run starts on it, with the cards of the run's conversations read in
    /// one statement.
    async fn new(
        tx: &mut Tx,
        account_id: Uuid,
        layout: &'a BoardDetail,
        conversations: &[i64],
    ) -> AppResult<OnBoard<'a>> {
        let board = &layout.board;
        let found = store::by_conversations(tx, account_id, board.id, conversations).await?;
        let cards = found
            .into_iter()
            .filter_map(|f| Some((f.card.chatwoot_conversation_id?, Tracked::from(f))))
            .collect();
        Ok(OnBoard {
            account_id,
            board,
            stages: &layout.stages,
            ends: HashMap::new(),
            cards,
            history: Vec::new(),
        })
    }

    /// The rank for a card going to the bottom of `stage`, below the run's own cards.
    async fn bottom_of(&mut self, tx: &mut Tx, stage: Uuid) -> AppResult<i64> {
        let rank = match self.ends.get(&stage) {
            Some(end) => *end,
            None => moves::bottom_rank(tx, self.account_id, stage).await?,
        };
        self.ends.insert(stage, rank.saturating_add(moves::GAP));
        Ok(rank)
    }

    /// Writes what the run changed: new cards and history in one statement each, and each
    /// changed card once, at the version the run read.
    async fn settle(&mut self, tx: &mut Tx) -> AppResult<()> {
        let mut new_cards = Vec::new();
        for tracked in self.cards.values() {
            let state = tracked.status.as_deref().map(|s| (tracked.applied, s));
            let unsaved = state.filter(|_| tracked.unsaved);
            match (tracked.stored, tracked.dirty) {
                (None, _) => new_cards.push((&tracked.card, state)),
                (Some(expected), true) => {
                    let card = &tracked.card;
                    if !store::follow_conversation(tx, self.account_id, card, expected, unsaved)
                        .await?
                    {
                        // A person edited the card meanwhile (edits check the version
                        // without holding the run off): nothing of the run is kept, and
                        // the worker applies it again.
                        return Err(changed_meanwhile());
                    }
                }
                (Some(expected), false) => {
                    if let Some((at, status)) = unsaved {
                        let card = (tracked.card.id, expected);
                        store::mark_chatwoot_state(tx, self.account_id, card, at, status).await?;
                    }
                }
            }
        }
        // A person linked one of these conversations to a card meanwhile: the same.
        store::insert_all(tx, self.account_id, &new_cards)
            .await
            .map_err(|err| match is_unique_violation(&err) {
                true => changed_meanwhile(),
                false => err.into(),
            })?;
        history::record_all(tx, &self.history).await?;
        Ok(())
    }
}

impl From<store::Followed> for Tracked {
    fn from(found: store::Followed) -> Tracked {
        Tracked {
            stored: Some(found.card.version),
            card: found.card,
            archived: found.archived,
            applied: found.chatwoot_updated_micros.unwrap_or(0),
            status: found.chatwoot_status,
            quiet_until: found.chatwoot_quiet_until_micros.unwrap_or(0),
            dirty: false,
            unsaved: false,
        }
    }
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
            // A page is read at one time, and applied as one run.
            let read_at = clock::now();
            let current: Vec<_> = found
                .payload
                .iter()
                .map(|conversation| (Conversation::from_api(conversation, read_at), apply))
                .collect();
            repairs.conversations += current.len() as u32;
            let done = follow(state, account.id, &current).await?;
            repairs.created += done.created;
            repairs.moved += done.moved;
            repairs.updated += done.updated;
            if found.payload.len() < 25 {
                break;
            }
        }
    }
    Ok(repairs)
}

async fn apply_to_board(
    tx: &mut Tx,
    on: &mut OnBoard<'_>,
    conversation: &Conversation,
    apply: Apply,
    lookups: &mut Lookups,
) -> AppResult<Outcome> {
    let account_id = on.account_id;
    let (known, created) = match on.cards.remove(&conversation.display_id) {
        // Archived by a person: stays so.
        Some(known) if known.archived => {
            on.cards.insert(conversation.display_id, known);
            return Ok(Outcome::Unchanged);
        }
        Some(known) => (known, false),
        // A message may arrive before its conversation's `conversation_created` (retried,
        // or taken by another worker): it carries the whole conversation, so it makes the
        // card, and the late event then finds it (the message is not lost). A message on a
        // closed conversation makes none, as closed conversations get none at connection.
        None if !on.board.rules.create_cards
            || apply == Apply::ExistingOnly
            || (apply == Apply::LastMessage && conversation.status == "resolved") =>
        {
            return Ok(Outcome::Unchanged);
        }
        None => {
            let known = Tracked {
                card: place_new(tx, on, conversation).await?,
                archived: false,
                stored: None,
                dirty: true,
                applied: 0,
                status: None,
                quiet_until: 0,
                unsaved: false,
            };
            (known, true)
        }
    };
    // A new card takes the whole conversation, whatever event brought it.
    let message_only = apply == Apply::LastMessage && !created;
    // `before` is what the rules compare with (a new card: blank in the entry stage).
    let before = &known.card;
    let mut after = before.clone();
    if let Some((message, at)) = &conversation.last_message
        && after.last_message_at.is_none_or(|known| *at >= known)
    {
        after.last_message = Some(plain_text::storable(message, 500));
        after.last_message_at = Some(*at);
    }
    let newer = conversation.updated_micros >= known.applied;
    if newer && !message_only {
        sync_fields(tx, account_id, &mut after, conversation, lookups).await?;
    }
    if created {
        let entry = Some(after.stage_id);
        on.history
            .push(event(account_id, &after, "created", None, entry));
    }
    // The echoes of a write-back (even its halfway states) follow what a person did.
    let echo = conversation.updated_micros <= known.quiet_until;
    let target = if newer && !message_only && !echo {
        target_stage(
            on.board,
            on.stages,
            before,
            known.status.as_deref(),
            conversation,
        )
        .map(|to| (to.id, to.kind))
    } else {
        None
    };
    if let Some((to, to_kind)) = target {
        let from = on.stages.iter().find(|s| s.id == before.stage_id);
        let kind = moves::move_kind(from.map_or(Kind::Open, |s| s.kind), to_kind);
        // Positions are not counted here: the card goes to the bottom, where the API finds it.
        after.rank = on.bottom_of(tx, to).await?;
        after.position = -1;
        after.stage_id = to;
        after.stage_entered_at = clock::now();
        after.status = to_kind;
        if to_kind != Kind::Lost {
            after.lost_reason = None;
        }
        on.history.push(event(
            account_id,
            &after,
            kind,
            Some(before.stage_id),
            Some(to),
        ));
    }
    let (mut applied, mut status, mut unsaved) = (known.applied, known.status, known.unsaved);
    if newer && !message_only {
        // An echo's status is not news: the status known stays the one expected, so a
        // change made in Chatwoot meanwhile still counts as one when it is next seen.
        let seen = match (&status, echo) {
            (Some(known), true) => known.clone(),
            _ => conversation.status.clone(),
        };
        unsaved |= conversation.updated_micros != applied || status.as_ref() != Some(&seen);
        applied = conversation.updated_micros;
        status = Some(seen);
    }
    let changed = after != *before;
    if changed {
        // One version more than stored, however many events of the run change the card.
        after.version = known.stored.map_or(before.version, |stored| stored + 1);
        after.updated_at = clock::now();
    }
    let outcome = match (created, target.is_some(), changed) {
        (true, _, _) => Outcome::Created(after.id),
        (false, true, _) => Outcome::Moved(after.id),
        (false, false, true) => Outcome::Updated(after.id),
        (false, false, false) => Outcome::Unchanged,
    };
    on.cards.insert(
        conversation.display_id,
        Tracked {
            card: after,
            archived: false,
            stored: known.stored,
            dirty: known.dirty || changed,
            applied,
            status,
            quiet_until: known.quiet_until,
            unsaved,
        },
    );
    Ok(outcome)
}

/// A new card for the conversation, blank, at the bottom of the entry stage (not yet
/// written).
async fn place_new(
    tx: &mut Tx,
    on: &mut OnBoard<'_>,
    conversation: &Conversation,
) -> AppResult<Card> {
    let entry = on
        .stages
        .iter()
        .find(|s| s.kind == Kind::Open)
        .or(on.stages.first())
        .expect("a board keeps at least one stage");
    let title = conversation
        .contact_name
        .clone()
        .unwrap_or_else(|| format!("Conversation #{}", conversation.display_id));
    let mut card = Card::blank(on.board.id, entry, title, clock::now());
    card.chatwoot_conversation_id = Some(conversation.display_id);
    card.rank = on.bottom_of(tx, entry.id).await?;
    card.position = -1;
    Ok(card)
}

/// Labels, priority, assignee, contact and inbox as Chatwoot has them now.
async fn sync_fields(
    tx: &mut Tx,
    account_id: Uuid,
    card: &mut Card,
    conversation: &Conversation,
    lookups: &mut Lookups,
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
        Some(id) => lookups.member(tx, account_id, id).await?,
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

fn changed_meanwhile() -> AppError {
    AppError::Conflict {
        code: "version_conflict",
        message: "The cards changed while Chatwoot events were applied to them.".into(),
    }
}
