//! Who is online in the team chat (issue 16, ADR 26): the snapshot a socket opens with and
//! the changes after it, the grace that keeps a reload from flapping, away, sessions that
//! end, the account's walls, replicas on PostgreSQL, and `GET …/chat/presence`.
//!
//! No test waits for a grace period: each runs the hub with a long one and ends it by
//! sweeping the register at a later instant.

use std::{collections::HashMap, time::Duration};

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::time::Instant;
use uuid::Uuid;

use crate::{
    accounts::{set_entitlements, super_admin},
    chat_live::{PATIENCE, Socket, tenant},
    support::{Caller, Tenant, TestApp, postgres_url},
};

/// Longer than any test takes, however slow the machine: tests end it with [`grace_ends`].
const GRACE_SECONDS: u64 = 300;

async fn spawn() -> TestApp {
    let grace = GRACE_SECONDS.to_string();
    TestApp::spawn_with(&[("CHAT_PRESENCE_GRACE_SECONDS", &grace)]).await
}

/// Every grace period running on `app` ends (and what other replicas said expires), as if
/// the time had passed.
fn grace_ends(app: &TestApp) {
    let later = Instant::now() + Duration::from_secs(GRACE_SECONDS + 1);
    app.state.realtime.presence().sweep(later);
}

/// Waits until `app` has seen every socket of `who` close (the hub notices a closed socket
/// when it next reads it).
async fn closed_on(app: &TestApp, t: &Tenant, who: &Caller) {
    let presence = app.state.realtime.presence();
    let closed = async {
        while presence.sockets(t.id, who.id) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(PATIENCE, closed)
        .await
        .expect("the hub saw the socket close");
}

fn uuid(value: &Value) -> Uuid {
    value.as_str().unwrap().parse().unwrap()
}

/// A socket that keeps who is online from its presence frames, as a client does.
pub(crate) struct Watcher {
    socket: Socket,
    status: HashMap<Uuid, String>,
    /// Every change heard, in order.
    heard: Vec<(Uuid, String)>,
}

impl Watcher {
    /// Opens a socket watching the tenant's people and the caller, and reads the answer to
    /// its watch list: the snapshot.
    pub(crate) async fn open(app: &TestApp, t: &Tenant, caller: &Caller) -> Watcher {
        Watcher::open_watching(app, t, caller, &[]).await
    }

    /// [`Watcher::open`], watching `others` too.
    pub(crate) async fn open_watching(
        app: &TestApp,
        t: &Tenant,
        caller: &Caller,
        others: &[Uuid],
    ) -> Watcher {
        let mut socket = Socket::open(app, t, caller).await;
        let mut watched = vec![t.admin.id, t.supervisor.id, t.agent.id, caller.id];
        watched.extend_from_slice(others);
        socket
            .send(json!({ "type": "presence_watch", "user_ids": watched }))
            .await;
        let snapshot = socket.frame().await;
        assert_eq!(snapshot["type"], "presence", "{snapshot}");
        assert!(snapshot["room_id"].is_null() && snapshot["seq"].is_null());
        assert!(snapshot["data"]["online"].is_array(), "{snapshot}");
        let mut watcher = Watcher {
            socket,
            status: HashMap::new(),
            heard: Vec::new(),
        };
        watcher.apply(&snapshot["data"]);
        watcher
    }

    fn apply(&mut self, data: &Value) {
        if data.get("online").is_some() {
            self.status.clear();
            for status in ["online", "away"] {
                for id in data[status].as_array().unwrap() {
                    self.status.insert(uuid(id), status.to_string());
                }
            }
            return;
        }
        let changes = match data.get("changes") {
            Some(changes) => changes.as_array().unwrap().clone(),
            None => vec![data.clone()],
        };
        for change in changes {
            let (user, status) = (uuid(&change["user_id"]), change["status"].to_string());
            let status = status.trim_matches('"').to_string();
            self.heard.push((user, status.clone()));
            if status == "offline" {
                self.status.remove(&user);
            } else {
                self.status.insert(user, status);
            }
        }
    }

    fn of(&self, who: Uuid) -> &str {
        self.status.get(&who).map_or("offline", String::as_str)
    }

    /// Reads frames until `who` is `status` (each frame within the tests' patience).
    pub(crate) async fn until(&mut self, who: Uuid, status: &str) {
        while self.of(who) != status {
            let frame = self.socket.frame().await;
            if frame["type"] == "presence" {
                assert!(frame["room_id"].is_null() && frame["seq"].is_null());
                self.apply(&frame["data"]);
            }
        }
    }

    fn heard_of(&self, who: Uuid) -> Vec<&str> {
        let heard = self.heard.iter().filter(|(user, _)| *user == who);
        heard.map(|(_, status)| status.as_str()).collect()
    }

    async fn close(mut self) {
        let _ = self.socket.ws.close(None).await;
    }
}

async fn presence(app: &TestApp, t: &Tenant, token: &str) -> Value {
    let resp = app.get(&t.path("/chat/presence"), token).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body
}

fn sorted(mut ids: Vec<Uuid>) -> Value {
    ids.sort();
    json!(ids)
}

#[tokio::test]
async fn a_socket_opens_with_who_is_online_and_hears_who_comes() {
    let app = spawn().await;
    let t = tenant(&app, "Acme").await;
    let mut agent = Watcher::open(&app, &t, &t.agent).await;
    agent.until(t.agent.id, "online").await;

    let admin = Watcher::open(&app, &t, &t.admin).await;
    assert_eq!(admin.of(t.agent.id), "online", "in the snapshot");
    agent.until(t.admin.id, "online").await;
    assert_eq!(agent.heard_of(t.admin.id), ["online"]);

    let body = presence(&app, &t, &t.supervisor.token).await;
    assert_eq!(body["online"], sorted(vec![t.agent.id, t.admin.id]));
    assert_eq!(body["away"], json!([]));
    // An API key reads it too, with chat:read.
    let key = app
        .post(
            &t.path("/api-keys"),
            &t.admin.token,
            json!({ "name": "presence", "scopes": ["chat:read"] }),
        )
        .await;
    let key = key.body["key"].as_str().unwrap();
    assert_eq!(presence(&app, &t, key).await, body);
}

#[tokio::test]
async fn a_reload_within_the_grace_does_not_flap_and_the_last_socket_leaves_after_it() {
    let app = spawn().await;
    let t = tenant(&app, "Acme").await;
    let mut admin = Watcher::open(&app, &t, &t.admin).await;
    let agent = Socket::open(&app, &t, &t.agent).await;
    admin.until(t.agent.id, "online").await;

    // A reload: the socket closes and another opens, then the grace runs out.
    drop(agent);
    closed_on(&app, &t, &t.agent).await;
    let agent = Watcher::open(&app, &t, &t.agent).await;
    grace_ends(&app);
    // Whatever the sweep sent comes before the supervisor's arrival.
    let supervisor = Socket::open(&app, &t, &t.supervisor).await;
    admin.until(t.supervisor.id, "online").await;
    assert_eq!(admin.heard_of(t.agent.id), ["online"], "no flap");

    // The last socket closes: online until the grace ends, then offline.
    agent.close().await;
    closed_on(&app, &t, &t.agent).await;
    let body = presence(&app, &t, &t.admin.token).await;
    assert!(
        body["online"]
            .as_array()
            .unwrap()
            .contains(&json!(t.agent.id))
    );
    grace_ends(&app);
    admin.until(t.agent.id, "offline").await;
    let body = presence(&app, &t, &t.admin.token).await;
    assert_eq!(body["online"], sorted(vec![t.admin.id, t.supervisor.id]));
    drop(supervisor);
}

#[tokio::test]
async fn someone_whose_session_ends_or_who_is_deactivated_goes_offline_at_once() {
    let app = spawn().await;
    let t = tenant(&app, "Acme").await;
    let extra = app.user("extra@acme.test", false).await;
    app.join(t.id, extra.id, "agent").await;
    let mut admin = Watcher::open_watching(&app, &t, &t.admin, &[extra.id]).await;
    let _agent = Socket::open(&app, &t, &t.agent).await;
    let _supervisor = Socket::open(&app, &t, &t.supervisor).await;
    admin.until(t.agent.id, "online").await;
    admin.until(t.supervisor.id, "online").await;

    // No sweep: the grace (minutes long here) does not apply.
    let logout = app
        .post("/api/v1/auth/logout", &t.agent.token, json!({}))
        .await;
    assert!(logout.status.is_success(), "{:?}", logout.body);
    admin.until(t.agent.id, "offline").await;

    let deactivate = |who: Uuid| t.path(&format!("/users/{who}/deactivate"));
    let done = app
        .post(&deactivate(t.supervisor.id), &t.admin.token, json!({}))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    admin.until(t.supervisor.id, "offline").await;

    // Someone who had just closed their page (within the grace) goes too.
    drop(Socket::open(&app, &t, &extra).await);
    admin.until(extra.id, "online").await;
    closed_on(&app, &t, &extra).await;
    let done = app
        .post(&deactivate(extra.id), &t.admin.token, json!({}))
        .await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    admin.until(extra.id, "offline").await;
    let body = presence(&app, &t, &t.admin.token).await;
    assert_eq!(body["online"], json!([t.admin.id]));
}

#[tokio::test]
async fn a_person_is_away_when_every_page_of_theirs_is_hidden() {
    let app = spawn().await;
    let t = tenant(&app, "Acme").await;
    let mut admin = Watcher::open(&app, &t, &t.admin).await;
    let mut tab = Socket::open(&app, &t, &t.agent).await;
    let mut other_tab = Socket::open(&app, &t, &t.agent).await;
    admin.until(t.agent.id, "online").await;

    tab.send(json!({ "type": "presence", "status": "away" }))
        .await;
    other_tab
        .send(json!({ "type": "presence", "status": "away" }))
        .await;
    admin.until(t.agent.id, "away").await;
    let body = presence(&app, &t, &t.admin.token).await;
    assert_eq!(body["away"], json!([t.agent.id]));
    assert_eq!(body["online"], json!([t.admin.id]));

    // One page shown again is enough.
    tab.send(json!({ "type": "presence", "status": "online" }))
        .await;
    admin.until(t.agent.id, "online").await;
    assert_eq!(admin.heard_of(t.agent.id), ["online", "away", "online"]);

    // Hidden again too soon after the last (a page flapping): taken when the interval is
    // over, not dropped — dropped, the page would stay online while hidden.
    tab.send(json!({ "type": "presence", "status": "away" }))
        .await;
    admin.until(t.agent.id, "away").await;
    assert_eq!(
        admin.heard_of(t.agent.id),
        ["online", "away", "online", "away"]
    );

    // A status that is not a page's is refused like any unreadable frame.
    tab.send(json!({ "type": "presence", "status": "offline" }))
        .await;
    let error = tab.next().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["data"]["code"], "unreadable_frame");
}

#[tokio::test]
async fn another_account_never_hears_of_it() {
    let app = spawn().await;
    let acme = tenant(&app, "Acme").await;
    let globex = tenant(&app, "Globex").await;
    // Watching Acme's agent by id, as someone who learnt it would.
    let acmes = [acme.agent.id];
    let mut outsider = Watcher::open_watching(&app, &globex, &globex.admin, &acmes).await;
    let mut agent = Watcher::open(&app, &acme, &acme.agent).await;
    agent.until(acme.agent.id, "online").await;

    // Globex's next news is its own agent, and nothing of Acme came before it.
    let _theirs = Socket::open(&app, &globex, &globex.agent).await;
    outsider.until(globex.agent.id, "online").await;
    assert!(outsider.heard_of(acme.agent.id).is_empty());
    let late = Watcher::open_watching(&app, &globex, &globex.supervisor, &acmes).await;
    assert_eq!(late.of(acme.agent.id), "offline", "not in the snapshot");

    let theirs = presence(&app, &globex, &globex.admin.token).await;
    let ours = presence(&app, &acme, &acme.admin.token).await;
    assert!(!theirs.to_string().contains(&acme.agent.id.to_string()));
    assert_eq!(ours["online"], json!([acme.agent.id]));
    // Another account's people get the 404 of an account that does not exist.
    app.get(&acme.path("/chat/presence"), &globex.admin.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn presence_crosses_replicas_and_a_replica_that_starts_learns_it() {
    if postgres_url().is_none() {
        return; // SQLite is one process: there is no other replica.
    }
    let app = spawn().await;
    let t = tenant(&app, "Acme").await;
    let mut agent = Watcher::open(&app, &t, &t.agent).await;
    agent.until(t.agent.id, "online").await;

    // Started after the agent came online: it asks the others who is online on them.
    let replica = app.replica().await;
    let mut admin = Watcher::open(&replica, &t, &t.admin).await;
    admin.until(t.agent.id, "online").await;
    let body = presence(&replica, &t, &t.supervisor.token).await;
    assert!(
        body["online"]
            .as_array()
            .unwrap()
            .contains(&json!(t.agent.id))
    );

    // Someone comes and goes on the replica: the first hub hears both.
    let supervisor = Socket::open(&replica, &t, &t.supervisor).await;
    agent.until(t.supervisor.id, "online").await;
    drop(supervisor);
    closed_on(&replica, &t, &t.supervisor).await;
    grace_ends(&replica);
    agent.until(t.supervisor.id, "offline").await;
    assert_eq!(agent.heard_of(t.supervisor.id), ["online", "offline"]);
}

#[tokio::test]
async fn a_socket_hears_only_of_the_people_it_watches() {
    let app = spawn().await;
    let t = tenant(&app, "Acme").await;
    // Watching nobody: no snapshot, and nothing of whoever comes and goes.
    let mut quiet = Socket::open(&app, &t, &t.supervisor).await;
    let mut admin = Watcher::open(&app, &t, &t.admin).await;
    let _agent = Socket::open(&app, &t, &t.agent).await;
    admin.until(t.agent.id, "online").await;
    // The first frame the quiet socket hears is the answer to its watch list: nothing of the
    // admin's and the agent's arrivals came before it.
    quiet
        .send(json!({ "type": "presence_watch", "user_ids": [t.agent.id] }))
        .await;
    let first = quiet.frame().await;
    assert_eq!(first["type"], "presence", "{first}");
    assert_eq!(first["data"], json!({ "online": [t.agent.id], "away": [] }));

    let too_many: Vec<Uuid> = (0..301).map(|_| Uuid::new_v4()).collect();
    quiet
        .send(json!({ "type": "presence_watch", "user_ids": too_many }))
        .await;
    let error = quiet.frame().await;
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["data"]["code"], "too_many_people");
}

/// Presence is the team chat's: in an account whose plan lacks it, a socket's watch list is
/// refused and nobody is heard of.
#[tokio::test]
async fn without_the_chat_on_the_plan_nobody_is_heard_of() {
    let app = spawn().await;
    let t = tenant(&app, "Acme").await;
    let root = super_admin(&app).await;
    let off = json!({ "features": { "internal_chat_enabled": false } });
    set_entitlements(&app, &root, t.id, off).await;
    let _agent = Socket::open(&app, &t, &t.agent).await;
    let mut admin = Socket::open(&app, &t, &t.admin).await;
    admin
        .send(json!({ "type": "presence_watch", "user_ids": [t.agent.id] }))
        .await;
    let frame = admin.frame().await;
    assert_eq!(frame["type"], "error", "{frame}");
    assert_eq!(frame["data"]["code"], "feature_disabled");
}
