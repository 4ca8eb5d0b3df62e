//! A WAHA session as the server holds it: its status and last status changes, its config,
//! the account once a phone scanned, the QR on show; and the JSON views WAHA answers with.

use serde_json::{Map, Value, json};

/// The statuses the simulator reaches. WAHA also has `PASSKEY_REQUIRED` and
/// `PASSKEY_CONFIRMATION_REQUIRED` (GOWS engine only); this NOWEB server never shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Stopped,
    Starting,
    ScanQrCode,
    Working,
    Failed,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Stopped => "STOPPED",
            SessionStatus::Starting => "STARTING",
            SessionStatus::ScanQrCode => "SCAN_QR_CODE",
            SessionStatus::Working => "WORKING",
            SessionStatus::Failed => "FAILED",
        }
    }

    /// Started and not failed: a start is then a no-op, a config change restarts it.
    pub(super) fn is_running(self) -> bool {
        matches!(
            self,
            SessionStatus::Starting | SessionStatus::ScanQrCode | SessionStatus::Working
        )
    }
}

/// The WhatsApp account a session is logged in as (`me`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    /// `<phone>@c.us`.
    pub id: String,
    pub push_name: String,
}

impl Me {
    pub(super) fn json(&self) -> Value {
        json!({"id": self.id, "pushName": self.push_name})
    }
}

#[derive(Debug, Clone)]
pub struct WahaSession {
    pub name: String,
    pub status: SessionStatus,
    /// `config` as last given (create or PUT), with the defaults WAHA fills in.
    pub config: Value,
    /// The account, once a phone scanned. A phone that logs the session out leaves it in
    /// place (the FAILED event still names it) until a logout or the next start.
    pub me: Option<Me>,
    /// QRs shown since the session last reached SCAN_QR_CODE (WAHA fails it after 6).
    pub qr_count: u32,
    /// The text of the QR on show, while the session waits for a scan.
    pub qr: Option<String>,
    /// The last code handed out by `auth/request-code`.
    pub pairing_code: Option<String>,
    /// Whether the login on file still works: a start then goes straight to WORKING.
    pub(super) logged_in: bool,
    /// The last three status changes (status, ms), oldest first: `statuses` in events.
    pub(super) statuses: Vec<(SessionStatus, i64)>,
}

impl WahaSession {
    /// A new, stopped session.
    pub(super) fn new(name: String, config: Option<Value>) -> Self {
        WahaSession {
            name,
            status: SessionStatus::Stopped,
            config: with_defaults(config),
            me: None,
            qr_count: 0,
            qr: None,
            pairing_code: None,
            logged_in: false,
            statuses: Vec::new(),
        }
    }

    pub(super) fn set_config(&mut self, config: Option<Value>) {
        self.config = with_defaults(config);
    }

    /// Moves to `status` at `at` (ms), keeping the last three changes.
    pub(super) fn record(&mut self, status: SessionStatus, at: i64) {
        self.status = status;
        self.statuses.push((status, at));
        let excess = self.statuses.len().saturating_sub(3);
        self.statuses.drain(..excess);
    }

    /// Shows a new QR (a fresh one each time, as WhatsApp rotates them).
    pub(super) fn show_qr(&mut self) {
        self.qr_count += 1;
        self.qr = Some(crate::simulators::whatsapp_qr());
    }

    /// The SessionDTO that create, update, start, stop, restart and logout answer.
    pub(super) fn dto(&self) -> Value {
        json!({
            "name": self.name,
            "status": self.status.as_str(),
            "config": self.config,
            "engine": {"engine": "NOWEB"},
            "me": self.me.as_ref().map(Me::json),
        })
    }

    /// The SessionInfo of `GET /api/sessions[/{s}]`: the DTO with presence and activity.
    pub(super) fn info(&self) -> Value {
        let mut info = self.dto();
        info["presence"] = Value::Null;
        info["timestamps"] = json!({"activity": self.statuses.last().map(|(_, at)| at)});
        info
    }
}

/// The config WAHA echoes: `proxy` and `debug` filled in, and each webhook with its
/// optional `hmac`, `retries` and `customHeaders` present (null when not given).
fn with_defaults(config: Option<Value>) -> Value {
    let mut config = match config {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    };
    config.entry("proxy").or_insert(Value::Null);
    config.entry("debug").or_insert(Value::Bool(false));
    if let Some(hooks) = config.get_mut("webhooks").and_then(Value::as_array_mut) {
        for hook in hooks.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["hmac", "retries", "customHeaders"] {
                hook.entry(key).or_insert(Value::Null);
            }
        }
    }
    Value::Object(config)
}
