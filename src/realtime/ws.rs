//! `GET /api/v1/realtime/ws`: one WebSocket per screen carrying the team chat's rooms and
//! what the SSE stream carries (boards, account news). Protocol in docs/chat.md, design in
//! ADR 24: room frames are numbered per room; a client names the last number it saw per room
//! in its ticket (or a `resume` frame) and is replayed what it missed from the database, the
//! ticket's before anything live; a socket that skips a number fetches the gap before going
//! on, so nothing is missed or sent twice. Its first frames after `ready` say who in the
//! account is online, then who comes and goes (ADR 27).
//!
//! Memory is bounded on purpose: a 4 KiB read buffer (tungstenite's default of 128 KiB is
//! taken eagerly: 1.3 GB for 10,000 idle sockets), 16 KiB client frames, a 1 MiB write cap,
//! and a socket that falls behind the shared backlog is closed (1013) to resume later
//! rather than buffered.

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    extract::{
        State,
        ws::{
            CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code,
            rejection::WebSocketUpgradeRejection,
        },
    },
    http::HeaderMap,
    response::Response,
};
use serde::Deserialize;
use serde_json::json;
use tokio::{
    sync::broadcast::{self, error::RecvError},
    time::{Instant, interval_at},
};
use uuid::Uuid;

use super::{
    BACKLOG, Note, PresenceFrame, check_origin, encode,
    rooms::RoomFrame,
    still_allowed,
    stream::StreamQuery,
    tickets::{self, Grant, Positions, RESUME_ROOMS_MAX},
};
use crate::{
    app::state::AppState,
    chat::live::{self, Replay, Resumed},
    platform::{
        error::{AppError, AppResult, Problem},
        params::ApiQuery,
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The read buffer per socket (see the module's note; a test pins it).
pub const READ_BUFFER: usize = 4 * 1024;
/// The largest frame a client may send.
pub const MAX_CLIENT_FRAME: usize = 16 * 1024;
/// What may wait unsent for one socket before writes fail.
const MAX_WRITE_BUFFER: usize = 1024 * 1024;
// Pinned: raising them raises what every idle socket costs (10,000 sockets in ≤ 100 MB,
// docs/BENCHMARKS.md); measure again before changing these bounds.
const _: () = assert!(READ_BUFFER <= 4 * 1024 && MAX_CLIENT_FRAME <= 16 * 1024);
const _: () = assert!(MAX_WRITE_BUFFER <= 1024 * 1024);
const PING_EVERY: Duration = Duration::from_secs(25);
/// A client silent (not even a pong) for this long is gone.
const SILENCE_LIMIT: Duration = Duration::from_secs(60);
/// A frame the client has not taken within this long closes the socket.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const RECHECK: Duration = Duration::from_secs(30);
/// At most one typing note per socket this often.
const TYPING_EVERY: Duration = Duration::from_secs(2);
/// A socket's page reported hidden at most this often (shown again is taken at once).
const AWAY_EVERY: Duration = Duration::from_secs(2);
/// Past this many notes behind the shared backlog, a socket skips what is ephemeral —
/// presence changes (caught up with one snapshot later) and typing — rather than fall
/// behind on what is stored.
const EPHEMERAL_SKIPPED_PAST: usize = BACKLOG / 2;
/// How long after connecting a client's first `resume` is expected (it is sent right after
/// `ready`).
const RESUME_WINDOW: Duration = Duration::from_secs(10);
/// People one socket may watch the presence of (a page shows a team, its rooms' people);
/// their ids fill about 12 KiB, within [`MAX_CLIENT_FRAME`].
const WATCH_MAX: usize = 300;
/// Closed because the session or membership ended (an `end` frame says why first).
const ENDED: u16 = 4001;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(socket))
}

/// Opens the WebSocket (protocol in docs/chat.md) with a ticket from
/// `POST /api/v1/accounts/{accountId}/realtime/tickets`.
#[utoipa::path(get, path = "/api/v1/realtime/ws", tag = "realtime", security(()),
    params(StreamQuery),
    responses((status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, body = Problem, description = "websocket_required"),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<StreamQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> AppResult<Response> {
    check_origin(&state, &headers)?;
    // Before the ticket is spent: a plain GET must not burn it.
    let upgrade = upgrade.map_err(|_| AppError::BadRequest {
        code: "websocket_required",
        message: "Open this address with a WebSocket handshake.".into(),
    })?;
    let (grant, resume) = tickets::redeem(&state.db, &query.ticket).await?;
    still_allowed(&state, &grant).await?;
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_CLIENT_FRAME)
        .max_frame_size(MAX_CLIENT_FRAME)
        .on_upgrade(move |socket| serve(state, grant, resume, socket)))
}

/// What the client sends.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    /// The last event number seen per room.
    Resume {
        rooms: HashMap<Uuid, i64>,
    },
    Typing {
        room_id: Uuid,
    },
    /// The page is hidden (`away`) or shown again (`online`).
    Presence {
        status: Shown,
    },
    /// The people whose presence the client shows (replacing the list it sent before).
    PresenceWatch {
        user_ids: Vec<Uuid>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Shown {
    Online,
    Away,
}

/// Waits until `instant`, or for ever without one.
async fn at(instant: Option<Instant>) {
    match instant {
        Some(instant) => tokio::time::sleep_until(instant).await,
        None => std::future::pending().await,
    }
}

/// Why a socket stops.
enum Stop {
    /// The client went away (or its connection broke): nothing more to send.
    Gone,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

async fn serve(state: AppState, grant: Grant, resume: Option<Positions>, socket: WebSocket) {
    // Followed and subscribed before anything is read, so no event falls between the
    // replay (from the database) and the live frames.
    let following = Following::start(&state, &grant);
    let mut session = Session {
        following,
        notes: state.realtime.subscribe(grant.account_id),
        state,
        grant,
        socket,
        delivered: HashMap::new(),
        sent_live: HashMap::new(),
        resume_window: Instant::now() + RESUME_WINDOW,
        heard: Instant::now(),
        typed: None,
        hidden_at: None,
        away_owed: None,
        presence_skipped: false,
        watching: None,
    };
    let stop = session.run(resume).await;
    if let Stop::Close(code, reason) = stop {
        let close = Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }));
        let _ = Box::pin(tokio::time::timeout(
            WRITE_TIMEOUT,
            session.socket.send(close),
        ))
        .await;
    }
}

/// Counts the socket as following its account on this replica, and its person as online,
/// while it lives.
struct Following {
    state: AppState,
    account_id: Uuid,
    user_id: Uuid,
    /// The page last reported itself hidden.
    hidden: bool,
    /// The session or membership ended: the person goes offline without a grace period.
    ended: bool,
}

impl Following {
    fn start(state: &AppState, grant: &Grant) -> Following {
        state.realtime.rooms.follow(grant.account_id);
        state
            .realtime
            .presence
            .arrive(grant.account_id, grant.user_id);
        Following {
            state: state.clone(),
            account_id: grant.account_id,
            user_id: grant.user_id,
            hidden: false,
            ended: false,
        }
    }
}

impl Drop for Following {
    fn drop(&mut self) {
        let realtime = &self.state.realtime;
        realtime.rooms.unfollow(self.account_id);
        let (account_id, user_id) = (self.account_id, self.user_id);
        realtime
            .presence
            .leave(account_id, user_id, self.hidden, self.ended);
    }
}

struct Session {
    following: Following,
    state: AppState,
    grant: Grant,
    socket: WebSocket,
    notes: broadcast::Receiver<Arc<Note>>,
    /// The last event number sent per room.
    delivered: HashMap<Uuid, i64>,
    /// Numbers sent live per room before the client's first `resume`: the resume replays
    /// around them, so a frame that beat it is not sent twice. Kept only until that resume
    /// (or [`RESUME_WINDOW`]), so a socket that never resumes holds nothing for it.
    sent_live: HashMap<Uuid, Vec<i64>>,
    /// Until when frames are noted in `sent_live`.
    resume_window: Instant,
    /// When the client was last heard from.
    heard: Instant,
    /// The room and time of the last typing note passed on.
    typed: Option<(Uuid, Instant)>,
    /// When the page last reported itself hidden.
    hidden_at: Option<Instant>,
    /// A hidden report that came too soon after the last, taken at this instant unless the
    /// page is shown first (dropped, it would leave a hidden page online).
    away_owed: Option<Instant>,
    /// Presence changes were skipped under backpressure: a snapshot is owed.
    presence_skipped: bool,
    /// The people whose presence the client asked for, sorted; none until it asks, so a
    /// socket costs nothing for the account's comings and goings unless its page shows them.
    watching: Option<Box<[Uuid]>>,
}

impl Session {
    /// Serves the socket; `resume` (the ticket's) is replayed right after `ready`, before
    /// any live frame, which waits in the subscription meanwhile.
    async fn run(&mut self, resume: Option<Positions>) -> Stop {
        // Every await but the waiting itself is boxed: this future lives as long as the
        // socket, and unboxed it would be as large as the largest thing the socket ever
        // does (a replay, a recheck), for each of thousands of idle sockets.
        let ready = json!({ "user_id": self.grant.user_id, "account_id": self.grant.account_id });
        if let Err(stop) = Box::pin(self.send(encode("ready", None, None, &ready))).await {
            return stop;
        }
        if let Some(rooms) = resume
            && let Err(stop) = Box::pin(self.resume(rooms)).await
        {
            return stop;
        }
        let mut ping = interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        let mut recheck = interval_at(Instant::now() + RECHECK, RECHECK);
        // One wait for the whole loop: a wait made afresh at each turn would register with
        // (and leave) the token every socket shares, under its one lock, for every frame.
        let closing = self.state.realtime.closing.clone().cancelled_owned();
        tokio::pin!(closing);
        loop {
            let step = tokio::select! {
                note = self.notes.recv() => match note {
                    Ok(note) => Box::pin(self.on_note(&note)).await,
                    Err(RecvError::Lagged(_)) => Err(Stop::Close(
                        close_code::AGAIN, "too slow: reconnect and resume")),
                    Err(RecvError::Closed) => Err(Stop::Close(close_code::AWAY, "shutting down")),
                },
                incoming = self.socket.recv() => match incoming {
                    Some(Ok(message)) => Box::pin(self.on_message(message)).await,
                    Some(Err(err)) if too_big(&err) => Err(Stop::Close(close_code::SIZE, "frame too big")),
                    Some(Err(_)) | None => Err(Stop::Gone),
                },
                _ = ping.tick() => {
                    if self.heard.elapsed() > SILENCE_LIMIT {
                        Err(Stop::Close(close_code::AWAY, "no answer to pings"))
                    } else {
                        Box::pin(self.on_ping()).await
                    }
                }
                () = at(self.away_owed) => {
                    self.on_shown(Shown::Away);
                    Ok(())
                }
                _ = recheck.tick() => Box::pin(self.end_if_not_allowed()).await,
                () = &mut closing => Err(Stop::Close(close_code::RESTART, "server restarting")),
            };
            if let Err(stop) = step {
                return stop;
            }
        }
    }

    async fn on_note(&mut self, note: &Note) -> Result<(), Stop> {
        let account_id = self.grant.account_id;
        self.send_owed_snapshot().await?;
        match note {
            Note::Change(change) if change.account_id == account_id => {
                self.send(encode("board", None, None, change)).await
            }
            Note::News(news) if news.account_id == account_id => {
                self.send(encode("account", None, None, news)).await
            }
            Note::Room(frame) if frame.account_id == account_id => self.on_room(frame).await,
            Note::Presence(frame) if frame.account_id == account_id => {
                self.on_presence(frame).await
            }
            Note::Recheck(who) if who.concerns(self.grant.account_id, self.grant.user_id) => {
                self.end_if_not_allowed().await
            }
            Note::Resync => self.send(encode("resync", None, None, &json!({}))).await,
            _ => Ok(()),
        }
    }

    async fn on_room(&mut self, frame: &RoomFrame) -> Result<(), Stop> {
        let Some(text) = frame.text_for(self.grant.user_id) else {
            return Ok(());
        };
        if frame.ephemeral && self.notes.len() > EPHEMERAL_SKIPPED_PAST {
            return Ok(());
        }
        let text = text.clone();
        let Some(seq) = frame.seq else {
            return self.send_bytes(text).await;
        };
        match self.delivered.get(&frame.room_id).copied() {
            Some(sent) if seq <= sent => return Ok(()),
            // A number was skipped (its announcement is late or lost): fetch it first.
            Some(sent) if seq > sent + 1 => {
                self.replay(frame.room_id, sent, Some(seq - 1)).await?;
                if self.delivered.get(&frame.room_id).is_none_or(|d| *d >= seq) {
                    return Ok(());
                }
            }
            _ => {}
        }
        let removed = frame
            .removed
            .as_ref()
            .is_some_and(|(user, _)| *user == self.grant.user_id);
        if removed {
            self.delivered.remove(&frame.room_id);
        } else {
            self.delivered.insert(frame.room_id, seq);
        }
        if Instant::now() < self.resume_window {
            self.sent_live.entry(frame.room_id).or_default().push(seq);
        } else if !self.sent_live.is_empty() {
            self.sent_live = HashMap::new();
        }
        self.send_bytes(text).await
    }

    /// A presence change, unless the socket is far behind: then it is skipped, and once
    /// the socket has caught up it is sent a whole snapshot instead (see `on_note`).
    async fn on_presence(&mut self, frame: &PresenceFrame) -> Result<(), Stop> {
        let Some(watched) = &self.watching else {
            return Ok(());
        };
        if !frame
            .user_ids
            .iter()
            .any(|id| watched.binary_search(id).is_ok())
        {
            return Ok(());
        }
        if self.presence_skipped || self.notes.len() > EPHEMERAL_SKIPPED_PAST {
            self.presence_skipped = true;
            return Ok(());
        }
        self.send_bytes(frame.text.clone()).await
    }

    /// The snapshot owed since presence changes were skipped, once the socket has caught up.
    async fn send_owed_snapshot(&mut self) -> Result<(), Stop> {
        if self.presence_skipped && self.notes.len() <= EPHEMERAL_SKIPPED_PAST / 2 {
            self.send_presence_snapshot().await?;
        }
        Ok(())
    }

    /// A ping, after the snapshot owed (if the account went quiet, no note brings it).
    async fn on_ping(&mut self) -> Result<(), Stop> {
        self.send_owed_snapshot().await?;
        self.send_message(Message::Ping(Default::default())).await
    }

    /// Who of the people the socket watches is online and away.
    async fn send_presence_snapshot(&mut self) -> Result<(), Stop> {
        self.presence_skipped = false;
        let Some(watched) = &self.watching else {
            return Ok(());
        };
        let presence = &self.state.realtime.presence;
        for frame in presence.snapshot_frames(self.grant.account_id, watched) {
            self.send_bytes(frame).await?;
        }
        Ok(())
    }

    async fn on_message(&mut self, message: Message) -> Result<(), Stop> {
        self.heard = Instant::now();
        match message {
            Message::Text(text) => match serde_json::from_str::<ClientFrame>(&text) {
                Ok(frame) => self.on_client(frame).await,
                Err(_) => {
                    let problem = json!({ "code": "unreadable_frame" });
                    self.send(encode("error", None, None, &problem)).await
                }
            },
            Message::Binary(_) => Err(Stop::Close(close_code::UNSUPPORTED, "text frames only")),
            Message::Close(_) => Err(Stop::Gone),
            Message::Ping(_) | Message::Pong(_) => Ok(()),
        }
    }

    async fn on_client(&mut self, frame: ClientFrame) -> Result<(), Stop> {
        match frame {
            ClientFrame::Resume { rooms } if rooms.len() > RESUME_ROOMS_MAX => {
                let problem = json!({ "code": "too_many_rooms", "max": RESUME_ROOMS_MAX });
                self.send(encode("error", None, None, &problem)).await
            }
            ClientFrame::Resume { rooms } => self.resume(rooms).await,
            ClientFrame::Typing { room_id } => {
                let now = Instant::now();
                let recent = self
                    .typed
                    .is_some_and(|(room, at)| room == room_id && now - at < TYPING_EVERY);
                if !recent {
                    self.typed = Some((room_id, now));
                    // The relay drops it unless the typist is in the room.
                    self.state.realtime.room(super::RoomNote::Typing {
                        account_id: self.grant.account_id,
                        room_id,
                        user_id: self.grant.user_id,
                    });
                }
                Ok(())
            }
            ClientFrame::Presence { status } => {
                self.on_shown(status);
                Ok(())
            }
            ClientFrame::PresenceWatch { mut user_ids } => {
                // Presence is the chat's: without it on the plan, nobody is heard of.
                if let Err(err) =
                    crate::chat::ensure_enabled_for(&self.state, self.grant.account_id).await
                {
                    let problem = json!({ "code": err.code() });
                    return self.send(encode("error", None, None, &problem)).await;
                }
                if user_ids.len() > WATCH_MAX {
                    let problem = json!({ "code": "too_many_people", "max": WATCH_MAX });
                    return self.send(encode("error", None, None, &problem)).await;
                }
                user_ids.sort_unstable();
                user_ids.dedup();
                self.watching = Some(user_ids.into_boxed_slice());
                self.send_presence_snapshot().await
            }
        }
    }

    /// Replays each room's events after the client's number. What was sent live before
    /// the first resume is not sent again; from then on the gap check alone keeps the rooms
    /// in order.
    async fn resume(&mut self, rooms: Positions) -> Result<(), Stop> {
        let sent_live = std::mem::take(&mut self.sent_live);
        self.resume_window = Instant::now();
        let rooms: Vec<Resumed> = rooms
            .into_iter()
            .map(|(room_id, after)| Resumed {
                room_id,
                after: after.max(0),
                upto: None,
            })
            .collect();
        for (room_id, replay) in self.replays(&rooms).await? {
            let skip = sent_live.get(&room_id).map_or(&[][..], Vec::as_slice);
            self.deliver(room_id, replay, skip).await?;
        }
        Ok(())
    }

    /// The page was hidden or shown again. Hidden is taken at most every [`AWAY_EVERY`] (a
    /// page flapping between the two costs little; one reported sooner is taken when the
    /// interval is over, unless shown again meanwhile); shown again always, at once.
    fn on_shown(&mut self, status: Shown) {
        let hidden = status == Shown::Away;
        self.away_owed = None;
        if hidden == self.following.hidden {
            return;
        }
        let now = Instant::now();
        if let Some(last) = self.hidden_at.filter(|at| now - *at < AWAY_EVERY)
            && hidden
        {
            self.away_owed = Some(last + AWAY_EVERY);
            return;
        }
        if hidden {
            self.hidden_at = Some(now);
        }
        self.following.hidden = hidden;
        let (account_id, user_id) = (self.grant.account_id, self.grant.user_id);
        self.state
            .realtime
            .presence
            .hide(account_id, user_id, hidden);
    }

    /// Sends the room's events after `after` (to `upto`) from the database.
    async fn replay(&mut self, room_id: Uuid, after: i64, upto: Option<i64>) -> Result<(), Stop> {
        let wanted = [Resumed {
            room_id,
            after,
            upto,
        }];
        for (room_id, replay) in self.replays(&wanted).await? {
            self.deliver(room_id, replay, &[]).await?;
        }
        Ok(())
    }

    /// What the socket's person missed in `rooms`, from the database. (`&mut self`: a
    /// session is not `Sync`, so a shared borrow of it could not be held across the read.)
    async fn replays(&mut self, rooms: &[Resumed]) -> Result<Vec<(Uuid, Replay)>, Stop> {
        let (account_id, user_id) = (self.grant.account_id, self.grant.user_id);
        let files = &self.state.chat_files;
        live::replay(&self.state.db, files, account_id, user_id, rooms)
            .await
            .map_err(|err| {
                tracing::warn!(error = %err, "replaying chat events failed");
                Stop::Close(close_code::ERROR, "replay failed: reconnect and resume")
            })
    }

    /// Sends a room's replay, leaving out the numbers in `skip` (already sent).
    async fn deliver(&mut self, room_id: Uuid, replay: Replay, skip: &[i64]) -> Result<(), Stop> {
        match replay {
            Replay::Missed { frames, last } => {
                self.delivered.insert(room_id, last);
                for (seq, frame) in frames {
                    if !skip.contains(&seq) {
                        self.send(frame).await?;
                    }
                }
                Ok(())
            }
            Replay::TooFar { frame, last } => {
                self.delivered.insert(room_id, last);
                self.send(frame).await
            }
            Replay::Gone { frame } => {
                self.delivered.remove(&room_id);
                self.send(frame).await
            }
        }
    }

    /// Sends `end` and stops when the socket's person may no longer follow the account.
    async fn end_if_not_allowed(&mut self) -> Result<(), Stop> {
        let Err(err) = still_allowed(&self.state, &self.grant).await else {
            return Ok(());
        };
        self.following.ended = true;
        let end = json!({ "code": err.code() });
        self.send(encode("end", None, None, &end)).await?;
        Err(Stop::Close(ENDED, "session ended"))
    }

    async fn send(&mut self, text: String) -> Result<(), Stop> {
        self.send_message(Message::Text(text.into())).await
    }

    async fn send_bytes(&mut self, text: Utf8Bytes) -> Result<(), Stop> {
        self.send_message(Message::Text(text)).await
    }

    async fn send_message(&mut self, message: Message) -> Result<(), Stop> {
        match tokio::time::timeout(WRITE_TIMEOUT, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Stop::Gone),
            Err(_) => Err(Stop::Close(
                close_code::AGAIN,
                "too slow: reconnect and resume",
            )),
        }
    }
}

/// Whether a read failed on a client frame past [`MAX_CLIENT_FRAME`].
fn too_big(err: &axum::Error) -> bool {
    std::error::Error::source(err)
        .and_then(|source| source.downcast_ref::<tungstenite::Error>())
        .is_some_and(|err| matches!(err, tungstenite::Error::Capacity(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_are_read_by_type() {
        let resume: ClientFrame = serde_json::from_str(
            r#"{"type":"resume","rooms":{"0193c5a0-0000-7000-8000-000000000001":4}}"#,
        )
        .unwrap();
        assert!(matches!(resume, ClientFrame::Resume { rooms } if rooms.len() == 1));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"shout"}"#).is_err());
        let away: ClientFrame =
            serde_json::from_str(r#"{"type":"presence","status":"away"}"#).unwrap();
        assert!(matches!(
            away,
            ClientFrame::Presence {
                status: Shown::Away
            }
        ));
        let offline = r#"{"type":"presence","status":"offline"}"#;
        assert!(serde_json::from_str::<ClientFrame>(offline).is_err());
    }
}
