//! A typed HTTP client for Chatwoot's Application API (`/auth`, `/api/v1`) and Platform
//! API (`/platform/api/v1`).
//!
//! One `ChatwootClient` per Chatwoot installation. It owns the connection pool and **no
//! credentials**: every Application API method takes the caller's `&Credential`, so one
//! client serves all users and accounts of the installation. Platform calls go through a
//! [`PlatformClient`] (`client.platform(token)`), which binds the installation's platform
//! app token; keeping it in its own type means it is never sent to `/api/v1`.
//!
//! Retries: calls that are safe to repeat (GET, PUT, DELETE, and POST/PATCH that set an
//! absolute state, such as `toggle_status` with a status or a labels replace) are retried
//! on 429/502/503/504 and on connect errors and timeouts, per [`RetryPolicy`]. Creating a
//! message, a webhook or anything else is sent exactly once.

mod application;
mod conversation_types;
mod conversations;
mod error;
mod integrations;
mod platform;
mod retry;
mod transport;
mod types;

use std::{fmt, sync::Arc, time::Duration};

use reqwest::{Url, redirect};
use secrecy::SecretString;

pub use conversation_types::*;
pub use error::ChatwootError;
pub use integrations::{DashboardApp, DashboardAppFrame, Webhook, WebhookEvent};
pub use platform::{
    AccountUser, NewAccount, NewUser, PlatformAccount, PlatformClient, PlatformUser,
    PlatformUserAccount, UserToken, UserTokenUser,
};
pub use retry::RetryPolicy;
pub use types::*;

/// How a user authenticates to the Application API.
#[derive(Clone)]
pub enum Credential {
    /// A user's personal access token, sent as `api_access_token`.
    ApiToken(SecretString),
    /// A dashboard session (devise_token_auth), sent as `access-token`, `client`, `uid`
    /// and `token-type: Bearer`. `uid` is the user's email.
    Session {
        access_token: SecretString,
        client: SecretString,
        uid: String,
    },
}

impl Credential {
    pub fn api_token(token: impl Into<String>) -> Self {
        Credential::ApiToken(SecretString::from(token.into()))
    }
}

/// Shows which kind of credential it is and nothing of its value.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ApiToken(_) => f.write_str("Credential::ApiToken(<redacted>)"),
            Credential::Session { .. } => f.write_str("Credential::Session(<redacted>)"),
        }
    }
}

/// Cheap to clone: the pool and settings sit behind an `Arc`.
#[derive(Clone)]
pub struct ChatwootClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// Scheme, host, port and optional path prefix, without a trailing slash.
    base: String,
    retry: RetryPolicy,
}

impl fmt::Debug for ChatwootClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatwootClient")
            .field("base_url", &self.inner.base)
            .finish_non_exhaustive()
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_REDIRECTS: usize = 5;

impl ChatwootClient {
    /// `base_url` is the installation's root, e.g. `https://chat.example.com`.
    pub fn new(base_url: &str) -> Result<Self, ChatwootError> {
        let url = Url::parse(base_url.trim())
            .map_err(|_| ChatwootError::Validation("base URL is not a valid URL".into()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ChatwootError::Validation("base URL must be http(s)".into()));
        }
        // Userinfo would end up in error messages and logs.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ChatwootError::Validation(
                "base URL must not carry credentials".into(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ChatwootError::Validation(
                "base URL must not have a query or fragment".into(),
            ));
        }
        crate::platform::install_crypto_provider();
        // Our credentials travel in custom headers that reqwest does not strip on a
        // cross-origin redirect, so only same-origin redirects are followed.
        let origin = url.origin();
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if attempt.url().origin() == origin {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(policy)
            .user_agent(concat!("whatpro-hub/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ChatwootError::Unexpected(format!("HTTP client setup failed: {e}")))?;
        Ok(ChatwootClient {
            inner: Arc::new(Inner {
                http,
                base: url.as_str().trim_end_matches('/').to_string(),
                retry: RetryPolicy::default(),
            }),
        })
    }

    /// The same client (sharing its pool) with another retry policy.
    pub fn with_retry_policy(&self, retry: RetryPolicy) -> Self {
        ChatwootClient {
            inner: Arc::new(Inner {
                http: self.inner.http.clone(),
                base: self.inner.base.clone(),
                retry,
            }),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// A Platform API client over the same pool, bound to a platform app token.
    pub fn platform(&self, token: SecretString) -> PlatformClient {
        PlatformClient::new(self.clone(), token)
    }
}
