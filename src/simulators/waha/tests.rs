//! The simulator driven over real HTTP, as the hub's WAHA adapter sees it.

use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha512;

use super::{SessionStatus, WahaSimulator};
use crate::simulators::testing::{self, Receiver};

const KEY: &str = "waha-test-key";

async fn call(
    sim: &WahaSimulator,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = reqwest::Client::new()
        .request(method, format!("{}{path}", sim.base_url()))
        .header("X-Api-Key", KEY);
    testing::call(request, body).await
}

#[tokio::test]
async fn a_session_is_created_shows_a_qr_is_scanned_and_reports_it_signed() {
    let receiver = Receiver::start().await;
    let sim = WahaSimulator::start(KEY).await;
    let config = json!({
        "metadata": {"hub.instance_id": "inst_01"},
        "webhooks": [{
            "url": receiver.url, "events": ["session.status"],
            "hmac": {"key": "per-instance-secret"},
            "customHeaders": [{"name": "X-Hub-Instance", "value": "inst_01"}],
        }],
    });
    let create = json!({"name": "acme-01", "config": config});
    let (status, created) = call(&sim, Method::POST, "/api/sessions", Some(create)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "STARTING");
    assert_eq!(created["engine"]["engine"], "NOWEB");
    assert_eq!(created["config"]["webhooks"][0]["retries"], Value::Null);
    assert_eq!(created["me"], Value::Null);

    let (_, info) = call(&sim, Method::GET, "/api/sessions/acme-01", None).await;
    assert_eq!(info["status"], "SCAN_QR_CODE");
    let qr_url = format!("{}/api/acme-01/auth/qr", sim.base_url());
    let http = reqwest::Client::new();
    let png = http
        .get(&qr_url)
        .header("X-Api-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let as_json = http.get(&qr_url).header("X-Api-Key", KEY);
    let as_json: Value = as_json
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(as_json["mimetype"], "image/png");
    let (_, raw) = call(&sim, Method::GET, "/api/acme-01/auth/qr?format=raw", None).await;
    assert!(raw["value"].as_str().unwrap().starts_with("2@"), "{raw}");
    let phone = json!({"phoneNumber": "5511999990000"});
    let (status, code) = call(
        &sim,
        Method::POST,
        "/api/acme-01/auth/request-code",
        Some(phone),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let code = code["code"].as_str().unwrap();
    assert!(code.len() == 9 && code.as_bytes()[4] == b'-', "{code}");

    sim.scan("acme-01", "5511999990000");
    let (_, me) = call(&sim, Method::GET, "/api/sessions/acme-01/me", None).await;
    assert_eq!(
        me,
        json!({"id": "5511999990000@c.us", "pushName": "Demo phone"})
    );
    let post = receiver
        .wait_for(|b| b["payload"]["status"] == "WORKING")
        .await;
    let (headers, event) = (&post.headers, &post.json);
    let id = event["id"].as_str().unwrap();
    assert!(id.starts_with("evt_") && id.len() == 30, "{id}");
    assert_eq!(event["event"], "session.status");
    assert_eq!(event["session"], "acme-01");
    assert_eq!(event["metadata"], json!({"hub.instance_id": "inst_01"}));
    assert_eq!(event["me"]["id"], "5511999990000@c.us");
    assert_eq!(event["engine"], "NOWEB");
    assert_eq!(event["environment"]["engine"], "NOWEB");
    let statuses: Vec<&str> = event["payload"]["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["STARTING", "SCAN_QR_CODE", "WORKING"]);
    assert_eq!(event["payload"]["data"], Value::Null);
    let mut mac = Hmac::<Sha512>::new_from_slice(b"per-instance-secret").unwrap();
    mac.update(&post.body);
    let expected = hex::encode(mac.finalize().into_bytes());
    assert_eq!(headers["x-webhook-hmac"], expected.as_str());
    assert_eq!(headers["x-webhook-hmac-algorithm"], "sha512");
    assert_eq!(headers["x-hub-instance"], "inst_01");
    assert_eq!(
        headers["x-webhook-timestamp"],
        event["timestamp"].to_string().as_str()
    );
    assert!(headers.contains_key("x-webhook-request-id"));

    let send = json!({"session": "acme-01", "chatId": "5511988887777@c.us", "text": "Oi"});
    let (status, message) = call(&sim, Method::POST, "/api/sendText", Some(send)).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    assert!(
        message["id"]
            .as_str()
            .unwrap()
            .starts_with("true_5511988887777@c.us_")
    );
    assert_eq!(message["fromMe"], true);
    let logged = sim.sent();
    assert!(
        logged.iter().all(|(event, _)| event == "session.status"),
        "{logged:?}"
    );
}

#[tokio::test]
async fn errors_come_in_waha_shapes() {
    let sim = WahaSimulator::start(KEY).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/sessions", sim.base_url());
    let wrong = http
        .get(&url)
        .header("X-Api-Key", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body, json!({"message": "Unauthorized", "statusCode": 401}));
    let by_query = http
        .get(format!("{url}?x-api-key={KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), StatusCode::OK);
    let ping = http
        .get(format!("{}/ping", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ping.json::<Value>().await.unwrap(),
        json!({"message": "pong"})
    );

    let (status, missing) = call(&sim, Method::GET, "/api/sessions/ghost", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let not_found =
        json!({"statusCode": 404, "message": "Session not found", "error": "Not Found"});
    assert_eq!(missing, not_found);
    let (status, _) = call(&sim, Method::DELETE, "/api/sessions/ghost", None).await;
    assert_eq!(status, StatusCode::OK, "delete is idempotent");

    let stopped = json!({"name": "idle", "start": false});
    let (status, created) = call(&sim, Method::POST, "/api/sessions", Some(stopped.clone())).await;
    assert_eq!(
        (status, &created["status"]),
        (StatusCode::CREATED, &json!("STOPPED"))
    );
    let (status, twice) = call(&sim, Method::POST, "/api/sessions", Some(stopped)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        twice["message"],
        "Session 'idle' already exists. Use PUT to update it."
    );
    let (_, listed) = call(&sim, Method::GET, "/api/sessions", None).await;
    assert_eq!(listed, json!([]), "stopped sessions only with ?all=true");
    let (_, listed) = call(&sim, Method::GET, "/api/sessions?all=true", None).await;
    assert_eq!(listed[0]["name"], "idle");
    let (status, qr) = call(&sim, Method::GET, "/api/idle/auth/qr", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(qr["status"], "STOPPED");
    assert_eq!(qr["expected"], json!(["SCAN_QR_CODE"]));
    let send = json!({"session": "idle", "chatId": "5511988887777@c.us", "text": "Oi"});
    let (status, refused) = call(&sim, Method::POST, "/api/sendText", Some(send)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["expected"], json!(["WORKING"]));

    sim.fail_next(1, 503);
    let (status, failed) = call(&sim, Method::GET, "/api/sessions", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(failed["statusCode"], 503);
    assert_eq!(
        call(&sim, Method::GET, "/api/sessions", None).await.0,
        StatusCode::OK
    );

    sim.core_only();
    let (status, refused) = call(&sim, Method::GET, "/api/sessions/idle", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = refused["message"].as_str().unwrap();
    assert!(
        message.starts_with("WAHA Core support only 'default' session."),
        "{message}"
    );
}

#[tokio::test]
async fn a_session_fails_after_six_qrs_and_when_the_phone_logs_out() {
    let sim = WahaSimulator::start(KEY).await;
    call(
        &sim,
        Method::POST,
        "/api/sessions",
        Some(json!({"name": "s"})),
    )
    .await;
    for _ in 0..5 {
        sim.rotate_qr("s");
    }
    let shown = sim.session("s").unwrap();
    assert_eq!(
        (shown.status, shown.qr_count),
        (SessionStatus::ScanQrCode, 6)
    );
    sim.rotate_qr("s");
    assert_eq!(sim.session("s").unwrap().status, SessionStatus::Failed);

    let (status, restarted) = call(&sim, Method::POST, "/api/sessions/s/restart", None).await;
    assert_eq!(
        (status, &restarted["status"]),
        (StatusCode::CREATED, &json!("STARTING"))
    );
    assert_eq!(sim.session("s").unwrap().qr_count, 1);
    sim.scan("s", "5511999990000");
    sim.drop_session("s");
    let dropped = sim.session("s").unwrap();
    assert_eq!(dropped.status, SessionStatus::Failed);
    let (_, started) = call(&sim, Method::POST, "/api/sessions/s/start", None).await;
    assert_eq!(started["status"], "STARTING");
    let fresh = sim.session("s").unwrap();
    assert_eq!((fresh.status, fresh.me), (SessionStatus::ScanQrCode, None));
}
