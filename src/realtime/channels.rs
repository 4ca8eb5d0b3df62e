//! This replica's streams by account: a note wakes only the streams (SSE and WebSocket) of
//! the account it is about, not every stream of every tenant on the replica.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use tokio::sync::broadcast;
use uuid::Uuid;

use super::{BACKLOG, Note};

/// One broadcast ring per account followed on this replica, made by its first stream and
/// dropped at the first note after its last stream went.
#[derive(Clone, Default)]
pub(super) struct Channels(Arc<Mutex<HashMap<Uuid, broadcast::Sender<Arc<Note>>>>>);

impl Channels {
    pub(super) fn subscribe(&self, account_id: Uuid) -> broadcast::Receiver<Arc<Note>> {
        let mut channels = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .entry(account_id)
            .or_insert_with(|| broadcast::channel(BACKLOG).0)
            .subscribe()
    }

    /// To the streams of the note's account, or of every account for a note about none.
    pub(super) fn send(&self, note: Note) {
        let note = Arc::new(note);
        let mut channels = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        // A send fails only when nobody follows the account here any more.
        match note.account_id() {
            Some(account_id) => {
                let gone = channels
                    .get(&account_id)
                    .is_some_and(|channel| channel.send(Arc::clone(&note)).is_err());
                if gone {
                    channels.remove(&account_id);
                }
            }
            None => channels.retain(|_, channel| channel.send(Arc::clone(&note)).is_ok()),
        }
    }

    #[cfg(test)]
    fn followed(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::{AccountNews, Recheck};

    fn news(account_id: Uuid) -> Note {
        Note::News(AccountNews {
            account_id,
            kind: "usage.threshold_reached".into(),
            data: serde_json::json!({}),
        })
    }

    #[test]
    fn a_note_reaches_its_accounts_streams_only() {
        let channels = Channels::default();
        let (acme, globex) = (Uuid::now_v7(), Uuid::now_v7());
        let mut at_acme = channels.subscribe(acme);
        let mut at_globex = channels.subscribe(globex);
        channels.send(news(acme));
        assert!(matches!(&*at_acme.try_recv().unwrap(), Note::News(n) if n.account_id == acme));
        assert!(
            at_globex.try_recv().is_err(),
            "another account's stream slept on"
        );
        // About a person (in any account) or everyone: every stream hears it.
        channels.send(Note::Recheck(Recheck::User(Uuid::now_v7())));
        channels.send(Note::Resync);
        for stream in [&mut at_acme, &mut at_globex] {
            assert!(matches!(&*stream.try_recv().unwrap(), Note::Recheck(_)));
            assert!(matches!(&*stream.try_recv().unwrap(), Note::Resync));
        }
    }

    #[test]
    fn an_account_nobody_follows_any_more_is_forgotten() {
        let channels = Channels::default();
        let acme = Uuid::now_v7();
        drop(channels.subscribe(acme));
        assert_eq!(channels.followed(), 1);
        channels.send(news(acme));
        assert_eq!(channels.followed(), 0);
        let mut again = channels.subscribe(acme);
        channels.send(news(acme));
        assert!(again.try_recv().is_ok());
    }
}
