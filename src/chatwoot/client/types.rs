//! Application API shapes (FACTS.md §5). Each struct names the fields the hub reads;
//! serde ignores the rest, so new Chatwoot fields never break decoding.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub type Attributes = Map<String, Value>;

/// `account_users.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Agent => "agent",
        }
    }
}

/// `GET /api/v1/profile`: the signed-in user and one entry per account membership.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Profile {
    pub id: i64,
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// The active account.
    #[serde(default)]
    pub account_id: Option<i64>,
    /// Role in the active account.
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub accounts: Vec<ProfileAccount>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProfileAccount {
    pub id: i64,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub status: Option<String>,
}

/// `GET /api/v1/accounts/:id`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Account {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub support_email: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub custom_attributes: Attributes,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Inbox {
    pub id: i64,
    pub name: String,
    /// `Channel::WebWidget`, `Channel::Whatsapp`, `Channel::Api`, …
    pub channel_type: String,
    #[serde(default)]
    pub channel_id: Option<i64>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub account_id: Option<i64>,
    #[serde(default)]
    pub available_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub role: Role,
    #[serde(default)]
    pub availability_status: Option<String>,
    #[serde(default)]
    pub thumbnail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub allow_auto_assign: bool,
    #[serde(default)]
    pub account_id: Option<i64>,
    #[serde(default)]
    pub is_member: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Label {
    pub id: i64,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub color: Option<String>,
    #[serde(default)]
    pub show_on_sidebar: Option<bool>,
}
