//! Realtime boards: tickets open one stream once, only from the hub's origins; a change to
//! a board reaches the account's streams (and no other account's), also across replicas
//! on PostgreSQL; a stream is told when to reload.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    accounts::super_admin,
    support::{Caller, Tenant, TestApp, postgres_url},
};

/// A stream that never answers fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(10);

async fn tenant(app: &TestApp, name: &str) -> Tenant {
    let root = super_admin(app).await;
    app.tenant(&root, name).await
}

async fn ticket(app: &TestApp, t: &Tenant, caller: &Caller) -> String {
    let resp = app
        .post(&t.path("/realtime/tickets"), &caller.token, json!({}))
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    assert_eq!(resp.body["expires_in"], 30);
    resp.body["ticket"].as_str().unwrap().to_string()
}

async fn open(app: &TestApp, ticket: &str, origin: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(format!(
        "{}/api/v1/realtime/events?ticket={ticket}",
        app.base
    ));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

/// Server-sent events read off a response, skipping keep-alive comments.
pub(crate) struct Events {
    response: reqwest::Response,
    buffer: String,
}

impl Events {
    async fn open(app: &TestApp, t: &Tenant) -> Events {
        Events::open_as(app, t, &t.agent).await
    }

    pub(crate) async fn open_as(app: &TestApp, t: &Tenant, caller: &Caller) -> Events {
        let ticket = ticket(app, t, caller).await;
        let response = open(app, &ticket, None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-type"],
            "text/event-stream",
            "an event stream"
        );
        let mut events = Events {
            response,
            buffer: String::new(),
        };
        assert_eq!(events.next().await.0, "ready");
        events
    }

    /// The next event's name and data.
    pub(crate) async fn next(&mut self) -> (String, Value) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if name.is_empty() {
                    continue; // a keep-alive comment
                }
                return (name, serde_json::from_str(&data).unwrap());
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .expect("an event within the patience window")
                .unwrap()
                .expect("the stream stays open");
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next `board` event. A `resync` may come first (a stream that fell behind, or a
    /// replica's listener that reconnected): clients reload then, and later changes are
    /// still announced.
    async fn next_change(&mut self) -> Value {
        loop {
            let (name, data) = self.next().await;
            if name == "resync" {
                continue;
            }
            assert_eq!(name, "board", "{data}");
            return data;
        }
    }
}

async fn new_board(app: &TestApp, t: &Tenant) -> Value {
    let resp = app
        .post(
            &t.path("/boards"),
            &t.admin.token,
            json!({ "name": "Sales" }),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body
}

async fn new_card(app: &TestApp, t: &Tenant, board: &Value, title: &str) -> Value {
    let path = t.path(&format!("/boards/{}/cards", board["id"].as_str().unwrap()));
    let resp = app
        .post(&path, &t.agent.token, json!({ "title": title }))
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body
}

#[tokio::test]
async fn card_and_stage_changes_reach_the_accounts_open_streams() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let board = new_board(&app, &t).await;
    let board_id = board["id"].as_str().unwrap();
    let mut events = Events::open(&app, &t).await;

    let card = new_card(&app, &t, &board, "Deal").await;
    let created = events.next_change().await;
    assert_eq!(created["board_id"], board["id"]);
    assert_eq!(created["cards"], json!([card["id"]]));
    assert_eq!(created["structure"], false);
    let first_revision = created["revision"].as_i64().unwrap();

    let won = board["stages"][3]["id"].clone();
    let path = t.path(&format!(
        "/boards/{board_id}/cards/{}/move",
        card["id"].as_str().unwrap()
    ));
    let moved = app
        .post(&path, &t.agent.token, json!({ "stage_id": won }))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let change = events.next_change().await;
    assert_eq!(change["cards"], json!([card["id"]]));
    assert!(change["revision"].as_i64().unwrap() > first_revision);

    let renamed = app
        .request(
            reqwest::Method::PATCH,
            &t.path(&format!(
                "/boards/{board_id}/stages/{}",
                won.as_str().unwrap()
            )),
            Some(&t.admin.token),
            Some(json!({ "name": "Closed won" })),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let change = events.next_change().await;
    assert_eq!(change["structure"], true);
    assert_eq!(change["cards"], Value::Null);

    // The board's revision is what the stream announced.
    let detail = app
        .get(&t.path(&format!("/boards/{board_id}")), &t.agent.token)
        .await;
    assert_eq!(detail.body["revision"], change["revision"]);
}

#[tokio::test]
async fn a_stream_hears_nothing_of_another_account() {
    let app = TestApp::spawn().await;
    let acme = tenant(&app, "Acme").await;
    let root = super_admin(&app).await;
    let globex = app.tenant(&root, "Globex").await;
    let acme_board = new_board(&app, &acme).await;
    let globex_board = new_board(&app, &globex).await;
    let mut events = Events::open(&app, &globex).await;

    new_card(&app, &acme, &acme_board, "Not yours").await;
    let mine = new_card(&app, &globex, &globex_board, "Yours").await;
    let change = events.next_change().await;
    assert_eq!(
        change["cards"],
        json!([mine["id"]]),
        "Acme's change skipped"
    );
    assert_eq!(change["account_id"], json!(globex.id));
}

#[tokio::test]
async fn a_ticket_opens_one_stream_once_and_only_for_people() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let ticket = ticket(&app, &t, &t.agent).await;
    assert!(ticket.starts_with("wpht_"));

    let first = open(&app, &ticket, None).await;
    assert_eq!(first.status(), StatusCode::OK);
    let again = open(&app, &ticket, None).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let problem: Value = again.json().await.unwrap();
    assert_eq!(problem["code"], "ticket_invalid");

    let forged = open(&app, "wpht_forged", None).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    // No ticket at all: a problem naming the missing parameter, not a stream.
    let bare = app
        .client
        .get(format!("{}/api/v1/realtime/events", app.base))
        .send()
        .await
        .unwrap();
    assert!(bare.status().is_client_error(), "{}", bare.status());
    assert_eq!(bare.headers()["content-type"], "application/problem+json");

    // API keys follow changes through webhooks, not streams.
    let key = app
        .post(
            &t.path("/api-keys"),
            &t.admin.token,
            json!({ "name": "bot", "scopes": ["kanban:read"] }),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.body);
    app.post(
        &t.path("/realtime/tickets"),
        key.body["key"].as_str().unwrap(),
        json!({}),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "insufficient_scope");

    // A member of another account gets no ticket here, and learns nothing.
    let root = super_admin(&app).await;
    let other = app.tenant(&root, "Globex").await;
    app.post(&t.path("/realtime/tickets"), &other.agent.token, json!({}))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_stream_opens_only_from_the_hubs_own_origins() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let ticket_a = ticket(&app, &t, &t.agent).await;
    let refused = open(&app, &ticket_a, Some("https://evil.example")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "origin_not_allowed");
    // An opaque origin is no one the hub knows (issue 13, finding 9).
    let opaque = open(&app, &ticket_a, Some("null")).await;
    assert_eq!(opaque.status(), StatusCode::FORBIDDEN);

    // Another name for this server is not its origin unless the browser asked for it there.
    let port = app.base.rsplit(':').next().unwrap();
    let other_name = format!("http://localhost:{port}");
    let elsewhere = open(&app, &ticket_a, Some(&other_name)).await;
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);

    // The refused attempts did not use the ticket up; the hub's own origin may open it.
    let own = open(&app, &ticket_a, Some(&app.base)).await;
    assert_eq!(own.status(), StatusCode::OK);
}

/// A page the hub served under another name than `PUBLIC_URL`'s (127.0.0.1 for localhost)
/// is still the hub's own: the browser's `Host` and `Origin` agree.
#[tokio::test]
async fn a_stream_opens_from_the_hub_reached_under_another_name() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let port = app.base.rsplit(':').next().unwrap().to_string();
    let other_name = format!("localhost:{port}");
    let open_as = |ticket: String, origin: String, host: String| {
        let url = format!("{}/api/v1/realtime/events?ticket={ticket}", app.base);
        let request = app.client.get(url).header("origin", origin);
        request.header("host", host).send()
    };
    let cases = [
        // Another host than the one asked for, or the right one over another scheme.
        (
            format!("http://{other_name}"),
            format!("hub.example:{port}"),
            StatusCode::FORBIDDEN,
        ),
        (
            format!("https://{other_name}"),
            other_name.clone(),
            StatusCode::FORBIDDEN,
        ),
        (
            format!("http://{other_name}"),
            other_name.clone(),
            StatusCode::OK,
        ),
    ];
    for (origin, host, expected) in cases {
        let opened = open_as(ticket(&app, &t, &t.agent).await, origin.clone(), host)
            .await
            .unwrap();
        assert_eq!(opened.status(), expected, "{origin}");
    }
}

#[tokio::test]
async fn a_logged_out_session_gets_no_stream() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let ticket = ticket(&app, &t, &t.agent).await;
    let logout = app
        .post("/api/v1/auth/logout", &t.agent.token, json!({}))
        .await;
    assert!(logout.status.is_success(), "{:?}", logout.body);
    let refused = open(&app, &ticket, None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_stream_ends_as_soon_as_its_session_membership_or_account_does() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let t = app.tenant(&root, "Acme").await;
    // Each at once, not at the stream's next periodic check (30 s, past PATIENCE).
    let mut stream = Events::open(&app, &t).await;
    let logout = app
        .post("/api/v1/auth/logout", &t.agent.token, json!({}))
        .await;
    assert!(logout.status.is_success(), "{:?}", logout.body);
    assert_eq!(
        stream.next().await,
        ("end".into(), json!({ "code": "session_revoked" }))
    );

    let agent = Caller {
        id: t.agent.id,
        token: app.token_for(t.agent.id).await,
    };
    let mut stream = Events::open_as(&app, &t, &agent).await;
    let deactivate = t.path(&format!("/users/{}/deactivate", agent.id));
    let deactivated = app.post(&deactivate, &t.admin.token, json!({})).await;
    assert_eq!(deactivated.status, StatusCode::OK, "{:?}", deactivated.body);
    assert_eq!(stream.next().await.0, "end");

    // On PostgreSQL the suspension is made on another replica.
    let other = match postgres_url() {
        Some(_) => Some(app.replica().await),
        None => None,
    };
    let mut stream = Events::open_as(&app, &t, &t.supervisor).await;
    let suspend = json!({ "status": "suspended" });
    let suspended = other
        .as_ref()
        .unwrap_or(&app)
        .put(&t.path(""), &root.token, suspend)
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{:?}", suspended.body);
    let ended = json!({ "code": "account_suspended" });
    assert_eq!(stream.next().await, ("end".into(), ended));
}

#[tokio::test]
async fn changes_made_on_one_replica_reach_streams_on_another() {
    if postgres_url().is_none() {
        return; // SQLite is one process: there is no other replica.
    }
    let app = TestApp::spawn().await;
    let replica = app.replica().await;
    let t = tenant(&app, "Acme").await;
    let board = new_board(&app, &t).await;
    let mut on_replica = Events::open(&replica, &t).await;
    let mut on_origin = Events::open(&app, &t).await;

    let card = new_card(&app, &t, &board, "Seen everywhere").await;
    for events in [&mut on_replica, &mut on_origin] {
        let change = events.next_change().await;
        assert_eq!(change["cards"], json!([card["id"]]));
    }
}

/// A ticket may be issued on the replica's memory of the caller's access (ADR 33); the
/// ticket's insert checks that access again, so a session ended or a member deactivated
/// since gets no ticket.
#[tokio::test]
async fn a_ticket_checks_again_what_the_caller_was_granted() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Acme").await;
    let path = t.path("/realtime/tickets");
    for caller in [&t.agent, &t.supervisor] {
        ticket(&app, &t, caller).await;
        ticket(&app, &t, caller).await;
    }

    let deactivate = t.path(&format!("/users/{}/deactivate", t.supervisor.id));
    let done = app.post(&deactivate, &t.admin.token, json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    let refused = app.post(&path, &t.supervisor.token, json!({})).await;
    assert!(refused.status.is_client_error(), "{:?}", refused.status);
    assert!(refused.body.get("ticket").is_none());

    let logout = app
        .post("/api/v1/auth/logout", &t.agent.token, json!({}))
        .await;
    assert!(logout.status.is_success(), "{:?}", logout.body);
    app.post(&path, &t.agent.token, json!({}))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
}

/// A ticket speaks for its person only while they may still follow the account, judged as it
/// is used, not as it was issued: a new role since still follows it, an ended membership or
/// a suspended account does not, and a refused ticket is used up all the same.
#[tokio::test]
async fn a_ticket_is_refused_when_its_access_ended_after_it_was_issued() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let t = app.tenant(&root, "Acme").await;

    let promoted_since = ticket(&app, &t, &t.agent).await;
    let user = t.path(&format!("/users/{}", t.agent.id));
    let promoted = app
        .put(&user, &t.admin.token, json!({ "role": "supervisor" }))
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
    assert_eq!(
        open(&app, &promoted_since, None).await.status(),
        StatusCode::OK
    );

    let deactivated_since = ticket(&app, &t, &t.agent).await;
    let deactivate = t.path(&format!("/users/{}/deactivate", t.agent.id));
    let done = app.post(&deactivate, &t.admin.token, json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    let refused = open(&app, &deactivated_since, None).await;
    assert!(refused.status().is_client_error(), "{}", refused.status());

    let suspended_since = ticket(&app, &t, &t.supervisor).await;
    let suspend = json!({ "status": "suspended" });
    let suspended = app.put(&t.path(""), &root.token, suspend).await;
    assert_eq!(suspended.status, StatusCode::OK, "{:?}", suspended.body);
    let refused = open(&app, &suspended_since, None).await;
    assert!(refused.status().is_client_error(), "{}", refused.status());
    // Refused tickets are used up all the same.
    let reactivate = json!({ "status": "active" });
    let back = app.put(&t.path(""), &root.token, reactivate).await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
    let again = open(&app, &suspended_since, None).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
}

/// A replica shutting down ends its streams (the browser reconnects to another) rather than
/// holding the shutdown up until its drain limit.
#[tokio::test]
async fn a_stream_ends_as_its_server_shuts_down() {
    // A drain limit past the stream's patience: only the stream's own end is in time.
    let mut app = TestApp::spawn_with(&[("SHUTDOWN_TIMEOUT_SECS", "60")]).await;
    let t = tenant(&app, "Acme").await;
    let board = new_board(&app, &t).await;
    let mut stream = Events::open(&app, &t).await;
    new_card(&app, &t, &board, "Lead").await;
    stream.next_change().await;
    app.shutdown.cancel();
    loop {
        let chunk = tokio::time::timeout(PATIENCE, stream.response.chunk())
            .await
            .expect("the stream ends within the patience window");
        if !matches!(chunk, Ok(Some(_))) {
            break;
        }
    }
    app.stop().await;
}
