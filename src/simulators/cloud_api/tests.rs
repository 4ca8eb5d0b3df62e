//! The simulator driven over real HTTP, as the hub's adapter and webhook endpoint see it.

use std::{collections::HashMap, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::Query,
    http::{HeaderMap, StatusCode},
    routing::get,
};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use super::CloudApiSimulator;
use crate::simulators::{ServerTask, local_listener, testing};

const TOKEN: &str = "EAAG-system-user-token";
const SECRET: &str = "app-secret-for-signatures";
const NUMBER: &str = "106540352242922";
const VERIFY: &str = "a1b2c3d4e5f60718";

async fn call(
    sim: &CloudApiSimulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    call_as(sim, TOKEN, method, path, body).await
}

async fn call_as(
    sim: &CloudApiSimulator,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = reqwest::Client::new()
        .request(method, format!("{}{path}", sim.base_url()))
        .bearer_auth(token);
    testing::call(request, body).await
}

/// A webhook endpoint on 127.0.0.1:0: `/hook` answers the handshake for `VERIFY` with the
/// challenge, `/lazy` answers any handshake 200 "OK"; posts are handed over raw.
struct Receiver {
    url: String,
    posts: mpsc::UnboundedReceiver<(HeaderMap, Bytes)>,
    _server: ServerTask,
}

impl Receiver {
    async fn start() -> Receiver {
        let (tx, posts) = mpsc::unbounded_channel();
        let take = move |headers: HeaderMap, body: Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, body));
            }
        };
        let echo = |Query(query): Query<HashMap<String, String>>| async move {
            let get = |key: &str| query.get(key).cloned().unwrap_or_default();
            if get("hub.mode") == "subscribe" && get("hub.verify_token") == VERIFY {
                (StatusCode::OK, get("hub.challenge"))
            } else {
                (StatusCode::FORBIDDEN, String::new())
            }
        };
        let app = Router::new()
            .route("/hook", get(echo).post(take))
            .route("/lazy", get(|| async { "OK" }));
        let listener = local_listener().await;
        let url = format!("http://{}", listener.local_addr().unwrap());
        let _server = ServerTask::serve(listener, app);
        Receiver {
            url,
            posts,
            _server,
        }
    }

    async fn next(&mut self) -> (HeaderMap, Bytes) {
        tokio::time::timeout(Duration::from_secs(5), self.posts.recv())
            .await
            .expect("a webhook within 5 s")
            .expect("the receiver is up")
    }
}

fn override_to(uri: &str, verify_token: &str) -> Option<Value> {
    Some(
        json!({"webhook_configuration": {"override_callback_uri": uri, "verify_token": verify_token}}),
    )
}

#[tokio::test]
async fn the_number_node_answers_only_the_fields_asked() {
    let sim = CloudApiSimulator::start(TOKEN, SECRET).await;
    sim.add_phone_number(NUMBER, "+55 11 99999-0000");
    let (status, body) = call(
        &sim,
        Method::GET,
        &format!("/{NUMBER}?fields=status,quality_rating"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": "CONNECTED", "quality_rating": "GREEN", "id": NUMBER})
    );

    sim.set_phone_status(NUMBER, "FLAGGED", "RED");
    let fields = "display_phone_number,status,quality_rating,throughput,webhook_configuration";
    let (_, body) = call(
        &sim,
        Method::GET,
        &format!("/{NUMBER}?fields={fields}"),
        None,
    )
    .await;
    assert_eq!(body["status"], "FLAGGED");
    assert_eq!(body["quality_rating"], "RED");
    assert_eq!(body["display_phone_number"], "+55 11 99999-0000");
    assert_eq!(body["throughput"], json!({"level": "STANDARD"}));

    let (status, body) = call(&sim, Method::GET, "/999?fields=status", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(body["error"]["error_subcode"], 33);
    assert_eq!(body["error"]["type"], "GraphMethodException");
    let (_, body) = call(
        &sim,
        Method::GET,
        &format!("/{NUMBER}?fields=nonsense"),
        None,
    )
    .await;
    assert_eq!(body["error"]["code"], 100);
    assert!(body["error"]["fbtrace_id"].is_string());
}

#[tokio::test]
async fn an_override_callback_is_stored_only_once_it_echoes_the_challenge() {
    let sim = CloudApiSimulator::start(TOKEN, SECRET).await;
    sim.add_phone_number(NUMBER, "+55 11 99999-0000");
    let hooks = Receiver::start().await;
    let path = format!("/{NUMBER}");

    let lazy = override_to(&format!("{}/lazy", hooks.url), VERIFY);
    let (status, body) = call(&sim, Method::POST, &path, lazy).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 2200);
    let wrong_token = override_to(&format!("{}/hook", hooks.url), "not-the-verify-token");
    let (_, body) = call(&sim, Method::POST, &path, wrong_token).await;
    assert_eq!(body["error"]["code"], 2200);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP Status Code = 403")
    );
    assert_eq!(
        sim.phone_number(NUMBER).unwrap().callback,
        None,
        "nothing stored"
    );

    let hook = format!("{}/hook", hooks.url);
    let (status, body) = call(&sim, Method::POST, &path, override_to(&hook, VERIFY)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let number = sim.phone_number(NUMBER).unwrap();
    assert_eq!(number.callback.as_deref(), Some(hook.as_str()));
    assert_eq!(number.verify_token.as_deref(), Some(VERIFY));
    let (_, body) = call(
        &sim,
        Method::GET,
        &format!("{path}?fields=webhook_configuration"),
        None,
    )
    .await;
    assert_eq!(body["webhook_configuration"], json!({"phone_number": hook}));
    let verifications = sim.sent();
    assert_eq!(verifications.len(), 3);
    assert!(verifications.iter().all(|(kind, _)| kind == "verification"));
}

#[tokio::test]
async fn messages_and_statuses_arrive_signed_over_their_raw_bytes() {
    let sim = CloudApiSimulator::start(TOKEN, SECRET).await;
    sim.add_phone_number(NUMBER, "+55 11 99999-0000");
    let mut hooks = Receiver::start().await;
    let hook = format!("{}/hook", hooks.url);
    call(
        &sim,
        Method::POST,
        &format!("/{NUMBER}"),
        override_to(&hook, VERIFY),
    )
    .await;

    sim.deliver_message(NUMBER, "5511988887777", "Olá, preciso de ajuda");
    let (headers, body) = hooks.next().await;
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&body);
    let hex = hex::encode(mac.finalize().into_bytes());
    assert_eq!(
        headers["x-hub-signature-256"],
        format!("sha256={hex}").as_str()
    );
    assert!(body.is_ascii(), "non-ASCII written as \\u escapes");
    assert!(std::str::from_utf8(&body).unwrap().contains(r"Ol\u00e1"));
    let payload: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(payload["object"], "whatsapp_business_account");
    let value = &payload["entry"][0]["changes"][0]["value"];
    assert_eq!(value["metadata"]["phone_number_id"], NUMBER);
    assert_eq!(value["metadata"]["display_phone_number"], "5511999990000");
    assert_eq!(
        value["messages"][0]["text"]["body"],
        "Olá, preciso de ajuda"
    );
    assert_eq!(value["messages"][0]["from"], "5511988887777");

    let text = json!({"messaging_product": "whatsapp", "to": "+55 11 98888-7777", "type": "text", "text": {"body": "Oi!"}});
    let (status, sent) = call(
        &sim,
        Method::POST,
        &format!("/{NUMBER}/messages"),
        Some(text),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sent["contacts"][0]["wa_id"], "5511988887777");
    let wamid = sent["messages"][0]["id"].as_str().unwrap().to_string();
    assert!(wamid.starts_with("wamid."));
    sim.deliver_status(NUMBER, &wamid, "delivered");
    let (_, body) = hooks.next().await;
    let payload: Value = serde_json::from_slice(&body).unwrap();
    let status = &payload["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert_eq!(status["id"], wamid.as_str());
    assert_eq!(status["status"], "delivered");
    assert_eq!(status["recipient_id"], "5511988887777");
}

#[tokio::test]
async fn a_bad_or_revoked_token_gets_code_190_and_a_banned_number_cannot_send() {
    let sim = CloudApiSimulator::start(TOKEN, SECRET).await;
    sim.add_phone_number(NUMBER, "+55 11 99999-0000");
    let path = format!("/{NUMBER}?fields=status");
    let (status, body) = call_as(&sim, "someone-else", Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], 190);
    assert_eq!(body["error"]["type"], "OAuthException");

    sim.set_phone_status(NUMBER, "BANNED", "RED");
    let text = json!({"messaging_product": "whatsapp", "to": "5511988887777", "type": "text", "text": {"body": "Oi"}});
    let (status, body) = call(
        &sim,
        Method::POST,
        &format!("/{NUMBER}/messages"),
        Some(text),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], 131_031);
    let (_, body) = call(
        &sim,
        Method::POST,
        &format!("/{NUMBER}/messages"),
        Some(json!({"to": "1"})),
    )
    .await;
    assert_eq!(body["error"]["code"], 100, "messaging_product missing");

    sim.fail_next(1, 429);
    let (status, body) = call(&sim, Method::GET, &path, None).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!(130_429))
    );

    sim.revoke_token();
    let (status, body) = call(&sim, Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], 190);
    assert_eq!(body["error"]["error_subcode"], 460);
    let other_version = format!("{}/../v24.0/{NUMBER}", sim.base_url());
    let response = reqwest::Client::new()
        .get(other_version)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "every version, every call"
    );
}
