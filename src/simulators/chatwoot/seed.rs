//! Seeding from Rust, and the explicit emitters for events that happen outside the API
//! (a customer writes, a contact changes, an inbox is created).

use serde_json::{Map, json};

use super::wire::{ConversationStatus, MessageType, Role, WebhookEvent};
use super::{
    Simulator, api_conversations::add_message, api_platform::insert_account, delivery, model::*,
    payloads,
};

impl Simulator {
    pub fn add_account(&self, name: &str) -> i64 {
        insert_account(&mut self.shared.db(), name)
    }

    /// A user with a fresh 24-char access token and a random password.
    pub fn add_user(&self, name: &str, email: &str) -> SimUser {
        self.add_user_with(name, email, &token(24), &format!("Pw-{}", token(16)))
    }

    /// A user with a chosen token and password (the demo prints these).
    pub fn add_user_with(
        &self,
        name: &str,
        email: &str,
        api_token: &str,
        password: &str,
    ) -> SimUser {
        let mut db = self.shared.db();
        let user = SimUser {
            id: db.next_id(),
            name: name.into(),
            email: email.to_lowercase(),
            api_token: api_token.into(),
            password: password.into(),
            sessions: Vec::new(),
            custom_attributes: Map::new(),
            display_name: None,
        };
        db.users.insert(user.id, user.clone());
        user
    }

    /// Adds the membership, or changes its role.
    pub fn add_member(&self, account_id: i64, user_id: i64, role: Role) {
        let mut db = self.shared.db();
        let id = db.next_id();
        match db
            .members
            .iter_mut()
            .find(|m| m.account_id == account_id && m.user_id == user_id)
        {
            Some(existing) => existing.role = role,
            None => db.members.push(SimMember {
                id,
                account_id,
                user_id,
                role,
            }),
        }
    }

    /// Suspended accounts answer 401 to their members.
    pub fn suspend_account(&self, account_id: i64) {
        if let Some(account) = self.shared.db().accounts.get_mut(&account_id) {
            account.status = "suspended".into();
        }
    }

    /// `channel_type` is Chatwoot's class name, e.g. `Channel::Whatsapp`.
    pub fn add_inbox(
        &self,
        account_id: i64,
        name: &str,
        channel_type: &str,
        phone: Option<&str>,
    ) -> i64 {
        let mut db = self.shared.db();
        let (id, channel_id) = (db.next_id(), db.next_id());
        db.inboxes.insert(
            id,
            SimInbox {
                id,
                account_id,
                name: name.into(),
                channel_type: channel_type.into(),
                phone_number: phone.map(str::to_owned),
                members: Default::default(),
                channel_id,
                created_at: now(),
            },
        );
        id
    }

    /// Makes the agent a member of the inbox.
    pub fn add_inbox_member(&self, inbox_id: i64, user_id: i64) {
        if let Some(inbox) = self.shared.db().inboxes.get_mut(&inbox_id) {
            inbox.members.insert(user_id);
        }
    }

    pub fn add_team(&self, account_id: i64, name: &str, members: &[i64]) -> i64 {
        let mut db = self.shared.db();
        let id = db.next_id();
        let members = members.iter().copied().collect();
        db.teams.insert(
            id,
            SimTeam {
                id,
                account_id,
                name: name.into(),
                members,
            },
        );
        id
    }

    pub fn remove_team(&self, team_id: i64) {
        self.shared.db().teams.remove(&team_id);
    }

    pub fn rename_team(&self, team_id: i64, name: &str) {
        if let Some(team) = self.shared.db().teams.get_mut(&team_id) {
            team.name = name.into();
        }
    }

    /// Titles are stored downcased, as Chatwoot does.
    pub fn add_label(&self, account_id: i64, title: &str) -> i64 {
        let mut db = self.shared.db();
        let id = db.next_id();
        let title = title.to_lowercase();
        db.labels.insert(
            id,
            SimLabel {
                id,
                account_id,
                title,
                color: "#1f93ff".into(),
            },
        );
        id
    }

    /// A new contact and an open, unassigned conversation with no messages. Returns the
    /// per-account display id. Emits nothing (see `emit_conversation_created`).
    pub fn add_conversation(
        &self,
        account_id: i64,
        inbox_id: i64,
        contact_name: &str,
        contact_phone: Option<&str>,
    ) -> i64 {
        let mut db = self.shared.db();
        let Some(account) = db.accounts.get_mut(&account_id) else {
            panic!("add_conversation: no account {account_id}");
        };
        let display_id = account.next_display_id;
        account.next_display_id += 1;
        let (contact_id, contact_inbox_id, id) = (db.next_id(), db.next_id(), db.next_id());
        db.contacts.insert(
            contact_id,
            SimContact {
                id: contact_id,
                account_id,
                name: contact_name.into(),
                phone_number: contact_phone.map(str::to_owned),
                email: None,
                custom_attributes: Map::new(),
            },
        );
        let created_at = now();
        db.conversations.insert(
            id,
            SimConversation {
                id,
                account_id,
                display_id,
                inbox_id,
                contact_id,
                status: ConversationStatus::Open,
                priority: None,
                labels: Vec::new(),
                assignee_id: None,
                team_id: None,
                custom_attributes: Map::new(),
                messages: Vec::new(),
                contact_inbox_id,
                source_id: uuid::Uuid::new_v4().to_string(),
                uuid: uuid::Uuid::new_v4().to_string(),
                created_at,
                updated_at: created_at,
            },
        );
        display_id
    }

    /// The contact writes `content`; nothing is emitted. Returns the message id.
    pub fn add_incoming_message(&self, account_id: i64, display_id: i64, content: &str) -> i64 {
        let mut db = self.shared.db();
        let contact = db
            .conversation(account_id, display_id)
            .map(|c| c.contact_id);
        let contact =
            contact.unwrap_or_else(|| panic!("no conversation {account_id}/{display_id}"));
        add_message(
            &mut db,
            account_id,
            display_id,
            content.into(),
            MessageType::Incoming,
            Sender::Contact(contact),
            false,
        )
    }

    /// A platform app (as a super admin would create it); returns its access token.
    pub fn add_platform_app(&self, name: &str) -> String {
        let mut db = self.shared.db();
        let (id, token) = (db.next_id(), token(24));
        let app = PlatformApp {
            token: token.clone(),
            accounts: Default::default(),
            users: Default::default(),
        };
        db.platform_apps.insert(id, app);
        tracing::debug!(name, id, "simulator platform app added");
        token
    }

    pub fn emit_conversation_created(&self, account_id: i64, display_id: i64) {
        let db = self.shared.db();
        let event = WebhookEvent::ConversationCreated;
        delivery::conversation_event(&self.shared, &db, account_id, display_id, event, vec![]);
    }

    /// The contact writes `content` and `message_created` goes out. Returns the message id.
    pub fn emit_message_created(&self, account_id: i64, display_id: i64, content: &str) -> i64 {
        let id = self.add_incoming_message(account_id, display_id, content);
        let db = self.shared.db();
        let conv = db
            .conversation(account_id, display_id)
            .expect("message was just added");
        let message = conv.messages.last().expect("message was just added");
        let payload = payloads::message_webhook(&db, conv, message);
        delivery::emit(
            &self.shared,
            &db,
            account_id,
            WebhookEvent::MessageCreated,
            payload,
        );
        id
    }

    /// Renames the contact and emits `contact_updated` with the change.
    pub fn emit_contact_updated(&self, account_id: i64, contact_id: i64, name: &str) {
        let mut db = self.shared.db();
        let Some(contact) = db
            .contacts
            .get_mut(&contact_id)
            .filter(|c| c.account_id == account_id)
        else {
            panic!("no contact {contact_id} in account {account_id}");
        };
        let previous = std::mem::replace(&mut contact.name, name.into());
        let contact = contact.clone();
        let mut payload = payloads::contact_webhook(&db, &contact);
        payload.insert(
            "changed_attributes".into(),
            json!([delivery::change("name", previous, name)]),
        );
        delivery::emit(
            &self.shared,
            &db,
            account_id,
            WebhookEvent::ContactUpdated,
            payload,
        );
    }

    pub fn emit_inbox_created(&self, account_id: i64, inbox_id: i64) {
        let db = self.shared.db();
        let Some(inbox) = db
            .inboxes
            .get(&inbox_id)
            .filter(|i| i.account_id == account_id)
        else {
            panic!("no inbox {inbox_id} in account {account_id}");
        };
        let payload = payloads::inbox_webhook(inbox);
        delivery::emit(
            &self.shared,
            &db,
            account_id,
            WebhookEvent::InboxCreated,
            payload,
        );
    }
}
