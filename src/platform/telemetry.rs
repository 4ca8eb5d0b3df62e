//! Logs on stdout (JSON lines in production, readable lines in development; every line in a
//! request carries its `request_id`, and its `trace_id` when traces are exported, through
//! the request span) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the same spans exported
//! as traces over OTLP/HTTP.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Keeps the trace exporter alive; [`Telemetry::shutdown`] flushes what is buffered.
pub struct Telemetry {
    tracer_provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    pub fn shutdown(self) {
        if let Some(provider) = self.tracer_provider
            && let Err(err) = provider.shutdown()
        {
            eprintln!("whatpro-hub: flushing traces failed: {err}");
        }
    }
}

/// Installs the global subscriber. `otlp_endpoint` is the collector's base URL (as in
/// `OTEL_EXPORTER_OTLP_ENDPOINT`); traces go to its `/v1/traces`, and the exporter reads the
/// other standard `OTEL_*` variables (headers, timeout) itself.
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> anyhow::Result<Telemetry> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| {
            EnvFilter::try_new(std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into()))
        })
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive("sqlx=warn".parse().expect("static directive"));
    let logs = match format {
        LogFormat::Json => fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
        LogFormat::Pretty => fmt::layer().compact().boxed(),
    };
    let tracer_provider = otlp_endpoint.map(tracer_provider).transpose()?;
    let traces = tracer_provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer("whatpro-hub")));
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(traces)
        .try_init();
    if installed.is_err() {
        tracing::debug!("a subscriber was already installed");
    }
    Ok(Telemetry { tracer_provider })
}

/// The span a request runs in. When traces are exported its `trace_id` field holds the
/// OpenTelemetry trace id, so every log line of the request names its trace.
pub fn request_span(request_id: &str) -> tracing::Span {
    let span = tracing::info_span!("request", request_id, trace_id = tracing::field::Empty);
    if let Some(trace_id) = trace_id(&span) {
        span.record("trace_id", trace_id);
    }
    span
}

/// The span's OpenTelemetry trace id, when traces are exported.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::{TraceContextExt, TraceId};
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let trace_id = span.context().span().span_context().trace_id();
    (trace_id != TraceId::INVALID).then(|| trace_id.to_string())
}

fn tracer_provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    super::install_crypto_provider();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .build()?;
    let resource = Resource::builder()
        .with_service_name("whatpro-hub")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
