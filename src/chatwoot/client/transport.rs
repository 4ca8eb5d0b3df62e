//! One place that sends requests: credentials into headers, the retry loop, logging and
//! the mapping of failures to `ChatwootError`.

use std::time::Instant;

use reqwest::{
    Method, StatusCode, Url,
    header::{ACCEPT, HeaderMap, HeaderName, HeaderValue},
};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ChatwootClient, ChatwootError, Credential, retry::retryable_status};
use crate::platform::text;

/// Chatwoot wraps many answers as `{payload:…}`.
#[derive(serde::Deserialize)]
pub(super) struct Payload<T> {
    pub payload: T,
}

/// …and some as `{data:…}`.
#[derive(serde::Deserialize)]
pub(super) struct Data<T> {
    pub data: T,
}

/// Who the request is sent as.
pub(super) enum Auth<'a> {
    User(&'a Credential),
    Platform(&'a SecretString),
    Anonymous,
}

/// A request about to be sent. `template` is the path with placeholders; it is what gets
/// logged, so ids and tokens stay out of logs.
pub(super) struct Req<'a> {
    method: Method,
    template: &'static str,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<Value>,
    auth: Auth<'a>,
    repeatable: bool,
}

impl<'a> Req<'a> {
    pub(super) fn new(
        method: Method,
        template: &'static str,
        path: String,
        auth: Auth<'a>,
    ) -> Self {
        // Safe to send twice by HTTP semantics; POST and PATCH opt in with `repeatable()`.
        let repeatable = matches!(method, Method::GET | Method::PUT | Method::DELETE);
        Req {
            method,
            template,
            path,
            query: Vec::new(),
            body: None,
            auth,
            repeatable,
        }
    }

    pub(super) fn query(mut self, key: &'static str, value: impl ToString) -> Self {
        self.query.push((key, value.to_string()));
        self
    }

    pub(super) fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// For a POST/PATCH that sets an absolute state, so a repeat lands in the same place.
    pub(super) fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }
}

/// A successful answer.
pub(super) struct Reply {
    template: &'static str,
    pub(super) headers: HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    /// Chatwoot's answer decoded, with any NUL in its text made storable first.
    pub(super) fn json<T: DeserializeOwned>(&self) -> Result<T, ChatwootError> {
        let decoded = match std::str::from_utf8(&self.body) {
            Ok(text) => serde_json::from_str(&text::json_without_nul(text)),
            Err(_) => serde_json::from_slice(&self.body),
        };
        decoded.map_err(|e| ChatwootError::decode(self.template, &e))
    }
}

impl ChatwootClient {
    pub(super) async fn send(&self, req: Req<'_>) -> Result<Reply, ChatwootError> {
        let url = self.url_for(&req)?;
        let headers = auth_headers(&req.auth)?;
        let policy = self.inner.retry;
        let attempts = if req.repeatable {
            policy.max_attempts.max(1)
        } else {
            1
        };
        let method = req.method.as_str();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut builder = self
                .inner
                .http
                .request(req.method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = &req.body {
                builder = builder.json(body);
            }
            let started = Instant::now();
            let response = match builder.send().await {
                Ok(response) => response,
                Err(err) => {
                    tracing::debug!(method, path = req.template, attempt, error = %kind(&err), "chatwoot call failed");
                    if (err.is_connect() || err.is_timeout()) && attempt < attempts {
                        tokio::time::sleep(policy.backoff(attempt)).await;
                        continue;
                    }
                    return Err(network_error(&err));
                }
            };
            let status = response.status();
            tracing::debug!(
                method,
                path = req.template,
                status = status.as_u16(),
                attempt,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "chatwoot call"
            );
            if status.is_success() {
                let headers = response.headers().clone();
                let body = response.bytes().await.map_err(|e| network_error(&e))?;
                return Ok(Reply {
                    template: req.template,
                    headers,
                    body: body.to_vec(),
                });
            }
            if retryable_status(status) && attempt < attempts {
                tokio::time::sleep(policy.delay_after(attempt, response.headers())).await;
                continue;
            }
            // An earlier attempt may have deleted it before its answer was lost.
            if status == StatusCode::NOT_FOUND && req.method == Method::DELETE && attempt > 1 {
                return Ok(Reply {
                    template: req.template,
                    headers: HeaderMap::new(),
                    body: Vec::new(),
                });
            }
            if status.is_redirection() {
                return Err(ChatwootError::Unexpected(format!(
                    "{}: redirect to another origin not followed",
                    req.template
                )));
            }
            let body = response.bytes().await.unwrap_or_default();
            return Err(ChatwootError::from_status(status, &body));
        }
    }

    fn url_for(&self, req: &Req<'_>) -> Result<Url, ChatwootError> {
        let mut url = Url::parse(&format!("{}{}", self.inner.base, req.path))
            .map_err(|_| ChatwootError::Validation(format!("{}: bad path", req.template)))?;
        if !req.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in &req.query {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }
}

fn auth_headers(auth: &Auth<'_>) -> Result<HeaderMap, ChatwootError> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let mut put = |name: &'static str, value: &str| -> Result<(), ChatwootError> {
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            ChatwootError::Validation(format!("{name} has characters a header cannot carry"))
        })?;
        // Keeps the value out of any Debug output of the request.
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static(name), value);
        Ok(())
    };
    match auth {
        Auth::User(Credential::ApiToken(token)) => put("api_access_token", token.expose_secret())?,
        Auth::Platform(token) => put("api_access_token", token.expose_secret())?,
        Auth::User(Credential::Session {
            access_token,
            client,
            uid,
        }) => {
            put("access-token", access_token.expose_secret())?;
            put("client", client.expose_secret())?;
            put("uid", uid)?;
            put("token-type", "Bearer")?;
        }
        Auth::Anonymous => {}
    }
    Ok(headers)
}

fn kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else if err.is_redirect() {
        "redirect"
    } else {
        "request"
    }
}

/// A transport failure, described by its cause chain without the URL.
fn network_error(err: &reqwest::Error) -> ChatwootError {
    if err.is_redirect() {
        return ChatwootError::Unexpected("too many redirects".into());
    }
    let mut text = kind(err).to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    ChatwootError::Unavailable(text)
}
