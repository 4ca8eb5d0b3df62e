//! Team chat, first slice (issue 16, ADR 23): rooms, messages numbered per room, an
//! idempotent send, cursor paging, read markers and the unread badge.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Caller, Tenant, TestApp};

async fn room(app: &TestApp, t: &Tenant, by: &Caller, body: Value) -> Value {
    let resp = app.post(&t.path("/chat/rooms"), &by.token, body).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body
}

pub(crate) async fn channel(
    app: &TestApp,
    t: &Tenant,
    by: &Caller,
    private: bool,
    members: &[Uuid],
) -> Uuid {
    let body =
        json!({ "kind": "channel", "name": "deals", "private": private, "member_ids": members });
    room(app, t, by, body).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

pub(crate) fn messages_path(t: &Tenant, room: Uuid) -> String {
    t.path(&format!("/chat/rooms/{room}/messages"))
}

pub(crate) async fn send(app: &TestApp, t: &Tenant, by: &Caller, room: Uuid, text: &str) -> Value {
    let body = json!({ "body": text, "client_id": Uuid::new_v4().to_string() });
    let resp = app.post(&messages_path(t, room), &by.token, body).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body
}

pub(crate) fn seqs(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_direct_room_is_one_per_set_of_people() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;

    let first = room(
        &app,
        &t,
        &t.agent,
        json!({ "kind": "direct", "member_ids": [t.supervisor.id] }),
    )
    .await;
    assert_eq!(first["kind"], "direct");
    assert_eq!(first["private"], true);
    assert_eq!(first["name"], Value::Null);
    let mut members: Vec<_> = first["member_ids"].as_array().unwrap().clone();
    members.sort_by_key(|m| m.as_str().unwrap().to_string());
    let mut expected = vec![json!(t.agent.id), json!(t.supervisor.id)];
    expected.sort_by_key(|m| m.as_str().unwrap().to_string());
    assert_eq!(members, expected);

    // The other person opening it (naming the caller too, in any order) gets the same room.
    let again = app
        .post(
            &t.path("/chat/rooms"),
            &t.supervisor.token,
            json!({ "kind": "direct", "member_ids": [t.agent.id, t.supervisor.id] }),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["id"], first["id"]);

    // A group DM of the same two plus one is another room.
    let group = room(
        &app,
        &t,
        &t.agent,
        json!({ "kind": "direct", "member_ids": [t.supervisor.id, t.admin.id] }),
    )
    .await;
    assert_ne!(group["id"], first["id"]);
    assert_eq!(group["member_ids"].as_array().unwrap().len(), 3);

    // Only its people see a direct room: the admin gets 404, and does not list it.
    let id = first["id"].as_str().unwrap();
    app.get(&t.path(&format!("/chat/rooms/{id}")), &t.admin.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let listed = app.get(&t.path("/chat/rooms"), &t.admin.token).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.body.to_string().contains(id));
    let listed = app.get(&t.path("/chat/rooms"), &t.agent.token).await;
    assert_eq!(listed.body.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_private_room_is_not_found_by_others_and_a_public_one_is_joined_by_posting() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let private = channel(&app, &t, &t.admin, true, &[t.supervisor.id]).await;
    send(&app, &t, &t.admin, private, "numbers for Q3").await;

    for path in [
        format!("/chat/rooms/{private}"),
        format!("/chat/rooms/{private}/messages"),
    ] {
        app.get(&t.path(&path), &t.agent.token)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    app.post(
        &messages_path(&t, private),
        &t.agent.token,
        json!({ "body": "let me in", "client_id": "x" }),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.post(
        &t.path(&format!("/chat/rooms/{private}/read")),
        &t.agent.token,
        json!({ "seq": 1 }),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let seen = app
        .get(
            &t.path(&format!("/chat/rooms/{private}")),
            &t.supervisor.token,
        )
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
    assert_eq!(seen.body["unread_count"], 1);

    // A public channel: anyone in the account reads it; posting joins.
    let public = channel(&app, &t, &t.admin, false, &[]).await;
    send(&app, &t, &t.admin, public, "hello all").await;
    let page = app.get(&messages_path(&t, public), &t.agent.token).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(seqs(&page.body), vec![1]);
    send(&app, &t, &t.agent, public, "hi").await;
    let seen = app
        .get(&t.path(&format!("/chat/rooms/{public}")), &t.agent.token)
        .await;
    assert!(
        seen.body["member_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(t.agent.id))
    );
    assert_eq!(seen.body["unread_count"], 0);
}

/// A plain message is written without its room being read first (the write checks the room
/// itself): a person in two accounts, in a room of one, sends nothing into it through the
/// other, whose rooms it is not among.
#[tokio::test]
async fn a_room_takes_messages_only_through_its_own_account() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let both = app.user("both@hub.test", false).await;
    for tenant in [&acme, &globex] {
        app.join(tenant.id, both.id, "agent").await;
    }
    let id = channel(&app, &globex, &globex.admin, true, &[both.id]).await;

    let body = json!({ "body": "wrong door", "client_id": "c-1" });
    let through_acme = app
        .post(&messages_path(&acme, id), &both.token, body.clone())
        .await;
    through_acme.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let page = app.get(&messages_path(&globex, id), &both.token).await;
    assert_eq!(seqs(&page.body), Vec::<i64>::new(), "nothing stored");

    let through_globex = app
        .post(&messages_path(&globex, id), &both.token, body)
        .await;
    assert_eq!(
        through_globex.status,
        StatusCode::CREATED,
        "{:?}",
        through_globex.body
    );
    assert_eq!(through_globex.body["seq"], 1, "no number taken before");
}

#[tokio::test]
async fn a_resend_with_the_same_client_id_returns_the_stored_message() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let id = channel(&app, &t, &t.admin, false, &[t.agent.id]).await;

    let body = json!({ "body": "**shipped**", "client_id": "c-1" });
    let first = app
        .post(&messages_path(&t, id), &t.agent.token, body.clone())
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["seq"], 1);
    assert_eq!(first.body["body"], "**shipped**");
    assert_eq!(first.body["author_id"], json!(t.agent.id));
    assert_eq!(first.body["deleted"], false);
    assert_eq!(first.body["reactions"], json!([]));
    let again = app
        .post(&messages_path(&t, id), &t.agent.token, body.clone())
        .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body, first.body);

    // The same key from someone else is their own message.
    let other = app.post(&messages_path(&t, id), &t.admin.token, body).await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_eq!(other.body["seq"], 2);

    let page = app.get(&messages_path(&t, id), &t.agent.token).await;
    assert_eq!(seqs(&page.body), vec![1, 2]);
    let room = app
        .get(&t.path(&format!("/chat/rooms/{id}")), &t.agent.token)
        .await;
    assert_eq!(room.body["last_seq"], 2);
}

#[tokio::test]
async fn concurrent_sends_get_distinct_consecutive_seqs() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let id = channel(&app, &t, &t.admin, false, &[t.agent.id, t.supervisor.id]).await;

    let senders = [&t.admin, &t.agent, &t.supervisor];
    let sends = (0..30).map(|i| {
        // Every fifth send is a retry of the one before, racing it.
        let k = if i % 5 == 4 { i - 1 } else { i };
        let by = senders[k % 3];
        let client_id = format!("k-{k}");
        let body = json!({ "body": format!("message {i}"), "client_id": client_id });
        let path = messages_path(&t, id);
        let app = &app;
        async move { app.post(&path, &by.token, body).await }
    });
    let answers = futures_util::future::join_all(sends).await;
    for resp in &answers {
        assert!(
            resp.status == StatusCode::CREATED || resp.status == StatusCode::OK,
            "{:?}",
            resp.body
        );
    }
    let page = app
        .get(
            &format!("{}?limit=200", messages_path(&t, id)),
            &t.agent.token,
        )
        .await;
    let got = seqs(&page.body);
    let made = answers
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(
        made, 24,
        "each retry answered the message its first attempt made"
    );
    assert_eq!(got, (1..=made as i64).collect::<Vec<_>>());
    // Each (author, client_id) made one message.
    let mut keys: Vec<(String, String)> = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["author_id"].as_str().unwrap().to_string(),
                m["client_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let before = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), before);
    let room = app
        .get(&t.path(&format!("/chat/rooms/{id}")), &t.agent.token)
        .await;
    assert_eq!(room.body["last_seq"], made as i64);
}

#[tokio::test]
async fn messages_page_both_ways_by_seq() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let id = channel(&app, &t, &t.admin, false, &[]).await;
    for i in 1..=7 {
        send(&app, &t, &t.admin, id, &format!("m{i}")).await;
    }
    let path = messages_path(&t, id);
    let get = |query: &str| {
        let url = format!("{path}?{query}");
        let app = &app;
        let token = t.admin.token.clone();
        async move { app.get(&url, &token).await }
    };
    let latest = get("limit=3").await;
    assert_eq!(seqs(&latest.body), vec![5, 6, 7]);
    assert_eq!(latest.body["has_more"], true);
    let older = get("limit=3&before=5").await;
    assert_eq!(seqs(&older.body), vec![2, 3, 4]);
    assert_eq!(older.body["has_more"], true);
    let oldest = get("limit=3&before=2").await;
    assert_eq!(seqs(&oldest.body), vec![1]);
    assert_eq!(oldest.body["has_more"], false);
    let newer = get("limit=4&after=2").await;
    assert_eq!(seqs(&newer.body), vec![3, 4, 5, 6]);
    assert_eq!(newer.body["has_more"], true);
    let newest = get("limit=4&after=6").await;
    assert_eq!(seqs(&newest.body), vec![7]);
    assert_eq!(newest.body["has_more"], false);
    assert_eq!(newest.body["items"][0]["body"], "m7");

    get("limit=0")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    get("before=3&after=1")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn the_read_marker_moves_forward_only_and_feeds_the_badge() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let unread = |who: &Caller| {
        let path = t.path("/chat/unread");
        let token = who.token.clone();
        let app = &app;
        async move { app.get(&path, &token).await.body }
    };
    assert_eq!(
        unread(&t.agent).await,
        json!({ "count": 0, "unread_count": 0, "unread_mentions": 0, "rooms": 0 })
    );
    let a = channel(&app, &t, &t.admin, false, &[t.agent.id]).await;
    let b = room(
        &app,
        &t,
        &t.supervisor,
        json!({ "kind": "direct", "member_ids": [t.agent.id] }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .parse::<Uuid>()
        .unwrap();
    for i in 0..5 {
        send(&app, &t, &t.admin, a, &format!("a{i}")).await;
    }
    send(&app, &t, &t.supervisor, b, "psst").await;
    assert_eq!(
        unread(&t.agent).await,
        json!({ "count": 6, "unread_count": 6, "unread_mentions": 0, "rooms": 2 })
    );
    // The senders read what they wrote.
    assert_eq!(unread(&t.admin).await["unread_count"], 0);

    let read = |seq: i64| {
        let path = t.path(&format!("/chat/rooms/{a}/read"));
        let token = t.agent.token.clone();
        let app = &app;
        async move { app.post(&path, &token, json!({ "seq": seq })).await }
    };
    let marked = read(3).await;
    assert_eq!(marked.status, StatusCode::OK, "{:?}", marked.body);
    assert_eq!(marked.body["unread_count"], 2);
    // Backwards is ignored; past the end stops at the end.
    assert_eq!(read(1).await.body["unread_count"], 2);
    assert_eq!(
        unread(&t.agent).await,
        json!({ "count": 3, "unread_count": 3, "unread_mentions": 0, "rooms": 2 })
    );
    assert_eq!(read(99).await.body["unread_count"], 0);
    assert_eq!(
        unread(&t.agent).await,
        json!({ "count": 1, "unread_count": 1, "unread_mentions": 0, "rooms": 1 })
    );
    let listed = app.get(&t.path("/chat/rooms"), &t.agent.token).await;
    let dm = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == json!(b))
        .unwrap();
    assert_eq!(dm["unread_count"], 1);
    read(-1)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn the_feature_flag_off_closes_every_chat_route() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let id = channel(&app, &t, &t.admin, false, &[]).await;
    let set = app
        .put(
            &t.path("/entitlements"),
            &root.token,
            json!({ "features": { "internal_chat_enabled": false } }),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);

    let gets = [
        "/chat/rooms".to_string(),
        format!("/chat/rooms/{id}"),
        format!("/chat/rooms/{id}/messages"),
        "/chat/unread".to_string(),
    ];
    for path in gets {
        app.get(&t.path(&path), &t.agent.token)
            .await
            .assert_problem(StatusCode::FORBIDDEN, "feature_disabled");
    }
    let posts = [
        (
            "/chat/rooms".to_string(),
            json!({ "kind": "channel", "name": "x", "member_ids": [] }),
        ),
        (
            format!("/chat/rooms/{id}/messages"),
            json!({ "body": "x", "client_id": "x" }),
        ),
        (format!("/chat/rooms/{id}/read"), json!({ "seq": 0 })),
    ];
    for (path, body) in posts {
        app.post(&t.path(&path), &t.agent.token, body)
            .await
            .assert_problem(StatusCode::FORBIDDEN, "feature_disabled");
    }
}

#[tokio::test]
async fn bad_input_is_a_validation_problem() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let rooms = t.path("/chat/rooms");
    let cases = [
        (json!({ "kind": "channel", "member_ids": [] }), "name"),
        (
            json!({ "kind": "channel", "name": "  ", "member_ids": [] }),
            "name",
        ),
        (json!({ "kind": "lounge", "member_ids": [] }), "kind"),
        // A direct room with only the caller, or more than 8 people.
        (
            json!({ "kind": "direct", "member_ids": [t.agent.id] }),
            "member_ids",
        ),
        (
            json!({ "kind": "direct", "member_ids": (0..8).map(|_| Uuid::now_v7()).collect::<Vec<_>>() }),
            "member_ids",
        ),
        // Someone who is not in the account.
        (
            json!({ "kind": "channel", "name": "x", "member_ids": [Uuid::now_v7()] }),
            "member_ids",
        ),
    ];
    for (body, field) in cases {
        let resp = app.post(&rooms, &t.agent.token, body.clone()).await;
        resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(
            resp.error_fields().contains(&field),
            "{body}: {:?}",
            resp.body
        );
    }
    app.post(
        &rooms,
        &t.agent.token,
        json!({ "kind": "team", "member_ids": [] }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // A deactivated member cannot be added.
    let gone = app
        .post(
            &t.path(&format!("/users/{}/deactivate", t.supervisor.id)),
            &t.admin.token,
            json!({}),
        )
        .await;
    assert!(gone.status.is_success(), "{:?}", gone.body);
    let resp = app
        .post(
            &rooms,
            &t.agent.token,
            json!({ "kind": "direct", "member_ids": [t.supervisor.id] }),
        )
        .await;
    resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let id = channel(&app, &t, &t.admin, false, &[]).await;
    let long = "x".repeat(10_001);
    let messages = messages_path(&t, id);
    let cases = [
        (json!({ "body": "", "client_id": "a" }), "body"),
        (json!({ "body": "   ", "client_id": "a" }), "body"),
        (json!({ "body": long, "client_id": "a" }), "body"),
        (json!({ "body": "ok", "client_id": "" }), "client_id"),
        (json!({ "body": "ok" }), "client_id"),
        (
            json!({ "body": "ok", "client_id": "a", "bodi": "x" }),
            "bodi",
        ),
        (
            json!({ "body": "ok", "client_id": "k".repeat(65) }),
            "client_id",
        ),
        (
            json!({ "body": "ok", "client_id": "a", "parent_id": Uuid::now_v7() }),
            "parent_id",
        ),
    ];
    for (body, field) in cases {
        let resp = app.post(&messages, &t.admin.token, body.clone()).await;
        resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(resp.error_fields().contains(&field), "{:?}", resp.body);
    }
    // Exactly 10,000 characters (multi-byte ones too) is fine; a reply names its parent.
    let full = send(&app, &t, &t.admin, id, &"é".repeat(10_000)).await;
    let reply = app
        .post(
            &messages,
            &t.admin.token,
            json!({ "body": "re", "client_id": "r", "parent_id": full["id"] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["parent_id"], full["id"]);
    // Nothing failed took a seq.
    assert_eq!(reply.body["seq"], 2);
}

#[tokio::test]
async fn another_accounts_people_and_rooms_are_refused() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let other = app.tenant(&root, "Rival Corp").await;
    let theirs = channel(&app, &other, &other.admin, false, &[]).await;
    let theirs_msg = send(&app, &other, &other.admin, theirs, "rival plans").await;

    // Their people cannot be added here, to a DM or a channel.
    for body in [
        json!({ "kind": "direct", "member_ids": [other.agent.id] }),
        json!({ "kind": "channel", "name": "mixed", "member_ids": [t.agent.id, other.agent.id] }),
    ] {
        app.post(&t.path("/chat/rooms"), &t.admin.token, body)
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    // Their public room, under our account or theirs, is not found.
    for path in [
        t.path(&format!("/chat/rooms/{theirs}")),
        t.path(&format!("/chat/rooms/{theirs}/messages")),
        other.path(&format!("/chat/rooms/{theirs}")),
        other.path("/chat/rooms"),
    ] {
        app.get(&path, &t.admin.token)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    app.post(
        &t.path(&format!("/chat/rooms/{theirs}/messages")),
        &t.admin.token,
        json!({ "body": "hi", "client_id": "x" }),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    // Their message cannot be a parent here.
    let ours = channel(&app, &t, &t.admin, false, &[]).await;
    app.post(
        &messages_path(&t, ours),
        &t.admin.token,
        json!({ "body": "re", "client_id": "x", "parent_id": theirs_msg["id"] }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let listed = app.get(&t.path("/chat/rooms"), &t.admin.token).await;
    assert!(!listed.body.to_string().contains(&theirs.to_string()));
}

/// A channel's people: its owner adds and removes them, a member only leaves; someone added
/// starts with nothing unread; a direct room keeps its people.
#[tokio::test]
async fn a_channels_owner_manages_its_people() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let other = app.tenant(&root, "Other Corp").await;
    let private = channel(&app, &t, &t.admin, true, &[t.agent.id]).await;
    send(&app, &t, &t.admin, private, "before you came").await;
    let members = t.path(&format!("/chat/rooms/{private}/members"));
    let add = |by: &Caller, ids: Vec<Uuid>| {
        let (body, token) = (json!({ "user_ids": ids }), by.token.clone());
        let members = &members;
        let app = &app;
        async move { app.post(members, &token, body).await }
    };
    add(&t.supervisor, vec![t.supervisor.id])
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    add(&t.agent, vec![t.supervisor.id])
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    add(&t.admin, vec![other.agent.id])
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let added = add(&t.admin, vec![t.supervisor.id]).await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);
    assert!(
        added.body["member_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(t.supervisor.id))
    );
    let seen = app
        .get(
            &t.path(&format!("/chat/rooms/{private}")),
            &t.supervisor.token,
        )
        .await;
    assert_eq!(
        seen.body["unread_count"], 0,
        "history is not news to a newcomer"
    );
    let member = |user: Uuid| t.path(&format!("/chat/rooms/{private}/members/{user}"));
    app.delete(&member(t.admin.id), &t.agent.token)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let left = app
        .delete(&member(t.supervisor.id), &t.supervisor.token)
        .await;
    assert_eq!(left.status, StatusCode::OK, "{:?}", left.body);
    assert!(
        !left.body["member_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(t.supervisor.id))
    );
    app.get(
        &t.path(&format!("/chat/rooms/{private}")),
        &t.supervisor.token,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let direct = room(
        &app,
        &t,
        &t.agent,
        json!({ "kind": "direct", "member_ids": [t.admin.id] }),
    )
    .await;
    let direct_members = t.path(&format!(
        "/chat/rooms/{}/members",
        direct["id"].as_str().unwrap()
    ));
    app.post(
        &direct_members,
        &t.agent.token,
        json!({ "user_ids": [t.supervisor.id] }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "direct_room_fixed");
}

/// A send may take the caller's access from the replica's memory of their last send (ADR
/// 33); its write checks that access again, so whatever ended or changed it since is
/// answered as on any route, and nothing is stored meanwhile.
#[tokio::test]
async fn a_send_checks_again_in_its_write_what_the_caller_was_granted() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let id = channel(&app, &t, &t.admin, false, &[t.agent.id, t.supervisor.id]).await;
    send(&app, &t, &t.agent, id, "remembered").await;
    send(&app, &t, &t.supervisor, id, "remembered").await;
    let try_send = async |by: &Caller| {
        let body = json!({ "body": "again", "client_id": Uuid::new_v4().to_string() });
        app.post(&messages_path(&t, id), &by.token, body).await
    };
    let entitlements = async |on: bool| {
        let body = json!({ "features": { "internal_chat_enabled": on } });
        app.put(&t.path("/entitlements"), &root.token, body).await
    };

    // The chat switched off, then on again: each answer is the account's as it is now.
    assert_eq!(entitlements(false).await.status, StatusCode::OK);
    try_send(&t.agent)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "feature_disabled");
    assert_eq!(entitlements(true).await.status, StatusCode::OK);
    assert_eq!(try_send(&t.agent).await.status, StatusCode::CREATED);

    // A member deactivated: refused; reactivated: sends again.
    let deactivate = t.path(&format!("/users/{}/deactivate", t.supervisor.id));
    let done = app.post(&deactivate, &t.admin.token, json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    let refused = try_send(&t.supervisor).await;
    assert!(refused.status.is_client_error(), "{:?}", refused.status);

    // A session ended.
    let logout = app
        .post("/api/v1/auth/logout", &t.agent.token, json!({}))
        .await;
    assert!(logout.status.is_success(), "{:?}", logout.body);
    try_send(&t.agent)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");

    let page = app.get(&messages_path(&t, id), &t.admin.token).await;
    assert_eq!(
        seqs(&page.body),
        vec![1, 2, 3],
        "nothing stored after a refusal"
    );
}
