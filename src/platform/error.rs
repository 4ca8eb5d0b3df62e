//! The one error type of the HTTP API, rendered once as RFC 9457 `application/problem+json`.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use super::request_id;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// One resource in use past a limit: what to remove before the change is possible.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Overage {
    pub resource: &'static str,
    pub limit: i64,
    pub current: i64,
}

/// Everything a handler can fail with. Variants carry what the client may see; internal
/// causes stay in logs.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    /// A file of a type the route does not take (415 `unsupported_media_type`), and why.
    #[error("{0}")]
    UnsupportedFile(String),
    #[error("authentication required")]
    Unauthorized {
        code: &'static str,
        message: &'static str,
    },
    #[error("forbidden")]
    Forbidden {
        code: &'static str,
        message: &'static str,
    },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("quota exceeded for {resource}")]
    QuotaExceeded {
        resource: &'static str,
        limit: i64,
        current: i64,
    },
    /// A change the account's current usage does not fit (409 `usage_exceeds_plan`).
    #[error("the account uses more than the plan allows")]
    ExceedsPlan(Vec<Overage>),
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// 402: the account must pay before it may do this; `link` is where.
    #[error("{message}")]
    PaymentRequired {
        code: &'static str,
        message: &'static str,
        link: String,
    },
    /// An external service (Asaas, a provider) failed or is not set up: 502 or 503.
    #[error("{message}")]
    Upstream {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("feature {feature} is not enabled for this account")]
    FeatureDisabled { feature: &'static str },
    #[error("too many attempts")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable: {reason}")]
    Unavailable { reason: String },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    /// The database out of reach (down, restarting, no connection free in time) or out of
    /// room (a full disk) is a 503 the client may retry, logged once; anything else is a
    /// fault of ours.
    fn from(err: sqlx::Error) -> Self {
        if database_unavailable(&err) {
            tracing::warn!(error = %err, "the database is unavailable");
            return AppError::Unavailable {
                reason: "The database is unavailable; try again shortly.".into(),
            };
        }
        AppError::Internal(err.into())
    }
}

fn database_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code();
            let code = code.as_deref().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // Busy or locked past the timeout (5, 6), I/O error (10), full (13), cannot
                // open (14): primary codes, under the extended ones.
                matches!(
                    code.parse::<i32>().map(|c| c & 0xff),
                    Ok(5 | 6 | 10 | 13 | 14)
                )
            } else {
                // SQLSTATE classes: connection exception (08), insufficient resources (53),
                // operator intervention such as a shutdown (57).
                ["08", "53", "57"]
                    .iter()
                    .any(|class| code.starts_with(class))
            }
        }
        _ => false,
    }
}

impl AppError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn forbidden() -> Self {
        AppError::Forbidden {
            code: "forbidden",
            message: "Your role does not allow this action.",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType | AppError::UnsupportedFile(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            AppError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden { .. }
            | AppError::QuotaExceeded { .. }
            | AppError::FeatureDisabled { .. } => StatusCode::FORBIDDEN,
            AppError::Conflict { .. } | AppError::ExceedsPlan(_) => StatusCode::CONFLICT,
            AppError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::PaymentRequired { .. } => StatusCode::PAYMENT_REQUIRED,
            AppError::Upstream { status, .. } => *status,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        let mut problem = Problem::new(status, self.code(), self.detail());
        match self {
            AppError::Validation(errors) => problem.errors = Some(errors.clone()),
            AppError::QuotaExceeded {
                resource,
                limit,
                current,
            } => {
                problem.resource = Some(resource);
                problem.limit = Some(*limit);
                problem.current = Some(*current);
            }
            AppError::ExceedsPlan(overages) => problem.exceeded = Some(overages.clone()),
            AppError::PaymentRequired { link, .. } => problem.billing_url = Some(link.clone()),
            _ => {}
        }
        problem
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound => "not_found",
            AppError::Validation(_) => "validation_failed",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::UnsupportedMediaType | AppError::UnsupportedFile(_) => {
                "unsupported_media_type"
            }
            AppError::BadRequest { code, .. }
            | AppError::Unauthorized { code, .. }
            | AppError::Forbidden { code, .. }
            | AppError::Conflict { code, .. }
            | AppError::Unprocessable { code, .. }
            | AppError::PaymentRequired { code, .. }
            | AppError::Upstream { code, .. } => code,
            AppError::ExceedsPlan(_) => "usage_exceeds_plan",
            AppError::QuotaExceeded { .. } => "quota_exceeded",
            AppError::FeatureDisabled { .. } => "feature_disabled",
            AppError::Unavailable { .. } => "unavailable",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Internal(_) => "internal_error",
        }
    }

    fn detail(&self) -> String {
        match self {
            AppError::NotFound => "The resource does not exist.".into(),
            AppError::Validation(_) => "The request has invalid fields.".into(),
            AppError::Unauthorized { message, .. }
            | AppError::Forbidden { message, .. }
            | AppError::PaymentRequired { message, .. } => (*message).into(),
            AppError::ExceedsPlan(overages) => {
                let parts: Vec<String> = overages
                    .iter()
                    .map(|o| format!("{} {} (the plan allows {})", o.current, o.resource, o.limit))
                    .collect();
                format!(
                    "The account has {}; remove the excess first.",
                    parts.join(", ")
                )
            }
            AppError::QuotaExceeded {
                resource,
                limit,
                current,
            } => {
                format!("The plan allows {limit} {resource}; the account has {current}.")
            }
            AppError::Unavailable { reason } => reason.clone(),
            AppError::Internal(_) => "An unexpected error occurred.".into(),
            other => other.to_string(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(err) = &self {
            tracing::error!(error = format!("{err:#}"), "internal error");
        }
        let mut response = self.problem().into_response();
        match self {
            AppError::Unauthorized { .. } => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            AppError::RateLimited { retry_after_secs } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// The RFC 9457 body. `code` is the stable, machine-readable identifier clients branch on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<i64>,
    /// With `usage_exceeds_plan`: what is over the new plan's limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exceeded: Option<Vec<Overage>>,
    /// With `subscription_suspended`: where the account pays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_url: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Problem {
            type_: format!("https://whatpro.dev/problems/{}", code.replace('_', "-")),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            request_id: request_id::current(),
            errors: None,
            resource: None,
            limit: None,
            current: None,
            exceeded: None,
            billing_url: None,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON))],
            body,
        )
            .into_response()
    }
}

/// Maps a status that some layer produced without a body of ours (404 route, 405, 413,
/// timeout, panic) to its problem code.
pub fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::BAD_REQUEST => "bad_request",
        s if s.is_server_error() => "internal_error",
        _ => "error",
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Turns a unique-constraint violation into a 409 with `code`; other errors stay internal.
pub fn conflict_on_unique(
    code: &'static str,
    message: &'static str,
) -> impl FnOnce(sqlx::Error) -> AppError {
    move |err| {
        if super::db::is_unique_violation(&err) {
            AppError::Conflict {
                code,
                message: message.into(),
            }
        } else {
            AppError::from(err)
        }
    }
}
