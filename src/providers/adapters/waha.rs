//! WAHA: one `X-Api-Key` for the whole server, sessions by name. Statuses are STOPPED,
//! STARTING, SCAN_QR_CODE, the passkey steps, WORKING and FAILED; a QR is read only in
//! SCAN_QR_CODE (else 422 with a bare object) and lives 60 s then 20 s, six at most before
//! FAILED. A session's config is replaced whole by `PUT`, so settings are read, changed and
//! written back. WAHA Core before 2026.6 allows only the `default` session: its 422 is
//! passed on as the server's own words. Its posts carry the hub's secret in a header and
//! are signed with it (HMAC-SHA512 of the raw body).

use axum::http::HeaderMap;
use hmac::Hmac;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha512;

use super::{
    Adapter, Call, Capabilities, Connection, Heard, NewSession, Qr, SECRET_HEADER, Server, Session,
    Signing, Status, hex_mac_matches,
};
use crate::providers::{
    http::{ProviderError, exchange},
    instances::Behaviour,
};

pub struct Waha;

static CAPABILITIES: Capabilities = Capabilities {
    creates_instances: true,
    instance_credentials: &[],
    qr: true,
    qr_seconds: 20,
    pairing_code: true,
    pairing_seconds: 60,
    restart: true,
    logout: true,
    settings: &["ignore_groups"],
    send_text: true,
    chatwoot_inbox: false,
};

async fn call(
    server: &Server<'_>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<(u16, Value), ProviderError> {
    let url = format!("{}/api/{path}", server.base_url.trim_end_matches('/'));
    let mut request = server
        .http
        .request(method, url)
        .header("X-Api-Key", server.credentials.get("api_key"))
        .header("Accept", "application/json");
    if let Some(body) = body {
        request = request.json(&body);
    }
    exchange(server.http, request).await
}

/// Success, or what the failure means.
fn succeeded((status, body): (u16, Value)) -> Result<Value, ProviderError> {
    match status {
        200..=299 => Ok(body),
        401 | 403 => Err(ProviderError::CredentialsRefused),
        400 | 404 | 409 | 422 => Err(ProviderError::Rejected(message_of(&body))),
        _ => Err(ProviderError::Unreachable(
            "the server answered with an error",
        )),
    }
}

/// `message` is a string, a list of strings, or absent when the body is the bare object
/// of a status mismatch (`{error, session, status, expected}`).
fn message_of(body: &Value) -> String {
    let message = match &body["message"] {
        Value::String(text) => text.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        _ => body["error"]
            .as_str()
            .unwrap_or("The WAHA server refused the request.")
            .to_string(),
    };
    crate::platform::text::one_line(&message, 500)
}

fn status_of(raw: &str) -> Status {
    match raw {
        "WORKING" => Status::Connected,
        "SCAN_QR_CODE" => Status::QrPending,
        "STARTING" | "PASSKEY_REQUIRED" | "PASSKEY_CONFIRMATION_REQUIRED" => Status::Connecting,
        "FAILED" => Status::Failed,
        _ => Status::Disconnected,
    }
}

/// A session as `GET /api/sessions/{s}` shows it.
fn connection_of(session: &Value) -> Connection {
    let raw = session["status"].as_str().unwrap_or("STOPPED");
    let mut connection = Connection::bare(status_of(raw), raw);
    if connection.status == Status::Connected {
        connection.phone = session["me"]["id"]
            .as_str()
            .and_then(|id| id.split('@').next())
            .map(String::from);
    }
    connection
}

impl Waha {
    async fn session(&self, server: &Server<'_>, name: &str) -> Result<Value, ProviderError> {
        succeeded(call(server, Method::GET, &format!("sessions/{name}"), None).await?)
    }

    /// The session's QR while it shows one: the image, then the raw code.
    async fn qr(&self, server: &Server<'_>, name: &str) -> Result<Qr, ProviderError> {
        let image = succeeded(call(server, Method::GET, &format!("{name}/auth/qr"), None).await?)?;
        let path = format!("{name}/auth/qr?format=raw");
        let code = succeeded(call(server, Method::GET, &path, None).await?)?;
        Ok(Qr {
            code: code["value"].as_str().unwrap_or_default().to_string(),
            image: format!(
                "data:{};base64,{}",
                image["mimetype"].as_str().unwrap_or("image/png"),
                image["data"].as_str().unwrap_or_default()
            ),
        })
    }
}

impl Adapter for Waha {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn verify<'a>(&'a self, server: &'a Server<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let listed = succeeded(call(server, Method::GET, "sessions?all=true", None).await?);
            match listed {
                Ok(Value::Array(_)) => Ok(()),
                Ok(_) | Err(ProviderError::Rejected(_)) => {
                    Err(ProviderError::Unreachable("not a WAHA server"))
                }
                Err(err) => Err(err),
            }
        })
    }

    /// The session is made stopped: it starts when the admin connects it.
    fn create<'a>(&'a self, server: &'a Server<'a>, new: &'a NewSession<'a>) -> Call<'a, String> {
        Box::pin(async move {
            let body = json!({"name": new.name, "start": false, "config": {
                "webhooks": [{
                    "url": new.webhook.url,
                    "events": ["session.status", "message"],
                    "customHeaders": [{"name": SECRET_HEADER, "value": new.webhook.secret}],
                    "hmac": {"key": new.webhook.secret},
                }],
            }});
            succeeded(call(server, Method::POST, "sessions", Some(body)).await?)?;
            // WAHA has no per-session credential: the server key does everything.
            Ok(String::new())
        })
    }

    fn connect<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        phone: Option<&'a str>,
    ) -> Call<'a, Connection> {
        Box::pin(async move {
            let name = session.name;
            let before = connection_of(&self.session(server, name).await?);
            let wake = match before.status {
                Status::Disconnected => Some("start"),
                Status::Failed => Some("restart"),
                _ => None,
            };
            let now = match wake {
                Some(action) => {
                    let path = format!("sessions/{name}/{action}");
                    connection_of(&succeeded(call(server, Method::POST, &path, None).await?)?)
                }
                None => before,
            };
            let now = match now.status {
                // Started a moment ago: read again, the QR comes within a few seconds.
                Status::Connecting => connection_of(&self.session(server, name).await?),
                _ => now,
            };
            if now.status != Status::QrPending {
                return Ok(now);
            }
            let mut connecting = now;
            match phone {
                Some(phone) => {
                    let path = format!("{name}/auth/request-code");
                    let body = json!({"phoneNumber": phone, "method": null});
                    let code = succeeded(call(server, Method::POST, &path, Some(body)).await?)?;
                    connecting.pairing_code = code["code"].as_str().map(String::from);
                }
                None => connecting.qr = Some(self.qr(server, name).await?),
            }
            Ok(connecting)
        })
    }

    fn status<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> Call<'a, Connection> {
        Box::pin(async move { Ok(connection_of(&self.session(server, session.name).await?)) })
    }

    fn restart<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let path = format!("sessions/{}/restart", session.name);
            succeeded(call(server, Method::POST, &path, None).await?).map(|_| ())
        })
    }

    fn logout<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let path = format!("sessions/{}/logout", session.name);
            succeeded(call(server, Method::POST, &path, None).await?).map(|_| ())
        })
    }

    fn delete<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let path = format!("sessions/{}", session.name);
            match call(server, Method::DELETE, &path, None).await? {
                (404, _) => Ok(()),
                answer => succeeded(answer).map(|_| ()),
            }
        })
    }

    fn apply_settings<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        settings: &'a Behaviour,
    ) -> Call<'a, ()> {
        Box::pin(async move {
            // `PUT` replaces the whole config (webhooks included), so it is read first.
            let mut config = self.session(server, session.name).await?["config"].clone();
            if !config.is_object() {
                config = json!({});
            }
            config["ignore"]["groups"] = json!(settings.ignore_groups);
            let path = format!("sessions/{}", session.name);
            let body = json!({"config": config});
            succeeded(call(server, Method::PUT, &path, Some(body)).await?).map(|_| ())
        })
    }

    fn send_text<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        to: &'a str,
        text: &'a str,
    ) -> Call<'a, String> {
        Box::pin(async move {
            let body = json!({"session": session.name, "chatId": format!("{to}@c.us"),
                "text": text});
            let sent = succeeded(call(server, Method::POST, "sendText", Some(body)).await?)?;
            // WEBJS answers `id` as `{_serialized}`, NOWEB and GOWS as a string.
            sent["id"]
                .as_str()
                .or(sent["id"]["_serialized"].as_str())
                .map(String::from)
                .ok_or(ProviderError::Unreachable(
                    "the sent message came without its id",
                ))
        })
    }

    fn webhook_signing(&self) -> Signing {
        Signing::InstanceSecret
    }

    /// `X-Webhook-Hmac`: hex HMAC-SHA512 of the raw body, keyed with the hub's secret.
    fn signed(&self, secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
        let header = headers.get("x-webhook-hmac").and_then(|v| v.to_str().ok());
        hex_mac_matches::<Hmac<Sha512>>(secret, header, body)
    }

    fn hear(&self, body: &Value) -> Heard {
        let event = body["event"].as_str().unwrap_or("unreadable");
        let payload = &body["payload"];
        Heard {
            moves_session: matches!(event, "session.status" | "state.change"),
            shows_qr: event == "session.status" && payload["status"] == "SCAN_QR_CODE",
            message_id: match event {
                "message" | "message.any" => payload["id"].as_str().map(String::from),
                _ => None,
            },
            event: event.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_error_shape_reads() {
        let working = connection_of(&json!({"name": "default", "status": "WORKING",
            "me": {"id": "5511999990000@c.us", "pushName": "Acme"}}));
        assert_eq!(
            (working.status, working.phone.as_deref()),
            (Status::Connected, Some("5511999990000"))
        );
        assert_eq!(status_of("PASSKEY_REQUIRED"), Status::Connecting);
        assert_eq!(status_of("FAILED"), Status::Failed);
        let bare = json!({"error": "Session status is not as expected.", "session": "default",
            "status": "WORKING", "expected": ["SCAN_QR_CODE"]});
        assert_eq!(message_of(&bare), "Session status is not as expected.");
        let listed = json!({"statusCode": 400, "message": ["name must be a string", "x"]});
        assert_eq!(message_of(&listed), "name must be a string; x");
    }

    #[test]
    fn a_new_qr_is_heard_as_such() {
        let qr = Waha.hear(&json!({"event": "session.status", "session": "default",
            "payload": {"name": "default", "status": "SCAN_QR_CODE"}}));
        assert!(qr.moves_session && qr.shows_qr);
        let message =
            Waha.hear(&json!({"event": "message", "payload": {"id": "false_55@c.us_3A"}}));
        assert_eq!(message.message_id.as_deref(), Some("false_55@c.us_3A"));
    }
}
