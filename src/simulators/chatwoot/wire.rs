//! Chatwoot's values as its wire format spells them (shared/chatwoot/FACTS.md), written here
//! apart from the hub's client: a misspelt status or event, or a wrong signature, in the
//! client must fail against the simulator, not be mirrored by it.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Administrator,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Agent => "agent",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationStatus {
    Open,
    Resolved,
    Pending,
    Snoozed,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Resolved => "resolved",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Snoozed => "snoozed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Incoming,
    Outgoing,
    Activity,
    Template,
}

/// The events an account webhook may subscribe to, as Chatwoot names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    ConversationCreated,
    ConversationStatusChanged,
    ConversationUpdated,
    ContactCreated,
    ContactUpdated,
    MessageCreated,
    MessageUpdated,
    WebwidgetTriggered,
    InboxCreated,
    InboxUpdated,
    ConversationTypingOn,
    ConversationTypingOff,
}

impl WebhookEvent {
    const ALL: [WebhookEvent; 12] = [
        WebhookEvent::ConversationCreated,
        WebhookEvent::ConversationStatusChanged,
        WebhookEvent::ConversationUpdated,
        WebhookEvent::ContactCreated,
        WebhookEvent::ContactUpdated,
        WebhookEvent::MessageCreated,
        WebhookEvent::MessageUpdated,
        WebhookEvent::WebwidgetTriggered,
        WebhookEvent::InboxCreated,
        WebhookEvent::InboxUpdated,
        WebhookEvent::ConversationTypingOn,
        WebhookEvent::ConversationTypingOff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::ConversationCreated => "conversation_created",
            WebhookEvent::ConversationStatusChanged => "conversation_status_changed",
            WebhookEvent::ConversationUpdated => "conversation_updated",
            WebhookEvent::ContactCreated => "contact_created",
            WebhookEvent::ContactUpdated => "contact_updated",
            WebhookEvent::MessageCreated => "message_created",
            WebhookEvent::MessageUpdated => "message_updated",
            WebhookEvent::WebwidgetTriggered => "webwidget_triggered",
            WebhookEvent::InboxCreated => "inbox_created",
            WebhookEvent::InboxUpdated => "inbox_updated",
            WebhookEvent::ConversationTypingOn => "conversation_typing_on",
            WebhookEvent::ConversationTypingOff => "conversation_typing_off",
        }
    }

    pub fn parse(name: &str) -> Option<WebhookEvent> {
        Self::ALL.into_iter().find(|event| event.as_str() == name)
    }
}

/// `X-Chatwoot-Signature` for `body` sent at `timestamp`: `sha256=` and the lower-case hex
/// of HMAC-SHA256, keyed by the webhook's secret, over `"<timestamp>.<body>"`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256={hex}")
}
