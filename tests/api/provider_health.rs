//! Scheduled health checks over HTTP against the Evolution simulator: a connected number
//! that stays silent turns stale and comes back with its next event; a dead server is one
//! fact about the server, not a change on every number; replicas share the work.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use whatpro_hub::{
    providers::{health, instances},
    simulators::evolution::EvolutionSimulator,
};

use crate::support::{Tenant, TestApp};

const EVERY: Duration = Duration::from_secs(60);

async fn setup() -> (TestApp, Tenant, EvolutionSimulator, uuid::Uuid) {
    let app = TestApp::spawn_with(&[("DEFAULT_PLAN_MAX_INSTANCES", "50")]).await;
    let root = app.user("root@health.test", true).await;
    let t = app.tenant(&root, "Acme").await;
    let sim = EvolutionSimulator::start("health-key").await;
    let body = json!({"type": "evolution", "name": "Own", "base_url": sim.base_url(),
        "credentials": {"api_key": "health-key"}});
    let made = app.post(&t.path("/providers"), &t.admin.token, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    (app, t, sim, made.id())
}

async fn number(app: &TestApp, t: &Tenant, provider: uuid::Uuid, name: &str) -> String {
    let made = app
        .post(
            &t.path("/instances"),
            &t.admin.token,
            json!({"provider_id": provider, "name": name}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    t.path(&format!("/instances/{}", made.id()))
}

/// Every number due again now, as if the interval had passed.
async fn all_due(app: &TestApp) {
    whatpro_hub::on_writer!(&mut app.state.db.writer().await.unwrap(), pool => sqlx::query("UPDATE instances SET check_due_at = NULL")
        .execute(pool).await.unwrap().rows_affected());
}

async fn history_len(app: &TestApp, t: &Tenant, path: &str) -> usize {
    let history = app.get(&format!("{path}/history"), &t.admin.token).await;
    history.body.as_array().unwrap().len()
}

#[tokio::test]
async fn checks_tell_connected_stale_and_dead_servers_apart() {
    let (app, t, sim, provider) = setup().await;
    let quiet = number(&app, &t, provider, "quiet").await;
    let busy = number(&app, &t, provider, "busy").await;
    let idle = number(&app, &t, provider, "idle").await;
    for (path, name) in [(&quiet, "quiet"), (&busy, "busy")] {
        app.post(
            &format!("{path}/connect"),
            &t.admin.token,
            json!({"method": "qr"}),
        )
        .await;
        sim.scan(name, "5511900000000");
    }
    // The scans' events reach the hub on their own time: wait for them, or one processed
    // after the silence is set below would undo it.
    for path in [&quiet, &busy] {
        crate::webhooks::eventually("the scan's event heard", || async {
            !app.get(path, &t.agent.token).await.body["last_event_at"].is_null()
        })
        .await;
    }
    let pass = health::check_due(&app.state, EVERY).await.unwrap();
    assert_eq!(pass.checked, 3);
    for (path, wanted) in [
        (&quiet, "connected"),
        (&busy, "connected"),
        (&idle, "disconnected"),
    ] {
        let seen = app.get(path, &t.agent.token).await;
        assert_eq!(seen.body["status"], wanted, "{path}: {:?}", seen.body);
    }
    // Nothing due: nothing checked.
    assert_eq!(
        health::check_due(&app.state, EVERY).await.unwrap().checked,
        0
    );

    // Silent for seven hours while said open: not believed.
    let quiet_id = quiet.rsplit('/').next().unwrap().to_string();
    whatpro_hub::on_writer!(&mut app.state.db.writer().await.unwrap(), pool => sqlx::query(
        "UPDATE instances SET last_event_at = $1 WHERE id = $2")
        .bind(whatpro_hub::platform::clock::now() - time::Duration::hours(7)) // wall-clock: silence the hub's clock sees as long
        .bind(uuid::Uuid::parse_str(&quiet_id).unwrap())
        .execute(pool).await.unwrap().rows_affected());
    // Hours, not minutes, since its last change: not folded into it.
    whatpro_hub::on_writer!(&mut app.state.db.writer().await.unwrap(), pool => sqlx::query(
        "UPDATE instance_status_history SET first_at = $1, last_at = $1")
        .bind(whatpro_hub::platform::clock::now() - time::Duration::hours(7)) // wall-clock: history the hub's clock sees as old
        .execute(pool).await.unwrap().rows_affected());
    all_due(&app).await;
    let pass = health::check_due(&app.state, EVERY).await.unwrap();
    assert_eq!((pass.checked, pass.changed), (3, 1));
    let stale = app.get(&quiet, &t.agent.token).await;
    assert_eq!(stale.body["status"], "stale");
    assert_eq!(stale.body["provider_status"], "open");
    let logs = app
        .get(&t.path("/audit-logs?limit=100"), &t.admin.token)
        .await;
    assert!(
        logs.body.to_string().contains("scheduled_check"),
        "a check's transition is audited"
    );
    // Its next event shows it alive.
    let secret = webhook_secret(&app, &quiet_id).await;
    let event = json!({"event": "messages.upsert", "instance": "quiet",
        "data": {"key": {"remoteJid": "5511988887777@s.whatsapp.net", "fromMe": false, "id": "3EB0A1"},
                 "message": {"conversation": "Oi"}, "messageType": "conversation"}});
    let heard = app
        .client
        .post(format!("{}/api/v1/webhooks/providers/{quiet_id}", app.base))
        .header("x-whatpro-webhook-token", secret)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(heard.status(), StatusCode::OK);
    crate::webhooks::eventually("the stale number alive again", || async {
        app.get(&quiet, &t.agent.token).await.body["status"] == "connected"
    })
    .await;

    // The server dies: one fact about it, the numbers keep what they were.
    let before: Vec<usize> = vec![
        history_len(&app, &t, &quiet).await,
        history_len(&app, &t, &busy).await,
        history_len(&app, &t, &idle).await,
    ];
    drop(sim);
    for _ in 0..2 {
        all_due(&app).await;
        let pass = health::check_due(&app.state, EVERY).await.unwrap();
        assert_eq!((pass.checked, pass.changed, pass.unreachable), (3, 0, 1));
    }
    let server = app
        .get(&t.path(&format!("/providers/{provider}")), &t.agent.token)
        .await;
    assert_eq!(server.body["status"], "unreachable");
    let after = vec![
        history_len(&app, &t, &quiet).await,
        history_len(&app, &t, &busy).await,
        history_len(&app, &t, &idle).await,
    ];
    assert_eq!(before, after);
    assert_eq!(
        app.get(&busy, &t.agent.token).await.body["status"],
        "connected"
    );
    let logs = app
        .get(&t.path("/audit-logs?limit=100"), &t.admin.token)
        .await;
    let told = logs
        .body
        .to_string()
        .matches("provider.status_changed")
        .count();
    assert_eq!(told, 1, "one entry for the dead server, not one per check");
}

async fn webhook_secret(app: &TestApp, id: &str) -> String {
    let id = uuid::Uuid::parse_str(id).unwrap();
    let (sealed,): (String,) = whatpro_hub::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT webhook_secret FROM instances WHERE id = $1").bind(id).fetch_one(pool).await.unwrap());
    instances::open_secret(&app.state.vault, id, &sealed).unwrap()
}

/// Two checkers at once (two replicas) check each due number once between them.
#[tokio::test]
async fn replicas_share_the_checks_without_doubling_them() {
    let (app, t, _sim, provider) = setup().await;
    for i in 0..30 {
        number(&app, &t, provider, &format!("n-{i}")).await;
    }
    let (one, two) = tokio::join!(
        health::check_due(&app.state, EVERY),
        health::check_due(&app.state, EVERY)
    );
    assert_eq!(one.unwrap().checked + two.unwrap().checked, 30);
    let due: Vec<(Option<time::OffsetDateTime>,)> = whatpro_hub::on_db!(&app.state.db, pool =>
        sqlx::query_as("SELECT check_due_at FROM instances").fetch_all(pool).await.unwrap());
    let next: std::collections::BTreeSet<_> = due.iter().map(|(at,)| at.unwrap()).collect();
    assert!(
        next.len() > 1,
        "next checks are spread, not all at one instant"
    );
}

/// Two looks at one number applied out of order (two workers, two events): the older one
/// is not recorded over the newer.
#[tokio::test]
async fn an_older_look_never_overwrites_a_newer_one() {
    use whatpro_hub::providers::instances::store::{self, Recorded, Seen};
    let (app, t, _sim, provider) = setup().await;
    let path = number(&app, &t, provider, "raced").await;
    let id = uuid::Uuid::parse_str(path.rsplit('/').next().unwrap()).unwrap();
    let look = |status: &'static str, seen_at: i64| Seen {
        status,
        raw: status,
        phone: None,
        seen_at,
        reason: "connection.update",
        source: "webhook",
    };
    let now = time::OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
    let mut tx = app.state.db.begin().await.unwrap();
    let newer = store::record(&mut tx, t.id, id, &look("connected", 2_000), now)
        .await
        .unwrap();
    let older = store::record(&mut tx, t.id, id, &look("qr_pending", 1_000), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(newer, Recorded::New("disconnected".into()));
    assert_eq!(older, Recorded::Unchanged);
    assert_eq!(
        app.get(&path, &t.agent.token).await.body["status"],
        "connected"
    );
}
