//! Living inside Chatwoot, against the simulator: instance tokens (origin, session,
//! expiry, single exchange), the platform-app configuration and signed events, connecting
//! an account (webhook and Dashboard App registered once, removed on disconnect), the
//! inbox mirror and its quota, and the framing policy of the embedded UI.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use whatpro_hub::{
    chatwoot::signature,
    on_db, on_writer,
    platform::clock,
    simulators::chatwoot::{
        DemoInstallation, Simulator,
        demo::{DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_TOKEN, DEMO_AGENT_TOKEN},
    },
};

use crate::{
    accounts::{account_path, super_admin},
    sso::{chatwoot, dashboard_session, hub, sign_in},
    support::{Resp, TestApp},
};

const APP_SECRET: &str = "test-app-secret-0123456789";

/// A hub whose Chatwoot is `sim`, with its dashboard served from `sim`'s origin.
async fn embedded(vars: &[(&str, &str)]) -> (Simulator, DemoInstallation, TestApp) {
    let (sim, demo) = chatwoot().await;
    let mut all = vec![("CHATWOOT_APP_SECRET", APP_SECRET)];
    all.extend_from_slice(vars);
    let app = hub(&sim, &all).await;
    (sim, demo, app)
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Resp {
    let mut request = app.client.request(method, format!("{}{path}", app.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    Resp::read(request.send().await.unwrap()).await
}

async fn issue(app: &TestApp, origin: Option<&str>, session: Value, account: i64) -> Resp {
    let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
    let body = json!({ "chatwoot_account_id": account, "chatwoot_session": session });
    call(
        app,
        Method::POST,
        "/api/v1/instance-tokens",
        &headers,
        Some(body),
    )
    .await
}

async fn instance_token(app: &TestApp, sim: &Simulator, demo: &DemoInstallation) -> String {
    let session = dashboard_session(app, sim, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await;
    let resp = issue(app, Some(&sim.base_url()), session, demo.account_id).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["instance_token"].as_str().unwrap().to_string()
}

async fn exchange(app: &TestApp, token: &str, origin: Option<&str>) -> Resp {
    let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
    let body = json!({ "instance_token": token });
    call(
        app,
        Method::POST,
        "/api/v1/auth/exchange",
        &headers,
        Some(body),
    )
    .await
}

async fn bearer(app: &TestApp, path: &str, token: &str, origin: &str) -> Resp {
    let auth = format!("Bearer {token}");
    let headers = [("authorization", auth.as_str()), ("origin", origin)];
    call(app, Method::GET, path, &headers, None).await
}

#[tokio::test]
async fn an_instance_token_needs_a_known_origin_and_a_real_chatwoot_session() {
    let (sim, demo, app) = embedded(&[]).await;
    let session = dashboard_session(&app, &sim, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await;
    issue(&app, None, session.clone(), demo.account_id)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "origin_not_allowed");
    issue(
        &app,
        Some("https://evil.example"),
        session.clone(),
        demo.account_id,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "origin_not_allowed");
    let mut forged = session.clone();
    forged["access-token"] = json!("not-the-token");
    issue(&app, Some(&sim.base_url()), forged, demo.account_id)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "chatwoot_credential_rejected");
    let elsewhere = sim.add_account("Elsewhere");
    issue(&app, Some(&sim.base_url()), session.clone(), elsewhere)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "not_a_member");

    let ok = issue(&app, Some(&sim.base_url()), session, demo.account_id).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);
    assert_eq!(ok.body["expires_in"], 300);
    assert_eq!(
        ok.body["scopes"],
        json!(["platform-app:config", "auth:exchange"])
    );
    assert!(
        ok.body["instance_token"]
            .as_str()
            .unwrap()
            .starts_with("wphi_")
    );
    // Chatwoot was asked: the session is not taken on trust.
    let down = dashboard_session(&app, &sim, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await;
    sim.fail_next(3, 503);
    issue(&app, Some(&sim.base_url()), down, demo.account_id)
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

#[tokio::test]
async fn validate_and_config_answer_only_the_tokens_origin() {
    let (sim, demo, app) = embedded(&[]).await;
    let token = instance_token(&app, &sim, &demo).await;
    let origin = sim.base_url();
    let valid = bearer(&app, "/api/v1/instance-tokens/validate", &token, &origin).await;
    assert_eq!(valid.status, StatusCode::OK);
    assert_eq!(valid.body["valid"], true);
    assert_eq!(valid.body["origin"], origin.as_str());
    let elsewhere = bearer(
        &app,
        "/api/v1/instance-tokens/validate",
        &token,
        "https://evil.example",
    )
    .await;
    assert_eq!(elsewhere.body, json!({ "valid": false }));
    let unknown = bearer(
        &app,
        "/api/v1/instance-tokens/validate",
        "wphi_unknown",
        &origin,
    )
    .await;
    assert_eq!(unknown.body, json!({ "valid": false }));

    let config = bearer(&app, "/api/v1/platform-app/config", &token, &origin).await;
    assert_eq!(config.status, StatusCode::OK, "{:?}", config.body);
    assert_eq!(
        config.body["hub_base_url"],
        app.state.config.public_url.as_str()
    );
    assert_eq!(config.body["allowed_origins"], json!([origin]));
    let keys: Vec<&str> = config.body["menu"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["kanban", "chat"]);
    // The Team chat entry's badge reads the token holder's own unread totals.
    let badge_url = config.body["menu"][1]["unread_count_url"].as_str().unwrap();
    let badge_path = badge_url
        .strip_prefix(app.state.config.public_url.as_str())
        .unwrap();
    assert_eq!(badge_path, "/api/v1/platform-app/chat/unread");
    let badge = bearer(&app, badge_path, &token, &origin).await;
    assert_eq!(badge.status, StatusCode::OK, "{:?}", badge.body);
    assert_eq!(badge.body["count"], 0);
    bearer(&app, badge_path, &token, "https://evil.example")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    assert!(
        config.body["menu"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/embedded/kanban")
    );
    bearer(
        &app,
        "/api/v1/platform-app/config",
        &token,
        "https://evil.example",
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");

    // The menu follows the plan's feature flags.
    let root = super_admin(&app).await;
    let account_id: Uuid = config.body["account_id"].as_str().unwrap().parse().unwrap();
    let flags = json!({ "features": { "kanban_enabled": false } });
    let set = app
        .put(
            &format!("{}/entitlements", account_path(account_id)),
            &root.token,
            flags,
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    let config = bearer(&app, "/api/v1/platform-app/config", &token, &origin).await;
    assert_eq!(config.body["menu"].as_array().unwrap().len(), 1);
    assert_eq!(config.body["menu"][0]["key"], "chat");

    // An instance token opens nothing else.
    app.get(&account_path(account_id), &token)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn an_instance_token_is_exchanged_once_and_the_reuse_is_audited() {
    let (sim, demo, app) = embedded(&[]).await;
    let token = instance_token(&app, &sim, &demo).await;
    let hub_origin = app.state.config.public_origin();
    exchange(&app, &token, Some("https://evil.example"))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "instance_token_invalid");
    // Regression (issue 13, finding 9): an opaque origin (a sandboxed frame, a data: page)
    // is refused, not taken for a caller that sent no Origin.
    exchange(&app, &token, Some("null"))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "origin_not_allowed");
    let session = exchange(&app, &token, Some(&hub_origin)).await;
    assert_eq!(session.status, StatusCode::OK, "{:?}", session.body);
    let access = session.body["access_token"].as_str().unwrap();
    assert_eq!(session.body["user"]["email"], DEMO_ADMIN_EMAIL);
    let me = app.get("/api/v1/auth/me", access).await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(
        session
            .header("set-cookie")
            .unwrap()
            .starts_with("__Host-whatpro_refresh=")
    );

    exchange(&app, &token, Some(&hub_origin))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "instance_token_used");
    let validity = bearer(
        &app,
        "/api/v1/instance-tokens/validate",
        &token,
        &sim.base_url(),
    )
    .await;
    assert_eq!(validity.body, json!({ "valid": false }));
    let account_id = session.body["account"]["id"].as_str().unwrap();
    let log = app
        .get(
            &format!("/api/v1/accounts/{account_id}/audit-logs?action=auth.instance_token_reused"),
            access,
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{:?}", log.body);
    assert_eq!(
        log.body["items"].as_array().unwrap().len(),
        1,
        "{:?}",
        log.body
    );
}

#[tokio::test]
async fn an_expired_instance_token_is_refused() {
    let (sim, demo, app) = embedded(&[]).await;
    let token = instance_token(&app, &sim, &demo).await;
    let past = clock::now() - time::Duration::seconds(1);
    let sql = "UPDATE instance_tokens SET expires_at = $1";
    on_writer!(&mut app.state.db.writer().await.unwrap(), pool => sqlx::query(sql).bind(past).execute(pool).await.unwrap().rows_affected());
    exchange(&app, &token, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "instance_token_invalid");
    let validity = bearer(
        &app,
        "/api/v1/instance-tokens/validate",
        &token,
        &sim.base_url(),
    )
    .await;
    assert_eq!(validity.body, json!({ "valid": false }));
}

#[tokio::test]
async fn chatwoot_origins_may_call_only_the_embedding_endpoints() {
    let (sim, _demo, app) = embedded(&[]).await;
    let preflight = |path: &'static str, origin: String| {
        let app = &app;
        async move {
            app.client
                .request(Method::OPTIONS, format!("{}{path}", app.base))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type")
                .send()
                .await
                .unwrap()
        }
    };
    let allowed = preflight("/api/v1/instance-tokens", sim.base_url()).await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        sim.base_url().as_str()
    );
    let badge = preflight("/api/v1/platform-app/chat/unread", sim.base_url()).await;
    assert_eq!(
        badge.headers()["access-control-allow-origin"],
        sim.base_url().as_str()
    );
    let other_path = preflight("/api/v1/accounts", sim.base_url()).await;
    assert!(
        other_path
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let other_origin = preflight("/api/v1/instance-tokens", "https://evil.example".into()).await;
    assert!(
        other_origin
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

async fn connect(app: &TestApp, access: &str, account_id: Uuid, body: Value) -> Resp {
    app.post(
        &format!("{}/chatwoot/connect", account_path(account_id)),
        access,
        body,
    )
    .await
}

#[tokio::test]
async fn connecting_registers_one_webhook_and_one_dashboard_app_and_disconnect_removes_them() {
    let (sim, demo, app) = embedded(&[]).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let agent_token = json!({ "chatwoot_api_token": DEMO_AGENT_TOKEN });
    connect(&app, &admin.access, admin.account_id, agent_token)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "chatwoot_admin_required");
    assert!(sim.webhooks(demo.account_id).is_empty());

    let body = json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN });
    let first = connect(&app, &admin.access, admin.account_id, body.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["webhook"]["action"], "created");
    assert_eq!(first.body["webhook"]["signed"], true);
    assert_eq!(first.body["dashboard_app"]["action"], "created");
    assert_eq!(first.body["sync"]["inboxes"]["added"], 2);
    let again = connect(&app, &admin.access, admin.account_id, body).await;
    assert_eq!(again.body["webhook"]["action"], "unchanged");
    assert_eq!(again.body["dashboard_app"]["action"], "unchanged");
    assert_eq!(
        again.body["sync"]["inboxes"],
        json!({"added": 0, "updated": 0, "removed": 0, "skipped": 0})
    );

    let hooks = sim.webhooks(demo.account_id);
    assert_eq!(
        hooks.len(),
        1,
        "connecting twice never registers two webhooks"
    );
    let expected_url = format!(
        "{}/api/v1/webhooks/chatwoot/{}",
        app.state.config.public_url, admin.account_id
    );
    assert_eq!(hooks[0].url, expected_url);
    let apps = sim.dashboard_apps(demo.account_id);
    assert_eq!(apps.len(), 1);
    assert!(
        apps[0].content[0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/embedded/conversation")
    );

    let status = app
        .get(
            &format!("{}/chatwoot/status", account_path(admin.account_id)),
            &admin.access,
        )
        .await;
    assert_eq!(status.status, StatusCode::OK, "{:?}", status.body);
    assert_eq!(status.body["status"], "connected");
    assert_eq!(status.body["healthy"], true);
    assert_eq!(status.body["webhook_signed"], true);
    assert!(status.body["last_sync_at"].is_string());
    let serialized = status.body.to_string();
    assert!(
        !serialized.contains(DEMO_ADMIN_TOKEN),
        "the token never leaves the hub"
    );

    let disconnect = format!("{}/chatwoot/disconnect", account_path(admin.account_id));
    let gone = app.post(&disconnect, &admin.access, json!({})).await;
    assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.body);
    assert_eq!(gone.body["webhook"]["action"], "removed");
    assert!(sim.webhooks(demo.account_id).is_empty());
    assert!(sim.dashboard_apps(demo.account_id).is_empty());
    let twice = app.post(&disconnect, &admin.access, json!({})).await;
    assert_eq!(twice.body["webhook"]["action"], "unchanged");
    let sync = format!("{}/inboxes/sync", account_path(admin.account_id));
    app.post(&sync, &admin.access, json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "chatwoot_not_connected");
}

/// Team names are unique among live teams, and Chatwoot's change between two syncs in ways
/// that meet on a name: a team deleted and made again under its name replaces it; names
/// swapped between two teams are skipped (logged), never a failed sync.
#[tokio::test]
async fn chatwoot_teams_that_reuse_a_name_never_fail_the_sync() {
    let (sim, demo, app) = embedded(&[("DEFAULT_PLAN_MAX_TEAMS", "10")]).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let first_sales = sim.add_team(demo.account_id, "Sales", &[]);
    let billing = sim.add_team(demo.account_id, "Billing", &[]);
    let body = json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN });
    let connected = connect(&app, &admin.access, admin.account_id, body).await;
    assert_eq!(connected.status, StatusCode::OK, "{:?}", connected.body);
    let sync_path = format!("{}/inboxes/sync", account_path(admin.account_id));
    let teams_path = format!("{}/teams", account_path(admin.account_id));
    let linked = || async {
        let list = app.get(&teams_path, &admin.access).await;
        let mut teams: Vec<_> = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_string(),
                    t["chatwoot_team_id"].as_i64(),
                )
            })
            .filter(|(name, _)| ["Sales", "Billing"].contains(&name.as_str()))
            .collect();
        teams.sort();
        teams
    };

    sim.remove_team(first_sales);
    let second_sales = sim.add_team(demo.account_id, "Sales", &[]);
    let sync = app.post(&sync_path, &admin.access, json!({})).await;
    assert_eq!(sync.status, StatusCode::OK, "{:?}", sync.body);
    assert_eq!(sync.body["teams"]["removed"], 1, "{:?}", sync.body);
    assert_eq!(sync.body["teams"]["added"], 1, "{:?}", sync.body);
    let expected = vec![
        ("Billing".to_string(), Some(billing)),
        ("Sales".to_string(), Some(second_sales)),
    ];
    assert_eq!(linked().await, expected);

    sim.rename_team(billing, "Sales");
    sim.rename_team(second_sales, "Billing");
    let sync = app.post(&sync_path, &admin.access, json!({})).await;
    assert_eq!(sync.status, StatusCode::OK, "{:?}", sync.body);
    assert_eq!(sync.body["teams"]["skipped"], 2, "{:?}", sync.body);
    assert_eq!(linked().await, expected, "both keep their link");
}

#[tokio::test]
async fn inboxes_past_the_plan_are_recorded_disabled_and_enabling_one_more_is_refused() {
    let (sim, demo, app) = embedded(&[]).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let third = sim.add_inbox(demo.account_id, "API leads", "Channel::Api", None);
    let body = json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN });
    let connected = connect(&app, &admin.access, admin.account_id, body).await;
    assert_eq!(connected.status, StatusCode::OK, "{:?}", connected.body);
    assert_eq!(connected.body["sync"]["inboxes"]["added"], 3);
    assert_eq!(connected.body["sync"]["inboxes"]["skipped"], 1);

    let inboxes_path = format!("{}/inboxes", account_path(admin.account_id));
    let list = app.get(&inboxes_path, &admin.access).await;
    let items = list.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    let over = items
        .iter()
        .find(|i| i["chatwoot_inbox_id"] == third)
        .expect("the third inbox is recorded");
    assert_eq!(over["enabled"], false);
    assert_eq!(over["disabled_reason"], "over_quota");
    let whatsapp = items
        .iter()
        .find(|i| i["chatwoot_inbox_id"] == demo.whatsapp_inbox_id)
        .unwrap();
    assert_eq!(whatsapp["phone_number"], "+5511999990000");
    assert_eq!(whatsapp["channel_type"], "Channel::Whatsapp");

    let inbox_path = |i: &Value| format!("{inboxes_path}/{}", i["id"].as_str().unwrap());
    app.request(
        Method::PATCH,
        &inbox_path(over),
        Some(&admin.access),
        Some(json!({ "enabled": true })),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "quota_exceeded");
    let off = app
        .request(
            Method::PATCH,
            &inbox_path(whatsapp),
            Some(&admin.access),
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(off.body["disabled_reason"], "disabled_by_admin");
    let on = app
        .request(
            Method::PATCH,
            &inbox_path(over),
            Some(&admin.access),
            Some(json!({ "enabled": true })),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{:?}", on.body);
    assert_eq!(on.body["enabled"], true);

    // A repeated sync changes nothing and keeps the admin's choices.
    let sync = app
        .post(&format!("{inboxes_path}/sync"), &admin.access, json!({}))
        .await;
    assert_eq!(sync.status, StatusCode::OK, "{:?}", sync.body);
    assert_eq!(
        sync.body["inboxes"],
        json!({"added": 0, "updated": 0, "removed": 0, "skipped": 0})
    );
    let usage = app
        .get(
            &format!("{}/usage", account_path(admin.account_id)),
            &admin.access,
        )
        .await;
    assert_eq!(usage.body["usage"]["inboxes"], 2);
    // Agents and teams came along.
    assert_eq!(sync.body["agents"]["added"], 0);
    let teams = app
        .get(
            &format!("{}/teams", account_path(admin.account_id)),
            &admin.access,
        )
        .await;
    assert_eq!(teams.body["items"][0]["chatwoot_team_id"], demo.team_id);
}

fn signed(body: &Value, timestamp: i64) -> (Vec<u8>, String, String) {
    let raw = serde_json::to_vec(body).unwrap();
    let signature = signature::sign(APP_SECRET.as_bytes(), timestamp, &raw);
    (raw, timestamp.to_string(), signature)
}

async fn send_event(app: &TestApp, raw: Vec<u8>, timestamp: &str, signature: &str) -> Resp {
    let response = app
        .client
        .post(format!("{}/api/v1/platform-app/events", app.base))
        .header("content-type", "application/json")
        .header("x-whatpro-timestamp", timestamp)
        .header("x-whatpro-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    Resp::read(response).await
}

#[tokio::test]
async fn platform_app_events_are_signed_fresh_once_and_idempotent() {
    let (sim, demo, app) = embedded(&[]).await;
    let now = clock::now().unix_timestamp();
    let install = json!({ "event": "install", "chatwoot_account_id": demo.account_id,
        "account_name": "Demo Co", "chatwoot_api_token": DEMO_ADMIN_TOKEN });

    let (raw, ts, _) = signed(&install, now);
    let forged = signature::sign(b"wrong-secret", now, &raw);
    send_event(&app, raw.clone(), &ts, &forged)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_signature");
    let (stale_raw, stale_ts, stale_sig) = signed(&install, now - 301);
    send_event(&app, stale_raw, &stale_ts, &stale_sig)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_signature");
    send_event(&app, raw.clone(), &ts, "")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_signature");
    assert!(
        sim.webhooks(demo.account_id).is_empty(),
        "nothing happened yet"
    );

    let (raw, ts, sig) = signed(&install, now);
    let installed = send_event(&app, raw.clone(), &ts, &sig).await;
    assert_eq!(installed.status, StatusCode::OK, "{:?}", installed.body);
    assert_eq!(installed.body["connected"]["webhook"]["action"], "created");
    send_event(&app, raw.clone(), &ts, &sig)
        .await
        .assert_problem(StatusCode::CONFLICT, "event_replayed");
    // Regression (issue 13, finding 7): respelling the signature is still a replay.
    let upper = format!("sha256={}", sig[7..].to_uppercase());
    send_event(&app, raw.clone(), &ts, &upper)
        .await
        .assert_problem(StatusCode::CONFLICT, "event_replayed");
    send_event(&app, raw, &format!("0{ts}"), &sig)
        .await
        .assert_problem(StatusCode::CONFLICT, "event_replayed");
    let (raw, ts, sig) = signed(&install, now + 1);
    let again = send_event(&app, raw, &ts, &sig).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(again.body["account_id"], installed.body["account_id"]);
    assert_eq!(sim.webhooks(demo.account_id).len(), 1);
    assert_eq!(sim.dashboard_apps(demo.account_id).len(), 1);

    let uninstall = json!({ "event": "uninstall", "chatwoot_account_id": demo.account_id });
    for offset in [2, 3] {
        let (raw, ts, sig) = signed(&uninstall, now + offset);
        let resp = send_event(&app, raw, &ts, &sig).await;
        assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    }
    assert!(sim.webhooks(demo.account_id).is_empty());
    assert!(sim.dashboard_apps(demo.account_id).is_empty());
}

#[tokio::test]
async fn only_embedded_pages_may_be_framed_and_only_by_chatwoot() {
    let (sim, _demo, app) = embedded(&[]).await;
    let page = |path: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(format!("{}{path}", app.base))
                .send()
                .await
                .unwrap()
        }
    };
    let framed = page("/embedded/kanban").await;
    let csp = framed.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains(&format!("frame-ancestors 'self' {}", sim.base_url())),
        "{csp}"
    );
    assert!(framed.headers().get("x-frame-options").is_none());
    assert_eq!(
        framed.headers()["cross-origin-opener-policy"],
        "same-origin-allow-popups"
    );
    let own = page("/kanban").await;
    let csp = own.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(own.headers()["x-frame-options"], "DENY");

    let script = page("/embed/dashboard-script.js").await;
    assert_eq!(script.status(), StatusCode::OK);
    assert!(
        script.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(
        script.headers()["cross-origin-resource-policy"],
        "cross-origin"
    );
    assert_eq!(script.headers()["cache-control"], "public, max-age=300");
    let etag = script.headers()["etag"].to_str().unwrap().to_string();
    let body = script.text().await.unwrap();
    assert!(body.contains("/api/v1/instance-tokens"));
    assert!(!body.contains("'*'"), "the script never posts to '*'");
    let cached = app
        .client
        .get(format!("{}/embed/dashboard-script.js", app.base))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
}

/// Replicas starting together over a fresh database record the environment's installation
/// once (each would otherwise find no row and insert its own).
#[tokio::test]
async fn replicas_starting_together_record_one_installation() {
    let app = TestApp::spawn().await;
    let config = crate::support::config(&[("CHATWOOT_URL", "https://chat.example")]);
    let starts = (0..16)
        .map(|_| whatpro_hub::app::state::AppState::new(app.state.db.clone(), config.clone()));
    for started in futures_util::future::join_all(starts).await {
        started.expect("every replica starts");
    }
    let count: i64 = on_db!(&app.state.db, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM chatwoot_installations").fetch_one(pool).await.unwrap());
    assert_eq!(count, 1);
}

#[tokio::test]
async fn super_admins_manage_installations_and_their_secrets_stay_sealed() {
    let (sim, _demo, app) = embedded(&[]).await;
    let root = super_admin(&app).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let path = "/api/v1/chatwoot/installations";
    app.get(path, &admin.access)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let listed = app.get(path, &root.token).await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["from_env"], true);
    assert_eq!(items[0]["base_url"], sim.base_url().as_str());
    let env_id = items[0]["id"].as_str().unwrap().to_string();
    app.delete(&format!("{path}/{env_id}"), &root.token)
        .await
        .assert_problem(StatusCode::CONFLICT, "installation_managed_by_env");

    let body = json!({ "name": "Second", "base_url": "https://second.example/",
        "platform_token": "platform-secret-token", "signs_webhooks": false });
    let created = app.post(path, &root.token, body.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["origins"], json!(["https://second.example"]));
    assert_eq!(created.body["has_platform_token"], true);
    assert!(created.body["app_secret"].as_str().unwrap().len() >= 40);
    app.post(path, &root.token, body)
        .await
        .assert_problem(StatusCode::CONFLICT, "installation_exists");
    let sealed: Option<String> = on_db!(&app.state.db, pool => sqlx::query_scalar(
        "SELECT platform_token FROM chatwoot_installations WHERE base_url = 'https://second.example'")
        .fetch_one(pool).await.unwrap());
    let sealed = sealed.unwrap();
    assert!(sealed.starts_with("v1.") && !sealed.contains("platform-secret-token"));

    let id = created.body["id"].as_str().unwrap();
    let bad = json!({ "origins": ["https://second.example/app"] });
    app.request(
        Method::PATCH,
        &format!("{path}/{id}"),
        Some(&root.token),
        Some(bad),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let origins = json!({ "origins": ["https://chat.second.example"] });
    let patched = app
        .request(
            Method::PATCH,
            &format!("{path}/{id}"),
            Some(&root.token),
            Some(origins),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    // The new origin may ask for instance tokens at once (it then meets Chatwoot's check).
    let session = json!({ "access-token": "x", "client": "y", "uid": "z@example.com" });
    let asked = issue(&app, Some("https://chat.second.example"), session, 1).await;
    assert_ne!(asked.status, StatusCode::FORBIDDEN, "{:?}", asked.body);
    let gone = app.delete(&format!("{path}/{id}"), &root.token).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let listed = app.get(path, &root.token).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn pages_carry_the_mount_path_and_the_chatwoot_origins() {
    if !whatpro_hub::app::web::is_built() {
        eprintln!("skipped: the web UI is not built (npm --prefix web run build)");
        return;
    }
    let (sim, _demo) = chatwoot().await;
    let url = sim.base_url();
    let app = TestApp::spawn_with(&[
        ("CHATWOOT_URL", url.as_str()),
        ("PUBLIC_URL", "https://chat.example.com/whatpro"),
    ])
    .await;
    let page = app
        .client
        .get(format!("{}/embedded/kanban", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<base href=\"/whatpro/\">"), "{page}");
    assert!(
        page.contains(&format!(
            "<meta name=\"whatpro-chatwoot-origins\" content=\"{url}\">"
        )),
        "{page}"
    );
}

#[tokio::test]
async fn the_dashboard_script_may_ask_for_a_token_on_every_page_load() {
    let (sim, demo, app) = embedded(&[]).await;
    let session = dashboard_session(&app, &sim, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await;
    // More than the sign-in budget (10 a minute): page loads and frames each ask.
    for _ in 0..15 {
        let resp = issue(
            &app,
            Some(&sim.base_url()),
            session.clone(),
            demo.account_id,
        )
        .await;
        assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    }
}
