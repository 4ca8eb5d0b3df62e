//! Chatwoot webhook intake: signature, window and unsigned rules, de-duplication, stored
//! before acknowledged, and processed by the worker (inbox events refresh the mirror),
//! with retries when Chatwoot cannot be reached.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use whatpro_hub::{
    chatwoot::signature,
    platform::clock,
    simulators::chatwoot::{DemoInstallation, Simulator, demo::DEMO_ADMIN_TOKEN},
};

use crate::{
    accounts::account_path,
    sso::{SignedIn, chatwoot, hub, sign_in},
    support::{Resp, TestApp},
};

/// A hub connected to the simulator's demo account.
pub(crate) async fn connected(
    vars: &[(&str, &str)],
) -> (Simulator, DemoInstallation, TestApp, SignedIn) {
    let (sim, demo) = chatwoot().await;
    let app = hub(&sim, vars).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let connect = app
        .post(
            &format!("{}/chatwoot/connect", account_path(admin.account_id)),
            &admin.access,
            json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN }),
        )
        .await;
    assert_eq!(connect.status, StatusCode::OK, "{:?}", connect.body);
    (sim, demo, app, admin)
}

pub(crate) async fn deliver(
    app: &TestApp,
    account: Uuid,
    headers: &[(&str, String)],
    body: &[u8],
) -> Resp {
    let mut request = app
        .client
        .post(format!("{}/api/v1/webhooks/chatwoot/{account}", app.base))
        .header("content-type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    Resp::read(request.body(body.to_vec()).send().await.unwrap()).await
}

pub(crate) fn signed_headers(
    secret: &str,
    body: &[u8],
    at: i64,
    delivery: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("x-chatwoot-timestamp", at.to_string()),
        (
            "x-chatwoot-signature",
            signature::sign(secret.as_bytes(), at, body),
        ),
        ("x-chatwoot-delivery", delivery.to_string()),
    ]
}

async fn deliveries(app: &TestApp, admin: &SignedIn, query: &str) -> Vec<Value> {
    let path = format!(
        "{}/webhook-deliveries{query}",
        account_path(admin.account_id)
    );
    let resp = app.get(&path, &admin.access).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body["items"].as_array().unwrap().clone()
}

/// Waits up to ten seconds for `done` to hold.
pub(crate) async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn conversation_created(id: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({ "event": "conversation_created", "id": id, "updated_at": 1.5 }))
        .unwrap()
}

#[tokio::test]
async fn an_inbox_created_in_chatwoot_reaches_the_hub_through_its_webhook() {
    let (sim, demo, app, admin) = connected(&[("DEFAULT_PLAN_MAX_INBOXES", "5")]).await;
    let inbox = sim.add_inbox(demo.account_id, "Telegram", "Channel::Telegram", None);
    sim.emit_inbox_created(demo.account_id, inbox);
    let sent = sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert_eq!(sent[0].status, Some(200), "{:?}", sent[0]);
    assert!(sent[0].signed);

    let inboxes = format!("{}/inboxes", account_path(admin.account_id));
    eventually("the new inbox in the mirror", || {
        let (app, inboxes, access) = (&app, &inboxes, &admin.access);
        async move {
            let list = app.get(inboxes, access).await;
            list.body["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|i| i["chatwoot_inbox_id"] == inbox))
        }
    })
    .await;
    let stored = deliveries(&app, &admin, "").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["event"], "inbox_created");
    let key = stored[0]["dedupe_key"].as_str().unwrap();
    assert!(key.starts_with("sig:"), "keyed on what was signed: {key}");
    assert!(sent[0].delivery_id.len() > 10);
    eventually("the delivery marked done", || {
        let (app, admin) = (&app, &admin);
        async move { deliveries(app, admin, "?status=done").await.len() == 1 }
    })
    .await;
}

/// An event of Chatwoot's that no consumer acts on (typing) is taken and done, not retried
/// until dead: it has nothing to do.
#[tokio::test]
async fn an_event_no_consumer_wants_is_done() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let secret = sim.webhooks(demo.account_id)[0].secret.clone();
    let body = serde_json::to_vec(&json!({ "event": "conversation_typing_on", "id": 3 })).unwrap();
    let now = clock::now().unix_timestamp();
    let headers = signed_headers(&secret, &body, now, "typing-1");
    let resp = deliver(&app, admin.account_id, &headers, &body).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    eventually("the typing event marked done", || {
        let (app, admin) = (&app, &admin);
        async move {
            let done = deliveries(app, admin, "?status=done").await;
            done.len() == 1 && done[0]["attempts"] == 1 && done[0]["last_error"].is_null()
        }
    })
    .await;
}

#[tokio::test]
async fn deliveries_need_a_fresh_valid_signature_and_are_stored_once() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let secret = sim.webhooks(demo.account_id)[0].secret.clone();
    let account = admin.account_id;
    let body = conversation_created(7);
    let now = clock::now().unix_timestamp();

    let wrong = signed_headers("not-the-secret", &body, now, "d-1");
    deliver(&app, account, &wrong, &body)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_signature");
    let stale = signed_headers(&secret, &body, now - 301, "d-1");
    deliver(&app, account, &stale, &body)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_signature");
    deliver(
        &app,
        account,
        &[("x-chatwoot-delivery", "d-1".into())],
        &body,
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "invalid_signature");
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let for_original = signed_headers(&secret, &body, now, "d-1");
    deliver(&app, account, &for_original, &tampered)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_signature");
    assert!(
        deliveries(&app, &admin, "").await.is_empty(),
        "nothing refused is stored"
    );

    let headers = signed_headers(&secret, &body, now, "d-1");
    let first = deliver(&app, account, &headers, &body).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["status"], "accepted");
    let again = deliver(&app, account, &headers, &body).await;
    assert_eq!(again.body["status"], "duplicate");
    // Signed anew (only the secret's holder can): what was signed identifies a delivery,
    // not the delivery id, which is not signed.
    let resigned = signed_headers(&secret, &body, now + 1, "d-1");
    assert_eq!(
        deliver(&app, account, &resigned, &body).await.body["status"],
        "accepted"
    );
    let no_id: Vec<_> = signed_headers(&secret, &body, now + 2, "")
        .into_iter()
        .filter(|(name, _)| *name != "x-chatwoot-delivery")
        .collect();
    assert_eq!(
        deliver(&app, account, &no_id, &body).await.body["status"],
        "accepted"
    );
    assert_eq!(
        deliver(&app, account, &no_id, &body).await.body["status"],
        "duplicate"
    );
    assert_eq!(deliveries(&app, &admin, "").await.len(), 3);

    let not_json = b"not json".to_vec();
    deliver(
        &app,
        account,
        &signed_headers(&secret, &not_json, now, "d-2"),
        &not_json,
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    deliver(&app, Uuid::now_v7(), &headers, &body)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

/// Deliveries arriving at once share commits (group commit): each is still stored once,
/// and a duplicate is told so even when it is written in the same group as its original.
#[tokio::test]
async fn deliveries_arriving_together_are_each_stored_once() {
    use whatpro_hub::inbound::store;
    let (sim, demo, app, admin) = connected(&[]).await;
    let secret = sim.webhooks(demo.account_id)[0].secret.clone();
    let now = clock::now().unix_timestamp();
    // Twenty deliveries, each sent twice, all at once.
    let sends = (0..40).map(|i| {
        let (app, secret) = (&app, &secret);
        async move {
            let body = conversation_created(100 + i % 20);
            let headers = signed_headers(secret, &body, now, &format!("burst-{}", i % 20));
            let resp = deliver(app, admin.account_id, &headers, &body).await;
            assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
            (i % 20, resp.body["status"].as_str().unwrap().to_string())
        }
    });
    let answers = futures_util::future::join_all(sends).await;
    for key in 0..20 {
        let mut statuses: Vec<_> = answers
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|(_, status)| status.as_str())
            .collect();
        statuses.sort_unstable();
        assert_eq!(statuses, ["accepted", "duplicate"], "delivery burst-{key}");
    }
    assert_eq!(deliveries(&app, &admin, "?limit=100").await.len(), 20);

    // One group holding a key twice, and a key already stored.
    let new = |key: &str| store::NewDelivery {
        source: whatpro_hub::inbound::FROM_CHATWOOT,
        account_id: Some(admin.account_id),
        event: "conversation_created".into(),
        dedupe_key: key.into(),
        body: "{}".into(),
        received_at: clock::now(),
    };
    let listed = deliveries(&app, &admin, "?limit=1").await;
    let stored_key = listed[0]["dedupe_key"].as_str().unwrap();
    let group = [new("g-1"), new("g-2"), new("g-1"), new(stored_key)];
    let stored = store::insert_all(&app.state.db, &group).await.unwrap();
    assert_eq!(stored, [true, true, false, false]);
    assert_eq!(deliveries(&app, &admin, "?limit=100").await.len(), 22);
}

#[tokio::test]
async fn unsigned_deliveries_are_accepted_only_from_an_installation_marked_unsigned() {
    let (sim, demo) = chatwoot().await;
    sim.unsigned(true);
    let app = hub(&sim, &[("CHATWOOT_WEBHOOKS_UNSIGNED", "true")]).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let connect = app
        .post(
            &format!("{}/chatwoot/connect", account_path(admin.account_id)),
            &admin.access,
            json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN }),
        )
        .await;
    assert_eq!(
        connect.body["webhook"]["signed"], false,
        "{:?}",
        connect.body
    );
    let body = conversation_created(9);
    let resp = deliver(
        &app,
        admin.account_id,
        &[("x-chatwoot-delivery", "u-1".into())],
        &body,
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    let _ = demo;

    // The same Chatwoot, but the hub was not told it cannot sign: refused.
    let (sim, _demo) = chatwoot().await;
    sim.unsigned(true);
    let strict = hub(&sim, &[]).await;
    let admin = sign_in(&strict, DEMO_ADMIN_TOKEN).await;
    strict
        .post(
            &format!("{}/chatwoot/connect", account_path(admin.account_id)),
            &admin.access,
            json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN }),
        )
        .await;
    deliver(
        &strict,
        admin.account_id,
        &[("x-chatwoot-delivery", "u-1".into())],
        &body,
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "invalid_signature");
}

#[tokio::test]
async fn a_delivery_that_fails_is_retried_and_a_disconnected_account_gets_none() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let secret = sim.webhooks(demo.account_id)[0].secret.clone();
    let body = serde_json::to_vec(&json!({ "event": "inbox_updated", "id": null })).unwrap();
    let now = clock::now().unix_timestamp();
    // Chatwoot is down when the worker pulls the inboxes: the first attempt fails.
    sim.fail_next(1, 500);
    let resp = deliver(
        &app,
        admin.account_id,
        &signed_headers(&secret, &body, now, "r-1"),
        &body,
    )
    .await;
    assert_eq!(resp.status, StatusCode::OK);
    eventually("a failed first attempt", || {
        let (app, admin) = (&app, &admin);
        async move {
            let items = deliveries(app, admin, "").await;
            items[0]["attempts"] == 1 && items[0]["status"] == "pending"
        }
    })
    .await;
    let failed = deliveries(&app, &admin, "").await;
    let error = failed[0]["last_error"].as_str().unwrap_or_default();
    assert!(error.contains("Chatwoot"), "{:?}", failed[0]);
    eventually("the retry to succeed", || {
        let (app, admin) = (&app, &admin);
        async move { deliveries(app, admin, "?status=done").await.len() == 1 }
    })
    .await;

    // A dead delivery goes back into the queue and is processed again.
    let sql = "UPDATE webhook_deliveries SET status = 'dead', attempts = 8";
    whatpro_hub::on_writer!(&mut app.state.db.writer().await.unwrap(), pool => sqlx::query(sql).execute(pool).await.unwrap().rows_affected());
    let replay = format!(
        "{}/webhook-deliveries/replay",
        account_path(admin.account_id)
    );
    let replayed = app.post(&replay, &admin.access, json!({})).await;
    assert_eq!(
        replayed.body,
        json!({ "replayed": 1 }),
        "{:?}",
        replayed.body
    );
    eventually("the replayed delivery done", || {
        let (app, admin) = (&app, &admin);
        async move { deliveries(app, admin, "?status=done").await.len() == 1 }
    })
    .await;
    let unknown = format!(
        "{}/webhook-deliveries/{}/replay",
        account_path(admin.account_id),
        Uuid::now_v7()
    );
    app.post(&unknown, &admin.access, json!({}))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let disconnect = format!("{}/chatwoot/disconnect", account_path(admin.account_id));
    assert_eq!(
        app.post(&disconnect, &admin.access, json!({})).await.status,
        StatusCode::OK
    );
    deliver(
        &app,
        admin.account_id,
        &signed_headers(&secret, &body, now, "r-2"),
        &body,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

/// A replica keeps a connected account's receiver for a few seconds. When the account
/// reconnects on another replica (a new webhook, a new secret), deliveries signed with the
/// new secret are still taken at once, and the old secret is refused.
#[tokio::test]
async fn a_replica_takes_the_new_secret_at_once_after_a_reconnection_elsewhere() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let old_secret = sim.webhooks(demo.account_id)[0].secret.clone();
    let mut other = app.replica().await;
    let now = clock::now().unix_timestamp();
    let to_other = |secret: String, delivery: &'static str| {
        let (other, account) = (&other, admin.account_id);
        async move {
            let body = conversation_created(300);
            let headers = signed_headers(&secret, &body, now, delivery);
            deliver(other, account, &headers, &body).await.status
        }
    };
    // The other replica reads the receiver, and keeps it.
    assert_eq!(to_other(old_secret.clone(), "k-1").await, StatusCode::OK);

    let path = |action: &str| format!("{}/chatwoot/{action}", account_path(admin.account_id));
    let disconnected = app
        .post(&path("disconnect"), &admin.access, json!({}))
        .await;
    assert_eq!(
        disconnected.status,
        StatusCode::OK,
        "{:?}",
        disconnected.body
    );
    let token = json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN });
    let reconnected = app.post(&path("connect"), &admin.access, token).await;
    assert_eq!(reconnected.status, StatusCode::OK, "{:?}", reconnected.body);
    let new_secret = sim.webhooks(demo.account_id)[0].secret.clone();
    assert_ne!(new_secret, old_secret);

    assert_eq!(to_other(new_secret, "k-2").await, StatusCode::OK);
    assert_eq!(to_other(old_secret, "k-3").await, StatusCode::UNAUTHORIZED);
    other.stop().await;
}

/// A `conversation_created` body in Chatwoot's webhook shape (FACTS §1a).
fn new_conversation(id: i64, inbox_id: i64, contact: &str) -> String {
    let now = clock::now().unix_timestamp();
    json!({
        "event": "conversation_created",
        "id": id,
        "inbox_id": inbox_id,
        "channel": "Channel::Whatsapp",
        "status": "open",
        "labels": [],
        "messages": [],
        "priority": null,
        "contact_inbox": { "contact_id": id + 5000, "inbox_id": inbox_id },
        "meta": {
            "sender": { "id": id + 5000, "name": contact, "thumbnail": "", "type": "contact" },
            "assignee": null,
            "team": null,
        },
        "created_at": now,
        "timestamp": now,
        "updated_at": now as f64 + 0.25,
    })
    .to_string()
}

/// The "a worker crash mid-delivery": the worker took the delivery (it is
/// `processing`, attempt 1, leased) and died before finishing. Nobody takes it while the
/// lease is live; after the lease, the restarted hub's worker processes it exactly once.
#[tokio::test]
async fn a_delivery_left_by_a_crashed_worker_is_processed_once_after_its_lease() {
    use whatpro_hub::{inbound::store, platform::pagination::PageRequest};
    let (_sim, demo, mut app, admin) = connected(&[("WEBHOOK_LEASE_SECONDS", "2")]).await;
    // The hub goes down; its database stays. No worker runs while the crash is staged.
    app.stop().await;
    let db = app.state.db.clone();
    let conversation = 90_001;
    let body = new_conversation(conversation, demo.whatsapp_inbox_id, "Rita Sousa");
    let stored = store::NewDelivery {
        source: whatpro_hub::inbound::FROM_CHATWOOT,
        account_id: Some(admin.account_id),
        event: "conversation_created".into(),
        dedupe_key: "crash-1".into(),
        body,
        received_at: clock::now(),
    };
    assert!(store::insert(&db, &stored).await.unwrap());

    // The worker that crashed: it claimed the delivery exactly as `worker::run` does, with
    // the configured lease, and never settled it.
    let lease = time::Duration::try_from(app.state.config.webhook_lease).unwrap();
    assert_eq!(lease, time::Duration::seconds(2));
    let taken_at = clock::now();
    let crashed = store::claim(&db, taken_at, lease)
        .await
        .unwrap()
        .expect("the stored delivery is due");
    assert_eq!(
        (crashed.event.as_str(), crashed.attempts),
        ("conversation_created", 1)
    );
    let delivery = |db: &whatpro_hub::platform::db::Db| {
        let db = db.clone();
        async move {
            let page = PageRequest {
                limit: 10,
                after: None,
            };
            let all = store::list(&db, admin.account_id, None, page)
                .await
                .unwrap();
            let mine: Vec<_> = all.into_iter().filter(|d| d.id == crashed.id).collect();
            assert_eq!(mine.len(), 1);
            mine.into_iter().next().unwrap()
        }
    };
    let left = delivery(&db).await;
    assert_eq!((left.status.as_str(), left.attempts), ("processing", 1));

    // While the lease is live — up to and including its last instant — no worker takes it.
    for at in [
        taken_at,
        taken_at + time::Duration::seconds(1),
        taken_at + lease,
    ] {
        let again = store::claim(&db, at, lease).await.unwrap();
        assert!(
            again.is_none(),
            "taken again at {at} under a lease to {}",
            taken_at + lease
        );
    }

    // The hub restarts; its worker takes the delivery once the lease has run out.
    let mut hub = app.replica().await;
    eventually("the abandoned delivery processed", || {
        let db = &db;
        async move { delivery(db).await.status == "done" }
    })
    .await;
    let done = delivery(&db).await;
    assert_eq!(
        done.attempts, 2,
        "the crashed attempt and one more: {done:?}"
    );
    assert!(
        done.last_error.is_none() && done.processed_at.is_some(),
        "{done:?}"
    );
    assert!(
        done.processed_at.unwrap() > taken_at + lease,
        "processed only after the lease: {done:?}"
    );

    // One card for the conversation, created once.
    let account = crate::accounts::account_path(admin.account_id);
    let get = |path: String| {
        let (hub, access) = (&hub, &admin.access);
        async move { hub.get(&path, access).await }
    };
    let boards = get(format!("{account}/boards")).await;
    let board = boards.body["items"][0]["id"].as_str().unwrap().to_string();
    let cards = get(format!(
        "{account}/boards/{board}/cards?conversation_id={conversation}"
    ))
    .await;
    let cards = cards.body["items"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert_eq!(cards[0]["title"], "Rita Sousa");
    let card = cards[0]["id"].as_str().unwrap();
    let history = get(format!("{account}/boards/{board}/cards/{card}/history")).await;
    let created: Vec<_> = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "created")
        .collect();
    assert_eq!(created.len(), 1, "{:?}", history.body);

    // Done is final: no worker takes it again, however late.
    let later = clock::now() + time::Duration::days(1);
    assert!(store::claim(&db, later, lease).await.unwrap().is_none());
    hub.stop().await;
}

/// A hub stopped right after making an account: no worker runs, so the claims a test makes
/// are the only ones.
async fn without_worker(account_name: &str) -> (TestApp, Uuid) {
    let mut app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let tenant = app.tenant(&root, account_name).await;
    app.stop().await;
    (app, tenant.id)
}

/// The claim is the fence: a worker that outlived its lease finds its delivery taken again
/// and records nothing over the new claim; deliveries given back are due at once, their
/// attempt not counted.
#[tokio::test]
async fn a_worker_past_its_lease_records_nothing_and_given_back_deliveries_are_due_again() {
    use whatpro_hub::inbound::store;
    let (app, account_id) = without_worker("Fence Co").await;
    let db = app.state.db.clone();
    let first = app.add_delivery(account_id).await;
    let lease = time::Duration::seconds(30);
    let t0 = clock::now();

    let slow = store::claim(&db, t0, lease).await.unwrap().unwrap();
    assert_eq!((slow.id, slow.attempts), (first, 1));
    // The lease ran out while the slow worker was still busy; another worker took it.
    let after = t0 + lease + time::Duration::seconds(1);
    let next = store::claim(&db, after, lease).await.unwrap().unwrap();
    assert_eq!((next.id, next.attempts), (first, 2));
    assert!(!store::finish(&db, &slow, after).await.unwrap());
    assert!(!store::fail(&db, &slow, "late", None).await.unwrap());
    assert!(store::finish(&db, &next, after).await.unwrap());
    let page = whatpro_hub::platform::pagination::PageRequest {
        limit: 10,
        after: None,
    };
    let done = store::list(&db, account_id, None, page).await.unwrap();
    assert_eq!((done[0].status.as_str(), done[0].attempts), ("done", 2));
    assert!(done[0].last_error.is_none());

    // A batch is taken oldest first; what is given back is pending again, due at once.
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.add_delivery(account_id).await);
    }
    let batch = store::claim_batch(&db, clock::now(), lease, 10)
        .await
        .unwrap();
    assert_eq!(batch.iter().map(|d| d.id).collect::<Vec<_>>(), ids);
    store::release(&db, &batch[1..]).await.unwrap();
    let again = store::claim_batch(&db, clock::now(), lease, 10)
        .await
        .unwrap();
    assert_eq!(again.iter().map(|d| d.id).collect::<Vec<_>>(), ids[1..]);
    assert!(again.iter().all(|d| d.attempts == 1));
}

/// A `message_created` body (FACTS §1a): the message, with its conversation in full.
fn new_message(conversation_id: i64, inbox_id: i64, contact: &str, text: &str) -> String {
    let conversation: Value =
        serde_json::from_str(&new_conversation(conversation_id, inbox_id, contact)).unwrap();
    let at = clock::now()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    json!({
        "event": "message_created",
        "id": conversation_id * 10,
        "content": text,
        "message_type": "incoming",
        "private": false,
        "created_at": at,
        "conversation": conversation,
    })
    .to_string()
}

/// Conversation and message deliveries next to each other are applied as a group; one that
/// cannot be processed must not take its neighbours down with it. Two groups are claimed
/// at once, one with a body that is not JSON (the group fails before its transaction); it
/// is then settled one by one: the neighbours are done after one attempt, with one card
/// each, made once; only the poison is failed, to be retried. A contact name holding a NUL
/// (which PostgreSQL cannot store) is no poison: Chatwoot's text is cleaned on the way in
/// (issue 13, finding 11). (On PostgreSQL two workers claim side by side and may split the
/// batch; nothing here depends on which worker takes what.)
#[tokio::test]
async fn a_delivery_that_cannot_be_processed_fails_alone_and_its_group_is_processed() {
    use whatpro_hub::{inbound::store, platform::pagination::PageRequest};
    let (_sim, demo, mut app, admin) = connected(&[]).await;
    // Everything is stored before a worker runs, so one claim takes it all, in order.
    app.stop().await;
    let db = app.state.db.clone();
    let inbox = demo.whatsapp_inbox_id;
    let stored = [
        (
            "a",
            "conversation_created",
            new_conversation(92_001, inbox, "Ana Lima"),
        ),
        ("not-json", "conversation_updated", "not json".to_string()),
        (
            "b",
            "conversation_created",
            new_conversation(92_002, inbox, "Bruno Reis"),
        ),
        ("not-grouped", "webwidget_triggered", "{}".to_string()),
        (
            "c",
            "conversation_created",
            new_conversation(92_003, inbox, "Caio Prado"),
        ),
        (
            "message",
            "message_created",
            new_message(demo.conversations[0], inbox, "Joana Reis", "Bom dia!"),
        ),
        (
            "nul",
            "conversation_created",
            new_conversation(92_004, inbox, "Nu\u{0}la"),
        ),
        (
            "d",
            "conversation_created",
            new_conversation(92_005, inbox, "Duda Alves"),
        ),
    ];
    for (key, event, body) in &stored {
        let new = store::NewDelivery {
            source: whatpro_hub::inbound::FROM_CHATWOOT,
            account_id: Some(admin.account_id),
            event: event.to_string(),
            dedupe_key: key.to_string(),
            body: body.clone(),
            received_at: clock::now(),
        };
        assert!(store::insert(&db, &new).await.unwrap());
    }

    let mut hub = app.replica().await;
    let all = || {
        let db = db.clone();
        async move {
            let page = PageRequest {
                limit: 50,
                after: None,
            };
            store::list(&db, admin.account_id, None, page)
                .await
                .unwrap()
        }
    };
    eventually("every delivery attempted", || async {
        all()
            .await
            .iter()
            .all(|d| d.attempts >= 1 && d.status != "processing")
    })
    .await;
    for delivery in all().await {
        if delivery.dedupe_key == "not-json" {
            assert!(
                delivery.status != "done" && delivery.last_error.is_some(),
                "{delivery:?}"
            );
        } else {
            assert_eq!(
                (delivery.status.as_str(), delivery.attempts),
                ("done", 1),
                "{delivery:?}"
            );
            assert!(delivery.last_error.is_none(), "{delivery:?}");
        }
    }

    // One card per conversation, made once, and the message on the card that was there
    // already.
    let account = crate::accounts::account_path(admin.account_id);
    let get = |path: String| {
        let (hub, access) = (&hub, &admin.access);
        async move { hub.get(&path, access).await }
    };
    let boards = get(format!("{account}/boards")).await;
    let board = boards.body["items"][0]["id"].as_str().unwrap().to_string();
    let cards = get(format!("{account}/boards/{board}/cards?limit=200")).await;
    let cards = cards.body["items"].as_array().unwrap().clone();
    for conversation in [92_001, 92_002, 92_003, 92_004, 92_005] {
        let ours: Vec<&Value> = cards
            .iter()
            .filter(|c| c["chatwoot_conversation_id"] == conversation)
            .collect();
        assert_eq!(ours.len(), 1, "conversation {conversation}: {cards:?}");
        if let Some(card) = ours.first() {
            let card = card["id"].as_str().unwrap();
            let history = get(format!("{account}/boards/{board}/cards/{card}/history")).await;
            let created = history
                .body
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "created")
                .count();
            assert_eq!(created, 1, "{:?}", history.body);
        }
    }
    let joana = cards
        .iter()
        .find(|c| c["chatwoot_conversation_id"] == demo.conversations[0])
        .unwrap();
    assert_eq!(joana["last_message"], "Bom dia!");
    hub.stop().await;
}

/// A group's deliveries are recorded done together, each with its own claim check: one
/// taken again meanwhile is not recorded over the new claim, and deliveries of different
/// attempts are recorded in the same call.
#[tokio::test]
async fn a_group_is_recorded_done_only_where_it_is_still_the_claim() {
    use whatpro_hub::inbound::store;
    let (app, account_id) = without_worker("Group Co").await;
    let db = app.state.db.clone();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(app.add_delivery(account_id).await);
    }
    let lease = time::Duration::seconds(30);
    let t0 = clock::now();
    let group = store::claim_batch(&db, t0, lease, 10).await.unwrap();
    assert_eq!(group.iter().map(|d| d.id).collect::<Vec<_>>(), ids);
    // The last one failed and was taken again (its second attempt) before the group ended.
    assert!(
        store::fail(&db, &group[2], "retry", Some(t0))
            .await
            .unwrap()
    );
    let retried = store::claim_batch(&db, t0, lease, 10).await.unwrap();
    assert_eq!(
        retried
            .iter()
            .map(|d| (d.id, d.attempts))
            .collect::<Vec<_>>(),
        [(ids[2], 2)]
    );

    let mut recorded = store::finish_all(&db, &group, t0).await.unwrap();
    recorded.sort();
    assert_eq!(recorded, ids[..2]);
    let newest = app.add_delivery(account_id).await;
    let mut both = retried;
    both.extend(
        store::claim_batch(&db, clock::now(), lease, 10)
            .await
            .unwrap(),
    );
    let mut recorded = store::finish_all(&db, &both, clock::now()).await.unwrap();
    recorded.sort();
    assert_eq!(recorded, [ids[2], newest]);

    let page = whatpro_hub::platform::pagination::PageRequest {
        limit: 10,
        after: None,
    };
    let all = store::list(&db, account_id, None, page).await.unwrap();
    assert!(
        all.iter()
            .all(|d| d.status == "done" && d.processed_at.is_some()),
        "{all:?}"
    );
}

/// Regression (issue 13, findings 4, 7 and 13): the intake takes only Chatwoot's own event
/// names (the hub's write-back job is not one), only bodies the worker can read (nesting
/// past 128 is refused before the acknowledgement), and each signature once, however the
/// resend spells its signature or names its delivery.
#[tokio::test]
async fn the_intake_takes_chatwoots_events_once_and_only_what_it_can_process() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let secret = sim.webhooks(demo.account_id)[0].secret.clone();
    let account = admin.account_id;
    let now = clock::now().unix_timestamp();
    let conversation = demo.conversations[0];

    let job = serde_json::to_vec(
        &json!({ "event": "card_write_back", "card_id": Uuid::now_v7(),
        "conversation_id": conversation, "stage": "Won", "status": "resolved",
        "add_label": null, "remove_labels": [] }),
    )
    .unwrap();
    deliver(
        &app,
        account,
        &signed_headers(&secret, &job, now, "j-1"),
        &job,
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let deep = format!(
        "{{\"event\":\"conversation_created\",\"id\":1,\"x\":{}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    )
    .into_bytes();
    deliver(
        &app,
        account,
        &signed_headers(&secret, &deep, now, "n-1"),
        &deep,
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(
        deliveries(&app, &admin, "").await.is_empty(),
        "nothing refused is stored"
    );

    let body = conversation_created(11);
    let first = deliver(
        &app,
        account,
        &signed_headers(&secret, &body, now, "r-1"),
        &body,
    )
    .await;
    assert_eq!(first.body["status"], "accepted", "{:?}", first.body);
    let renamed = deliver(
        &app,
        account,
        &signed_headers(&secret, &body, now, "r-2"),
        &body,
    )
    .await;
    assert_eq!(
        renamed.body["status"], "duplicate",
        "a new delivery id is not a new delivery"
    );
    let mut respelt = signed_headers(&secret, &body, now, "r-3");
    respelt[1].1 = format!("sha256={}", respelt[1].1[7..].to_uppercase());
    respelt[0].1 = format!("0{now}");
    let again = deliver(&app, account, &respelt, &body).await;
    assert_eq!(again.body["status"], "duplicate", "{:?}", again.body);
    assert_eq!(deliveries(&app, &admin, "").await.len(), 1);
}

/// Regression (issue 13, finding 4): a stored Chatwoot delivery naming the hub's job (as one
/// stored before the intake refused such names would) is never run as the job: it fails
/// and Chatwoot's conversation is left as it was.
#[tokio::test]
async fn a_received_body_never_runs_a_hub_job() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let conversation = demo.conversations[0];
    let status = || {
        sim.conversation(demo.account_id, conversation)
            .unwrap()
            .status
    };
    let before = status();
    use whatpro_hub::inbound::store;
    let body = json!({ "event": "card_write_back", "card_id": Uuid::now_v7(),
        "conversation_id": conversation, "stage": "Won", "status": "resolved",
        "add_label": "stolen", "remove_labels": [] });
    let new = store::NewDelivery {
        source: whatpro_hub::inbound::FROM_CHATWOOT,
        account_id: Some(admin.account_id),
        event: "card_write_back".into(),
        dedupe_key: "forged".into(),
        body: body.to_string(),
        received_at: clock::now(),
    };
    assert!(store::insert(&app.state.db, &new).await.unwrap());
    app.state.deliveries.notify_one();
    eventually("the forged job to fail", || {
        let (app, admin) = (&app, &admin);
        async move {
            deliveries(app, admin, "").await[0]["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("nothing runs"))
        }
    })
    .await;
    assert_eq!(status(), before);
    let labels = sim
        .conversation(demo.account_id, conversation)
        .unwrap()
        .labels;
    assert!(!labels.contains(&"stolen".to_string()), "{labels:?}");
}

/// Regression (issue 13, finding 19): the cleanup of processed deliveries goes in batches
/// (each a short turn at SQLite's one writer) until every old one is gone, and takes
/// nothing else: not the recent ones, not those still pending or dead.
#[tokio::test]
async fn old_processed_deliveries_are_cleaned_up_in_batches_and_nothing_else() {
    use whatpro_hub::{inbound::store, on_db, on_writer};
    let (app, account) = without_worker("Cleanup").await;
    let now = clock::now(); // wall-clock: the cleanup compares with the hub's own clock
    let month_ago = now - time::Duration::days(30);
    let old = now - time::Duration::days(40);
    let mut expected_left = 0;
    for (n, (status, received_at)) in std::iter::repeat_n(("done", old), 1234)
        .chain([("done", now), ("pending", old), ("dead", old)])
        .enumerate()
    {
        let new = store::NewDelivery {
            source: whatpro_hub::inbound::FROM_CHATWOOT,
            account_id: Some(account),
            event: "conversation_created".into(),
            dedupe_key: format!("cleanup-{n}"),
            body: "{}".into(),
            received_at,
        };
        assert!(store::insert(&app.state.db, &new).await.unwrap());
        expected_left += usize::from(status != "done" || received_at > month_ago);
        let sql = "UPDATE webhook_deliveries SET status = $1 WHERE dedupe_key = $2";
        on_writer!(&mut app.state.db.writer().await.unwrap(), pool => sqlx::query(sql).bind(status).bind(&new.dedupe_key)
            .execute(pool).await.unwrap().rows_affected());
    }
    let purged = store::purge_done(&app.state.db, month_ago, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(purged, 1234);
    let left: i64 = on_db!(&app.state.db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_deliveries").fetch_one(pool).await.unwrap());
    assert_eq!(left as usize, expected_left);
}

/// Regression (issue 13, chaos run): a conversation's message processed before its
/// `conversation_created` (a retry, another worker) used to change nothing, so the card
/// made later never showed it. The message now makes the card, with the message; the late
/// event finds it and makes no second one.
#[tokio::test]
async fn a_message_before_its_conversation_makes_the_card_with_the_message() {
    use whatpro_hub::inbound::store;
    let (_sim, demo, mut app, admin) = connected(&[]).await;
    app.stop().await;
    let inbox = demo.whatsapp_inbox_id;
    let conversation = 93_001;
    let stored = [
        (
            "m",
            "message_created",
            new_message(conversation, inbox, "Rita Sol", "Oi!"),
        ),
        (
            "c",
            "conversation_created",
            new_conversation(conversation, inbox, "Rita Sol"),
        ),
    ];
    for (key, event, body) in stored {
        let new = store::NewDelivery {
            source: whatpro_hub::inbound::FROM_CHATWOOT,
            account_id: Some(admin.account_id),
            event: event.into(),
            dedupe_key: key.into(),
            body,
            received_at: clock::now(),
        };
        assert!(store::insert(&app.state.db, &new).await.unwrap());
    }
    let hub = app.replica().await;
    let account = crate::accounts::account_path(admin.account_id);
    let boards = hub.get(&format!("{account}/boards"), &admin.access).await;
    let board = boards.body["items"][0]["id"].as_str().unwrap().to_string();
    let cards = format!("{account}/boards/{board}/cards?conversation_id={conversation}");
    eventually("both deliveries done", || {
        let (hub, admin) = (&hub, &admin);
        async move { deliveries(hub, admin, "?status=done").await.len() == 2 }
    })
    .await;
    let found = hub.get(&cards, &admin.access).await;
    let items = found.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["last_message"], "Oi!");
    let card = items[0]["id"].as_str().unwrap();
    let history = hub
        .get(
            &format!("{account}/boards/{board}/cards/{card}/history"),
            &admin.access,
        )
        .await;
    let created = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "created");
    assert_eq!(created.count(), 1);
}
