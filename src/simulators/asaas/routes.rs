//! The router, Asaas's error body and the list envelope.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json, Router,
    http::StatusCode,
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{customers, gate, page, payments, state::Shared, subscriptions, webhook_api};

pub(super) type Sim = Arc<Shared>;

pub(super) fn router(shared: Sim) -> Router {
    let api = Router::new()
        .route("/customers", get(customers::list).post(customers::create))
        .route("/customers/{id}", get(customers::show))
        .route(
            "/subscriptions",
            get(subscriptions::list).post(subscriptions::create),
        )
        .route(
            "/subscriptions/{id}",
            get(subscriptions::show)
                .put(subscriptions::update)
                .delete(subscriptions::remove),
        )
        .route("/subscriptions/{id}/payments", get(subscriptions::payments))
        .route("/payments", get(payments::list))
        .route("/payments/{id}", get(payments::show))
        .route("/payments/{id}/pixQrCode", get(payments::pix_qr_code))
        .route(
            "/webhooks",
            get(webhook_api::list).post(webhook_api::create),
        )
        .route(
            "/webhooks/{id}",
            get(webhook_api::show)
                .put(webhook_api::update)
                .delete(webhook_api::remove),
        )
        .fallback(|| async { ApiError::not_found() })
        .layer(middleware::from_fn_with_state(shared.clone(), gate::gate));
    Router::new()
        .route("/", get(page::index))
        .route("/i/{id}", get(page::invoice))
        .route("/i/{id}/pay", post(page::pay))
        .nest("/v3", api)
        .with_state(shared)
}

/// Asaas's error answer: `{"errors":[{"code","description"}]}`.
#[derive(Debug)]
pub(super) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
}

pub(super) type ApiResult<T = Json<Value>> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            description: description.into(),
        }
    }

    /// A 400 for a field that is missing or wrong.
    pub fn invalid(code: &'static str, description: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, description)
    }

    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "O recurso solicitado não foi encontrado.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "errors": [{ "code": self.code, "description": self.description }] });
        (self.status, Json(body)).into_response()
    }
}

/// A JSON request body; anything unreadable is a 400 in Asaas's shape.
pub(super) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|err| {
        ApiError::invalid(
            "invalid_object",
            format!("O corpo da requisição não é um JSON válido: {err}"),
        )
    })
}

/// A required text field: present and not blank.
pub(super) fn required(
    value: Option<String>,
    code: &'static str,
    description: &str,
) -> ApiResult<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::invalid(code, description))
}

pub(super) type Params = HashMap<String, String>;

/// A query filter: passes when the parameter is absent or equals `value`.
pub(super) fn matches(params: &Params, name: &str, value: Option<&str>) -> bool {
    params
        .get(name)
        .is_none_or(|want| Some(want.as_str()) == value)
}

/// `{object:"list", hasMore, totalCount, limit, offset, data}` for one page of `items`,
/// paged by `offset` (default 0) and `limit` (default 10, at most 100) like Asaas.
pub(super) fn list(items: Vec<Value>, params: &Params) -> ApiResult {
    let number = |name: &str, default: usize| -> ApiResult<usize> {
        params.get(name).map_or(Ok(default), |text| {
            text.parse().map_err(|_| {
                ApiError::invalid("invalid_parameter", format!("{name} deve ser um número."))
            })
        })
    };
    let offset = number("offset", 0)?;
    let limit = number("limit", 10)?.clamp(1, 100);
    let total = items.len();
    let data: Vec<Value> = items.into_iter().skip(offset).take(limit).collect();
    Ok(Json(json!({
        "object": "list",
        "hasMore": offset + limit < total,
        "totalCount": total,
        "limit": limit,
        "offset": offset,
        "data": data,
    })))
}
