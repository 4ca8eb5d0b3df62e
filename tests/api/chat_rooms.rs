//! Team chat rooms' settings (issue 16): renaming, archiving, roles, muting, "mark unread
//! from here", admins moderating private channels without reading them, and deactivated
//! people dropping out of rooms.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Caller, Tenant, TestApp};

async fn tenant(app: &TestApp) -> Tenant {
    let root = app.user("root@hub.test", true).await;
    app.tenant(&root, "Rooms Corp").await
}

async fn channel(app: &TestApp, t: &Tenant, by: &Caller, private: bool, members: &[Uuid]) -> Uuid {
    let body =
        json!({ "kind": "channel", "name": "deals", "private": private, "member_ids": members });
    let resp = app.post(&t.path("/chat/rooms"), &by.token, body).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["id"].as_str().unwrap().parse().unwrap()
}

fn room_path(t: &Tenant, room: Uuid, rest: &str) -> String {
    t.path(&format!("/chat/rooms/{room}{rest}"))
}

async fn send(
    app: &TestApp,
    t: &Tenant,
    by: &Caller,
    room: Uuid,
    text: &str,
) -> (StatusCode, Value) {
    let body = json!({ "body": text, "client_id": Uuid::new_v4().to_string() });
    let resp = app
        .post(&room_path(t, room, "/messages"), &by.token, body)
        .await;
    (resp.status, resp.body)
}

async fn audit(app: &TestApp, t: &Tenant, action: &str) -> Vec<Value> {
    let path = t.path(&format!("/audit-logs?limit=200&action={action}"));
    let resp = app.get(&path, &t.admin.token).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_archived_room_keeps_its_messages_and_takes_no_new_ones() {
    let app = TestApp::spawn().await;
    let t = tenant(&app).await;
    let room = channel(&app, &t, &t.supervisor, false, &[t.agent.id]).await;
    let first = json!({ "body": "before", "client_id": "before-1" });
    let sent = app
        .post(
            &room_path(&t, room, "/messages"),
            &t.agent.token,
            first.clone(),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);

    let refused = app
        .post(&room_path(&t, room, "/archive"), &t.agent.token, json!({}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "a plain member does not archive"
    );
    let archived = app
        .post(
            &room_path(&t, room, "/archive"),
            &t.supervisor.token,
            json!({}),
        )
        .await;
    assert_eq!(archived.status, StatusCode::OK, "{:?}", archived.body);
    assert_eq!(archived.body["archived"], true);
    let (status, body) = send(&app, &t, &t.agent, room, "after").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "room_archived");
    // A retry of a send that made its message before the archive still gets it.
    let retried = app
        .post(&room_path(&t, room, "/messages"), &t.agent.token, first)
        .await;
    assert_eq!(retried.status, StatusCode::OK, "{:?}", retried.body);
    assert_eq!(retried.body, sent.body);
    let page = app
        .get(&room_path(&t, room, "/messages"), &t.agent.token)
        .await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 1, "kept");
    // Archiving twice records it once.
    app.post(
        &room_path(&t, room, "/archive"),
        &t.supervisor.token,
        json!({}),
    )
    .await;
    assert_eq!(audit(&app, &t, "chat.room_archived").await.len(), 1);

    let back = app
        .post(
            &room_path(&t, room, "/unarchive"),
            &t.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
    assert_eq!(back.body["archived"], false);
    assert_eq!(
        send(&app, &t, &t.agent, room, "again").await.0,
        StatusCode::CREATED
    );
    assert_eq!(audit(&app, &t, "chat.room_unarchived").await.len(), 1);
}

#[tokio::test]
async fn owners_and_moderators_rename_and_hand_out_roles() {
    let app = TestApp::spawn().await;
    let t = tenant(&app).await;
    let room = channel(&app, &t, &t.supervisor, false, &[t.agent.id]).await;
    let rename = json!({ "name": "  closing  ", "topic": "This week's deals" });
    let refused = app
        .patch(&room_path(&t, room, ""), &t.agent.token, rename.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let renamed = app
        .patch(&room_path(&t, room, ""), &t.supervisor.token, rename)
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["name"], "closing");
    assert_eq!(renamed.body["topic"], "This week's deals");
    assert_eq!(renamed.body["role"], "owner");
    let blank = app
        .patch(
            &room_path(&t, room, ""),
            &t.supervisor.token,
            json!({ "name": " " }),
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);

    let agent_role = room_path(&t, room, &format!("/members/{}", t.agent.id));
    let promoted = app
        .patch(
            &agent_role,
            &t.supervisor.token,
            json!({ "role": "moderator" }),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
    let seen = app.get(&room_path(&t, room, ""), &t.agent.token).await;
    assert_eq!(seen.body["role"], "moderator");
    // A moderator renames but does not make owners.
    let topic = app
        .patch(
            &room_path(&t, room, ""),
            &t.agent.token,
            json!({ "topic": "" }),
        )
        .await;
    assert_eq!(topic.status, StatusCode::OK, "{:?}", topic.body);
    let owner_role = room_path(&t, room, &format!("/members/{}", t.supervisor.id));
    let grab = app
        .patch(&agent_role, &t.agent.token, json!({ "role": "owner" }))
        .await;
    assert_eq!(grab.status, StatusCode::FORBIDDEN);
    // The last owner stays one.
    let demote = app
        .patch(
            &owner_role,
            &t.supervisor.token,
            json!({ "role": "member" }),
        )
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT);
    assert_eq!(demote.body["code"], "last_owner");
    let bad = app
        .patch(&agent_role, &t.supervisor.token, json!({ "role": "king" }))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let outsider = room_path(&t, room, &format!("/members/{}", t.admin.id));
    let absent = app
        .patch(
            &outsider,
            &t.supervisor.token,
            json!({ "role": "moderator" }),
        )
        .await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND, "not in the room");
    let changes = audit(&app, &t, "chat.member_role_changed").await;
    assert_eq!(
        changes.len(),
        1,
        "refused changes leave nothing: {changes:?}"
    );

    let direct = app
        .post(
            &t.path("/chat/rooms"),
            &t.agent.token,
            json!({ "kind": "direct", "member_ids": [t.supervisor.id] }),
        )
        .await;
    let direct_id: Uuid = direct.body["id"].as_str().unwrap().parse().unwrap();
    let fixed = app
        .patch(
            &room_path(&t, direct_id, ""),
            &t.agent.token,
            json!({ "name": "us" }),
        )
        .await;
    assert_eq!(fixed.status, StatusCode::CONFLICT);
    assert_eq!(fixed.body["code"], "direct_room_fixed");
}

#[tokio::test]
async fn muting_and_marking_unread_are_each_members_own() {
    let app = TestApp::spawn().await;
    let t = tenant(&app).await;
    let room = channel(&app, &t, &t.supervisor, false, &[t.agent.id]).await;
    for text in ["one", "two", "three"] {
        send(&app, &t, &t.supervisor, room, text).await;
    }
    let read = app
        .post(
            &room_path(&t, room, "/read"),
            &t.agent.token,
            json!({ "seq": 3 }),
        )
        .await;
    assert_eq!(read.body["unread_count"], 0);

    let unread = app
        .post(
            &room_path(&t, room, "/unread"),
            &t.agent.token,
            json!({ "seq": 2 }),
        )
        .await;
    assert_eq!(unread.status, StatusCode::OK, "{:?}", unread.body);
    assert_eq!(
        unread.body["unread_count"], 2,
        "two and three are unread again"
    );
    let badge = app.get(&t.path("/chat/unread"), &t.agent.token).await;
    assert_eq!(badge.body["count"], 2);
    for seq in [0, 4] {
        let out = app
            .post(
                &room_path(&t, room, "/unread"),
                &t.agent.token,
                json!({ "seq": seq }),
            )
            .await;
        assert_eq!(out.status, StatusCode::UNPROCESSABLE_ENTITY, "seq {seq}");
    }

    let muted = app
        .put(
            &room_path(&t, room, "/mute"),
            &t.agent.token,
            json!({ "muted": true }),
        )
        .await;
    assert_eq!(muted.status, StatusCode::OK, "{:?}", muted.body);
    assert_eq!(muted.body["muted"], true);
    let badge = app.get(&t.path("/chat/unread"), &t.agent.token).await;
    assert_eq!(badge.body["count"], 0, "a muted room leaves the badge");
    let others = app.get(&room_path(&t, room, ""), &t.supervisor.token).await;
    assert_eq!(
        others.body["muted"], false,
        "the supervisor's room is not muted"
    );

    // Someone who has not joined the public channel has no marker or setting in it.
    let stranger = app
        .put(
            &room_path(&t, room, "/mute"),
            &t.admin.token,
            json!({ "muted": true }),
        )
        .await;
    assert_eq!(stranger.status, StatusCode::CONFLICT);
    assert_eq!(stranger.body["code"], "not_a_member");
}

#[tokio::test]
async fn admins_moderate_private_channels_but_read_them_only_by_joining() {
    let app = TestApp::spawn().await;
    let t = tenant(&app).await;
    let private = channel(&app, &t, &t.supervisor, true, &[t.agent.id]).await;
    send(&app, &t, &t.agent, private, "just between us").await;
    let direct = app
        .post(
            &t.path("/chat/rooms"),
            &t.agent.token,
            json!({ "kind": "direct", "member_ids": [t.supervisor.id] }),
        )
        .await;
    let direct_id = direct.body["id"].clone();

    let listed = app.get(&t.path("/chat/rooms"), &t.admin.token).await;
    assert!(
        listed.body.as_array().unwrap().is_empty(),
        "{:?}",
        listed.body
    );
    let all = app
        .get(&t.path("/chat/rooms?all=true"), &t.admin.token)
        .await;
    let ids: Vec<&Value> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(
        ids,
        [&json!(private)],
        "private channels, never others' direct rooms"
    );
    assert_eq!(all.body[0]["unread_count"], 0);
    let agents = app
        .get(&t.path("/chat/rooms?all=true"), &t.agent.token)
        .await;
    assert_eq!(agents.status, StatusCode::FORBIDDEN);

    // Moderating needs no membership; reading does.
    let archived = app
        .post(
            &room_path(&t, private, "/archive"),
            &t.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(archived.status, StatusCode::OK, "{:?}", archived.body);
    let read = app
        .get(&room_path(&t, private, "/messages"), &t.admin.token)
        .await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    let dm = format!("/chat/rooms/{}", direct_id.as_str().unwrap());
    let dm = app.get(&t.path(&dm), &t.admin.token).await;
    assert_eq!(dm.status, StatusCode::NOT_FOUND);

    let join = app
        .post(
            &room_path(&t, private, "/members"),
            &t.admin.token,
            json!({ "user_ids": [t.admin.id] }),
        )
        .await;
    assert_eq!(join.status, StatusCode::OK, "{:?}", join.body);
    let members = app.get(&room_path(&t, private, ""), &t.agent.token).await;
    assert!(
        members.body["member_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(t.admin.id)),
        "the room's people see who joined"
    );
    let joined = audit(&app, &t, "chat.members_added").await;
    assert_eq!(joined.len(), 1);
    let read = app
        .get(&room_path(&t, private, "/messages"), &t.admin.token)
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["items"][0]["body"], "just between us");
}

#[tokio::test]
async fn a_deactivated_member_drops_out_of_rooms() {
    let app = TestApp::spawn().await;
    let t = tenant(&app).await;
    let room = channel(&app, &t, &t.supervisor, true, &[t.agent.id]).await;
    let deactivate = t.path(&format!("/users/{}/deactivate", t.agent.id));
    let done = app.post(&deactivate, &t.admin.token, json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    let seen = app.get(&room_path(&t, room, ""), &t.supervisor.token).await;
    assert_eq!(seen.body["member_ids"], json!([t.supervisor.id]));
    let list = app.get(&t.path("/chat/rooms"), &t.supervisor.token).await;
    assert_eq!(list.body[0]["member_ids"], json!([t.supervisor.id]));
    let gone = app.get(&room_path(&t, room, ""), &t.agent.token).await;
    assert!(gone.status.is_client_error(), "{:?}", gone.status);

    let activate = t.path(&format!("/users/{}/activate", t.agent.id));
    let back = app.post(&activate, &t.admin.token, json!({})).await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
    let seen = app.get(&room_path(&t, room, ""), &t.supervisor.token).await;
    assert_eq!(
        seen.body["member_ids"].as_array().unwrap().len(),
        2,
        "back when reactivated"
    );
}

#[tokio::test]
async fn a_team_room_follows_its_teams_people() {
    let app = TestApp::spawn().await;
    let t = tenant(&app).await;
    let team = app
        .post(
            &t.path("/teams"),
            &t.admin.token,
            json!({ "name": "Sales" }),
        )
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{:?}", team.body);
    let team_id = team.body["id"].as_str().unwrap().to_string();
    let team_members = t.path(&format!("/teams/{team_id}/members"));
    let added = app
        .post(
            &team_members,
            &t.admin.token,
            json!({ "user_id": t.agent.id }),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);

    let open = json!({ "kind": "team", "team_id": team_id, "member_ids": [] });
    let refused = app
        .post(&t.path("/chat/rooms"), &t.supervisor.token, open.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "not in the team");
    let made = app
        .post(&t.path("/chat/rooms"), &t.agent.token, open.clone())
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["kind"], "team");
    assert_eq!(made.body["name"], "Sales");
    assert_eq!(made.body["team_id"], json!(team_id));
    assert_eq!(made.body["private"], true);
    assert_eq!(made.body["member_ids"], json!([t.agent.id]));
    assert_eq!(made.body["role"], "owner");
    let again = app.post(&t.path("/chat/rooms"), &t.admin.token, open).await;
    assert_eq!(again.status, StatusCode::OK, "one room per team");
    assert_eq!(again.body["id"], made.body["id"]);
    let room: Uuid = made.body["id"].as_str().unwrap().parse().unwrap();

    // The team's people are the room's.
    let joined = app
        .post(
            &team_members,
            &t.admin.token,
            json!({ "user_id": t.supervisor.id }),
        )
        .await;
    assert_eq!(joined.status, StatusCode::CREATED);
    let seen = app.get(&room_path(&t, room, ""), &t.supervisor.token).await;
    assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
    assert_eq!(seen.body["member_ids"].as_array().unwrap().len(), 2);
    let by_hand = app
        .post(
            &room_path(&t, room, "/members"),
            &t.agent.token,
            json!({ "user_ids": [t.admin.id] }),
        )
        .await;
    assert_eq!(by_hand.status, StatusCode::CONFLICT);
    assert_eq!(by_hand.body["code"], "team_room_follows_team");
    let left = app
        .delete(
            &format!("{team_members}/{}", t.supervisor.id),
            &t.admin.token,
        )
        .await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    let gone = app.get(&room_path(&t, room, ""), &t.supervisor.token).await;
    assert_eq!(
        gone.status,
        StatusCode::NOT_FOUND,
        "out of the team, out of its room"
    );

    // A deleted team's room is archived, its history kept.
    send(&app, &t, &t.agent, room, "closing the quarter").await;
    let deleted = app
        .delete(&t.path(&format!("/teams/{team_id}")), &t.admin.token)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let kept = app.get(&room_path(&t, room, ""), &t.agent.token).await;
    assert_eq!(kept.body["archived"], true);
    let (status, _) = send(&app, &t, &t.agent, room, "anyone?").await;
    assert_eq!(status, StatusCode::CONFLICT);

    let missing = json!({ "kind": "team", "team_id": Uuid::new_v4(), "member_ids": [] });
    let missing = app
        .post(&t.path("/chat/rooms"), &t.admin.token, missing)
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn retention_removes_whole_old_threads_and_is_audited() {
    let app = TestApp::spawn().await;
    let t = tenant(&app).await;
    let settings = t.path("/chat/settings");
    assert_eq!(
        app.get(&settings, &t.agent.token).await.body["retention_days"],
        Value::Null,
        "kept forever by default"
    );
    let days = json!({ "retention_days": 30 });
    let refused = app.put(&settings, &t.agent.token, days.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    for bad in [
        json!({ "retention_days": 0 }),
        json!({ "retention_days": 99999 }),
    ] {
        let out = app.put(&settings, &t.admin.token, bad).await;
        assert_eq!(out.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let set = app.put(&settings, &t.admin.token, days).await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    assert_eq!(audit(&app, &t, "chat.settings_updated").await.len(), 1);

    let room = channel(&app, &t, &t.supervisor, false, &[t.agent.id]).await;
    let (_, lone) = send(&app, &t, &t.supervisor, room, "old and alone").await;
    let (_, parent) = send(&app, &t, &t.supervisor, room, "old, answered today").await;
    let reply = json!({ "body": "today's answer", "client_id": "r", "parent_id": parent["id"] });
    let replied = app
        .post(&room_path(&t, room, "/messages"), &t.agent.token, reply)
        .await;
    assert_eq!(replied.status, StatusCode::CREATED);
    // The two top-level messages were written 40 days ago.
    let now = whatpro_hub::platform::clock::now(); // wall-clock: the messages were just written at the server's real now
    for id in [&lone["id"], &parent["id"]] {
        let id: Uuid = id.as_str().unwrap().parse().unwrap();
        app.age_chat_message(id, now - time::Duration::days(40))
            .await;
    }

    let removed = whatpro_hub::chat::retention::apply(&app.state.db, t.id, 30, now)
        .await
        .unwrap();
    assert_eq!(
        removed, 1,
        "the lone message; the answered one keeps its thread"
    );
    let page = app
        .get(&room_path(&t, room, "/messages"), &t.agent.token)
        .await;
    let items = page.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], parent["id"]);
    assert_eq!(items[0]["deleted"], true, "its text is gone all the same");
    assert_eq!(items[0]["body"], "");
    assert_eq!(items[0]["reply_count"], 1);
    let entries = audit(&app, &t, "chat.retention_applied").await;
    assert_eq!(entries.len(), 1);

    // Once its reply is old too, the whole thread goes.
    let later = now + time::Duration::days(31);
    let removed = whatpro_hub::chat::retention::apply(&app.state.db, t.id, 30, later)
        .await
        .unwrap();
    assert_eq!(removed, 2);
    let page = app
        .get(&room_path(&t, room, "/messages"), &t.agent.token)
        .await;
    assert!(page.body["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn erasing_a_persons_messages_leaves_tombstones_in_their_threads() {
    let app = TestApp::spawn().await;
    let t = tenant(&app).await;
    let room = channel(&app, &t, &t.supervisor, false, &[t.agent.id]).await;
    let (_, question) = send(&app, &t, &t.agent, room, "my phone is +55 11 9999-9999").await;
    let reply = json!({ "body": "noted", "client_id": "r", "parent_id": question["id"] });
    app.post(
        &room_path(&t, room, "/messages"),
        &t.supervisor.token,
        reply,
    )
    .await;
    let (_, other) = send(&app, &t, &t.supervisor, room, "general news").await;
    let react = t.path(&format!(
        "/chat/rooms/{room}/messages/{}/reactions/%F0%9F%91%8D",
        other["id"].as_str().unwrap()
    ));
    app.put(&react, &t.agent.token, json!({})).await;

    let erase = t.path("/chat/erasures");
    let body = json!({ "user_id": t.agent.id });
    let refused = app.post(&erase, &t.supervisor.token, body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let erased = app.post(&erase, &t.admin.token, body).await;
    assert_eq!(erased.status, StatusCode::OK, "{:?}", erased.body);
    assert_eq!(erased.body["messages_erased"], 1);
    assert_eq!(erased.body["reactions_removed"], 1);
    let stranger = json!({ "user_id": Uuid::new_v4() });
    let unknown = app.post(&erase, &t.admin.token, stranger).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    let page = app
        .get(&room_path(&t, room, "/messages"), &t.supervisor.token)
        .await;
    let items = page.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the erased message keeps its place");
    assert_eq!(items[0]["deleted"], true);
    assert_eq!(items[0]["body"], "");
    assert_eq!(items[0]["reply_count"], 1, "its thread keeps its shape");
    assert_eq!(items[1]["reactions"], json!([]));
    let entries = audit(&app, &t, "chat.user_erased").await;
    assert_eq!(entries.len(), 1);
    assert!(
        !entries[0].to_string().contains("9999-9999"),
        "the audit log keeps no erased text"
    );
}
