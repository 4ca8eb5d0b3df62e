//! Asaas's API (`/v3`), as billing uses it: customers, subscriptions and their payments,
//! PIX codes. One client per hub, holding the operator's key.
//!
//! Every call sends `access_token` and a `User-Agent` (Asaas refuses keys of accounts made
//! since 2024-06-13 without one). A 429 is waited out (its `RateLimit-Reset`, a few seconds
//! at most) and sent again, on any method: Asaas did not process it. Reads are retried once
//! on a connection failure or a 502/503/504; writes are not (a subscription created twice
//! is two charges): the subscribe flow finds what a lost answer created by its
//! `externalReference` instead.

pub mod wire;

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, de::DeserializeOwned};

use crate::{app::config::AsaasEnv, platform::error::AppError};
use wire::{
    Customer, ErrorBody, List, NewCustomer, NewSubscription, Payment, PixQrCode, Subscription,
};

const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a 429 is waited out before the call gives up.
const MOST_RATE_LIMIT_WAIT: Duration = Duration::from_secs(5);
const PAGE: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum AsaasError {
    #[error("Asaas could not be reached: {0}")]
    Unreachable(String),
    #[error("Asaas refused the API key")]
    Unauthorized,
    #[error("Asaas rejected the request: {0}")]
    Rejected(String),
    #[error("Asaas answered {0}")]
    Unexpected(u16),
}

impl From<AsaasError> for AppError {
    fn from(err: AsaasError) -> AppError {
        match err {
            AsaasError::Rejected(message) => AppError::Unprocessable {
                code: "asaas_rejected",
                message,
            },
            AsaasError::Unauthorized => {
                tracing::error!("Asaas refused ASAAS_API_KEY");
                AppError::Upstream {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "billing_unavailable",
                    message: "Billing is misconfigured on this hub; the operator has been told."
                        .into(),
                }
            }
            other => {
                tracing::warn!(error = %other, "an Asaas call failed");
                AppError::Upstream {
                    status: StatusCode::BAD_GATEWAY,
                    code: "asaas_unreachable",
                    message: "Asaas, the payment gateway, did not answer; nothing was charged. Try again in a moment.".into(),
                }
            }
        }
    }
}

type AsaasResult<T> = Result<T, AsaasError>;

pub struct Asaas {
    http: reqwest::Client,
    base: String,
    key: SecretString,
}

impl Asaas {
    pub fn new(env: &AsaasEnv) -> anyhow::Result<Asaas> {
        crate::platform::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // The key travels in a header a redirect would carry elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("whatpro-hub/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Asaas {
            http,
            base: env.url.clone(),
            key: env.api_key.clone(),
        })
    }

    /// The account's customer, when an earlier attempt made one.
    pub async fn find_customer(&self, external_reference: &str) -> AsaasResult<Option<Customer>> {
        let list: List<Customer> = self
            .get(&format!(
                "/customers?externalReference={external_reference}"
            ))
            .await?
            .ok_or(AsaasError::Unexpected(404))?;
        // Only the one named so, should a filter ever be ignored.
        Ok(list
            .data
            .into_iter()
            .find(|c| !c.deleted && c.external_reference.as_deref() == Some(external_reference)))
    }

    pub async fn create_customer(&self, new: &NewCustomer<'_>) -> AsaasResult<Customer> {
        self.call(Method::POST, "/customers", Some(new), false)
            .await?
            .ok_or(AsaasError::Unexpected(404))
    }

    /// The subscription an earlier attempt made for our subscription `external_reference`.
    pub async fn find_subscription(
        &self,
        external_reference: &str,
    ) -> AsaasResult<Option<Subscription>> {
        let list: List<Subscription> = self
            .get(&format!(
                "/subscriptions?externalReference={external_reference}"
            ))
            .await?
            .ok_or(AsaasError::Unexpected(404))?;
        Ok(list
            .data
            .into_iter()
            .find(|s| !s.deleted && s.external_reference.as_deref() == Some(external_reference)))
    }

    pub async fn create_subscription(
        &self,
        new: &NewSubscription<'_>,
    ) -> AsaasResult<Subscription> {
        self.call(Method::POST, "/subscriptions", Some(new), false)
            .await?
            .ok_or(AsaasError::Unexpected(404))
    }

    /// Sets the subscription's value: of its charges not yet paid too with `pending`, or
    /// only from its next charge on.
    pub async fn set_value(&self, id: &str, value: f64, pending: bool) -> AsaasResult<()> {
        let body = serde_json::json!({"value": value, "updatePendingPayments": pending});
        let path = format!("/subscriptions/{id}");
        self.call::<serde_json::Value>(Method::PUT, &path, Some(&body), true)
            .await?
            .ok_or(AsaasError::Unexpected(404))?;
        Ok(())
    }

    /// Ends the subscription (and its unpaid charges); one already gone is fine.
    pub async fn delete_subscription(&self, id: &str) -> AsaasResult<()> {
        let path = format!("/subscriptions/{id}");
        self.call::<serde_json::Value>(Method::DELETE, &path, None::<&()>, true)
            .await?;
        Ok(())
    }

    pub async fn subscription(&self, id: &str) -> AsaasResult<Option<Subscription>> {
        self.get(&format!("/subscriptions/{id}")).await
    }

    /// Every payment of the subscription Asaas still has.
    pub async fn subscription_payments(&self, id: &str) -> AsaasResult<Vec<Payment>> {
        let mut payments = Vec::new();
        loop {
            let path = format!(
                "/subscriptions/{id}/payments?limit={PAGE}&offset={}",
                payments.len()
            );
            let page: List<Payment> = self.get(&path).await?.ok_or(AsaasError::Unexpected(404))?;
            let more = page.has_more && !page.data.is_empty();
            payments.extend(page.data);
            if !more {
                return Ok(payments);
            }
        }
    }

    /// A payment; `None` once it is deleted.
    pub async fn payment(&self, id: &str) -> AsaasResult<Option<Payment>> {
        self.get(&format!("/payments/{id}")).await
    }

    pub async fn pix_qr_code(&self, payment_id: &str) -> AsaasResult<PixQrCode> {
        self.get(&format!("/payments/{payment_id}/pixQrCode"))
            .await?
            .ok_or(AsaasError::Unexpected(404))
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> AsaasResult<Option<T>> {
        self.call(Method::GET, path, None::<&()>, true).await
    }

    /// Sends one call; `None` for a 404. `repeatable` calls are sent again once when the
    /// connection or a gateway failed.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
        repeatable: bool,
    ) -> AsaasResult<Option<T>> {
        let mut tries = 0;
        let mut waited = Duration::ZERO;
        loop {
            tries += 1;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .header("access_token", self.key.expose_secret())
                .header(header::ACCEPT, "application/json");
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(err) if repeatable && tries == 1 && !err.is_timeout() => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    continue;
                }
                // The URL holds no secret, but keep errors to their kind.
                Err(err) => return Err(AsaasError::Unreachable(kind_of(&err))),
            };
            let status = response.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = rate_limit_wait(response.headers());
                if waited + wait > MOST_RATE_LIMIT_WAIT {
                    return Err(AsaasError::Unreachable("rate limited".into()));
                }
                waited += wait;
                tokio::time::sleep(wait).await;
                continue;
            }
            if repeatable && tries == 1 && matches!(status.as_u16(), 502..=504) {
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
            return match status {
                s if s.is_success() => response
                    .json::<T>()
                    .await
                    .map(Some)
                    .map_err(|e| AsaasError::Unreachable(format!("unreadable answer: {e}"))),
                StatusCode::NOT_FOUND => Ok(None),
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(AsaasError::Unauthorized),
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => {
                    let body: ErrorBody = response.json().await.unwrap_or_default();
                    let described: Vec<String> =
                        body.errors.into_iter().map(|e| e.description).collect();
                    Err(AsaasError::Rejected(if described.is_empty() {
                        "Asaas rejected the request.".into()
                    } else {
                        described.join(" ")
                    }))
                }
                other => Err(AsaasError::Unexpected(other.as_u16())),
            };
        }
    }
}

/// How long a 429 asks to wait: `RateLimit-Reset` or `Retry-After` seconds (1 without).
fn rate_limit_wait(headers: &header::HeaderMap) -> Duration {
    let seconds = ["ratelimit-reset", "retry-after"]
        .iter()
        .find_map(|name| {
            headers
                .get(*name)?
                .to_str()
                .ok()?
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(1);
    Duration::from_secs(seconds.max(1))
}

fn kind_of(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        "timed out".into()
    } else if err.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}
