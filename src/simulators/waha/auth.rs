//! WAHA's login routes for a session waiting for a scan: the QR (PNG bytes, the JSON form
//! when `Accept` is exactly `application/json`, or the raw text with `?format=raw`) and a
//! pairing code for a phone number. Outside SCAN_QR_CODE both answer 422. The real QR route
//! first waits up to 5 s for the status; here a started session already shows its QR, so
//! the simulator answers at once.

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use serde_json::json;

use super::{
    Shared,
    refusal::{Refusal, body},
    session::SessionStatus,
    sessions::existing,
};
use crate::simulators::qr_image::qr_png;

#[derive(Deserialize)]
pub(super) struct QrQuery {
    format: Option<String>,
}

pub(super) async fn qr(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(query): Query<QrQuery>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let mut sessions = shared.sessions();
    let session = existing(&shared, &mut sessions, &name)?;
    let Some(qr) = session
        .qr
        .clone()
        .filter(|_| session.status == SessionStatus::ScanQrCode)
    else {
        return Err(Refusal::Status {
            session: name,
            status: session.status,
            expected: SessionStatus::ScanQrCode,
        });
    };
    if query.format.as_deref() == Some("raw") {
        return Ok(Json(json!({"value": qr})).into_response());
    }
    let png = qr_png(&qr);
    // WAHA compares the header with the exact text: a list or parameters get the PNG.
    if headers
        .get(header::ACCEPT)
        .is_some_and(|v| v == "application/json")
    {
        let body = json!({"mimetype": "image/png", "data": STANDARD.encode(png)});
        return Ok(Json(body).into_response());
    }
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(super) struct RequestCode {
    phone_number: Option<String>,
}

pub(super) async fn request_code(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response, Refusal> {
    let request: RequestCode = body(&bytes)?;
    if request.phone_number.is_none_or(|phone| phone.is_empty()) {
        return Err(Refusal::missing("phoneNumber"));
    }
    let mut sessions = shared.sessions();
    let session = existing(&shared, &mut sessions, &name)?;
    if session.status != SessionStatus::ScanQrCode {
        return Err(Refusal::unprocessable(format!(
            "Can request code only in SCAN_QR_CODE status. The current status is {}",
            session.status.as_str()
        )));
    }
    let code = crate::simulators::pairing_code();
    session.pairing_code = Some(code.clone());
    Ok((StatusCode::CREATED, Json(json!({"code": code}))).into_response())
}
