//! A JSON extractor whose rejections are problem+json like every other error.

use axum::{
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

use super::error::{AppError, FieldError};

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(rejection_to_error(rejection)),
        }
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

/// axum reports `Failed to deserialize …: path.to.field: message`; the path is what
/// clients want to highlight.
fn field_of(text: &str) -> String {
    let detail = text
        .split_once("target type: ")
        .map_or(text, |(_, rest)| rest);
    detail
        .split_once(": ")
        .map(|(path, _)| path)
        .filter(|path| !path.is_empty() && !path.contains(' '))
        .unwrap_or("body")
        .to_string()
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::field_of;

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
            "body"
        );
    }
}
