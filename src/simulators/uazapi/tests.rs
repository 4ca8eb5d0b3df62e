//! The simulator driven over real HTTP, as the hub's UazAPI adapter sees it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{InstanceStatus, UazapiSimulator};
use crate::simulators::testing::{self, Receiver};

const ADMIN: &str = "uazapi-admin-token";

/// Calls the API with one credential header: `("admintoken", …)` or `("token", …)`.
async fn call(
    sim: &UazapiSimulator,
    method: Method,
    path: &str,
    auth: (&str, &str),
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = reqwest::Client::new()
        .request(method, format!("{}{path}", sim.base_url()))
        .header(auth.0, auth.1);
    testing::call(request, body).await
}

async fn init(sim: &UazapiSimulator, name: &str) -> String {
    let body = json!({"name": name, "systemName": "whatpro-hub", "adminField02": "inst_01"});
    let (status, created) = call(
        sim,
        Method::POST,
        "/instance/init",
        ("admintoken", ADMIN),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["response"], "Instance created successfully");
    assert_eq!(created["instance"]["status"], "disconnected");
    assert_eq!(created["instance"]["adminField02"], "inst_01");
    created["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn an_instance_connects_by_qr_and_its_webhook_reports_it() {
    let receiver = Receiver::start().await;
    let sim = UazapiSimulator::start(ADMIN).await;
    let token = init(&sim, "acme-01").await;
    let auth = ("token", token.as_str());
    let hook = json!({
        "url": receiver.url, "events": ["connection"], "enabled": true,
        "excludeMessages": ["wasSentByApi"], "addUrlEvents": false, "AddUrlTypesMessages": false,
    });
    let (status, hooks) = call(&sim, Method::POST, "/webhook", auth, Some(hook)).await;
    assert_eq!(status, StatusCode::OK, "{hooks}");
    assert_eq!(hooks[0]["url"], receiver.url.as_str());
    assert_eq!(hooks[0]["enabled"], true);
    let (_, listed) = call(&sim, Method::GET, "/webhook", auth, None).await;
    assert_eq!(listed, hooks);

    let (status, connect) = call(
        &sim,
        Method::POST,
        "/instance/connect",
        auth,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{connect}");
    assert_eq!(
        (&connect["connected"], &connect["jid"]),
        (&json!(false), &Value::Null)
    );
    assert_eq!(connect["instance"]["status"], "connecting");
    let qrcode = connect["instance"]["qrcode"].as_str().unwrap();
    assert!(qrcode.starts_with("data:image/png;base64,"), "{qrcode}");
    let connecting = receiver
        .wait_for(|b| b["instance"]["status"] == "connecting")
        .await
        .json;
    assert!(
        connecting["instance"]["qrcode"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png")
    );

    sim.scan("acme-01", "5511999990000");
    let (_, status) = call(&sim, Method::GET, "/instance/status", auth, None).await;
    assert_eq!(status["instance"]["status"], "connected");
    assert_eq!(status["status"]["loggedIn"], true);
    assert_eq!(status["status"]["jid"]["user"], "5511999990000");
    let connected = receiver
        .wait_for(|b| b["instance"]["status"] == "connected")
        .await
        .json;
    assert_eq!(connected["EventType"], "connection");
    assert_eq!(connected["instanceName"], "acme-01");
    assert_eq!(connected["owner"], "5511999990000");
    assert_eq!(
        connected["token"],
        token.as_str(),
        "uazapiGO puts the token in every body"
    );
    assert_eq!(connected["BaseUrl"], sim.base_url().as_str());

    let send = json!({"number": "5511988887777", "text": "Oi"});
    let (status, sent) = call(&sim, Method::POST, "/send/text", auth, Some(send)).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert!(sent["id"].as_str().unwrap().starts_with("5511999990000:"));

    sim.drop_session("acme-01");
    let gone = receiver.wait_for(|b| b["type"] == "LoggedOut").await.json;
    assert_eq!(gone["instance"]["status"], "disconnected");
    assert_eq!(
        gone["instance"]["lastDisconnectReason"],
        "401: logged out from another device"
    );
    assert_eq!(
        sim.instance("acme-01").unwrap().status,
        InstanceStatus::Disconnected
    );
}

#[tokio::test]
async fn errors_come_in_uazapi_shapes() {
    let sim = UazapiSimulator::start(ADMIN).await;
    let body = json!({"name": "x"});
    let (status, refused) = call(
        &sim,
        Method::POST,
        "/instance/init",
        ("admintoken", "nope"),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(refused, json!({"error": "Invalid AdminToken Header"}));
    let (status, refused) = call(
        &sim,
        Method::GET,
        "/instance/status",
        ("token", "nope"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused, json!({"error": "Invalid token"}));

    let first = init(&sim, "first").await;
    let second = init(&sim, "second").await;
    let (status, refused) = call(
        &sim,
        Method::POST,
        "/send/text",
        ("token", &first),
        Some(json!({"number": "5511988887777", "text": "Oi"})),
    )
    .await;
    assert_eq!(
        (status, refused),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "No session"})
        )
    );

    sim.set_instance_limit(1);
    call(
        &sim,
        Method::POST,
        "/instance/connect",
        ("token", &first),
        None,
    )
    .await;
    sim.scan("first", "5511999990000");
    let (status, refused) = call(
        &sim,
        Method::POST,
        "/instance/connect",
        ("token", &second),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused["error"].is_string());

    let (_, all) = call(
        &sim,
        Method::GET,
        "/instance/all",
        ("admintoken", ADMIN),
        None,
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (status, deleted) = call(&sim, Method::DELETE, "/instance", ("token", &second), None).await;
    assert_eq!(
        (status, &deleted["response"]),
        (StatusCode::OK, &json!("Instance Deleted"))
    );
    assert!(sim.instance("second").is_none());

    sim.fail_next(1, 502);
    let (status, failed) = call(
        &sim,
        Method::GET,
        "/instance/status",
        ("token", &first),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(failed["error"].is_string());
    let (status, paired) = call(
        &sim,
        Method::POST,
        "/instance/disconnect",
        ("token", &first),
        None,
    )
    .await;
    assert_eq!(
        (status, &paired["response"]),
        (StatusCode::OK, &json!("Disconnected"))
    );
    let phone = json!({"phone": "5511999990000"});
    let (_, paired) = call(
        &sim,
        Method::POST,
        "/instance/connect",
        ("token", &first),
        Some(phone),
    )
    .await;
    let code = paired["instance"]["paircode"].as_str().unwrap();
    assert_eq!(
        sim.instance("first").unwrap().paircode.as_deref(),
        Some(code)
    );
    assert_eq!(sim.sent(), vec![], "no webhook configured, nothing posted");
}
