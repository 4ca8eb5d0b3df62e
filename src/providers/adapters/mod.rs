//! One adapter per provider type, behind one trait: what the hub asks of a provider
//! server, each in its own wire format and with its own traps (FACTS.md).

mod evolution;

use futures_util::future::BoxFuture;
use serde::Serialize;
use utoipa::ToSchema;

use crate::platform::error::{AppError, AppResult};

use super::{
    ProviderKind,
    credentials::Credentials,
    http::{ProviderClient, ProviderError},
};

/// A provider server as an adapter calls it.
pub struct Server<'a> {
    pub base_url: &'a str,
    pub credentials: &'a Credentials,
}

/// An instance as an adapter calls it: its name on the server and its own credential.
pub struct Session<'a> {
    pub name: &'a str,
    pub token: &'a str,
}

/// Where the provider posts an instance's events, and the secret it sends back with each.
pub struct Webhook<'a> {
    pub url: &'a str,
    pub secret: &'a str,
}

/// The header the hub asks providers that let it set one to send its secret in.
pub const SECRET_HEADER: &str = "x-whatpro-webhook-token";

/// The hub's instance status; the provider's own value is kept beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Disconnected,
    Connecting,
    QrPending,
    Connected,
    /// Said connected, but silent for too long: not believed.
    Stale,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Disconnected => "disconnected",
            Status::Connecting => "connecting",
            Status::QrPending => "qr_pending",
            Status::Connected => "connected",
            Status::Stale => "stale",
            Status::Failed => "failed",
        }
    }
}

/// A QR to scan: the raw code and an image (a `data:` URL).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Qr {
    pub code: String,
    pub image: String,
}

/// Where a session stands, as the provider says.
#[derive(Debug, Clone)]
pub struct Connection {
    pub status: Status,
    /// The provider's own value (Evolution's `state`).
    pub raw: String,
    pub qr: Option<Qr>,
    pub pairing_code: Option<String>,
}

pub trait Adapter: Send + Sync {
    /// Reaches the server and checks that it takes the credentials.
    fn verify<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;

    /// Makes instance `name` on the server, posting its events to `webhook`; answers its
    /// own credential.
    fn create<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        name: &'a str,
        webhook: &'a Webhook<'a>,
    ) -> BoxFuture<'a, Result<String, ProviderError>>;

    /// Starts a session: a QR to scan, or with `phone` a pairing code to type.
    fn connect<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        phone: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Connection, ProviderError>>;

    fn status<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> BoxFuture<'a, Result<Connection, ProviderError>>;

    /// Ends the session (the instance stays); one already ended is fine.
    fn logout<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;

    /// Removes the instance from the server; one already gone is fine.
    fn delete<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
}

/// The adapter of `kind`; 422 `provider_type_unsupported` for a type the hub cannot
/// drive yet.
pub fn of(kind: ProviderKind) -> AppResult<&'static dyn Adapter> {
    match kind {
        ProviderKind::Evolution => Ok(&evolution::Evolution),
        ProviderKind::Waha | ProviderKind::Uazapi | ProviderKind::Zapi | ProviderKind::CloudApi => {
            Err(AppError::Unprocessable {
                code: "provider_type_unsupported",
                message: format!("The hub cannot drive {} servers yet.", kind.as_str()),
            })
        }
    }
}
