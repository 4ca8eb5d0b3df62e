//! Cards driven by Chatwoot: a connected account gets a board fed by its inboxes; signed
//! webhooks from the simulator create cards, move them by status and label, keep their
//! fields and last message current; duplicates and events out of order converge.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whatpro_hub::{
    chatwoot::client::{ChatwootClient, ConversationStatus, Credential},
    simulators::chatwoot::{demo::DEMO_ADMIN_TOKEN, wire},
};

use crate::{
    accounts::account_path,
    sso::SignedIn,
    support::TestApp,
    webhooks::{connected, deliver, eventually, signed_headers},
};

async fn the_board(app: &TestApp, admin: &SignedIn) -> Value {
    let boards = app
        .get(
            &format!("{}/boards", account_path(admin.account_id)),
            &admin.access,
        )
        .await;
    let items = boards.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one default board: {:?}", boards.body);
    let id = items[0]["id"].as_str().unwrap();
    app.get(
        &format!("{}/boards/{id}", account_path(admin.account_id)),
        &admin.access,
    )
    .await
    .body
}

async fn cards(app: &TestApp, admin: &SignedIn, board: &Value) -> Vec<Value> {
    let path = format!(
        "{}/boards/{}/cards?limit=200",
        account_path(admin.account_id),
        board["id"].as_str().unwrap()
    );
    app.get(&path, &admin.access).await.body["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Gives the board `rules`; answers the board's path.
async fn set_rules(app: &TestApp, admin: &SignedIn, board: &Value, rules: Value) -> String {
    let board_path = format!(
        "{}/boards/{}",
        account_path(admin.account_id),
        board["id"].as_str().unwrap()
    );
    let set = app
        .request(
            Method::PATCH,
            &board_path,
            Some(&admin.access),
            Some(json!({ "rules": rules })),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    board_path
}

fn stage_named<'a>(board: &'a Value, name: &str) -> &'a str {
    board["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["id"].as_str())
        .unwrap()
}

async fn wait_for_card(
    app: &TestApp,
    admin: &SignedIn,
    board: &Value,
    what: &str,
    test: impl Fn(&[Value]) -> bool,
) {
    let test = &test;
    eventually(
        what,
        || async move { test(&cards(app, admin, board).await) },
    )
    .await;
}

/// Waits until the conversation's card is in `stage`.
async fn wait_in_stage(
    app: &TestApp,
    admin: &SignedIn,
    board: &Value,
    conversation: i64,
    stage: &str,
) {
    let what = format!("conversation {conversation}'s card in {stage}");
    wait_for_card(app, admin, board, &what, |c| {
        c.iter().any(|card| {
            card["chatwoot_conversation_id"] == conversation && card["stage_id"] == stage
        })
    })
    .await;
}

#[tokio::test]
async fn conversations_become_cards_that_follow_their_status() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let board = the_board(&app, &admin).await;
    assert_eq!(board["name"], "Pipeline");
    // Connecting brought in the open conversations; the resolved one has no card.
    let mut linked: Vec<i64> = cards(&app, &admin, &board)
        .await
        .iter()
        .map(|c| c["chatwoot_conversation_id"].as_i64().unwrap())
        .collect();
    linked.sort();
    assert_eq!(linked, demo.conversations[..2]);
    let first = cards(&app, &admin, &board).await;
    let joana = first
        .iter()
        .find(|c| c["chatwoot_conversation_id"] == demo.conversations[0])
        .unwrap();
    assert_eq!(joana["title"], "Joana Reis");
    assert_eq!(joana["labels"], json!(["lead"]));
    assert_eq!(joana["priority"], "high");

    let conversation =
        sim.add_conversation(demo.account_id, demo.whatsapp_inbox_id, "Paula Dias", None);
    sim.emit_conversation_created(demo.account_id, conversation);
    let mine = move |c: &[Value]| {
        c.iter()
            .find(|card| card["chatwoot_conversation_id"] == conversation)
            .cloned()
    };
    let new = stage_named(&board, "New").to_string();
    wait_for_card(
        &app,
        &admin,
        &board,
        "a card for the new conversation",
        |c| mine(c).is_some(),
    )
    .await;
    let card = mine(&cards(&app, &admin, &board).await).unwrap();
    assert_eq!(card["title"], "Paula Dias");
    assert_eq!(card["stage_id"], new.as_str());
    assert_eq!(card["chatwoot_inbox_id"], demo.whatsapp_inbox_id);

    let chatwoot = ChatwootClient::new(&sim.base_url()).unwrap();
    let admin_token = Credential::api_token(DEMO_ADMIN_TOKEN);
    let status = |status| {
        let (chatwoot, admin_token) = (&chatwoot, &admin_token);
        async move {
            chatwoot
                .toggle_status(admin_token, demo.account_id, conversation, status)
                .await
                .unwrap();
        }
    };
    status(ConversationStatus::Resolved).await;
    let won = stage_named(&board, "Won").to_string();
    wait_for_card(&app, &admin, &board, "the card in Won", |c| {
        mine(c).is_some_and(|card| card["stage_id"] == won.as_str())
    })
    .await;
    status(ConversationStatus::Open).await;
    wait_for_card(&app, &admin, &board, "the card back in New", |c| {
        mine(c).is_some_and(|card| card["stage_id"] == new.as_str())
    })
    .await;

    sim.emit_message_created(demo.account_id, conversation, "Pode enviar o orçamento?");
    wait_for_card(&app, &admin, &board, "the last message on the card", |c| {
        mine(c).is_some_and(|card| card["last_message"] == "Pode enviar o orçamento?")
    })
    .await;

    let card_path = format!(
        "{}/boards/{}/cards/{}",
        account_path(admin.account_id),
        board["id"].as_str().unwrap(),
        card["id"].as_str().unwrap()
    );
    let (kinds, history) = history_kinds(&app, &admin.access, &card_path).await;
    assert_eq!(kinds, ["created", "won", "reopened"]);
    assert_eq!(history[1]["actor_type"], "chatwoot");
}

/// The kinds of a card's history events, oldest first, and the history itself.
async fn history_kinds(app: &TestApp, token: &str, card_path: &str) -> (Vec<String>, Value) {
    let history = app.get(&format!("{card_path}/history"), token).await.body;
    let kinds = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    (kinds, history)
}

fn conversation(id: i64, status: &str, labels: &[&str], updated_at: f64) -> Value {
    json!({
        "id": id, "inbox_id": null, "status": status, "priority": null, "labels": labels,
        "meta": { "sender": { "id": 77, "name": "Marta", "thumbnail": "" }, "assignee": null },
        "messages": [], "updated_at": updated_at,
    })
}

/// Chatwoot's account sending signed events to the hub, all signed at one instant: a
/// delivery sent twice is then the same bytes and the same signature, as a redelivery is
/// (signed a second apart they would be two deliveries, and the test would depend on
/// when it runs).
struct Chatwoot<'a> {
    app: &'a TestApp,
    admin: &'a SignedIn,
    secret: String,
    at: i64,
}

impl<'a> Chatwoot<'a> {
    fn new(app: &'a TestApp, admin: &'a SignedIn, secret: String) -> Chatwoot<'a> {
        let at = whatpro_hub::platform::clock::now().unix_timestamp(); // wall-clock: the hub checks a signature's time against its clock
        Chatwoot {
            app,
            admin,
            secret,
            at,
        }
    }

    /// Signs `body` as the event `event` and delivers it; the hub must take it.
    async fn send(&self, event: &str, mut body: Value, delivery: &str) {
        body["event"] = json!(event);
        let raw = serde_json::to_vec(&body).unwrap();
        let headers = signed_headers(&self.secret, &raw, self.at, delivery);
        let resp = deliver(self.app, self.admin.account_id, &headers, &raw).await;
        assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    }
}

#[tokio::test]
async fn duplicates_and_events_out_of_order_converge_and_labels_move_cards() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let chatwoot = Chatwoot::new(
        &app,
        &admin,
        sim.webhooks(demo.account_id)[0].secret.clone(),
    );
    let board = the_board(&app, &admin).await;
    let waiting = stage_named(&board, "Waiting").to_string();
    // The board's rules: the label `proposal` moves cards to Waiting.
    let rules = json!({
        "create_cards": true,
        "status_stages": { "resolved": stage_named(&board, "Won"), "open": stage_named(&board, "New") },
        "label_stages": { "proposal": waiting },
    });
    set_rules(&app, &admin, &board, rules).await;

    // The update (with a label, delivered twice) and the resolution arrive before the
    // creation.
    let updated = conversation(501, "open", &["proposal"], 200.0);
    let out_of_order = [
        ("conversation_updated", updated.clone(), "e-2"),
        ("conversation_updated", updated, "e-2"),
        (
            "conversation_status_changed",
            conversation(501, "resolved", &["proposal"], 300.0),
            "e-3",
        ),
        (
            "conversation_created",
            conversation(501, "open", &[], 100.0),
            "e-1",
        ),
    ];
    for (event, body, delivery) in out_of_order {
        chatwoot.send(event, body, delivery).await;
    }
    let won = stage_named(&board, "Won").to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_for_card(&app, &admin, &board, "one card, in Won, labelled", |c| {
        let ours: Vec<&Value> = c
            .iter()
            .filter(|card| card["chatwoot_conversation_id"] == 501)
            .collect();
        ours.len() == 1
            && ours[0]["stage_id"] == won.as_str()
            && ours[0]["labels"] == json!(["proposal"])
    })
    .await;
    let deliveries = app
        .get(
            &format!(
                "{}/webhook-deliveries?status=done",
                account_path(admin.account_id)
            ),
            &admin.access,
        )
        .await;
    assert_eq!(
        deliveries.body["items"].as_array().unwrap().len(),
        3,
        "the duplicate was stored once"
    );

    // In order, a label appearing moves an open card.
    chatwoot
        .send(
            "conversation_created",
            conversation(502, "open", &[], 100.0),
            "f-1",
        )
        .await;
    chatwoot
        .send(
            "conversation_updated",
            conversation(502, "open", &["proposal"], 200.0),
            "f-2",
        )
        .await;
    wait_in_stage(&app, &admin, &board, 502, &waiting).await;

    chatwoot
        .send(
            "contact_updated",
            json!({ "id": 77, "name": "Marta Souza", "thumbnail": "" }),
            "g-1",
        )
        .await;
    wait_for_card(&app, &admin, &board, "the contact's new name", |c| {
        c.iter()
            .filter(|card| card["chatwoot_contact_id"] == 77)
            .all(|card| card["contact_name"] == "Marta Souza")
    })
    .await;
}

#[tokio::test]
async fn rules_changed_on_another_replica_apply_to_the_next_event_here() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let chatwoot = Chatwoot::new(
        &app,
        &admin,
        sim.webhooks(demo.account_id)[0].secret.clone(),
    );
    let board = the_board(&app, &admin).await;
    // An event applied here first, so this replica has read the board's rules.
    chatwoot
        .send(
            "conversation_created",
            conversation(701, "open", &[], 100.0),
            "r-1",
        )
        .await;
    wait_for_card(&app, &admin, &board, "the new card", |c| {
        c.iter().any(|card| card["chatwoot_conversation_id"] == 701)
    })
    .await;

    // Another replica maps the label `proposal` to Waiting, and stops (its worker with it).
    let waiting = stage_named(&board, "Waiting").to_string();
    let mut rules = board["rules"].clone();
    rules["label_stages"] = json!({ "proposal": waiting });
    let mut other = app.replica().await;
    set_rules(&other, &admin, &board, rules).await;
    other.stop().await;

    chatwoot
        .send(
            "conversation_updated",
            conversation(701, "open", &["proposal"], 200.0),
            "r-2",
        )
        .await;
    wait_in_stage(&app, &admin, &board, 701, &waiting).await;
}

#[tokio::test]
async fn reconciliation_repairs_cards_that_missed_their_events() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let board = the_board(&app, &admin).await;
    // Chatwoot stops delivering: the hub's webhook is gone.
    let chatwoot = ChatwootClient::new(&sim.base_url()).unwrap();
    let admin_token = Credential::api_token(DEMO_ADMIN_TOKEN);
    let hook = sim.webhooks(demo.account_id)[0].id;
    chatwoot
        .delete_webhook(&admin_token, demo.account_id, hook)
        .await
        .unwrap();
    chatwoot
        .toggle_status(
            &admin_token,
            demo.account_id,
            demo.conversations[0],
            ConversationStatus::Resolved,
        )
        .await
        .unwrap();
    let missed = sim.add_conversation(demo.account_id, demo.website_inbox_id, "Rita", None);

    let path = format!("{}/chatwoot/reconcile", account_path(admin.account_id));
    let repaired = app.post(&path, &admin.access, json!({})).await;
    assert_eq!(repaired.status, StatusCode::OK, "{:?}", repaired.body);
    assert_eq!(repaired.body["created"], 1);
    assert_eq!(repaired.body["moved"], 1);
    let now = cards(&app, &admin, &board).await;
    assert!(now.iter().any(|c| c["chatwoot_conversation_id"] == missed));
    let resolved = now
        .iter()
        .find(|c| c["chatwoot_conversation_id"] == demo.conversations[0])
        .unwrap();
    assert_eq!(resolved["stage_id"], stage_named(&board, "Won"));
    let again = app.post(&path, &admin.access, json!({})).await;
    assert_eq!(again.body["created"], 0);
    assert_eq!(again.body["moved"], 0);
    let status = app
        .get(
            &format!("{}/chatwoot/status", account_path(admin.account_id)),
            &admin.access,
        )
        .await;
    assert!(status.body["last_reconciled_at"].is_string());
    assert_eq!(status.body["last_reconcile"]["created"], 0);
}

/// Waits until the account's queue (deliveries and write-backs) holds nothing to do.
async fn queue_drained(app: &TestApp, admin: &SignedIn) {
    let path = format!(
        "{}/webhook-deliveries?limit=200",
        account_path(admin.account_id)
    );
    eventually("the queue drained", || async {
        let items = app.get(&path, &admin.access).await.body["items"].clone();
        items
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["status"] == "done")
    })
    .await;
}

#[tokio::test]
async fn a_card_moved_by_hand_updates_its_conversation_and_the_echo_moves_nothing() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let board = the_board(&app, &admin).await;
    let in_progress = stage_named(&board, "In progress").to_string();
    let mut rules = board["rules"].clone();
    rules["label_stages"] = json!({ "hot": in_progress });
    assert_eq!(rules["write_back"], true, "on by default");
    let board_path = set_rules(&app, &admin, &board, rules).await;

    let conversation = demo.conversations[0];
    let card = cards(&app, &admin, &board)
        .await
        .into_iter()
        .find(|c| c["chatwoot_conversation_id"] == conversation)
        .unwrap();
    let card_path = format!("{board_path}/cards/{}", card["id"].as_str().unwrap());
    let move_to = |stage: String, extra: Value| {
        let (app, admin, card_path) = (&app, &admin, &card_path);
        async move {
            let mut body = json!({ "stage_id": stage });
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let moved = app
                .post(&format!("{card_path}/move"), &admin.access, body)
                .await;
            assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
            moved.body
        }
    };
    let in_chatwoot = || sim.conversation(demo.account_id, conversation).unwrap();

    // Into a stage with a label: the label goes on, the attribute names the stage.
    let moved = move_to(in_progress.clone(), json!({})).await;
    assert_eq!(moved["labels"], json!(["hot", "lead"]));
    eventually("the stage written back", || async {
        let c = in_chatwoot();
        c.custom_attributes.get("whatpro_stage") == Some(&json!("In progress"))
            && c.labels.contains(&"hot".to_string())
    })
    .await;
    assert!(
        in_chatwoot().labels.contains(&"lead".to_string()),
        "other labels kept"
    );

    // Lost: Chatwoot resolves the conversation; its echo (resolved → Won by the default
    // rules) must not move the card out of Lost.
    let lost = stage_named(&board, "Lost").to_string();
    move_to(lost.clone(), json!({ "lost_reason": "price" })).await;
    eventually("the conversation resolved", || async {
        let c = in_chatwoot();
        c.status == wire::ConversationStatus::Resolved
            && c.custom_attributes.get("whatpro_stage") == Some(&json!("Lost"))
            && !c.labels.contains(&"hot".to_string())
    })
    .await;
    queue_drained(&app, &admin).await;
    let now = app.get(&card_path, &admin.access).await.body;
    let history = app
        .get(&format!("{card_path}/history"), &admin.access)
        .await
        .body;
    assert_eq!(
        now["stage_id"],
        lost.as_str(),
        "the echo moved nothing: {history:#}"
    );
    assert_eq!(now["lost_reason"], "price");

    // Reopened by hand: the conversation opens again, and the card stays where it was put.
    let waiting = stage_named(&board, "Waiting").to_string();
    move_to(waiting.clone(), json!({})).await;
    eventually("the conversation reopened", || async {
        in_chatwoot().status == wire::ConversationStatus::Open
    })
    .await;
    queue_drained(&app, &admin).await;
    let now = app.get(&card_path, &admin.access).await.body;
    assert_eq!(now["stage_id"], waiting.as_str());

    // A status change made in Chatwoot still moves the card, once the write-back's echoes
    // are over (they count as such until two seconds after it, for clock skew).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let chatwoot = ChatwootClient::new(&sim.base_url()).unwrap();
    chatwoot
        .toggle_status(
            &Credential::api_token(DEMO_ADMIN_TOKEN),
            demo.account_id,
            conversation,
            ConversationStatus::Resolved,
        )
        .await
        .unwrap();
    let won = stage_named(&board, "Won").to_string();
    wait_for_card(&app, &admin, &board, "the card in Won", |c| {
        c.iter().any(|card| {
            card["chatwoot_conversation_id"] == conversation && card["stage_id"] == won.as_str()
        })
    })
    .await;
}

/// Events claimed together are applied to a board in one run (one transaction, the cards
/// held in memory between events): out of order within the run they converge as they do
/// one by one, newest state winning, and cards made and moved in the same run keep every
/// stage's positions dense. (On PostgreSQL two workers claim side by side and may split
/// the batch; what is checked holds whichever takes what.)
#[tokio::test]
async fn events_out_of_order_in_one_batch_converge_and_positions_stay_dense() {
    use whatpro_hub::{inbound::store, platform::clock};
    let (_sim, demo, mut app, admin) = connected(&[]).await;
    let board = the_board(&app, &admin).await;
    let waiting = stage_named(&board, "Waiting").to_string();
    let rules = json!({
        "create_cards": true,
        "status_stages": { "resolved": stage_named(&board, "Won"), "open": stage_named(&board, "New") },
        "label_stages": { "proposal": waiting },
    });
    let board_path = set_rules(&app, &admin, &board, rules).await;

    // Stored before any worker runs: one claim takes them all, in this order.
    app.stop().await;
    let message_at = clock::now()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    // A message on a card made before the batch, carrying its conversation as it was
    // long ago (a message's copy of it is never applied).
    let mut old_state = conversation(demo.conversations[0], "resolved", &[], 150.0);
    old_state["inbox_id"] = json!(demo.whatsapp_inbox_id);
    let message = json!({
        "content": "Fechado!", "private": false, "created_at": message_at,
        "conversation": old_state,
    });
    let events = [
        // 601 out of order: labelled, resolved, then its creation and a stale update.
        (
            "conversation_updated",
            conversation(601, "open", &["proposal"], 200.0),
        ),
        (
            "conversation_status_changed",
            conversation(601, "resolved", &["proposal"], 300.0),
        ),
        (
            "conversation_created",
            conversation(601, "open", &[], 100.0),
        ),
        (
            "conversation_updated",
            conversation(601, "open", &["proposal"], 250.0),
        ),
        ("message_created", message),
        // Cards made between moves, in the stages the moves leave and enter.
        (
            "conversation_created",
            conversation(602, "open", &[], 100.0),
        ),
        (
            "conversation_created",
            conversation(603, "open", &[], 100.0),
        ),
        (
            "conversation_updated",
            conversation(602, "open", &["proposal"], 200.0),
        ),
        (
            "conversation_created",
            conversation(604, "open", &[], 100.0),
        ),
        (
            "conversation_status_changed",
            conversation(603, "resolved", &[], 300.0),
        ),
        (
            "conversation_created",
            conversation(605, "open", &[], 100.0),
        ),
        (
            "conversation_created",
            conversation(606, "resolved", &[], 100.0),
        ),
    ];
    for (i, (event, body)) in events.into_iter().enumerate() {
        let mut body = body;
        body["event"] = json!(event);
        let body = body.to_string();
        let key = format!("batch-{i}");
        let new = store::NewDelivery {
            source: whatpro_hub::inbound::FROM_CHATWOOT,
            account_id: Some(admin.account_id),
            event: event.to_string(),
            dedupe_key: key,
            body,
            received_at: clock::now(),
        };
        assert!(store::insert(&app.state.db, &new).await.unwrap());
    }
    let mut hub = app.replica().await;
    queue_drained(&hub, &admin).await;

    let now = cards(&hub, &admin, &board).await;
    let card = |conversation: i64| {
        let ours: Vec<&Value> = now
            .iter()
            .filter(|c| c["chatwoot_conversation_id"] == conversation)
            .collect();
        assert_eq!(ours.len(), 1, "conversation {conversation}: {now:#?}");
        ours[0].clone()
    };
    let (won, new) = (stage_named(&board, "Won"), stage_named(&board, "New"));
    let first = card(601);
    assert_eq!(first["stage_id"], won, "{first:#}");
    assert_eq!(first["labels"], json!(["proposal"]));
    let messaged = card(demo.conversations[0]);
    assert_eq!(messaged["last_message"], "Fechado!");
    assert_eq!(messaged["stage_id"], new, "{messaged:#}");
    assert_eq!(messaged["labels"], json!(["lead"]));
    assert_eq!(card(602)["stage_id"], waiting.as_str());
    assert_eq!(card(603)["stage_id"], won);
    assert_eq!(card(604)["stage_id"], new);
    assert_eq!(card(605)["stage_id"], new);
    // Made resolved: created in the entry stage, then moved by the status rule.
    assert_eq!(card(606)["stage_id"], won);

    let first_path = format!("{board_path}/cards/{}", first["id"].as_str().unwrap());
    let (kinds, _) = history_kinds(&hub, &admin.access, &first_path).await;
    // Made once, whichever state came first; the newest one put it in Won last.
    assert_eq!(
        kinds.iter().filter(|k| **k == "created").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(kinds.last(), Some(&"won".to_string()), "{kinds:?}");

    let mut by_stage: std::collections::HashMap<&str, Vec<i64>> = Default::default();
    for c in &now {
        by_stage
            .entry(c["stage_id"].as_str().unwrap())
            .or_default()
            .push(c["position"].as_i64().unwrap());
    }
    for (stage, mut positions) in by_stage {
        positions.sort_unstable();
        let dense: Vec<i64> = (0..positions.len() as i64).collect();
        assert_eq!(positions, dense, "stage {stage}: {now:#?}");
    }
    hub.stop().await;
}
