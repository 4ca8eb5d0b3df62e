//! The inbound queue's consumers of Chatwoot events: each applies a delivery once, even
//! when a later consumer fails and the delivery is retried.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use futures_util::future::BoxFuture;
use reqwest::StatusCode;
use serde_json::Value;
use serde_json::json;
use uuid::Uuid;
use whatpro_hub::{
    app::state::AppState,
    chatwoot::webhooks::{Consumer, FromChatwoot},
    inbound::{FROM_CHATWOOT, Handler, store},
    on_db, on_writer,
    platform::{clock, error::AppError, error::AppResult},
};

use crate::{accounts::super_admin, support::TestApp};

/// Counts the messages it was handed; fails the first `failures` calls.
struct Counting {
    name: &'static str,
    applied: Arc<AtomicUsize>,
    calls: Arc<AtomicUsize>,
    failures: usize,
}

impl Counting {
    fn new(name: &'static str, failures: usize) -> Self {
        Counting {
            name,
            applied: Arc::default(),
            calls: Arc::default(),
            failures,
        }
    }
}

impl Consumer for Counting {
    fn name(&self) -> &'static str {
        self.name
    }

    fn wants(&self, event: &str) -> bool {
        event == "message_created"
    }

    fn apply<'a>(
        &'a self,
        _state: &'a AppState,
        _account_id: Uuid,
        events: &'a [(&'a str, &'a Value)],
    ) -> BoxFuture<'a, AppResult<()>> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
                return Err(AppError::Internal(anyhow::anyhow!("down for now")));
            }
            self.applied.fetch_add(events.len(), Ordering::SeqCst);
            Ok(())
        })
    }
}

async fn stored_message(app: &TestApp, account: Uuid, key: &str) -> store::Claimed {
    stored_messages(app, account, &[key]).await.remove(0)
}

/// Stores a message delivery per key and claims them, in order.
async fn stored_messages(app: &TestApp, account: Uuid, keys: &[&str]) -> Vec<store::Claimed> {
    // Due an hour from the hub's clock, so the hub's own worker leaves them to this test.
    let later = clock::now() + time::Duration::hours(1); // wall-clock: relative to the hub's clock
    for key in keys {
        let new = store::NewDelivery {
            account_id: Some(account),
            source: FROM_CHATWOOT,
            event: "message_created".into(),
            dedupe_key: key.to_string(),
            body: r#"{"event":"message_created","id":1}"#.into(),
            received_at: later,
        };
        assert!(store::insert(&app.state.db, &new).await.unwrap());
    }
    let lease = time::Duration::minutes(2);
    store::claim_batch(&app.state.db, later, lease, keys.len() as i64)
        .await
        .unwrap()
}

async fn progress_rows(app: &TestApp) -> i64 {
    on_db!(&app.state.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM inbound_progress")
        .fetch_one(pool).await.unwrap())
}

/// The first consumer applies a message, the second fails: the retry applies only the
/// second, so the first never counts the message twice. A delivery that succeeds whole
/// leaves no record behind.
#[tokio::test]
async fn a_retry_skips_the_consumers_that_already_applied_it() {
    let app = TestApp::spawn().await;
    let metering = Counting::new("metering", 0);
    let bridge = Counting::new("bridge", 1);
    let (metered, bridged) = (metering.applied.clone(), bridge.applied.clone());
    let handler = FromChatwoot::new().consumer(metering).consumer(bridge);
    let root = super_admin(&app).await;
    let account = app.tenant(&root, "Acme").await.id;

    let mut delivery = stored_message(&app, account, "m-1").await;
    assert!(handler.handle(&app.state, &delivery).await.is_err());
    assert_eq!(
        (
            metered.load(Ordering::SeqCst),
            bridged.load(Ordering::SeqCst)
        ),
        (1, 0)
    );
    assert_eq!(progress_rows(&app).await, 1, "metering recorded as done");

    delivery.attempts += 1;
    handler.handle(&app.state, &delivery).await.unwrap();
    assert_eq!(
        (
            metered.load(Ordering::SeqCst),
            bridged.load(Ordering::SeqCst)
        ),
        (1, 1),
        "each consumer applied the message once"
    );

    let other = stored_message(&app, account, "m-2").await;
    handler.handle(&app.state, &other).await.unwrap();
    assert_eq!(metered.load(Ordering::SeqCst), 2);
    assert_eq!(
        progress_rows(&app).await,
        1,
        "a whole success records nothing"
    );
}

/// A group fails in its second consumer after the first applied all of it; the worker then
/// handles each delivery alone, still in its first attempt: the first consumer is skipped.
#[tokio::test]
async fn a_failed_group_handled_one_by_one_skips_what_was_applied() {
    let app = TestApp::spawn().await;
    let metering = Counting::new("metering", 0);
    let bridge = Counting::new("bridge", 1);
    let (metered, bridged) = (metering.applied.clone(), bridge.applied.clone());
    let handler = FromChatwoot::new().consumer(metering).consumer(bridge);
    let root = super_admin(&app).await;
    let account = app.tenant(&root, "Acme").await.id;

    let group = stored_messages(&app, account, &["g-1", "g-2"]).await;
    assert!(handler.handle_group(&app.state, &group).await.is_err());
    assert_eq!(metered.load(Ordering::SeqCst), 2);
    for delivery in &group {
        assert_eq!(delivery.attempts, 1);
        handler.handle(&app.state, delivery).await.unwrap();
    }
    assert_eq!(
        (
            metered.load(Ordering::SeqCst),
            bridged.load(Ordering::SeqCst)
        ),
        (2, 2),
        "each message applied once by each consumer"
    );
}

/// Replays name the account in their statement: an admin replays their own dead deliveries
/// and never another account's, whose delivery ids answer 404.
#[tokio::test]
async fn replays_stay_inside_the_account() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let (acme, other) = (
        app.tenant(&root, "Acme").await,
        app.tenant(&root, "Other").await,
    );
    let mine = stored_message(&app, acme.id, "mine").await;
    let theirs = stored_message(&app, other.id, "theirs").await;
    let dead = "UPDATE webhook_deliveries SET status = 'dead'";
    on_writer!(&mut app.state.db.writer().await.unwrap(), pool => sqlx::query(dead).execute(pool).await.unwrap().rows_affected());

    let all = app
        .post(
            &acme.path("/webhook-deliveries/replay"),
            &acme.admin.token,
            json!({}),
        )
        .await;
    assert_eq!(all.body, json!({ "replayed": 1 }), "{:?}", all.body);
    let one = |id: Uuid| acme.path(&format!("/webhook-deliveries/{id}/replay"));
    app.post(&one(theirs.id), &acme.admin.token, json!({}))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let status = "SELECT id, status FROM webhook_deliveries ORDER BY id";
    let rows: Vec<(Uuid, String)> =
        on_db!(&app.state.db, pool => sqlx::query_as(status).fetch_all(pool).await.unwrap());
    let of = |id: Uuid| rows.iter().find(|(row, _)| *row == id).unwrap().1.clone();
    assert_ne!(
        of(mine.id),
        "dead",
        "queued again (and maybe processed since)"
    );
    assert_eq!(of(theirs.id), "dead");
}
