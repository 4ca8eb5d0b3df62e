//! Path and query extractors whose rejections are problem+json: a malformed id in the path
//! is simply not found (as an id of another tenant would be); a malformed query parameter
//! is a validation error naming the parameter.

use axum::{
    extract::{FromRequestParts, Path, Query},
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use super::{error::AppError, validate::failing_field};

pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|_| AppError::NotFound)
    }
}

pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        // A NUL cannot be stored or compared on PostgreSQL; no filter needs one.
        if parts.uri.query().is_some_and(|q| q.contains("%00")) {
            return Err(AppError::validation(
                "query",
                "parameters must not contain NUL characters (%00)",
            ));
        }
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| {
                let text = rejection.body_text();
                AppError::validation(&query_field(&text), text)
            })
    }
}

fn query_field(text: &str) -> String {
    failing_field(text, "query string: ").unwrap_or_else(|| "query".into())
}

#[cfg(test)]
mod tests {
    use super::query_field;

    #[test]
    fn names_the_failing_parameter() {
        assert_eq!(
            query_field("Failed to deserialize query string: limit: invalid digit found in string"),
            "limit"
        );
        assert_eq!(
            query_field("Failed to deserialize query string: expected something"),
            "query"
        );
        assert_eq!(
            query_field("Failed to deserialize query string: missing field `q`"),
            "q"
        );
    }
}
