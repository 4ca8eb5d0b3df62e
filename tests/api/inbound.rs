//! The inbound queue's consumers of Chatwoot events: each applies a delivery once, even
//! when a later consumer fails and the delivery is retried.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use futures_util::future::BoxFuture;
use serde_json::Value;
use uuid::Uuid;
use whatpro_hub::{
    app::state::AppState,
    chatwoot::webhooks::{Consumer, FromChatwoot},
    inbound::{FROM_CHATWOOT, Handler, store},
    on_db,
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
    let now = clock::now(); // wall-clock: stored and claimed as due on the hub's own clock
    let new = store::NewDelivery {
        account_id: account,
        source: FROM_CHATWOOT,
        event: "message_created".into(),
        dedupe_key: key.into(),
        body: r#"{"event":"message_created","id":1}"#.into(),
        received_at: now,
    };
    assert!(store::insert(&app.state.db, &new).await.unwrap());
    let lease = time::Duration::minutes(2);
    let mut claimed = store::claim_batch(&app.state.db, now, lease, 1)
        .await
        .unwrap();
    claimed.remove(0)
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
