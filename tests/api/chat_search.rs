//! Team chat search (issue 16, ADR 23): words found in either language with or without
//! accents, the last one as a prefix; only the live messages of the caller's own rooms;
//! edits and deletes reach the index; filters (room, author, time, files attached); paging;
//! a query that cannot speak FTS; an inert snippet.

use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{OffsetDateTime, macros::datetime};
use uuid::Uuid;
use whatpro_hub::{chat::search::index, on_db, on_tx, platform::db::Engine};

use crate::{
    chat_attachments::png,
    support::{Caller, Tenant, TestApp},
};

/// A tenant with the chat at hand.
struct Chat {
    app: TestApp,
    t: Tenant,
}

impl Chat {
    async fn new() -> Chat {
        let app = TestApp::spawn().await;
        let root = app.user("root@hub.test", true).await;
        let t = app.tenant(&root, "Search Corp").await;
        Chat { app, t }
    }

    /// A channel made by `owner` with `members`.
    async fn channel(&self, owner: &Caller, private: bool, members: &[Uuid]) -> Uuid {
        let body = json!({ "kind": "channel", "name": "sales", "private": private, "member_ids": members });
        let made = self
            .app
            .post(&self.t.path("/chat/rooms"), &owner.token, body)
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
        made.id()
    }

    /// Sends `text` to `room` as `by`; the message's id.
    async fn say(&self, by: &Caller, room: Uuid, text: &str) -> Uuid {
        let path = self.t.path(&format!("/chat/rooms/{room}/messages"));
        let body = json!({ "body": text, "client_id": Uuid::new_v4().to_string() });
        let sent = self.app.post(&path, &by.token, body).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
        sent.id()
    }

    /// Uploads a small PNG to `room` as `by`; the attachment's id (not sent yet).
    async fn upload(&self, by: &Caller, room: Uuid) -> Uuid {
        let path = self.t.path(&format!("/chat/rooms/{room}/attachments"));
        let resp = self
            .app
            .upload(&path, &by.token, ("pic.png", "image/png"), &png(8, 8))
            .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
        resp.id()
    }

    /// Sends `text` with the uploaded `files` to `room` as `by`; the message's id.
    async fn say_with(&self, by: &Caller, room: Uuid, text: &str, files: &[Uuid]) -> Uuid {
        let path = self.t.path(&format!("/chat/rooms/{room}/messages"));
        let body = json!({ "body": text, "client_id": Uuid::new_v4().to_string(), "attachment_ids": files });
        let sent = self.app.post(&path, &by.token, body).await;
        assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
        sent.id()
    }

    /// The search's answer, `params` as `name=value` pairs (values encoded here).
    async fn search(&self, who: &Caller, params: &[(&str, &str)]) -> (StatusCode, Value) {
        let query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        let path = self.t.path(&format!("/chat/search?{}", query.join("&")));
        let resp = self.app.get(&path, &who.token).await;
        (resp.status, resp.body)
    }

    /// The ids of the messages `who` finds with `q` (first page), newest first.
    async fn find(&self, who: &Caller, q: &str) -> Vec<Uuid> {
        let (status, body) = self.search(who, &[("q", q)]).await;
        assert_eq!(status, StatusCode::OK, "{q:?}: {body}");
        ids(&body)
    }

    /// Runs `sql` with `id` as `$1` and `text` as `$2` on the test's database.
    async fn write(&self, sql: &'static str, id: Uuid, text: &str) {
        let mut tx = self.app.state.db.begin().await.unwrap();
        on_tx!(&mut tx, c => sqlx::query(sql).bind(id).bind(text).execute(c).await.unwrap().rows_affected());
        tx.commit().await.unwrap();
    }

    /// Edits the message through the API, as its author.
    async fn edit(&self, by: &Caller, room: Uuid, id: Uuid, body: &str) {
        let path = self.t.path(&format!("/chat/rooms/{room}/messages/{id}"));
        let resp = self
            .app
            .patch(&path, &by.token, json!({ "body": body }))
            .await;
        assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    }

    /// Deletes the message through the API (it stays as a tombstone).
    async fn delete(&self, by: &Caller, room: Uuid, id: Uuid) {
        let path = self.t.path(&format!("/chat/rooms/{room}/messages/{id}"));
        let resp = self.app.delete(&path, &by.token).await;
        assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
        assert_eq!(resp.body["deleted"], true);
    }

    /// Moves a message to another time (sends happen at the wall clock's second).
    async fn sent_at(&self, id: Uuid, at: OffsetDateTime) {
        let mut tx = self.app.state.db.begin().await.unwrap();
        let sql = "UPDATE chat_messages SET created_at = $2 WHERE id = $1";
        on_tx!(&mut tx, c => sqlx::query(sql).bind(id).bind(at).execute(c).await.unwrap().rows_affected());
        tx.commit().await.unwrap();
    }

    /// How many rows of the engine's index hold `word`, whoever may see them, once it has
    /// caught up.
    async fn indexed(&self, word: &str) -> i64 {
        index::catch_up(&self.app.state.db).await.unwrap();
        self.indexed_now(word).await
    }

    /// How many rows of the engine's index hold `word` now, whatever still waits for it.
    async fn indexed_now(&self, word: &str) -> i64 {
        let (sql, query) = match self.app.state.db.engine() {
            Engine::Sqlite => (
                "SELECT COUNT(*) FROM chat_messages_fts WHERE chat_messages_fts MATCH $1",
                format!("\"{word}\""),
            ),
            Engine::Postgres => (
                "SELECT COUNT(*) FROM chat_messages
                 WHERE search @@ to_tsquery('simple', chat_search_fold($1))",
                format!("'{word}'"),
            ),
        };
        on_db!(&self.app.state.db, pool => sqlx::query_scalar(sql)
            .bind(query).fetch_one(pool).await.unwrap())
    }

    /// On SQLite, FTS5's own check that the index holds exactly the live bodies (it reads
    /// them back through the external content); on PostgreSQL the column is generated.
    async fn index_is_consistent(&self) {
        let db = &self.app.state.db;
        if db.engine() == whatpro_hub::platform::db::Engine::Sqlite {
            // A write (FTS5 takes its commands as inserts): the pool only reads.
            let check = "INSERT INTO chat_messages_fts (chat_messages_fts, rank) VALUES ('integrity-check', 1)";
            let mut writer = db.writer().await.unwrap();
            whatpro_hub::on_writer!(&mut writer, c => sqlx::query(check).execute(c).await
                .map(|_| ()))
            .expect("the FTS5 index matches the live messages");
            let (docs, messages): (i64, i64) = on_db!(db, pool => sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM chat_search_docs), (SELECT COUNT(*) FROM chat_messages)",
            )
            .fetch_one(pool)
            .await
            .unwrap());
            assert_eq!(docs, messages, "one index key per message");
        }
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn ids(page: &Value) -> Vec<Uuid> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {page}"))
        .iter()
        .map(|hit| {
            assert_eq!(hit["room_id"], hit["message"]["room_id"]);
            hit["message"]["id"].as_str().unwrap().parse().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn words_are_found_in_either_language_with_or_without_accents() {
    let c = Chat::new().await;
    let (t, agent) = (&c.t, &c.t.agent);
    let room = c.channel(agent, false, &[]).await;
    let accented = c
        .say(
            agent,
            room,
            "Reunião de AÇÃO amanhã às 9h, pauta: orçamento",
        )
        .await;
    let plain = c.say(agent, room, "acao pendente, sem acento").await;
    let english = c
        .say(
            agent,
            room,
            "The quarterly forecast is due; e-mail bob@example.com",
        )
        .await;

    assert_eq!(c.find(agent, "ação").await, [plain, accented]);
    assert_eq!(c.find(agent, "ACAO").await, [plain, accented]);
    assert_eq!(c.find(agent, "reuniao amanha").await, [accented]);
    assert_eq!(c.find(agent, "ORÇAMENTO").await, [accented]);
    assert_eq!(c.find(agent, "Quarterly FORECAST").await, [english]);
    // Every word must be there.
    assert!(c.find(agent, "ação forecast").await.is_empty());
    // The last word as it is being typed; a finished one (a space after it) is whole.
    assert_eq!(c.find(agent, "reuni").await, [accented]);
    assert_eq!(c.find(agent, "forec").await, [english]);
    assert!(c.find(agent, "forec ").await.is_empty());
    assert!(
        c.find(agent, "forec due").await.is_empty(),
        "only the last word is a prefix"
    );
    assert_eq!(c.find(agent, "orçam").await, [accented]);
    // Punctuation separates words, the same on both engines: an address is its words.
    assert_eq!(c.find(agent, "example").await, [english]);
    assert_eq!(c.find(agent, "mail bob").await, [english]);
    assert_eq!(c.find(agent, "9h").await, [accented]);

    // Each hit carries the message as the room's listing shows it.
    let (_, page) = c.search(agent, &[("q", "forecast")]).await;
    let listed = c
        .app
        .get(
            &t.path(&format!("/chat/rooms/{room}/messages")),
            &agent.token,
        )
        .await;
    let shown = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == json!(english))
        .unwrap();
    assert_eq!(&page["items"][0]["message"], shown);
    assert_eq!(page["next_cursor"], Value::Null);
}

#[tokio::test]
async fn only_the_rooms_the_caller_is_in_are_searched() {
    let c = Chat::new().await;
    let (t, admin, supervisor, agent) = (&c.t, &c.t.admin, &c.t.supervisor, &c.t.agent);
    let public = c.channel(admin, false, &[supervisor.id]).await;
    let in_public = c.say(admin, public, "zebra in the open").await;
    let private = c.channel(supervisor, true, &[]).await;
    let in_private = c.say(supervisor, private, "zebra behind doors").await;
    let direct = c
        .app
        .post(
            &t.path("/chat/rooms"),
            &supervisor.token,
            json!({ "kind": "direct", "member_ids": [admin.id] }),
        )
        .await
        .id();
    let in_direct = c.say(admin, direct, "zebra between two").await;
    // The same word in another account.
    let root = c.app.user("root2@hub.test", true).await;
    let other = c.app.tenant(&root, "Rival Corp").await;
    let zoo = json!({ "kind": "channel", "name": "zoo", "member_ids": [] });
    let theirs = c
        .app
        .post(&other.path("/chat/rooms"), &other.admin.token, zoo)
        .await
        .id();
    let their_path = other.path(&format!("/chat/rooms/{theirs}/messages"));
    let sent = c
        .app
        .post(
            &their_path,
            &other.admin.token,
            json!({ "body": "zebra of theirs", "client_id": "z" }),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED);

    assert_eq!(
        c.find(supervisor, "zebra").await,
        [in_direct, in_private, in_public]
    );
    assert_eq!(c.find(admin, "zebra").await, [in_direct, in_public]);
    // A public channel not joined is not searched, nor a private one (the admin neither).
    assert!(c.find(agent, "zebra").await.is_empty());
    // Naming a room one cannot see finds nothing, as a room that does not exist: no 404.
    for room in [private, direct, theirs, Uuid::now_v7(), public] {
        let (status, body) = c
            .search(
                agent,
                &[("q", "zebra"), ("room_id", room.to_string().as_str())],
            )
            .await;
        assert_eq!((status, ids(&body).len()), (StatusCode::OK, 0), "{body}");
    }
    // Joining the public channel (by posting) brings it in; leaving takes it out.
    let joined = c.say(agent, public, "hello").await;
    assert_eq!(c.find(agent, "zebra").await, [in_public]);
    assert_eq!(c.find(agent, "hello").await, [joined]);
    let leave = t.path(&format!("/chat/rooms/{public}/members/{}", agent.id));
    let left = c.app.delete(&leave, &agent.token).await;
    assert!(left.status.is_success(), "{:?}", left.body);
    assert!(c.find(agent, "zebra").await.is_empty());
    // Another account's people find only their own.
    let (status, body) = c.search(&other.admin, &[("q", "zebra")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not their account: {body}");
    let path = other.path("/chat/search?q=zebra");
    let mine = c.app.get(&path, &other.admin.token).await;
    assert_eq!(ids(&mine.body).len(), 1);
    assert!(!mine.body.to_string().contains("zebra in the open"));

    // An API key is in no room: it searches nothing and is told so.
    let key = c
        .app
        .post(
            &t.path("/api-keys"),
            &admin.token,
            json!({ "name": "reader", "scopes": ["chat:read"] }),
        )
        .await;
    let key = key.body["key"].as_str().unwrap();
    c.app
        .get(&t.path("/chat/search?q=zebra"), key)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "user_token_required");
}

#[tokio::test]
async fn edited_and_deleted_messages_are_found_by_what_they_say_now() {
    let c = Chat::new().await;
    let agent = &c.t.agent;
    let room = c.channel(agent, false, &[]).await;
    let edited = c.say(agent, room, "the old price is confidential").await;
    let deleted = c.say(agent, room, "password hunter2 do not share").await;
    let kept = c.say(agent, room, "a confidential note stays").await;

    c.edit(agent, room, edited, "the new price is public").await;
    assert_eq!(c.find(agent, "confidential").await, [kept]);
    assert!(c.find(agent, "old").await.is_empty());
    assert_eq!(c.find(agent, "new price").await, [edited]);
    assert_eq!(c.indexed("old").await, 0, "the index keeps no old text");
    assert_eq!(c.indexed("public").await, 1);

    c.delete(agent, room, deleted).await;
    for q in ["hunter2", "password", "share"] {
        assert!(c.find(agent, q).await.is_empty(), "{q}");
        assert_eq!(c.indexed(q).await, 0, "{q}");
    }
    // A deleted message whose row kept its body (written by hand, or by a later change
    // that forgets to empty it) is not findable either.
    c.write(
        "UPDATE chat_messages SET deleted_at = created_at WHERE id = $1 AND body <> $2",
        kept,
        "",
    )
    .await;
    assert!(c.find(agent, "note").await.is_empty());
    assert_eq!(c.indexed("note").await, 0);
    c.index_is_consistent().await;

    // A room deleted with its messages (an account erased) leaves nothing in the index.
    let other = c.channel(agent, false, &[]).await;
    c.say(agent, other, "ephemeral words").await;
    assert_eq!(c.indexed("ephemeral").await, 1);
    c.write(
        "DELETE FROM chat_rooms WHERE id = $1 AND name <> $2",
        other,
        "",
    )
    .await;
    assert_eq!(c.indexed("ephemeral").await, 0);
    c.index_is_consistent().await;
}

/// Messages made, edited and deleted before the index caught up with them (SQLite indexes
/// new messages in batches, ADR 30) are found by what they say once it has: all in one
/// transaction here, so no batch can come between.
#[tokio::test]
async fn messages_changed_before_the_index_caught_up_are_found_as_they_are_then() {
    let c = Chat::new().await;
    let agent = &c.t.agent;
    let room = c.channel(agent, false, &[]).await;
    let model = c.say(agent, room, "model").await;
    let [edited, deleted, removed] = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
    let db = &c.app.state.db;
    let mut tx = db.begin().await.unwrap();
    let copy = "INSERT INTO chat_messages (id, account_id, room_id, seq, author_id, body, html,
            mentions_room, client_id, parent_id, reply_count, created_at)
        SELECT $1, account_id, room_id, seq + $3, author_id, $2, html, mentions_room, $2,
            parent_id, 0, created_at
        FROM chat_messages WHERE id = $4";
    for (k, (id, body)) in [
        (edited, "draft words"),
        (deleted, "secret words"),
        (removed, "gone words"),
    ]
    .into_iter()
    .enumerate()
    {
        on_tx!(&mut tx, conn => sqlx::query(copy).bind(id).bind(body).bind(k as i64 + 1)
            .bind(model).execute(conn).await.unwrap().rows_affected());
    }
    let changes = [
        "UPDATE chat_messages SET body = 'final words' WHERE id = $1",
        "UPDATE chat_messages SET body = '', deleted_at = created_at WHERE id = $1",
        "DELETE FROM chat_messages WHERE id = $1",
    ];
    for (sql, id) in changes.into_iter().zip([edited, deleted, removed]) {
        on_tx!(&mut tx, conn => sqlx::query(sql).bind(id).execute(conn).await.unwrap().rows_affected());
    }
    tx.commit().await.unwrap();

    assert_eq!(c.indexed("final").await, 1);
    for word in ["draft", "secret", "gone"] {
        assert_eq!(c.indexed(word).await, 0, "{word}");
    }
    assert_eq!(c.find(agent, "final words").await, [edited]);
    assert_eq!(c.find(agent, "words").await, [edited]);
    c.index_is_consistent().await;
}

/// Nobody needs to search for new messages to be indexed: the batches run on their own.
#[tokio::test]
async fn new_messages_are_indexed_without_a_search() {
    let c = Chat::new().await;
    let agent = &c.t.agent;
    let room = c.channel(agent, false, &[]).await;
    c.say(agent, room, "unsearched walrus").await;
    let indexed = async {
        while c.indexed_now("walrus").await == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), indexed)
        .await
        .expect("the message was indexed by a batch");
}

#[tokio::test]
async fn filters_narrow_by_room_author_and_time() {
    let c = Chat::new().await;
    let (supervisor, agent) = (&c.t.supervisor, &c.t.agent);
    let one = c.channel(agent, false, &[supervisor.id]).await;
    let two = c.channel(agent, true, &[supervisor.id]).await;
    let jan = c.say(agent, one, "invoice sent").await;
    let feb = c.say(supervisor, one, "invoice paid").await;
    let mar = c.say(agent, two, "invoice late").await;
    c.sent_at(jan, datetime!(2026-01-10 12:00 UTC)).await;
    c.sent_at(feb, datetime!(2026-02-10 12:00 UTC)).await;
    c.sent_at(mar, datetime!(2026-03-10 12:00 UTC)).await;

    let found = |params: &'static [(&'static str, &'static str)]| {
        let c = &c;
        async move {
            let mut all = vec![("q", "invoice")];
            all.extend_from_slice(params);
            let (status, body) = c.search(supervisor, &all).await;
            assert_eq!(status, StatusCode::OK, "{params:?}: {body}");
            ids(&body)
        }
    };
    assert_eq!(found(&[]).await, [mar, feb, jan], "newest first");
    let (one_s, two_s) = (one.to_string(), two.to_string());
    let (_, body) = c
        .search(supervisor, &[("q", "invoice"), ("room_id", one_s.as_str())])
        .await;
    assert_eq!(ids(&body), [feb, jan]);
    let (_, body) = c
        .search(supervisor, &[("q", "invoice"), ("room_id", two_s.as_str())])
        .await;
    assert_eq!(ids(&body), [mar]);
    let agent_s = agent.id.to_string();
    let (_, body) = c
        .search(
            supervisor,
            &[("q", "invoice"), ("author_id", agent_s.as_str())],
        )
        .await;
    assert_eq!(ids(&body), [mar, jan]);
    // `from` is inclusive, `to` exclusive; a fraction of a second counts.
    assert_eq!(found(&[("from", "2026-02-10T12:00:00Z")]).await, [mar, feb]);
    assert_eq!(found(&[("from", "2026-02-10T12:00:00.5Z")]).await, [mar]);
    assert_eq!(found(&[("to", "2026-02-10T12:00:00Z")]).await, [jan]);
    assert_eq!(found(&[("to", "2026-02-10T12:00:00.1Z")]).await, [feb, jan]);
    assert_eq!(
        found(&[
            ("from", "2026-01-11T00:00:00-03:00"),
            ("to", "2026-03-01T00:00:00Z")
        ])
        .await,
        [feb]
    );

    for (params, field) in [
        (&[("from", "yesterday")][..], "from"),
        (
            &[
                ("from", "2026-03-01T00:00:00Z"),
                ("to", "2026-03-01T00:00:00Z"),
            ][..],
            "to",
        ),
        (&[("limit", "0")][..], "limit"),
        (&[("limit", "51")][..], "limit"),
        (&[("cursor", "forged")][..], "cursor"),
        (&[("room_id", "not-a-uuid")][..], "room_id"),
    ] {
        let (status, body) = c.search(supervisor, params).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{params:?}: {body}"
        );
        assert_eq!(body["code"], "validation_failed");
        let fields: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, [field], "{params:?}: {body}");
    }
    let long = "a".repeat(201);
    let (status, _) = c.search(supervisor, &[("q", long.as_str())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn pages_follow_each_other_without_duplicates_or_gaps() {
    let c = Chat::new().await;
    let (supervisor, agent) = (&c.t.supervisor, &c.t.agent);
    let rooms = [
        c.channel(agent, false, &[supervisor.id]).await,
        c.channel(supervisor, true, &[agent.id]).await,
    ];
    // 23 messages, three to a second (ties are ordered by id), over two rooms, long ago
    // (anything sent now is newer).
    let mut sent = Vec::new();
    for i in 0..23 {
        let by = if i % 2 == 0 { agent } else { supervisor };
        let id = c.say(by, rooms[i % 2], &format!("batch item {i}")).await;
        let second = datetime!(2001-05-01 09:00 UTC) + time::Duration::seconds(i as i64 / 3);
        c.sent_at(id, second).await;
        sent.push((second, id));
    }
    sent.sort();
    sent.reverse();
    let expected: Vec<Uuid> = sent.iter().map(|(_, id)| *id).collect();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("q", "batch"), ("limit", "4")];
        if let Some(cursor) = &cursor {
            params.push(("cursor", cursor.as_str()));
        }
        let (status, body) = c.search(agent, &params).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        seen.extend(ids(&body));
        pages += 1;
        if pages == 2 {
            // Something newer arriving meanwhile does not shift the pages after.
            c.say(agent, rooms[0], "batch item late").await;
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 6);
    assert_eq!(seen, expected);

    // The default page is 20.
    let (_, body) = c.search(agent, &[("q", "batch")]).await;
    assert_eq!(ids(&body).len(), 20);
    assert!(body["next_cursor"].is_string());
}

#[tokio::test]
async fn a_query_cannot_speak_fts() {
    let c = Chat::new().await;
    let agent = &c.t.agent;
    let room = c.channel(agent, false, &[]).await;
    let both = c.say(agent, room, "alpha beta").await;
    let alpha = c.say(agent, room, "alpha alone").await;
    let gamma = c.say(agent, room, "gamma near the end or not").await;

    let cases: &[(&str, &[Uuid])] = &[
        // Operators are words, and every word is required.
        ("alpha OR gamma", &[]),
        ("gamma OR", &[gamma]),
        ("alpha AND beta", &[]),
        ("NEAR(alpha beta)", &[]),
        ("gamma NEAR", &[gamma]),
        ("NOT beta", &[]),
        // Quotes, negation, columns, grouping, wildcards and tsquery operators separate words.
        ("\"alpha", &[alpha, both]),
        ("\"alpha beta\"", &[both]),
        ("-beta alpha", &[both]),
        ("alpha !beta", &[both]),
        ("alpha & !beta", &[both]),
        ("alpha | gamma", &[]),
        ("body:alpha", &[]),
        ("{body}: alpha", &[]),
        ("(alpha)", &[alpha, both]),
        ("alph*", &[alpha, both]),
        ("al*pha", &[]),
        ("'alpha':* & 'gam'", &[]),
        ("alpha\\", &[alpha, both]),
        ("^alpha", &[alpha, both]),
        ("alpha + beta", &[both]),
        // Nothing but punctuation: no words, nothing found, no error.
        ("\"", &[]),
        ("*", &[]),
        ("\"\"", &[]),
        ("()", &[]),
        (":", &[]),
        ("-", &[]),
        ("' & | ! <-> :*", &[]),
        ("", &[]),
        ("   ", &[]),
    ];
    for (q, expected) in cases {
        assert_eq!(&c.find(agent, q).await, expected, "{q:?}");
    }
    let (status, body) = c.search(agent, &[]).await;
    assert_eq!((status, body["items"].clone()), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn the_snippet_is_inert_html_with_the_matches_marked() {
    let c = Chat::new().await;
    let agent = &c.t.agent;
    let room = c.channel(agent, false, &[]).await;
    let body = r#"<img src=x onerror="alert(1)"> <script>alert('ação')</script> & <a href="javascript:x">Acao</a>"#;
    c.say(agent, room, body).await;

    let (_, page) = c.search(agent, &[("q", "acao")]).await;
    let snippet = page["items"][0]["snippet"].as_str().unwrap();
    assert_eq!(
        snippet,
        "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &lt;script&gt;alert(&#39;<mark>ação</mark>&#39;)\
         &lt;/script&gt; &amp; &lt;a href=&quot;javascript:x&quot;&gt;<mark>Acao</mark>&lt;/a&gt;"
    );
    // Only our own tags are left.
    let bare = snippet.replace("<mark>", "").replace("</mark>", "");
    assert!(!bare.contains('<') && !bare.contains('>') && !bare.contains('"'));
    // The message itself is as sent (clients render its Markdown through `html`).
    assert_eq!(page["items"][0]["message"]["body"], body);

    // A long message: the words around the match, on one line.
    let long = format!(
        "{}\nthe <b>needle</b> is here\n{}",
        "lorem ipsum ".repeat(40),
        "dolor sit ".repeat(40)
    );
    c.say(agent, room, &long).await;
    let (_, page) = c.search(agent, &[("q", "needle")]).await;
    let snippet = page["items"][0]["snippet"].as_str().unwrap();
    assert!(
        snippet.starts_with('…')
            && snippet.ends_with('…')
            && snippet.contains(" the &lt;b&gt;<mark>needle</mark>&lt;/b&gt; is here dolor ")
            && !snippet.contains('\n'),
        "{snippet}"
    );
}

#[tokio::test]
async fn has_attachment_keeps_the_messages_with_files_or_those_without() {
    let c = Chat::new().await;
    let (supervisor, agent) = (&c.t.supervisor, &c.t.agent);
    let room = c.channel(agent, false, &[supervisor.id]).await;
    let plain = c.say(agent, room, "report draft in words").await;
    let one = c.upload(agent, room).await;
    let with_one = c.say_with(agent, room, "report attached", &[one]).await;
    let (a, b) = (
        c.upload(supervisor, room).await,
        c.upload(supervisor, room).await,
    );
    let with_two = c.say_with(supervisor, room, "report pages", &[a, b]).await;
    // A file uploaded and never sent belongs to no message.
    c.upload(agent, room).await;
    let later = c.say(agent, room, "report follows").await;

    let found = |value: &'static str| {
        let c = &c;
        async move {
            let mut params = vec![("q", "report")];
            if !value.is_empty() {
                params.push(("has_attachment", value));
            }
            let (status, body) = c.search(supervisor, &params).await;
            assert_eq!(status, StatusCode::OK, "{value:?}: {body}");
            ids(&body)
        }
    };
    assert_eq!(found("").await, [later, with_two, with_one, plain]);
    assert_eq!(found("true").await, [with_two, with_one]);
    assert_eq!(found("false").await, [later, plain]);
    // With the other filters and across pages.
    let agent_s = agent.id.to_string();
    let (_, body) = c
        .search(
            supervisor,
            &[
                ("q", "report"),
                ("has_attachment", "true"),
                ("author_id", agent_s.as_str()),
            ],
        )
        .await;
    assert_eq!(ids(&body), [with_one]);
    let (_, first) = c
        .search(
            supervisor,
            &[("q", "report"), ("has_attachment", "true"), ("limit", "1")],
        )
        .await;
    assert_eq!(ids(&first), [with_two]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = c
        .search(
            supervisor,
            &[
                ("q", "report"),
                ("has_attachment", "true"),
                ("limit", "1"),
                ("cursor", cursor),
            ],
        )
        .await;
    assert_eq!(ids(&second), [with_one]);
    assert_eq!(second["next_cursor"], Value::Null);
    // Each hit shows its files.
    let (_, body) = c
        .search(supervisor, &[("q", "pages"), ("has_attachment", "true")])
        .await;
    let files: Vec<&str> = body["items"][0]["message"]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(files, [a.to_string(), b.to_string()]);

    // A deleted message loses its files and its words alike.
    c.delete(supervisor, room, with_two).await;
    assert_eq!(found("true").await, [with_one]);
    assert_eq!(found("false").await, [later, plain]);

    let (status, body) = c
        .search(supervisor, &[("q", "report"), ("has_attachment", "yes")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "has_attachment", "{body}");
}
