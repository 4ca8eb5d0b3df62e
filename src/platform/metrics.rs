//! Prometheus metrics: requests and latency per method, route template and status; the
//! database pool; build info.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::db::Db;

const LATENCY: &str = "http_request_duration_seconds";

/// The route template that served a request, copied from inside the router so the outer
/// middleware can label by template rather than raw path.
#[derive(Clone)]
struct RouteTemplate(String);

/// The process-wide recorder (metrics are global by nature; tests share it).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let buckets = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let recorder = PrometheusBuilder::new()
            // Every duration the hub measures (requests, checks of provider servers).
            .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".into()), &buckets)
            .expect("bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may exist only in tests that build several apps; keep the first.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

pub fn install() {
    handle();
}

pub async fn record_route(path: MatchedPath, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    response
        .extensions_mut()
        .insert(RouteTemplate(path.as_str().to_owned()));
    response
}

pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let response = next.run(req).await;
    let elapsed = started.elapsed();
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| "unmatched".into());
    let status = response.status().as_u16();
    let labels = [
        ("method", method.as_str().to_owned()),
        ("route", route.clone()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!(LATENCY, &labels).record(elapsed.as_secs_f64());
    tracing::info!(%method, route, status, latency_ms = elapsed.as_secs_f64() * 1000.0, "request");
    response
}

pub async fn render(State(db): State<Db>) -> Response {
    let (in_use, idle) = db.pool_usage();
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(in_use);
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("whatpro_hub_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle().render(),
    )
        .into_response()
}
