//! WhatsApp provider servers over HTTP, against the Evolution simulator: registration
//! checked against the server (nothing kept when refused), credentials sealed and never
//! answered, quotas under races, checks, and servers that are down or slow.

use reqwest::StatusCode;
use serde_json::{Value, json};
use whatpro_hub::simulators::evolution::EvolutionSimulator;

use crate::support::{EVOLUTION_KEY, Tenant, TestApp, shared_evolution};

pub(crate) fn provider_body(name: &str) -> Value {
    json!({
        "type": "evolution",
        "name": name,
        "base_url": shared_evolution(),
        "credentials": {"api_key": EVOLUTION_KEY}
    })
}

async fn setup(vars: &[(&str, &str)]) -> (TestApp, Tenant) {
    let app = TestApp::spawn_with(vars).await;
    let root = app.user("root@providers.test", true).await;
    let tenant = app.tenant(&root, "Acme").await;
    (app, tenant)
}

#[tokio::test]
async fn a_registered_provider_never_shows_or_stores_its_credentials_in_clear() {
    let (app, t) = setup(&[("DEFAULT_PLAN_MAX_PROVIDERS", "5")]).await;
    let made = app
        .post(
            &t.path("/providers"),
            &t.admin.token,
            provider_body("Main server"),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["type"], "evolution");
    assert_eq!(made.body["status"], "ok");
    assert_eq!(made.body["has_credentials"], true);
    assert_eq!(made.body["credentials_hint"], "…ests");
    assert!(made.body.get("credentials").is_none());
    let id = made.id();
    for caller in [&t.agent, &t.supervisor, &t.admin] {
        let listed = app.get(&t.path("/providers"), &caller.token).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert_eq!(listed.body[0]["id"], id.to_string());
        assert!(!listed.body.to_string().contains(EVOLUTION_KEY));
    }
    let one = app
        .get(&t.path(&format!("/providers/{id}")), &t.agent.token)
        .await;
    assert_eq!(one.body["name"], "Main server");
    // Sealed in the database, and nowhere in the audit trail.
    let (stored,): (String,) = whatpro_hub::on_db!(&app.state.db, pool =>
        sqlx::query_as("SELECT credentials FROM providers").fetch_one(pool).await.unwrap());
    assert!(!stored.contains(EVOLUTION_KEY) && !stored.is_empty());
    let logs = app
        .get(&t.path("/audit-logs?limit=50"), &t.admin.token)
        .await;
    assert!(logs.body.to_string().contains("provider.created"));
    assert!(!logs.body.to_string().contains(EVOLUTION_KEY));
    // Agents and supervisors read; only admins manage.
    app.post(
        &t.path("/providers"),
        &t.supervisor.token,
        provider_body("Other"),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.post(
        &t.path("/providers"),
        &t.admin.token,
        provider_body("Main server"),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "provider_name_taken");
}

#[tokio::test]
async fn refused_unreachable_or_unknown_servers_leave_nothing_behind() {
    let (app, t) = setup(&[("PROVIDER_TIMEOUT_SECONDS", "1")]).await;
    let path = t.path("/providers");
    let mut wrong_key = provider_body("Wrong key");
    wrong_key["credentials"]["api_key"] = json!("not-the-key");
    app.post(&path, &t.admin.token, wrong_key)
        .await
        .assert_problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "provider_credentials_invalid",
        );
    // Nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut down = provider_body("Down");
    down["base_url"] = json!(url);
    app.post(&path, &t.admin.token, down)
        .await
        .assert_problem(StatusCode::BAD_GATEWAY, "provider_unreachable");
    // A server that is not Evolution (the hub itself).
    let mut other = provider_body("Not Evolution");
    other["base_url"] = json!(app.base);
    app.post(&path, &t.admin.token, other)
        .await
        .assert_problem(StatusCode::BAD_GATEWAY, "provider_unreachable");
    // Slow: the hub's timeout answers, no request hangs.
    let slow = EvolutionSimulator::start("slow-key").await;
    slow.delay_next(1, std::time::Duration::from_secs(3));
    let slow_body = json!({"type": "evolution", "name": "Slow", "base_url": slow.base_url(),
        "credentials": {"api_key": "slow-key"}});
    app.post(&path, &t.admin.token, slow_body)
        .await
        .assert_problem(StatusCode::BAD_GATEWAY, "provider_unreachable");
    let mut bad = provider_body("Bad");
    bad["base_url"] = json!("https://user:pass@evolution.example.com?x=1");
    bad["credentials"] = json!({"api_key": "k", "token": "t"});
    let resp = app.post(&path, &t.admin.token, bad).await;
    resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(resp.error_fields(), ["base_url"]);
    let mut waha = provider_body("WAHA");
    waha["type"] = json!("waha");
    app.post(&path, &t.admin.token, waha).await.assert_problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "provider_type_unsupported",
    );
    let listed = app.get(&path, &t.admin.token).await;
    assert_eq!(listed.body, json!([]));
}

/// Two creates at once at the limit: one wins; deleting frees the slot.
#[tokio::test]
async fn the_provider_quota_holds_under_racing_creates() {
    let (app, t) = setup(&[]).await;
    let path = t.path("/providers");
    let (a, b) = tokio::join!(
        app.post(&path, &t.admin.token, provider_body("First")),
        app.post(&path, &t.admin.token, provider_body("Second")),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 403], "{:?} {:?}", a.body, b.body);
    let refused = if a.status == StatusCode::FORBIDDEN {
        &a
    } else {
        &b
    };
    refused.assert_problem(StatusCode::FORBIDDEN, "quota_exceeded");
    assert_eq!(refused.body["limit"], 1);
    let winner = if a.status == StatusCode::CREATED {
        &a
    } else {
        &b
    };
    let gone = app
        .delete(
            &t.path(&format!("/providers/{}", winner.id())),
            &t.admin.token,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let again = app
        .post(&path, &t.admin.token, provider_body("Third"))
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{:?}", again.body);
    let usage = app.get(&t.path("/usage"), &t.agent.token).await;
    assert_eq!(usage.body["usage"]["providers"], 1);
}

/// Changes are checked like registrations; checks record what the server says now.
#[tokio::test]
async fn changes_and_checks_follow_the_server() {
    let (app, t) = setup(&[]).await;
    let sim = EvolutionSimulator::start("own-key").await;
    let body = json!({"type": "evolution", "name": "Own", "base_url": sim.base_url(),
        "credentials": {"api_key": "own-key"}});
    let made = app.post(&t.path("/providers"), &t.admin.token, body).await;
    let path = t.path(&format!("/providers/{}", made.id()));
    let refused = app
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&t.admin.token),
            Some(json!({"credentials": {"api_key": "wrong"}})),
        )
        .await;
    refused.assert_problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "provider_credentials_invalid",
    );
    let renamed = app
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&t.admin.token),
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(renamed.body["name"], "Renamed", "{:?}", renamed.body);
    assert_eq!(
        renamed.body["credentials_hint"], "…-key",
        "the credentials stayed"
    );
    let checked = app
        .post(&format!("{path}/check"), &t.admin.token, json!({}))
        .await;
    assert_eq!(checked.body["status"], "ok", "{:?}", checked.body);
    sim.fail_next(1, 401);
    let checked = app
        .post(&format!("{path}/check"), &t.admin.token, json!({}))
        .await;
    assert_eq!(checked.status, StatusCode::OK);
    assert_eq!(checked.body["status"], "credentials_invalid");
    drop(sim);
    let checked = app
        .post(&format!("{path}/check"), &t.admin.token, json!({}))
        .await;
    assert_eq!(checked.body["status"], "unreachable");
    let logs = app
        .get(&t.path("/audit-logs?limit=50"), &t.admin.token)
        .await;
    let changes = logs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "provider.status_changed")
        .count();
    assert_eq!(changes, 2);
}
