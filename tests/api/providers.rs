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

/// A number on provider `provider`, named uniquely (the Evolution simulator is shared).
pub(crate) fn instance_body(provider: uuid::Uuid) -> Value {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    json!({"provider_id": provider, "name": format!("number-{}", &tag[..12])})
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
    // An Evolution server registered as another type is not taken for one.
    for kind in ["waha", "uazapi"] {
        let mut other = provider_body("Other type");
        other["type"] = json!(kind);
        other["credentials"] = match kind {
            "waha" => json!({"api_key": EVOLUTION_KEY}),
            _ => json!({"admin_token": EVOLUTION_KEY}),
        };
        app.post(&path, &t.admin.token, other)
            .await
            .assert_problem(StatusCode::BAD_GATEWAY, "provider_unreachable");
    }
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

/// A provider of a simulator of the test's own, and the tenant.
async fn with_own_server(
    vars: &[(&str, &str)],
) -> (TestApp, Tenant, EvolutionSimulator, uuid::Uuid) {
    let (app, t) = setup(vars).await;
    let sim = EvolutionSimulator::start("own-key").await;
    let body = json!({"type": "evolution", "name": "Own", "base_url": sim.base_url(),
        "credentials": {"api_key": "own-key"}});
    let made = app.post(&t.path("/providers"), &t.admin.token, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    (app, t, sim, made.id())
}

/// A number's whole life: created on the server, connected by QR (which rotates), seen
/// connected, logged out, deleted; its own credential never shown.
#[tokio::test]
async fn a_number_is_created_connected_by_qr_logged_out_and_deleted() {
    let (app, t, sim, provider) = with_own_server(&[]).await;
    let made = app
        .post(
            &t.path("/instances"),
            &t.admin.token,
            json!({"provider_id": provider, "name": "sales-01"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["status"], "disconnected");
    let token = sim.instance("sales-01").expect("made on the server").token;
    let path = t.path(&format!("/instances/{}", made.id()));
    let connect_path = format!("{path}/connect");
    let connect = |body: Value| app.post(&connect_path, &t.admin.token, body);
    let first = connect(json!({"method": "qr"})).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["instance"]["status"], "qr_pending");
    assert!(
        first.body["qr"]["image"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert_eq!(first.body["status"], "qr_pending");
    assert_eq!(first.body["qr_code"], first.body["qr"]["image"]);
    let expires = first.body["expires_at"].as_str().expect("a QR has a life");
    let expires =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let life = expires
        - time::OffsetDateTime::parse(
            first.body["instance"]["updated_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
    assert!(
        (40..=50).contains(&life.whole_seconds()),
        "Evolution's QR lives 45 s: {life}"
    );
    sim.rotate_qr("sales-01");
    let qr_path = format!("{path}/qr");
    let second = app.get(&qr_path, &t.admin.token).await;
    assert_eq!(second.status, StatusCode::OK, "{:?}", second.body);
    assert_ne!(
        second.body["qr"]["code"], first.body["qr"]["code"],
        "the rotated QR, read from the provider"
    );
    app.get(&qr_path, &t.supervisor.token)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    // Agents read the status, never the QR or the credential.
    app.post(
        &format!("{path}/connect"),
        &t.agent.token,
        json!({"method": "qr"}),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    sim.scan("sales-01", "5511999990000");
    let checked = app
        .post(&format!("{path}/check"), &t.supervisor.token, json!({}))
        .await;
    assert_eq!(checked.body["status"], "connected", "{:?}", checked.body);
    assert_eq!(checked.body["provider_status"], "open");
    app.get(&qr_path, &t.admin.token)
        .await
        .assert_problem(StatusCode::CONFLICT, "no_qr_shown");
    let listed = app.get(&t.path("/instances"), &t.agent.token).await;
    assert!(!listed.body.to_string().contains(&token));
    let logged_out = app
        .post(&format!("{path}/logout"), &t.admin.token, json!({}))
        .await;
    assert_eq!(logged_out.body["status"], "disconnected");
    assert_eq!(sim.instance("sales-01").unwrap().state, "close");
    // A provider with numbers stays.
    app.delete(&t.path(&format!("/providers/{provider}")), &t.admin.token)
        .await
        .assert_problem(StatusCode::CONFLICT, "provider_has_instances");
    let history = app.get(&format!("{path}/history"), &t.agent.token).await;
    assert!(!history.body.as_array().unwrap().is_empty());
    assert_eq!(
        app.delete(&path, &t.admin.token).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(sim.instance("sales-01").is_none(), "deleted on the server");
    app.get(&path, &t.admin.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let logs = app
        .get(&t.path("/audit-logs?limit=100"), &t.admin.token)
        .await;
    assert!(!logs.body.to_string().contains(&token));
}

/// A pairing code after a QR was shown needs the QR socket closed first (Evolution would
/// answer the old QR): the hub does it.
#[tokio::test]
async fn a_pairing_code_replaces_a_qr_already_shown() {
    let (app, t, sim, provider) = with_own_server(&[]).await;
    let made = app
        .post(
            &t.path("/instances"),
            &t.admin.token,
            json!({"provider_id": provider, "name": "pair-01"}),
        )
        .await;
    let path = t.path(&format!("/instances/{}/connect", made.id()));
    let qr = app
        .post(&path, &t.admin.token, json!({"method": "qr"}))
        .await;
    assert_eq!(qr.body["pairing_code"], Value::Null);
    let paired = app
        .post(
            &path,
            &t.admin.token,
            json!({"method": "pairing_code", "phone": "+55 11 99999-0000"}),
        )
        .await;
    assert_eq!(paired.status, StatusCode::OK, "{:?}", paired.body);
    assert_eq!(paired.body["pairing_code"].as_str().unwrap().len(), 8);
    assert_eq!(sim.instance("pair-01").unwrap().state, "connecting");
    app.post(&path, &t.admin.token, json!({"method": "pairing_code"}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

/// A session going up and down in quick succession is one history entry, counted.
#[tokio::test]
async fn a_flapping_session_folds_into_one_history_entry() {
    let (app, t, sim, provider) = with_own_server(&[]).await;
    let made = app
        .post(
            &t.path("/instances"),
            &t.admin.token,
            json!({"provider_id": provider, "name": "flap-01"}),
        )
        .await;
    let path = t.path(&format!("/instances/{}", made.id()));
    for _ in 0..5 {
        app.post(
            &format!("{path}/connect"),
            &t.admin.token,
            json!({"method": "qr"}),
        )
        .await;
        sim.scan("flap-01", "5511999990000");
        app.post(&format!("{path}/check"), &t.admin.token, json!({}))
            .await;
        sim.drop_session("flap-01");
        app.post(&format!("{path}/check"), &t.admin.token, json!({}))
            .await;
    }
    // The provider's own webhooks (read back) land in the same entry.
    crate::webhooks::eventually("every Evolution event applied", || async {
        let open: i64 = whatpro_hub::on_db!(&app.state.db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'evolution' AND status <> 'done'")
            .fetch_one(pool).await.unwrap());
        open == 0
    })
    .await;
    let history = app.get(&format!("{path}/history"), &t.admin.token).await;
    let entries = history.body.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(entries[0]["changes"].as_i64().unwrap() >= 10, "{entries:?}");
    assert_eq!(entries[0]["to_status"], "disconnected");
}

/// Two numbers at once at the limit: one wins, and the loser's is taken back from the
/// server; another account's provider is not found.
#[tokio::test]
async fn the_instance_quota_holds_and_providers_stay_in_their_account() {
    let (app, t, sim, provider) = with_own_server(&[]).await;
    let path = t.path("/instances");
    let (a, b) = tokio::join!(
        app.post(
            &path,
            &t.admin.token,
            json!({"provider_id": provider, "name": "race-a"})
        ),
        app.post(
            &path,
            &t.admin.token,
            json!({"provider_id": provider, "name": "race-b"})
        ),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 403], "{:?} {:?}", a.body, b.body);
    let on_server = ["race-a", "race-b"]
        .iter()
        .filter(|n| sim.instance(n).is_some())
        .count();
    assert_eq!(on_server, 1, "the losing create was taken back");
    let root = app.user("other-root@providers.test", true).await;
    let other = app.tenant(&root, "Other").await;
    app.post(
        &other.path("/instances"),
        &other.admin.token,
        json!({"provider_id": provider, "name": "theirs"}),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

/// The provider's webhooks move a number's status at once, with no check: the scan, then
/// the phone dropping the session.
#[tokio::test]
async fn webhooks_move_a_numbers_status() {
    let (app, t, sim, provider) = with_own_server(&[]).await;
    let made = app
        .post(
            &t.path("/instances"),
            &t.admin.token,
            json!({"provider_id": provider, "name": "hooked"}),
        )
        .await;
    let path = t.path(&format!("/instances/{}", made.id()));
    app.post(
        &format!("{path}/connect"),
        &t.admin.token,
        json!({"method": "qr"}),
    )
    .await;
    let mut events = crate::realtime::Events::open_as(&app, &t, &t.agent).await;
    sim.scan("hooked", "5511988887777");
    loop {
        let (name, data) = events.next().await;
        if name == "account" && data["data"]["status"] == "connected" {
            assert_eq!(data["kind"], "instance.status_changed");
            assert_eq!(data["data"]["instance_id"], made.id().to_string());
            break;
        }
    }
    let status_is = |wanted: &'static str| {
        let (app, path, token) = (&app, &path, &t.agent.token);
        async move {
            crate::webhooks::eventually(wanted, || async move {
                app.get(path, token).await.body["status"] == wanted
            })
            .await
        }
    };
    status_is("connected").await;
    let seen = app.get(&path, &t.agent.token).await;
    assert!(seen.body["last_event_at"].is_string());
    assert_eq!(seen.body["phone"], "5511988887777");
    sim.drop_session("hooked");
    status_is("disconnected").await;
    assert!(
        sim.sent().iter().all(|(_, status)| *status == Some(200)),
        "{:?}",
        sim.sent()
    );
}

/// Only the provider holding the instance's secret is heard; what it sends as a credential
/// is not kept; an event delivered twice is stored once.
#[tokio::test]
async fn provider_webhooks_need_the_instances_secret() {
    let (app, t, _sim, provider) = with_own_server(&[]).await;
    let made = app
        .post(
            &t.path("/instances"),
            &t.admin.token,
            json!({"provider_id": provider, "name": "guarded"}),
        )
        .await;
    let id = made.id();
    let url = format!("{}/api/v1/webhooks/providers/{id}", app.base);
    let event = json!({"event": "connection.update", "instance": "guarded",
        "data": {"instance": "guarded", "state": "connecting", "statusReason": 200},
        "apikey": "INSTANCE-TOKEN-SECRET", "date_time": "2026-12-06T10:00:00.000Z"});
    let post = |token: Option<String>, url: String| {
        let mut request = app.client.post(url).json(&event);
        if let Some(token) = token {
            request = request.header("x-whatpro-webhook-token", token);
        }
        async move { crate::support::Resp::read(request.send().await.unwrap()).await }
    };
    post(None, url.clone())
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    post(Some("wrong".into()), url.clone())
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let nobody = format!(
        "{}/api/v1/webhooks/providers/{}",
        app.base,
        uuid::Uuid::now_v7()
    );
    post(Some("wrong".into()), nobody)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let (sealed,): (String,) = whatpro_hub::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT webhook_secret FROM instances WHERE id = $1").bind(id).fetch_one(pool).await.unwrap());
    assert!(!sealed.is_empty());
    let secret =
        whatpro_hub::providers::instances::open_secret(&app.state.vault, id, &sealed).unwrap();
    let first = post(Some(secret.clone()), url.clone()).await;
    assert_eq!(
        (first.status, first.body["status"].clone()),
        (StatusCode::OK, json!("accepted"))
    );
    let again = post(Some(secret.clone()), url.clone()).await;
    assert_eq!(again.body["status"], "duplicate");
    // Providers that cannot send a header carry the secret in the URL registered with them.
    post(None, format!("{url}/{secret}x"))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let in_url = post(None, format!("{url}/{secret}")).await;
    assert_eq!(in_url.body["status"], "duplicate");
    // Meta's verification of a callback URL: the challenge, alone, for the right token.
    let handshake = |token: &str| {
        let url = format!(
            "{url}/{secret}?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        );
        let request = app.client.get(url);
        async move { request.send().await.unwrap() }
    };
    let answered = handshake(&secret).await;
    assert_eq!(answered.status(), StatusCode::OK);
    assert_eq!(answered.text().await.unwrap(), "1158201444");
    assert_eq!(
        handshake("not-the-secret").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let bodies: Vec<(String,)> = whatpro_hub::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT body FROM webhook_deliveries WHERE source = 'providers'").fetch_all(pool).await.unwrap());
    assert_eq!(bodies.len(), 1);
    assert!(
        !bodies[0].0.contains("INSTANCE-TOKEN-SECRET"),
        "{}",
        bodies[0].0
    );
}

/// Behaviour settings are applied by the provider before they are kept; a text goes
/// through a connected number only; a restart keeps the session.
#[tokio::test]
async fn settings_texts_and_restarts_go_through_the_provider() {
    let (app, t, sim, provider) = with_own_server(&[]).await;
    let settings = json!({"reject_calls": true, "call_message": "We call back.",
        "ignore_groups": true});
    let made = app
        .post(
            &t.path("/instances"),
            &t.admin.token,
            json!({"provider_id": provider, "name": "behaved", "settings": settings,
                "phone": "+55 11 97777-6666"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert_eq!(made.body["settings"]["reject_calls"], true);
    assert_eq!(
        made.body["phone"], "5511977776666",
        "the number it is for, until it connects"
    );
    let on_server = sim.instance("behaved").unwrap().settings;
    assert_eq!(
        (
            &on_server["rejectCall"],
            &on_server["msgCall"],
            &on_server["groupsIgnore"]
        ),
        (&json!(true), &json!("We call back."), &json!(true))
    );
    let path = t.path(&format!("/instances/{}", made.id()));
    let invalid = json!({"settings": {"call_message": "no calls refused"}});
    app.request(
        reqwest::Method::PATCH,
        &path,
        Some(&t.admin.token),
        Some(invalid),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let changed = app
        .request(
            reqwest::Method::PATCH,
            &path,
            Some(&t.admin.token),
            Some(json!({"settings": {"always_online": true}})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["settings"]["reject_calls"], false);
    let on_server = sim.instance("behaved").unwrap().settings;
    assert_eq!(
        (&on_server["rejectCall"], &on_server["alwaysOnline"]),
        (&json!(false), &json!(true))
    );

    let messages = format!("{path}/messages");
    let text = |to: &str| {
        let body = json!({"to": to, "text": "Line test"});
        app.post(&messages, &t.admin.token, body)
    };
    text("5511988887777")
        .await
        .assert_problem(StatusCode::CONFLICT, "instance_not_connected");
    app.post(&format!("{path}/restart"), &t.admin.token, json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "instance_not_connected");
    app.post(
        &format!("{path}/connect"),
        &t.admin.token,
        json!({"method": "qr"}),
    )
    .await;
    sim.scan("behaved", "5511977776666");
    let checked = app
        .post(&format!("{path}/check"), &t.supervisor.token, json!({}))
        .await;
    assert_eq!(checked.body["status"], "connected");
    assert_eq!(checked.body["phone"], "5511977776666");
    text("55 11 a")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    text("0001188887777")
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "provider_rejected");
    let sent = text("+55 (11) 98888-7777").await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert!(
        sent.body["message_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(
        sim.instance("behaved").unwrap().sent,
        vec![("5511988887777".to_string(), "Line test".to_string())]
    );
    app.post(
        &format!("{path}/messages"),
        &t.agent.token,
        json!({"to": "5511988887777", "text": "x"}),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let restarted = app
        .post(&format!("{path}/restart"), &t.admin.token, json!({}))
        .await;
    assert_eq!(
        restarted.body["status"], "connected",
        "{:?}",
        restarted.body
    );
}

/// The hub never calls a provider at a cloud metadata address, and an operator can deny
/// more: a name is judged by what it resolves to, an IP as written.
#[tokio::test]
async fn provider_servers_only_at_allowed_addresses() {
    let (app, t) = setup(&[]).await;
    let path = t.path("/providers");
    let mut metadata = provider_body("Metadata");
    metadata["base_url"] = json!("http://169.254.169.254");
    app.post(&path, &t.admin.token, metadata)
        .await
        .assert_problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "provider_address_not_allowed",
        );

    let (app, t) = setup(&[("PROVIDER_DENIED_NETWORKS", "127.0.0.0/8, ::1")]).await;
    let path = t.path("/providers");
    let sim = EvolutionSimulator::start("own-key").await;
    let port = sim.base_url().rsplit(':').next().unwrap().to_string();
    for base_url in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let body = json!({"type": "evolution", "name": "Local", "base_url": base_url,
            "credentials": {"api_key": "own-key"}});
        app.post(&path, &t.admin.token, body).await.assert_problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "provider_address_not_allowed",
        );
    }
    assert_eq!(app.get(&path, &t.admin.token).await.body, json!([]));
}
