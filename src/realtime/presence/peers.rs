//! What replicas tell each other about presence: which of an account's people are online,
//! away or gone on the sender's own sockets. Ids only, a bounded number per note, so a note
//! stays far below `NOTIFY`'s 8,000 bytes whatever the account's size.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Status;

/// People one note names at most: 64 ids are about 2.6 KB of JSON.
pub(super) const IDS_PER_NOTE: usize = 64;

/// The sender's word on some of an account's people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerNote {
    pub replica: Uuid,
    pub account_id: Uuid,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub online: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub away: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offline: Vec<Uuid>,
}

impl PeerNote {
    /// Each person named, with what the sender says of them.
    pub(super) fn people(&self) -> impl Iterator<Item = (Uuid, Status)> + '_ {
        tagged(&self.online, Status::Online)
            .chain(tagged(&self.away, Status::Away))
            .chain(tagged(&self.offline, Status::Offline))
    }
}

fn tagged(ids: &[Uuid], status: Status) -> impl Iterator<Item = (Uuid, Status)> + '_ {
    ids.iter().map(move |id| (*id, status))
}

/// `people` as notes of at most [`IDS_PER_NOTE`] ids each.
pub(super) fn notes(replica: Uuid, account_id: Uuid, people: &[(Uuid, Status)]) -> Vec<PeerNote> {
    people
        .chunks(IDS_PER_NOTE)
        .map(|chunk| {
            let mut note = PeerNote {
                replica,
                account_id,
                online: Vec::new(),
                away: Vec::new(),
                offline: Vec::new(),
            };
            for (user_id, status) in chunk {
                match status {
                    Status::Online => note.online.push(*user_id),
                    Status::Away => note.away.push(*user_id),
                    Status::Offline => note.offline.push(*user_id),
                }
            }
            note
        })
        .collect()
}
