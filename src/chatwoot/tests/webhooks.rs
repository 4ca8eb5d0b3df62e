//! Webhooks emitted by the simulator arrive signed, in Chatwoot's shapes.

use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::{Value, json};

use super::{
    Fixture, Receiver,
    shape::{assert_same_shape, sample},
};
use crate::chatwoot::{
    client::{Assignment, ConversationStatus, Priority, WebhookEvent},
    signature,
};

/// An admin webhook at the receiver for `events`; returns its secret.
async fn subscribe(f: &Fixture, rx: &Receiver, events: &[WebhookEvent]) -> String {
    let hook = f
        .client
        .create_webhook(&f.admin_cred(), f.account, &rx.url, "test", events)
        .await
        .unwrap();
    hook.secret.unwrap().expose_secret().to_string()
}

fn header<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> &'a str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}

fn assert_signed(headers: &axum::http::HeaderMap, body: &[u8], secret: &str) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (ts, sig) = (
        header(headers, "x-chatwoot-timestamp"),
        header(headers, "x-chatwoot-signature"),
    );
    assert!(signature::verify(secret.as_bytes(), ts, sig, body, now, 300).is_ok());
    assert_eq!(
        signature::verify(b"wrong", ts, sig, body, now, 300),
        Err(signature::SignatureError::Mismatch)
    );
    assert_eq!(header(headers, "content-type"), "application/json");
    assert!(uuid::Uuid::parse_str(header(headers, "x-chatwoot-delivery")).is_ok());
}

#[tokio::test]
async fn conversation_created_matches_the_sample_and_is_signed() {
    let f = Fixture::new().await;
    let mut rx = Receiver::start().await;
    let secret = subscribe(&f, &rx, &[WebhookEvent::ConversationCreated]).await;
    let display_id = f
        .sim
        .add_conversation(f.account, f.inbox, "wandering-sky-482", None);
    f.sim.emit_conversation_created(f.account, display_id);
    let (headers, body, json) = rx.next_event("conversation_created").await;
    assert_signed(&headers, &body, &secret);
    assert_same_shape("$", &sample("conversation_created"), &json);
    assert_eq!(
        (json["id"].as_i64(), json["inbox_id"].as_i64()),
        (Some(display_id), Some(f.inbox))
    );
    assert!(json["updated_at"].is_f64() && json["created_at"].is_i64());
    assert_eq!(json["channel"], "Channel::Whatsapp");

    let delivered = f.sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert_eq!(
        (
            delivered[0].event.as_str(),
            delivered[0].status,
            delivered[0].signed
        ),
        ("conversation_created", Some(200), true)
    );
    assert_eq!(
        delivered[0].delivery_id,
        header(&headers, "x-chatwoot-delivery")
    );
}

#[tokio::test]
async fn toggle_status_emits_status_changed_then_updated() {
    let f = Fixture::new().await;
    let mut rx = Receiver::start().await;
    let events = [
        WebhookEvent::ConversationStatusChanged,
        WebhookEvent::ConversationUpdated,
    ];
    let secret = subscribe(&f, &rx, &events).await;
    let (cred, acc, id) = (f.admin_cred(), f.account, f.conversation);
    f.client
        .assign(&cred, acc, id, Assignment::Agent(f.agent.id))
        .await
        .unwrap();
    f.client
        .create_message(&cred, acc, id, "Your order ships tomorrow.", false)
        .await
        .unwrap();
    f.client
        .toggle_status(&cred, acc, id, ConversationStatus::Resolved)
        .await
        .unwrap();

    let (headers, body, json) = rx.next_event("conversation_status_changed").await;
    assert_signed(&headers, &body, &secret);
    assert_same_shape("$", &sample("conversation_status_changed"), &json);
    assert_eq!(json["status"], "resolved");
    assert_eq!(json["changed_attributes"], Value::Null);
    assert_eq!(json["meta"]["assignee"]["id"].as_i64(), Some(f.agent.id));
    // The last public message, in push format (integer type, unix created_at).
    assert_eq!(json["messages"][0]["message_type"], 1);
    assert_eq!(json["messages"][0]["conversation_id"].as_i64(), Some(id));

    let (_, _, updated) = rx.next_event("conversation_updated").await;
    let status = json!([{ "status": { "previous_value": "open", "current_value": "resolved" } }]);
    assert_eq!(updated["changed_attributes"], status);
}

#[tokio::test]
async fn updates_carry_changed_attributes() {
    let f = Fixture::new().await;
    let mut rx = Receiver::start().await;
    subscribe(&f, &rx, &[WebhookEvent::ConversationUpdated]).await;
    let (cred, acc, id) = (f.agent_cred(), f.account, f.conversation);

    f.client
        .set_conversation_labels(&cred, acc, id, &["vip".into()])
        .await
        .unwrap();
    let (_, _, json) = rx.next_event("conversation_updated").await;
    let change = json!([{ "label_list": { "previous_value": [], "current_value": ["vip"] } }]);
    assert_eq!(json["changed_attributes"], change);
    assert_eq!(json["labels"], json!(["vip"]));

    f.client
        .assign(&cred, acc, id, Assignment::Team(f.team))
        .await
        .unwrap();
    let (_, _, json) = rx.next_event("conversation_updated").await;
    let change = json!([{ "team_id": { "previous_value": null, "current_value": f.team } }]);
    assert_eq!(json["changed_attributes"], change);
    assert_eq!(
        json["meta"]["team"],
        json!({ "id": f.team, "name": "support" })
    );

    f.client
        .toggle_priority(&cred, acc, id, Some(Priority::High))
        .await
        .unwrap();
    let (_, _, json) = rx.next_event("conversation_updated").await;
    let change = json!([{ "priority": { "previous_value": null, "current_value": "high" } }]);
    assert_eq!(json["changed_attributes"], change);

    // Setting the same labels again changes nothing, so nothing is sent.
    f.client
        .set_conversation_labels(&cred, acc, id, &["vip".into()])
        .await
        .unwrap();
    rx.assert_quiet(300).await;
}

#[tokio::test]
async fn message_created_from_api_and_from_the_contact() {
    let f = Fixture::new().await;
    let mut rx = Receiver::start().await;
    let secret = subscribe(&f, &rx, &[WebhookEvent::MessageCreated]).await;

    f.sim
        .emit_message_created(f.account, f.conversation, "Hi! Where is my order A-3317?");
    let (headers, body, json) = rx.next_event("message_created").await;
    assert_signed(&headers, &body, &secret);
    assert_same_shape("$", &sample("message_created"), &json);
    assert_eq!(
        (
            json["message_type"].as_str(),
            json["created_at"].is_string()
        ),
        (Some("incoming"), true)
    );
    assert!(
        json["sender"].get("type").is_none(),
        "contact senders carry no type"
    );
    assert_eq!(json["conversation"]["id"].as_i64(), Some(f.conversation));

    f.client
        .create_message(&f.agent_cred(), f.account, f.conversation, "note", true)
        .await
        .unwrap();
    let (_, _, json) = rx.next_event("message_created").await;
    assert_eq!(
        (json["message_type"].as_str(), json["private"].as_bool()),
        (Some("outgoing"), Some(true))
    );
    assert_eq!(
        json["sender"],
        json!({ "id": f.agent.id, "name": "Rui Costa", "email": "rui@acme.test", "type": "user" })
    );
}

#[tokio::test]
async fn only_subscribed_webhooks_of_the_account_receive() {
    let f = Fixture::new().await;
    let mut subscribed = Receiver::start().await;
    let mut other = Receiver::start().await;
    subscribe(
        &f,
        &subscribed,
        &[WebhookEvent::ContactUpdated, WebhookEvent::InboxCreated],
    )
    .await;
    subscribe(&f, &other, &[WebhookEvent::ConversationCreated]).await;

    let contact = f
        .sim
        .conversation(f.account, f.conversation)
        .unwrap()
        .contact_id;
    f.sim.emit_contact_updated(f.account, contact, "Joana R.");
    let (_, _, json) = subscribed.next_event("contact_updated").await;
    assert_eq!(
        (json["id"].as_i64(), json["name"].as_str()),
        (Some(contact), Some("Joana R."))
    );
    assert_eq!(json["account"]["name"], "Acme Store");
    let change =
        json!([{ "name": { "previous_value": "Joana Reis", "current_value": "Joana R." } }]);
    assert_eq!(json["changed_attributes"], change);

    f.sim.emit_inbox_created(f.account, f.inbox);
    let (_, _, json) = subscribed.next_event("inbox_created").await;
    assert!(json.get("id").is_none() && json["channel"]["phone_number"] == "+5511999990000");

    other.assert_quiet(300).await;
}

#[tokio::test]
async fn unsigned_mode_sends_no_signature_headers() {
    let f = Fixture::new().await;
    let mut rx = Receiver::start().await;
    f.sim.unsigned(true);
    let events = [WebhookEvent::ConversationCreated];
    let hook = f
        .client
        .create_webhook(&f.admin_cred(), f.account, &rx.url, "old", &events)
        .await
        .unwrap();
    assert!(hook.secret.is_none(), "pre-4.11.2 webhooks have no secret");
    f.sim.emit_conversation_created(f.account, f.conversation);
    let (headers, _, _) = rx.next_event("conversation_created").await;
    assert!(
        headers.get("x-chatwoot-signature").is_none()
            && headers.get("x-chatwoot-timestamp").is_none()
    );
    assert!(headers.get("x-chatwoot-delivery").is_some());
    let delivered = f.sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert!(!delivered[0].signed);
}

#[tokio::test]
async fn failed_deliveries_are_recorded_not_retried() {
    let f = Fixture::new().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/gone");
    let events = [WebhookEvent::ConversationCreated];
    f.client
        .create_webhook(&f.admin_cred(), f.account, &url, "gone", &events)
        .await
        .unwrap();
    f.sim.emit_conversation_created(f.account, f.conversation);
    let delivered = f.sim.wait_for_deliveries(1, Duration::from_secs(5)).await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        (delivered[0].status, delivered[0].error.is_some()),
        (None, true)
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(f.sim.deliveries().len(), 1);
}
