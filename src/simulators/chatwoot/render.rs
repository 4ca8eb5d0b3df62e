//! REST JSON for users, accounts and account resources (FACTS §5, §6).

use serde_json::{Value, json};

use super::{
    model::{Db, SimAccount, SimDashboardApp, SimInbox, SimMember, SimTeam, SimUser, SimWebhook},
    payloads::iso,
};

fn active_membership(db: &Db, user: &SimUser) -> Option<SimMember> {
    db.members.iter().find(|m| m.user_id == user.id).copied()
}

/// `GET /api/v1/profile` (`_user.json.jbuilder`).
pub(super) fn profile(db: &Db, user: &SimUser) -> Value {
    let active = active_membership(db, user);
    let accounts: Vec<Value> = db
        .members
        .iter()
        .filter(|m| m.user_id == user.id)
        .filter_map(|m| {
            let account = db.accounts.get(&m.account_id)?;
            Some(json!({
                "id": account.id,
                "name": account.name,
                "status": account.status,
                "active_at": null,
                "role": m.role,
                "permissions": [m.role],
                "availability": "online",
                "availability_status": "online",
                "auto_offline": true,
            }))
        })
        .collect();
    json!({
        "id": user.id,
        "name": user.name,
        "display_name": user.display_name,
        "available_name": user.display_name.as_deref().unwrap_or(&user.name),
        "email": user.email,
        "uid": user.email,
        "avatar_url": "",
        "confirmed": true,
        "provider": "email",
        "pubsub_token": format!("pubsub-{}", user.id),
        "access_token": user.api_token,
        "account_id": active.map(|m| m.account_id),
        "role": active.map(|m| m.role),
        "inviter_id": null,
        "message_signature": null,
        "ui_settings": {},
        "type": "user",
        "custom_attributes": user.custom_attributes,
        "accounts": accounts,
    })
}

/// `devise/_auth.json.jbuilder`: the `data` of `/auth/sign_in` and `validate_token`.
pub(super) fn auth_data(db: &Db, user: &SimUser) -> Value {
    let active = active_membership(db, user);
    let accounts: Vec<Value> = db
        .members
        .iter()
        .filter(|m| m.user_id == user.id)
        .filter_map(|m| {
            let account = db.accounts.get(&m.account_id)?;
            Some(json!({ "id": account.id, "name": account.name, "active_at": null, "role": m.role }))
        })
        .collect();
    json!({
        "id": user.id,
        "provider": "email",
        "uid": user.email,
        "name": user.name,
        "nickname": null,
        "email": user.email,
        "account_id": active.map(|m| m.account_id),
        "pubsub_token": format!("pubsub-{}", user.id),
        "role": active.map(|m| m.role),
        "inviter_id": null,
        "confirmed": true,
        "avatar_url": "",
        "accounts": accounts,
    })
}

/// `GET /api/v1/accounts/:id`.
pub(super) fn account(account: &SimAccount) -> Value {
    json!({
        "id": account.id,
        "name": account.name,
        "locale": account.locale,
        "domain": null,
        "support_email": account.support_email,
        "status": account.status,
        "features": {},
        "settings": {},
        "created_at": iso(account.created_at),
        "cache_keys": {},
        "custom_attributes": account.custom_attributes,
        "latest_chatwoot_version": "4.13.0",
    })
}

/// The Platform API's account JSON.
pub(super) fn platform_account(account: &SimAccount) -> Value {
    json!({
        "id": account.id,
        "name": account.name,
        "locale": account.locale,
        "domain": null,
        "support_email": account.support_email,
        "features": {},
        "custom_attributes": account.custom_attributes,
        "limits": {},
        "status": account.status,
    })
}

/// The Platform API's user JSON: the profile shape with slim `accounts[]`.
pub(super) fn platform_user(db: &Db, user: &SimUser) -> Value {
    let mut body = profile(db, user);
    body["accounts"] = json!(
        db.members
            .iter()
            .filter(|m| m.user_id == user.id)
            .map(|m| json!({
                "id": m.account_id,
                "name": db.accounts.get(&m.account_id).map(|a| a.name.clone()),
                "active_at": null,
                "role": m.role,
            }))
            .collect::<Vec<_>>()
    );
    body
}

pub(super) fn account_user(member: &SimMember) -> Value {
    json!({
        "id": member.id,
        "account_id": member.account_id,
        "user_id": member.user_id,
        "role": member.role,
        "inviter_id": null,
        "availability": "online",
        "auto_offline": true,
        "active_at": null,
    })
}

pub(super) fn inbox(inbox: &SimInbox) -> Value {
    let mut body = json!({
        "id": inbox.id,
        "name": inbox.name,
        "channel_id": inbox.channel_id,
        "channel_type": inbox.channel_type,
        "avatar_url": "",
        "greeting_enabled": false,
        "greeting_message": null,
        "working_hours_enabled": false,
        "enable_auto_assignment": true,
        "csat_survey_enabled": false,
        "allow_messages_after_resolved": true,
        "lock_to_single_conversation": false,
        "timezone": "UTC",
    });
    if inbox.phone_number.is_some() {
        body["phone_number"] = json!(inbox.phone_number);
    }
    if inbox.channel_type == "Channel::WebWidget" {
        body["website_token"] = json!(format!("widget-{}", inbox.id));
        body["widget_color"] = json!("#1f93ff");
    }
    body
}

/// `_agent.json.jbuilder`; `None` when the member's user is gone.
pub(super) fn agent(db: &Db, member: &SimMember) -> Option<Value> {
    let user = db.users.get(&member.user_id)?;
    Some(json!({
        "id": user.id,
        "account_id": member.account_id,
        "name": user.name,
        "available_name": user.display_name.as_deref().unwrap_or(&user.name),
        "email": user.email,
        "role": member.role,
        "availability_status": "online",
        "auto_offline": true,
        "confirmed": true,
        "provider": "email",
        "thumbnail": "",
    }))
}

/// List form (`is_member` for the caller) and the raw row `assignments` answers with.
pub(super) fn team(team: &SimTeam, viewer: Option<i64>) -> Value {
    let mut body = json!({
        "id": team.id,
        "name": team.name,
        "description": "",
        "allow_auto_assign": true,
        "account_id": team.account_id,
    });
    if let Some(viewer) = viewer {
        body["is_member"] = json!(team.members.contains(&viewer));
    }
    body
}

/// `with_secret: false` renders a pre-4.11.2 webhook, which had no secret.
pub(super) fn webhook(hook: &SimWebhook, with_secret: bool) -> Value {
    let mut body = json!({
        "id": hook.id,
        "name": hook.name,
        "url": hook.url,
        "account_id": hook.account_id,
        "subscriptions": hook.subscriptions,
    });
    if with_secret {
        body["secret"] = json!(hook.secret);
    }
    body
}

pub(super) fn dashboard_app(app: &SimDashboardApp) -> Value {
    json!({
        "id": app.id,
        "title": app.title,
        "content": app.content,
        "created_at": iso(app.created_at),
    })
}
