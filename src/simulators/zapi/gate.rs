//! The guard on every instance route. The instance is looked up first (its id and token
//! from the path; a wrong pair is 404 "Instance not found", which never repeats the
//! token), then the account's `Client-Token` header: missing is 400 "your client-token is
//! not configured", wrong is 403 (Z-API's body names the token sent; this one does not, so
//! no secret lands in a log).

use std::sync::Arc;

use axum::{
    extract::{Path, Request, State},
    http::{HeaderMap, StatusCode},
    middleware::Next,
    response::Response,
};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{Shared, ZapiInstance, error};

#[derive(Deserialize)]
pub(super) struct Credentials {
    instance_id: String,
    instance_token: String,
}

pub(super) async fn gate(
    State(shared): State<Arc<Shared>>,
    Path(credentials): Path<Credentials>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Response {
    let known = shared
        .instances()
        .get(&credentials.instance_id)
        .is_some_and(|i| same(&i.token, &credentials.instance_token));
    if !known {
        return error(StatusCode::NOT_FOUND, "Instance not found");
    }
    match headers.get("client-token") {
        None => error(
            StatusCode::BAD_REQUEST,
            "your client-token is not configured",
        ),
        Some(sent) if same(&shared.client_token, sent.to_str().unwrap_or_default()) => {
            next.run(request).await
        }
        Some(_) => error(StatusCode::FORBIDDEN, "Client-Token not allowed"),
    }
}

fn same(expected: &str, sent: &str) -> bool {
    expected.as_bytes().ct_eq(sent.as_bytes()).into()
}

/// The instance a route names (the gate has let the request in).
#[derive(Deserialize)]
pub(super) struct Named {
    instance_id: String,
}

/// Answers with `answer` applied to the named instance.
pub(super) fn with_instance(
    shared: &Shared,
    named: &Named,
    answer: impl FnOnce(&mut ZapiInstance) -> Response,
) -> Response {
    match shared.instances().get_mut(&named.instance_id) {
        Some(instance) => answer(instance),
        None => error(StatusCode::NOT_FOUND, "Instance not found"),
    }
}
