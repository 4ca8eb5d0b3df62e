//! Which conversation a card may follow (issue 13, finding 5). The hub writes back to a
//! card's conversation with the account's administrator credential, so a person ties a card
//! only to a conversation of the account's Chatwoot whose inbox feeds the board and, unless
//! an admin, that they work in Chatwoot; a move that writes back asks the same.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whatpro_hub::simulators::chatwoot::{demo::DEMO_AGENT_TOKEN, wire::ConversationStatus};

use crate::{
    accounts::{account_path, super_admin},
    sso::sign_in,
    support::{Resp, TestApp},
    webhooks::{connected, eventually},
};

#[tokio::test]
async fn a_card_follows_only_a_conversation_its_person_could_act_on() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let agent = sign_in(&app, DEMO_AGENT_TOKEN).await;
    assert_eq!(agent.account_id, admin.account_id);
    let account = account_path(admin.account_id);
    let (whatsapp, website) = (demo.whatsapp_inbox_id, demo.website_inbox_id);
    let board = app
        .post(
            &format!("{account}/boards"),
            &admin.access,
            json!({ "name": "Leads", "inbox_ids": [whatsapp, website] }),
        )
        .await;
    assert_eq!(board.status, StatusCode::CREATED, "{:?}", board.body);
    let cards = format!(
        "{account}/boards/{}/cards",
        board.body["id"].as_str().unwrap()
    );
    let won = board.body["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "won")
        .unwrap()["id"]
        .clone();
    let create = |token: &str, body: Value| {
        let (app, cards, token) = (&app, cards.clone(), token.to_string());
        async move { app.post(&cards, &token, body).await }
    };
    let on_whatsapp = demo.conversations[0];
    let on_website = demo.conversations[1];
    let telegram = sim.add_inbox(demo.account_id, "Telegram", "Channel::Telegram", None);
    let elsewhere = sim.add_conversation(demo.account_id, telegram, "Eva", None);

    let refused = [
        (999_999, "no such conversation"),
        (elsewhere, "does not feed this board"),
    ];
    for (conversation, why) in refused {
        let resp = create(
            &agent.access,
            json!({ "title": "x", "chatwoot_conversation_id": conversation }),
        )
        .await;
        assert_eq!(
            resp.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{why}: {:?}",
            resp.body
        );
        assert!(resp.body.to_string().contains(why), "{:?}", resp.body);
    }
    create(
        &agent.access,
        json!({ "title": "x", "chatwoot_conversation_id": on_website }),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "conversation_not_yours");
    create(
        &agent.access,
        json!({ "title": "x", "chatwoot_conversation_id": on_whatsapp, "chatwoot_inbox_id": website }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let mine = create(
        &agent.access,
        json!({ "title": "Mine", "chatwoot_conversation_id": on_whatsapp }),
    )
    .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{:?}", mine.body);
    assert_eq!(mine.body["chatwoot_inbox_id"], whatsapp, "from Chatwoot");
    let by_inbox = app
        .get(&format!("{cards}?inbox_id={whatsapp}"), &agent.access)
        .await;
    let titles: Vec<&Value> = by_inbox.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["title"])
        .collect();
    assert_eq!(
        titles,
        [&json!("Mine")],
        "the inbox filter reads Chatwoot's inbox"
    );
    create(
        &agent.access,
        json!({ "title": "Again", "chatwoot_conversation_id": on_whatsapp }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "conversation_has_card");

    // Relinking a card of one's own to someone else's conversation is the same request.
    let plain = create(&agent.access, json!({ "title": "Plain" })).await;
    let plain_path = format!("{cards}/{}", plain.body["id"].as_str().unwrap());
    app.request(
        Method::PATCH,
        &plain_path,
        Some(&agent.access),
        Some(json!({ "chatwoot_conversation_id": on_website })),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "conversation_not_yours");

    // An admin works every inbox; an agent may not move that card (it would resolve the
    // conversation as the administrator), the admin may.
    let theirs = create(
        &admin.access,
        json!({ "title": "Web", "chatwoot_conversation_id": on_website }),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{:?}", theirs.body);
    let move_path = format!("{cards}/{}/move", theirs.body["id"].as_str().unwrap());
    let status = || {
        sim.conversation(demo.account_id, on_website)
            .unwrap()
            .status
    };
    let before = status();
    assert_ne!(before, ConversationStatus::Resolved);
    app.post(&move_path, &agent.access, json!({ "stage_id": won }))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "conversation_not_yours");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status(), before, "nothing was written back");
    let moved = app
        .post(&move_path, &admin.access, json!({ "stage_id": won }))
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    eventually("the conversation resolved by the admin's move", || async {
        status() == ConversationStatus::Resolved
    })
    .await;
}

#[tokio::test]
async fn an_account_without_chatwoot_links_no_conversation() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let t = app.tenant(&root, "Acme").await;
    let board: Resp = app
        .post(
            &t.path("/boards"),
            &t.admin.token,
            json!({ "name": "Sales" }),
        )
        .await;
    let cards = t.path(&format!(
        "/boards/{}/cards",
        board.body["id"].as_str().unwrap()
    ));
    let resp = app
        .post(
            &cards,
            &t.agent.token,
            json!({ "title": "Chat", "chatwoot_conversation_id": 42 }),
        )
        .await;
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        resp.body
    );
    assert!(
        resp.body.to_string().contains("connect this account"),
        "{:?}",
        resp.body
    );
}
