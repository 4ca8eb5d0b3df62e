//! `POST /api/v1/accounts/{id}/inboxes` (administrators): an API channel
//! (`{type: "api", webhook_url}`, what bridges such as Evolution's make) or a WhatsApp
//! Cloud channel (`{type: "whatsapp", phone_number, provider: "whatsapp_cloud",
//! provider_config: {api_key, phone_number_id, business_account_id}}`). Chatwoot validates
//! the Cloud credentials against Meta; the simulator only asks they be there, and that the
//! phone number is not taken by another WhatsApp channel.

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
};
use serde_json::Value;

use super::{
    auth::{ApiError, ApiResult, admin},
    model::{SimInbox, now},
    render,
    routes::{Sim, json_body},
};

pub(super) async fn create(
    State(sim): State<Sim>,
    Path(account_id): Path<i64>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let mut db = sim.db();
    admin(&db, &headers, account_id)?;
    let name = body["name"].as_str().unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return Err(ApiError::invalid("Name can't be blank", "name"));
    }
    let channel = &body["channel"];
    let (channel_type, phone_number) = match channel["type"].as_str() {
        Some("api") => ("Channel::Api", None),
        Some("whatsapp") => {
            let config = &channel["provider_config"];
            let complete = ["api_key", "phone_number_id", "business_account_id"]
                .iter()
                .all(|key| config[*key].as_str().is_some_and(|v| !v.is_empty()));
            let phone = channel["phone_number"].as_str().unwrap_or_default();
            if !complete || channel["provider"] != "whatsapp_cloud" || phone.is_empty() {
                return Err(ApiError::invalid(
                    "Invalid provider config",
                    "provider_config",
                ));
            }
            let taken = db
                .inboxes
                .values()
                .any(|i| i.phone_number.as_deref() == Some(phone));
            if taken {
                return Err(ApiError::invalid(
                    "Phone number has already been taken",
                    "phone_number",
                ));
            }
            ("Channel::Whatsapp", Some(phone.to_string()))
        }
        _ => return Err(ApiError::bad_request("Invalid channel type")),
    };
    let (id, channel_id) = (db.next_id(), db.next_id());
    let inbox = SimInbox {
        id,
        account_id,
        name,
        channel_type: channel_type.into(),
        phone_number,
        members: Default::default(),
        channel_id,
        created_at: now(),
    };
    let rendered = render::inbox(&inbox);
    db.inboxes.insert(id, inbox);
    Ok(Json(rendered))
}
