//! The simulator driven over real HTTP, as the hub's adapter and webhook endpoint see it.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::ZapiSimulator;
use crate::simulators::testing::{self, Receiver};

const CLIENT_TOKEN: &str = "F1d2c3b4a5-account-security-token";
const ID: &str = "3C67AB641C8AA0412F6A2242B4E23AC7";
const TOKEN: &str = "D8A1B2C3E4F5A6B7C8D9E0F1";
const PHONE: &str = "5511999990000";

/// Calls instance `ID` as the adapter does: its token in the path, the `Client-Token`.
async fn call(
    sim: &ZapiSimulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}/instances/{ID}/token/{TOKEN}/{path}", sim.base_url());
    let request = reqwest::Client::new()
        .request(method, url)
        .header("Client-Token", CLIENT_TOKEN);
    testing::call(request, body).await
}

/// The first callback of type `kind` received: (the path it went to, its body).
async fn callback(hooks: &Receiver, kind: &str) -> (String, Value) {
    let post = hooks.wait_for(|body| body["type"] == kind).await;
    (post.path, post.json)
}

/// The callback log once `n` posts have been answered.
async fn sent_after(sim: &ZapiSimulator, n: usize) -> Vec<(String, Option<u16>)> {
    for _ in 0..500 {
        if sim.sent().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sim.sent()
}

#[tokio::test]
async fn an_instance_from_the_panel_connects_by_qr_and_then_sends() {
    let sim = ZapiSimulator::start(CLIENT_TOKEN).await;
    sim.add_instance(ID, TOKEN);
    let hooks = Receiver::start().await;
    let url = json!({"value": format!("{}/connected", hooks.url)});
    let (status, body) = call(&sim, Method::PUT, "update-webhook-connected", Some(url)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"value": true})));

    let (_, state) = call(&sim, Method::GET, "status", None).await;
    let disconnected = json!({"connected": false, "error": "You are not connected.", "smartphoneConnected": false});
    assert_eq!(state, disconnected);
    let (status, qr) = call(&sim, Method::GET, "qr-code/image", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        qr["value"]
            .as_str()
            .unwrap()
            .starts_with("data:image/png;base64,iVBOR"),
        "{qr}"
    );
    sim.rotate_qr(ID);
    let (_, rotated) = call(&sim, Method::GET, "qr-code/image", None).await;
    assert_ne!(rotated, qr, "a new QR after rotation");
    let (status, refused) = call(
        &sim,
        Method::POST,
        "send-text",
        Some(json!({"phone": "5511988887777", "message": "oi"})),
    )
    .await;
    assert_eq!(
        (status, refused),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "You are not connected."})
        )
    );

    sim.scan(ID, PHONE);
    let (path, connected) = callback(&hooks, "ConnectedCallback").await;
    assert_eq!(path, "/hooks/connected");
    assert_eq!(connected["connected"], true);
    assert_eq!(connected["phone"], PHONE);
    assert_eq!(connected["instanceId"], ID);
    assert!(connected["momment"].is_i64());
    assert_eq!(
        sent_after(&sim, 1).await,
        vec![("ConnectedCallback".to_string(), Some(200))]
    );

    let (_, state) = call(&sim, Method::GET, "status", None).await;
    assert_eq!(state["connected"], true);
    assert_eq!(state["error"], "You are already connected.");
    let (_, qr) = call(&sim, Method::GET, "qr-code/image", None).await;
    assert_eq!(qr, json!({"connected": true}), "no QR once connected");
    let (_, me) = call(&sim, Method::GET, "me", None).await;
    assert_eq!(
        me["connectedCallbackUrl"],
        format!("{}/connected", hooks.url)
    );
    assert_eq!(me["phone"], PHONE);

    let text = json!({"phone": "5511988887777", "message": "Olá do hub"});
    let (status, sent) = call(&sim, Method::POST, "send-text", Some(text)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sent["messageId"], sent["id"]);
    assert_eq!(sent["zaapId"].as_str().unwrap().len(), 32);
    let instance = sim.instance(ID).unwrap();
    assert_eq!(instance.sent_texts[0].message, "Olá do hub");
    assert_eq!(instance.phone.as_deref(), Some(PHONE));
}

#[tokio::test]
async fn wrong_credentials_get_z_api_errors_that_do_not_repeat_them() {
    let sim = ZapiSimulator::start(CLIENT_TOKEN).await;
    sim.add_instance(ID, TOKEN);
    let http = reqwest::Client::new();
    let status_url =
        |token: &str| format!("{}/instances/{ID}/token/{token}/status", sim.base_url());

    let missing = http.get(status_url(TOKEN)).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "your client-token is not configured"})
    );

    let wrong = http
        .get(status_url(TOKEN))
        .header("Client-Token", "not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert!(!wrong.text().await.unwrap().contains("not-the-token"));

    let stranger = http
        .get(status_url("WRONGTOKEN123"))
        .header("Client-Token", CLIENT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    let body = stranger.text().await.unwrap();
    assert_eq!(body, r#"{"error":"Instance not found"}"#);

    sim.fail_next(1, 503);
    let (status, _) = call(&sim, Method::GET, "status", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, _) = call(&sim, Method::GET, "status", None).await;
    assert_eq!(status, StatusCode::OK, "one failure only");
}

#[tokio::test]
async fn messages_and_disconnection_reach_their_own_webhooks() {
    let sim = ZapiSimulator::start(CLIENT_TOKEN).await;
    sim.add_instance(ID, TOKEN);
    let hooks = Receiver::start().await;
    sim.require_https(true);
    let plain = json!({"value": format!("{}/received", hooks.url)});
    let (status, _) = call(
        &sim,
        Method::PUT,
        "update-webhook-received",
        Some(plain.clone()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "http refused while HTTPS is required"
    );
    sim.require_https(false);
    call(&sim, Method::PUT, "update-webhook-received", Some(plain)).await;
    let gone = json!({"value": format!("{}/disconnected", hooks.url)});
    call(&sim, Method::PUT, "update-webhook-disconnected", Some(gone)).await;

    sim.scan(ID, PHONE);
    sim.deliver_message(ID, "5511988887777", "Oi, preciso de ajuda");
    let (path, received) = callback(&hooks, "ReceivedCallback").await;
    assert_eq!(path, "/hooks/received");
    assert_eq!(received["phone"], "5511988887777");
    assert_eq!(received["fromMe"], false);
    assert_eq!(received["connectedPhone"], PHONE);
    assert_eq!(received["text"]["message"], "Oi, preciso de ajuda");

    sim.drop_session(ID);
    let (path, dropped) = callback(&hooks, "DisconnectedCallback").await;
    assert_eq!(path, "/hooks/disconnected");
    assert_eq!(dropped["disconnected"], true);
    let instance = sim.instance(ID).unwrap();
    assert!(!instance.connected);
    assert_eq!(instance.qr_count, 2, "a fresh QR for the next scan");
}
