//! Security headers on every response (OWASP Secure Headers Project), and a guarantee
//! that every error leaves as problem+json whichever layer produced it.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    app::state::AppState,
    platform::error::{Problem, code_for_status},
};

/// Nothing may frame the hub by default; embeddable routes set their own policy. `base-uri
/// 'self'` admits the `<base>` the hub writes into its pages when mounted under a path.
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
     frame-ancestors 'none'";

const PERMISSIONS_POLICY: &str = "accelerometer=(), autoplay=(), camera=(), display-capture=(), \
     geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), sync-xhr=(self)";

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    headers
        .entry(name)
        .or_insert(HeaderValue::from_static(value));
}

/// Sets the security headers on every answer, after bare error answers were made
/// problem+json (both in one layer: a layer per step costs a boxed service per request).
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut response = problem_errors(req, next).await;
    let headers = response.headers_mut();
    let own_framing_policy = headers.contains_key(header::CONTENT_SECURITY_POLICY);
    set_default(headers, header::CONTENT_SECURITY_POLICY, DEFAULT_CSP);
    if !own_framing_policy {
        set_default(headers, header::X_FRAME_OPTIONS, "DENY");
    }
    set_default(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(headers, header::REFERRER_POLICY, "no-referrer");
    set_default(
        headers,
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    );
    set_default(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set_default(
        headers,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set_default(
        headers,
        HeaderName::from_static("x-permitted-cross-domain-policies"),
        "none",
    );
    set_default(headers, header::CACHE_CONTROL, "no-store");
    if state.config.served_over_https() {
        set_default(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    headers.remove(header::SERVER);
    response
}

/// Rewrites error responses that some layer produced without a body of ours (unknown
/// route, wrong method, timeout, extractor rejections: empty or plain text) into
/// problem+json.
pub async fn problem_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let bare = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if status.as_u16() < 400 || !bare {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let detail = match status {
        StatusCode::NOT_FOUND => "The resource does not exist.",
        StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed on this resource.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.",
        StatusCode::REQUEST_TIMEOUT => "The request took too long and was stopped.",
        s if s.is_server_error() => "An unexpected error occurred.",
        _ => "The request could not be processed.",
    };
    let problem = Problem::new(status, code_for_status(status), detail).into_response();
    let (problem_parts, body) = problem.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        problem_parts.headers[header::CONTENT_TYPE].clone(),
    );
    Response::from_parts(parts, Body::new(body))
}

/// The body of a panic: logged here, never shown.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = message, "handler panicked");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "An unexpected error occurred.",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::to_bytes, http::Request, middleware::from_fn, routing::get};
    use tower::ServiceExt;
    use tower_http::catch_panic::CatchPanicLayer;

    use super::*;
    use crate::platform::request_id;

    async fn explode() -> &'static str {
        panic!("secret internals: password=hunter2")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_a_problem_without_internals() {
        let app = Router::new()
            .route("/boom", get(explode))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(from_fn(problem_errors))
            .layer(from_fn(request_id::middleware));
        let request = Request::get("/boom")
            .header("x-request-id", "panic-1")
            .body(Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = to_bytes(response.into_body(), 4096).await.unwrap();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "internal_error");
        assert_eq!(problem["request_id"], "panic-1");
        assert!(!String::from_utf8_lossy(&body).contains("hunter2"));
    }
}
