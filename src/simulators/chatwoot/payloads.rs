//! Conversation, message and contact JSON in the shapes Chatwoot uses: the REST
//! conversation (FACTS §3), the webhook conversation (§1a), push-format messages (§1c),
//! webhook messages (§1b) and contact/inbox webhook data (§1d).

use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::model::{Db, Sender, SimContact, SimConversation, SimInbox, SimMessage};
use super::wire::MessageType;

/// ISO-8601 with milliseconds, as Rails renders timestamps.
pub(super) fn iso(t: OffsetDateTime) -> String {
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&Rfc3339).unwrap_or_default()
}

pub(super) fn unix(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// Rails' float epoch (`updated_at` in webhook conversations).
pub(super) fn unix_float(t: OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

fn message_type_number(kind: MessageType) -> i64 {
    match kind {
        MessageType::Incoming => 0,
        MessageType::Outgoing => 1,
        MessageType::Activity => 2,
        MessageType::Template => 3,
    }
}

pub(super) fn message_type_name(kind: MessageType) -> &'static str {
    match kind {
        MessageType::Incoming => "incoming",
        MessageType::Outgoing => "outgoing",
        MessageType::Activity => "activity",
        MessageType::Template => "template",
    }
}

/// A contact as conversation `meta.sender` and push senders show it.
pub(super) fn contact_push(contact: &SimContact) -> Value {
    json!({
        "additional_attributes": {},
        "custom_attributes": contact.custom_attributes,
        "email": contact.email,
        "id": contact.id,
        "identifier": null,
        "name": contact.name,
        "phone_number": contact.phone_number,
        "thumbnail": "",
        "blocked": false,
        "type": "contact",
    })
}

/// `Contact#webhook_data`: the account, an avatar, and no `type` key.
pub(super) fn contact_webhook(db: &Db, contact: &SimContact) -> Map<String, Value> {
    let mut data = as_map(contact_push(contact));
    data.remove("type");
    data.insert("avatar".into(), json!(""));
    data.insert("account".into(), account_ref(db, contact.account_id));
    data
}

pub(super) fn user_push(db: &Db, user_id: i64) -> Value {
    let Some(user) = db.users.get(&user_id) else {
        return Value::Null;
    };
    json!({
        "id": user.id,
        "name": user.name,
        "available_name": user.display_name.as_deref().unwrap_or(&user.name),
        "avatar_url": "",
        "type": "user",
        "availability_status": "online",
        "thumbnail": "",
    })
}

fn account_ref(db: &Db, account_id: i64) -> Value {
    let name = db.accounts.get(&account_id).map(|a| a.name.as_str());
    json!({ "id": account_id, "name": name })
}

fn meta(db: &Db, conv: &SimConversation) -> Map<String, Value> {
    let sender = db.contacts.get(&conv.contact_id).map(contact_push);
    let team = conv
        .team_id
        .and_then(|id| db.teams.get(&id))
        .map(|t| json!({ "id": t.id, "name": t.name }));
    as_map(json!({
        "sender": sender,
        "assignee": conv.assignee_id.map(|id| user_push(db, id)),
        "assignee_type": conv.assignee_id.map(|_| "User"),
        "team": team,
        "hmac_verified": false,
    }))
}

/// The last public, non-activity message: what `messages[]` carries in webhooks.
fn last_chat_message(conv: &SimConversation) -> Option<&SimMessage> {
    conv.messages
        .iter()
        .rev()
        .find(|m| !m.private && m.message_type != MessageType::Activity)
}

fn last_activity(conv: &SimConversation) -> OffsetDateTime {
    conv.messages
        .last()
        .map_or(conv.created_at, |m| m.created_at)
}

fn first_reply(conv: &SimConversation) -> Option<String> {
    conv.messages
        .iter()
        .find(|m| m.message_type == MessageType::Outgoing && !m.private)
        .map(|m| iso(m.created_at))
}

fn unread(conv: &SimConversation) -> usize {
    conv.messages
        .iter()
        .rev()
        .take_while(|m| m.message_type == MessageType::Incoming)
        .count()
}

/// Keys shared by the REST and the webhook conversation.
fn conversation_common(db: &Db, conv: &SimConversation) -> Map<String, Value> {
    let last = unix(last_activity(conv));
    let channel = db
        .inboxes
        .get(&conv.inbox_id)
        .map(|i| i.channel_type.clone());
    as_map(json!({
        "id": conv.display_id,
        "inbox_id": conv.inbox_id,
        "additional_attributes": {},
        "can_reply": true,
        "channel": channel,
        "status": conv.status,
        "priority": conv.priority,
        "labels": conv.labels,
        "custom_attributes": conv.custom_attributes,
        "snoozed_until": null,
        "unread_count": unread(conv),
        "first_reply_created_at": first_reply(conv),
        "waiting_since": if unread(conv) > 0 { last } else { 0 },
        "agent_last_seen_at": 0,
        "contact_last_seen_at": 0,
        "last_activity_at": last,
        "timestamp": last,
        "created_at": unix(conv.created_at),
    }))
}

/// `GET …/conversations/:id` and list items.
pub(super) fn conversation_rest(db: &Db, conv: &SimConversation) -> Value {
    let mut body = conversation_common(db, conv);
    let mut meta = meta(db, conv);
    meta.insert("channel".into(), body.remove("channel").unwrap_or_default());
    body.insert("meta".into(), Value::Object(meta));
    body.insert("account_id".into(), json!(conv.account_id));
    body.insert("uuid".into(), json!(conv.uuid));
    body.insert("muted".into(), json!(false));
    body.insert("updated_at".into(), json!(unix_float(conv.updated_at)));
    let messages: Vec<Value> = last_chat_message(conv)
        .map(|m| message_push(db, conv, m))
        .into_iter()
        .collect();
    body.insert("messages".into(), json!(messages));
    Value::Object(body)
}

/// `conversation.webhook_data`: no `account_id`/`uuid`, the contact inbox row, float
/// `updated_at`.
pub(super) fn conversation_webhook(db: &Db, conv: &SimConversation) -> Map<String, Value> {
    let mut body = conversation_common(db, conv);
    body.insert("meta".into(), Value::Object(meta(db, conv)));
    body.insert(
        "contact_inbox".into(),
        json!({
            "id": conv.contact_inbox_id,
            "contact_id": conv.contact_id,
            "inbox_id": conv.inbox_id,
            "source_id": conv.source_id,
            "created_at": iso(conv.created_at),
            "updated_at": iso(conv.created_at),
            "hmac_verified": false,
            "pubsub_token": conv.uuid.replace('-', "").get(..24),
        }),
    );
    let messages: Vec<Value> = last_chat_message(conv)
        .map(|m| message_push(db, conv, m))
        .into_iter()
        .collect();
    body.insert("messages".into(), json!(messages));
    body.insert("updated_at".into(), json!(unix_float(conv.updated_at)));
    body
}

/// `Message#push_event_data`: integer `message_type`, unix `created_at`, display id as
/// `conversation_id`. Also what the REST API answers for a created message.
pub(super) fn message_push(db: &Db, conv: &SimConversation, msg: &SimMessage) -> Value {
    let (sender_type, sender_id, sender) = match msg.sender {
        Sender::Contact(id) => ("Contact", id, db.contacts.get(&id).map(contact_push)),
        Sender::User(id) => ("User", id, Some(user_push(db, id))),
    };
    json!({
        "id": msg.id,
        "content": msg.content,
        "account_id": conv.account_id,
        "inbox_id": conv.inbox_id,
        "conversation_id": conv.display_id,
        "message_type": message_type_number(msg.message_type),
        "created_at": unix(msg.created_at),
        "updated_at": iso(msg.created_at),
        "private": msg.private,
        "status": "sent",
        "source_id": null,
        "content_type": "text",
        "content_attributes": {},
        "sender_type": sender_type,
        "sender_id": sender_id,
        "external_source_ids": {},
        "additional_attributes": {},
        "processed_message_content": msg.content,
        "sentiment": {},
        "conversation": {
            "assignee_id": conv.assignee_id,
            "unread_count": unread(conv),
            "last_activity_at": unix(last_activity(conv)),
            "contact_inbox": { "source_id": conv.source_id },
        },
        "sender": sender,
    })
}

/// `Message#webhook_data` (without `event`).
pub(super) fn message_webhook(
    db: &Db,
    conv: &SimConversation,
    msg: &SimMessage,
) -> Map<String, Value> {
    let sender = match msg.sender {
        Sender::Contact(id) => db
            .contacts
            .get(&id)
            .map(|c| Value::Object(contact_webhook(db, c))),
        Sender::User(id) => db
            .users
            .get(&id)
            .map(|u| json!({ "id": u.id, "name": u.name, "email": u.email, "type": "user" })),
    };
    let inbox = db
        .inboxes
        .get(&conv.inbox_id)
        .map(|i| json!({ "id": i.id, "name": i.name }));
    as_map(json!({
        "account": account_ref(db, conv.account_id),
        "additional_attributes": {},
        "content_attributes": {},
        "content_type": "text",
        "content": msg.content,
        "conversation": conversation_webhook(db, conv),
        "created_at": iso(msg.created_at),
        "id": msg.id,
        "inbox": inbox,
        "message_type": message_type_name(msg.message_type),
        "private": msg.private,
        "sender": sender,
        "source_id": null,
    }))
}

/// `Inbox::EventDataPresenter#push_data`: settings plus the channel record; no top-level
/// inbox id or name (Chatwoot sends none either).
pub(super) fn inbox_webhook(inbox: &SimInbox) -> Map<String, Value> {
    as_map(json!({
        "channel": {
            "id": inbox.channel_id,
            "account_id": inbox.account_id,
            "phone_number": inbox.phone_number,
            "created_at": iso(inbox.created_at),
            "updated_at": iso(inbox.created_at),
        },
        "greeting_enabled": false,
        "greeting_message": null,
        "working_hours_enabled": false,
        "timezone": "UTC",
        "enable_auto_assignment": true,
        "csat_survey_enabled": false,
        "allow_messages_after_resolved": true,
        "lock_to_single_conversation": false,
        "created_at": iso(inbox.created_at),
        "updated_at": iso(inbox.created_at),
    }))
}

pub(super) fn as_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}
