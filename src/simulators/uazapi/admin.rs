//! uazapiGO's server-level routes, behind the `admintoken` header: create an instance
//! (answered with its `token`, the credential of every later call on it) and list them all.

use std::sync::Arc;

use axum::{Json, body::Bytes, extract::State, http::HeaderMap, http::StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Refusal, Shared, UazapiInstance};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Init {
    name: Option<String>,
    system_name: Option<String>,
    admin_field01: Option<String>,
    admin_field02: Option<String>,
}

pub(super) async fn init(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, Refusal> {
    shared.admin(&headers)?;
    let init: Init = serde_json::from_slice(&bytes)
        .map_err(|_| Refusal(StatusCode::BAD_REQUEST, "Invalid payload"))?;
    let Some(name) = init.name.filter(|name| !name.is_empty()) else {
        return Err(Refusal(StatusCode::BAD_REQUEST, "Missing name"));
    };
    let system_name = init.system_name.unwrap_or_else(|| "uazapiGO".to_string());
    let fields = [init.admin_field01, init.admin_field02].map(Option::unwrap_or_default);
    let instance = UazapiInstance::new(name.clone(), system_name, fields);
    let answer = json!({
        "response": "Instance created successfully",
        "instance": instance.json(),
        "connected": false,
        "loggedIn": false,
        "name": name,
        "token": instance.token,
    });
    shared.instances().push(instance);
    Ok(Json(answer))
}

pub(super) async fn all(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Vec<Value>>, Refusal> {
    shared.admin(&headers)?;
    Ok(Json(
        shared
            .instances()
            .iter()
            .map(UazapiInstance::json)
            .collect(),
    ))
}
