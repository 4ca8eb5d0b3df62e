//! One Z-API instance as the simulator holds it: its session (connected or showing a QR),
//! its webhook URLs and the texts sent through it.

use time::OffsetDateTime;

use crate::simulators::random_text;

/// An instance made in the Z-API panel, for tests to inspect.
#[derive(Debug, Clone)]
pub struct ZapiInstance {
    pub id: String,
    /// The instance's own token (the second credential in every path).
    pub token: String,
    /// Whether a phone is attached (`connected` in `GET status`).
    pub connected: bool,
    /// The phone attached, once "scanned".
    pub phone: Option<String>,
    /// QR values issued so far; the one on show is number `qr_count`.
    pub qr_count: u32,
    pub webhooks: Webhooks,
    pub sent_texts: Vec<SentText>,
    pub created_at: OffsetDateTime,
}

/// Where each callback type goes, as set with `PUT update-webhook-*`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Webhooks {
    /// `ReceivedCallback`s.
    pub received: Option<String>,
    /// Set by `update-webhook-received-delivery`: the texts the instance sends also come
    /// back to `received`, with `fromMe: true`.
    pub received_sent_by_me: bool,
    /// `DeliveryCallback`s (a text went out).
    pub delivery: Option<String>,
    pub connected: Option<String>,
    pub disconnected: Option<String>,
    /// Stored and shown by `GET me`; the simulator sends no status or presence callbacks.
    pub message_status: Option<String>,
    pub chat_presence: Option<String>,
}

/// A text accepted by `POST send-text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentText {
    pub phone: String,
    pub message: String,
    pub zaap_id: String,
    pub message_id: String,
}

impl ZapiInstance {
    pub(super) fn new(id: &str, token: &str) -> ZapiInstance {
        ZapiInstance {
            id: id.to_string(),
            token: token.to_string(),
            connected: false,
            phone: None,
            qr_count: 1,
            webhooks: Webhooks::default(),
            sent_texts: Vec::new(),
            created_at: crate::platform::clock::now(),
        }
    }

    /// The text the QR on show encodes (WhatsApp's `ref,publicKey,…` look).
    pub(super) fn qr_code(&self) -> String {
        format!("2@zapi-simulated-{}-{},ref", self.id, self.qr_count)
    }

    /// The phone is gone: not connected, and the next scan needs a fresh QR.
    pub(super) fn sign_out(&mut self) {
        self.connected = false;
        self.phone = None;
        self.qr_count += 1;
    }
}

/// Upper-case hex of `len` digits, the look of Z-API's `messageId` and `zaapId`.
pub(super) fn message_id(len: usize) -> String {
    random_text(b"0123456789ABCDEF", len)
}
