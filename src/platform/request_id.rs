//! A request id for every request: a sane incoming `X-Request-Id` is kept, anything else
//! is replaced. It is echoed in the response, carried by the request's log span, and read
//! by error bodies through a task-local.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Response},
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

/// Runs the rest of the request (the handler and what is inside this layer) as a task of its
/// own, with the request's id and span. A client that hangs up, or the request timeout,
/// then no longer cancels a handler half way through a transaction: sqlx cannot take back a
/// `BEGIN` or `COMMIT` already sent, and a connection dropped between the two went back to
/// the pool with PostgreSQL and sqlx disagreeing whether a transaction was open ("there is
/// already a transaction in progress", "there is no transaction in progress"; issue 13,
/// finding 21). The client still gets its answer (a 408 on timeout); the work ends as a
/// unit, committed or rolled back.
pub async fn detached(req: Request, next: Next) -> Response {
    let id = req
        .extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(|| RequestId(String::new()));
    let work = REQUEST_ID
        .scope(id, next.run(req))
        .instrument(tracing::Span::current());
    match tokio::spawn(work).await {
        Ok(response) => response,
        // Handed to the panic layer outside, as if it had happened here.
        Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
        // The runtime is shutting down.
        Err(_) => super::error::AppError::Unavailable {
            reason: "The hub is shutting down.".into(),
        }
        .into_response(),
    }
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
