//! Graph API errors: `{"error": {message, type, code, error_subcode?, error_data?,
//! is_transient?, fbtrace_id}}`, one constructor per error the simulator gives, with
//! Meta's codes and wording (`samples/meta-error.json`).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

pub(super) struct GraphError {
    status: StatusCode,
    kind: &'static str,
    code: u32,
    subcode: Option<u32>,
    message: String,
    /// `error_data.details`, as the messaging errors carry it.
    details: Option<String>,
    /// Meta marks the errors worth retrying unchanged.
    transient: bool,
}

impl GraphError {
    fn new(status: StatusCode, code: u32, message: String) -> GraphError {
        GraphError {
            status,
            kind: "OAuthException",
            code,
            subcode: None,
            message,
            details: None,
            transient: false,
        }
    }

    /// A missing or unknown access token.
    pub(super) fn invalid_token() -> GraphError {
        let message = "Invalid OAuth access token - Cannot parse access token".to_string();
        GraphError::new(StatusCode::UNAUTHORIZED, 190, message)
    }

    /// The right token, revoked since (subcode 460: the session was invalidated).
    pub(super) fn revoked_token() -> GraphError {
        let message = "Error validating access token: The session has been invalidated because \
                       the user changed their password or Facebook has changed the session for \
                       security reasons."
            .to_string();
        GraphError {
            subcode: Some(460),
            ..GraphError::new(StatusCode::UNAUTHORIZED, 190, message)
        }
    }

    pub(super) fn unknown_path(path: &str) -> GraphError {
        let message = format!("Unknown path components: {path}");
        GraphError::new(StatusCode::BAD_REQUEST, 2500, message)
    }

    /// No node with this id (or not one the token may see): code 100, subcode 33.
    pub(super) fn unknown_object(method: &str, id: &str) -> GraphError {
        let message = format!(
            "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be \
             loaded due to missing permissions, or does not support this operation. Please \
             read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
        );
        GraphError {
            kind: "GraphMethodException",
            subcode: Some(33),
            ..GraphError::new(StatusCode::BAD_REQUEST, 100, message)
        }
    }

    /// A parameter missing or wrong; `message` without the `(#100) ` prefix.
    pub(super) fn invalid_parameter(message: &str) -> GraphError {
        GraphError::new(StatusCode::BAD_REQUEST, 100, format!("(#100) {message}"))
    }

    pub(super) fn nonexisting_field(field: &str) -> GraphError {
        GraphError::invalid_parameter(&format!(
            "Tried accessing nonexisting field ({field}) on node type (WhatsAppBusinessPhoneNumber)"
        ))
    }

    /// The override callback did not answer the handshake: nothing was stored.
    pub(super) fn callback_verification_failed(reason: &str) -> GraphError {
        let message =
            format!("(#2200) Callback verification failed with the following errors: {reason}");
        GraphError::new(StatusCode::BAD_REQUEST, 2200, message)
    }

    /// A send from a number whose status is not `CONNECTED` (banned, flagged, …).
    pub(super) fn account_locked(status: &str) -> GraphError {
        GraphError {
            details: Some(format!(
                "The phone number's status is {status}; it cannot send messages."
            )),
            ..GraphError::new(
                StatusCode::BAD_REQUEST,
                131_031,
                "(#131031) Account has been locked".to_string(),
            )
        }
    }

    /// The error a test injected with `fail_next`: a throughput limit for 429, a token
    /// error for 401, Meta's "temporarily unavailable" (transient) for anything else.
    pub(super) fn injected(status: StatusCode) -> GraphError {
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                GraphError::new(status, 130_429, "(#130429) Rate limit hit".to_string())
            }
            StatusCode::UNAUTHORIZED => GraphError::invalid_token(),
            _ => GraphError {
                transient: true,
                ..GraphError::new(status, 2, "Service temporarily unavailable".to_string())
            },
        }
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        use rand::distr::{Alphanumeric, SampleString};
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": Alphanumeric.sample_string(&mut rand::rng(), 23),
        });
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if let Some(details) = self.details {
            error["error_data"] = json!({"messaging_product": "whatsapp", "details": details});
        }
        if self.transient {
            error["is_transient"] = json!(true);
        }
        (self.status, Json(json!({"error": error}))).into_response()
    }
}
