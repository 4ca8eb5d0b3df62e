//! WAHA's error bodies. WAHA is a NestJS app: an exception with a text message answers
//! `{statusCode, message, error}`, one thrown with an object answers the object as it is,
//! the API-key guard answers `{message, statusCode}`, and anything unexpected goes through
//! its catch-all filter as a 500 with the exception and the request.

use std::collections::HashMap;

use axum::{
    Json,
    body::Bytes,
    extract::{Query, Request},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::session::SessionStatus;

pub(super) enum Refusal {
    /// An `HttpException` with a message (text, or the validator's list of texts).
    Http(StatusCode, Value),
    /// The session is not in the status the call needs: the bare object WAHA throws.
    Status {
        session: String,
        status: SessionStatus,
        expected: SessionStatus,
    },
    /// No `X-Api-Key`, or a wrong one.
    Unauthorized,
}

impl Refusal {
    pub(super) fn not_found() -> Self {
        Refusal::Http(StatusCode::NOT_FOUND, json!("Session not found"))
    }

    pub(super) fn unprocessable(message: String) -> Self {
        Refusal::Http(StatusCode::UNPROCESSABLE_ENTITY, json!(message))
    }

    /// The validator's answer to a body missing a field.
    pub(super) fn missing(field: &str) -> Self {
        let message = json!([format!("{field} should not be empty")]);
        Refusal::Http(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Http(status, message) => {
                let error = status.canonical_reason().unwrap_or("Error");
                let body =
                    json!({"statusCode": status.as_u16(), "message": message, "error": error});
                (status, Json(body)).into_response()
            }
            Refusal::Status {
                session,
                status,
                expected,
            } => {
                let body = json!({
                    "error": "Session status is not as expected. Try again later or restart the session",
                    "session": session,
                    "status": status.as_str(),
                    "expected": [expected.as_str()],
                });
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
            Refusal::Unauthorized => {
                let body = json!({"message": "Unauthorized", "statusCode": 401});
                (StatusCode::UNAUTHORIZED, Json(body)).into_response()
            }
        }
    }
}

/// An injected failure, in the body WAHA gives that status: the guard's for 401, the
/// catch-all filter's for 500, an `HttpException`'s for the rest.
pub(super) fn injected(status: StatusCode, request: &Request) -> Response {
    match status {
        StatusCode::UNAUTHORIZED => Refusal::Unauthorized.into_response(),
        StatusCode::INTERNAL_SERVER_ERROR => {
            let query = Query::<HashMap<String, String>>::try_from_uri(request.uri())
                .map(|Query(query)| query)
                .unwrap_or_default();
            let now = crate::platform::clock::now();
            let body = json!({
                "statusCode": 500,
                "timestamp": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "exception": {"message": "Simulated failure", "name": "Error"},
                // The simulator does not read the body of a request it fails.
                "request": {"path": request.uri().path(), "method": request.method().as_str(),
                            "body": {}, "query": query},
                "version": super::VERSION,
            });
            (status, Json(body)).into_response()
        }
        _ => Refusal::Http(status, json!("Simulated failure")).into_response(),
    }
}

/// A JSON request body; an empty one is the type's default, as NestJS reads it.
pub(super) fn body<T: DeserializeOwned + Default>(bytes: &Bytes) -> Result<T, Refusal> {
    if bytes.is_empty() {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes)
        .map_err(|why| Refusal::Http(StatusCode::BAD_REQUEST, json!(why.to_string())))
}
