//! Presence as frames for the sockets: each within [`FRAME_MAX`] bytes, however large the
//! account.

use serde_json::json;
use uuid::Uuid;

use super::{PresenceSnapshot, Status};
use crate::realtime::encode;

/// What a presence frame stays within, in bytes. Each frame a socket sends leaves the
/// WebSocket library's write buffer at least that large for the socket's life, so a large
/// account's presence goes as several small frames, never one frame per socket of
/// kilobytes (measured: 1 KiB frames cost an idle socket 0.5 KiB more than these).
pub(super) const FRAME_MAX: usize = 512;
/// Changes one frame carries (`{"status":"offline","user_id":"…"}` is 70 bytes).
pub(super) const CHANGES_PER_FRAME: usize = 6;
/// Ids the snapshot's first frame carries (39 bytes each).
const IDS_PER_SNAPSHOT: usize = 11;
// With the frame's envelope (about 80 bytes), both stay within the bound; a test checks the
// real frames.
const _: () = assert!(CHANGES_PER_FRAME * 70 + 80 <= FRAME_MAX);
const _: () = assert!(IDS_PER_SNAPSHOT * 39 + 80 <= FRAME_MAX);

/// A socket's first presence frames: `{online, away}` with as many as fit in one small
/// frame, then the rest as batches of changes (see [`FRAME_MAX`]).
pub(super) fn snapshot_frames(snapshot: &PresenceSnapshot) -> Vec<String> {
    let everyone = snapshot
        .online
        .iter()
        .map(|id| (*id, Status::Online))
        .chain(snapshot.away.iter().map(|id| (*id, Status::Away)));
    let everyone: Vec<(Uuid, Status)> = everyone.collect();
    let (first, rest) = everyone.split_at(everyone.len().min(IDS_PER_SNAPSHOT));
    let ids = |status| {
        first
            .iter()
            .filter(move |(_, s)| *s == status)
            .map(|(id, _)| id)
    };
    let data = json!({
        "online": ids(Status::Online).collect::<Vec<_>>(),
        "away": ids(Status::Away).collect::<Vec<_>>(),
    });
    let mut frames = vec![encode("presence", None, None, &data)];
    frames.extend(rest.chunks(CHANGES_PER_FRAME).map(changes_frame));
    frames
}

/// One change as `{user_id, status}`, several as `{changes: [{user_id, status}, …]}`.
pub(super) fn changes_frame(changes: &[(Uuid, Status)]) -> String {
    let one = |(user_id, status): &(Uuid, Status)| json!({ "user_id": user_id, "status": status });
    match changes {
        [change] => encode("presence", None, None, &one(change)),
        _ => {
            let changes: Vec<_> = changes.iter().map(one).collect();
            encode("presence", None, None, &json!({ "changes": changes }))
        }
    }
}
