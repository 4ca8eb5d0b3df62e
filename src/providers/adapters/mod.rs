//! One adapter per provider type, behind one trait: what the hub asks of a provider
//! server, each in its own wire format and with its own traps (FACTS.md). What a type
//! cannot do is said by its [`Capabilities`]: the API answers 409
//! `not_supported_by_provider` for it and the UI hides it.

mod cloud_api;
mod evolution;
mod uazapi;
mod waha;
mod zapi;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::platform::clock;

use super::{
    ProviderKind,
    credentials::Credentials,
    http::{ProviderClient, ProviderError},
    instances::Behaviour,
};

/// A provider server as an adapter calls it, through the hub's client.
pub struct Server<'a> {
    pub http: &'a ProviderClient,
    pub base_url: &'a str,
    pub credentials: &'a Credentials,
}

/// An instance as an adapter calls it: its name on the server and its own credential
/// (whatever the adapter made of it on create: a token, or what a registration was given).
pub struct Session<'a> {
    pub name: &'a str,
    pub token: &'a str,
}

/// Where the provider posts an instance's events, and the secret that proves a post is
/// the provider's: sent back in [`SECRET_HEADER`] by providers that let the hub set a
/// header, else carried in the URL itself ([`Webhook::url_with_secret`]).
pub struct Webhook<'a> {
    pub url: &'a str,
    pub secret: &'a str,
}

impl Webhook<'_> {
    pub fn url_with_secret(&self) -> String {
        format!("{}/{}", self.url, self.secret)
    }
}

/// The header the hub asks providers that let it set one to send its secret in.
pub const SECRET_HEADER: &str = "x-whatpro-webhook-token";

/// What a new instance is made (or registered) with.
pub struct NewSession<'a> {
    pub name: &'a str,
    /// The instance credentials the admin gave, for types whose instances are made in the
    /// provider's own panel (Z-API) or console (Cloud API); empty otherwise.
    pub given: &'a Credentials,
    pub webhook: &'a Webhook<'a>,
}

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
    /// The provider's own value (Evolution's `state`, WAHA's `status`…).
    pub raw: String,
    /// The number the session belongs to, when the provider tells it.
    pub phone: Option<String>,
    pub qr: Option<Qr>,
    pub pairing_code: Option<String>,
    /// When the provider said it (microseconds, [`clock::now_micros`]): an older look is
    /// never recorded over a newer one.
    pub seen_at: i64,
}

impl Connection {
    /// Only a status, as after a logout, seen now.
    pub fn bare(status: Status, raw: &str) -> Connection {
        Connection {
            status,
            raw: raw.into(),
            phone: None,
            qr: None,
            pairing_code: None,
            seen_at: clock::now_micros(),
        }
    }
}

/// What one of the provider's webhook posts says, read without trusting it: whether it
/// may have moved the session (then the session is read back), and the id of the message
/// it carries (a redelivery of the same message is stored once).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Heard {
    pub event: String,
    pub moves_session: bool,
    /// A new QR was shown: the session waits for a scan (if it still connects).
    pub shows_qr: bool,
    pub message_id: Option<String>,
}

/// The Chatwoot inbox a provider's bridge posts a number's messages into.
pub struct ChatwootInbox<'a> {
    /// Chatwoot's base URL, as the provider server reaches it.
    pub url: &'a str,
    pub account_id: i64,
    /// An administrator's access token of that Chatwoot account.
    pub token: &'a str,
    pub name: &'a str,
}

/// What a provider type can do.
#[derive(Debug, Serialize, ToSchema)]
pub struct Capabilities {
    /// The hub makes its instances on the server; otherwise they are made in the
    /// provider's own panel and registered here with their credentials.
    pub creates_instances: bool,
    /// The instance credentials a registration takes.
    #[schema(value_type = Vec<String>)]
    pub instance_credentials: &'static [&'static str],
    pub qr: bool,
    /// How long one QR lives before the provider shows another.
    pub qr_seconds: u32,
    pub pairing_code: bool,
    /// How long a pairing code may be typed.
    pub pairing_seconds: u32,
    pub restart: bool,
    pub logout: bool,
    /// The behaviour settings the provider applies (`reject_calls`, `ignore_groups`…).
    #[schema(value_type = Vec<String>)]
    pub settings: &'static [&'static str],
    pub send_text: bool,
    /// The number can be linked to a Chatwoot inbox (through the provider's own bridge,
    /// or, for Cloud API, Chatwoot's own WhatsApp Cloud inbox).
    pub chatwoot_inbox: bool,
}

/// The key a provider signs its webhook posts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    None,
    /// The hub's secret of the instance (WAHA's HMAC).
    InstanceSecret,
    /// One of the server's credentials (Cloud API's app secret).
    ServerCredential(&'static str),
}

/// Whether `header` is the lower-case or upper-case hex of the MAC of `body` (constant
/// time).
pub fn hex_mac_matches<M: hmac::Mac + hmac::KeyInit>(
    key: &str,
    header: Option<&str>,
    body: &[u8],
) -> bool {
    let Some(Ok(tag)) = header.map(hex::decode) else {
        return false;
    };
    let Ok(mut mac) = <M as hmac::KeyInit>::new_from_slice(key.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// A call to a provider server.
pub type Call<'a, T> = BoxFuture<'a, Result<T, ProviderError>>;

fn unsupported<'a, T: 'a>(what: &'static str) -> Call<'a, T> {
    Box::pin(async move { Err(ProviderError::NotSupported(what)) })
}

pub trait Adapter: Send + Sync {
    fn capabilities(&self) -> &'static Capabilities;

    /// Reaches the server and checks that it takes the credentials.
    fn verify<'a>(&'a self, server: &'a Server<'a>) -> Call<'a, ()>;

    /// Makes the instance on the server (or checks the one registered), its events posted
    /// to the webhook; answers the instance's own credential, sealed by the hub.
    fn create<'a>(&'a self, server: &'a Server<'a>, new: &'a NewSession<'a>) -> Call<'a, String>;

    /// Points the provider at the hub's webhook once the instance is stored, for types
    /// whose provider checks the URL at once (Meta calls it back with a challenge); the
    /// others set it on create.
    fn confirm_webhook<'a>(
        &'a self,
        _: &'a Server<'a>,
        _: &'a Session<'a>,
        _: &'a Webhook<'a>,
    ) -> Call<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    /// Starts a session: a QR to scan, or with `phone` a pairing code to type.
    fn connect<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        phone: Option<&'a str>,
    ) -> Call<'a, Connection>;

    fn status<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> Call<'a, Connection>;

    /// Restarts the session without a new scan.
    fn restart<'a>(&'a self, _: &'a Server<'a>, _: &'a Session<'a>) -> Call<'a, ()> {
        unsupported("restart")
    }

    /// Ends the session (the instance stays); one already ended is fine.
    fn logout<'a>(&'a self, _: &'a Server<'a>, _: &'a Session<'a>) -> Call<'a, ()> {
        unsupported("logout")
    }

    /// Removes the instance from the server; one already gone is fine.
    fn delete<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()>;

    fn apply_settings<'a>(
        &'a self,
        _: &'a Server<'a>,
        _: &'a Session<'a>,
        _: &'a Behaviour,
    ) -> Call<'a, ()> {
        unsupported("settings")
    }

    /// Sends `text` to the number `to` (digits with country code); answers the provider's
    /// message id, which means accepted, not delivered.
    fn send_text<'a>(
        &'a self,
        _: &'a Server<'a>,
        _: &'a Session<'a>,
        _to: &'a str,
        _text: &'a str,
    ) -> Call<'a, String> {
        unsupported("send_text")
    }

    /// Turns on the provider's own bridge to Chatwoot for the number (Evolution's
    /// `/chatwoot/set`), which makes (or finds, by name) the inbox itself.
    fn bridge_to_chatwoot<'a>(
        &'a self,
        _: &'a Server<'a>,
        _: &'a Session<'a>,
        _: &'a ChatwootInbox<'a>,
    ) -> Call<'a, ()> {
        unsupported("Chatwoot inboxes")
    }

    /// Reads one webhook post of the provider.
    fn hear(&self, body: &Value) -> Heard;

    /// What the type signs its webhook posts with, checked besides the hub's secret.
    fn webhook_signing(&self) -> Signing {
        Signing::None
    }

    /// Whether a webhook post carries the provider's signature made with `key`.
    fn signed(&self, _key: &str, _headers: &axum::http::HeaderMap, _body: &[u8]) -> bool {
        true
    }
}

/// The adapter of `kind`.
pub fn of(kind: ProviderKind) -> &'static dyn Adapter {
    match kind {
        ProviderKind::Evolution => &evolution::Evolution,
        ProviderKind::Waha => &waha::Waha,
        ProviderKind::Uazapi => &uazapi::Uazapi,
        ProviderKind::Zapi => &zapi::Zapi,
        ProviderKind::CloudApi => &cloud_api::CloudApi,
    }
}
