//! The simulator's tables. Rows are public so tests can inspect them (cloned) through
//! `Simulator`'s helpers; only the simulator mutates them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::wire::{ConversationStatus, MessageType, Priority, Role};

#[derive(Debug, Clone)]
pub struct SimAccount {
    pub id: i64,
    pub name: String,
    pub locale: String,
    pub status: String,
    pub support_email: Option<String>,
    pub custom_attributes: Map<String, Value>,
    pub created_at: OffsetDateTime,
    pub(super) next_display_id: i64,
}

/// A user with every way to authenticate: an access token, a password for
/// `/auth/sign_in`, and the devise sessions that sign-ins created.
#[derive(Debug, Clone)]
pub struct SimUser {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub api_token: String,
    pub password: String,
    pub(super) sessions: Vec<Session>,
    pub(super) custom_attributes: Map<String, Value>,
    pub(super) display_name: Option<String>,
}

#[derive(Debug, Clone)]
pub(super) struct Session {
    pub client: String,
    pub access_token: String,
    pub expiry: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct SimMember {
    pub account_id: i64,
    pub user_id: i64,
    pub role: Role,
    pub(super) id: i64,
}

#[derive(Debug, Clone)]
pub struct SimInbox {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub channel_type: String,
    pub phone_number: Option<String>,
    /// Agents who work this inbox (administrators see every inbox without being members).
    pub members: BTreeSet<i64>,
    pub(super) channel_id: i64,
    pub(super) created_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct SimTeam {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub members: BTreeSet<i64>,
}

#[derive(Debug, Clone)]
pub struct SimLabel {
    pub id: i64,
    pub account_id: i64,
    pub title: String,
    pub color: String,
}

#[derive(Debug, Clone)]
pub struct SimContact {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub phone_number: Option<String>,
    pub email: Option<String>,
    pub custom_attributes: Map<String, Value>,
}

#[derive(Debug, Clone)]
pub struct SimConversation {
    pub id: i64,
    pub account_id: i64,
    pub display_id: i64,
    pub inbox_id: i64,
    pub contact_id: i64,
    pub status: ConversationStatus,
    pub priority: Option<Priority>,
    pub labels: Vec<String>,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub custom_attributes: Map<String, Value>,
    pub messages: Vec<SimMessage>,
    pub(super) contact_inbox_id: i64,
    pub(super) source_id: String,
    pub(super) uuid: String,
    pub(super) created_at: OffsetDateTime,
    pub(super) updated_at: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct SimMessage {
    pub id: i64,
    pub content: String,
    pub message_type: MessageType,
    pub private: bool,
    pub sender: Sender,
    pub(super) created_at: OffsetDateTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Contact(i64),
    User(i64),
}

#[derive(Debug, Clone)]
pub struct SimWebhook {
    pub id: i64,
    pub account_id: i64,
    pub name: Option<String>,
    pub url: String,
    pub subscriptions: Vec<String>,
    pub secret: String,
}

#[derive(Debug, Clone)]
pub struct SimDashboardApp {
    pub id: i64,
    pub account_id: i64,
    pub user_id: i64,
    pub title: String,
    pub content: Value,
    pub(super) created_at: OffsetDateTime,
}

/// A platform app and the accounts and users it created (its permissibles).
#[derive(Debug, Clone)]
pub(super) struct PlatformApp {
    pub token: String,
    pub accounts: BTreeSet<i64>,
    pub users: BTreeSet<i64>,
}

/// The whole installation. One id sequence for every table keeps ids unique and easy
/// to tell apart in test output.
#[derive(Debug, Default)]
pub(super) struct Db {
    seq: i64,
    pub accounts: BTreeMap<i64, SimAccount>,
    pub users: BTreeMap<i64, SimUser>,
    pub members: Vec<SimMember>,
    pub inboxes: BTreeMap<i64, SimInbox>,
    pub teams: BTreeMap<i64, SimTeam>,
    pub labels: BTreeMap<i64, SimLabel>,
    pub contacts: BTreeMap<i64, SimContact>,
    pub conversations: BTreeMap<i64, SimConversation>,
    pub webhooks: BTreeMap<i64, SimWebhook>,
    pub dashboard_apps: BTreeMap<i64, SimDashboardApp>,
    pub platform_apps: BTreeMap<i64, PlatformApp>,
}

impl Db {
    pub fn next_id(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    pub fn member(&self, account_id: i64, user_id: i64) -> Option<&SimMember> {
        self.members
            .iter()
            .find(|m| m.account_id == account_id && m.user_id == user_id)
    }

    pub fn members_of(&self, account_id: i64) -> impl Iterator<Item = &SimMember> {
        self.members
            .iter()
            .filter(move |m| m.account_id == account_id)
    }

    pub fn conversation(&self, account_id: i64, display_id: i64) -> Option<&SimConversation> {
        self.conversations
            .values()
            .find(|c| c.account_id == account_id && c.display_id == display_id)
    }

    pub fn conversation_mut(
        &mut self,
        account_id: i64,
        display_id: i64,
    ) -> Option<&mut SimConversation> {
        self.conversations
            .values_mut()
            .find(|c| c.account_id == account_id && c.display_id == display_id)
    }

    pub fn user_by_email(&self, email: &str) -> Option<&SimUser> {
        self.users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(email.trim()))
    }
}

/// A random alphanumeric token, like Rails' `has_secure_token` (24 chars).
pub(super) fn token(len: usize) -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

pub(super) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}
