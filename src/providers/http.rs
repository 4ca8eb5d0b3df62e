//! Talking to a provider server: one HTTP client for every adapter, with the hub's
//! timeouts and no redirects (credentials travel in headers, and Z-API's in the URL), and
//! the ways a call fails, mapped to problem+json once.

use std::{sync::Arc, time::Duration};

use axum::http::StatusCode;

use super::address::{AddressPolicy, Guarded, NotAllowed};
use crate::platform::error::AppError;

/// How a call to a provider server failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Not reached, timed out, or answered like no provider of its type.
    #[error("the provider server could not be reached: {0}")]
    Unreachable(&'static str),
    /// Reached, and the credentials were refused.
    #[error("the provider refused the credentials")]
    CredentialsRefused,
    /// Reached, and the request refused, with the provider's own words.
    #[error("the provider refused the request: {0}")]
    Rejected(String),
    /// The server's address is one the hub may not call (`PROVIDER_*_NETWORKS`).
    #[error("the provider's address is not allowed")]
    AddressNotAllowed,
    /// The provider type has no such capability.
    #[error("the provider cannot {0}")]
    NotSupported(&'static str),
}

impl From<ProviderError> for AppError {
    fn from(err: ProviderError) -> AppError {
        match err {
            ProviderError::Unreachable(why) => AppError::Upstream {
                status: StatusCode::BAD_GATEWAY,
                code: "provider_unreachable",
                message: format!("The provider server did not answer as expected ({why})."),
            },
            ProviderError::CredentialsRefused => AppError::Unprocessable {
                code: "provider_credentials_invalid",
                message: "The provider server refused these credentials.".into(),
            },
            ProviderError::Rejected(message) => AppError::Unprocessable {
                code: "provider_rejected",
                message,
            },
            ProviderError::AddressNotAllowed => AppError::Unprocessable {
                code: "provider_address_not_allowed",
                message: "The hub may not call this address (PROVIDER_DENIED_NETWORKS, \
                          PROVIDER_ALLOWED_NETWORKS)."
                    .into(),
            },
            ProviderError::NotSupported(what) => AppError::Conflict {
                code: "not_supported_by_provider",
                message: format!("This provider type does not support {what}."),
            },
        }
    }
}

/// The client every adapter calls through.
#[derive(Clone)]
pub struct ProviderClient {
    pub(super) http: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl ProviderClient {
    pub fn new(timeout: Duration, policy: AddressPolicy) -> anyhow::Result<ProviderClient> {
        crate::platform::install_crypto_provider();
        let policy = Arc::new(policy);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(Guarded(Arc::clone(&policy))))
            .user_agent(concat!("whatpro-hub/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ProviderClient { http, policy })
    }

    pub(super) fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        self.http.request(method, url)
    }
}

/// What a failed send says, without the URL (Z-API's holds the instance token).
pub(super) fn unreachable(err: &reqwest::Error) -> ProviderError {
    ProviderError::Unreachable(if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    })
}

/// Whether the call failed because the name resolved only to denied addresses.
fn denied(err: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        if cause.is::<NotAllowed>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// Sends one call; answers the status and the JSON body (`Null` when there is none or it
/// is not JSON: the caller decides what a status means).
pub(super) async fn exchange(
    client: &ProviderClient,
    request: reqwest::RequestBuilder,
) -> Result<(u16, serde_json::Value), ProviderError> {
    let (http, request) = request.build_split();
    let request =
        request.map_err(|_| ProviderError::Unreachable("the request could not be made"))?;
    if client.policy.refuses_literal(request.url()) {
        return Err(ProviderError::AddressNotAllowed);
    }
    let response = http.execute(request).await.map_err(|e| match denied(&e) {
        true => ProviderError::AddressNotAllowed,
        false => unreachable(&e),
    })?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    Ok((status, body))
}
