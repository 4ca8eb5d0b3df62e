use std::collections::HashMap;

use serde_json::{Value, json};

use super::{frames::FRAME_MAX, *};
use crate::realtime::Announcement;

const GRACE: Duration = Duration::from_secs(10);

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// What a flush sends: (account, frame data) for the sockets, notes for other replicas.
fn flush(presence: &Presence) -> (Vec<(Uuid, Value)>, Vec<PeerNote>) {
    let (mut shown, mut told) = (Vec::new(), Vec::new());
    presence.flush(
        |frame| {
            let value: Value = serde_json::from_str(&frame.text).unwrap();
            assert_eq!(value["type"], "presence");
            shown.push((frame.account_id, value["data"].clone()));
        },
        |note| told.push(note),
    );
    (shown, told)
}

fn change(user: Uuid, status: &str) -> Value {
    json!({ "user_id": user, "status": status })
}

fn peer(replica: Uuid, account: Uuid, online: &[Uuid], offline: &[Uuid]) -> PeerNote {
    PeerNote {
        replica,
        account_id: account,
        online: online.to_vec(),
        away: Vec::new(),
        offline: offline.to_vec(),
    }
}

#[test]
fn the_first_socket_brings_a_person_online_and_only_to_their_account() {
    let presence = Presence::new(GRACE);
    let (acme, globex, ana) = (id(1), id(2), id(10));
    presence.arrive(acme, ana);
    presence.arrive(acme, ana);
    let (shown, told) = flush(&presence);
    assert_eq!(shown, [(acme, change(ana, "online"))]);
    assert_eq!(told, [peer(presence.replica(), acme, &[ana], &[])]);
    assert_eq!(presence.snapshot(acme).online, [ana]);
    assert_eq!(presence.snapshot(globex), PresenceSnapshot::default());
    assert_eq!(presence.sockets(acme, ana), 2);

    // A third tab changes nothing anyone is told.
    presence.arrive(acme, ana);
    assert_eq!(flush(&presence), (vec![], vec![]));
}

#[test]
fn the_last_socket_leaves_after_the_grace_and_a_reconnect_within_it_changes_nothing() {
    let presence = Presence::new(GRACE);
    let (acme, ana) = (id(1), id(10));
    presence.arrive(acme, ana);
    flush(&presence);

    presence.leave(acme, ana, false, false);
    presence.sweep(Instant::now() + GRACE / 2);
    assert_eq!(flush(&presence), (vec![], vec![]), "still within the grace");
    presence.arrive(acme, ana);
    presence.sweep(Instant::now() + GRACE * 2);
    assert_eq!(
        flush(&presence),
        (vec![], vec![]),
        "the reload came back in time"
    );
    assert_eq!(presence.snapshot(acme).online, [ana]);

    presence.leave(acme, ana, false, false);
    presence.sweep(Instant::now() + GRACE * 2);
    let (shown, told) = flush(&presence);
    assert_eq!(shown, [(acme, change(ana, "offline"))]);
    assert_eq!(told, [peer(presence.replica(), acme, &[], &[ana])]);
    assert_eq!(presence.snapshot(acme), PresenceSnapshot::default());
    assert!(
        presence.people().accounts.is_empty(),
        "nothing kept of them"
    );
}

#[test]
fn an_ended_session_leaves_at_once() {
    let presence = Presence::new(GRACE);
    let (acme, ana) = (id(1), id(10));
    presence.arrive(acme, ana);
    flush(&presence);
    presence.leave(acme, ana, false, true);
    assert_eq!(flush(&presence).0, [(acme, change(ana, "offline"))]);
}

#[test]
fn a_recheck_ends_the_grace_of_whoever_it_concerns() {
    let presence = Presence::new(GRACE);
    let (acme, ana, bia, caio) = (id(1), id(10), id(11), id(12));
    for user in [ana, bia, caio] {
        presence.arrive(acme, user);
    }
    flush(&presence);
    presence.leave(acme, ana, false, false);
    presence.leave(acme, bia, false, false);
    presence.recheck(Recheck::User(ana));
    assert_eq!(flush(&presence).0, [(acme, change(ana, "offline"))]);
    presence.recheck(Recheck::Account(acme));
    assert_eq!(flush(&presence).0, [(acme, change(bia, "offline"))]);
    assert_eq!(
        presence.snapshot(acme).online,
        [caio],
        "an open socket is not ended here"
    );
}

#[test]
fn a_person_is_away_when_every_page_is_hidden() {
    let presence = Presence::new(GRACE);
    let (acme, ana) = (id(1), id(10));
    presence.arrive(acme, ana);
    presence.arrive(acme, ana);
    presence.hide(acme, ana, true);
    assert_eq!(flush(&presence).0, [(acme, change(ana, "online"))]);
    presence.hide(acme, ana, true);
    assert_eq!(flush(&presence).0, [(acme, change(ana, "away"))]);
    assert_eq!(presence.snapshot(acme).away, [ana]);

    // The hidden page that closes leaves the other one hidden: still away, then online.
    presence.leave(acme, ana, true, false);
    assert_eq!(flush(&presence), (vec![], vec![]));
    presence.hide(acme, ana, false);
    assert_eq!(flush(&presence).0, [(acme, change(ana, "online"))]);

    // Away when the last page went, until the grace ends.
    presence.hide(acme, ana, true);
    flush(&presence);
    presence.leave(acme, ana, true, false);
    assert_eq!(flush(&presence), (vec![], vec![]));
    assert_eq!(presence.snapshot(acme).away, [ana]);
}

#[test]
fn several_changes_go_as_one_frame_per_account() {
    let presence = Presence::new(GRACE);
    let (acme, globex) = (id(1), id(2));
    for n in 10..13 {
        presence.arrive(acme, id(n));
    }
    presence.arrive(globex, id(20));
    let (mut shown, told) = flush(&presence);
    shown.sort_by_key(|(account, _)| *account);
    assert_eq!(shown.len(), 2);
    let mut changes = shown[0].1["changes"].as_array().unwrap().clone();
    changes.sort_by_key(|c| c["user_id"].as_str().unwrap().to_string());
    assert_eq!(
        changes,
        (10..13)
            .map(|n| change(id(n), "online"))
            .collect::<Vec<_>>()
    );
    assert_eq!(shown[1], (globex, change(id(20), "online")));
    assert_eq!(told.len(), 2);
}

#[test]
fn other_replicas_word_counts_until_it_is_withdrawn_or_expires() {
    let presence = Presence::new(GRACE);
    let (acme, ana, bia) = (id(1), id(10), id(11));
    let other = id(99);
    presence.heard(&peer(other, acme, &[ana, bia], &[]));
    let (shown, told) = flush(&presence);
    assert_eq!(shown.len(), 1, "one frame for both: {shown:?}");
    assert_eq!(presence.snapshot(acme).online, [ana, bia]);
    assert!(
        told.is_empty(),
        "nothing of this replica's own sockets changed"
    );

    // Online here too: the other replica's leaving does not take them offline.
    presence.arrive(acme, ana);
    flush(&presence);
    presence.heard(&peer(other, acme, &[], &[ana, bia]));
    assert_eq!(flush(&presence).0, [(acme, change(bia, "offline"))]);

    // Word not repeated expires.
    presence.heard(&peer(other, acme, &[bia], &[]));
    flush(&presence);
    presence.sweep(Instant::now() + REMOTE_TTL / 2);
    assert_eq!(flush(&presence), (vec![], vec![]));
    presence.heard(&peer(other, acme, &[bia], &[]));
    presence.sweep(Instant::now() + REMOTE_TTL + SWEEP_EVERY);
    let (shown, _) = flush(&presence);
    assert!(shown.contains(&(acme, change(bia, "offline"))), "{shown:?}");

    // This replica's own announcements, coming back, change nothing.
    presence.heard(&peer(presence.replica(), acme, &[], &[ana]));
    assert_eq!(presence.snapshot(acme).online, [ana]);
}

#[test]
fn a_replica_repeats_who_is_online_on_it_in_small_notes() {
    let presence = Presence::new(GRACE);
    let acme = id(1);
    for n in 0..200 {
        presence.arrive(acme, id(1000 + n));
    }
    presence.heard(&peer(id(99), acme, &[id(5)], &[]));
    flush(&presence);
    let mut notes = Vec::new();
    presence.repeat(|note| notes.push(note));
    assert_eq!(notes.len(), 200usize.div_ceil(peers::IDS_PER_NOTE));
    let named: usize = notes.iter().map(|n| n.online.len()).sum();
    assert_eq!(named, 200, "only its own sockets' people");
    for note in notes {
        let payload = serde_json::to_string(&Announcement::Presence { presence: note }).unwrap();
        assert!(payload.len() < 3000, "{} bytes", payload.len());
        let read: Announcement = serde_json::from_str(&payload).unwrap();
        assert!(matches!(read, Announcement::Presence { .. }));
    }
    let ask = serde_json::to_string(&Announcement::PresenceAsk {
        presence_ask: id(7),
    })
    .unwrap();
    let read: Announcement = serde_json::from_str(&ask).unwrap();
    assert!(matches!(read, Announcement::PresenceAsk { presence_ask } if presence_ask == id(7)));
}

#[test]
fn frames_stay_small_however_many_are_online() {
    let people: Vec<Uuid> = (0..1000).map(|n| Uuid::from_u128(u128::MAX - n)).collect();
    let snapshot = PresenceSnapshot {
        online: people[..900].to_vec(),
        away: people[900..].to_vec(),
    };
    let frames = snapshot_frames(&snapshot);
    let mut seen = HashMap::new();
    for (n, frame) in frames.iter().enumerate() {
        assert!(frame.len() <= FRAME_MAX, "frame {n}: {} bytes", frame.len());
        let data = &serde_json::from_str::<Value>(frame).unwrap()["data"];
        if n == 0 {
            for status in ["online", "away"] {
                for id in data[status].as_array().unwrap() {
                    seen.insert(id.as_str().unwrap().to_string(), status.to_string());
                }
            }
        } else {
            for change in data["changes"].as_array().unwrap() {
                let status = change["status"].as_str().unwrap().to_string();
                seen.insert(change["user_id"].as_str().unwrap().to_string(), status);
            }
        }
    }
    assert_eq!(seen.len(), 1000);
    assert_eq!(seen.values().filter(|s| *s == "away").count(), 100);
    let empty = snapshot_frames(&PresenceSnapshot::default());
    assert_eq!(empty.len(), 1);

    // A burst of changes, too.
    let presence = Presence::new(GRACE);
    for person in &people {
        presence.arrive(id(1), *person);
    }
    let mut sizes = Vec::new();
    presence.flush(|frame| sizes.push(frame.text.len()), |_| {});
    assert_eq!(sizes.len(), 1000usize.div_ceil(CHANGES_PER_FRAME));
    assert!(sizes.iter().all(|size| *size <= FRAME_MAX), "{sizes:?}");
}
