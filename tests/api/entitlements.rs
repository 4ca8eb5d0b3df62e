//! Entitlements: the free plan's limits and features, usage counts, and per-account
//! overrides set by super admins.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    accounts::{
        account_path, assert_hidden, assert_needs_token, assert_quota, set_entitlements,
        super_admin,
    },
    support::{Caller, Resp, Tenant, TestApp},
};

fn free_plan_limits() -> Value {
    json!({
        "max_agents": 5,
        "max_teams": 2,
        "max_inboxes": 2,
        "max_boards": 2,
        "max_providers": 1,
        "max_instances": 1,
        "max_monthly_messages": 1000
    })
}

fn free_plan_features() -> Value {
    json!({ "kanban_enabled": true, "internal_chat_enabled": true, "analytics_enabled": false })
}

/// The usage document as `caller` sees it; asserts 200.
async fn usage(app: &TestApp, caller: &Caller, account_id: Uuid) -> Value {
    let resp = app
        .get(
            &format!("{}/usage", account_path(account_id)),
            &caller.token,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body
}

async fn put_entitlements(app: &TestApp, caller: &Caller, account_id: Uuid, body: Value) -> Resp {
    app.put(
        &format!("{}/entitlements", account_path(account_id)),
        &caller.token,
        body,
    )
    .await
}

async fn create_team(app: &TestApp, tenant: &Tenant, name: &str) -> Resp {
    app.post(
        &tenant.path("/teams"),
        &tenant.admin.token,
        json!({ "name": name }),
    )
    .await
}

#[tokio::test]
async fn usage_shows_the_free_plan_to_every_member() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let expected = json!({
        "limits": free_plan_limits(),
        "features": free_plan_features(),
        "usage": { "agents": 3, "teams": 0, "inboxes": 0, "boards": 0, "providers": 0, "instances": 0 },
        "messages_this_month": 0,
        "active_agents_this_month": 0
    });
    for caller in [&root, &tenant.admin, &tenant.supervisor, &tenant.agent] {
        assert_eq!(usage(&app, caller, tenant.id).await, expected);
    }
}

#[tokio::test]
async fn usage_counts_follow_creates_deletes_and_deactivations() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let counts = |body: Value| body["usage"].clone();

    let sales = create_team(&app, &tenant, "Sales").await.id();
    assert_eq!(
        counts(usage(&app, &tenant.agent, tenant.id).await),
        json!({ "agents": 3, "teams": 1, "inboxes": 0, "boards": 0, "providers": 0, "instances": 0 })
    );
    create_team(&app, &tenant, "Support").await;
    assert_eq!(
        counts(usage(&app, &tenant.agent, tenant.id).await)["teams"],
        2
    );
    let deleted = app
        .delete(
            &tenant.path(&format!("/teams/{sales}")),
            &tenant.admin.token,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        counts(usage(&app, &tenant.agent, tenant.id).await)["teams"],
        1
    );

    let added = app
        .post(
            &tenant.path("/users"),
            &tenant.admin.token,
            json!({ "email": "four@acme.test", "name": "Four" }),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED);
    assert_eq!(
        counts(usage(&app, &tenant.agent, tenant.id).await)["agents"],
        4
    );
    let off = app
        .request(
            Method::POST,
            &tenant.path(&format!("/users/{}/deactivate", added.id())),
            Some(&tenant.admin.token),
            None,
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    assert_eq!(
        counts(usage(&app, &tenant.agent, tenant.id).await),
        json!({ "agents": 3, "teams": 1, "inboxes": 0, "boards": 0, "providers": 0, "instances": 0 }),
        "deactivated members do not count"
    );
}

#[tokio::test]
async fn usage_is_counted_per_account() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    create_team(&app, &acme, "Sales").await;
    create_team(&app, &acme, "Support").await;
    assert_eq!(usage(&app, &acme.admin, acme.id).await["usage"]["teams"], 2);
    assert_eq!(
        usage(&app, &globex.admin, globex.id).await["usage"]["teams"],
        0
    );
    assert_eq!(
        create_team(&app, &globex, "Sales").await.status,
        StatusCode::CREATED,
        "one account's usage does not fill another's quota"
    );
}

#[tokio::test]
async fn super_admin_overrides_are_partial_and_enforced() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let effective = set_entitlements(
        &app,
        &root,
        tenant.id,
        json!({ "limits": { "max_teams": 4 } }),
    )
    .await;
    let mut limits = free_plan_limits();
    limits["max_teams"] = json!(4);
    assert_eq!(
        effective,
        json!({ "limits": limits, "features": free_plan_features() }),
        "the answer is the effective plan"
    );

    let effective = set_entitlements(
        &app,
        &root,
        tenant.id,
        json!({ "features": { "analytics_enabled": true }, "limits": { "max_boards": 9 } }),
    )
    .await;
    limits["max_boards"] = json!(9);
    let mut features = free_plan_features();
    features["analytics_enabled"] = json!(true);
    assert_eq!(effective, json!({ "limits": limits, "features": features }));
    let seen = usage(&app, &tenant.agent, tenant.id).await;
    assert_eq!(seen["limits"], limits, "earlier overrides are kept");
    assert_eq!(seen["features"], features);

    for n in 0..4 {
        let created = create_team(&app, &tenant, &format!("Team {n}")).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    }
    assert_quota(&create_team(&app, &tenant, "Team 4").await, "teams", 4, 4);

    // Lowering a limit below the current usage refuses new ones without removing any.
    set_entitlements(
        &app,
        &root,
        tenant.id,
        json!({ "limits": { "max_teams": 1 } }),
    )
    .await;
    assert_quota(&create_team(&app, &tenant, "Team 5").await, "teams", 1, 4);
    assert_eq!(
        usage(&app, &tenant.agent, tenant.id).await["usage"]["teams"],
        4
    );

    let empty = set_entitlements(&app, &root, tenant.id, json!({})).await;
    assert_eq!(
        empty["limits"]["max_teams"], 1,
        "an empty update changes nothing"
    );
}

#[tokio::test]
async fn overrides_apply_to_one_account_only() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    set_entitlements(
        &app,
        &root,
        acme.id,
        json!({ "limits": { "max_agents": 50 } }),
    )
    .await;
    assert_eq!(
        usage(&app, &acme.admin, acme.id).await["limits"]["max_agents"],
        50
    );
    assert_eq!(
        usage(&app, &globex.admin, globex.id).await["limits"],
        free_plan_limits()
    );
}

#[tokio::test]
async fn plan_defaults_come_from_configuration() {
    let app = TestApp::spawn_with(&[
        ("DEFAULT_PLAN_MAX_TEAMS", "1"),
        ("DEFAULT_PLAN_ANALYTICS_ENABLED", "true"),
    ])
    .await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let seen = usage(&app, &tenant.agent, tenant.id).await;
    assert_eq!(seen["limits"]["max_teams"], 1);
    assert_eq!(seen["limits"]["max_agents"], 5);
    assert_eq!(seen["features"]["analytics_enabled"], true);
    assert_eq!(
        create_team(&app, &tenant, "Only").await.status,
        StatusCode::CREATED
    );
    assert_quota(&create_team(&app, &tenant, "Second").await, "teams", 1, 1);
}

#[tokio::test]
async fn overrides_with_unknown_names_or_wrong_types_are_refused() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    set_entitlements(
        &app,
        &root,
        tenant.id,
        json!({ "limits": { "max_teams": 3 } }),
    )
    .await;
    let refused = [
        json!({ "limits": { "max_spaceships": 1 } }),
        json!({ "limits": { "max_teams": "lots" } }),
        json!({ "limits": { "max_teams": 2.5 } }),
        json!({ "limits": { "max_teams": null } }),
        json!({ "limits": 3 }),
        json!({ "features": { "kanban_enabled": 3 } }),
        json!({ "features": { "teleport_enabled": true } }),
        json!({ "limits": { "max_teams": 4, "max_spaceships": 1 } }),
        json!({ "plan": "pro" }),
        json!({ "limits": { "max_teams": -1 } }),
    ];
    for body in refused {
        let resp = put_entitlements(&app, &root, tenant.id, body.clone()).await;
        resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(
            !resp.body["errors"].as_array().unwrap().is_empty(),
            "{body}: {:?}",
            resp.body
        );
    }
    let named = put_entitlements(
        &app,
        &root,
        tenant.id,
        json!({ "limits": { "max_boards": -5 } }),
    )
    .await;
    assert_eq!(
        named.body["errors"][0]["field"], "limits.max_boards",
        "{:?}",
        named.body
    );
    let kept = usage(&app, &tenant.agent, tenant.id).await;
    assert_eq!(
        kept["limits"]["max_teams"], 3,
        "a refused update stores nothing"
    );
    assert_eq!(kept["features"], free_plan_features());
}

#[tokio::test]
async fn only_super_admins_set_entitlements() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let body = json!({ "limits": { "max_agents": 1000 } });
    for caller in [&tenant.admin, &tenant.supervisor, &tenant.agent] {
        put_entitlements(&app, caller, tenant.id, body.clone())
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
    assert_eq!(
        usage(&app, &tenant.admin, tenant.id).await["limits"]["max_agents"],
        5
    );
}

#[tokio::test]
async fn another_tenants_entitlements_are_not_found() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let nobody = Uuid::now_v7();
    let spy = &globex.admin;
    assert_hidden(
        &app.get(&format!("{}/usage", account_path(acme.id)), &spy.token)
            .await,
        &app.get(&format!("{}/usage", account_path(nobody)), &spy.token)
            .await,
    );
    let body = json!({ "limits": { "max_agents": 1000 } });
    assert_hidden(
        &put_entitlements(&app, spy, acme.id, body.clone()).await,
        &put_entitlements(&app, spy, nobody, body.clone()).await,
    );
    put_entitlements(&app, &root, nobody, body)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        usage(&app, &acme.admin, acme.id).await["limits"]["max_agents"],
        5
    );
}

#[tokio::test]
async fn entitlement_endpoints_need_a_valid_token() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = account_path(tenant.id);
    assert_needs_token(&app, Method::GET, &format!("{path}/usage"), None).await;
    let body = json!({ "limits": { "max_teams": 99 } });
    assert_needs_token(
        &app,
        Method::PUT,
        &format!("{path}/entitlements"),
        Some(body),
    )
    .await;
    assert_eq!(
        usage(&app, &root, tenant.id).await["limits"]["max_teams"],
        2
    );
}

/// The monthly cleanup forgets which messages of past months were counted (a redelivery
/// that late is past Chatwoot's retries) and keeps the months' totals.
#[tokio::test]
async fn the_monthly_cleanup_forgets_counted_ids_and_keeps_totals() {
    use whatpro_hub::metering::{Metered, store};
    let mut app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    // The hub's own housekeeping purges the months before last by the wall clock: stopped,
    // so the months below are this test's alone whatever day it runs.
    app.stop().await;
    let counted = |message_id, month: &str| Metered {
        message_id,
        month: month.into(),
        agent_id: None,
    };
    let mut tx = app.state.db.begin().await.unwrap();
    let batch = [
        counted(1, "2026-10"),
        counted(2, "2026-11"),
        counted(3, "2026-12"),
    ];
    store::record(&mut tx, acme.id, &batch).await.unwrap();
    tx.commit().await.unwrap();

    let purged = store::purge_before(&app.state.db, "2026-12").await.unwrap();
    assert_eq!(purged, 2);
    let mut tx = app.state.db.begin().await.unwrap();
    let again = store::record(&mut tx, acme.id, &[counted(3, "2026-12")])
        .await
        .unwrap();
    assert!(again.is_empty(), "this month's ids are still known");
    let (messages, _) = store::month(&mut tx, acme.id, "2026-10").await.unwrap();
    assert_eq!(messages, 1, "past totals stay");
    tx.commit().await.unwrap();
}
