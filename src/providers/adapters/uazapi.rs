//! UazAPI (uazapiGO v2): an `admintoken` for the server (making and listing instances)
//! and each instance's own `token` for everything else, returned once by
//! `POST /instance/init` and sealed by the hub. Errors are `{"error": "…"}`; 429 means the
//! server's limit of connected instances is reached. Its webhooks carry no signature and
//! no header the hub could set, but do carry the instance token in every body: the hub's
//! secret rides in the URL, and the body is never kept.

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    Adapter, Call, Capabilities, Connection, Heard, NewSession, Qr, Server, Session, Status,
};
use crate::providers::http::{ProviderError, exchange};

pub struct Uazapi;

static CAPABILITIES: Capabilities = Capabilities {
    creates_instances: true,
    instance_credentials: &[],
    qr: true,
    qr_seconds: 120,
    pairing_code: true,
    pairing_seconds: 300,
    restart: false,
    logout: true,
    settings: &[],
    send_text: true,
    chatwoot_inbox: false,
};

/// Which of the two credentials a call goes with.
enum Key<'a> {
    Admin,
    Instance(&'a str),
}

async fn call(
    server: &Server<'_>,
    key: Key<'_>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, ProviderError> {
    let url = format!("{}/{path}", server.base_url.trim_end_matches('/'));
    let request = server.http.request(method, url);
    let mut request = match key {
        Key::Admin => request.header("admintoken", server.credentials.get("admin_token")),
        Key::Instance(token) => request.header("token", token),
    };
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, body) = exchange(server.http, request).await?;
    let message = || {
        let text = body["error"]
            .as_str()
            .unwrap_or("The UazAPI server refused the request.");
        crate::platform::text::one_line(text, 500)
    };
    match status {
        200..=299 => Ok(body),
        401 | 403 => Err(ProviderError::CredentialsRefused),
        429 => Err(ProviderError::Rejected(format!(
            "The server's limit of connected numbers is reached ({}).",
            message()
        ))),
        400 | 404 | 409 | 422 => Err(ProviderError::Rejected(message())),
        _ => Err(ProviderError::Unreachable(
            "the server answered with an error",
        )),
    }
}

/// `{instance: {status, qrcode?, paircode?, owner}, status: {connected, loggedIn, jid}}`,
/// or a connect answer of the same shape with `connected`/`loggedIn` at the top.
fn connection_of(body: &Value) -> Connection {
    let flags = if body["status"].is_object() {
        &body["status"]
    } else {
        body
    };
    let instance = &body["instance"];
    let raw = instance["status"].as_str().unwrap_or("disconnected");
    if flags["connected"] == true && flags["loggedIn"] == true {
        let mut connection = Connection::bare(Status::Connected, raw);
        connection.phone = flags["jid"]["user"]
            .as_str()
            .or(instance["owner"].as_str())
            .filter(|owner| !owner.is_empty())
            .map(String::from);
        return connection;
    }
    let qr = instance["qrcode"]
        .as_str()
        .filter(|image| !image.is_empty())
        .map(|image| Qr {
            // uazapiGO gives only the image.
            code: String::new(),
            image: image.to_string(),
        });
    let pairing_code = instance["paircode"]
        .as_str()
        .filter(|code| !code.is_empty())
        .map(String::from);
    let status = match raw {
        "connecting" if qr.is_some() || pairing_code.is_some() => Status::QrPending,
        "connecting" => Status::Connecting,
        _ => Status::Disconnected,
    };
    Connection {
        status,
        raw: raw.to_string(),
        phone: None,
        qr,
        pairing_code,
        seen_at: crate::platform::clock::now_micros(),
    }
}

impl Adapter for Uazapi {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn verify<'a>(&'a self, server: &'a Server<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            match call(server, Key::Admin, Method::GET, "instance/all", None).await {
                Ok(Value::Array(_)) => Ok(()),
                Ok(_) | Err(ProviderError::Rejected(_)) => {
                    Err(ProviderError::Unreachable("not a UazAPI server"))
                }
                Err(err) => Err(err),
            }
        })
    }

    fn create<'a>(&'a self, server: &'a Server<'a>, new: &'a NewSession<'a>) -> Call<'a, String> {
        Box::pin(async move {
            let body = json!({"name": new.name, "systemName": "whatpro-hub"});
            let made = call(
                server,
                Key::Admin,
                Method::POST,
                "instance/init",
                Some(body),
            )
            .await?;
            let token = made["token"].as_str().filter(|t| !t.is_empty()).ok_or(
                ProviderError::Unreachable("the created instance came without its token"),
            )?;
            // Sent by the API are left out, or every text the hub sends would come back.
            let hook = json!({"url": new.webhook.url_with_secret(), "enabled": true,
                "events": ["connection", "messages"], "excludeMessages": ["wasSentByApi"]});
            let key = Key::Instance(token);
            if let Err(err) = call(server, key, Method::POST, "webhook", Some(hook)).await {
                let _ = call(
                    server,
                    Key::Instance(token),
                    Method::DELETE,
                    "instance",
                    None,
                )
                .await;
                return Err(err);
            }
            Ok(token.to_string())
        })
    }

    fn connect<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        phone: Option<&'a str>,
    ) -> Call<'a, Connection> {
        Box::pin(async move {
            let body = phone.map_or_else(|| json!({}), |phone| json!({"phone": phone}));
            let key = Key::Instance(session.token);
            let answer = call(server, key, Method::POST, "instance/connect", Some(body)).await?;
            Ok(connection_of(&answer))
        })
    }

    fn status<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> Call<'a, Connection> {
        Box::pin(async move {
            let key = Key::Instance(session.token);
            let now = call(server, key, Method::GET, "instance/status", None).await?;
            Ok(connection_of(&now))
        })
    }

    fn logout<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let key = Key::Instance(session.token);
            match call(server, key, Method::POST, "instance/disconnect", None).await {
                // Already disconnected.
                Ok(_) | Err(ProviderError::Rejected(_)) => Ok(()),
                Err(err) => Err(err),
            }
        })
    }

    fn delete<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let key = Key::Instance(session.token);
            match call(server, key, Method::DELETE, "instance", None).await {
                // A deleted instance's token is no longer known: nothing left to delete.
                Ok(_) | Err(ProviderError::CredentialsRefused) => Ok(()),
                Err(err) => Err(err),
            }
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
            let body = json!({"number": to, "text": text});
            let key = Key::Instance(session.token);
            let sent = call(server, key, Method::POST, "send/text", Some(body)).await?;
            sent["messageid"]
                .as_str()
                .or(sent["id"].as_str())
                .map(String::from)
                .ok_or(ProviderError::Unreachable(
                    "the sent message came without its id",
                ))
        })
    }

    fn hear(&self, body: &Value) -> Heard {
        let event = body["EventType"].as_str().unwrap_or("unreadable");
        Heard {
            moves_session: event == "connection",
            shows_qr: event == "connection"
                && body["instance"]["qrcode"]
                    .as_str()
                    .is_some_and(|q| !q.is_empty()),
            message_id: match event {
                "messages" => body["message"]["messageid"].as_str().map(String::from),
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
    fn status_and_connect_answers_read_alike() {
        let open = connection_of(
            &json!({"instance": {"status": "connected", "owner": "5511"},
            "status": {"connected": true, "loggedIn": true, "jid": {"user": "5511999990000"}}}),
        );
        assert_eq!(
            (open.status, open.phone.as_deref()),
            (Status::Connected, Some("5511999990000"))
        );
        let qr = connection_of(&json!({"connected": false, "loggedIn": false, "jid": null,
            "instance": {"status": "connecting", "qrcode": "data:image/png;base64,AA",
                         "paircode": "1234-5678"}}));
        assert_eq!(qr.status, Status::QrPending);
        assert_eq!(qr.pairing_code.as_deref(), Some("1234-5678"));
        // Connected but not logged in is not a session.
        let half = connection_of(&json!({"instance": {"status": "connected"},
            "status": {"connected": true, "loggedIn": false}}));
        assert_eq!(half.status, Status::Disconnected);
    }

    #[test]
    fn the_body_token_is_never_what_is_heard() {
        let heard = Uazapi.hear(&json!({"EventType": "messages", "token": "SECRET",
            "message": {"messageid": "3EB0", "fromMe": false}}));
        assert_eq!(heard.message_id.as_deref(), Some("3EB0"));
        assert!(!format!("{heard:?}").contains("SECRET"));
    }
}
