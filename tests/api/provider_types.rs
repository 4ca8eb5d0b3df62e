//! Each provider type end to end through the API, against its simulator: registered with
//! the type's own credentials, a number made (or registered) and connected the type's way,
//! its webhooks heard, what it lacks refused with 409 `not_supported_by_provider`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use whatpro_hub::simulators::{
    cloud_api::CloudApiSimulator, uazapi::UazapiSimulator, waha::WahaSimulator, zapi::ZapiSimulator,
};

use crate::support::{Tenant, TestApp};

async fn setup() -> (TestApp, Tenant) {
    let app = TestApp::spawn_with(&[]).await;
    let root = app.user("root@types.test", true).await;
    let tenant = app.tenant(&root, "Acme").await;
    (app, tenant)
}

/// Registers a provider; answers its id.
async fn register(
    app: &TestApp,
    t: &Tenant,
    kind: &str,
    base_url: String,
    credentials: Value,
) -> uuid::Uuid {
    let body =
        json!({"type": kind, "name": kind, "base_url": base_url, "credentials": credentials});
    let made = app.post(&t.path("/providers"), &t.admin.token, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    made.id()
}

/// Waits until the number's status is `wanted`; answers the number.
async fn until_status(app: &TestApp, t: &Tenant, path: &str, wanted: &'static str) -> Value {
    crate::webhooks::eventually(wanted, || async {
        app.get(path, &t.agent.token).await.body["status"] == wanted
    })
    .await;
    app.get(path, &t.agent.token).await.body
}

fn patch(
    app: &TestApp,
    path: &str,
    token: &str,
    body: Value,
) -> impl std::future::Future<Output = crate::support::Resp> {
    app.request(reqwest::Method::PATCH, path, Some(token), Some(body))
}

#[tokio::test]
async fn a_waha_session_is_made_stopped_started_by_qr_and_heard() {
    let (app, t) = setup().await;
    let sim = WahaSimulator::start("waha-key").await;
    let refused = json!({"type": "waha", "name": "W", "base_url": sim.base_url(),
        "credentials": {"api_key": "wrong"}});
    app.post(&t.path("/providers"), &t.admin.token, refused)
        .await
        .assert_problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "provider_credentials_invalid",
        );
    let provider = register(
        &app,
        &t,
        "waha",
        sim.base_url(),
        json!({"api_key": "waha-key"}),
    )
    .await;
    let made = app
        .post(
            &t.path("/instances"),
            &t.admin.token,
            json!({"provider_id": provider, "name": "default"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let session = sim.session("default").expect("made on the server");
    assert_eq!(session.status.as_str(), "STOPPED");
    assert!(
        session
            .config
            .to_string()
            .contains("x-whatpro-webhook-token")
    );
    let path = t.path(&format!("/instances/{}", made.id()));
    let connecting = app
        .post(
            &format!("{path}/connect"),
            &t.admin.token,
            json!({"method": "qr"}),
        )
        .await;
    assert_eq!(connecting.status, StatusCode::OK, "{:?}", connecting.body);
    assert_eq!(connecting.body["instance"]["status"], "qr_pending");
    assert!(
        connecting.body["qr"]["image"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert!(!connecting.body["qr"]["code"].as_str().unwrap().is_empty());
    let paired = app
        .post(
            &format!("{path}/connect"),
            &t.admin.token,
            json!({"method": "pairing_code", "phone": "5511988887777"}),
        )
        .await;
    assert!(
        paired.body["pairing_code"]
            .as_str()
            .is_some_and(|c| c.len() == 9),
        "{:?}",
        paired.body
    );
    // WAHA keeps one thing of the settings: groups.
    patch(
        &app,
        &path,
        &t.admin.token,
        json!({"settings": {"reject_calls": true}}),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "not_supported_by_provider");
    let changed = patch(
        &app,
        &path,
        &t.admin.token,
        json!({"settings": {"ignore_groups": true}}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let config = sim.session("default").unwrap().config;
    assert_eq!(config["ignore"]["groups"], true);
    assert!(
        config.to_string().contains("x-whatpro-webhook-token"),
        "the webhook survives a PUT"
    );
    sim.scan("default", "5511977776666");
    let connected = until_status(&app, &t, &path, "connected").await;
    assert_eq!(connected["phone"], "5511977776666");
    let sent = app
        .post(
            &format!("{path}/messages"),
            &t.admin.token,
            json!({"to": "5511988887777", "text": "Oi"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert!(
        sim.sent().iter().all(|(_, status)| *status == Some(200)),
        "{:?}",
        sim.sent()
    );
    // The secret header alone is not enough: WAHA signs with it too.
    let id = made.id();
    let (sealed,): (String,) = whatpro_hub::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT webhook_secret FROM instances WHERE id = $1").bind(id).fetch_one(pool).await.unwrap());
    let secret =
        whatpro_hub::providers::instances::open_secret(&app.state.vault, id, &sealed).unwrap();
    let unsigned = app
        .client
        .post(format!("{}/api/v1/webhooks/providers/{id}", app.base))
        .header("x-whatpro-webhook-token", &secret)
        .header("x-webhook-hmac", "00".repeat(64))
        .json(&json!({"event": "session.status", "session": "default", "payload": {"status": "STOPPED"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    sim.drop_session("default");
    until_status(&app, &t, &path, "failed").await;
    let logged_out = app
        .post(&format!("{path}/logout"), &t.admin.token, json!({}))
        .await;
    assert_eq!(
        logged_out.body["status"], "disconnected",
        "{:?}",
        logged_out.body
    );
    let deleted = app.delete(&path, &t.admin.token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(sim.session("default").is_none());
}

#[tokio::test]
async fn a_uazapi_instance_keeps_its_token_sealed_and_out_of_stored_events() {
    let (app, t) = setup().await;
    let sim = UazapiSimulator::start("uaz-admin").await;
    let provider = register(
        &app,
        &t,
        "uazapi",
        sim.base_url(),
        json!({"admin_token": "uaz-admin"}),
    )
    .await;
    let made = app
        .post(
            &t.path("/instances"),
            &t.admin.token,
            json!({"provider_id": provider, "name": "vendas"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let instance = sim.instance("vendas").expect("made on the server");
    let hook = instance.webhook.clone().expect("its webhook set");
    assert!(hook.enabled && hook.url.contains(&made.id().to_string()));
    assert!(hook.exclude_messages.contains(&"wasSentByApi".to_string()));
    let path = t.path(&format!("/instances/{}", made.id()));
    app.post(&format!("{path}/restart"), &t.admin.token, json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "not_supported_by_provider");
    let connecting = app
        .post(
            &format!("{path}/connect"),
            &t.admin.token,
            json!({"method": "qr"}),
        )
        .await;
    assert_eq!(
        connecting.body["instance"]["status"], "qr_pending",
        "{:?}",
        connecting.body
    );
    let paired = app
        .post(
            &format!("{path}/connect"),
            &t.admin.token,
            json!({"method": "pairing_code", "phone": "5521966665555"}),
        )
        .await;
    assert!(
        paired.body["pairing_code"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{:?}",
        paired.body
    );
    assert!(paired.body["expires_at"].is_string());
    sim.scan("vendas", "5521966665555");
    let connected = until_status(&app, &t, &path, "connected").await;
    assert_eq!(connected["phone"], "5521966665555");
    let stored: Vec<(String,)> = whatpro_hub::on_db!(&app.state.db, pool => sqlx::query_as(
        "SELECT body FROM webhook_deliveries WHERE source = 'providers'").fetch_all(pool).await.unwrap());
    assert!(!stored.is_empty());
    assert!(stored.iter().all(|(body,)| !body.contains(&instance.token)));
    // A forged post to the URL without the secret is refused.
    let forged = app
        .client
        .post(format!(
            "{}/api/v1/webhooks/providers/{}/guess",
            app.base,
            made.id()
        ))
        .json(&json!({"EventType": "connection", "token": instance.token}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    sim.drop_session("vendas");
    until_status(&app, &t, &path, "disconnected").await;
    assert_eq!(
        app.delete(&path, &t.admin.token).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(sim.instance("vendas").is_none());
}

#[tokio::test]
async fn a_zapi_instance_is_registered_with_its_panel_credentials() {
    let (app, t) = setup().await;
    let sim = ZapiSimulator::start("client-sec").await;
    sim.add_instance("3C4F5A", "F1E2D3C4B5");
    let provider = register(
        &app,
        &t,
        "zapi",
        sim.base_url(),
        json!({"client_token": "client-sec"}),
    )
    .await;
    let path = t.path("/instances");
    let body = |credentials: Value| json!({"provider_id": provider, "name": "loja", "credentials": credentials});
    let missing = app
        .post(
            &path,
            &t.admin.token,
            json!({"provider_id": provider, "name": "loja"}),
        )
        .await;
    missing.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    app.post(
        &path,
        &t.admin.token,
        body(json!({"instance_id": "3C4F5A", "instance_token": "nope"})),
    )
    .await
    .assert_problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "provider_credentials_invalid",
    );
    assert_eq!(app.get(&path, &t.admin.token).await.body, json!([]));
    let made = app
        .post(
            &path,
            &t.admin.token,
            body(json!({"instance_id": "3C4F5A", "instance_token": "F1E2D3C4B5"})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    assert!(!made.body.to_string().contains("F1E2D3C4B5"));
    let hooks = sim.instance("3C4F5A").unwrap().webhooks;
    assert!(
        hooks
            .connected
            .as_deref()
            .is_some_and(|url| url.contains(&made.id().to_string()))
    );
    let one = t.path(&format!("/instances/{}", made.id()));
    let connecting = app
        .post(
            &format!("{one}/connect"),
            &t.admin.token,
            json!({"method": "qr"}),
        )
        .await;
    assert!(
        connecting.body["qr"]["image"]
            .as_str()
            .is_some_and(|i| i.starts_with("data:image/png"))
    );
    let first = connecting.body["qr"]["code"].clone();
    sim.rotate_qr("3C4F5A");
    let rotated = app.get(&format!("{one}/qr"), &t.admin.token).await;
    assert_ne!(
        rotated.body["qr"]["code"], first,
        "Z-API's QR lives 20 s: read again"
    );
    let paired = app
        .post(
            &format!("{one}/connect"),
            &t.admin.token,
            json!({"method": "pairing_code", "phone": "5531955554444"}),
        )
        .await;
    assert!(
        paired.body["pairing_code"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{:?}",
        paired.body
    );
    sim.scan("3C4F5A", "5531955554444");
    let connected = until_status(&app, &t, &one, "connected").await;
    assert_eq!(connected["phone"], "5531955554444");
    let sent = app
        .post(
            &format!("{one}/messages"),
            &t.admin.token,
            json!({"to": "5511988887777", "text": "Oi"}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::CREATED, "{:?}", sent.body);
    assert_eq!(sim.instance("3C4F5A").unwrap().sent_texts.len(), 1);
    sim.drop_session("3C4F5A");
    until_status(&app, &t, &one, "disconnected").await;
    assert_eq!(
        app.delete(&one, &t.admin.token).await.status,
        StatusCode::NO_CONTENT
    );
    // The instance stays in the panel, no longer pointed at the hub.
    let hooks = sim.instance("3C4F5A").expect("kept by Z-API").webhooks;
    assert!(hooks.connected.is_none() && hooks.received.is_none());
}

#[tokio::test]
async fn a_cloud_api_number_has_no_session_and_signed_webhooks() {
    let (app, t) = setup().await;
    let sim = CloudApiSimulator::start("meta-token", "app-secret").await;
    sim.add_phone_number("106540352242922", "+55 11 99999-0000");
    let provider = register(
        &app,
        &t,
        "cloud_api",
        sim.base_url(),
        json!({"access_token": "meta-token", "app_secret": "app-secret"}),
    )
    .await;
    let path = t.path("/instances");
    let body = |id: &str| {
        json!({"provider_id": provider, "name": "oficial",
        "credentials": {"phone_number_id": id}})
    };
    app.post(&path, &t.admin.token, body("999"))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "provider_rejected");
    let made = app
        .post(&path, &t.admin.token, body("106540352242922"))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let callback = sim.phone_number("106540352242922").unwrap().callback;
    assert!(
        callback.is_some_and(|url| url.contains(&made.id().to_string())),
        "Meta verified the hub's callback"
    );
    let one = t.path(&format!("/instances/{}", made.id()));
    app.post(
        &format!("{one}/connect"),
        &t.admin.token,
        json!({"method": "qr"}),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "not_supported_by_provider");
    let checked = app
        .post(&format!("{one}/check"), &t.admin.token, json!({}))
        .await;
    assert_eq!(
        (
            checked.body["status"].clone(),
            checked.body["phone"].clone()
        ),
        (json!("connected"), json!("5511999990000")),
        "{:?}",
        checked.body
    );
    sim.deliver_message("106540352242922", "5511988887777", "Olá, ação!");
    crate::webhooks::eventually("the message heard", || async {
        app.get(&one, &t.agent.token).await.body["last_event_at"].is_string()
    })
    .await;
    assert!(
        sim.sent().iter().all(|(_, status)| *status == Some(200)),
        "{:?}",
        sim.sent()
    );
    // Without Meta's signature, even with the URL's secret, nothing is heard.
    let url = callback_of(&sim);
    let unsigned = app
        .client
        .post(&url)
        .json(&json!({"object": "whatsapp_business_account"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let forged = app
        .client
        .post(&url)
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let sent = app
        .post(
            &format!("{one}/messages"),
            &t.admin.token,
            json!({"to": "5511988887777", "text": "Oi"}),
        )
        .await;
    assert!(
        sent.body["message_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("wamid.")),
        "{:?}",
        sent.body
    );
    sim.set_phone_status("106540352242922", "FLAGGED", "RED");
    let flagged = app
        .post(&format!("{one}/check"), &t.admin.token, json!({}))
        .await;
    assert_eq!(
        (
            flagged.body["status"].clone(),
            flagged.body["provider_status"].clone()
        ),
        (json!("failed"), json!("FLAGGED (RED)"))
    );
    sim.revoke_token();
    app.post(&format!("{one}/check"), &t.admin.token, json!({}))
        .await
        .assert_problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "provider_credentials_invalid",
        );
}

fn callback_of(sim: &CloudApiSimulator) -> String {
    sim.phone_number("106540352242922")
        .unwrap()
        .callback
        .unwrap()
}
