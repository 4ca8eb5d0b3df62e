//! The guard on every request: a version segment like Graph's (`v{N}.0`, else "Unknown
//! path components"), then `Authorization: Bearer <access token>`. Missing or wrong → 401
//! code 190; once `revoke_token` ran, the right token also gets 190 (subcode 460).

use std::sync::{Arc, atomic::Ordering};

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;

use super::{GraphError, Shared};

pub(super) async fn gate(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let version = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    if !is_version(version) {
        return GraphError::unknown_path(path).into_response();
    }
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(token.as_bytes().ct_eq(shared.access_token.as_bytes())) {
        return GraphError::invalid_token().into_response();
    }
    if shared.revoked.load(Ordering::Relaxed) {
        return GraphError::revoked_token().into_response();
    }
    next.run(request).await
}

/// `v22.0`, `v24.0`, …: Graph's version segments.
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|rest| rest.strip_suffix(".0"))
        .is_some_and(|major| !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()))
}
