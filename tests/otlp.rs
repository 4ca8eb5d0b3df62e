//! With an OTLP endpoint configured, request spans reach the collector as OTLP/HTTP
//! protobuf. Its own binary: it installs the process-wide subscriber.

use std::time::Duration;

use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
use tokio::sync::mpsc;
use whatpro_hub::platform::telemetry::{self, LogFormat};

#[tokio::test(flavor = "multi_thread")]
async fn spans_are_exported_to_the_collector() {
    let (received, mut deliveries) = mpsc::unbounded_channel::<(String, usize)>();
    let collector = Router::new().route(
        "/v1/traces",
        post(move |headers: HeaderMap, body: Bytes| async move {
            let content_type = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let _ = received.send((content_type.to_string(), body.len()));
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await.unwrap() });

    let telemetry = telemetry::init(LogFormat::Json, Some(&endpoint)).unwrap();
    let span = telemetry::request_span("otlp-test");
    // Regression (issue 13, finding 17): the request's log lines carry its trace id.
    let trace_id = telemetry::trace_id(&span).expect("a trace id while traces are exported");
    assert_eq!(trace_id.len(), 32);
    span.in_scope(|| tracing::info!("inside a request"));
    drop(span);
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .unwrap();

    let (content_type, size) = tokio::time::timeout(Duration::from_secs(10), deliveries.recv())
        .await
        .expect("the collector received nothing")
        .unwrap();
    assert_eq!(content_type, "application/x-protobuf");
    assert!(size > 0);
}
