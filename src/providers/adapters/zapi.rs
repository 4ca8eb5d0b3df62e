//! Z-API (hosted): instances are made in Z-API's panel and registered here with their id
//! and token, which travel in every URL (`/instances/{id}/token/{token}/…`: URLs are never
//! logged, and errors never carry them) beside the account's `Client-Token` header. One
//! webhook URL per callback type, HTTPS only, unsigned: the hub's secret rides in the URL.
//! Status is two booleans; a QR lives about 20 s.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    Adapter, Call, Capabilities, Connection, Heard, NewSession, Qr, Server, Session, Status,
};
use crate::providers::http::{ProviderError, exchange};

pub struct Zapi;

static CAPABILITIES: Capabilities = Capabilities {
    creates_instances: false,
    instance_credentials: &["instance_id", "instance_token"],
    qr: true,
    qr_seconds: 20,
    pairing_code: true,
    pairing_seconds: 60,
    restart: true,
    logout: true,
    settings: &[],
    send_text: true,
    chatwoot_inbox: false,
};

/// The instance credential as sealed by the hub.
#[derive(Serialize, Deserialize)]
struct Registered {
    instance_id: String,
    instance_token: String,
}

impl Registered {
    fn of(session: &Session<'_>) -> Result<Registered, ProviderError> {
        serde_json::from_str(session.token).map_err(|_| {
            ProviderError::Rejected("The instance's Z-API credentials are unreadable.".into())
        })
    }
}

async fn call(
    server: &Server<'_>,
    instance: &Registered,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, ProviderError> {
    let url = format!(
        "{}/instances/{}/token/{}/{path}",
        server.base_url.trim_end_matches('/'),
        instance.instance_id,
        instance.instance_token
    );
    let mut request = server
        .http
        .request(method, url)
        .header("Client-Token", server.credentials.get("client_token"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, body) = exchange(server.http, request).await?;
    match status {
        200..=299 => Ok(body),
        // A wrong instance id or token is "Instance not found"; a wrong Client-Token 403.
        401 | 403 | 404 => Err(ProviderError::CredentialsRefused),
        400 | 405 | 422 => Err(ProviderError::Rejected(message_of(&body))),
        _ => Err(ProviderError::Unreachable(
            "the server answered with an error",
        )),
    }
}

fn message_of(body: &Value) -> String {
    let message = body["error"]
        .as_str()
        .or(body["message"].as_str())
        .unwrap_or("Z-API refused the request.");
    crate::platform::text::one_line(message, 500)
}

/// The callback types the hub listens to, and where each is set.
const CALLBACKS: [&str; 3] = ["connected", "disconnected", "received"];

impl Adapter for Zapi {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    /// Z-API has no account-wide call: the server is reached (an unknown instance answers
    /// Z-API's own 404), and the Client-Token is proven by the first registration.
    fn verify<'a>(&'a self, server: &'a Server<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let probe = Registered {
                instance_id: "whatpro-probe".into(),
                instance_token: "whatpro-probe".into(),
            };
            match call(server, &probe, Method::GET, "status", None).await {
                Ok(_) | Err(ProviderError::CredentialsRefused) => Ok(()),
                Err(ProviderError::Rejected(_)) => {
                    Err(ProviderError::Unreachable("not a Z-API server"))
                }
                Err(err) => Err(err),
            }
        })
    }

    fn create<'a>(&'a self, server: &'a Server<'a>, new: &'a NewSession<'a>) -> Call<'a, String> {
        Box::pin(async move {
            let instance = Registered {
                instance_id: new.given.get("instance_id").to_string(),
                instance_token: new.given.get("instance_token").to_string(),
            };
            call(server, &instance, Method::GET, "status", None).await?;
            let url = new.webhook.url_with_secret();
            for kind in CALLBACKS {
                let path = format!("update-webhook-{kind}");
                let body = Some(json!({"value": url}));
                call(server, &instance, Method::PUT, &path, body).await?;
            }
            serde_json::to_string(&instance)
                .map_err(|_| ProviderError::Unreachable("the credentials could not be kept"))
        })
    }

    fn connect<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        phone: Option<&'a str>,
    ) -> Call<'a, Connection> {
        Box::pin(async move {
            let instance = Registered::of(session)?;
            if let Some(phone) = phone {
                let path = format!("phone-code/{phone}");
                let answer = call(server, &instance, Method::GET, &path, None).await?;
                if answer["connected"] == true {
                    return self.status(server, session).await;
                }
                let mut connection = Connection::bare(Status::QrPending, "pairing");
                connection.pairing_code = answer["code"].as_str().map(String::from);
                return Ok(connection);
            }
            let image = call(server, &instance, Method::GET, "qr-code/image", None).await?;
            if image["connected"] == true {
                return self.status(server, session).await;
            }
            let code = call(server, &instance, Method::GET, "qr-code", None).await?;
            let mut connection = Connection::bare(Status::QrPending, "qr");
            connection.qr = image["value"].as_str().map(|image| Qr {
                code: code["value"].as_str().unwrap_or_default().to_string(),
                image: image.to_string(),
            });
            Ok(connection)
        })
    }

    fn status<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> Call<'a, Connection> {
        Box::pin(async move {
            let instance = Registered::of(session)?;
            let now = call(server, &instance, Method::GET, "status", None).await?;
            if now["connected"] != true {
                return Ok(Connection::bare(Status::Disconnected, "disconnected"));
            }
            let mut connection = Connection::bare(Status::Connected, "connected");
            // Not listed in Z-API's docs for `/me`, so only taken when it is there.
            let me = call(server, &instance, Method::GET, "me", None).await?;
            connection.phone = me["phone"].as_str().map(String::from);
            Ok(connection)
        })
    }

    fn restart<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let instance = Registered::of(session)?;
            call(server, &instance, Method::GET, "restart", None).await?;
            Ok(())
        })
    }

    fn logout<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let instance = Registered::of(session)?;
            call(server, &instance, Method::GET, "disconnect", None).await?;
            Ok(())
        })
    }

    /// The instance belongs to the Z-API panel and stays there; its callbacks are pointed
    /// away from the hub (the secret in them dies with the hub's instance anyway).
    fn delete<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let instance = Registered::of(session)?;
            for kind in CALLBACKS {
                let path = format!("update-webhook-{kind}");
                let body = Some(json!({"value": ""}));
                match call(server, &instance, Method::PUT, &path, body).await {
                    // Removed from the panel already: nothing left to point away.
                    Ok(_) | Err(ProviderError::CredentialsRefused) => {}
                    Err(err) => return Err(err),
                }
            }
            Ok(())
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
            let instance = Registered::of(session)?;
            let body = Some(json!({"phone": to, "message": text}));
            let sent = call(server, &instance, Method::POST, "send-text", body).await?;
            sent["messageId"]
                .as_str()
                .map(String::from)
                .ok_or(ProviderError::Unreachable(
                    "the sent message came without its id",
                ))
        })
    }

    fn hear(&self, body: &Value) -> Heard {
        let event = body["type"].as_str().unwrap_or("unreadable");
        Heard {
            moves_session: matches!(event, "ConnectedCallback" | "DisconnectedCallback"),
            shows_qr: false,
            message_id: match event {
                "ReceivedCallback" => body["messageId"].as_str().map(String::from),
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
    fn callbacks_are_told_apart_by_their_type() {
        let connected = Zapi.hear(&json!({"type": "ConnectedCallback", "connected": true,
            "phone": "5511999990000", "momment": 1_765_000_000_000_i64, "instanceId": "X"}));
        assert!(connected.moves_session && connected.message_id.is_none());
        let received = Zapi.hear(&json!({"type": "ReceivedCallback", "messageId": "3EB0AB",
            "phone": "5511988887777", "fromMe": false, "text": {"message": "Oi"}}));
        assert_eq!(
            (received.moves_session, received.message_id.as_deref()),
            (false, Some("3EB0AB"))
        );
        assert_eq!(Zapi.hear(&json!("junk")).event, "unreadable");
    }

    #[test]
    fn errors_read_as_one_line() {
        assert_eq!(
            message_of(&json!({"error": "You are not connected."})),
            "You are not connected."
        );
        assert_eq!(message_of(&json!(null)), "Z-API refused the request.");
    }
}
