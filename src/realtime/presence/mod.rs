//! Who has the team chat open (issue 16, ADR 27): per account, the people with at least one
//! chat WebSocket open on any replica. Never stored. Each replica counts its own sockets per
//! person (not per socket: a few words a person), tells the other replicas what changed — ids
//! only, over the realtime bus — and repeats its whole set now and then, so a replica that
//! starts, or misses a notification, converges; what another replica said expires unless it
//! is repeated.
//!
//! A person whose last socket closes stays online for a grace period, so a reload or a
//! reconnect does not flap. Changes are gathered for a moment before they reach the sockets:
//! a burst (everyone reconnecting to a restarted replica) is a few frames per socket, not one
//! per person.

mod frames;
mod peers;
#[cfg(test)]
mod tests;

pub(super) use peers::PeerNote;

use frames::{CHANGES_PER_FRAME, changes_frame, snapshot_frames};

use std::{
    collections::{HashMap, HashSet},
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use axum::extract::ws::Utf8Bytes;
use serde::{Deserialize, Serialize};
use tokio::{sync::Notify, time::Instant};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;
use uuid::Uuid;

use super::Recheck;
use crate::app::state::AppState;

/// How often departures past their grace and other replicas' word past its life are looked at.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How often a replica repeats who is online on it.
const REFRESH_EVERY: Duration = Duration::from_secs(20);
/// What another replica said holds this long unless repeated: three refreshes missed.
const REMOTE_TTL: Duration = Duration::from_secs(65);
/// Changes made within this long of a flush wait for the next one, so a burst reaches each
/// socket as few frames; a lone change still goes at once.
const FLUSH_GAP: Duration = Duration::from_millis(200);
/// After a flush of more than [`BURST`] changes (everyone reconnecting to a restarted
/// replica), the next waits this long: fewer, fuller frames, and fewer snapshots built
/// (measured, 3,000 people of one account connecting: 46 s and 19.9 KiB a socket with
/// 200 ms, 23 s and 13.5 KiB with 2 s).
const BURST_GAP: Duration = Duration::from_secs(2);
const BURST: usize = 16;
/// A person's presence. The order matters: the best of several replicas' word wins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Online,
    /// Every open page of the person is hidden.
    Away,
    #[default]
    Offline,
}

/// Who in an account is online and away (everyone else is offline).
#[derive(Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct PresenceSnapshot {
    pub online: Vec<Uuid>,
    pub away: Vec<Uuid>,
}

/// What a replica knows of one person.
#[derive(Debug, Default)]
struct Person {
    /// Sockets open on this replica, and how many of them report their page hidden.
    sockets: u32,
    hidden: u32,
    /// The last socket here closed: the person keeps this status until the deadline.
    lingering: Option<(Instant, Status)>,
    /// What other replicas said, each until it expires.
    remote: Vec<Remote>,
    /// What this replica's sockets were last told.
    shown: Status,
    /// What the other replicas were last told of this replica's sockets.
    told: Status,
}

#[derive(Debug)]
struct Remote {
    replica: Uuid,
    status: Status,
    until: Instant,
}

impl Person {
    /// The person as this replica's own sockets show them.
    fn local(&self) -> Status {
        match self.sockets {
            0 => self.lingering.map_or(Status::Offline, |(_, status)| status),
            open if self.hidden >= open => Status::Away,
            _ => Status::Online,
        }
    }

    /// The person over every replica.
    fn status(&self) -> Status {
        let remote = self.remote.iter().map(|r| r.status);
        remote.fold(self.local(), Status::min)
    }

    fn forgotten(&self) -> bool {
        self.sockets == 0
            && self.lingering.is_none()
            && self.remote.is_empty()
            && self.shown == Status::Offline
            && self.told == Status::Offline
    }
}

#[derive(Default)]
struct People {
    accounts: HashMap<Uuid, HashMap<Uuid, Person>>,
    /// (account, person) whose status may have changed since the last flush.
    dirty: HashSet<(Uuid, Uuid)>,
}

impl People {
    fn snapshot(&self, account_id: Uuid) -> PresenceSnapshot {
        let mut snapshot = PresenceSnapshot::default();
        for (user_id, person) in self.accounts.get(&account_id).into_iter().flatten() {
            match person.shown {
                Status::Online => snapshot.online.push(*user_id),
                Status::Away => snapshot.away.push(*user_id),
                Status::Offline => {}
            }
        }
        snapshot.online.sort_unstable();
        snapshot.away.sort_unstable();
        snapshot
    }

    /// Applies `change` to the person and notes them for the next flush when what this
    /// replica says of them changed. Answers whether it did.
    fn change(
        &mut self,
        account_id: Uuid,
        user_id: Uuid,
        change: impl FnOnce(&mut Person),
    ) -> bool {
        let person = self
            .accounts
            .entry(account_id)
            .or_default()
            .entry(user_id)
            .or_default();
        let before = (person.local(), person.status());
        change(person);
        let changed = before != (person.local(), person.status());
        if changed || person.forgotten() {
            self.dirty.insert((account_id, user_id));
        }
        changed
    }
}

/// This replica's register of who is online.
pub struct Presence {
    /// Names this replica to the others (its own announcements come back to it).
    replica: Uuid,
    grace: Duration,
    people: Mutex<People>,
    /// Something waits to be flushed.
    wake: Notify,
}

/// A batch of changes for the sockets of one account.
#[derive(Debug)]
pub struct PresenceFrame {
    pub account_id: Uuid,
    /// Whose status the frame changes: only sockets watching one of them are sent it.
    pub user_ids: Vec<Uuid>,
    pub text: Utf8Bytes,
}

impl Presence {
    pub(super) fn new(grace: Duration) -> Presence {
        Presence {
            replica: Uuid::new_v4(),
            grace,
            people: Mutex::default(),
            wake: Notify::new(),
        }
    }

    fn people(&self) -> MutexGuard<'_, People> {
        self.people.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `update` on the register, then wakes the flusher when it left people to tell of
    /// (after the lock is let go).
    fn update(&self, update: impl FnOnce(&mut People)) {
        let dirty = {
            let mut people = self.people();
            update(&mut people);
            !people.dirty.is_empty()
        };
        if dirty {
            self.wake.notify_one();
        }
    }

    fn change(&self, account_id: Uuid, user_id: Uuid, change: impl FnOnce(&mut Person)) {
        self.update(|people| {
            people.change(account_id, user_id, change);
        });
    }

    /// A socket of the person opened on this replica.
    pub(super) fn arrive(&self, account_id: Uuid, user_id: Uuid) {
        self.change(account_id, user_id, |person| {
            person.sockets += 1;
            person.lingering = None;
        });
    }

    /// A socket of the person closed (`hidden`: it last reported its page hidden). The
    /// last one leaves the person online for the grace period, or not at all when
    /// `at_once` (their session or membership ended).
    pub(super) fn leave(&self, account_id: Uuid, user_id: Uuid, hidden: bool, at_once: bool) {
        let grace = (!at_once && !self.grace.is_zero()).then_some(self.grace);
        let now = Instant::now();
        self.change(account_id, user_id, |person| {
            let was = person.local();
            person.sockets = person.sockets.saturating_sub(1);
            if hidden {
                person.hidden = person.hidden.saturating_sub(1);
            }
            if person.sockets == 0 {
                person.hidden = 0;
                person.lingering = grace.map(|grace| (now + grace, was));
            }
        });
    }

    /// A socket of the person reports its page hidden (or shown again).
    pub(super) fn hide(&self, account_id: Uuid, user_id: Uuid, hidden: bool) {
        self.change(account_id, user_id, |person| {
            if hidden {
                person.hidden = (person.hidden + 1).min(person.sockets);
            } else {
                person.hidden = person.hidden.saturating_sub(1);
            }
        });
    }

    /// Someone's access may have ended (a session, a membership, an account): whoever of
    /// them is only lingering here goes offline now rather than after the grace, so a
    /// deactivated person who had just closed their page does not show. Their open sockets
    /// close through the same recheck, without a grace.
    pub(super) fn recheck(&self, who: Recheck) {
        self.update(|people| {
            for (account_id, persons) in &mut people.accounts {
                for (user_id, person) in persons.iter_mut() {
                    if who.concerns(*account_id, *user_id)
                        && person.sockets == 0
                        && person.lingering.take().is_some()
                    {
                        people.dirty.insert((*account_id, *user_id));
                    }
                }
            }
        });
    }

    /// Ends the grace periods and the other replicas' word that are past at `now` (the
    /// periodic sweep passes the present; a test may pass a later instant rather than wait).
    pub fn sweep(&self, now: Instant) {
        self.update(|people| {
            for (account_id, persons) in &mut people.accounts {
                for (user_id, person) in persons.iter_mut() {
                    let before = (person.local(), person.status());
                    if person.lingering.is_some_and(|(until, _)| until <= now) {
                        person.lingering = None;
                    }
                    person.remote.retain(|r| r.until > now);
                    if before != (person.local(), person.status()) {
                        people.dirty.insert((*account_id, *user_id));
                    }
                }
            }
        });
    }

    /// What another replica says of its own sockets.
    pub(super) fn heard(&self, note: &PeerNote) {
        if note.replica == self.replica {
            return;
        }
        let until = Instant::now() + REMOTE_TTL;
        self.update(|people| {
            for (user_id, status) in note.people() {
                let known = people
                    .accounts
                    .get(&note.account_id)
                    .is_some_and(|p| p.contains_key(&user_id));
                if status == Status::Offline && !known {
                    continue;
                }
                people.change(note.account_id, user_id, |person| {
                    person.remote.retain(|r| r.replica != note.replica);
                    if status != Status::Offline {
                        person.remote.push(Remote {
                            replica: note.replica,
                            status,
                            until,
                        });
                    }
                });
            }
        });
    }

    /// Who in the account is online and away, as its sockets were last told.
    pub fn snapshot(&self, account_id: Uuid) -> PresenceSnapshot {
        self.people().snapshot(account_id)
    }

    /// A socket's presence frames for the people it watches (see [`snapshot_frames`]).
    pub(super) fn snapshot_frames(&self, account_id: Uuid, watched: &[Uuid]) -> Vec<Utf8Bytes> {
        let mut snapshot = self.people().snapshot(account_id);
        snapshot
            .online
            .retain(|id| watched.binary_search(id).is_ok());
        snapshot.away.retain(|id| watched.binary_search(id).is_ok());
        snapshot_frames(&snapshot)
            .into_iter()
            .map(Utf8Bytes::from)
            .collect()
    }

    /// The person's sockets open on this replica.
    pub fn sockets(&self, account_id: Uuid, user_id: Uuid) -> u32 {
        let people = self.people();
        let person = people
            .accounts
            .get(&account_id)
            .and_then(|p| p.get(&user_id));
        person.map_or(0, |p| p.sockets)
    }

    /// Sends what changed: each account's changes to its sockets (`show`) and what changed
    /// of this replica's own sockets to the other replicas (`tell`). Both are called under
    /// the lock, so a socket that takes a snapshot meanwhile gets exactly the changes after it.
    /// Answers how many changes its sockets were shown.
    pub(super) fn flush(
        &self,
        mut show: impl FnMut(PresenceFrame),
        mut tell: impl FnMut(PeerNote),
    ) -> usize {
        let mut guard = self.people();
        let people = &mut *guard;
        let mut shown: HashMap<Uuid, Vec<(Uuid, Status)>> = HashMap::new();
        let mut told: HashMap<Uuid, Vec<(Uuid, Status)>> = HashMap::new();
        for (account_id, user_id) in std::mem::take(&mut people.dirty) {
            let Some(persons) = people.accounts.get_mut(&account_id) else {
                continue;
            };
            let Some(person) = persons.get_mut(&user_id) else {
                continue;
            };
            let status = person.status();
            if status != person.shown {
                person.shown = status;
                shown.entry(account_id).or_default().push((user_id, status));
            }
            let local = person.local();
            if local != person.told {
                person.told = local;
                told.entry(account_id).or_default().push((user_id, local));
            }
            if person.forgotten() {
                persons.remove(&user_id);
                if persons.is_empty() {
                    people.accounts.remove(&account_id);
                }
            }
        }
        let count = shown.values().map(Vec::len).sum();
        for (account_id, changes) in shown {
            for chunk in changes.chunks(CHANGES_PER_FRAME) {
                let text = changes_frame(chunk).into();
                let user_ids = chunk.iter().map(|(id, _)| *id).collect();
                show(PresenceFrame {
                    account_id,
                    user_ids,
                    text,
                });
            }
        }
        for (account_id, changes) in told {
            peers::notes(self.replica, account_id, &changes)
                .into_iter()
                .for_each(&mut tell);
        }
        count
    }

    /// Everyone this replica has a socket of (or lingering), for the other replicas.
    pub(super) fn repeat(&self, mut tell: impl FnMut(PeerNote)) {
        let people = self.people();
        for (account_id, persons) in &people.accounts {
            let here: Vec<(Uuid, Status)> = persons
                .iter()
                .map(|(user_id, person)| (*user_id, person.local()))
                .filter(|(_, status)| *status != Status::Offline)
                .collect();
            peers::notes(self.replica, *account_id, &here)
                .into_iter()
                .for_each(&mut tell);
        }
    }

    pub(super) fn replica(&self) -> Uuid {
        self.replica
    }
}

/// Until `shutdown`: ends grace periods and stale word from other replicas, repeats this
/// replica's people to the others, and flushes changes — at once when things are quiet, at
/// most every [`FLUSH_GAP`] while they change, every [`BURST_GAP`] under a burst.
pub(super) async fn keep(state: AppState, shutdown: CancellationToken) {
    let bus = &state.realtime;
    // A replica that starts asks the others who is online on them (they repeat their sets).
    bus.ask_presence();
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    let mut repeat = tokio::time::interval_at(Instant::now() + REFRESH_EVERY, REFRESH_EVERY);
    loop {
        tokio::select! {
            () = bus.presence.wake.notified() => {}
            _ = sweep.tick() => bus.presence.sweep(Instant::now()),
            _ = repeat.tick() => bus.repeat_presence(),
            () = shutdown.cancelled() => return,
        }
        let gap = if bus.flush_presence() > BURST {
            BURST_GAP
        } else {
            FLUSH_GAP
        };
        tokio::select! {
            () = tokio::time::sleep(gap) => {}
            () = shutdown.cancelled() => return,
        }
    }
}
