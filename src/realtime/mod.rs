//! Realtime: a change to a board reaches every open copy of it within a second, on every
//! replica. Writers move the board's revision on in their transaction and announce the
//! change after commit; on PostgreSQL the announcement is a `NOTIFY` that every replica's
//! listener relays to its own streams, on SQLite (one process) it goes straight to them.
//! Browsers follow over server-sent events opened with a one-use ticket (see ADR 10), or
//! over a WebSocket that also carries the team chat's rooms (ADR 24) and who is online
//! (ADR 27).

mod channels;
mod presence;
mod rooms;
mod stream;
mod tickets;
mod ws;

pub use presence::{Presence, PresenceFrame, PresenceSnapshot, Status};
pub use rooms::{RoomFrame, RoomNote, encode};

pub use tickets::purge_expired as purge_expired_tickets;
pub use ws::MAX_CLIENT_FRAME;

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use axum::http::HeaderMap;

use crate::{
    app::state::AppState,
    auth::instance_tokens::{is_hub_page, request_origin},
    platform::{
        db::Db,
        error::{AppError, AppResult},
    },
    tenancy,
};
use channels::Channels;
use tickets::Grant;

/// The PostgreSQL channel replicas announce changes on.
const CHANNEL: &str = "whatpro_realtime";
/// Changes a slow stream may fall behind by before it is told to reload.
const BACKLOG: usize = 1024;
/// Past this many cards a change names none: reload the board.
const MAX_LISTED_CARDS: usize = 50;

/// What changed on a board, as streams send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BoardChange {
    pub account_id: Uuid,
    pub board_id: Uuid,
    /// The board's revision after the change.
    pub revision: i64,
    /// Cards that changed (fetch each again: a 404 means it left the board); `null` when
    /// too many changed to list: reload the board's cards.
    pub cards: Option<Vec<Uuid>>,
    /// The board itself or its stages changed: reload it.
    pub structure: bool,
}

impl BoardChange {
    pub fn new(account_id: Uuid, board_id: Uuid, revision: i64, what: Changed) -> BoardChange {
        let (cards, structure) = match what {
            Changed::Cards(ids) if ids.len() <= MAX_LISTED_CARDS => (Some(ids), false),
            Changed::Cards(_) => (None, false),
            Changed::Structure => (None, true),
        };
        BoardChange {
            account_id,
            board_id,
            revision,
            cards,
            structure,
        }
    }
}

/// Something about the whole account its members' screens show (the billing status, the
/// month's usage), sent as an `account` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AccountNews {
    pub account_id: Uuid,
    /// What happened, e.g. `billing.status_changed`, `usage.threshold_reached`.
    pub kind: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// What a write to a board touched.
#[derive(Debug, Clone, PartialEq)]
pub enum Changed {
    Cards(Vec<Uuid>),
    /// The board's settings or stages (and perhaps every card).
    Structure,
}

impl Changed {
    pub fn card(id: Uuid) -> Changed {
        Changed::Cards(vec![id])
    }
}

/// Whose streams check at once that they may still follow their account, rather than at
/// their next periodic check: after a session ended, a member lost access, or an account
/// changed (it may be suspended).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recheck {
    User(Uuid),
    Account(Uuid),
}

impl Recheck {
    /// Whether it is about `user_id` following `account_id`.
    fn concerns(self, account_id: Uuid, user_id: Uuid) -> bool {
        match self {
            Recheck::User(user) => user == user_id,
            Recheck::Account(account) => account == account_id,
        }
    }
}

/// What this replica's streams are told.
#[derive(Debug)]
enum Note {
    Change(BoardChange),
    News(AccountNews),
    Recheck(Recheck),
    /// A chat frame for the sockets of some of the account's people.
    Room(RoomFrame),
    /// Who in the account came online, went away or offline.
    Presence(PresenceFrame),
    /// Announcements may have been missed (the listener reconnected): reload.
    Resync,
}

impl Note {
    /// The account whose streams are told; `None` for every stream.
    fn account_id(&self) -> Option<Uuid> {
        match self {
            Note::Change(change) => Some(change.account_id),
            Note::News(news) => Some(news.account_id),
            Note::Room(frame) => Some(frame.account_id),
            Note::Presence(frame) => Some(frame.account_id),
            Note::Recheck(Recheck::Account(account_id)) => Some(*account_id),
            // A person may follow several accounts.
            Note::Recheck(Recheck::User(_)) | Note::Resync => None,
        }
    }
}

/// What replicas tell each other over `NOTIFY`: a board change as it always was, or
/// `{"recheck": …}`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Announcement {
    Board(BoardChange),
    Recheck {
        recheck: Recheck,
    },
    News {
        news: AccountNews,
    },
    Room {
        room: RoomNote,
    },
    Presence {
        presence: presence::PeerNote,
    },
    /// A replica that starts (or reconnected its listener) asks the others who is online.
    PresenceAsk {
        presence_ask: Uuid,
    },
}

/// Relays board changes to this replica's open streams.
pub struct Bus {
    db: Db,
    local: Channels,
    closing: CancellationToken,
    outbox: Arc<Mutex<Outbox>>,
    rooms: rooms::Relay,
    presence: Presence,
}

/// Announcements on their way to PostgreSQL.
#[derive(Default)]
struct Outbox {
    waiting: Vec<String>,
    /// A task is emptying the outbox (it stops once it finds it empty).
    sending: bool,
}

/// Sends what waits in the outbox until it finds it empty. A task of its own, so a
/// request that goes away mid-send cannot leave the outbox marked as being emptied. A
/// batch that cannot be sent (twice) tells this replica's streams to reload: they would
/// otherwise miss several boards' changes at once.
async fn send_waiting(pool: sqlx::PgPool, outbox: Arc<Mutex<Outbox>>, local: Channels) {
    loop {
        let batch = {
            let mut outbox = outbox.lock().unwrap_or_else(PoisonError::into_inner);
            if outbox.waiting.is_empty() {
                outbox.sending = false;
                return;
            }
            std::mem::take(&mut outbox.waiting)
        };
        let send = || {
            sqlx::query("SELECT pg_notify($1, payload) FROM UNNEST($2::text[]) AS payload")
                .bind(CHANNEL)
                .bind(&batch)
                .execute(&pool)
        };
        let sent = match send().await {
            Err(_) => send().await,
            sent => sent,
        };
        if let Err(err) = sent {
            tracing::warn!(error = %err, changes = batch.len(), "announcing board changes failed");
            local.send(Note::Resync);
        }
    }
}

impl Bus {
    /// `presence_grace`: how long a person stays online after their last socket closed.
    pub fn new(db: Db, presence_grace: Duration) -> Bus {
        Bus {
            db,
            local: Channels::default(),
            closing: CancellationToken::new(),
            outbox: Arc::default(),
            rooms: rooms::Relay::default(),
            presence: Presence::new(presence_grace),
        }
    }

    /// Who is online on this replica's view (the chat's presence).
    pub fn presence(&self) -> &Presence {
        &self.presence
    }

    /// Tells every replica about a committed change. Best effort: a stream that misses
    /// one catches up when it reconnects, so a failure is logged, not returned. On
    /// PostgreSQL the change joins the outbox, which one task at a time empties: under
    /// load one statement carries every change waiting instead of one statement each.
    pub fn announce(&self, change: BoardChange) {
        self.publish(Announcement::Board(change));
    }

    /// Tells every replica's streams of `who` to check their access now (call it once the
    /// change that may end it is committed). Best effort, as [`Bus::announce`]: a stream
    /// that misses it still checks within `stream::RECHECK`.
    pub fn recheck(&self, who: Recheck) {
        self.publish(Announcement::Recheck { recheck: who });
    }

    /// Tells the account's open streams (on every replica) what happened to it, after the
    /// change is committed. Best effort, as [`Bus::announce`].
    pub fn tell(&self, news: AccountNews) {
        self.publish(Announcement::News { news });
    }

    /// Tells every replica's sockets about a chat room's committed event (or a read marker
    /// or someone typing). Best effort, as [`Bus::announce`]: a socket that misses an event
    /// finds the gap at the room's next one, or when it resumes.
    pub fn room(&self, note: RoomNote) {
        self.publish(Announcement::Room { room: note });
    }

    fn publish(&self, announcement: Announcement) {
        match &self.db {
            Db::Sqlite(_) => self.arrived(announcement),
            Db::Postgres(pool) => self.notify(pool, announcement),
        }
    }

    /// Tells the other replicas only: on SQLite (one process) there are none.
    fn tell_replicas(&self, announcement: Announcement) {
        if let Db::Postgres(pool) = &self.db {
            self.notify(pool, announcement);
        }
    }

    fn notify(&self, pool: &sqlx::PgPool, announcement: Announcement) {
        let payload = match serde_json::to_string(&announcement) {
            Ok(payload) => payload,
            Err(err) => return tracing::warn!(error = %err, "encoding an announcement"),
        };
        let mut outbox = self.outbox.lock().unwrap_or_else(PoisonError::into_inner);
        outbox.waiting.push(payload);
        if !outbox.sending {
            outbox.sending = true;
            let local = self.local.clone();
            tokio::spawn(send_waiting(pool.clone(), Arc::clone(&self.outbox), local));
        }
    }

    pub fn announce_all(&self, changes: Vec<BoardChange>) {
        for change in changes {
            self.announce(change);
        }
    }

    /// An announcement reached this replica: board news go straight to the streams, room
    /// notes through the relay that reads what they name.
    fn arrived(&self, announcement: Announcement) {
        match announcement {
            Announcement::Board(change) => self.relay(Note::Change(change)),
            Announcement::Recheck { recheck } => {
                self.presence.recheck(recheck);
                self.relay(Note::Recheck(recheck));
            }
            Announcement::News { news } => self.relay(Note::News(news)),
            Announcement::Room { room } => {
                if !self.rooms.queue(room) {
                    self.relay(Note::Resync);
                }
            }
            Announcement::Presence { presence } => self.presence.heard(&presence),
            Announcement::PresenceAsk { presence_ask } => {
                if presence_ask != self.presence.replica() {
                    self.repeat_presence();
                }
            }
        }
    }

    /// Sends the presence changes waiting: to this replica's sockets, and what changed of
    /// its own sockets to the other replicas.
    /// Answers how many changes were shown.
    fn flush_presence(&self) -> usize {
        self.presence.flush(
            |frame| self.relay(Note::Presence(frame)),
            |presence| self.tell_replicas(Announcement::Presence { presence }),
        )
    }

    /// Repeats to the other replicas who is online here (their word on it expires otherwise).
    fn repeat_presence(&self) {
        self.presence
            .repeat(|presence| self.tell_replicas(Announcement::Presence { presence }));
    }

    /// Asks the other replicas to repeat who is online on them.
    fn ask_presence(&self) {
        let presence_ask = self.presence.replica();
        self.tell_replicas(Announcement::PresenceAsk { presence_ask });
    }

    fn relay(&self, note: Note) {
        self.local.send(note);
    }

    /// The notes for the streams of `account_id` (and those for every stream).
    fn subscribe(&self, account_id: Uuid) -> broadcast::Receiver<Arc<Note>> {
        self.local.subscribe(account_id)
    }
}

/// Browsers name the page's origin on cross-origin requests (and on every WebSocket
/// handshake): only the hub's own pages and the configured CORS origins may follow an
/// account. Clients that are not browsers send none and are let through (the ticket is
/// what authorises them).
fn check_origin(state: &AppState, headers: &HeaderMap) -> AppResult<()> {
    match request_origin(headers)? {
        Some(origin)
            if !is_hub_page(&state.config, headers, origin)
                && !state.config.cors_origins.iter().any(|o| o == origin) =>
        {
            Err(AppError::Forbidden {
                code: "origin_not_allowed",
                message: "This origin may not open realtime streams.",
            })
        }
        _ => Ok(()),
    }
}

/// The ticket's person may still act in the account: live session, active membership.
async fn still_allowed(state: &AppState, grant: &Grant) -> AppResult<()> {
    tenancy::member_role(state, grant.account_id, grant.user_id, grant.session_id).await?;
    Ok(())
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(tickets::router())
        .merge(stream::router())
        .merge(ws::router())
}

/// This replica's ear for the others' announcements: on PostgreSQL a connection already
/// listening, made before the server takes requests, so no stream opened at start misses
/// a change (when the database cannot be reached yet, [`run`] keeps trying); on SQLite
/// (one process) none is needed.
pub async fn listener(db: &Db) -> Option<PgListener> {
    let Db::Postgres(pool) = db else {
        return None;
    };
    connect(pool)
        .await
        .inspect_err(|err| tracing::warn!(error = %err, "realtime listener not connected yet"))
        .ok()
}

async fn connect(pool: &sqlx::PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Until `shutdown`: on PostgreSQL, relays the other replicas' announcements (from
/// `listener`, reconnecting when it is lost) to this one's streams. Then ends every open
/// stream, so a graceful shutdown is not held up by them.
pub async fn run(state: AppState, listener: Option<PgListener>, shutdown: CancellationToken) {
    let frames = tokio::spawn(rooms::relay(state.clone(), shutdown.clone()));
    let presence = tokio::spawn(presence::keep(state.clone(), shutdown.clone()));
    if let Db::Postgres(pool) = &state.db {
        tokio::select! {
            () = relay(&state, pool, listener) => {},
            () = shutdown.cancelled() => {},
        }
    } else {
        shutdown.cancelled().await;
    }
    state.realtime.closing.cancel();
    let _ = frames.await;
    let _ = presence.await;
}

async fn relay(state: &AppState, pool: &sqlx::PgPool, mut listener: Option<PgListener>) {
    loop {
        let Some(connected) = listener.as_mut() else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            match connect(pool).await {
                Ok(connected) => {
                    listener = Some(connected);
                    // Whatever was announced while no listener was connected is lost here.
                    state.realtime.relay(Note::Resync);
                    state.realtime.ask_presence();
                }
                Err(err) => tracing::warn!(error = %err, "realtime listener still down"),
            }
            continue;
        };
        match connected.recv().await {
            Ok(notification) => {
                match serde_json::from_str::<Announcement>(notification.payload()) {
                    Ok(announcement) => state.realtime.arrived(announcement),
                    Err(err) => tracing::warn!(error = %err, "unreadable announcement"),
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "realtime listener lost; reconnecting");
                listener = None;
            }
        }
    }
}
