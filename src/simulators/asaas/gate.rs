//! What every `/v3` request goes through before its handler: the request log, injected
//! faults and delays, the `access_token` and `User-Agent` checks, and the quota with its
//! `RateLimit-*` headers.

use axum::{
    body::Body,
    extract::{OriginalUri, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header::USER_AGENT},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{
    routes::{ApiError, Sim},
    state::{LoggedRequest, RateHeaders, lock},
};
use crate::simulators::faults::take;

/// Bodies larger than this are refused; the simulator's API takes small JSON only.
const MAX_BODY: usize = 1 << 20;

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

pub(super) async fn gate(State(sim): State<Sim>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_object",
            "Corpo da requisição muito grande.",
        )
        .into_response();
    };
    // Inside `nest("/v3")` the URI has lost its prefix; log what the client sent.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let user_agent = header(&parts.headers, USER_AGENT.as_str());
    lock(&sim.requests).push(LoggedRequest {
        method: parts.method.to_string(),
        path: path.to_string(),
        user_agent: user_agent.clone(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    });

    let key_ok = header(&parts.headers, "access_token").as_deref() == Some(sim.api_key.as_str());
    let (verdict, rate, delay) = {
        let mut gate = lock(&sim.gate);
        let delay = take(&mut gate.delay);
        let verdict = if let Some(status) = take(&mut gate.fault) {
            Err(injected(status))
        } else if !key_ok {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_access_token",
                "A chave de API fornecida é inválida",
            ))
        } else if user_agent.is_none() {
            Err(ApiError::invalid(
                "invalid_user_agent",
                "O header User-Agent é obrigatório.",
            ))
        } else if !gate.quota.spend() {
            Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                "Limite de requisições atingido. Aguarde o reset indicado em RateLimit-Reset.",
            ))
        } else {
            Ok(())
        };
        (verdict, gate.quota.headers(), delay)
    };

    let mut response = match verdict {
        Ok(()) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(error) => error.into_response(),
    };
    set_rate_headers(response.headers_mut(), rate);
    // The work is done before the delay: a client that gives up waiting has still
    // caused it, as with a slow real server (the case idempotent retries must survive).
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    response
}

fn injected(status: u16) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    ApiError::new(
        status,
        "simulated_failure",
        format!("Falha simulada ({status})."),
    )
}

fn set_rate_headers(headers: &mut HeaderMap, rate: RateHeaders) {
    let pairs = [
        ("ratelimit-limit", u64::from(rate.limit)),
        ("ratelimit-remaining", u64::from(rate.remaining)),
        ("ratelimit-reset", rate.reset_secs),
    ];
    for (name, value) in pairs {
        headers.insert(name, HeaderValue::from(value));
    }
}
