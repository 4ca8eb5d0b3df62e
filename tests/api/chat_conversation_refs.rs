//! Chatwoot conversation references in the team chat (issue 16, ADR 26): `#123` and an
//! address of a conversation of the account's own Chatwoot are recorded with the message,
//! and a card shows the conversation to whoever may see it in Chatwoot; anyone else, like a
//! conversation that does not exist or belongs to another Chatwoot account, gets one 404.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use whatpro_hub::simulators::chatwoot::{
    DemoInstallation, Simulator, demo::DEMO_AGENT_TOKEN, wire::Role,
};

use crate::{
    accounts::{account_path, super_admin},
    chat::{channel, send},
    sso::{SignedIn, sign_in, sign_in_to},
    support::{Resp, TestApp},
    webhooks::connected,
};

/// A public channel of `by`'s in their account.
async fn room(app: &TestApp, by: &SignedIn) -> String {
    let resp = app
        .post(
            &format!("{}/chat/rooms", account_path(by.account_id)),
            &by.access,
            json!({ "kind": "channel", "name": "support", "member_ids": [] }),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["id"].as_str().unwrap().to_string()
}

async fn say(app: &TestApp, by: &SignedIn, room: &str, body: &str) -> Value {
    let path = format!("{}/chat/rooms/{room}/messages", account_path(by.account_id));
    let sent = json!({ "body": body, "client_id": Uuid::new_v4().to_string() });
    let resp = app.post(&path, &by.access, sent).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{body}: {:?}", resp.body);
    resp.body
}

async fn card(app: &TestApp, by: &SignedIn, number: i64) -> Resp {
    let path = format!(
        "{}/chat/conversations/{number}",
        account_path(by.account_id)
    );
    app.get(&path, &by.access).await
}

fn refs(message: &Value) -> Vec<i64> {
    message["conversation_refs"]
        .as_array()
        .unwrap_or_else(|| panic!("no conversation_refs in {message}"))
        .iter()
        .map(|n| n.as_i64().unwrap())
        .collect()
}

/// Where the demo account's conversations open in the simulator's dashboard.
fn address(sim: &Simulator, demo: &DemoInstallation, number: i64) -> String {
    format!(
        "{}/app/accounts/{}/conversations/{number}",
        sim.base_url(),
        demo.account_id
    )
}

fn without_request_id(resp: &Resp) -> Value {
    let mut body = resp.body.clone();
    body.as_object_mut().unwrap().remove("request_id");
    body
}

#[tokio::test]
async fn references_are_read_from_the_body_at_send_and_at_edit() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let room = room(&app, &admin).await;
    let ours = address(&sim, &demo, 2);
    let theirs = format!(
        "{}/app/accounts/{}/conversations/3",
        sim.base_url(),
        demo.account_id + 1
    );
    let elsewhere = format!(
        "https://evil.test/app/accounts/{}/conversations/4",
        demo.account_id
    );
    let body = format!(
        "about #123, {ours}?tab=info and #123 again; not {theirs}, {elsewhere}, `#5`, issue#6 \
         nor\n\n```\n#7\n```"
    );
    let sent = say(&app, &admin, &room, &body).await;
    assert_eq!(refs(&sent), vec![123, 2]);
    let html = sent["html"].as_str().unwrap();
    assert_eq!(
        html.matches("<span class=\"conversation-ref\" data-conversation-id=\"123\">#123</span>")
            .count(),
        2,
        "{html}"
    );
    assert!(html.contains(&ours), "the address stays as written: {html}");
    assert_eq!(html.matches("conversation-ref").count(), 2, "{html}");

    // The listing and the stored message agree.
    let page = app
        .get(
            &format!(
                "{}/chat/rooms/{room}/messages",
                account_path(admin.account_id)
            ),
            &admin.access,
        )
        .await;
    assert_eq!(refs(&page.body["items"][0]), vec![123, 2]);

    // At most ten, in order, once each.
    let many: Vec<String> = (1..=12).rev().map(|n| format!("#{n}")).collect();
    let sent = say(&app, &admin, &room, &format!("{} #12", many.join(" "))).await;
    assert_eq!(refs(&sent), (3..=12).rev().collect::<Vec<_>>());

    // An edit reads them again; a delete forgets them.
    let path = format!(
        "{}/chat/rooms/{room}/messages/{}",
        account_path(admin.account_id),
        sent["id"].as_str().unwrap()
    );
    let edited = app
        .request(
            Method::PATCH,
            &path,
            Some(&admin.access),
            Some(json!({ "body": format!("only {} now", address(&sim, &demo, 1)) })),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(refs(&edited.body), vec![1]);
    let edited = app
        .request(
            Method::PATCH,
            &path,
            Some(&admin.access),
            Some(json!({ "body": "none at all" })),
        )
        .await;
    assert_eq!(refs(&edited.body), Vec::<i64>::new());
    app.request(
        Method::PATCH,
        &path,
        Some(&admin.access),
        Some(json!({ "body": "#9" })),
    )
    .await;
    let deleted = app.delete(&path, &admin.access).await;
    assert_eq!(deleted.status, StatusCode::OK, "{:?}", deleted.body);
    assert_eq!(refs(&deleted.body), Vec::<i64>::new());
}

#[tokio::test]
async fn the_card_shows_a_conversation_to_whoever_may_see_it_in_chatwoot() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let agent = sign_in(&app, DEMO_AGENT_TOKEN).await;
    let (on_whatsapp, on_website) = (demo.conversations[0], demo.conversations[1]);

    // The agent works WhatsApp: the first conversation, theirs and assigned to them.
    let seen = card(&app, &agent, on_whatsapp).await;
    assert_eq!(seen.status, StatusCode::OK, "{:?}", seen.body);
    assert_eq!(
        seen.body,
        json!({
            "id": on_whatsapp,
            "status": "open",
            "inbox": { "id": demo.whatsapp_inbox_id, "name": "WhatsApp Vendas" },
            "contact": { "name": "Joana Reis", "thumbnail": null },
            "assignee": { "name": "Bruno Agent" },
            "url": address(&sim, &demo, on_whatsapp),
            "last_activity_at": seen.body["last_activity_at"],
        })
    );
    assert!(seen.body["last_activity_at"].is_string(), "{:?}", seen.body);

    // The admin sees every inbox's; the agent not the website's, told exactly what a
    // conversation that does not exist tells.
    let resolved = card(&app, &admin, demo.conversations[2]).await;
    assert_eq!(resolved.body["status"], "resolved", "{:?}", resolved.body);
    assert_eq!(resolved.body["assignee"], Value::Null);
    let website = card(&app, &admin, on_website).await;
    assert_eq!(website.status, StatusCode::OK, "{:?}", website.body);
    assert_eq!(website.body["inbox"]["name"], "Website chat");
    let hidden = card(&app, &agent, on_website).await;
    hidden.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let missing = card(&app, &agent, 999_999).await;
    missing.assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(without_request_id(&hidden), without_request_id(&missing));
    for bad in ["0", "-3", "12345678901", "abc"] {
        let path = format!(
            "{}/chat/conversations/{bad}",
            account_path(admin.account_id)
        );
        app.get(&path, &admin.access)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }

    // Read from Chatwoot once for everyone for a while; still decided for each viewer.
    let calls = sim.request_count();
    for _ in 0..3 {
        assert_eq!(card(&app, &admin, on_website).await.status, StatusCode::OK);
        assert_eq!(card(&app, &agent, on_whatsapp).await.status, StatusCode::OK);
        card(&app, &agent, on_website)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(sim.request_count(), calls, "answered from what was read");

    // An API key is no member of any inbox.
    let key = app
        .post(
            &format!("{}/api-keys", account_path(admin.account_id)),
            &admin.access,
            json!({ "name": "reader", "scopes": ["chat:read"] }),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.body);
    let path = format!(
        "{}/chat/conversations/{on_whatsapp}",
        account_path(admin.account_id)
    );
    app.get(&path, key.body["key"].as_str().unwrap())
        .await
        .assert_problem(StatusCode::FORBIDDEN, "user_token_required");
}

#[tokio::test]
async fn another_chatwoot_accounts_conversation_is_no_reference_and_no_card() {
    let (sim, demo, app, admin) = connected(&[]).await;
    // A second hub account on another Chatwoot account of the same installation, with more
    // conversations than the demo account has.
    let other = sim.add_account("Other Co");
    let owner = sim.add_user_with(
        "Olga Owner",
        "olga@other.test",
        "otherAdminToken12345678",
        "Other-admin-1!",
    );
    sim.add_member(other, owner.id, Role::Administrator);
    let inbox = sim.add_inbox(other, "Other WhatsApp", "Channel::Whatsapp", None);
    let numbers: Vec<i64> = (0..5)
        .map(|n| sim.add_conversation(other, inbox, &format!("Client {n}"), None))
        .collect();
    let only_theirs = *numbers.last().unwrap();
    assert!(sim.conversation(demo.account_id, only_theirs).is_none());
    let olga = sign_in_to(&app, "otherAdminToken12345678", other).await;
    assert_ne!(olga.account_id, admin.account_id);
    let connect = app
        .post(
            &format!("{}/chatwoot/connect", account_path(olga.account_id)),
            &olga.access,
            json!({ "chatwoot_api_token": "otherAdminToken12345678" }),
        )
        .await;
    assert_eq!(connect.status, StatusCode::OK, "{:?}", connect.body);

    // Theirs is a card for them; for the demo account it is no conversation at all.
    let theirs = card(&app, &olga, only_theirs).await;
    assert_eq!(theirs.status, StatusCode::OK, "{:?}", theirs.body);
    assert_eq!(theirs.body["contact"]["name"], "Client 4");
    let foreign = card(&app, &admin, only_theirs).await;
    foreign.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let missing = card(&app, &admin, 424_242).await;
    assert_eq!(without_request_id(&foreign), without_request_id(&missing));
    // Nor can the demo account's admin ask under the other account.
    let path = format!(
        "{}/chat/conversations/{only_theirs}",
        account_path(olga.account_id)
    );
    app.get(&path, &admin.access)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    // Each account's link is a reference only in that account.
    let link = format!(
        "{}/app/accounts/{other}/conversations/{only_theirs}",
        sim.base_url()
    );
    let in_demo = say(&app, &admin, &room(&app, &admin).await, &link).await;
    assert_eq!(refs(&in_demo), Vec::<i64>::new());
    let in_other = say(&app, &olga, &room(&app, &olga).await, &link).await;
    assert_eq!(refs(&in_other), vec![only_theirs]);
}

#[tokio::test]
async fn without_chatwoot_a_reference_is_kept_and_the_card_says_so() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let t = app.tenant(&root, "Acme").await;
    let room = channel(&app, &t, &t.admin, false, &[]).await;
    let sent = send(&app, &t, &t.agent, room, "see #12 and #7").await;
    assert_eq!(refs(&sent), vec![12, 7]);
    for by in [&t.admin, &t.agent] {
        app.get(&t.path("/chat/conversations/12"), &by.token)
            .await
            .assert_problem(StatusCode::CONFLICT, "chatwoot_not_connected");
    }
}

#[tokio::test]
async fn chatwoot_down_is_a_503_and_nothing_is_kept_of_it() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let number = demo.conversations[1];
    // Every attempt of the lookup fails (the client tries three times).
    sim.fail_next(3, 503);
    let down = card(&app, &admin, number).await;
    down.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(
        down.header("content-type"),
        Some("application/problem+json")
    );
    let back = card(&app, &admin, number).await;
    assert_eq!(back.status, StatusCode::OK, "{:?}", back.body);
}

#[tokio::test]
async fn the_feature_flag_off_closes_the_card() {
    let (_sim, demo, app, admin) = connected(&[]).await;
    let root = super_admin(&app).await;
    let set = app
        .put(
            &format!("{}/entitlements", account_path(admin.account_id)),
            &root.token,
            json!({ "features": { "internal_chat_enabled": false } }),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    card(&app, &admin, demo.conversations[0])
        .await
        .assert_problem(StatusCode::FORBIDDEN, "feature_disabled");
}
