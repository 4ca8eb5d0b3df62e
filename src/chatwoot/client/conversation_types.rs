//! Conversation and message shapes (FACTS.md §3, §5, §9).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::types::{Agent, Attributes, Team};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Open,
    Resolved,
    Pending,
    Snoozed,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Resolved => "resolved",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Snoozed => "snoozed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
    Urgent,
}

/// A conversation in the REST shape. `id` is the per-account display id.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Conversation {
    pub id: i64,
    #[serde(default)]
    pub account_id: Option<i64>,
    pub inbox_id: i64,
    pub status: ConversationStatus,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub custom_attributes: Attributes,
    #[serde(default)]
    pub meta: ConversationMeta,
    #[serde(default)]
    pub unread_count: i64,
    #[serde(default)]
    pub created_at: Option<i64>,
    #[serde(default)]
    pub last_activity_at: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ConversationMeta {
    #[serde(default)]
    pub sender: Option<Contact>,
    #[serde(default)]
    pub assignee: Option<Assignee>,
    #[serde(default)]
    pub team: Option<TeamRef>,
    #[serde(default)]
    pub channel: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Contact {
    pub id: i64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub identifier: Option<String>,
    /// The avatar's address (`""` when it has none).
    #[serde(default)]
    pub thumbnail: Option<String>,
}

/// The assigned user (or agent bot) as embedded in conversation meta.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Assignee {
    pub id: i64,
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TeamRef {
    pub id: i64,
    pub name: String,
}

/// `GET …/conversations` → `{data:{meta, payload}}`; this is the inner `data`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ConversationPage {
    pub meta: ConversationCounts,
    pub payload: Vec<Conversation>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ConversationCounts {
    #[serde(default)]
    pub mine_count: i64,
    #[serde(default)]
    pub assigned_count: i64,
    #[serde(default)]
    pub unassigned_count: i64,
    #[serde(default)]
    pub all_count: i64,
}

/// Query for `conversations()`. `status: None` means Chatwoot's default (open).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversationFilter {
    pub page: Option<u32>,
    pub status: Option<StatusFilter>,
    pub inbox_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Is(ConversationStatus),
    All,
}

/// `toggle_status` reply payload.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StatusChange {
    pub success: bool,
    pub conversation_id: i64,
    pub current_status: ConversationStatus,
}

/// Who a conversation goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    Agent(i64),
    Team(i64),
}

/// What `assign` answers: the agent or the team it now belongs to, or `Nobody` when the
/// id was not in the account (Chatwoot then unassigns and answers `null`).
#[derive(Debug, Clone, PartialEq)]
pub enum Assigned {
    Agent(Agent),
    Team(Team),
    Nobody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Incoming,
    Outgoing,
    Activity,
    Template,
}

/// A message as the REST API returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Message {
    pub id: i64,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(deserialize_with = "message_type")]
    pub message_type: MessageType,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub conversation_id: Option<i64>,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub created_at: Option<i64>,
}

/// REST messages carry the enum as an integer, webhooks as a string; accept both.
fn message_type<'de, D: Deserializer<'de>>(de: D) -> Result<MessageType, D::Error> {
    use serde::de::Error;
    match Value::deserialize(de)? {
        Value::Number(n) => match n.as_i64() {
            Some(0) => Ok(MessageType::Incoming),
            Some(1) => Ok(MessageType::Outgoing),
            Some(2) => Ok(MessageType::Activity),
            Some(3) => Ok(MessageType::Template),
            _ => Err(D::Error::custom("unknown message_type number")),
        },
        Value::String(s) => match s.as_str() {
            "incoming" => Ok(MessageType::Incoming),
            "outgoing" => Ok(MessageType::Outgoing),
            "activity" => Ok(MessageType::Activity),
            "template" => Ok(MessageType::Template),
            _ => Err(D::Error::custom("unknown message_type")),
        },
        _ => Err(D::Error::custom(
            "message_type must be a number or a string",
        )),
    }
}
