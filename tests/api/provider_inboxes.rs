//! Linking numbers to the account's Chatwoot inboxes: Evolution through its own bridge,
//! Cloud API as Chatwoot's WhatsApp Cloud inbox; one bridge per number, one number per
//! inbox, refused before the provider is asked; the mirror shows the link.

use reqwest::StatusCode;
use serde_json::{Value, json};
use whatpro_hub::simulators::{cloud_api::CloudApiSimulator, evolution::EvolutionSimulator};

use crate::{accounts::account_path, sso::SignedIn, support::TestApp};

const LIMITS: &[(&str, &str)] = &[
    ("DEFAULT_PLAN_MAX_INSTANCES", "5"),
    ("DEFAULT_PLAN_MAX_INBOXES", "10"),
];

async fn provider(app: &TestApp, admin: &SignedIn, body: Value) -> uuid::Uuid {
    let path = format!("{}/providers", account_path(admin.account_id));
    let made = app.post(&path, &admin.access, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    made.id()
}

async fn number(app: &TestApp, admin: &SignedIn, body: Value) -> String {
    let path = format!("{}/instances", account_path(admin.account_id));
    let made = app.post(&path, &admin.access, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    format!("{path}/{}", made.id())
}

/// The mirrored inbox named `name`.
async fn mirrored(app: &TestApp, admin: &SignedIn, name: &str) -> Value {
    let path = format!("{}/inboxes?limit=100", account_path(admin.account_id));
    let listed = app.get(&path, &admin.access).await;
    let items = listed.body["items"]
        .as_array()
        .or(listed.body.as_array())
        .cloned()
        .unwrap_or_default();
    items
        .into_iter()
        .find(|i| i["name"] == name)
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn an_evolution_number_feeds_one_inbox_and_an_inbox_one_number() {
    let (chatwoot, _demo, app, admin) = crate::webhooks::connected(LIMITS).await;
    let evolution = EvolutionSimulator::start("bridge-key").await;
    let server = provider(
        &app,
        &admin,
        json!({"type": "evolution", "name": "Evo",
        "base_url": evolution.base_url(), "credentials": {"api_key": "bridge-key"}}),
    )
    .await;
    let sales = number(
        &app,
        &admin,
        json!({"provider_id": server, "name": "vendas"}),
    )
    .await;
    let support = number(
        &app,
        &admin,
        json!({"provider_id": server, "name": "suporte"}),
    )
    .await;
    let linked = app
        .post(&format!("{sales}/chatwoot-inbox"), &admin.access, json!({}))
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{:?}", linked.body);
    let inbox_id = linked.body["chatwoot_inbox_id"].as_i64().expect("linked");
    let bridge = evolution.instance("vendas").unwrap().chatwoot;
    assert_eq!(bridge["enabled"], true);
    assert_eq!(bridge["url"], chatwoot.base_url());
    assert_eq!(bridge["nameInbox"], "vendas");
    let inbox = mirrored(&app, &admin, "vendas").await;
    assert_eq!(inbox["chatwoot_inbox_id"], inbox_id, "{inbox:?}");
    assert_eq!(inbox["channel_type"], "Channel::Api");
    assert_eq!(inbox["whatsapp_instance_id"], linked.body["id"]);
    app.post(&format!("{sales}/chatwoot-inbox"), &admin.access, json!({}))
        .await
        .assert_problem(StatusCode::CONFLICT, "instance_already_linked");
    app.post(
        &format!("{support}/chatwoot-inbox"),
        &admin.access,
        json!({"name": "vendas"}),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "inbox_already_linked");
    assert!(
        evolution.instance("suporte").unwrap().chatwoot.is_null(),
        "the provider was not asked"
    );
}

#[tokio::test]
async fn a_cloud_api_number_becomes_chatwoots_own_whatsapp_inbox() {
    let (_chatwoot, _demo, app, admin) = crate::webhooks::connected(LIMITS).await;
    let meta = CloudApiSimulator::start("meta-token", "app-secret").await;
    meta.add_phone_number("106540352242922", "+55 21 98888-1111");
    let server = provider(&app, &admin, json!({"type": "cloud_api", "name": "Meta",
        "base_url": meta.base_url(), "credentials": {"access_token": "meta-token", "app_secret": "app-secret"}})).await;
    let official = number(
        &app,
        &admin,
        json!({"provider_id": server, "name": "oficial",
        "credentials": {"phone_number_id": "106540352242922"}}),
    )
    .await;
    let path = format!("{official}/chatwoot-inbox");
    app.post(&path, &admin.access, json!({}))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let body = json!({"name": "WhatsApp oficial", "business_account_id": "102290129340398"});
    app.post(&path, &admin.access, body.clone())
        .await
        .assert_problem(StatusCode::CONFLICT, "instance_not_connected");
    app.post(&format!("{official}/check"), &admin.access, json!({}))
        .await;
    let linked = app.post(&path, &admin.access, body).await;
    assert_eq!(linked.status, StatusCode::OK, "{:?}", linked.body);
    let inbox = mirrored(&app, &admin, "WhatsApp oficial").await;
    assert_eq!(inbox["channel_type"], "Channel::Whatsapp", "{inbox:?}");
    assert_eq!(inbox["phone_number"], "+5521988881111");
    assert_eq!(inbox["whatsapp_instance_id"], linked.body["id"]);
}
