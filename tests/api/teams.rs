//! Teams inside an account and their members: CRUD, unique names, the `max_teams` quota,
//! membership rules and tenant isolation.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    accounts::{
        assert_hidden, assert_invalid, assert_needs_token, assert_quota, ids, set_entitlements,
        sorted, super_admin, walk_pages,
    },
    support::{Caller, Resp, Tenant, TestApp},
};

fn team_path(tenant: &Tenant, team_id: Uuid) -> String {
    tenant.path(&format!("/teams/{team_id}"))
}

fn members_path(tenant: &Tenant, team_id: Uuid) -> String {
    format!("{}/members", team_path(tenant, team_id))
}

async fn create_team(app: &TestApp, caller: &Caller, tenant: &Tenant, body: Value) -> Resp {
    app.post(&tenant.path("/teams"), &caller.token, body).await
}

/// Creates a team named `name` as the tenant's supervisor; asserts 201 and answers its id.
async fn team(app: &TestApp, tenant: &Tenant, name: &str) -> Uuid {
    let resp = create_team(app, &tenant.supervisor, tenant, json!({ "name": name })).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{name}: {:?}", resp.body);
    resp.id()
}

/// The account's live teams, read by its admin.
async fn team_ids(app: &TestApp, tenant: &Tenant) -> Vec<Uuid> {
    ids(&app
        .get(&tenant.path("/teams?limit=200"), &tenant.admin.token)
        .await)
}

async fn add_to_team(
    app: &TestApp,
    caller: &Caller,
    tenant: &Tenant,
    team: Uuid,
    user: Uuid,
) -> Resp {
    app.post(
        &members_path(tenant, team),
        &caller.token,
        json!({ "user_id": user }),
    )
    .await
}

/// Adds `user` to `team` as the tenant's admin; asserts 201.
async fn join_team(app: &TestApp, tenant: &Tenant, team: Uuid, user: Uuid) {
    let resp = add_to_team(app, &tenant.admin, tenant, team, user).await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
}

/// The team's members (sorted), read by the account's admin.
async fn team_member_ids(app: &TestApp, tenant: &Tenant, team: Uuid) -> Vec<Uuid> {
    sorted(ids(&app
        .get(&members_path(tenant, team), &tenant.admin.token)
        .await))
}

#[tokio::test]
async fn supervisor_creates_reads_updates_and_deletes_a_team() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let created = create_team(
        &app,
        &tenant.supervisor,
        &tenant,
        json!({ "name": "  Sales " }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["name"], "Sales");
    assert_eq!(
        created.body["description"], "",
        "the description defaults to empty"
    );
    assert_eq!(created.body["chatwoot_team_id"], Value::Null);
    let id = created.id();
    let path = team_path(&tenant, id);

    let read = app.get(&path, &tenant.agent.token).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, created.body);
    assert_eq!(team_ids(&app, &tenant).await, vec![id]);

    let updated = app
        .put(
            &path,
            &tenant.supervisor.token,
            json!({ "name": "Inside Sales", "description": " Inbound leads " }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(updated.body["name"], "Inside Sales");
    assert_eq!(updated.body["description"], "Inbound leads");
    assert_eq!(updated.body["id"], created.body["id"]);
    assert_eq!(updated.body["created_at"], created.body["created_at"]);

    let described = app
        .put(
            &path,
            &tenant.admin.token,
            json!({ "description": "Only this" }),
        )
        .await;
    assert_eq!(described.status, StatusCode::OK);
    let read = app.get(&path, &tenant.agent.token).await;
    assert_eq!(
        read.body["name"], "Inside Sales",
        "a partial update keeps the name"
    );
    assert_eq!(read.body["description"], "Only this");

    let deleted = app.delete(&path, &tenant.supervisor.token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&path, &tenant.agent.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert!(team_ids(&app, &tenant).await.is_empty());
    app.delete(&path, &tenant.supervisor.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.put(&path, &tenant.supervisor.token, json!({ "name": "Zombie" }))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.get(&members_path(&tenant, id), &tenant.agent.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn agents_read_teams_but_cannot_manage_them() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let sales = team(&app, &tenant, "Sales").await;
    join_team(&app, &tenant, sales, tenant.agent.id).await;
    let agent = &tenant.agent;

    create_team(&app, agent, &tenant, json!({ "name": "Mine" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.put(
        &team_path(&tenant, sales),
        &agent.token,
        json!({ "name": "Renamed" }),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.delete(&team_path(&tenant, sales), &agent.token)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    add_to_team(&app, agent, &tenant, sales, tenant.supervisor.id)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.delete(
        &format!("{}/{}", members_path(&tenant, sales), agent.id),
        &agent.token,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");

    // Reading is open to agents, and nothing above changed anything.
    let list = app.get(&tenant.path("/teams"), &agent.token).await;
    assert_eq!(ids(&list), vec![sales]);
    assert_eq!(
        app.get(&team_path(&tenant, sales), &agent.token).await.body["name"],
        "Sales"
    );
    let members = app.get(&members_path(&tenant, sales), &agent.token).await;
    assert_eq!(ids(&members), vec![agent.id]);
}

#[tokio::test]
async fn team_input_is_validated() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let cases = [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "  " }), "name"),
        (json!({ "name": "n".repeat(81) }), "name"),
        (json!({ "name": "Tab\there" }), "name"),
        (
            json!({ "name": "Ok", "description": "d".repeat(501) }),
            "description",
        ),
    ];
    for (body, field) in cases.clone() {
        assert_invalid(
            &create_team(&app, &tenant.admin, &tenant, body).await,
            field,
        );
    }
    create_team(
        &app,
        &tenant.admin,
        &tenant,
        json!({ "name": "Ok", "color": "red" }),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(team_ids(&app, &tenant).await.is_empty());

    let edge = create_team(
        &app,
        &tenant.admin,
        &tenant,
        json!({ "name": "n".repeat(80), "description": "d".repeat(500) }),
    )
    .await;
    assert_eq!(
        edge.status,
        StatusCode::CREATED,
        "the limits themselves are allowed"
    );
    let path = team_path(&tenant, edge.id());
    for (body, field) in cases {
        assert_invalid(&app.put(&path, &tenant.admin.token, body).await, field);
    }
    assert_eq!(
        app.get(&path, &tenant.agent.token).await.body["name"],
        "n".repeat(80)
    );
    let add_garbage = app
        .post(
            &members_path(&tenant, edge.id()),
            &tenant.admin.token,
            json!({ "user_id": "me" }),
        )
        .await;
    add_garbage.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[tokio::test]
async fn team_names_are_unique_ignoring_case_among_live_teams() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let sales = team(&app, &acme, "Sales").await;
    for name in ["Sales", "sales", " SALES "] {
        create_team(&app, &acme.supervisor, &acme, json!({ "name": name }))
            .await
            .assert_problem(StatusCode::CONFLICT, "team_name_taken");
    }
    let support = team(&app, &acme, "Support").await;
    app.put(
        &team_path(&acme, support),
        &acme.supervisor.token,
        json!({ "name": "sALES" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "team_name_taken");
    assert_eq!(
        app.get(&team_path(&acme, support), &acme.agent.token)
            .await
            .body["name"],
        "Support"
    );
    let recased = app
        .put(
            &team_path(&acme, sales),
            &acme.supervisor.token,
            json!({ "name": "SALES" }),
        )
        .await;
    assert_eq!(
        recased.status,
        StatusCode::OK,
        "a team may change its own name's case"
    );

    team(&app, &globex, "Sales").await; // other accounts have their own names

    app.delete(&team_path(&acme, sales), &acme.supervisor.token)
        .await;
    let reused = team(&app, &acme, "sales").await;
    assert_ne!(reused, sales, "a deleted team's name is free again");
}

/// Regression: names differing only in non-ASCII case collide on both engines (SQLite's
/// `lower()` folds ASCII only, so the index on `lower(name)` let "Équipe" and "équipe" in).
#[tokio::test]
async fn team_names_are_unique_ignoring_case_beyond_ascii() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    team(&app, &tenant, "Équipe Ünited").await;
    create_team(
        &app,
        &tenant.supervisor,
        &tenant,
        json!({ "name": "équipe ünited" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "team_name_taken");
}

#[tokio::test]
async fn max_teams_is_enforced_and_deleting_frees_a_slot() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let first = team(&app, &tenant, "One").await;
    team(&app, &tenant, "Two").await;
    let refused = create_team(&app, &tenant.admin, &tenant, json!({ "name": "Three" })).await;
    assert_quota(&refused, "teams", 2, 2);
    create_team(&app, &root, &tenant, json!({ "name": "Three" }))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "quota_exceeded");
    assert_eq!(team_ids(&app, &tenant).await.len(), 2);

    app.delete(&team_path(&tenant, first), &tenant.admin.token)
        .await;
    team(&app, &tenant, "Three").await;
    assert_quota(
        &create_team(&app, &tenant.admin, &tenant, json!({ "name": "Four" })).await,
        "teams",
        2,
        2,
    );
}

/// Fires 8 team creates at once at a fresh account whose `max_teams` is 3: exactly 3 win,
/// the others are refused with the quota, and the list holds exactly the winners.
async fn race_for_three_team_slots(app: &TestApp, root: &Caller, name: &str) {
    let tenant = app.tenant(root, name).await;
    let limits = json!({ "limits": { "max_teams": 3 } });
    set_entitlements(app, root, tenant.id, limits).await;
    let attempts = (0..8).map(|n| {
        let body = json!({ "name": format!("Rush {n}") });
        create_team(app, &tenant.supervisor, &tenant, body)
    });
    let results = join_all(attempts).await;
    let created: Vec<Uuid> = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .map(Resp::id)
        .collect();
    assert_eq!(created.len(), 3, "{name}: exactly max_teams creates win");
    for refused in results.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_quota(refused, "teams", 3, 3);
    }
    assert_eq!(sorted(team_ids(app, &tenant).await), sorted(created));
}

#[tokio::test]
async fn concurrent_team_creates_stop_at_max_teams() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    // Several rounds: an unguarded count-then-insert loses at least one of them.
    for round in 0..5 {
        race_for_three_team_slots(&app, &root, &format!("Race {round}")).await;
    }
}

#[tokio::test]
async fn team_members_are_added_listed_and_removed() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let sales = team(&app, &tenant, "Sales").await;
    assert!(team_member_ids(&app, &tenant, sales).await.is_empty());

    let added = add_to_team(&app, &tenant.supervisor, &tenant, sales, tenant.agent.id).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["id"], tenant.agent.id.to_string());
    assert_eq!(added.body["email"], "agent@acme.test");
    assert_eq!(added.body["role"], "agent");
    let again = add_to_team(&app, &tenant.supervisor, &tenant, sales, tenant.agent.id).await;
    assert_eq!(again.status, StatusCode::OK, "adding twice is harmless");
    assert_eq!(again.body, added.body);
    let admin_joins = add_to_team(&app, &tenant.admin, &tenant, sales, tenant.admin.id).await;
    assert_eq!(admin_joins.status, StatusCode::CREATED);
    assert_eq!(
        team_member_ids(&app, &tenant, sales).await,
        sorted(vec![tenant.agent.id, tenant.admin.id])
    );
    let paged = walk_pages(&app, &members_path(&tenant, sales), &tenant.agent.token, 1).await;
    assert_eq!(
        sorted(paged),
        sorted(vec![tenant.agent.id, tenant.admin.id])
    );

    // Membership is per team.
    let support = team(&app, &tenant, "Support").await;
    assert!(team_member_ids(&app, &tenant, support).await.is_empty());

    let member = format!("{}/{}", members_path(&tenant, sales), tenant.agent.id);
    let removed = app.delete(&member, &tenant.supervisor.token).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    app.delete(&member, &tenant.supervisor.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.delete(
        &format!("{}/{}", members_path(&tenant, support), tenant.admin.id),
        &tenant.supervisor.token,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        team_member_ids(&app, &tenant, sales).await,
        vec![tenant.admin.id]
    );
}

#[tokio::test]
async fn only_active_members_of_the_account_join_a_team() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let sales = team(&app, &acme, "Sales").await;
    let outsider = add_to_team(&app, &acme.admin, &acme, sales, globex.agent.id).await;
    assert_invalid(&outsider, "user_id");
    let unknown = add_to_team(&app, &acme.admin, &acme, sales, Uuid::now_v7()).await;
    assert_invalid(&unknown, "user_id");
    let super_admin_user = add_to_team(&app, &acme.admin, &acme, sales, root.id).await;
    assert_invalid(&super_admin_user, "user_id");

    let off = app
        .request(
            Method::POST,
            &acme.path(&format!("/users/{}/deactivate", acme.agent.id)),
            Some(&acme.admin.token),
            None,
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    let deactivated = add_to_team(&app, &acme.admin, &acme, sales, acme.agent.id).await;
    assert_invalid(&deactivated, "user_id");
    assert!(team_member_ids(&app, &acme, sales).await.is_empty());
}

#[tokio::test]
async fn deleting_a_team_drops_its_members() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let sales = team(&app, &tenant, "Sales").await;
    join_team(&app, &tenant, sales, tenant.agent.id).await;
    app.delete(&team_path(&tenant, sales), &tenant.admin.token)
        .await;
    add_to_team(&app, &tenant.admin, &tenant, sales, tenant.agent.id)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.delete(
        &format!("{}/{}", members_path(&tenant, sales), tenant.agent.id),
        &tenant.admin.token,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    // A new team of the same name starts empty.
    let again = team(&app, &tenant, "Sales").await;
    assert!(team_member_ids(&app, &tenant, again).await.is_empty());
}

#[tokio::test]
async fn team_list_walks_every_page_by_cursor() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    set_entitlements(
        &app,
        &root,
        tenant.id,
        json!({ "limits": { "max_teams": 10 } }),
    )
    .await;
    let mut created = Vec::new();
    for n in 0..6 {
        created.push(team(&app, &tenant, &format!("Team {n}")).await);
    }
    app.delete(&team_path(&tenant, created.remove(2)), &tenant.admin.token)
        .await;
    let created = sorted(created);
    for limit in [1, 2, 5] {
        let walked = walk_pages(&app, &tenant.path("/teams"), &tenant.agent.token, limit).await;
        assert_eq!(walked, created, "limit {limit}: live teams only, each once");
    }
    assert_invalid(
        &app.get(&tenant.path("/teams?limit=201"), &tenant.agent.token)
            .await,
        "limit",
    );
}

#[tokio::test]
async fn another_tenants_teams_are_not_found() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let sales = team(&app, &acme, "Sales").await;
    join_team(&app, &acme, sales, acme.agent.id).await;
    let mine = team(&app, &globex, "Mine").await;
    let nobody = Uuid::now_v7();
    let spy = &globex.admin;
    let rename = json!({ "name": "Taken over" });
    let join = json!({ "user_id": globex.agent.id });

    // Acme's team through Acme's path (not a member) and through Globex's own path.
    for tenant in [&acme, &globex] {
        assert_hidden(
            &app.get(&team_path(tenant, sales), &spy.token).await,
            &app.get(&team_path(&globex, nobody), &spy.token).await,
        );
        assert_hidden(
            &app.put(&team_path(tenant, sales), &spy.token, rename.clone())
                .await,
            &app.put(&team_path(&globex, nobody), &spy.token, rename.clone())
                .await,
        );
        assert_hidden(
            &app.get(&members_path(tenant, sales), &spy.token).await,
            &app.get(&members_path(&globex, nobody), &spy.token).await,
        );
        assert_hidden(
            &app.post(&members_path(tenant, sales), &spy.token, join.clone())
                .await,
            &app.post(&members_path(&globex, nobody), &spy.token, join.clone())
                .await,
        );
        let their_member = format!("{}/{}", members_path(tenant, sales), acme.agent.id);
        let no_member = format!("{}/{}", members_path(&globex, nobody), acme.agent.id);
        assert_hidden(
            &app.delete(&their_member, &spy.token).await,
            &app.delete(&no_member, &spy.token).await,
        );
        assert_hidden(
            &app.delete(&team_path(tenant, sales), &spy.token).await,
            &app.delete(&team_path(&globex, nobody), &spy.token).await,
        );
    }
    // Globex's team id under Acme's path, even for Acme's own admin.
    let token = &acme.admin.token;
    assert_hidden(
        &app.get(&team_path(&acme, mine), token).await,
        &app.get(&team_path(&acme, nobody), token).await,
    );
    assert_hidden(
        &app.post(
            &members_path(&acme, mine),
            token,
            json!({ "user_id": acme.agent.id }),
        )
        .await,
        &app.post(
            &members_path(&acme, nobody),
            token,
            json!({ "user_id": acme.agent.id }),
        )
        .await,
    );
    assert_hidden(
        &app.delete(&team_path(&acme, mine), token).await,
        &app.delete(&team_path(&acme, nobody), token).await,
    );

    let intact = app.get(&team_path(&acme, sales), &acme.agent.token).await;
    assert_eq!(intact.body["name"], "Sales");
    assert_eq!(
        team_member_ids(&app, &acme, sales).await,
        vec![acme.agent.id]
    );
    assert_eq!(team_ids(&app, &globex).await, vec![mine]);
    assert!(team_member_ids(&app, &globex, mine).await.is_empty());
}

#[tokio::test]
async fn team_endpoints_need_a_valid_token() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let sales = team(&app, &tenant, "Sales").await;
    let one = team_path(&tenant, sales);
    let members = members_path(&tenant, sales);
    let name = Some(json!({ "name": "X" }));
    assert_needs_token(&app, Method::GET, &tenant.path("/teams"), None).await;
    assert_needs_token(&app, Method::POST, &tenant.path("/teams"), name.clone()).await;
    assert_needs_token(&app, Method::GET, &one, None).await;
    assert_needs_token(&app, Method::PUT, &one, name).await;
    assert_needs_token(&app, Method::DELETE, &one, None).await;
    assert_needs_token(&app, Method::GET, &members, None).await;
    let join = Some(json!({ "user_id": tenant.agent.id }));
    assert_needs_token(&app, Method::POST, &members, join).await;
    let member = format!("{members}/{}", tenant.agent.id);
    assert_needs_token(&app, Method::DELETE, &member, None).await;
    assert_eq!(team_ids(&app, &tenant).await, vec![sales]);
    assert!(team_member_ids(&app, &tenant, sales).await.is_empty());
}
