//! Meta's WhatsApp Cloud API (Graph): no server, no session, no QR. The "provider" is a
//! Meta app (a system user's token and the app secret), an instance one of its numbers
//! (`phone_number_id`). Its health is the number's own `status` and `quality_rating`; code
//! 190 means the token is invalid or expired. Webhooks are signed
//! (`X-Hub-Signature-256`, HMAC-SHA256 of the raw bytes with the app secret) and go to the
//! number's override callback, which Meta verifies with a challenge before it is set: so
//! the webhook is pointed at the hub only once the instance is stored.

use axum::http::HeaderMap;
use hmac::Hmac;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use super::{
    Adapter, Call, Capabilities, Connection, Heard, NewSession, Server, Session, Signing, Status,
    Webhook, hex_mac_matches,
};
use crate::providers::http::{ProviderError, exchange};

pub struct CloudApi;

static CAPABILITIES: Capabilities = Capabilities {
    creates_instances: false,
    instance_credentials: &["phone_number_id"],
    qr: false,
    qr_seconds: 0,
    pairing_code: false,
    pairing_seconds: 0,
    restart: false,
    logout: false,
    settings: &[],
    send_text: true,
    chatwoot_inbox: true,
};

/// What the number's health is read from.
const HEALTH_FIELDS: &str = "id,display_phone_number,verified_name,status,quality_rating,\
                             code_verification_status,name_status";

async fn call(
    server: &Server<'_>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, ProviderError> {
    let url = format!("{}/{path}", server.base_url.trim_end_matches('/'));
    let token = server.credentials.get("access_token");
    let mut request = server.http.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, body) = exchange(server.http, request).await?;
    let error = &body["error"];
    match (status, error["code"].as_u64()) {
        (200..=299, _) if error.is_null() => Ok(body),
        (_, Some(190)) | (401 | 403, _) => Err(ProviderError::CredentialsRefused),
        (400..=499, Some(_)) => Err(ProviderError::Rejected(message_of(error))),
        _ => Err(ProviderError::Unreachable(
            "the server answered with an error",
        )),
    }
}

fn message_of(error: &Value) -> String {
    let message = error["message"]
        .as_str()
        .unwrap_or("Meta refused the request.");
    crate::platform::text::one_line(message, 500)
}

/// The hub's status of a number as Meta rates it.
fn status_of(node: &Value) -> Connection {
    let status = node["status"].as_str().unwrap_or("UNKNOWN");
    let quality = node["quality_rating"].as_str().unwrap_or("UNKNOWN");
    let ours = match status {
        "CONNECTED" => Status::Connected,
        "DISCONNECTED" | "PENDING" | "UNVERIFIED" => Status::Disconnected,
        _ => Status::Failed,
    };
    let mut connection = Connection::bare(ours, &format!("{status} ({quality})"));
    connection.phone = node["display_phone_number"]
        .as_str()
        .map(|shown| shown.chars().filter(char::is_ascii_digit).collect());
    connection
}

impl Adapter for CloudApi {
    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn verify<'a>(&'a self, server: &'a Server<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let me = call(server, Method::GET, "me?fields=id", None).await?;
            match me["id"].is_string() {
                true => Ok(()),
                false => Err(ProviderError::Unreachable("not a Graph API server")),
            }
        })
    }

    /// Checks that the token reaches the number; the webhook comes after the instance is
    /// stored ([`Adapter::confirm_webhook`]).
    fn create<'a>(&'a self, server: &'a Server<'a>, new: &'a NewSession<'a>) -> Call<'a, String> {
        Box::pin(async move {
            let id = new.given.get("phone_number_id");
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
                return Err(ProviderError::Rejected(
                    "phone_number_id must be the number's id in Meta (digits).".into(),
                ));
            }
            call(server, Method::GET, &format!("{id}?fields=id"), None).await?;
            Ok(id.to_string())
        })
    }

    fn confirm_webhook<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        webhook: &'a Webhook<'a>,
    ) -> Call<'a, ()> {
        Box::pin(async move {
            let body = json!({"webhook_configuration": {
                "override_callback_uri": webhook.url_with_secret(),
                "verify_token": webhook.secret,
            }});
            call(server, Method::POST, session.token, Some(body)).await?;
            Ok(())
        })
    }

    fn connect<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
        _: Option<&'a str>,
    ) -> Call<'a, Connection> {
        self.status(server, session)
    }

    fn status<'a>(
        &'a self,
        server: &'a Server<'a>,
        session: &'a Session<'a>,
    ) -> Call<'a, Connection> {
        Box::pin(async move {
            let path = format!("{}?fields={HEALTH_FIELDS}", session.token);
            Ok(status_of(&call(server, Method::GET, &path, None).await?))
        })
    }

    /// The number stays in Meta; its override callback is cleared.
    fn delete<'a>(&'a self, server: &'a Server<'a>, session: &'a Session<'a>) -> Call<'a, ()> {
        Box::pin(async move {
            let body = json!({"webhook_configuration": {"override_callback_uri": ""}});
            match call(server, Method::POST, session.token, Some(body)).await {
                Ok(_) | Err(ProviderError::Rejected(_)) => Ok(()),
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
            let body = json!({"messaging_product": "whatsapp", "recipient_type": "individual",
                "to": to, "type": "text", "text": {"body": text, "preview_url": false}});
            let path = format!("{}/messages", session.token);
            let sent = call(server, Method::POST, &path, Some(body)).await?;
            sent["messages"][0]["id"]
                .as_str()
                .map(String::from)
                .ok_or(ProviderError::Unreachable(
                    "the sent message came without its id",
                ))
        })
    }

    /// One post may carry several changes; the first says what it is. A message is
    /// recognised by its `wamid`.
    fn hear(&self, body: &Value) -> Heard {
        let change = &body["entry"][0]["changes"][0];
        let value = &change["value"];
        let field = change["field"].as_str().unwrap_or("unreadable");
        let event = match field {
            "messages" if value["statuses"].is_array() => "statuses",
            other => other,
        };
        Heard {
            // Account and quality changes go to the Meta app's own callback, never to a
            // number's override: a number's health comes from the scheduled checks.
            moves_session: false,
            shows_qr: false,
            message_id: value["messages"][0]["id"].as_str().map(String::from),
            event: event.to_string(),
        }
    }

    fn webhook_signing(&self) -> Signing {
        Signing::ServerCredential("app_secret")
    }

    /// `X-Hub-Signature-256: sha256=<hex>` over the raw bytes.
    fn signed(&self, app_secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
        let header = headers
            .get("x-hub-signature-256")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("sha256="));
        hex_mac_matches::<Hmac<Sha256>>(app_secret, header, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_ratings_read_as_the_hubs_status() {
        let ok = status_of(&json!({"status": "CONNECTED", "quality_rating": "GREEN",
            "display_phone_number": "+55 11 99999-0000"}));
        assert_eq!(
            (ok.status, ok.raw.as_str(), ok.phone.as_deref()),
            (
                Status::Connected,
                "CONNECTED (GREEN)",
                Some("5511999990000")
            )
        );
        let banned = status_of(&json!({"status": "BANNED", "quality_rating": "RED"}));
        assert_eq!(banned.status, Status::Failed);
    }

    #[test]
    fn messages_and_statuses_are_told_apart() {
        let message = json!({"object": "whatsapp_business_account", "entry": [{"id": "1",
            "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "9"},
            "messages": [{"id": "wamid.A", "from": "5511", "type": "text"}]}}]}]});
        let heard = CloudApi.hear(&message);
        assert_eq!(
            (heard.event.as_str(), heard.message_id.as_deref()),
            ("messages", Some("wamid.A"))
        );
        let status = json!({"entry": [{"changes": [{"field": "messages",
            "value": {"statuses": [{"id": "wamid.A", "status": "read"}]}}]}]});
        let heard = CloudApi.hear(&status);
        assert_eq!((heard.event.as_str(), heard.message_id), ("statuses", None));
    }
}
