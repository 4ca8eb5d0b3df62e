//! Account webhooks and dashboard apps (FACTS.md §1, §3). Both are admin-only in Chatwoot:
//! an agent's credential gets `Forbidden`.

use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use super::{
    ChatwootClient, ChatwootError, Credential,
    transport::{Auth, Payload, Req},
};

/// The events an account webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// A name this version does not know; decoding tolerates it, Chatwoot rejects sending it.
    #[serde(other)]
    Unknown,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 12] = [
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

    /// The wire name, as in the payload's `event` key.
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
            WebhookEvent::Unknown => "unknown",
        }
    }

    pub fn parse(name: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

/// An account webhook. `secret` (Chatwoot ≥ 4.11.2) keys the delivery signature; older
/// versions send none.
#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub account_id: Option<i64>,
    #[serde(default)]
    pub subscriptions: Vec<WebhookEvent>,
    #[serde(default, deserialize_with = "secret")]
    pub secret: Option<SecretString>,
}

fn secret<'de, D: Deserializer<'de>>(de: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(de)?
        .filter(|s| !s.is_empty())
        .map(SecretString::from))
}

/// A dashboard app: a conversation-pane tab that frames `content[].url`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DashboardApp {
    pub id: i64,
    pub title: String,
    #[serde(default)]
    pub content: Vec<DashboardAppFrame>,
    #[serde(default)]
    pub created_at: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardAppFrame {
    /// Always `"frame"` today.
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
}

impl DashboardAppFrame {
    pub fn frame(url: impl Into<String>) -> Self {
        DashboardAppFrame {
            kind: "frame".into(),
            url: url.into(),
        }
    }
}

#[derive(Deserialize)]
struct WebhookList {
    webhooks: Vec<Webhook>,
}

#[derive(Deserialize)]
struct OneWebhook {
    webhook: Webhook,
}

const WEBHOOKS: &str = "/api/v1/accounts/{account_id}/webhooks";
const WEBHOOK: &str = "/api/v1/accounts/{account_id}/webhooks/{id}";
const APPS: &str = "/api/v1/accounts/{account_id}/dashboard_apps";
const APP: &str = "/api/v1/accounts/{account_id}/dashboard_apps/{id}";

impl ChatwootClient {
    pub async fn list_webhooks(
        &self,
        cred: &Credential,
        account_id: i64,
    ) -> Result<Vec<Webhook>, ChatwootError> {
        let req = Req::new(
            Method::GET,
            WEBHOOKS,
            webhooks_path(account_id),
            Auth::User(cred),
        );
        Ok(self
            .send(req)
            .await?
            .json::<Payload<WebhookList>>()?
            .payload
            .webhooks)
    }

    /// Sent once: a repeat would fail on the unique URL or create a twin.
    pub async fn create_webhook(
        &self,
        cred: &Credential,
        account_id: i64,
        url: &str,
        name: &str,
        subscriptions: &[WebhookEvent],
    ) -> Result<Webhook, ChatwootError> {
        let body =
            json!({ "webhook": { "url": url, "name": name, "subscriptions": subscriptions } });
        let req = Req::new(
            Method::POST,
            WEBHOOKS,
            webhooks_path(account_id),
            Auth::User(cred),
        );
        Ok(self
            .send(req.json(body))
            .await?
            .json::<Payload<OneWebhook>>()?
            .payload
            .webhook)
    }

    /// Sets url, name and subscriptions as given (absolute, so safe to repeat).
    pub async fn update_webhook(
        &self,
        cred: &Credential,
        account_id: i64,
        webhook_id: i64,
        url: &str,
        name: &str,
        subscriptions: &[WebhookEvent],
    ) -> Result<Webhook, ChatwootError> {
        let body =
            json!({ "webhook": { "url": url, "name": name, "subscriptions": subscriptions } });
        let path = format!("{}/{webhook_id}", webhooks_path(account_id));
        let req = Req::new(Method::PATCH, WEBHOOK, path, Auth::User(cred));
        Ok(self
            .send(req.json(body).repeatable())
            .await?
            .json::<Payload<OneWebhook>>()?
            .payload
            .webhook)
    }

    pub async fn delete_webhook(
        &self,
        cred: &Credential,
        account_id: i64,
        webhook_id: i64,
    ) -> Result<(), ChatwootError> {
        let path = format!("{}/{webhook_id}", webhooks_path(account_id));
        self.send(Req::new(Method::DELETE, WEBHOOK, path, Auth::User(cred)))
            .await?;
        Ok(())
    }

    pub async fn dashboard_apps(
        &self,
        cred: &Credential,
        account_id: i64,
    ) -> Result<Vec<DashboardApp>, ChatwootError> {
        let req = Req::new(Method::GET, APPS, apps_path(account_id), Auth::User(cred));
        self.send(req).await?.json()
    }

    /// Sent once, like every create.
    pub async fn create_dashboard_app(
        &self,
        cred: &Credential,
        account_id: i64,
        title: &str,
        content: &[DashboardAppFrame],
    ) -> Result<DashboardApp, ChatwootError> {
        let body = json!({ "dashboard_app": { "title": title, "content": content } });
        let req = Req::new(Method::POST, APPS, apps_path(account_id), Auth::User(cred));
        self.send(req.json(body)).await?.json()
    }

    pub async fn update_dashboard_app(
        &self,
        cred: &Credential,
        account_id: i64,
        app_id: i64,
        title: &str,
        content: &[DashboardAppFrame],
    ) -> Result<DashboardApp, ChatwootError> {
        let body = json!({ "dashboard_app": { "title": title, "content": content } });
        let path = format!("{}/{app_id}", apps_path(account_id));
        let req = Req::new(Method::PATCH, APP, path, Auth::User(cred));
        self.send(req.json(body).repeatable()).await?.json()
    }

    pub async fn delete_dashboard_app(
        &self,
        cred: &Credential,
        account_id: i64,
        app_id: i64,
    ) -> Result<(), ChatwootError> {
        let path = format!("{}/{app_id}", apps_path(account_id));
        self.send(Req::new(Method::DELETE, APP, path, Auth::User(cred)))
            .await?;
        Ok(())
    }
}

fn webhooks_path(account_id: i64) -> String {
    format!("/api/v1/accounts/{account_id}/webhooks")
}

fn apps_path(account_id: i64) -> String {
    format!("/api/v1/accounts/{account_id}/dashboard_apps")
}
