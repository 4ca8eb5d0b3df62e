//! Every input edge answered (issue 13, findings 10–12): times out of range, NUL
//! characters anywhere a client writes text, and names from Chatwoot the hub's own rules
//! would refuse. Each answers a 422 naming the problem, or is cleaned on the way in from
//! Chatwoot; none is a 500, on either engine.

use reqwest::StatusCode;
use serde_json::{Value, json};
use whatpro_hub::simulators::chatwoot::demo::DEMO_ADMIN_TOKEN;

use crate::{
    accounts::super_admin,
    support::{Resp, Tenant, TestApp},
    webhooks::{connected, eventually},
};

const FAR_FUTURE: &str = "9999-12-31T23:59:59-23:59";

async fn acme() -> (TestApp, Tenant, String, Vec<String>) {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let t = app.tenant(&root, "Acme").await;
    let board = app
        .post(
            &t.path("/boards"),
            &t.admin.token,
            json!({ "name": "Sales" }),
        )
        .await;
    assert_eq!(board.status, StatusCode::CREATED, "{:?}", board.body);
    let stages = board.body["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let board = board.body["id"].as_str().unwrap().to_string();
    (app, t, board, stages)
}

#[track_caller]
fn assert_refused(resp: &Resp, what: &str) {
    assert_eq!(
        resp.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{what}: {:?}",
        resp.body
    );
    assert_eq!(resp.body["code"], "validation_failed", "{what}");
}

#[tokio::test]
async fn times_out_of_range_are_422_everywhere() {
    let (app, t, board, _) = acme().await;
    let cards = t.path(&format!("/boards/{board}/cards"));
    for at in [
        FAR_FUTURE,
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+23:59",
    ] {
        let query = |q: &str| q.replace("AT", &at.replace('+', "%2B"));
        let metrics = app
            .get(
                &t.path(&format!("/boards/{board}/metrics{}", query("?to=AT"))),
                &t.admin.token,
            )
            .await;
        assert_refused(&metrics, &format!("metrics to {at}"));
        let audit = app
            .get(&t.path(&query("/audit-logs?from=AT")), &t.admin.token)
            .await;
        assert_refused(&audit, &format!("audit from {at}"));
        let card = app
            .post(
                &cards,
                &t.admin.token,
                json!({ "title": "Deal", "due_at": at }),
            )
            .await;
        assert_refused(&card, &format!("due_at {at}"));
        let key = app
            .post(
                &t.path("/api-keys"),
                &t.admin.token,
                json!({ "name": "k", "scopes": ["teams:read"], "expires_at": at }),
            )
            .await;
        assert_refused(&key, &format!("expires_at {at}"));
    }
    let fine = app
        .post(
            &cards,
            &t.admin.token,
            json!({ "title": "Deal", "due_at": "2999-12-31T10:00:00-03:00" }),
        )
        .await;
    assert_eq!(fine.status, StatusCode::CREATED, "{:?}", fine.body);
    assert_eq!(fine.body["due_at"], "2999-12-31T13:00:00Z", "kept in UTC");
}

#[tokio::test]
async fn a_nul_anywhere_a_client_writes_text_is_422() {
    let (app, t, board, stages) = acme().await;
    let cards = t.path(&format!("/boards/{board}/cards"));
    let made = app
        .post(&cards, &t.admin.token, json!({ "title": "Deal" }))
        .await;
    assert_eq!(made.status, StatusCode::CREATED);
    let card = made.body["id"].as_str().unwrap();
    let nul = "a\u{0}b";
    let bodies: Vec<(&str, String, Value)> = vec![
        ("POST", cards.clone(), json!({ "title": nul })),
        (
            "POST",
            cards.clone(),
            json!({ "title": "x", "labels": [nul] }),
        ),
        (
            "PATCH",
            format!("{cards}/{card}"),
            json!({ "contact_name": nul }),
        ),
        (
            "PATCH",
            format!("{cards}/{card}"),
            json!({ "custom_fields": { nul: 1 } }),
        ),
        (
            "POST",
            format!("{cards}/{card}/move"),
            json!({ "stage_id": stages.last().unwrap(), "lost_reason": nul }),
        ),
        ("PUT", t.path(""), json!({ "settings": { "note": nul } })),
        (
            "POST",
            t.path("/teams"),
            json!({ "name": "Team", "description": nul }),
        ),
    ];
    for (method, path, body) in bodies {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = app
            .request(method.clone(), &path, Some(&t.admin.token), Some(body))
            .await;
        assert_refused(&resp, &format!("{method} {path}"));
    }
    for query in [
        format!("/boards/{board}/cards?q=a%00b"),
        format!("/boards/{board}/cards?label=a%00"),
        "/audit-logs?action=a%00".to_string(),
    ] {
        assert_refused(&app.get(&t.path(&query), &t.admin.token).await, &query);
    }
    // An escaped backslash followed by "u0000" is text, not a NUL.
    let literal = app
        .post(&cards, &t.admin.token, json!({ "title": "C:\\u0000" }))
        .await;
    assert_eq!(literal.status, StatusCode::CREATED, "{:?}", literal.body);
    assert_eq!(literal.body["title"], "C:\\u0000");
}

/// A contact named with a NUL, a newline and 300 characters still becomes a card (cleaned:
/// one line, 200 characters), and that card stays editable.
#[tokio::test]
async fn names_from_chatwoot_are_cleaned_into_editable_cards() {
    let (sim, demo, app, admin) = connected(&[]).await;
    let _ = DEMO_ADMIN_TOKEN;
    let name = format!("Ana\u{0}\nMaria {}", "x".repeat(300));
    let conversation = sim.add_conversation(demo.account_id, demo.whatsapp_inbox_id, &name, None);
    sim.emit_conversation_created(demo.account_id, conversation);
    let account = format!("/api/v1/accounts/{}", admin.account_id);
    let boards = app.get(&format!("{account}/boards"), &admin.access).await;
    let board = boards.body["items"][0]["id"].as_str().unwrap().to_string();
    let cards = format!("{account}/boards/{board}/cards");
    let find = || {
        let (app, cards, access) = (&app, &cards, &admin.access);
        async move {
            let listed = app.get(&format!("{cards}?limit=200"), access).await;
            listed.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["chatwoot_conversation_id"] == conversation)
                .cloned()
        }
    };
    eventually("the contact's card", || async { find().await.is_some() }).await;
    let card = find().await.unwrap();
    let title = card["title"].as_str().unwrap();
    assert!(title.starts_with("Ana\u{fffd} Maria xxx"), "{title:?}");
    assert_eq!(title.chars().count(), 200);
    assert!(!title.contains('\n'));
    assert_eq!(card["contact_name"], card["title"]);
    let edited = app
        .request(
            reqwest::Method::PATCH,
            &format!("{cards}/{}", card["id"].as_str().unwrap()),
            Some(&admin.access),
            Some(json!({ "priority": "high" })),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
}
