//! uazapiGO's routes on one instance's WhatsApp link, behind its `token` header: connect
//! (a QR, and a pair code when a phone is given), status (poll it for fresh QRs),
//! disconnect (a new QR is needed afterwards) and delete.

use std::sync::{Arc, atomic::Ordering};

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;
use serde_json::{Value, json};
use time::macros::format_description;

use super::{InstanceStatus, Refusal, Shared, UazapiInstance, authorised, events};

#[derive(Deserialize, Default)]
pub(super) struct Connect {
    phone: Option<String>,
}

pub(super) async fn connect(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, Refusal> {
    // The body is optional: without a phone the connect shows a QR only.
    let connect: Connect = serde_json::from_slice(&bytes).unwrap_or_default();
    let mut instances = shared.instances();
    let connected = instances
        .iter()
        .filter(|instance| instance.status == InstanceStatus::Connected)
        .count();
    let instance = authorised(&mut instances, &headers)?;
    if instance.status != InstanceStatus::Connected {
        if connected >= shared.instance_limit.load(Ordering::Relaxed) {
            return Err(Refusal(
                StatusCode::TOO_MANY_REQUESTS,
                "Maximum number of connected instances reached",
            ));
        }
        let phone = connect.phone.filter(|phone| !phone.is_empty());
        if phone.is_some() {
            instance.paircode = Some(crate::simulators::pairing_code());
        }
        // WhatsApp shows a QR either way: a pair code is typed while the QR is on show.
        if instance.status == InstanceStatus::Disconnected {
            instance.status = InstanceStatus::Connecting;
            instance.qr_count = 0;
            instance.show_qr();
            events::connection(&shared, instance, false);
        }
    }
    let mut answer = instance.connection();
    answer["instance"] = instance.json();
    Ok(Json(answer))
}

pub(super) async fn status(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refusal> {
    let mut instances = shared.instances();
    let instance = authorised(&mut instances, &headers)?;
    Ok(Json(
        json!({"instance": instance.json(), "status": instance.connection()}),
    ))
}

pub(super) async fn disconnect(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refusal> {
    let mut instances = shared.instances();
    let instance = authorised(&mut instances, &headers)?;
    if instance.status != InstanceStatus::Disconnected {
        disconnected(instance, "manual disconnect");
        events::connection(&shared, instance, false);
    }
    Ok(Json(json!({
        "instance": instance.json(),
        "response": "Disconnected",
        "info": "The device has been successfully disconnected from WhatsApp. A new QR code will be required for the next connection.",
    })))
}

pub(super) async fn delete(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Json<Value>, Refusal> {
    let mut instances = shared.instances();
    let token = authorised(&mut instances, &headers)?.token.clone();
    instances.retain(|instance| instance.token != token);
    Ok(Json(json!({
        "response": "Instance Deleted",
        "info": "O dispositivo foi desconectado com sucesso e a instância foi removida do banco de dados.",
    })))
}

/// The link is gone for `reason`; the owner stays on record, the QR and pair code do not.
pub(super) fn disconnected(instance: &mut UazapiInstance, reason: &str) {
    let at = crate::platform::clock::now()
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default();
    instance.status = InstanceStatus::Disconnected;
    instance.qr = None;
    instance.paircode = None;
    instance.last_disconnect = Some(at);
    instance.last_disconnect_reason = Some(reason.to_string());
}
