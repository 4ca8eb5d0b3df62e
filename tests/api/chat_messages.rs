//! Team chat messages (issue 16, ADR 23): sanitised HTML, mentions and unread mentions,
//! edit, delete (tombstones), reactions, threads and paging around a message.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    chat::{channel, messages_path, send, seqs},
    support::{Caller, Resp, Tenant, TestApp},
};

fn message(t: &Tenant, room: Uuid, id: &Value) -> String {
    format!("{}/{}", messages_path(t, room), id.as_str().unwrap())
}

async fn post(app: &TestApp, t: &Tenant, by: &Caller, room: Uuid, body: Value) -> Resp {
    let mut body = body;
    body["client_id"] = json!(Uuid::new_v4().to_string());
    app.post(&messages_path(t, room), &by.token, body).await
}

async fn reply(app: &TestApp, t: &Tenant, by: &Caller, room: Uuid, parent: &Value) -> Value {
    let body = json!({ "body": "re", "parent_id": parent["id"] });
    let resp = post(app, t, by, room, body).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body
}

async fn patch(app: &TestApp, path: &str, by: &Caller, text: &str) -> Resp {
    let body = Some(json!({ "body": text }));
    app.request(Method::PATCH, path, Some(&by.token), body)
        .await
}

async fn room_of(app: &TestApp, t: &Tenant, by: &Caller, room: Uuid) -> Value {
    let resp = app
        .get(&t.path(&format!("/chat/rooms/{room}")), &by.token)
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body
}

async fn unread_mentions(app: &TestApp, t: &Tenant, by: &Caller) -> Value {
    app.get(&t.path("/chat/unread"), &by.token).await.body["unread_mentions"].clone()
}

async fn page(app: &TestApp, t: &Tenant, by: &Caller, room: Uuid, query: &str) -> Value {
    let resp = app
        .get(&format!("{}?{query}", messages_path(t, room)), &by.token)
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{query}: {:?}", resp.body);
    resp.body
}

fn mention_span(id: Uuid, name: &str) -> String {
    format!("<span class=\"mention\" data-user-id=\"{id}\">@{name}</span>")
}

/// Every tag of `html` is one the renderer makes, with only its attributes.
fn assert_inert(html: &str) {
    let lower = html.to_lowercase();
    for bad in [
        "<script",
        "<img",
        "<iframe",
        "<svg",
        "javascript:",
        "data:",
        " on",
        "style=",
    ] {
        let outside_text = lower
            .split('<')
            .skip(1)
            .map(|tag| tag.split('>').next().unwrap())
            .any(|tag| tag.contains(bad.trim_start_matches('<')));
        assert!(!outside_text, "{bad:?} in a tag of {html}");
    }
}

#[tokio::test]
async fn the_html_is_rendered_and_nothing_in_it_runs() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let room = channel(&app, &t, &t.admin, false, &[]).await;

    let sent = send(
        &app,
        &t,
        &t.admin,
        room,
        "**hi** [docs](https://docs.test/a)",
    )
    .await;
    assert_eq!(
        sent["html"],
        "<p><strong>hi</strong> <a href=\"https://docs.test/a\" rel=\"noopener noreferrer nofollow\">docs</a></p>\n"
    );
    let payloads = [
        "<script>alert(document.cookie)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![pixel](https://tracker.test/p.gif?u=1)",
        "<a href=\"https://x.test\" onclick=\"alert(1)\" style=\"position:fixed\">x</a>",
        "<svg onload=alert(1)>",
        "<@\"><script>alert(1)</script>>",
    ];
    for body in payloads {
        let sent = send(&app, &t, &t.admin, room, body).await;
        let html = sent["html"].as_str().unwrap();
        assert_inert(html);
        assert_eq!(sent["body"], body, "the source is kept as sent");
    }
    // The image is a link, never loaded.
    let page = page(&app, &t, &t.agent, room, "limit=200").await;
    let image = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"].as_str().unwrap().starts_with("!["))
        .unwrap();
    assert_eq!(
        image["html"],
        "<p><a href=\"https://tracker.test/p.gif?u=1\" rel=\"noopener noreferrer nofollow\">pixel</a></p>\n"
    );
    // Read back, every item carries its html, as sent.
    for item in page["items"].as_array().unwrap() {
        assert_inert(item["html"].as_str().unwrap());
    }
}

/// Mentions: only the room's members count, by exact token; another account's people, or
/// the account's people outside the room, are neither named nor counted.
#[tokio::test]
async fn only_the_rooms_members_are_mentioned() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let other = app.tenant(&root, "Rival Corp").await;
    let room = channel(&app, &t, &t.admin, true, &[t.agent.id]).await;

    let body = format!(
        "hi <@{}> <@{}> <@{}> <@{}> @agent",
        t.agent.id, t.supervisor.id, other.agent.id, t.admin.id
    );
    let sent = send(&app, &t, &t.admin, room, &body).await;
    assert_eq!(sent["mentions"], json!([t.agent.id]), "{sent}");
    assert_eq!(sent["mentions_room"], false);
    let html = sent["html"].as_str().unwrap();
    assert!(
        html.contains(&mention_span(t.agent.id, "agent of Chat Corp")),
        "{html}"
    );
    // The author's own token is shown as a mention, but does not count.
    assert!(
        html.contains(&mention_span(t.admin.id, "admin of Chat Corp")),
        "{html}"
    );
    // Others stay as typed: nobody's name, nothing of the other account.
    assert!(
        html.contains(&format!("&lt;@{}&gt;", t.supervisor.id)),
        "{html}"
    );
    assert!(
        html.contains(&format!("&lt;@{}&gt;", other.agent.id)),
        "{html}"
    );
    assert!(!html.contains("Rival"), "{html}");
    assert!(!html.contains("supervisor of"), "{html}");

    assert_eq!(
        room_of(&app, &t, &t.agent, room).await["unread_mentions"],
        1
    );
    assert_eq!(unread_mentions(&app, &t, &t.agent).await, 1);
    assert_eq!(unread_mentions(&app, &t, &t.admin).await, 0);
    assert_eq!(unread_mentions(&app, &t, &t.supervisor).await, 0);
    assert_eq!(unread_mentions(&app, &other, &other.agent).await, 0);

    // A renamed person shows their current name.
    let renamed = app
        .put(
            &t.path(&format!("/users/{}", t.agent.id)),
            &t.admin.token,
            json!({ "name": "Ana <b>Lima</b>" }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let listed = page(&app, &t, &t.admin, room, "").await;
    let html = listed["items"][0]["html"].as_str().unwrap();
    assert!(
        html.contains(&mention_span(t.agent.id, "Ana &lt;b&gt;Lima&lt;/b&gt;")),
        "{html}"
    );
}

#[tokio::test]
async fn unread_mentions_count_past_the_marker_and_reset_on_read() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let a = channel(&app, &t, &t.admin, false, &[t.agent.id]).await;
    let b = channel(&app, &t, &t.supervisor, false, &[t.agent.id]).await;
    let agent = t.agent.id;
    send(&app, &t, &t.admin, a, &format!("<@{agent}> one")).await;
    send(&app, &t, &t.admin, a, "no mention").await;
    let twice = send(&app, &t, &t.admin, a, &format!("<@{agent}> <@{agent}> two")).await;
    assert_eq!(twice["mentions"], json!([agent]), "one person, once");
    send(&app, &t, &t.supervisor, b, &format!("<@{agent}> three")).await;
    // In code, a token is text.
    send(&app, &t, &t.supervisor, b, &format!("`<@{agent}>`")).await;

    assert_eq!(room_of(&app, &t, &t.agent, a).await["unread_mentions"], 2);
    assert_eq!(room_of(&app, &t, &t.agent, b).await["unread_mentions"], 1);
    let unread = app.get(&t.path("/chat/unread"), &t.agent.token).await.body;
    assert_eq!(unread["unread_mentions"], 3, "{unread}");
    assert_eq!(unread["unread_count"], 5, "{unread}");

    let read = |room: Uuid, seq: i64| {
        let path = t.path(&format!("/chat/rooms/{room}/read"));
        let token = t.agent.token.clone();
        let app = &app;
        async move { app.post(&path, &token, json!({ "seq": seq })).await.body }
    };
    assert_eq!(read(a, 1).await["unread_mentions"], 1);
    assert_eq!(unread_mentions(&app, &t, &t.agent).await, 2);
    assert_eq!(read(a, 3).await["unread_mentions"], 0);
    assert_eq!(read(b, 99).await["unread_mentions"], 0);
    assert_eq!(unread_mentions(&app, &t, &t.agent).await, 0);
}

#[tokio::test]
async fn only_the_rooms_leads_and_admins_mention_the_room() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    // The supervisor owns it; the agent is a member; the admin is not in it (public).
    let room = channel(&app, &t, &t.supervisor, false, &[t.agent.id]).await;

    post(&app, &t, &t.agent, room, json!({ "body": "hey @room" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "room_mention_not_allowed");
    // In code, or inside a word, it is no mention and anyone may write it.
    for body in ["`@room`", "mail me@room.io", "@rooms"] {
        let sent = send(&app, &t, &t.agent, room, body).await;
        assert_eq!(sent["mentions_room"], false, "{body}");
    }
    let sent = send(&app, &t, &t.supervisor, room, "standup now, @room").await;
    assert_eq!(sent["mentions_room"], true);
    assert!(
        sent["html"]
            .as_str()
            .unwrap()
            .contains("<span class=\"mention\">@room</span>"),
        "{sent}"
    );
    assert_eq!(
        room_of(&app, &t, &t.agent, room).await["unread_mentions"],
        1
    );
    assert_eq!(
        unread_mentions(&app, &t, &t.supervisor).await,
        0,
        "not the author"
    );

    // An account admin may too (sending joins the public channel).
    let sent = send(&app, &t, &t.admin, room, "@room heads up").await;
    assert_eq!(sent["mentions_room"], true);
    assert_eq!(
        room_of(&app, &t, &t.agent, room).await["unread_mentions"],
        2
    );
    assert_eq!(
        room_of(&app, &t, &t.supervisor, room).await["unread_mentions"],
        1
    );
    // Nothing failed took a seq.
    assert_eq!(sent["seq"], 5);
}

#[tokio::test]
async fn only_the_author_edits_and_the_edit_is_rendered_again() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let other = app.tenant(&root, "Rival Corp").await;
    let room = channel(&app, &t, &t.admin, true, &[t.agent.id, t.supervisor.id]).await;
    let sent = send(
        &app,
        &t,
        &t.agent,
        room,
        &format!("ping <@{}>", t.supervisor.id),
    )
    .await;
    assert_eq!(sent["edited_at"], Value::Null);
    assert_eq!(
        room_of(&app, &t, &t.supervisor, room).await["unread_mentions"],
        1
    );
    let path = message(&t, room, &sent["id"]);

    // Not the author: 403, even for the room's owner; not in the room: 404.
    patch(&app, &path, &t.admin, "hijack")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "not_message_author");
    let outsider = app
        .post(
            &t.path("/users"),
            &t.admin.token,
            json!({ "email": "out@chat.test", "name": "Out", "role": "admin" }),
        )
        .await
        .id();
    let outsider = Caller {
        id: outsider,
        token: app.token_for(outsider).await,
    };
    patch(&app, &path, &outsider, "hijack")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    patch(&app, &path, &t.agent, "  ")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    patch(&app, &path, &t.agent, "@room")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "room_mention_not_allowed");

    let edited = patch(&app, &path, &t.agent, &format!("*pong* <@{}>", t.admin.id)).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(edited.body["body"], format!("*pong* <@{}>", t.admin.id));
    assert_eq!(
        edited.body["html"],
        format!(
            "<p><em>pong</em> {}</p>\n",
            mention_span(t.admin.id, "admin of Chat Corp")
        )
    );
    assert_eq!(edited.body["mentions"], json!([t.admin.id]));
    assert!(edited.body["edited_at"].is_string());
    assert_eq!(edited.body["seq"], sent["seq"]);
    assert_eq!(edited.body["created_at"], sent["created_at"]);
    // The mention moved from the supervisor to the admin.
    assert_eq!(
        room_of(&app, &t, &t.supervisor, room).await["unread_mentions"],
        0
    );
    assert_eq!(
        room_of(&app, &t, &t.admin, room).await["unread_mentions"],
        1
    );
    let listed = page(&app, &t, &t.supervisor, room, "").await;
    assert_eq!(listed["items"][0], edited.body);

    // The same message under another account is not found.
    let theirs = format!(
        "{}/{}",
        other.path(&format!("/chat/rooms/{room}/messages")),
        sent["id"].as_str().unwrap()
    );
    patch(&app, &theirs, &other.admin, "x")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let deleted = app.delete(&path, &t.agent.token).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    patch(&app, &path, &t.agent, "back")
        .await
        .assert_problem(StatusCode::CONFLICT, "message_deleted");
}

#[tokio::test]
async fn a_message_is_deleted_by_its_author_or_the_rooms_moderation_and_audited() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    // The supervisor owns the channel; the agent is a member; the admin is not in it.
    let room = channel(&app, &t, &t.supervisor, false, &[t.agent.id]).await;
    let admin = t.admin.id;
    let by_agent = send(
        &app,
        &t,
        &t.agent,
        room,
        &format!("<@{}> secret", t.supervisor.id),
    )
    .await;
    let path = message(&t, room, &by_agent["id"]);
    app.request(
        Method::PUT,
        &format!("{path}/reactions/%F0%9F%91%8D"),
        Some(&t.supervisor.token),
        None,
    )
    .await;
    let by_owner = send(&app, &t, &t.supervisor, room, "owner's").await;
    let own = send(&app, &t, &t.agent, room, "mine").await;
    assert_eq!(
        room_of(&app, &t, &t.supervisor, room).await["unread_mentions"],
        0
    );

    // A member deletes only their own.
    app.delete(&message(&t, room, &by_owner["id"]), &t.agent.token)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let gone = app
        .delete(&message(&t, room, &own["id"]), &t.agent.token)
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.body);

    // The owner deletes someone else's: a tombstone, audited.
    let tombstone = app.delete(&path, &t.supervisor.token).await;
    assert_eq!(tombstone.status, StatusCode::OK, "{:?}", tombstone.body);
    let tomb = &tombstone.body;
    assert_eq!(tomb["deleted"], true);
    assert_eq!((&tomb["body"], &tomb["html"]), (&json!(""), &json!("")));
    assert_eq!(tomb["reactions"], json!([]));
    assert_eq!(tomb["mentions"], json!([]));
    assert_eq!(tomb["seq"], by_agent["seq"]);
    assert_eq!(tomb["id"], by_agent["id"]);
    // Deleting again answers the tombstone.
    let again = app.delete(&path, &t.supervisor.token).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(&again.body, tomb);

    // An account admin who is not in the channel moderates it too.
    let gone = app
        .delete(&message(&t, room, &by_owner["id"]), &t.admin.token)
        .await;
    assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.body);
    let listed = page(&app, &t, &t.agent, room, "").await;
    assert_eq!(seqs(&listed), vec![1, 2, 3], "tombstones keep their place");
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["deleted"] == true)
    );
    assert!(!listed.to_string().contains("secret"));
    let joined = room_of(&app, &t, &t.admin, room).await;
    assert!(
        !joined["member_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(admin)),
        "moderating does not join"
    );

    let log = app
        .get(
            &t.path("/audit-logs?action=chat.message_deleted&limit=200"),
            &t.admin.token,
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{:?}", log.body);
    let entries = log.body["items"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        2,
        "the author's own delete is not moderation: {entries:?}"
    );
    let by_owner_entry = entries
        .iter()
        .find(|e| e["resource_id"] == by_agent["id"])
        .unwrap();
    assert_eq!(by_owner_entry["actor_user_id"], json!(t.supervisor.id));
    assert_eq!(by_owner_entry["resource_type"], "chat_message");
    assert_eq!(by_owner_entry["before"]["author_id"], json!(t.agent.id));
    assert!(
        !log.body.to_string().contains("secret"),
        "the body stays out of the log"
    );

    // In a direct room, each person deletes only their own.
    let direct = app
        .post(
            &t.path("/chat/rooms"),
            &t.agent.token,
            json!({ "kind": "direct", "member_ids": [t.supervisor.id] }),
        )
        .await
        .id();
    let dm = send(&app, &t, &t.agent, direct, "dm").await;
    app.delete(&message(&t, direct, &dm["id"]), &t.supervisor.token)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.delete(&message(&t, direct, &dm["id"]), &t.admin.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn reactions_are_one_per_person_and_emoji() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let room = channel(&app, &t, &t.admin, false, &[t.agent.id]).await;
    let sent = send(&app, &t, &t.admin, room, "ship it?").await;
    let path = message(&t, room, &sent["id"]);
    let react = |method: Method, by: &Caller, emoji: &str| {
        let url = format!("{path}/reactions/{}", encode(emoji));
        let token = by.token.clone();
        let app = &app;
        async move { app.request(method, &url, Some(&token), None).await }
    };
    let up = "👍";
    let first = react(Method::PUT, &t.agent, up).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let again = react(Method::PUT, &t.agent, up).await;
    assert_eq!(
        again.body["reactions"],
        json!([{ "emoji": up, "count": 1, "user_ids": [t.agent.id] }])
    );
    react(Method::PUT, &t.admin, "🎉").await;
    react(Method::PUT, &t.admin, up).await;
    // Reacting in a public channel joins it.
    let joined = react(Method::PUT, &t.supervisor, up).await;
    let mut thumbs = reaction(&joined.body, up);
    assert_eq!(thumbs["count"], 3, "{}", joined.body);
    assert_eq!(
        sorted(&thumbs["user_ids"]),
        sorted(&json!([t.agent.id, t.admin.id, t.supervisor.id]))
    );
    assert_eq!(
        reaction(&joined.body, "🎉")["user_ids"],
        json!([t.admin.id])
    );
    assert!(
        room_of(&app, &t, &t.supervisor, room).await["member_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(t.supervisor.id))
    );
    let removed = react(Method::DELETE, &t.agent, up).await;
    assert_eq!(removed.status, StatusCode::OK);
    thumbs = reaction(&removed.body, up);
    assert_eq!(
        sorted(&thumbs["user_ids"]),
        sorted(&json!([t.admin.id, t.supervisor.id]))
    );
    // Taking away what is not there changes nothing; the order holds from read to read.
    let removed = react(Method::DELETE, &t.agent, up).await;
    assert_eq!(reaction(&removed.body, up)["count"], 2);
    let listed = page(&app, &t, &t.agent, room, "").await;
    assert_eq!(listed["items"][0]["reactions"], removed.body["reactions"]);

    for bad in ["a", "👍👍", "+1", ":thumbsup:", &"x".repeat(200)] {
        react(Method::PUT, &t.agent, bad)
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    let other = format!(
        "{}/reactions/{}",
        message(&t, room, &json!(Uuid::now_v7())),
        encode(up)
    );
    app.request(Method::PUT, &other, Some(&t.agent.token), None)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.delete(&path, &t.admin.token).await;
    react(Method::PUT, &t.agent, up)
        .await
        .assert_problem(StatusCode::CONFLICT, "message_deleted");
}

fn reaction(message: &Value, emoji: &str) -> Value {
    let all = message["reactions"].as_array().unwrap();
    let found: Vec<&Value> = all.iter().filter(|r| r["emoji"] == emoji).collect();
    assert_eq!(found.len(), 1, "{message}");
    found[0].clone()
}

fn sorted(ids: &Value) -> Vec<String> {
    let mut ids: Vec<String> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn encode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn threads_are_one_level_deep_and_counted_in_their_parent() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let other = app.tenant(&root, "Rival Corp").await;
    let room = channel(&app, &t, &t.admin, false, &[t.agent.id]).await;
    let elsewhere = channel(&app, &t, &t.admin, false, &[]).await;
    let theirs_room = channel(&app, &other, &other.admin, false, &[]).await;
    let theirs = send(&app, &other, &other.admin, theirs_room, "theirs").await;

    let root_msg = send(&app, &t, &t.admin, room, "topic").await;
    assert_eq!(
        (&root_msg["reply_count"], &root_msg["last_reply_at"]),
        (&json!(0), &Value::Null)
    );
    let first = reply(&app, &t, &t.agent, room, &root_msg).await;
    send(&app, &t, &t.admin, room, "top 2").await;
    let second = reply(&app, &t, &t.admin, room, &root_msg).await;
    assert_eq!(second["parent_id"], root_msg["id"]);

    for parent in [
        &first["id"],
        &theirs["id"],
        &send(&app, &t, &t.admin, elsewhere, "x").await["id"],
    ] {
        post(
            &app,
            &t,
            &t.agent,
            room,
            json!({ "body": "deep", "parent_id": parent }),
        )
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }

    // The timeline lists top-level messages only; the parent carries the count.
    let timeline = page(&app, &t, &t.agent, room, "").await;
    assert_eq!(seqs(&timeline), vec![1, 3]);
    let parent = &timeline["items"][0];
    assert_eq!(parent["reply_count"], 2);
    assert_eq!(parent["last_reply_at"], second["created_at"]);
    let thread = page(
        &app,
        &t,
        &t.agent,
        room,
        &format!("parent_id={}", root_msg["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(seqs(&thread), vec![2, 4]);
    assert_eq!(thread["items"][0]["id"], first["id"]);

    // A deleted reply stays in the thread as a tombstone; a deleted parent keeps its thread.
    app.delete(&message(&t, room, &first["id"]), &t.agent.token)
        .await;
    app.delete(&message(&t, room, &root_msg["id"]), &t.admin.token)
        .await;
    let thread = page(
        &app,
        &t,
        &t.agent,
        room,
        &format!("parent_id={}", root_msg["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(seqs(&thread), vec![2, 4]);
    assert_eq!(thread["items"][0]["deleted"], true);
    let timeline = page(&app, &t, &t.agent, room, "").await;
    assert_eq!(timeline["items"][0]["deleted"], true);
    assert_eq!(timeline["items"][0]["reply_count"], 2);
    // Replying under a deleted message still works.
    reply(&app, &t, &t.agent, room, &root_msg).await;

    // A thread of another room or account is not found here.
    for parent in [&theirs["id"], &json!(Uuid::now_v7())] {
        app.get(
            &format!(
                "{}?parent_id={}",
                messages_path(&t, room),
                parent.as_str().unwrap()
            ),
            &t.agent.token,
        )
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn a_page_opens_around_a_message() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Chat Corp").await;
    let other = app.tenant(&root, "Rival Corp").await;
    let room = channel(&app, &t, &t.admin, false, &[]).await;
    let mut sent = Vec::new();
    for i in 1..=9 {
        sent.push(send(&app, &t, &t.admin, room, &format!("m{i}")).await);
    }
    let id = |i: usize| sent[i - 1]["id"].as_str().unwrap().to_string();
    let around = |query: String| {
        let (app, t) = (&app, &t);
        async move { page(app, t, &t.admin, room, &format!("around={query}")).await }
    };

    let mid = around(format!("{}&limit=4", id(5))).await;
    assert_eq!(seqs(&mid), vec![3, 4, 5, 6]);
    assert_eq!(
        (&mid["has_older"], &mid["has_newer"], &mid["has_more"]),
        (&json!(true), &json!(true), &json!(true))
    );
    // Up to limit / 2 on each side: near an end, the page is shorter.
    let start = around(format!("{}&limit=5", id(1))).await;
    assert_eq!(seqs(&start), vec![1, 2, 3]);
    assert_eq!(
        (&start["has_older"], &start["has_newer"]),
        (&json!(false), &json!(true))
    );
    let end = around(format!("{}&limit=6", id(9))).await;
    assert_eq!(seqs(&end), vec![6, 7, 8, 9]);
    assert_eq!(
        (&end["has_older"], &end["has_newer"]),
        (&json!(true), &json!(false))
    );
    let one = around(format!("{}&limit=1", id(4))).await;
    assert_eq!(seqs(&one), vec![4]);

    // The other cursors tell both directions too.
    let latest = page(&app, &t, &t.admin, room, "limit=3").await;
    assert_eq!(
        (&latest["has_older"], &latest["has_newer"]),
        (&json!(true), &json!(false))
    );
    let older = page(&app, &t, &t.admin, room, "limit=3&before=4").await;
    assert_eq!(seqs(&older), vec![1, 2, 3]);
    assert_eq!(
        (&older["has_older"], &older["has_newer"], &older["has_more"]),
        (&json!(false), &json!(true), &json!(false))
    );
    let newer = page(&app, &t, &t.admin, room, "limit=3&after=6").await;
    assert_eq!(seqs(&newer), vec![7, 8, 9]);
    assert_eq!(
        (&newer["has_older"], &newer["has_newer"], &newer["has_more"]),
        (&json!(true), &json!(false), &json!(false))
    );

    // Around a reply: the timeline around its thread; in the thread, around it.
    let answer = reply(&app, &t, &t.admin, room, &sent[2]).await;
    let answer_id = answer["id"].as_str().unwrap();
    let timeline = around(format!("{answer_id}&limit=3")).await;
    assert_eq!(seqs(&timeline), vec![2, 3, 4]);
    let thread = around(format!("{answer_id}&parent_id={}", id(3))).await;
    assert_eq!(seqs(&thread), vec![10]);

    // Another account's message, an unknown one, or a message outside the thread: 404.
    let theirs_room = channel(&app, &other, &other.admin, false, &[]).await;
    let theirs = send(&app, &other, &other.admin, theirs_room, "theirs").await;
    for query in [
        format!("around={}", theirs["id"].as_str().unwrap()),
        format!("around={}", Uuid::now_v7()),
        format!("around={}&parent_id={}", id(5), id(3)),
    ] {
        app.get(
            &format!("{}?{query}", messages_path(&t, room)),
            &t.admin.token,
        )
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    app.get(
        &format!("{}?around={}&before=3", messages_path(&t, room), id(5)),
        &t.admin.token,
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}
