//! Evolution API v2: one `apikey` header, the server's global key for the server (it alone
//! may create instances, and `POST /verify-creds` accepts only it) and each instance's own
//! token for its routes. Errors come as `{status, error, response: {message}}` with
//! `message` a string, a list, or a list of lists; some failures come inside a 200 body
//! (`{"error": true, "message": …}`); `connect` answers differently in each state.

use futures_util::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};

use super::{Adapter, Connection, Qr, SECRET_HEADER, Server, Session, Status, Webhook};
use crate::providers::http::{ProviderClient, ProviderError, unreachable};

pub struct Evolution;

/// Sends one call; answers the status and the JSON body (`Null` when there is none).
async fn call(
    client: &ProviderClient,
    method: Method,
    url: String,
    key: &str,
    body: Option<Value>,
) -> Result<(u16, Value), ProviderError> {
    let mut request = client.0.request(method, url).header("apikey", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| unreachable(&e))?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
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
        return Connection {
            status: state_of(state),
            raw: state.into(),
            qr: None,
            pairing_code: None,
        };
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
        qr,
        pairing_code: body["pairingCode"].as_str().map(String::from),
    }
}

impl Adapter for Evolution {
    fn verify<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let url = format!("{}/verify-creds", server.base_url);
            let (status, body) = call(
                client,
                Method::POST,
                url,
                server.credentials.get("api_key"),
                None,
            )
            .await?;
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

    fn create<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        name: &'a str,
        webhook: &'a Webhook<'a>,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            // No `number`: on create it switches the instance to pairing mode for good. The
            // webhook is the nested form of 2.1+ (the flat fields are ignored), with an
            // events list (enabled without one crashes the server).
            let body = json!({
                "instanceName": name, "integration": "WHATSAPP-BAILEYS", "qrcode": false,
                "webhook": {
                    "enabled": true, "url": webhook.url, "byEvents": false, "base64": false,
                    "headers": {SECRET_HEADER: webhook.secret},
                    "events": ["QRCODE_UPDATED", "CONNECTION_UPDATE", "LOGOUT_INSTANCE",
                               "REMOVE_INSTANCE", "MESSAGES_UPSERT"],
                },
            });
            let url = format!("{}/instance/create", server.base_url);
            let key = server.credentials.get("api_key");
            let (status, answer) = call(client, Method::POST, url, key, Some(body)).await?;
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
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        phone: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Connection, ProviderError>> {
        Box::pin(async move {
            let mut url = format!("{}/instance/connect/{}", server.base_url, session.name);
            if let Some(phone) = phone {
                // A socket already showing a QR answers that QR and makes no pairing code:
                // it must be closed first (FACTS.md §1.6).
                let now = self.status(client, server, session).await?;
                if now.raw == "connecting" {
                    self.logout(client, server, session).await?;
                }
                url.push_str(&format!("?number={phone}"));
            }
            let (status, body) = call(client, Method::GET, url, session.token, None).await?;
            Ok(connection_of(&succeeded(status, body)?))
        })
    }

    fn status<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> BoxFuture<'a, Result<Connection, ProviderError>> {
        Box::pin(async move {
            let url = format!(
                "{}/instance/connectionState/{}",
                server.base_url, session.name
            );
            let (status, body) = call(client, Method::GET, url, session.token, None).await?;
            let body = succeeded(status, body)?;
            let raw = body["instance"]["state"]
                .as_str()
                .unwrap_or("close")
                .to_string();
            Ok(Connection {
                status: state_of(&raw),
                raw,
                qr: None,
                pairing_code: None,
            })
        })
    }

    fn logout<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let url = format!("{}/instance/logout/{}", server.base_url, session.name);
            let (status, body) = call(client, Method::DELETE, url, session.token, None).await?;
            match status {
                // "The instance is not connected": already logged out.
                400 => Ok(()),
                _ => succeeded(status, body).map(|_| ()),
            }
        })
    }

    fn delete<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>> {
        Box::pin(async move {
            let url = format!("{}/instance/delete/{}", server.base_url, session.name);
            let key = server.credentials.get("api_key");
            let (status, body) = call(client, Method::DELETE, url, key, None).await?;
            match status {
                404 => Ok(()),
                _ => succeeded(status, body).map(|_| ()),
            }
        })
    }
}

/// Evolution's `response.message`, whatever its shape, as one line.
fn message_of(body: &Value) -> String {
    fn flatten(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
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
        assert!(text(json!([{"exists": false, "number": "55"}])).contains("\"exists\":false"));
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
