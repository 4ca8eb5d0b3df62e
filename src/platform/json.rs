//! A JSON extractor whose rejections are problem+json like every other error.

use axum::{
    body::Bytes,
    extract::{FromRequest, OptionalFromRequest, Request, rejection::JsonRejection},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

use super::{
    error::{AppError, FieldError},
    validate::failing_field,
};

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let (parts, body) = req.into_parts();
        let bytes = body_bytes(Request::from_parts(parts.clone(), body), state).await?;
        parse(parts, bytes, state).await
    }
}

/// A body that may be left out: a request with neither a content type nor any bytes is
/// `None`; anything else must be the JSON of `T`, as [`ApiJson`] requires. The bytes are
/// read to know, whatever the headers say of them (a chunked body has no length): a body
/// sent without its content type is refused (415), never taken for no body.
impl<S, T> OptionalFromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, AppError> {
        let typed = req.headers().contains_key(header::CONTENT_TYPE);
        let (parts, body) = req.into_parts();
        let bytes = body_bytes(Request::from_parts(parts.clone(), body), state).await?;
        if !typed && bytes.is_empty() {
            return Ok(None);
        }
        parse(parts, bytes, state).await.map(Some)
    }
}

/// The body's bytes, within the body limit.
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|rejection| match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            _ => AppError::BadRequest {
                code: "invalid_body",
                message: rejection.body_text(),
            },
        })
}

/// The body's `bytes` (already read) as the JSON of `T`.
async fn parse<S, T>(parts: Parts, bytes: Bytes, state: &S) -> Result<ApiJson<T>, AppError>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    // Every text field of every body, in one place (issue 13, finding 11).
    if super::text::json_has_nul(&bytes) {
        return Err(AppError::validation(
            "body",
            "text must not contain NUL characters (\\u0000)",
        ));
    }
    let req = Request::from_parts(parts, axum::body::Body::from(bytes));
    match <axum::Json<T> as FromRequest<S>>::from_request(req, state).await {
        Ok(axum::Json(value)) => Ok(ApiJson(value)),
        Err(rejection) => Err(rejection_to_error(rejection)),
    }
}

fn rejection_to_error(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::JsonDataError(err) => AppError::Validation(vec![FieldError {
            field: field_of(&err.body_text()),
            message: err.body_text(),
        }]),
        JsonRejection::JsonSyntaxError(_) => AppError::BadRequest {
            code: "invalid_json",
            message: "The request body is not valid JSON.".into(),
        },
        JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType,
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        other => AppError::BadRequest {
            code: "invalid_body",
            message: other.body_text(),
        },
    }
}

fn field_of(text: &str) -> String {
    failing_field(text, "target type: ").unwrap_or_else(|| "body".into())
}

/// The last field of a body that flattens another struct, where `deny_unknown_fields`
/// cannot work (serde hands a flattened struct only the fields it knows): it takes every
/// field left over and refuses the body if there is one, so such bodies follow the same
/// rule as every other (an unknown field is a 422, never silently dropped).
#[derive(Debug, Clone, Default)]
pub struct NoOtherFields;

impl<'de> serde::Deserialize<'de> for NoOtherFields {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let rest = std::collections::BTreeMap::<String, serde::de::IgnoredAny>::deserialize(de)?;
        match rest.keys().next() {
            None => Ok(NoOtherFields),
            Some(field) => Err(serde::de::Error::custom(format_args!(
                "unknown field `{field}`"
            ))),
        }
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::OptionalFromRequest;

    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Resume {
        at: u32,
    }

    /// A request with no length header, as a chunked body arrives.
    async fn optional(
        content_type: Option<&str>,
        body: &'static str,
    ) -> Result<Option<u32>, AppError> {
        let mut req = Request::builder().method("POST").uri("/");
        if let Some(content_type) = content_type {
            req = req.header(header::CONTENT_TYPE, content_type);
        }
        let req = req.body(axum::body::Body::from(body)).unwrap();
        let found = <ApiJson<Resume> as OptionalFromRequest<()>>::from_request(req, &()).await?;
        Ok(found.map(|ApiJson(r)| r.at))
    }

    #[tokio::test]
    async fn only_a_body_without_bytes_or_type_is_left_out() {
        assert!(matches!(optional(None, "").await, Ok(None)));
        assert!(matches!(
            optional(Some("application/json"), r#"{"at":7}"#).await,
            Ok(Some(7))
        ));
        // Bytes without a type are refused, not taken for no body.
        assert!(matches!(
            optional(None, r#"{"at":7}"#).await,
            Err(AppError::UnsupportedMediaType)
        ));
        assert!(matches!(
            optional(Some("application/json"), "").await,
            Err(AppError::BadRequest {
                code: "invalid_json",
                ..
            })
        ));
    }

    #[test]
    fn names_the_failing_field() {
        let text = "Failed to deserialize the JSON body into the target type: name: invalid type: integer `42`";
        assert_eq!(field_of(text), "name");
        assert_eq!(
            field_of(
                "Failed to deserialize the JSON body into the target type: limits.max_teams: x"
            ),
            "limits.max_teams"
        );
        assert_eq!(
            field_of(
                "Failed to deserialize the JSON body into the target type: missing field `name` at line 1"
            ),
            "name"
        );
        assert_eq!(
            field_of(
                "Failed to deserialize the JSON body into the target type: limits: missing field `max_teams` at line 1"
            ),
            "limits.max_teams"
        );
        assert_eq!(field_of("Failed to deserialize: EOF while parsing"), "body");
    }
}
