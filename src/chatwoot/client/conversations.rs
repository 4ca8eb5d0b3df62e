//! Conversation calls of the Application API. `display_id` is the per-account number
//! Chatwoot shows in URLs and webhooks.

use reqwest::Method;
use serde_json::json;

use super::{
    ChatwootClient, ChatwootError, Credential,
    conversation_types::*,
    transport::{Auth, Data, Payload, Req},
    types::Attributes,
};

impl ChatwootClient {
    pub async fn conversation(
        &self,
        cred: &Credential,
        account_id: i64,
        display_id: i64,
    ) -> Result<Conversation, ChatwootError> {
        let path = format!("/api/v1/accounts/{account_id}/conversations/{display_id}");
        self.get(cred, CONVERSATION, path).await
    }

    /// One page (25 per page in Chatwoot) plus the counts of the whole filter.
    pub async fn conversations(
        &self,
        cred: &Credential,
        account_id: i64,
        filter: &ConversationFilter,
    ) -> Result<ConversationPage, ChatwootError> {
        let path = format!("/api/v1/accounts/{account_id}/conversations");
        let mut req = Req::new(
            Method::GET,
            "/api/v1/accounts/{account_id}/conversations",
            path,
            Auth::User(cred),
        );
        if let Some(page) = filter.page {
            req = req.query("page", page);
        }
        match filter.status {
            Some(StatusFilter::Is(status)) => req = req.query("status", status.as_str()),
            Some(StatusFilter::All) => req = req.query("status", "all"),
            None => {}
        }
        if let Some(inbox_id) = filter.inbox_id {
            req = req.query("inbox_id", inbox_id);
        }
        let Data { data } = self.send(req).await?.json::<Data<ConversationPage>>()?;
        Ok(data)
    }

    /// Sets the status (an explicit status, so repeating it is harmless).
    pub async fn toggle_status(
        &self,
        cred: &Credential,
        account_id: i64,
        display_id: i64,
        status: ConversationStatus,
    ) -> Result<StatusChange, ChatwootError> {
        let path = format!(
            "{}/toggle_status",
            conversation_path(account_id, display_id)
        );
        let req = Req::new(
            Method::POST,
            "/api/v1/accounts/{account_id}/conversations/{display_id}/toggle_status",
            path,
            Auth::User(cred),
        );
        let reply = self
            .send(req.json(json!({ "status": status })).repeatable())
            .await?;
        Ok(reply.json::<Payload<StatusChange>>()?.payload)
    }

    /// `None` clears the priority. Chatwoot answers with an empty body.
    pub async fn toggle_priority(
        &self,
        cred: &Credential,
        account_id: i64,
        display_id: i64,
        priority: Option<Priority>,
    ) -> Result<(), ChatwootError> {
        let path = format!(
            "{}/toggle_priority",
            conversation_path(account_id, display_id)
        );
        let req = Req::new(
            Method::POST,
            "/api/v1/accounts/{account_id}/conversations/{display_id}/toggle_priority",
            path,
            Auth::User(cred),
        );
        self.send(req.json(json!({ "priority": priority })).repeatable())
            .await?;
        Ok(())
    }

    pub async fn assign(
        &self,
        cred: &Credential,
        account_id: i64,
        display_id: i64,
        to: Assignment,
    ) -> Result<Assigned, ChatwootError> {
        let path = format!("{}/assignments", conversation_path(account_id, display_id));
        let body = match to {
            Assignment::Agent(id) => json!({ "assignee_id": id }),
            Assignment::Team(id) => json!({ "team_id": id }),
        };
        let req = Req::new(
            Method::POST,
            "/api/v1/accounts/{account_id}/conversations/{display_id}/assignments",
            path,
            Auth::User(cred),
        );
        let reply = self.send(req.json(body).repeatable()).await?;
        Ok(match (to, reply.json::<Option<serde_json::Value>>()?) {
            (_, None) => Assigned::Nobody,
            (Assignment::Agent(_), Some(_)) => Assigned::Agent(reply.json()?),
            (Assignment::Team(_), Some(_)) => Assigned::Team(reply.json()?),
        })
    }

    pub async fn conversation_labels(
        &self,
        cred: &Credential,
        account_id: i64,
        display_id: i64,
    ) -> Result<Vec<String>, ChatwootError> {
        let path = format!("{}/labels", conversation_path(account_id, display_id));
        let list: Payload<_> = self.get(cred, CONVERSATION_LABELS, path).await?;
        Ok(list.payload)
    }

    /// Replaces the whole label set; answers the labels now on the conversation.
    pub async fn set_conversation_labels(
        &self,
        cred: &Credential,
        account_id: i64,
        display_id: i64,
        labels: &[String],
    ) -> Result<Vec<String>, ChatwootError> {
        let path = format!("{}/labels", conversation_path(account_id, display_id));
        let req = Req::new(Method::POST, CONVERSATION_LABELS, path, Auth::User(cred));
        let reply = self
            .send(req.json(json!({ "labels": labels })).repeatable())
            .await?;
        Ok(reply.json::<Payload<Vec<String>>>()?.payload)
    }

    /// Replaces the conversation's custom attributes hash.
    pub async fn set_custom_attributes(
        &self,
        cred: &Credential,
        account_id: i64,
        display_id: i64,
        attributes: &Attributes,
    ) -> Result<(), ChatwootError> {
        let path = format!(
            "{}/custom_attributes",
            conversation_path(account_id, display_id)
        );
        let req = Req::new(
            Method::POST,
            "/api/v1/accounts/{account_id}/conversations/{display_id}/custom_attributes",
            path,
            Auth::User(cred),
        );
        self.send(
            req.json(json!({ "custom_attributes": attributes }))
                .repeatable(),
        )
        .await?;
        Ok(())
    }

    /// Sends an outgoing message (`private: true` = internal note). Never retried: a
    /// repeat would post the message twice.
    pub async fn create_message(
        &self,
        cred: &Credential,
        account_id: i64,
        display_id: i64,
        content: &str,
        private: bool,
    ) -> Result<Message, ChatwootError> {
        let path = format!("{}/messages", conversation_path(account_id, display_id));
        let body = json!({ "content": content, "message_type": "outgoing", "private": private });
        let req = Req::new(
            Method::POST,
            "/api/v1/accounts/{account_id}/conversations/{display_id}/messages",
            path,
            Auth::User(cred),
        );
        self.send(req.json(body)).await?.json()
    }
}

const CONVERSATION: &str = "/api/v1/accounts/{account_id}/conversations/{display_id}";
const CONVERSATION_LABELS: &str = "/api/v1/accounts/{account_id}/conversations/{display_id}/labels";

fn conversation_path(account_id: i64, display_id: i64) -> String {
    format!("/api/v1/accounts/{account_id}/conversations/{display_id}")
}
