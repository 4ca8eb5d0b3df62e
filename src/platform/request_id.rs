//! A request id for every request: a sane incoming `X-Request-Id` is kept, anything else
//! is replaced. It is echoed in the response, carried by the request's log span, and read
//! by error bodies through a task-local.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;
use uuid::Uuid;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: RequestId;
}

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The id of the request being served on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(|id| id.0.clone()).ok()
}

/// Ids of up to 128 visible ASCII characters from a conservative set are accepted; others
/// could be used to forge log lines.
fn is_sane(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The outermost layer: assigns the id, then times the request inside the id's span (so
/// the request's log line and metrics carry it).
pub async fn middleware(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane(v))
        .map(str::to_owned)
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = super::telemetry::request_span(&id);
    let mut response = REQUEST_ID
        .scope(RequestId(id.clone()), super::metrics::track(req, next))
        .instrument(span)
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(X_REQUEST_ID.clone(), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::is_sane;

    #[test]
    fn accepts_common_ids_and_rejects_injection() {
        assert!(is_sane("5f0c6a1e-2b7d-4c52-9f0e-1a2b3c4d5e6f"));
        assert!(is_sane("req_01HZX.abc:1"));
        assert!(!is_sane(""));
        assert!(!is_sane("a b"));
        assert!(!is_sane("x\nlevel=error"));
        assert!(!is_sane(&"a".repeat(129)));
    }
}
