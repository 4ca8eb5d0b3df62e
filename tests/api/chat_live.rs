//! Team chat over the WebSocket (issue 16, ADR 24): a room's events reach its people and no
//! one else, numbered per room; a socket that reconnects is sent exactly what it missed;
//! removals, typing, read markers, session ends and the socket's limits; across replicas on
//! PostgreSQL.

use std::{collections::HashMap, time::Duration};

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, protocol::frame::coding::CloseCode},
};
use uuid::Uuid;

use crate::{
    accounts::super_admin,
    support::{Caller, Tenant, TestApp, postgres_url},
};

/// A socket that never answers fails the test instead of hanging it.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

pub(crate) struct Socket {
    pub(crate) ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The last event number known per room when the socket opened: like a real client,
    /// the socket skips frames at or below it (an announcement of something done before
    /// the socket opened may still be on its way).
    known: HashMap<Value, i64>,
}

pub(crate) async fn ticket(app: &TestApp, t: &Tenant, caller: &Caller) -> String {
    ticket_with(app, t, caller, json!({})).await
}

async fn ticket_with(app: &TestApp, t: &Tenant, caller: &Caller, body: Value) -> String {
    let resp = app
        .post(&t.path("/realtime/tickets"), &caller.token, body)
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["ticket"].as_str().unwrap().to_string()
}

fn ws_url(app: &TestApp, ticket: &str) -> String {
    let base = app.base.replacen("http", "ws", 1);
    format!("{base}/api/v1/realtime/ws?ticket={ticket}")
}

impl Socket {
    pub(crate) async fn open(app: &TestApp, t: &Tenant, caller: &Caller) -> Socket {
        Socket::open_with(app, caller, ticket(app, t, caller).await).await
    }

    /// A socket whose ticket says where it resumes (`{room_id: last event_seq}`).
    async fn open_resuming(app: &TestApp, t: &Tenant, caller: &Caller, rooms: Value) -> Socket {
        let ticket = ticket_with(app, t, caller, json!({ "resume": rooms })).await;
        Socket::open_with(app, caller, ticket).await
    }

    async fn open_with(app: &TestApp, caller: &Caller, ticket: String) -> Socket {
        let (ws, _) = connect_async(ws_url(app, &ticket)).await.expect("upgrade");
        let mut socket = Socket {
            ws,
            known: HashMap::new(),
        };
        let ready = socket.next().await;
        assert_eq!(ready["type"], "ready");
        assert_eq!(ready["data"]["user_id"], json!(caller.id));
        socket
    }

    /// The next frame but who is online (chat_presence.rs follows that).
    pub(crate) async fn next(&mut self) -> Value {
        loop {
            let frame = self.frame().await;
            if frame["type"] != "presence" {
                return frame;
            }
        }
    }

    /// The next frame (pings are answered by the library and skipped here).
    pub(crate) async fn frame(&mut self) -> Value {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a frame in time")
                .expect("the socket open")
                .expect("a readable frame");
            match message {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Close(close) => panic!("closed: {close:?}"),
                _ => {}
            }
        }
    }

    /// The next frame of someone typing.
    async fn next_typing(&mut self) -> Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == "typing" {
                return frame;
            }
        }
    }

    /// A socket that already knows the rooms as they are now.
    async fn open_in(app: &TestApp, t: &Tenant, caller: &Caller, rooms: &[Uuid]) -> Socket {
        let mut socket = Socket::open(app, t, caller).await;
        for room in rooms {
            let seq = event_seq(app, t, caller, *room).await;
            socket.known.insert(json!(room), seq);
        }
        socket
    }

    /// The next frame that is not someone typing nor already known.
    async fn next_event(&mut self) -> Value {
        loop {
            let frame = self.next().await;
            let known = self.known.get(&frame["room_id"]).copied().unwrap_or(-1);
            let old =
                frame["type"] != "resync" && frame["seq"].as_i64().is_some_and(|seq| seq <= known);
            if frame["type"] != "typing" && !old {
                return frame;
            }
        }
    }

    /// The close frame the server ends with (after any frames still on their way).
    async fn closed(&mut self) -> (CloseCode, String) {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("closed in time");
            match message {
                Some(Ok(Message::Close(Some(close)))) => {
                    return (close.code, close.reason.to_string());
                }
                Some(Ok(_)) => {}
                other => panic!("no close frame: {other:?}"),
            }
        }
    }

    pub(crate) async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }
}

async fn channel(app: &TestApp, t: &Tenant, by: &Caller, members: &[Uuid]) -> Uuid {
    let body =
        json!({ "kind": "channel", "name": "deals", "private": true, "member_ids": members });
    let resp = app.post(&t.path("/chat/rooms"), &by.token, body).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["id"].as_str().unwrap().parse().unwrap()
}

async fn send(app: &TestApp, t: &Tenant, by: &Caller, room: Uuid, text: &str) -> Value {
    let body = json!({ "body": text, "client_id": Uuid::new_v4().to_string() });
    let path = t.path(&format!("/chat/rooms/{room}/messages"));
    let resp = app.post(&path, &by.token, body).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body
}

async fn event_seq(app: &TestApp, t: &Tenant, by: &Caller, room: Uuid) -> i64 {
    let resp = app
        .get(&t.path(&format!("/chat/rooms/{room}")), &by.token)
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body["event_seq"].as_i64().unwrap()
}

pub(crate) async fn tenant(app: &TestApp, name: &str) -> Tenant {
    let root = super_admin(app).await;
    app.tenant(&root, name).await
}

#[tokio::test]
async fn a_message_reaches_the_rooms_people_and_no_one_else() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let other = tenant(&app, "Globex").await;
    let private = channel(&app, &t, &t.supervisor, &[t.agent.id]).await;
    let shared = channel(&app, &t, &t.admin, &[t.agent.id]).await;
    let mut agent = Socket::open_in(&app, &t, &t.agent, &[private, shared]).await;
    let mut admin = Socket::open_in(&app, &t, &t.admin, &[shared]).await;
    let mut outsider = Socket::open(&app, &other, &other.admin).await;

    let sent = send(&app, &t, &t.supervisor, private, "the **deal** is closed").await;
    let frame = agent.next_event().await;
    assert_eq!(frame["type"], "message.created");
    assert_eq!(frame["room_id"], json!(private));
    assert_eq!(frame["seq"], event_seq(&app, &t, &t.agent, private).await);
    assert_eq!(frame["data"]["id"], sent["id"]);
    assert_eq!(frame["data"]["body"], "the **deal** is closed");

    // The admin is not in the private channel: their next frame is the shared room's.
    let later = send(&app, &t, &t.agent, shared, "in the open").await;
    let frame = admin.next_event().await;
    assert_eq!(frame["room_id"], json!(shared));
    assert_eq!(frame["data"]["id"], later["id"]);
    assert_eq!(agent.next_event().await["data"]["id"], later["id"]);

    // Another account's people hear nothing of it: their next frame is their own room's.
    let theirs = channel(&app, &other, &other.admin, &[]).await;
    let frame = outsider.next_event().await;
    assert_eq!(frame["type"], "room.updated");
    assert_eq!(frame["room_id"], json!(theirs));
}

#[tokio::test]
async fn a_socket_that_reconnects_is_sent_exactly_what_it_missed() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let room = channel(&app, &t, &t.supervisor, &[t.agent.id]).await;
    send(&app, &t, &t.supervisor, room, "one").await;
    let mut agent = Socket::open_in(&app, &t, &t.agent, &[room]).await;
    send(&app, &t, &t.supervisor, room, "two").await;
    let seen = agent.next_event().await;
    assert_eq!(seen["data"]["body"], "two");
    let last_seen = seen["seq"].as_i64().unwrap();
    drop(agent);

    // Away: three messages and a newcomer.
    let mut missed = Vec::new();
    for text in ["three", "four", "five"] {
        missed.push(send(&app, &t, &t.supervisor, room, text).await["id"].clone());
    }
    let add = t.path(&format!("/chat/rooms/{room}/members"));
    let added = app
        .post(
            &add,
            &t.supervisor.token,
            json!({ "user_ids": [t.admin.id] }),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);

    let mut agent = Socket::open(&app, &t, &t.agent).await;
    agent.known.insert(json!(room), last_seen);
    agent
        .send(json!({ "type": "resume", "rooms": { room.to_string(): last_seen } }))
        .await;
    let mut replayed = Vec::new();
    for _ in 0..4 {
        replayed.push(agent.next_event().await);
    }
    // An announcement may beat the replay it belongs to: order by number, each once.
    replayed.sort_by_key(|f| f["seq"].as_i64());
    let seqs: Vec<i64> = replayed
        .iter()
        .map(|f| f["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (last_seen + 1..=last_seen + 4).collect::<Vec<_>>());
    let ids: Vec<&Value> = replayed[..3].iter().map(|f| &f["data"]["id"]).collect();
    assert_eq!(ids, missed.iter().collect::<Vec<_>>());
    assert_eq!(replayed[3]["type"], "room.updated");
    let members = replayed[3]["data"]["member_ids"].as_array().unwrap();
    assert!(members.contains(&json!(t.admin.id)));
    assert!(
        replayed[3]["data"].get("unread_count").is_none(),
        "a shared frame carries nobody's own counts"
    );

    // Then live, with nothing sent twice.
    let six = send(&app, &t, &t.supervisor, room, "six").await;
    let frame = agent.next_event().await;
    assert_eq!(frame["data"]["id"], six["id"]);
    assert_eq!(frame["seq"], last_seen + 5);
}

/// The ticket says where the socket resumes: what was missed comes right after `ready`,
/// before anything live, so a room's numbers arrive in order even while people write.
#[tokio::test]
async fn a_ticket_that_says_where_to_resume_replays_before_anything_live() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let room = channel(&app, &t, &t.supervisor, &[t.agent.id]).await;
    let last_seen = event_seq(&app, &t, &t.agent, room).await;
    for text in ["one", "two", "three"] {
        send(&app, &t, &t.supervisor, room, text).await;
    }
    let writing = async {
        for n in 0..20 {
            send(&app, &t, &t.supervisor, room, &format!("live {n}")).await;
        }
    };
    let resume = json!({ room.to_string(): last_seen });
    let (mut agent, ()) = tokio::join!(Socket::open_resuming(&app, &t, &t.agent, resume), writing);
    let last = event_seq(&app, &t, &t.agent, room).await;
    let mut seqs = Vec::new();
    while seqs.last() != Some(&last) {
        let frame = agent.next().await;
        if frame["type"] == "message.created" {
            seqs.push(frame["seq"].as_i64().unwrap());
        }
    }
    assert_eq!(
        seqs,
        (last_seen + 1..=last).collect::<Vec<_>>(),
        "in order, each once"
    );
}

/// A socket resuming many rooms at once gets, room by room, exactly what it missed after the
/// number it gave for that room: nothing from before it, nothing for a room it has all of,
/// and `room.removed` for a room it was taken out of meanwhile or that is another account's.
#[tokio::test]
async fn a_socket_resuming_many_rooms_gets_each_room_exactly_what_it_missed() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let by = &t.supervisor;
    let [busy, quiet, left] = [
        channel(&app, &t, by, &[t.agent.id]).await,
        channel(&app, &t, by, &[t.agent.id]).await,
        channel(&app, &t, by, &[t.agent.id]).await,
    ];
    for n in 0..4 {
        send(&app, &t, by, busy, &format!("seen {n}")).await;
    }
    send(&app, &t, by, quiet, "seen").await;
    let seen = HashMap::from([
        (busy, event_seq(&app, &t, &t.agent, busy).await),
        (quiet, event_seq(&app, &t, &t.agent, quiet).await),
        (left, event_seq(&app, &t, &t.agent, left).await),
    ]);
    // Away: two messages in one room, taken out of another.
    let mut missed = Vec::new();
    for text in ["missed 1", "missed 2"] {
        missed.push(send(&app, &t, by, busy, text).await["id"].clone());
    }
    let remove = t.path(&format!("/chat/rooms/{left}/members/{}", t.agent.id));
    let removed = app.delete(&remove, &by.token).await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    let other = tenant(&app, "Globex").await;
    let foreign = channel(&app, &other, &other.supervisor, &[]).await;

    let mut resume: serde_json::Map<String, Value> = seen
        .iter()
        .map(|(room, seq)| (room.to_string(), json!(seq)))
        .collect();
    resume.insert(foreign.to_string(), json!(0));
    // The replay comes before anything live: read up to a message in a room it does not
    // resume (one it resumes could take it in its replay, as the replay reads up to now).
    let elsewhere = channel(&app, &t, by, &[t.agent.id]).await;
    let mut agent = Socket::open_resuming(&app, &t, &t.agent, Value::Object(resume)).await;
    let live = send(&app, &t, by, elsewhere, "live").await;
    let mut replayed: HashMap<Uuid, Vec<Value>> = HashMap::new();
    loop {
        let frame = agent.next().await;
        if frame["data"]["id"] == live["id"] {
            break;
        }
        let room: Uuid = frame["room_id"].as_str().unwrap().parse().unwrap();
        replayed.entry(room).or_default().push(frame);
    }

    let busy_frames = &replayed[&busy];
    let ids: Vec<&Value> = busy_frames.iter().map(|f| &f["data"]["id"]).collect();
    assert_eq!(ids, missed.iter().collect::<Vec<_>>(), "{busy_frames:?}");
    assert!(
        busy_frames
            .iter()
            .all(|f| f["seq"].as_i64().unwrap() > seen[&busy]),
        "nothing from before the number given"
    );
    assert!(!replayed.contains_key(&quiet), "{:?}", replayed.get(&quiet));
    for room in [left, foreign] {
        let types: Vec<&Value> = replayed[&room].iter().map(|f| &f["type"]).collect();
        assert_eq!(types, [&json!("room.removed")], "{room}");
    }
}

/// A ticket may resume as many rooms as it may name (1,000), all of them its person's: their
/// missed events are read together whatever their number (SQLite bounds how deep one
/// condition may nest, so a condition per room would fail here).
#[tokio::test]
async fn a_socket_resumes_as_many_rooms_as_a_ticket_may_name() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let rooms: Vec<Uuid> = futures_util::stream::iter(0..1000)
        .map(|_| channel(&app, &t, &t.agent, &[]))
        .buffer_unordered(8)
        .collect()
        .await;
    let listed = app.get(&t.path("/chat/rooms"), &t.agent.token).await;
    let resume: serde_json::Map<String, Value> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|room| {
            (
                room["id"].as_str().unwrap().to_string(),
                room["event_seq"].clone(),
            )
        })
        .collect();
    assert_eq!(resume.len(), rooms.len());
    let missed = [
        send(&app, &t, &t.agent, rooms[0], "missed").await,
        send(&app, &t, &t.agent, rooms[999], "missed").await,
    ];

    let elsewhere = channel(&app, &t, &t.agent, &[]).await;
    let mut agent = Socket::open_resuming(&app, &t, &t.agent, Value::Object(resume)).await;
    let live = send(&app, &t, &t.agent, elsewhere, "live").await;
    let mut replayed = Vec::new();
    loop {
        let frame = agent.next().await;
        if frame["data"]["id"] == live["id"] {
            break;
        }
        if frame["type"] == "message.created" {
            replayed.push(frame["data"]["id"].clone());
        }
    }
    replayed.sort_by_key(|id| id.to_string());
    let mut expected: Vec<Value> = missed.iter().map(|m| m["id"].clone()).collect();
    expected.sort_by_key(|id| id.to_string());
    assert_eq!(replayed, expected);
}

#[tokio::test]
async fn a_tickets_resume_is_checked() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let path = t.path("/realtime/tickets");
    let room = Uuid::now_v7().to_string();
    let too_many: serde_json::Map<String, Value> = (0..1001)
        .map(|_| (Uuid::now_v7().to_string(), json!(0)))
        .collect();
    for resume in [
        json!({ room.clone(): -1 }),
        Value::Object(too_many),
        json!([1]),
    ] {
        let resp = app
            .post(&path, &t.agent.token, json!({ "resume": resume }))
            .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{:?}",
            resp.body
        );
    }
    // The body may be left out (clients that follow no room), but not be anything but JSON.
    let url = format!("{}{path}", app.base);
    let bare = app
        .client
        .post(&url)
        .bearer_auth(&t.agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::CREATED);
    let text = app
        .client
        .post(&url)
        .bearer_auth(&t.agent.token)
        .header("content-type", "text/plain")
        .body("rooms")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Another tenant's room (or none) named in it is only ever "gone", as in a resume frame.
    let other = tenant(&app, "Globex").await;
    let theirs = channel(&app, &other, &other.supervisor, &[]).await;
    send(&app, &other, &other.supervisor, theirs, "secret").await;
    let mut agent =
        Socket::open_resuming(&app, &t, &t.agent, json!({ theirs.to_string(): 0 })).await;
    let frame = agent.next().await;
    assert_eq!(frame["type"], "room.removed", "{frame}");
    assert_eq!(frame["data"], json!({}));
}

#[tokio::test]
async fn a_socket_too_far_behind_is_told_to_reload_the_room() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let room = channel(&app, &t, &t.supervisor, &[t.agent.id]).await;
    for i in 0..=whatpro_hub::chat::live::REPLAY_MAX {
        send(&app, &t, &t.supervisor, room, &format!("{i}")).await;
    }
    let now = event_seq(&app, &t, &t.agent, room).await;
    let mut agent = Socket::open_in(&app, &t, &t.agent, &[room]).await;
    agent
        .send(json!({ "type": "resume", "rooms": { room.to_string(): 0 } }))
        .await;
    let frame = agent.next_event().await;
    assert_eq!(frame["type"], "resync");
    assert_eq!(frame["room_id"], json!(room));
    assert_eq!(frame["seq"], now);

    // Resuming from there goes on live.
    let last = send(&app, &t, &t.supervisor, room, "after the reload").await;
    assert_eq!(agent.next_event().await["data"]["id"], last["id"]);
}

#[tokio::test]
async fn someone_taken_out_of_a_room_is_told_and_hears_no_more() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let room = channel(&app, &t, &t.supervisor, &[t.agent.id, t.admin.id]).await;
    let mut agent = Socket::open_in(&app, &t, &t.agent, &[room]).await;
    let mut admin = Socket::open_in(&app, &t, &t.admin, &[room]).await;

    let remove = t.path(&format!("/chat/rooms/{room}/members/{}", t.agent.id));
    let removed = app.delete(&remove, &t.supervisor.token).await;
    assert_eq!(removed.status, StatusCode::OK, "{:?}", removed.body);
    let told = agent.next_event().await;
    assert_eq!(told["type"], "room.removed");
    assert_eq!(told["room_id"], json!(room));
    let seen = admin.next_event().await;
    assert_eq!(seen["type"], "room.updated");
    assert!(
        !seen["data"]["member_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(t.agent.id))
    );

    // Resuming the room now says the same, and its messages go to the others only.
    agent
        .send(json!({ "type": "resume", "rooms": { room.to_string(): 0 } }))
        .await;
    assert_eq!(agent.next_event().await["type"], "room.removed");
    let secret = send(&app, &t, &t.supervisor, room, "after you left").await;
    assert_eq!(admin.next_event().await["data"]["id"], secret["id"]);
    let mine = channel(&app, &t, &t.agent, &[]).await;
    let next = agent.next_event().await;
    assert_eq!(
        next["room_id"],
        json!(mine),
        "not the room they left: {next}"
    );
}

#[tokio::test]
async fn typing_and_read_markers_reach_the_right_sockets() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let room = channel(&app, &t, &t.supervisor, &[t.agent.id]).await;
    let elsewhere = channel(&app, &t, &t.admin, &[]).await;
    let mut agent = Socket::open_in(&app, &t, &t.agent, &[room]).await;
    let mut supervisor = Socket::open_in(&app, &t, &t.supervisor, &[room]).await;
    let mut other_tab = Socket::open_in(&app, &t, &t.supervisor, &[room]).await;

    agent
        .send(json!({ "type": "typing", "room_id": room }))
        .await;
    // Not in that room: nobody hears it.
    agent
        .send(json!({ "type": "typing", "room_id": elsewhere }))
        .await;
    let typing = supervisor.next_typing().await;
    assert_eq!(typing["type"], "typing");
    assert_eq!(typing["room_id"], json!(room));
    assert_eq!(typing["data"]["user_id"], json!(t.agent.id));
    assert_eq!(other_tab.next_typing().await["room_id"], json!(room));

    let sent = send(&app, &t, &t.agent, room, "read me").await;
    let seq = sent["seq"].as_i64().unwrap();
    assert_eq!(supervisor.next_event().await["type"], "message.created");
    assert_eq!(other_tab.next_event().await["type"], "message.created");
    let read = t.path(&format!("/chat/rooms/{room}/read"));
    let marked = app
        .post(&read, &t.supervisor.token, json!({ "seq": seq }))
        .await;
    assert_eq!(marked.status, StatusCode::OK, "{:?}", marked.body);
    for socket in [&mut supervisor, &mut other_tab] {
        let frame = socket.next_event().await;
        assert_eq!(frame["type"], "read");
        assert_eq!(frame["data"]["last_read_seq"], seq);
        assert_eq!(frame["data"]["unread_count"], 0);
    }
    // The agent's next frame is not the supervisor's marker (nor the typing it sent).
    let last = send(&app, &t, &t.supervisor, room, "next").await;
    assert_eq!(agent.next_event().await["data"]["id"], sent["id"]);
    assert_eq!(agent.next_event().await["data"]["id"], last["id"]);
}

#[tokio::test]
async fn the_socket_carries_board_changes_too() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let board = app
        .post(
            &t.path("/boards"),
            &t.admin.token,
            json!({ "name": "Sales" }),
        )
        .await;
    assert_eq!(board.status, StatusCode::CREATED, "{:?}", board.body);
    let mut agent = Socket::open(&app, &t, &t.agent).await;
    let cards = t.path(&format!(
        "/boards/{}/cards",
        board.body["id"].as_str().unwrap()
    ));
    let card = app
        .post(&cards, &t.agent.token, json!({ "title": "Seen live" }))
        .await;
    assert_eq!(card.status, StatusCode::CREATED, "{:?}", card.body);
    let frame = agent.next_event().await;
    assert_eq!(frame["type"], "board");
    assert_eq!(frame["data"]["board_id"], board.body["id"]);
    assert_eq!(frame["data"]["cards"], json!([card.body["id"]]));
}

#[tokio::test]
async fn a_socket_ends_with_its_session() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let mut agent = Socket::open(&app, &t, &t.agent).await;
    let logout = app
        .post("/api/v1/auth/logout", &t.agent.token, json!({}))
        .await;
    assert!(logout.status.is_success(), "{:?}", logout.body);
    let end = agent.next().await;
    assert_eq!(end["type"], "end");
    assert_eq!(end["data"]["code"], "session_revoked");
    assert_eq!(agent.closed().await.0, CloseCode::from(4001));
}

/// A replica shutting down closes its sockets with "restarting" (the client reconnects
/// elsewhere and resumes) rather than holding the shutdown up, however long they had been
/// open and whatever they had carried.
#[tokio::test]
async fn a_socket_is_closed_as_its_server_shuts_down() {
    // A drain limit past the socket's patience: only the close itself ends the socket in time.
    let mut app = TestApp::spawn_with(&[("SHUTDOWN_TIMEOUT_SECS", "60")]).await;
    let t = tenant(&app, "Acme").await;
    let room = channel(&app, &t, &t.admin, &[t.agent.id]).await;
    let mut agent = Socket::open(&app, &t, &t.agent).await;
    for text in ["one", "two"] {
        send(&app, &t, &t.admin, room, text).await;
        while agent.next_event().await["type"] != "message.created" {}
    }
    app.shutdown.cancel();
    assert_eq!(agent.closed().await.0, CloseCode::Restart);
    app.stop().await;
}

#[tokio::test]
async fn the_handshake_checks_origin_ticket_and_protocol() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let ticket = ticket(&app, &t, &t.agent).await;

    // A plain GET is refused without spending the ticket.
    let plain = app
        .client
        .get(format!("{}/api/v1/realtime/ws?ticket={ticket}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), StatusCode::BAD_REQUEST);
    let problem: Value = plain.json().await.unwrap();
    assert_eq!(problem["code"], "websocket_required");

    // Another site's page may not open it (cross-site WebSocket hijacking).
    let mut request = ws_url(&app, &ticket).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let refused = connect_async(request).await.unwrap_err();
    assert!(refused.to_string().contains("403"), "{refused}");

    // The hub's own origin may, once.
    let mut request = ws_url(&app, &ticket).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", app.base.parse().unwrap());
    connect_async(request).await.expect("the hub's own page");
    let again = connect_async(ws_url(&app, &ticket)).await.unwrap_err();
    assert!(again.to_string().contains("401"), "{again}");
}

#[tokio::test]
async fn frames_from_the_client_are_bounded_and_checked() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let mut agent = Socket::open(&app, &t, &t.agent).await;
    agent.send(json!({ "type": "shout" })).await;
    let error = agent.next().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["data"]["code"], "unreadable_frame");

    // Past 16 KiB the server closes the socket rather than buffer it.
    let big = "x".repeat(whatpro_hub::realtime::MAX_CLIENT_FRAME + 1);
    agent.ws.send(Message::Text(big.into())).await.unwrap();
    let (code, _) = agent.closed().await;
    assert_eq!(code, CloseCode::Size);
}

#[tokio::test]
async fn a_message_sent_on_one_replica_reaches_sockets_on_another() {
    if postgres_url().is_none() {
        return; // SQLite is one process: there is no other replica.
    }
    let app = TestApp::spawn().await;
    let replica = app.replica().await;
    let t = tenant(&app, "Acme").await;
    let room = channel(&app, &t, &t.supervisor, &[t.agent.id]).await;
    let mut on_replica = Socket::open_in(&replica, &t, &t.agent, &[room]).await;
    let mut on_origin = Socket::open_in(&app, &t, &t.agent, &[room]).await;
    let sent = send(&app, &t, &t.supervisor, room, "everywhere").await;
    for socket in [&mut on_replica, &mut on_origin] {
        assert_eq!(socket.next_event().await["data"]["id"], sent["id"]);
    }
}

#[tokio::test]
async fn edits_deletes_reactions_and_replies_arrive_as_updates_in_order() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let room = channel(&app, &t, &t.supervisor, &[t.agent.id]).await;
    let mut agent = Socket::open_in(&app, &t, &t.agent, &[room]).await;
    let sent = send(&app, &t, &t.supervisor, room, "draft").await;
    let id = sent["id"].as_str().unwrap().to_string();
    let created = agent.next_event().await;
    assert_eq!(created["type"], "message.created");
    let mut seq = created["seq"].as_i64().unwrap();

    // Frames are built from the message as it is when they are sent, so each step is
    // read before the next is made.
    let message = t.path(&format!("/chat/rooms/{room}/messages/{id}"));
    let mut next = async |agent: &mut Socket| {
        let frame = agent.next_event().await;
        seq += 1;
        assert_eq!(frame["seq"], seq, "numbered without gaps: {frame}");
        frame
    };
    let edited = app
        .patch(&message, &t.supervisor.token, json!({ "body": "final" }))
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    let frame = next(&mut agent).await;
    assert_eq!(frame["type"], "message.updated");
    assert_eq!(frame["data"]["body"], "final");
    assert!(frame["data"]["edited_at"].is_string());

    let reacted = app
        .put(
            &format!("{message}/reactions/%F0%9F%91%8D"),
            &t.agent.token,
            json!({}),
        )
        .await;
    assert_eq!(reacted.status, StatusCode::OK, "{:?}", reacted.body);
    let frame = next(&mut agent).await;
    assert_eq!(frame["data"]["reactions"][0]["emoji"], "👍");

    let reply = json!({ "body": "agreed", "client_id": "r1", "parent_id": id });
    let path = t.path(&format!("/chat/rooms/{room}/messages"));
    let replied = app.post(&path, &t.agent.token, reply).await;
    assert_eq!(replied.status, StatusCode::CREATED, "{:?}", replied.body);
    let frame = next(&mut agent).await;
    assert_eq!(frame["type"], "message.created");
    assert_eq!(frame["data"]["parent_id"], json!(id));
    let frame = next(&mut agent).await;
    assert_eq!(frame["type"], "message.updated");
    assert_eq!(frame["data"]["reply_count"], 1);

    let deleted = app.delete(&message, &t.supervisor.token).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    let frame = next(&mut agent).await;
    assert_eq!(frame["data"]["deleted"], true);
    assert_eq!(frame["data"]["body"], "");
}
