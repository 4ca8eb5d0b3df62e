//! The dashboard script Chatwoot's page loads from the hub (`DASHBOARD_SCRIPTS`), and the
//! framing policy of the UI pages it opens (`/embedded/*`).

use axum::{
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};

use crate::app::{headers::DEFAULT_CSP, state::AppState};

const SCRIPT: &str = include_str!("../../web/embed/dashboard-script.js");

/// The path prefix of UI pages that Chatwoot may frame.
pub const EMBEDDED_PREFIX: &str = "/embedded/";

/// `GET /embed/dashboard-script.js`: cacheable for five minutes and revalidated by ETag,
/// and loadable from another origin (Chatwoot's page).
pub async fn dashboard_script(headers: HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex(&Sha256::digest(SCRIPT.as_bytes())[..8]));
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let status = if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let body = if fresh { "" } else { SCRIPT };
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The CSP of a framed page: Chatwoot's origins may frame it, nothing else may.
pub fn framing_csp(origins: &[String]) -> String {
    let ancestors = std::iter::once("'self'")
        .chain(origins.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    DEFAULT_CSP.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {ancestors}"),
    )
}

/// Applies the framing policy to a page under [`EMBEDDED_PREFIX`]: CSP `frame-ancestors`
/// with every Chatwoot origin, no `X-Frame-Options`, and a COOP that keeps the Chatwoot
/// opener working.
pub fn allow_framing(state: &AppState, response: &mut Response) {
    let csp = framing_csp(&state.installations.all_origins());
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin-allow-popups"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_names_self_and_each_origin_and_keeps_the_rest() {
        let csp = framing_csp(&["https://chat.example.com".into()]);
        assert!(csp.contains("frame-ancestors 'self' https://chat.example.com"));
        assert!(!csp.contains("'none'; frame") && !csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("script-src 'self'"));
    }
}
