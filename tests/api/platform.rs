//! The edge: health, metrics, headers, errors, CORS, rate limits, request ids, shutdown.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Resp, TestApp};

const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("x-permitted-cross-domain-policies", "none"),
];

#[track_caller]
fn assert_security_headers(resp: &Resp) {
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(resp.header(name), Some(value), "{name}");
    }
    let csp = resp.header("content-security-policy").expect("CSP");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("object-src 'none'"),
        "{csp}"
    );
    assert!(
        resp.header("permissions-policy")
            .is_some_and(|p| p.contains("camera=()"))
    );
    assert!(resp.header("server").is_none());
}

#[tokio::test]
async fn health_endpoints_answer() {
    let app = TestApp::spawn().await;
    let live = app.request(Method::GET, "/health/live", None, None).await;
    assert_eq!(
        (live.status, live.body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let ready = app.request(Method::GET, "/health/ready", None, None).await;
    assert_eq!(
        (ready.status, ready.body["status"].as_str()),
        (StatusCode::OK, Some("ready"))
    );
    assert_security_headers(&ready);
    assert!(
        ready.header("strict-transport-security").is_none(),
        "no HSTS over plain http"
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.close().await;
    // Under the orchestrators' usual names too (not the web UI's 200).
    for path in ["/health/ready", "/readyz"] {
        let ready = app.request(Method::GET, path, None, None).await;
        ready.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
        assert!(ready.body["detail"].as_str().unwrap().contains("database"));
    }
    for path in ["/health/live", "/healthz", "/livez"] {
        let live = app.request(Method::GET, path, None, None).await;
        assert_eq!(
            (live.status, live.body["status"].as_str()),
            (StatusCode::OK, Some("ok")),
            "liveness does not depend on the database ({path})"
        );
    }
}

#[tokio::test]
async fn hsts_is_sent_when_served_over_https() {
    let app = TestApp::spawn_with(&[("PUBLIC_URL", "https://hub.example.com")]).await;
    let live = app.request(Method::GET, "/health/live", None, None).await;
    assert_eq!(
        live.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[tokio::test]
async fn errors_are_problem_json_with_security_headers() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;

    let unknown = app.get("/api/v1/nothing-here", &root.token).await;
    unknown.assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_security_headers(&unknown);

    let wrong_method = app.request(Method::PATCH, "/health/live", None, None).await;
    wrong_method.assert_problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");

    let bad_json = app
        .client
        .post(format!("{}/api/v1/accounts", app.base))
        .bearer_auth(&root.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    Resp::read(bad_json)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "invalid_json");

    let no_content_type = app
        .client
        .post(format!("{}/api/v1/accounts", app.base))
        .bearer_auth(&root.token)
        .body(r#"{"name":"x"}"#)
        .send()
        .await
        .unwrap();
    Resp::read(no_content_type)
        .await
        .assert_problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

    let wrong_type = app
        .post("/api/v1/accounts", &root.token, json!({ "name": 42 }))
        .await;
    wrong_type.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(wrong_type.body["errors"].is_array());

    let unknown_field = app
        .post(
            "/api/v1/accounts",
            &root.token,
            json!({ "name": "A", "owner": "me" }),
        )
        .await;
    unknown_field.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn oversized_bodies_are_refused_without_side_effects() {
    let app = TestApp::spawn_with(&[("BODY_LIMIT_BYTES", "1024")]).await;
    let root = app.user("root@hub.test", true).await;
    let big = json!({ "name": "Big", "settings": { "blob": "x".repeat(4096) } });
    app.post("/api/v1/accounts", &root.token, big)
        .await
        .assert_problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let list = app.get("/api/v1/accounts", &root.token).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let app = TestApp::spawn().await;
    let url = format!("{}/api/v1/accounts", app.base);
    let sane = app
        .client
        .get(&url)
        .header("x-request-id", "abc-123.def")
        .send()
        .await
        .unwrap();
    let sane = Resp::read(sane).await;
    assert_eq!(sane.header("x-request-id"), Some("abc-123.def"));
    assert_eq!(
        sane.body["request_id"], "abc-123.def",
        "problem bodies carry the id"
    );

    let forged = app
        .client
        .get(&url)
        .header("x-request-id", "x\" level=error")
        .send()
        .await
        .unwrap();
    let generated = forged.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_ne!(generated, "x\" level=error");
    assert!(uuid::Uuid::parse_str(&generated).is_ok());
}

#[tokio::test]
async fn cors_allows_only_listed_origins() {
    let app = TestApp::spawn_with(&[("CORS_ORIGINS", "https://chat.example.com")]).await;
    let url = format!("{}/api/v1/accounts", app.base);
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let allowed = preflight("https://chat.example.com").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://chat.example.com"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let denied = preflight("https://evil.example.net").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let simple = app
        .client
        .get(&url)
        .header("origin", "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert!(
        simple
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn anonymous_callers_are_limited_per_ip() {
    let app = TestApp::spawn_with(&[("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "3")]).await;
    for remaining in ["2", "1", "0"] {
        let resp = app
            .request(Method::GET, "/api/v1/accounts", None, None)
            .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        assert_eq!(resp.header("ratelimit-limit"), Some("3"));
        assert_eq!(resp.header("ratelimit-remaining"), Some(remaining));
    }
    let limited = app
        .request(Method::GET, "/api/v1/accounts", None, None)
        .await;
    limited.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    let health = app.request(Method::GET, "/health/live", None, None).await;
    assert_eq!(health.status, StatusCode::OK, "probes are not limited");
}

#[tokio::test]
async fn authenticated_callers_have_their_own_bucket() {
    let app = TestApp::spawn_with(&[
        ("RATE_LIMIT_PER_MINUTE", "2"),
        ("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "1"),
    ])
    .await;
    let alice = app.user("alice@hub.test", true).await;
    let bob = app.user("bob@hub.test", true).await;
    for _ in 0..2 {
        assert_eq!(
            app.get("/api/v1/accounts", &alice.token).await.status,
            StatusCode::OK
        );
    }
    app.get("/api/v1/accounts", &alice.token)
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(
        app.get("/api/v1/accounts", &bob.token).await.status,
        StatusCode::OK,
        "bob is not limited by alice"
    );
}

#[tokio::test]
async fn metrics_use_route_templates() {
    let app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    let id = uuid::Uuid::now_v7();
    app.get(&format!("/api/v1/accounts/{id}"), &root.token)
        .await;
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"route="/api/v1/accounts/{accountId}""#),
        "template label missing"
    );
    assert!(
        !metrics.contains(&id.to_string()),
        "raw ids must not become labels"
    );
    assert!(metrics.contains("http_request_duration_seconds_bucket"));
    assert!(metrics.contains("db_pool_connections"));
    assert!(metrics.contains("whatpro_hub_build_info"));
}

#[tokio::test]
async fn openapi_lists_every_route_and_docs_are_served() {
    let app = TestApp::spawn().await;
    let doc = app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
    let paths = doc.body["paths"].as_object().unwrap();
    for path in [
        "/health/live",
        "/health/ready",
        "/api/v1/accounts",
        "/api/v1/accounts/{accountId}",
        "/api/v1/accounts/{accountId}/users",
        "/api/v1/accounts/{accountId}/users/{userId}",
        "/api/v1/accounts/{accountId}/users/{userId}/deactivate",
        "/api/v1/accounts/{accountId}/teams",
        "/api/v1/accounts/{accountId}/teams/{teamId}/members",
        "/api/v1/accounts/{accountId}/teams/{teamId}/members/{userId}",
        "/api/v1/accounts/{accountId}/usage",
        "/api/v1/accounts/{accountId}/audit-logs",
    ] {
        assert!(paths.contains_key(path), "{path} missing from OpenAPI");
    }
    let docs = app
        .client
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn graceful_shutdown_finishes_an_in_flight_request() {
    let mut app = TestApp::spawn().await;
    let root = app.user("root@hub.test", true).await;
    // A request whose body is still arriving when the shutdown starts.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let stream = futures_util::stream::unfold(receiver, |mut rx| async {
        rx.recv().await.map(|item| (item, rx))
    });
    let request = app
        .client
        .post(format!("{}/api/v1/accounts", app.base))
        .bearer_auth(&root.token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    let in_flight = tokio::spawn(request);
    sender.send(Ok(br#"{"name": "#.to_vec())).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.shutdown.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    sender.send(Ok(br#""Drained"}"#.to_vec())).await.unwrap();
    drop(sender);

    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    app.stop().await;
    let refused = reqwest::Client::new()
        .get(format!("{}/health/live", app.base))
        .send()
        .await;
    assert!(refused.is_err(), "the listener is closed after shutdown");
}

/// Regression (issue 13, finding 6): made-up API keys (well formed, checksum and all) each
/// used to get a bucket of their own, so a caller without a credential was never limited.
/// Anything not yet found live counts against the client's IP; a real key, once found,
/// has its own bucket.
#[tokio::test]
async fn made_up_api_keys_count_against_the_ip() {
    use whatpro_hub::auth::opaque;
    let app = TestApp::spawn_with(&[
        ("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "3"),
        ("RATE_LIMIT_PER_MINUTE", "100"),
    ])
    .await;
    let root = app.user("root@hub.test", true).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = tenant.path("/teams");
    for _ in 0..3 {
        let (made_up, _) = opaque::new_api_key();
        assert!(opaque::is_well_formed_api_key(&made_up));
        app.get(&path, &made_up)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let (made_up, _) = opaque::new_api_key();
    app.get(&path, &made_up)
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");

    // A real key, once found live, is no longer held to the IP's budget.
    let app = TestApp::spawn_with(&[("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "2")]).await;
    let root = app.user("root@hub.test", true).await;
    let tenant = app.tenant(&root, "Acme").await;
    let key = app
        .post(
            &tenant.path("/api-keys"),
            &tenant.admin.token,
            json!({ "name": "ci", "scopes": ["teams:read"] }),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.body);
    let key = key.body["key"].as_str().unwrap().to_string();
    for n in 0..5 {
        let resp = app.get(&tenant.path("/teams"), &key).await;
        assert_eq!(resp.status, StatusCode::OK, "call {n}: {:?}", resp.body);
    }
}
