//! The Kanban's boards, stages and cards: defaults, the plan's limit and feature flag,
//! dense positions under concurrent moves, won/lost/reopened history, optimistic
//! concurrency, ids from another board, filters and paging.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    accounts::super_admin,
    support::{Resp, Tenant, TestApp},
};

async fn tenant(vars: &[(&str, &str)]) -> (TestApp, Tenant) {
    let app = TestApp::spawn_with(vars).await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    (app, tenant)
}

async fn board(app: &TestApp, t: &Tenant, name: &str) -> Resp {
    app.post(&t.path("/boards"), &t.admin.token, json!({ "name": name }))
        .await
}

fn id(value: &Value) -> String {
    value.as_str().unwrap().to_string()
}

struct Board {
    id: String,
    stages: Vec<String>,
}

async fn new_board(app: &TestApp, t: &Tenant) -> Board {
    let resp = board(app, t, "Sales").await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    Board {
        id: id(&resp.body["id"]),
        stages: resp.body["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| id(&s["id"]))
            .collect(),
    }
}

async fn card(app: &TestApp, t: &Tenant, b: &Board, body: Value) -> Value {
    let resp = app
        .post(
            &t.path(&format!("/boards/{}/cards", b.id)),
            &t.agent.token,
            body,
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body
}

async fn move_card(app: &TestApp, t: &Tenant, b: &Board, card: &str, body: Value) -> Resp {
    let path = t.path(&format!("/boards/{}/cards/{card}/move", b.id));
    app.post(&path, &t.agent.token, body).await
}

/// The board's cards matching `query`, in board order.
async fn listed(app: &TestApp, t: &Tenant, b: &Board, query: &str) -> Vec<Value> {
    let path = t.path(&format!("/boards/{}/cards?limit=200&{query}", b.id));
    let resp = app.get(&path, &t.agent.token).await;
    assert_eq!(resp.status, StatusCode::OK, "{query}: {:?}", resp.body);
    resp.body["items"].as_array().unwrap().clone()
}

/// (title, stage index, position) of every card of the board, in board order.
async fn layout(app: &TestApp, t: &Tenant, b: &Board) -> Vec<(String, usize, i64)> {
    listed(app, t, b, "")
        .await
        .iter()
        .map(|c| {
            let stage = b
                .stages
                .iter()
                .position(|s| *s == id(&c["stage_id"]))
                .unwrap();
            (id(&c["title"]), stage, c["position"].as_i64().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn a_new_board_has_a_pipeline_and_counts_against_the_plan() {
    let (app, t) = tenant(&[]).await;
    let created = board(&app, &t, "Sales").await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let stages = created.body["stages"].as_array().unwrap();
    let names: Vec<&str> = stages.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["New", "In progress", "Waiting", "Won", "Lost"]);
    let kinds: Vec<&str> = stages.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["open", "open", "open", "won", "lost"]);
    assert_eq!(created.body["currency"], "BRL");

    assert_eq!(board(&app, &t, "Support").await.status, StatusCode::CREATED);
    board(&app, &t, "Third")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "quota_exceeded");
    let usage = app.get(&t.path("/usage"), &t.agent.token).await;
    assert_eq!(usage.body["usage"]["boards"], 2);
    // Archiving frees the place.
    let path = t.path(&format!("/boards/{}", id(&created.body["id"])));
    assert_eq!(
        app.delete(&path, &t.admin.token).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(board(&app, &t, "Third").await.status, StatusCode::CREATED);
    app.get(&path, &t.agent.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let bad = json!({ "name": " ", "currency": "real", "stages": [] });
    let refused = app.post(&t.path("/boards"), &t.admin.token, bad).await;
    refused.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&str> = refused.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "currency", "stages"]);
}

#[tokio::test]
async fn the_plan_can_turn_the_kanban_off() {
    let (app, t) = tenant(&[("DEFAULT_PLAN_KANBAN_ENABLED", "false")]).await;
    app.get(&t.path("/boards"), &t.agent.token)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "feature_disabled");
    board(&app, &t, "Sales")
        .await
        .assert_problem(StatusCode::FORBIDDEN, "feature_disabled");
}

/// The plan is kept per account revision: turning the Kanban off or on applies to the very
/// next request.
#[tokio::test]
async fn a_plan_change_applies_to_the_next_request() {
    let app = TestApp::spawn_with(&[]).await;
    let root = super_admin(&app).await;
    let t = app.tenant(&root, "Acme").await;
    let kanban = |on: bool| {
        let (app, root, path) = (&app, &root, t.path("/entitlements"));
        async move {
            let body = json!({ "features": { "kanban_enabled": on } });
            let changed = app.put(&path, &root.token, body).await;
            assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
        }
    };
    let path = t.path("/boards");
    let boards = || app.get(&path, &t.agent.token);
    assert_eq!(boards().await.status, StatusCode::OK);
    kanban(false).await;
    boards()
        .await
        .assert_problem(StatusCode::FORBIDDEN, "feature_disabled");
    kanban(true).await;
    assert_eq!(boards().await.status, StatusCode::OK);
}

#[tokio::test]
async fn cards_enter_the_first_open_stage_and_moves_keep_positions_dense() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let mut ids = Vec::new();
    for title in ["a", "b", "c", "d"] {
        ids.push(id(
            &card(&app, &t, &b, json!({ "title": title })).await["id"],
        ));
    }
    let top = card(&app, &t, &b, json!({ "title": "top", "position": 0 })).await;
    assert_eq!(top["position"], 0);
    assert_eq!(
        layout(&app, &t, &b).await,
        [
            ("top", 0, 0),
            ("a", 0, 1),
            ("b", 0, 2),
            ("c", 0, 3),
            ("d", 0, 4)
        ]
        .map(|(t, s, p)| (t.to_string(), s, p))
    );

    let moved = move_card(
        &app,
        &t,
        &b,
        &ids[1],
        json!({ "stage_id": b.stages[1], "position": 0 }),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    // A far position is the bottom; a move within the stage reorders it.
    move_card(
        &app,
        &t,
        &b,
        &ids[0],
        json!({ "stage_id": b.stages[1], "position": 99 }),
    )
    .await;
    move_card(
        &app,
        &t,
        &b,
        &ids[3],
        json!({ "stage_id": b.stages[0], "position": 0 }),
    )
    .await;
    assert_eq!(
        layout(&app, &t, &b).await,
        [
            ("d", 0, 0),
            ("top", 0, 1),
            ("c", 0, 2),
            ("b", 1, 0),
            ("a", 1, 1)
        ]
        .map(|(t, s, p)| (t.to_string(), s, p))
    );
    // Archiving closes the gap.
    let path = t.path(&format!("/boards/{}/cards/{}", b.id, id(&top["id"])));
    assert_eq!(
        app.delete(&path, &t.agent.token).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        layout(&app, &t, &b).await,
        [("d", 0, 0), ("c", 0, 1), ("b", 1, 0), ("a", 1, 1)].map(|(t, s, p)| (t.to_string(), s, p))
    );
}

#[tokio::test]
async fn concurrent_moves_lose_and_duplicate_no_position() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let mut ids = Vec::new();
    for n in 0..24 {
        ids.push(id(&card(
            &app,
            &t,
            &b,
            json!({ "title": format!("card {n:02}") }),
        )
        .await["id"]));
    }
    let moves = ids.iter().enumerate().map(|(n, card)| {
        let (app, t, b) = (&app, &t, &b);
        let stage = b.stages[n % 3].clone();
        async move {
            let body = json!({ "stage_id": stage, "position": (n * 7) % 5 });
            move_card(app, t, b, card, body).await.status
        }
    });
    let statuses = futures_util::future::join_all(moves).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let cards = layout(&app, &t, &b).await;
    assert_eq!(cards.len(), 24);
    for stage in 0..3 {
        let positions: Vec<i64> = cards.iter().filter(|c| c.1 == stage).map(|c| c.2).collect();
        let expected: Vec<i64> = (0..positions.len() as i64).collect();
        assert_eq!(positions, expected, "stage {stage} is dense");
    }
}

#[tokio::test]
async fn won_lost_and_reopened_are_history_with_who_and_why() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let c = card(
        &app,
        &t,
        &b,
        json!({ "title": "Deal", "value_minor": 150000 }),
    )
    .await;
    assert_eq!(c["currency"], "BRL");
    let card_id = id(&c["id"]);
    let won = move_card(&app, &t, &b, &card_id, json!({ "stage_id": b.stages[3] })).await;
    assert_eq!(won.body["status"], "won");
    let lost = move_card(
        &app,
        &t,
        &b,
        &card_id,
        json!({ "stage_id": b.stages[4], "lost_reason": "Too expensive" }),
    )
    .await;
    assert_eq!(lost.body["status"], "lost");
    assert_eq!(lost.body["lost_reason"], "Too expensive");
    let reopened = move_card(&app, &t, &b, &card_id, json!({ "stage_id": b.stages[1] })).await;
    assert_eq!(reopened.body["status"], "open");
    assert!(reopened.body["lost_reason"].is_null());

    let history = app
        .get(
            &t.path(&format!("/boards/{}/cards/{card_id}/history", b.id)),
            &t.admin.token,
        )
        .await;
    let events = history.body.as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "won", "lost", "reopened"]);
    assert_eq!(events[2]["reason"], "Too expensive");
    assert_eq!(events[2]["from_stage_id"], b.stages[3].as_str());
    assert_eq!(events[2]["to_stage_id"], b.stages[4].as_str());
    assert_eq!(events[1]["actor_type"], "user");
    assert_eq!(events[1]["actor_user_id"], t.agent.id.to_string());
}

#[tokio::test]
async fn a_stale_update_is_refused_and_changes_are_recorded() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let c = card(&app, &t, &b, json!({ "title": "Deal" })).await;
    let path = t.path(&format!("/boards/{}/cards/{}", b.id, id(&c["id"])));
    let patch = |body: Value| {
        let (app, path, token) = (&app, &path, &t.agent.token);
        async move {
            app.request(Method::PATCH, path, Some(token), Some(body))
                .await
        }
    };
    let first = patch(json!({ "version": 1, "priority": "high", "labels": ["VIP", "lead"] })).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["version"], 2);
    assert_eq!(first.body["labels"], json!(["lead", "vip"]));
    patch(json!({ "version": 1, "title": "Overwritten" }))
        .await
        .assert_problem(StatusCode::CONFLICT, "version_conflict");
    let fetched = app.get(&path, &t.agent.token).await;
    assert_eq!(fetched.body["title"], "Deal");

    let assignee = json!({ "assignee_id": uuid::Uuid::now_v7() });
    patch(assignee)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    patch(json!({ "custom_fields": { "budget": 10 } }))
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // `null` clears a field; leaving it out keeps it.
    let cleared = patch(json!({ "priority": null, "value_minor": 5000 })).await;
    assert!(cleared.body["priority"].is_null(), "{:?}", cleared.body);
    assert_eq!(cleared.body["labels"], json!(["lead", "vip"]));
    let cleared = patch(json!({ "value_minor": null })).await;
    assert!(cleared.body["value_minor"].is_null());
    let history = app.get(&format!("{path}/history"), &t.agent.token).await;
    let updated = &history.body[1];
    assert_eq!(updated["kind"], "updated");
    assert_eq!(
        updated["changes"]["priority"],
        json!({ "from": null, "to": "high" })
    );
}

#[tokio::test]
async fn card_writes_see_the_stages_and_settings_another_replica_changed() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    // A card written here first, so this replica has read the board's stages and settings.
    let c = id(&card(&app, &t, &b, json!({ "title": "Deal" })).await["id"]);
    let other = app.replica().await;

    let stages = t.path(&format!("/boards/{}/stages", b.id));
    let added = other
        .post(&stages, &t.supervisor.token, json!({ "name": "Proposal" }))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    let proposal = id(&added.body["id"]);
    let moved = move_card(&app, &t, &b, &c, json!({ "stage_id": proposal })).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);

    let fields =
        json!({ "custom_fields": [{ "key": "budget", "label": "Budget", "type": "number" }] });
    let board = t.path(&format!("/boards/{}", b.id));
    let patched = other
        .request(
            Method::PATCH,
            &board,
            Some(&t.supervisor.token),
            Some(fields),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    card(
        &app,
        &t,
        &b,
        json!({ "title": "Big deal", "custom_fields": { "budget": 10 } }),
    )
    .await;

    let gone = format!("{stages}/{proposal}?move_cards_to={}", b.stages[0]);
    let deleted = other.delete(&gone, &t.supervisor.token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{:?}", deleted.body);
    move_card(&app, &t, &b, &c, json!({ "stage_id": proposal }))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn stages_and_cards_of_another_board_are_not_found() {
    let (app, t) = tenant(&[]).await;
    let one = new_board(&app, &t).await;
    let other = new_board(&app, &t).await;
    let c = card(&app, &t, &one, json!({ "title": "Deal" })).await;
    let card_id = id(&c["id"]);
    move_card(
        &app,
        &t,
        &one,
        &card_id,
        json!({ "stage_id": other.stages[1] }),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let elsewhere = t.path(&format!("/boards/{}/cards/{card_id}", other.id));
    app.get(&elsewhere, &t.agent.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    let stage_elsewhere = t.path(&format!("/boards/{}/stages/{}", one.id, other.stages[0]));
    app.request(
        Method::PATCH,
        &stage_elsewhere,
        Some(&t.admin.token),
        Some(json!({ "name": "X" })),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn stages_move_and_a_deleted_stage_hands_its_cards_on() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let c = card(
        &app,
        &t,
        &b,
        json!({ "title": "Deal", "stage_id": b.stages[2] }),
    )
    .await;
    let moved = app
        .post(
            &t.path(&format!("/boards/{}/stages/{}/move", b.id, b.stages[4])),
            &t.supervisor.token,
            json!({ "position": 0 }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    let order: Vec<String> = moved
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| id(&s["name"]))
        .collect();
    assert_eq!(order, ["Lost", "New", "In progress", "Waiting", "Won"]);

    let waiting = t.path(&format!("/boards/{}/stages/{}", b.id, b.stages[2]));
    app.delete(&waiting, &t.supervisor.token)
        .await
        .assert_problem(StatusCode::CONFLICT, "stage_not_empty");
    let handed = format!("{waiting}?move_cards_to={}", b.stages[3]);
    assert_eq!(
        app.delete(&handed, &t.supervisor.token).await.status,
        StatusCode::NO_CONTENT
    );
    let card_path = t.path(&format!("/boards/{}/cards/{}", b.id, id(&c["id"])));
    let after = app.get(&card_path, &t.agent.token).await;
    assert_eq!(after.body["stage_id"], b.stages[3].as_str());
    assert_eq!(after.body["status"], "won");
    let stages = app
        .get(&t.path(&format!("/boards/{}/stages", b.id)), &t.agent.token)
        .await;
    let positions: Vec<i64> = stages
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [0, 1, 2, 3]);
}

#[tokio::test]
async fn cards_filter_by_label_priority_text_status_and_due_and_page() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let yesterday = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let yesterday = yesterday
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    card(&app, &t, &b, json!({ "title": "Joana — site", "labels": ["vip"], "priority": "urgent", "due_at": yesterday })).await;
    card(
        &app,
        &t,
        &b,
        json!({ "title": "Order A-3317", "contact_name": "Carlos Lima" }),
    )
    .await;
    for n in 0..5 {
        card(
            &app,
            &t,
            &b,
            json!({ "title": format!("Lead {n}"), "labels": ["lead"] }),
        )
        .await;
    }
    let titles = |query: &'static str| {
        let (app, t, b) = (&app, &t, &b);
        async move {
            let cards = listed(app, t, b, query).await;
            cards.iter().map(|c| id(&c["title"])).collect::<Vec<_>>()
        }
    };
    assert_eq!(titles("label=VIP").await, ["Joana — site"]);
    assert_eq!(titles("priority=urgent").await, ["Joana — site"]);
    assert_eq!(titles("q=carlos").await, ["Order A-3317"]);
    assert_eq!(titles("due=overdue").await, ["Joana — site"]);
    assert_eq!(titles("status=won").await, Vec::<String>::new());
    assert_eq!(titles("label=lead").await.len(), 5);

    let first = app
        .get(
            &t.path(&format!("/boards/{}/cards?label=lead&limit=2", b.id)),
            &t.agent.token,
        )
        .await;
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &t.path(&format!(
                "/boards/{}/cards?label=lead&limit=2&cursor={cursor}",
                b.id
            )),
            &t.agent.token,
        )
        .await;
    let page = |r: &Resp| {
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| id(&c["title"]))
            .collect::<Vec<_>>()
    };
    assert_eq!(page(&first), ["Lead 0", "Lead 1"]);
    assert_eq!(page(&second), ["Lead 2", "Lead 3"]);
    app.get(
        &t.path(&format!("/boards/{}/cards?due=someday", b.id)),
        &t.agent.token,
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn a_board_exports_its_cards_as_csv() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    card(
        &app,
        &t,
        &b,
        json!({ "title": "=cmd|' /C calc'!A0", "value_minor": 150050, "labels": ["vip"] }),
    )
    .await;
    card(
        &app,
        &t,
        &b,
        json!({ "title": "Order, \"A-3317\"", "contact_name": "Carlos" }),
    )
    .await;
    let resp = app
        .client
        .get(format!(
            "{}{}",
            app.base,
            t.path(&format!("/boards/{}/cards/export", b.id))
        ))
        .bearer_auth(&t.agent.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("Sales-cards.csv")
    );
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("id,title,stage,status,position,value,currency"));
    assert!(
        lines[1].contains(",'=cmd|' /C calc'!A0,New,open,0,1500.50,BRL,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(",\"Order, \"\"A-3317\"\"\",New,open,1,"),
        "{}",
        lines[2]
    );
    let filtered = app
        .client
        .get(format!(
            "{}{}",
            app.base,
            t.path(&format!("/boards/{}/cards/export?label=vip", b.id))
        ))
        .bearer_auth(&t.agent.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(filtered.split("\r\n").filter(|l| !l.is_empty()).count(), 2);
}

#[tokio::test]
async fn a_boards_card_list_is_served_again_until_the_board_changes() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let a = card(&app, &t, &b, json!({ "title": "a" })).await;
    let url = format!("{}{}", app.base, t.path(&format!("/boards/{}/cards", b.id)));
    let read = |etag: Option<String>| {
        let mut request = app.client.get(&url).bearer_auth(&t.agent.token);
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        async move { Resp::read(request.send().await.unwrap()).await }
    };
    let first = read(None).await;
    let etag = first.header("etag").unwrap().to_string();
    assert_eq!(
        read(Some(etag.clone())).await.status,
        StatusCode::NOT_MODIFIED
    );

    // Each kind of change retires the cached answer: a move, an edit, a stage's rename.
    let moved = move_card(
        &app,
        &t,
        &b,
        &id(&a["id"]),
        json!({ "stage_id": b.stages[1] }),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK);
    let after_move = read(Some(etag)).await;
    assert_eq!(after_move.status, StatusCode::OK);
    assert_eq!(after_move.body["items"][0]["stage_id"], json!(b.stages[1]));
    let etag = after_move.header("etag").unwrap().to_string();

    let edit = app
        .request(
            Method::PATCH,
            &t.path(&format!("/boards/{}/cards/{}", b.id, id(&a["id"]))),
            Some(&t.agent.token),
            Some(json!({ "title": "renamed" })),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{:?}", edit.body);
    let after_edit = read(Some(etag)).await;
    assert_eq!(after_edit.body["items"][0]["title"], "renamed");
    let etag = after_edit.header("etag").unwrap().to_string();

    let stage_move = app
        .post(
            &t.path(&format!("/boards/{}/stages/{}/move", b.id, b.stages[1])),
            &t.admin.token,
            json!({ "position": 0 }),
        )
        .await;
    assert_eq!(stage_move.status, StatusCode::OK, "{:?}", stage_move.body);
    assert_eq!(read(Some(etag)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_card_knows_when_it_entered_its_stage() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let a = card(&app, &t, &b, json!({ "title": "a" })).await;
    assert_eq!(a["stage_entered_at"], a["created_at"]);
    let within = move_card(
        &app,
        &t,
        &b,
        &id(&a["id"]),
        json!({ "stage_id": b.stages[0], "position": 0 }),
    )
    .await;
    assert_eq!(
        within.body["stage_entered_at"], a["stage_entered_at"],
        "same stage: the clock keeps running"
    );
    let moved = move_card(
        &app,
        &t,
        &b,
        &id(&a["id"]),
        json!({ "stage_id": b.stages[1] }),
    )
    .await;
    assert_eq!(
        moved.body["stage_entered_at"], moved.body["updated_at"],
        "a new stage starts it again"
    );
}

#[tokio::test]
async fn moves_within_a_stage_shift_only_the_cards_in_between() {
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let mut ids = Vec::new();
    for title in ["a", "b", "c", "d"] {
        ids.push(id(
            &card(&app, &t, &b, json!({ "title": title })).await["id"],
        ));
    }
    let place = |card: usize, position: Value| {
        let body = json!({ "stage_id": b.stages[0], "position": position });
        move_card(&app, &t, &b, &ids[card], body)
    };
    // The stage's titles, top first, after checking its positions are 0..n-1.
    let order = || async {
        let layout = layout(&app, &t, &b).await;
        for (i, (_, stage, position)) in layout.iter().enumerate() {
            assert_eq!((*stage, *position), (0, i as i64));
        }
        layout.into_iter().map(|(t, _, _)| t).collect::<Vec<_>>()
    };
    // To the bottom of its own stage (no position): last, not one past the end.
    assert_eq!(place(0, Value::Null).await.body["position"], 3);
    assert_eq!(order().await, ["b", "c", "d", "a"]);
    // Up, down, to where it already is, and past the top.
    place(3, json!(0)).await;
    assert_eq!(order().await, ["d", "b", "c", "a"]);
    place(1, json!(2)).await;
    assert_eq!(order().await, ["d", "c", "b", "a"]);
    place(1, json!(2)).await;
    place(2, json!(-5)).await;
    assert_eq!(order().await, ["c", "d", "b", "a"]);
}

#[tokio::test]
async fn cards_dropped_again_and_again_at_one_spot_keep_their_order() {
    // Each card placed just below "first" takes a quarter to three quarters of the room left
    // there; after about 30 there is none, and the stage is renumbered and the write tried
    // again (72 placements: on the create path, the move path, or both).
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let in_stage =
        |title: &str, stage: usize| json!({ "title": title, "stage_id": b.stages[stage] });
    card(&app, &t, &b, in_stage("first", 0)).await;
    card(&app, &t, &b, in_stage("last", 0)).await;
    let mut expected = vec!["first".to_string(), "last".to_string()];
    for n in 0..36 {
        let title = format!("made {n:02}");
        let mut body = in_stage(&title, 0);
        body["position"] = json!(1);
        assert_eq!(card(&app, &t, &b, body).await["position"], 1);
        expected.insert(1, title);
    }
    let mut waiting = Vec::new();
    for n in 0..36 {
        let title = format!("moved {n:02}");
        waiting.push((
            id(&card(&app, &t, &b, in_stage(&title, 1)).await["id"]),
            title,
        ));
    }
    for (card_id, title) in waiting {
        let body = json!({ "stage_id": b.stages[0], "position": 1 });
        let moved = move_card(&app, &t, &b, &card_id, body).await;
        assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
        assert_eq!(moved.body["position"], 1);
        expected.insert(1, title);
    }
    let cards = layout(&app, &t, &b).await;
    let positions: Vec<i64> = cards.iter().map(|c| c.2).collect();
    assert_eq!(positions, (0..expected.len() as i64).collect::<Vec<_>>());
    let titles: Vec<String> = cards.into_iter().map(|c| c.0).collect();
    assert_eq!(titles, expected);
}

#[tokio::test]
async fn concurrent_drops_at_one_spot_all_land_between_its_neighbours() {
    // Writers racing for one spot take equal ranks (ordered by id) and then find no room
    // between them: the stage is renumbered under everyone's feet and nothing is lost.
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    for title in ["first", "last"] {
        card(
            &app,
            &t,
            &b,
            json!({ "title": title, "stage_id": b.stages[0] }),
        )
        .await;
    }
    let drops = (0..30).map(|n| {
        let (app, t, b) = (&app, &t, &b);
        async move {
            let body =
                json!({ "title": format!("drop {n:02}"), "stage_id": b.stages[0], "position": 1 });
            let path = t.path(&format!("/boards/{}/cards", b.id));
            app.post(&path, &t.agent.token, body).await.status
        }
    });
    let statuses = futures_util::future::join_all(drops).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let cards = layout(&app, &t, &b).await;
    assert_eq!(cards.len(), 32);
    let positions: Vec<i64> = cards.iter().map(|c| c.2).collect();
    assert_eq!(positions, (0..32).collect::<Vec<i64>>());
    assert_eq!(
        (cards[0].0.as_str(), cards[31].0.as_str()),
        ("first", "last")
    );
}

#[tokio::test]
async fn a_cursor_from_another_board_pages_nothing() {
    // The cursor names a card; one of another board says nothing about this board's order.
    let (app, t) = tenant(&[]).await;
    let sales = new_board(&app, &t).await;
    for title in ["a", "b", "c"] {
        card(&app, &t, &sales, json!({ "title": title })).await;
    }
    let other = board(&app, &t, "Other").await;
    let other = Board {
        id: id(&other.body["id"]),
        stages: Vec::new(),
    };
    for title in ["x", "y"] {
        card(&app, &t, &other, json!({ "title": title })).await;
    }
    let path = |b: &Board, query: &str| t.path(&format!("/boards/{}/cards?{query}", b.id));
    let first = app.get(&path(&other, "limit=1"), &t.agent.token).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let foreign = app
        .get(&path(&sales, &format!("cursor={cursor}")), &t.agent.token)
        .await;
    assert_eq!(foreign.status, StatusCode::OK, "{:?}", foreign.body);
    assert_eq!(foreign.body["items"], json!([]));
}

/// Regression (issue 13, finding 21): a client that hangs up (as a load run's do when it
/// stops, or on its own timeout) used to cancel its handler wherever it was, between
/// `BEGIN` and `COMMIT` included; sqlx cannot take back a `COMMIT` already sent, and the
/// connection went back to the pool with PostgreSQL and sqlx disagreeing whether a
/// transaction was open. Handlers now run to the end whoever waits for them: every move is
/// applied, once, and positions stay dense.
#[tokio::test]
async fn moves_whose_clients_hang_up_are_applied_whole() {
    use futures_util::future::join_all;
    let (app, t) = tenant(&[]).await;
    let b = new_board(&app, &t).await;
    let mut cards = Vec::new();
    for n in 0..10 {
        cards.push(id(
            &card(&app, &t, &b, json!({ "title": format!("C{n}") })).await["id"]
        ));
    }
    let board = t.path(&format!("/boards/{}", b.id));
    let revision = || async {
        app.get(&board, &t.agent.token).await.body["revision"]
            .as_i64()
            .unwrap()
    };
    let before = revision().await;
    // Another writer holds the cards (PostgreSQL: their rows; SQLite: the one writer turn),
    // so every move is under way, waiting inside its transaction, when its client gives up.
    let mut blocker = app.state.db.begin().await.unwrap();
    if let whatpro_hub::platform::db::Tx::Postgres(tx) = &mut blocker {
        let board_id: uuid::Uuid = b.id.parse().unwrap();
        sqlx::query("SELECT id FROM cards WHERE board_id = $1 FOR UPDATE")
            .bind(board_id)
            .execute(&mut **tx)
            .await
            .unwrap();
    }
    let hang_ups = (0..40).map(|n| {
        let card = &cards[n % cards.len()];
        let path = t.path(&format!("/boards/{}/cards/{card}/move", b.id));
        app.client
            .post(format!("{}{path}", app.base))
            .timeout(std::time::Duration::from_millis(300))
            .bearer_auth(&t.agent.token)
            .json(&json!({ "stage_id": b.stages[n % 3], "position": 0 }))
            .send()
    });
    let answers = join_all(hang_ups).await;
    assert!(
        answers
            .iter()
            .all(|a| a.as_ref().is_err_and(|e| e.is_timeout()))
    );
    blocker.commit().await.unwrap();
    crate::webhooks::eventually("every move applied", || async {
        revision().await - before == 40
    })
    .await;
    if let whatpro_hub::platform::db::Db::Postgres(pool) = &app.state.db {
        let in_transaction = "SELECT COUNT(*) FROM pg_stat_activity
            WHERE application_name = current_setting('application_name')
              AND state LIKE 'idle in transaction%'";
        let left: i64 = sqlx::query_scalar(in_transaction)
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(left, 0, "a connection was left in a transaction");
    }
    for (n, card) in cards.iter().enumerate() {
        let stage = &b.stages[3 - n % 2];
        let moved = move_card(
            &app,
            &t,
            &b,
            card,
            json!({ "stage_id": stage, "position": 0 }),
        )
        .await;
        assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    }
    let placed = layout(&app, &t, &b).await;
    assert_eq!(placed.len(), 10);
    for stage in 0..b.stages.len() {
        let mut positions: Vec<i64> = placed
            .iter()
            .filter(|c| c.1 == stage)
            .map(|c| c.2)
            .collect();
        positions.sort();
        assert_eq!(
            positions,
            (0..positions.len() as i64).collect::<Vec<_>>(),
            "{placed:?}"
        );
    }
}
