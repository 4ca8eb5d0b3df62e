//! A uazapiGO instance as the server holds it (credential, status, the phone once scanned,
//! the QR or pair code on show, its webhook) and the JSON views uazapiGO answers with.

use serde_json::{Map, Value, json};

use crate::simulators::{qr_image::qr_png, random_text};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceStatus {
    Disconnected,
    Connecting,
    Connected,
}

impl InstanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Disconnected => "disconnected",
            InstanceStatus::Connecting => "connecting",
            InstanceStatus::Connected => "connected",
        }
    }
}

/// The instance's webhook, as set through `POST /webhook` in its simple mode.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub id: String,
    pub url: String,
    pub enabled: bool,
    /// `connection`, `messages`, …: only these are posted.
    pub events: Vec<String>,
    pub exclude_messages: Vec<String>,
    /// Post to `<url>/<event>` instead of `<url>`.
    pub add_url_events: bool,
    pub add_url_types_messages: bool,
}

impl WebhookConfig {
    /// The webhook as `GET /webhook` lists it (the schema's casing, `AddUrlTypesMessages`).
    pub(super) fn json(&self, instance_id: &str) -> Value {
        json!({
            "id": self.id,
            "instance_id": instance_id,
            "enabled": self.enabled,
            "url": self.url,
            "events": self.events,
            "excludeMessages": self.exclude_messages,
            "addUrlEvents": self.add_url_events,
            "AddUrlTypesMessages": self.add_url_types_messages,
        })
    }
}

#[derive(Debug, Clone)]
pub struct UazapiInstance {
    /// `r` and 14 hex digits, as uazapiGO makes them.
    pub id: String,
    pub name: String,
    /// The instance's credential: the `token` header of every call on it.
    pub token: String,
    pub status: InstanceStatus,
    /// The phone number once one scanned (`""` before); kept after a disconnect.
    pub owner: String,
    pub profile_name: String,
    pub system_name: String,
    pub admin_field01: String,
    pub admin_field02: String,
    pub webhook: Option<WebhookConfig>,
    /// The text of the QR on show, while connecting.
    pub qr: Option<String>,
    /// QRs shown since the last connect.
    pub qr_count: u32,
    /// The pair code on show, when the connect gave a phone.
    pub paircode: Option<String>,
    pub last_disconnect: Option<String>,
    pub last_disconnect_reason: Option<String>,
}

impl UazapiInstance {
    pub(super) fn new(name: String, system_name: String, fields: [String; 2]) -> Self {
        let [admin_field01, admin_field02] = fields;
        UazapiInstance {
            id: format!("r{}", random_text(b"0123456789abcdef", 14)),
            name,
            token: uuid::Uuid::new_v4().to_string(),
            status: InstanceStatus::Disconnected,
            owner: String::new(),
            profile_name: String::new(),
            system_name,
            admin_field01,
            admin_field02,
            webhook: None,
            qr: None,
            qr_count: 0,
            paircode: None,
            last_disconnect: None,
            last_disconnect_reason: None,
        }
    }

    /// Shows a new QR (a fresh one each time, as WhatsApp rotates them).
    pub(super) fn show_qr(&mut self) {
        self.qr_count += 1;
        self.qr = Some(crate::simulators::whatsapp_qr());
    }

    /// The QR as uazapiGO hands it out: a PNG data URL.
    fn qrcode(&self) -> Option<String> {
        use base64::{Engine, engine::general_purpose::STANDARD};
        let png = qr_png(self.qr.as_deref()?);
        Some(format!("data:image/png;base64,{}", STANDARD.encode(png)))
    }

    /// The `Instance` object of API answers; the optional fields only when they have a value.
    pub(super) fn json(&self) -> Value {
        let mut instance = json!({
            "id": self.id,
            "token": self.token,
            "status": self.status.as_str(),
            "name": self.name,
            "profileName": self.profile_name,
            "owner": self.owner,
            "systemName": self.system_name,
            "adminField01": self.admin_field01,
            "adminField02": self.admin_field02,
            "isBusiness": false,
            "plataform": "",
        });
        self.add_optional(&mut instance);
        instance
    }

    /// `instance` in `connection` webhooks: name, status and the optional fields.
    pub(super) fn event_json(&self) -> Value {
        let mut instance = json!({"name": self.name, "status": self.status.as_str()});
        self.add_optional(&mut instance);
        instance
    }

    fn add_optional(&self, instance: &mut Value) {
        let optional = [
            ("qrcode", self.qrcode()),
            ("paircode", self.paircode.clone()),
            ("lastDisconnect", self.last_disconnect.clone()),
            ("lastDisconnectReason", self.last_disconnect_reason.clone()),
        ];
        let map: &mut Map<String, Value> = instance.as_object_mut().expect("an object");
        for (key, value) in optional {
            if let Some(value) = value {
                map.insert(key.to_string(), Value::String(value));
            }
        }
    }

    /// `status` of `GET /instance/status` (and the top of a connect's answer).
    pub(super) fn connection(&self) -> Value {
        let connected = self.status == InstanceStatus::Connected;
        let jid = connected.then(
            || json!({"user": self.owner, "agent": 0, "device": 0, "server": "s.whatsapp.net"}),
        );
        json!({"connected": connected, "loggedIn": connected, "jid": jid})
    }
}
