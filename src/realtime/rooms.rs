//! Chat rooms on the realtime bus. Writers announce ids only (a room's event number, a read
//! marker, someone typing), which keeps `NOTIFY` payloads tiny; each replica's relay reads
//! what they name once — only for accounts someone follows on this replica — and hands the
//! finished frame to its sockets, which just check whether their person is in its audience.

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, PoisonError},
};

use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::Note;
use crate::app::state::AppState;

/// Notes waiting for the relay before this replica's sockets are told to resync instead.
const QUEUE: usize = 8192;
/// Notes read together (one batch of queries for many events under load).
const BATCH: usize = 256;

/// What a writer announces about a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomNote {
    /// The room's event `seq` is committed (see `chat::events`).
    Event {
        account_id: Uuid,
        room_id: Uuid,
        seq: i64,
    },
    /// `user_id`'s read marker in the room moved (their other tabs follow).
    Read {
        account_id: Uuid,
        room_id: Uuid,
        user_id: Uuid,
    },
    /// `user_id` is typing in the room (never stored).
    Typing {
        account_id: Uuid,
        room_id: Uuid,
        user_id: Uuid,
    },
}

impl RoomNote {
    pub fn account_id(&self) -> Uuid {
        match *self {
            RoomNote::Event { account_id, .. }
            | RoomNote::Read { account_id, .. }
            | RoomNote::Typing { account_id, .. } => account_id,
        }
    }

    pub fn room_id(&self) -> Uuid {
        match *self {
            RoomNote::Event { room_id, .. }
            | RoomNote::Read { room_id, .. }
            | RoomNote::Typing { room_id, .. } => room_id,
        }
    }
}

/// A frame ready for the sockets of some of a room's people.
#[derive(Debug)]
pub struct RoomFrame {
    pub account_id: Uuid,
    pub room_id: Uuid,
    /// The room's event number; `None` for what is never replayed (typing, read markers).
    pub seq: Option<i64>,
    /// Who is sent `text`.
    pub audience: HashSet<Uuid>,
    pub text: Utf8Bytes,
    /// Someone taken out of the room by this event, sent `room.removed` instead.
    pub removed: Option<(Uuid, Utf8Bytes)>,
    /// Worth nothing late (typing): the first thing a socket that falls behind leaves out.
    pub ephemeral: bool,
}

impl RoomFrame {
    /// What `user_id` is sent of this frame, if anything.
    pub fn text_for(&self, user_id: Uuid) -> Option<&Utf8Bytes> {
        match &self.removed {
            Some((removed, text)) if *removed == user_id => Some(text),
            _ if self.audience.contains(&user_id) => Some(&self.text),
            _ => None,
        }
    }
}

/// One frame as sockets send it: `{type, room_id, seq, data}`.
pub fn encode(
    kind: &str,
    room_id: Option<Uuid>,
    seq: Option<i64>,
    data: &impl Serialize,
) -> String {
    #[derive(Serialize)]
    struct Frame<'a, T> {
        #[serde(rename = "type")]
        kind: &'a str,
        room_id: Option<Uuid>,
        seq: Option<i64>,
        data: &'a T,
    }
    let frame = Frame {
        kind,
        room_id,
        seq,
        data,
    };
    // Serialising our own structs into a String cannot fail.
    serde_json::to_string(&frame).unwrap_or_default()
}

/// The relay's inbox and who follows which account on this replica.
pub(super) struct Relay {
    queue: mpsc::Sender<RoomNote>,
    inbox: Mutex<Option<mpsc::Receiver<RoomNote>>>,
    followers: Mutex<HashMap<Uuid, usize>>,
}

impl Default for Relay {
    fn default() -> Relay {
        let (queue, inbox) = mpsc::channel(QUEUE);
        Relay {
            queue,
            inbox: Mutex::new(Some(inbox)),
            followers: Mutex::default(),
        }
    }
}

impl Relay {
    /// `false` when the relay is too far behind to take it (the sockets must resync).
    pub(super) fn queue(&self, note: RoomNote) -> bool {
        if !self.followed(note.account_id()) {
            return true;
        }
        self.queue.try_send(note).is_ok()
    }

    fn followed(&self, account_id: Uuid) -> bool {
        let followers = self
            .followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        followers.get(&account_id).is_some_and(|n| *n > 0)
    }

    pub(super) fn follow(&self, account_id: Uuid) {
        let mut followers = self
            .followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *followers.entry(account_id).or_default() += 1;
    }

    pub(super) fn unfollow(&self, account_id: Uuid) {
        let mut followers = self
            .followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = followers.get_mut(&account_id) {
            *n -= 1;
            if *n == 0 {
                followers.remove(&account_id);
            }
        }
    }
}

/// Until `shutdown`: reads what queued notes name and hands the frames to the sockets.
pub(super) async fn relay(state: AppState, shutdown: CancellationToken) {
    let inbox = state
        .realtime
        .rooms
        .inbox
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let Some(mut inbox) = inbox else {
        return;
    };
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            received = inbox.recv_many(&mut batch, BATCH) => if received == 0 { return },
            () = shutdown.cancelled() => return,
        }
        match crate::chat::live::frames(&state.db, &state.chat_files, &batch).await {
            Ok(frames) => {
                for frame in frames {
                    state.realtime.relay(Note::Room(frame));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, notes = batch.len(), "reading chat events failed");
                state.realtime.relay(Note::Resync);
            }
        }
        batch.clear();
    }
}
