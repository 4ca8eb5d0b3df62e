//! Evolution API v2: one `apikey` header, the server's global key for the server (it alone
//! may create instances, and `POST /verify-creds` accepts only it) and each instance's own
//! token for its routes. Errors come as `{status, error, response: {message}}` with
//! `message` a string, a list, or a list of lists; some failures come inside a 200 body
//! (`{"error": true, "message": …}`); `connect` answers differently in each state.

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    Adapter, Call, Capabilities, ChatwootInbox, Connection, Heard, NewSession, Qr, SECRET_HEADER,
    Server, Session, Status,
};
use crate::providers::{
    http::{ProviderError, exchange},
    instances::Behaviour,
};

pub struct Evolution;

/// Sends one call; answers the status and the JSON body (`Null` when there is none).
async fn call(
    server: &Server<'_>,
    method: Method,
    url: String,
    key: &str,
    body: Option<Value>,
) -> Result<(u16, Value), ProviderError> {
    let mut request = server.http.request(method, url).header("apikey", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    exchange(server.http, request).await
}

/// What a status other than success means.
fn refused(status: u16, body: &Value) -> ProviderError {
    match status {
        401 => ProviderError::CredentialsRefused,
        400 | 403 | 404 | 422 => ProviderError::Rejected(message_of(body)),
        _ => ProviderError::Unreachable("the server answered with an error"),
    }
}

/// Success, or the failure Evolution put in a 200 body.
fn succeeded(status: u16, body: Value) -> Result<Value, ProviderError> {
    if !(200..300).contains(&status) {
        return Err(refused(status, &body));
    }
    if body["error"] == Value::Bool(true) {
        let message = body["message"]
            .as_str()
            .unwrap_or("The Evolution server failed.");
        return Err(ProviderError::Rejected(message.to_string()));
    }
    Ok(body)
}

fn state_of(raw: &str) -> Status {
    match raw {
        "open" => Status::Connected,
        "connecting" => Status::Connecting,
        "refused" => Status::Failed,
        _ => Status::Disconnected,
    }
}

/// A `connect` answer: the session open, a QR (and pairing code), or no QR yet.
fn connection_of(body: &Value) -> Connection {
    if let Some(state) = body["instance"]["state"].as_str() {
        return Connection::bare(state_of(state), state);
    }
    let qr = body["code"].as_str().map(|code| Qr {
        code: code.to_string(),
        image: body["base64"].as_str().unwrap_or_default().to_string(),
    });
    Connection {
        status: if qr.is_some() {
            Status::QrPending
        } else {
            Status::Connecting
        },
        raw: "connecting".into(),
        phone: None,
        qr,
        pairing_code: body["pairingCode"].as_str().map(String::from),
        seen_at: crate::platform::clock::now_micros(),
    }
}

static CAPABILITIES: Capabilities = Capabilities {
    creates_instances: true,
    instance_credentials: &[],
    qr: true,
    qr_seconds: 45,
    pairing_code: true,
    pairing_seconds: 60,
    restart: true,
    logout: true,
    settings: &[
        "reject_calls",
        "call_message",
        "ignore_groups",
        "always_online",
        "read_messages",
        "read_status",
    ],
    send_text: true,
    chatwoot_inbox: true,
};

impl Adapter for Evolution {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn verify<'a>(&'a self, server: &'a Server<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let url = format!("{}/verify-creds", server.base_url);
            let key = server.credentials.get("api_key");
            let (status, body) = call(server, Method::POST, url, key, None).await?;
            match status {
                // Anything answering 200 is not yet an Evolution server.
                200 | 201 if body.get("status").is_some() || body.get("message").is_some() => {
                    Ok(())
                }
                200 | 201 | 404 => Err(ProviderError::Unreachable("not an Evolution API server")),
                403 => Err(ProviderError::CredentialsRefused),
                _ => Err(refused(status, &body)),
            }
        })
    }

    fn create<'a>(&'a self, server: &'a Server<'a>, new: &'a NewSession<'a>) -> Call<'a, String> {
        Box::pin(async move {
            // No `number`: on create it switches the instance to pairing mode for good. The
            // webhook is the nested form of 2.1+ (the flat fields are ignored), with an
            // events list (enabled without one crashes the server).
            let body = json!({
                "instanceName": new.name, "integration": "WHATSAPP-BAILEYS", "qrcode": false,
                "webhook": {
                    "enabled": true, "url": new.webhook.url, "byEvents": false, "base64": false,
                    "headers": {SECRET_HEADER: new.webhook.secret},
                    "events": ["QRCODE_UPDATED", "CONNECTION_UPDATE", "LOGOUT_INSTANCE",
                               "REMOVE_INSTANCE", "MESSAGES_UPSERT"],
                },
            });
            let url = format!("{}/instance/create", server.base_url);
            let key = server.credentials.get("api_key");
            let (status, answer) = call(server, Method::POST, url, key, Some(body)).await?;
            let answer = succeeded(status, answer)?;
            answer["hash"]
                .as_str()
                .map(String::from)
                .ok_or(ProviderError::Unreachable(
                    "the created instance came without its token",
                ))
        })
    }

    fn connect<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        phone: Option<&'a str>,
    ) -> Call<'a, Connection> {
        Box::pin(async move {
            let mut url = format!("{}/instance/connect/{}", server.base_url, session.name);
            if let Some(phone) = phone {
                // A socket already showing a QR answers that QR and makes no pairing code:
                // it must be closed first (FACTS.md §1.6).
                let now = self.status(server, session).await?;
                if now.raw == "connecting" {
                    self.logout(server, session).await?;
                }
                url.push_str(&format!("?number={phone}"));
            }
            let (status, body) = call(server, Method::GET, url, session.token, None).await?;
            Ok(connection_of(&succeeded(status, body)?))
        })
    }

    fn status<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> Call<'a, Connection> {
        Box::pin(async move {
            // The state from memory (the database's lags); the owner, once open, from the
            // instance's row.
            let url = format!(
                "{}/instance/connectionState/{}",
                server.base_url, session.name
            );
            let (status, body) = call(server, Method::GET, url, session.token, None).await?;
            let body = succeeded(status, body)?;
            let raw = body["instance"]["state"].as_str().unwrap_or("close");
            let mut connection = Connection::bare(state_of(raw), raw);
            if connection.status == Status::Connected {
                let url = format!(
                    "{}/instance/fetchInstances?instanceName={}",
                    server.base_url, session.name
                );
                let (status, rows) = call(server, Method::GET, url, session.token, None).await?;
                let rows = succeeded(status, rows)?;
                connection.phone = rows[0]["ownerJid"]
                    .as_str()
                    .and_then(|jid| jid.split('@').next())
                    .map(String::from);
            }
            Ok(connection)
        })
    }

    fn restart<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let url = format!("{}/instance/restart/{}", server.base_url, session.name);
            let (status, body) = call(server, Method::POST, url, session.token, None).await?;
            // A closed session answers 200 `{"error": true, "message": "[object Object]"}`.
            if body["error"] == Value::Bool(true) {
                return Err(ProviderError::Rejected(
                    "The session is not open: connect it instead.".into(),
                ));
            }
            succeeded(status, body).map(|_| ())
        })
    }

    fn logout<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let url = format!("{}/instance/logout/{}", server.base_url, session.name);
            let (status, body) = call(server, Method::DELETE, url, session.token, None).await?;
            match status {
                // "The instance is not connected": already logged out.
                400 => Ok(()),
                _ => succeeded(status, body).map(|_| ()),
            }
        })
    }

    fn delete<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let url = format!("{}/instance/delete/{}", server.base_url, session.name);
            let key = server.credentials.get("api_key");
            let (status, body) = call(server, Method::DELETE, url, key, None).await?;
            match status {
                404 => Ok(()),
                _ => succeeded(status, body).map(|_| ()),
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
            // All six booleans are required by the server's schema.
            let body = json!({
                "rejectCall": settings.reject_calls,
                "msgCall": settings.call_message.clone().unwrap_or_default(),
                "groupsIgnore": settings.ignore_groups,
                "alwaysOnline": settings.always_online,
                "readMessages": settings.read_messages,
                "readStatus": settings.read_status,
                "syncFullHistory": false,
            });
            let url = format!("{}/settings/set/{}", server.base_url, session.name);
            let (status, answer) =
                call(server, Method::POST, url, session.token, Some(body)).await?;
            succeeded(status, answer).map(|_| ())
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
            let url = format!("{}/message/sendText/{}", server.base_url, session.name);
            let body = json!({"number": to, "text": text});
            let (status, answer) =
                call(server, Method::POST, url, session.token, Some(body)).await?;
            let answer = succeeded(status, answer)?;
            answer["key"]["id"]
                .as_str()
                .map(String::from)
                .ok_or(ProviderError::Unreachable(
                    "the sent message came without its id",
                ))
        })
    }

    fn bridge_to_chatwoot<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        inbox: &'a ChatwootInbox<'a>,
    ) -> Call<'a, ()> {
        Box::pin(async move {
            // The three booleans are required by the server; `autoCreate` makes the API
            // inbox by name (renaming it in Chatwoot later breaks the bridge: FACTS §1.6).
            let body = json!({
                "enabled": true, "accountId": inbox.account_id.to_string(),
                "token": inbox.token, "url": inbox.url, "nameInbox": inbox.name,
                "signMsg": false, "reopenConversation": true, "conversationPending": false,
                "autoCreate": true, "importContacts": false, "importMessages": false,
            });
            let url = format!("{}/chatwoot/set/{}", server.base_url, session.name);
            let (status, answer) =
                call(server, Method::POST, url, session.token, Some(body)).await?;
            succeeded(status, answer).map(|_| ())
        })
    }

    fn hear(&self, body: &Value) -> Heard {
        let event = body["event"].as_str().unwrap_or("unreadable");
        Heard {
            moves_session: matches!(
                event,
                "connection.update" | "qrcode.updated" | "logout.instance" | "remove.instance"
            ),
            shows_qr: event == "qrcode.updated",
            message_id: body["data"]["key"]["id"].as_str().map(String::from),
            event: event.to_string(),
        }
    }
}

/// Evolution's `response.message`, whatever its shape, as one line.
fn message_of(body: &Value) -> String {
    fn flatten(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
            // A send to a number that is not on WhatsApp: `[{jid, exists: false, number}]`.
            Value::Object(o) if o.get("exists") == Some(&Value::Bool(false)) => {
                let number = o
                    .get("number")
                    .and_then(Value::as_str)
                    .unwrap_or("The number");
                out.push(format!("{number} is not on WhatsApp"));
            }
            Value::Object(_) => out.push(value.to_string()),
            _ => {}
        }
    }
    let mut parts = Vec::new();
    flatten(&body["response"]["message"], &mut parts);
    if parts.is_empty() {
        "The Evolution server refused the request.".into()
    } else {
        crate::platform::text::one_line(&parts.join("; "), 500)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_every_shape_read_as_one_line() {
        let text = |m: Value| message_of(&json!({"status": 400, "response": {"message": m}}));
        assert_eq!(text(json!("Unauthorized")), "Unauthorized");
        assert_eq!(text(json!(["a", "b"])), "a; b");
        assert_eq!(
            text(json!([["instance requires property \"rejectCall\""]])),
            "instance requires property \"rejectCall\""
        );
        assert_eq!(
            text(json!([{"jid": "55@s.whatsapp.net", "exists": false, "number": "55"}])),
            "55 is not on WhatsApp"
        );
        assert_eq!(
            text(json!(null)),
            "The Evolution server refused the request."
        );
    }

    #[test]
    fn connect_answers_of_every_state_and_errors_in_200_bodies() {
        let open = connection_of(&json!({"instance": {"instanceName": "x", "state": "open"}}));
        assert_eq!(open.status, Status::Connected);
        let not_yet = connection_of(&json!({"count": 0}));
        assert_eq!(
            (not_yet.status, not_yet.qr.is_none()),
            (Status::Connecting, true)
        );
        let qr = connection_of(
            &json!({"pairingCode": "WZYEH1YY", "code": "2@x", "base64": "data:image/png;base64,AA", "count": 1}),
        );
        assert_eq!(qr.status, Status::QrPending);
        assert_eq!(qr.pairing_code.as_deref(), Some("WZYEH1YY"));
        let failed = succeeded(200, json!({"error": true, "message": "[object Object]"}));
        assert!(matches!(failed, Err(ProviderError::Rejected(m)) if m == "[object Object]"));
    }
}
