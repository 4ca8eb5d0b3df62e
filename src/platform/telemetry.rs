use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use super::config::LogFormat;

/// Logs to stdout: JSON lines in production, readable lines in development. Every line
/// inside a request carries its `request_id` through the request span.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| {
            EnvFilter::try_new(std::env::var("LOG_LEVEL").unwrap_or_else(|_| "info".into()))
        })
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive("sqlx=warn".parse().expect("static directive"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
    if result.is_err() {
        tracing::debug!("a logger was already installed");
    }
}
