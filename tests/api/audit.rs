//! The audit log: what the tenancy writes record (actor, action, resource, before/after,
//! request id, client), who may read it, its filters, order and pages, tenant isolation,
//! and that refused writes leave no trace.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::{
    accounts::{
        account_path, assert_hidden, assert_invalid, assert_needs_token, set_entitlements,
        super_admin, walk_pages,
    },
    support::{Caller, Resp, Tenant, TestApp},
};

const USER_AGENT: &str = "audit-test/1.0";

/// A request carrying our own `x-request-id` and user agent.
async fn traced(
    app: &TestApp,
    caller: &Caller,
    method: Method,
    path: &str,
    body: Option<Value>,
    request_id: &str,
) -> Resp {
    let mut request = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(&caller.token)
        .header("x-request-id", request_id)
        .header("user-agent", USER_AGENT);
    if let Some(body) = body {
        request = request.json(&body);
    }
    Resp::read(request.send().await.unwrap()).await
}

/// Every entry of the account's log matching `query` (one page of up to 200), as `caller`.
async fn log(app: &TestApp, caller: &Caller, account_id: Uuid, query: &str) -> Vec<Value> {
    let resp = app
        .get(
            &format!("{}/audit-logs?limit=200&{query}", account_path(account_id)),
            &caller.token,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{query}: {:?}", resp.body);
    assert!(resp.body["next_cursor"].is_null(), "more than one page");
    resp.body["items"].as_array().unwrap().clone()
}

/// The one entry of `account_id`'s log with `action` on `resource_id`, read by `reader`.
async fn entry_as(
    app: &TestApp,
    reader: &Caller,
    account_id: Uuid,
    action: &str,
    resource_id: impl ToString,
) -> Value {
    let query = format!("action={action}&resource_id={}", resource_id.to_string());
    let mut found = log(app, reader, account_id, &query).await;
    assert_eq!(found.len(), 1, "{query}: {found:?}");
    found.remove(0)
}

/// The one entry of the tenant's log with `action` on `resource_id`, read by its admin.
async fn entry(app: &TestApp, tenant: &Tenant, action: &str, resource_id: impl ToString) -> Value {
    entry_as(app, &tenant.admin, tenant.id, action, resource_id).await
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

fn entry_ids(entries: &[Value]) -> Vec<Uuid> {
    entries
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

fn created_at(entry: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(entry["created_at"].as_str().unwrap(), &Rfc3339).unwrap()
}

/// An RFC 3339 instant as a query value (its `+` must be escaped).
fn query_time(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap().replace('+', "%2B")
}

#[track_caller]
fn assert_recorded_by(entry: &Value, account_id: Uuid, actor: &Caller, request_id: &str) {
    assert_eq!(entry["account_id"], account_id.to_string(), "{entry}");
    assert_eq!(entry["actor_type"], "user");
    assert_eq!(entry["actor_user_id"], actor.id.to_string());
    assert_eq!(entry["request_id"], request_id);
    assert_eq!(entry["ip"], "127.0.0.1");
    assert_eq!(entry["user_agent"], USER_AGENT);
}

async fn create_team(app: &TestApp, caller: &Caller, tenant: &Tenant, name: &str) -> Resp {
    app.post(
        &tenant.path("/teams"),
        &caller.token,
        json!({ "name": name }),
    )
    .await
}

#[tokio::test]
async fn a_team_create_is_recorded_with_actor_request_id_and_client() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let created = traced(
        &app,
        &tenant.supervisor,
        Method::POST,
        &tenant.path("/teams"),
        Some(json!({ "name": "Sales", "description": "Leads" })),
        "req-team-create-1",
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let team = created.id();
    let entry = entry(&app, &tenant, "team.created", team).await;
    assert_recorded_by(&entry, tenant.id, &tenant.supervisor, "req-team-create-1");
    assert_eq!(entry["resource_type"], "team");
    assert_eq!(entry["resource_id"], team.to_string());
    assert_eq!(entry["before"], Value::Null);
    assert_eq!(entry["after"], created.body, "after is the team as created");
    let age = OffsetDateTime::now_utc() - created_at(&entry);
    assert!(
        age.whole_seconds().abs() <= 60,
        "created_at is now: {entry}"
    );
}

#[tokio::test]
async fn a_generated_request_id_is_the_one_recorded() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let created = create_team(&app, &tenant.admin, &tenant, "Sales").await;
    let generated = created
        .header("x-request-id")
        .expect("a request id")
        .to_string();
    let entry = entry(&app, &tenant, "team.created", created.id()).await;
    assert_eq!(entry["request_id"], generated);
    assert_eq!(entry["user_agent"], Value::Null, "no user agent was sent");
}

#[tokio::test]
async fn team_updates_deletes_and_memberships_record_before_and_after() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let created = create_team(&app, &tenant.admin, &tenant, "Sales").await;
    let team = created.id();
    let path = tenant.path(&format!("/teams/{team}"));
    let admin = &tenant.admin;

    let updated = traced(
        &app,
        admin,
        Method::PUT,
        &path,
        Some(json!({ "name": "Inside Sales" })),
        "req-upd",
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK);
    let entry_upd = entry(&app, &tenant, "team.updated", team).await;
    assert_recorded_by(&entry_upd, tenant.id, admin, "req-upd");
    assert_eq!(entry_upd["before"], created.body);
    assert_eq!(entry_upd["after"], updated.body);

    let members = format!("{path}/members");
    let agent = json!({ "user_id": tenant.agent.id });
    let added = traced(
        &app,
        admin,
        Method::POST,
        &members,
        Some(agent.clone()),
        "req-add",
    )
    .await;
    assert_eq!(added.status, StatusCode::CREATED);
    let again = traced(
        &app,
        admin,
        Method::POST,
        &members,
        Some(agent.clone()),
        "req-add-2",
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    let entry_add = entry(&app, &tenant, "team.member_added", team).await;
    assert_recorded_by(&entry_add, tenant.id, admin, "req-add");
    assert_eq!(entry_add["before"], Value::Null);
    assert_eq!(entry_add["after"], agent, "adding twice is recorded once");

    let member = format!("{members}/{}", tenant.agent.id);
    let removed = traced(&app, admin, Method::DELETE, &member, None, "req-rm").await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let entry_rm = entry(&app, &tenant, "team.member_removed", team).await;
    assert_recorded_by(&entry_rm, tenant.id, admin, "req-rm");
    assert_eq!(entry_rm["before"], agent);
    assert_eq!(entry_rm["after"], Value::Null);

    let deleted = traced(&app, admin, Method::DELETE, &path, None, "req-del").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let entry_del = entry(&app, &tenant, "team.deleted", team).await;
    assert_recorded_by(&entry_del, tenant.id, admin, "req-del");
    assert_eq!(entry_del["before"], updated.body);
    assert_eq!(entry_del["after"], Value::Null);

    let history = log(&app, admin, tenant.id, &format!("resource_id={team}")).await;
    assert_eq!(
        actions(&history),
        [
            "team.deleted",
            "team.member_removed",
            "team.member_added",
            "team.updated",
            "team.created"
        ]
    );
}

#[tokio::test]
async fn user_changes_are_recorded() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let admin = &tenant.admin;
    let created = traced(
        &app,
        admin,
        Method::POST,
        &tenant.path("/users"),
        Some(json!({ "email": "new@acme.test", "name": "New" })),
        "req-user-new",
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let user = created.id();
    let path = tenant.path(&format!("/users/{user}"));
    let made = entry(&app, &tenant, "user.created", user).await;
    assert_recorded_by(&made, tenant.id, admin, "req-user-new");
    assert_eq!(made["resource_type"], "user");
    assert_eq!(made["before"], Value::Null);
    assert_eq!(made["after"], created.body);

    let promoted = traced(
        &app,
        admin,
        Method::PUT,
        &path,
        Some(json!({ "role": "supervisor" })),
        "req-user-upd",
    )
    .await;
    let changed = entry(&app, &tenant, "user.updated", user).await;
    assert_recorded_by(&changed, tenant.id, admin, "req-user-upd");
    assert_eq!(changed["before"], created.body);
    assert_eq!(changed["after"], promoted.body);
    assert_eq!(changed["after"]["role"], "supervisor");

    let off = traced(
        &app,
        admin,
        Method::POST,
        &format!("{path}/deactivate"),
        None,
        "req-user-off",
    )
    .await;
    let deactivated = entry(&app, &tenant, "user.deactivated", user).await;
    assert_recorded_by(&deactivated, tenant.id, admin, "req-user-off");
    assert_eq!(deactivated["before"]["active"], true);
    assert_eq!(deactivated["after"], off.body);
    assert_eq!(deactivated["after"]["active"], false);

    let on = traced(
        &app,
        admin,
        Method::POST,
        &format!("{path}/activate"),
        None,
        "req-user-on",
    )
    .await;
    let activated = entry(&app, &tenant, "user.activated", user).await;
    assert_recorded_by(&activated, tenant.id, admin, "req-user-on");
    assert_eq!(activated["before"]["active"], false);
    assert_eq!(activated["after"], on.body);

    // The harness added its three members as the super admin.
    let by_root = log(
        &app,
        admin,
        tenant.id,
        &format!("action=user.created&actor={}", root.id),
    )
    .await;
    let mut added: Vec<_> = by_root
        .iter()
        .map(|e| e["after"]["role"].as_str().unwrap())
        .collect();
    added.sort();
    assert_eq!(added, ["admin", "agent", "supervisor"]);
}

#[tokio::test]
async fn account_and_entitlement_changes_are_recorded() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let created = traced(
        &app,
        &root,
        Method::POST,
        "/api/v1/accounts",
        Some(json!({ "name": "Acme" })),
        "req-acct-new",
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let account = created.id();
    let admin = app
        .post(
            &format!("{}/users", account_path(account)),
            &root.token,
            json!({ "email": "admin@acme.test", "name": "Admin", "role": "admin" }),
        )
        .await
        .id();
    let admin = Caller {
        id: admin,
        token: app.token_for(admin).await,
    };
    let made = entry_as(&app, &admin, account, "account.created", account).await;
    assert_recorded_by(&made, account, &root, "req-acct-new");
    assert_eq!(made["resource_type"], "account");
    assert_eq!(made["after"], created.body);

    let renamed = traced(
        &app,
        &admin,
        Method::PUT,
        &account_path(account),
        Some(json!({ "name": "Acme Corp" })),
        "req-acct-upd",
    )
    .await;
    let updated = entry_as(&app, &admin, account, "account.updated", account).await;
    assert_recorded_by(&updated, account, &admin, "req-acct-upd");
    assert_eq!(updated["before"], created.body);
    assert_eq!(updated["after"], renamed.body);

    let first = traced(
        &app,
        &root,
        Method::PUT,
        &format!("{}/entitlements", account_path(account)),
        Some(json!({ "limits": { "max_teams": 3 } })),
        "req-ent-1",
    )
    .await;
    assert_eq!(first.status, StatusCode::OK);
    set_entitlements(
        &app,
        &root,
        account,
        json!({ "features": { "analytics_enabled": true } }),
    )
    .await;
    let changes = log(&app, &admin, account, "action=entitlements.updated").await;
    assert_eq!(changes.len(), 2);
    let (second, first) = (&changes[0], &changes[1]);
    assert_recorded_by(first, account, &root, "req-ent-1");
    assert_eq!(first["resource_type"], "account");
    assert_eq!(first["resource_id"], account.to_string());
    assert_eq!(first["before"], json!({}));
    assert_eq!(first["after"], json!({ "limits": { "max_teams": 3 } }));
    assert_eq!(second["before"], first["after"]);
    assert_eq!(
        second["after"],
        json!({ "limits": { "max_teams": 3 }, "features": { "analytics_enabled": true } })
    );

    // A suspension is an account update too, and the log stays readable by super admins.
    app.put(
        &account_path(account),
        &root.token,
        json!({ "status": "suspended" }),
    )
    .await;
    let suspended = log(&app, &root, account, "action=account.updated").await;
    assert_eq!(suspended.len(), 2);
    assert_eq!(suspended[0]["before"]["status"], "active");
    assert_eq!(suspended[0]["after"]["status"], "suspended");
    assert_eq!(suspended[0]["actor_user_id"], root.id.to_string());
}

#[tokio::test]
async fn secrets_in_settings_never_reach_the_log() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let settings = json!({
        "color": "blue",
        "webhook_secret": "hunter2-secret-value",
        "integrations": [{ "name": "crm", "api_key": "hunter2-api-key" }]
    });
    let updated = app
        .put(
            &tenant.path(""),
            &tenant.admin.token,
            json!({ "settings": settings }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(
        updated.body["settings"], settings,
        "the account keeps its settings"
    );
    let recorded = entry(&app, &tenant, "account.updated", tenant.id).await;
    let after = &recorded["after"]["settings"];
    assert_eq!(after["color"], "blue");
    assert_eq!(after["webhook_secret"], "[redacted]");
    assert_eq!(after["integrations"][0]["api_key"], "[redacted]");
    assert_eq!(after["integrations"][0]["name"], "crm");
    let everything = serde_json::to_string(&log(&app, &tenant.admin, tenant.id, "").await).unwrap();
    assert!(!everything.contains("hunter2"), "{everything}");
}

#[tokio::test]
async fn only_admins_read_the_audit_log() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let path = format!("{}/audit-logs", account_path(acme.id));
    for caller in [&acme.supervisor, &acme.agent] {
        app.get(&path, &caller.token)
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
    assert_eq!(log(&app, &acme.admin, acme.id, "").await.len(), 4);
    assert_eq!(log(&app, &root, acme.id, "").await.len(), 4);
    assert_hidden(
        &app.get(&path, &globex.admin.token).await,
        &app.get(
            &format!("{}/audit-logs", account_path(Uuid::now_v7())),
            &globex.admin.token,
        )
        .await,
    );
    assert_needs_token(&app, Method::GET, &path, None).await;
}

#[tokio::test]
async fn audit_filters_select_by_action_actor_resource_and_time() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    // The harness's entries are a second older than what follows, so time filters split them.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let sales = create_team(&app, &tenant.supervisor, &tenant, "Sales")
        .await
        .id();
    let support = create_team(&app, &tenant.admin, &tenant, "Support")
        .await
        .id();
    let user = app
        .post(
            &tenant.path("/users"),
            &tenant.admin.token,
            json!({ "email": "new@acme.test", "name": "New" }),
        )
        .await
        .id();
    let all = log(&app, &tenant.admin, tenant.id, "").await;
    assert_eq!(all.len(), 7);

    let teams = log(&app, &tenant.admin, tenant.id, "action=team.created").await;
    assert_eq!(
        entry_ids(&teams),
        entry_ids(&[all[1].clone(), all[2].clone()])
    );
    assert!(
        log(&app, &tenant.admin, tenant.id, "action=team")
            .await
            .is_empty(),
        "actions match exactly"
    );

    let by_supervisor = log(
        &app,
        &tenant.admin,
        tenant.id,
        &format!("actor={}", tenant.supervisor.id),
    )
    .await;
    assert_eq!(actions(&by_supervisor), ["team.created"]);
    assert_eq!(by_supervisor[0]["resource_id"], sales.to_string());
    let by_admin = log(
        &app,
        &tenant.admin,
        tenant.id,
        &format!("actor={}", tenant.admin.id),
    )
    .await;
    assert_eq!(actions(&by_admin), ["user.created", "team.created"]);
    let by_root = log(
        &app,
        &tenant.admin,
        tenant.id,
        &format!("actor={}", root.id),
    )
    .await;
    assert_eq!(by_root.len(), 4);
    assert!(
        log(
            &app,
            &tenant.admin,
            tenant.id,
            &format!("actor={}", Uuid::now_v7())
        )
        .await
        .is_empty()
    );

    let users = log(&app, &tenant.admin, tenant.id, "resource_type=user").await;
    assert_eq!(users.len(), 4);
    assert!(users.iter().all(|e| e["resource_type"] == "user"));
    assert_eq!(users[0]["resource_id"], user.to_string());
    let one_team = log(
        &app,
        &tenant.admin,
        tenant.id,
        &format!("resource_id={support}"),
    )
    .await;
    assert_eq!(actions(&one_team), ["team.created"]);
    let combined = log(
        &app,
        &tenant.admin,
        tenant.id,
        &format!(
            "action=team.created&actor={}&resource_type=team",
            tenant.admin.id
        ),
    )
    .await;
    assert_eq!(combined.len(), 1);
    assert_eq!(combined[0]["resource_id"], support.to_string());

    // `from` is inclusive, `to` exclusive; both accept any offset.
    let split = created_at(&all[3]); // the newest harness entry
    let later = created_at(&all[2]); // the first team, at least a second later
    assert!(later > split);
    let since = log(
        &app,
        &tenant.admin,
        tenant.id,
        &format!("from={}", query_time(later)),
    )
    .await;
    assert_eq!(entry_ids(&since), entry_ids(&all[..3]));
    let before = log(
        &app,
        &tenant.admin,
        tenant.id,
        &format!("to={}", query_time(later)),
    )
    .await;
    assert_eq!(entry_ids(&before), entry_ids(&all[3..]));
    let in_brazil = later.to_offset(UtcOffset::from_hms(-3, 0, 0).unwrap());
    let same = log(
        &app,
        &tenant.admin,
        tenant.id,
        &format!("from={}", query_time(in_brazil)),
    )
    .await;
    assert_eq!(entry_ids(&same), entry_ids(&all[..3]));
    let in_india = later.to_offset(UtcOffset::from_hms(5, 30, 0).unwrap());
    let same = log(
        &app,
        &tenant.admin,
        tenant.id,
        &format!("to={}", query_time(in_india)),
    )
    .await;
    assert_eq!(entry_ids(&same), entry_ids(&all[3..]));
    let oldest = created_at(all.last().unwrap());
    let window = format!("from={}&to={}", query_time(oldest), query_time(later));
    assert_eq!(
        entry_ids(&log(&app, &tenant.admin, tenant.id, &window).await),
        entry_ids(&all[3..])
    );
    let future = OffsetDateTime::now_utc() + time::Duration::hours(1);
    assert!(
        log(
            &app,
            &tenant.admin,
            tenant.id,
            &format!("from={}", query_time(future))
        )
        .await
        .is_empty()
    );
    assert_eq!(
        log(
            &app,
            &tenant.admin,
            tenant.id,
            &format!("to={}", query_time(future))
        )
        .await
        .len(),
        7
    );
}

#[tokio::test]
async fn malformed_audit_filters_are_refused() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = format!("{}/audit-logs", account_path(tenant.id));
    for query in [
        "from=yesterday",
        "to=2024-13-01T00:00:00Z",
        "actor=not-a-uuid",
    ] {
        let resp = app
            .get(&format!("{path}?{query}"), &tenant.admin.token)
            .await;
        assert!(
            resp.status == StatusCode::BAD_REQUEST
                || resp.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{query} must be refused, not ignored: {} {:?}",
            resp.status,
            resp.body
        );
        assert_eq!(
            resp.header("content-type"),
            Some("application/problem+json")
        );
    }
    assert_invalid(
        &app.get(&format!("{path}?limit=201"), &tenant.admin.token)
            .await,
        "limit",
    );
    assert_invalid(
        &app.get(&format!("{path}?cursor=forged"), &tenant.admin.token)
            .await,
        "cursor",
    );
}

#[tokio::test]
async fn the_log_is_newest_first_and_pages_by_cursor() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let sales = create_team(&app, &tenant.admin, &tenant, "Sales")
        .await
        .id();
    let path = tenant.path(&format!("/teams/{sales}"));
    for n in 0..5 {
        let renamed = app
            .put(
                &path,
                &tenant.admin.token,
                json!({ "name": format!("Sales {n}") }),
            )
            .await;
        assert_eq!(renamed.status, StatusCode::OK);
    }
    let all = log(&app, &tenant.admin, tenant.id, "").await;
    assert_eq!(all.len(), 10);
    assert_eq!(
        all[0]["after"]["name"], "Sales 4",
        "the newest entry comes first"
    );
    assert_eq!(
        all.last().unwrap()["action"],
        "account.created",
        "the oldest comes last"
    );
    let ids = entry_ids(&all);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "ids descend");
    assert!(
        all.windows(2)
            .all(|w| created_at(&w[0]) >= created_at(&w[1]))
    );
    let renames: Vec<_> = all[..5]
        .iter()
        .map(|e| e["after"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        renames,
        ["Sales 4", "Sales 3", "Sales 2", "Sales 1", "Sales 0"]
    );

    let audit = format!("{}/audit-logs", account_path(tenant.id));
    for limit in [1, 3, 10] {
        assert_eq!(
            walk_pages(&app, &audit, &tenant.admin.token, limit).await,
            ids,
            "limit {limit}"
        );
    }
    let filtered = walk_pages(
        &app,
        &format!("{audit}?action=team.updated"),
        &tenant.admin.token,
        2,
    )
    .await;
    assert_eq!(filtered, ids[..5].to_vec());
}

#[tokio::test]
async fn a_tenant_never_sees_another_tenants_entries() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let acme_team = create_team(&app, &acme.admin, &acme, "Sales").await.id();
    let globex_team = create_team(&app, &globex.admin, &globex, "Sales")
        .await
        .id();
    app.put(
        &globex.path(""),
        &globex.admin.token,
        json!({ "name": "Globex 2" }),
    )
    .await;

    let acme_log = log(&app, &acme.admin, acme.id, "").await;
    assert_eq!(acme_log.len(), 5);
    let text = serde_json::to_string(&acme_log).unwrap();
    for foreign in [
        globex.id,
        globex_team,
        globex.admin.id,
        globex.supervisor.id,
        globex.agent.id,
    ] {
        assert!(
            !text.contains(&foreign.to_string()),
            "{foreign} leaked into Acme's log"
        );
    }
    assert!(
        acme_log
            .iter()
            .all(|e| e["account_id"] == acme.id.to_string())
    );
    assert!(
        acme_log
            .iter()
            .any(|e| e["resource_id"] == acme_team.to_string())
    );
    for query in [
        format!("actor={}", globex.admin.id),
        format!("resource_id={globex_team}"),
        format!("resource_id={}", globex.id),
    ] {
        assert!(
            log(&app, &acme.admin, acme.id, &query).await.is_empty(),
            "{query}"
        );
    }
    let globex_log = log(&app, &globex.admin, globex.id, "").await;
    assert_eq!(globex_log.len(), 6);
    assert!(
        globex_log
            .iter()
            .all(|e| e["account_id"] == globex.id.to_string())
    );
    // The super admin reads each account's own log, not a merged one.
    assert_eq!(
        entry_ids(&log(&app, &root, acme.id, "").await),
        entry_ids(&acme_log)
    );
}

async fn add_user(app: &TestApp, tenant: &Tenant, email: &str) -> Resp {
    app.post(
        &tenant.path("/users"),
        &tenant.admin.token,
        json!({ "email": email, "name": "N" }),
    )
    .await
}

/// Asserts each response is the refusal `code`, then that the log still holds exactly `ids`.
async fn assert_refused_silently(
    app: &TestApp,
    tenant: &Tenant,
    refusals: &[(Resp, &str)],
    ids: &[Uuid],
) {
    for (resp, code) in refusals {
        assert!(resp.status.is_client_error(), "{:?}", resp.body);
        assert_eq!(resp.body["code"], *code, "{:?}", resp.body);
    }
    let now = entry_ids(&log(app, &tenant.admin, tenant.id, "").await);
    assert_eq!(now, ids, "a refused or idle write left an audit entry");
}

#[tokio::test]
async fn refused_and_idle_writes_leave_no_audit_entry() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let admin = &tenant.admin;
    let one = create_team(&app, admin, &tenant, "One").await.id();
    let first = entry_ids(&log(&app, admin, tenant.id, "").await);
    assert_eq!(first.len(), 5);

    // Refusals while there is room.
    let refusals = [
        (
            add_user(&app, &tenant, "agent@acme.test").await,
            "already_member",
        ),
        (
            add_user(&app, &tenant, "not-an-email").await,
            "validation_failed",
        ),
        (
            create_team(&app, admin, &tenant, "").await,
            "validation_failed",
        ),
        (
            create_team(&app, admin, &tenant, "one").await,
            "team_name_taken",
        ),
        (
            create_team(&app, &tenant.agent, &tenant, "Agents").await,
            "forbidden",
        ),
        (
            app.put(
                &tenant.path(&format!("/users/{}", admin.id)),
                &admin.token,
                json!({ "role": "agent" }),
            )
            .await,
            "last_admin",
        ),
        (
            app.put(
                &tenant.path(""),
                &admin.token,
                json!({ "status": "suspended" }),
            )
            .await,
            "forbidden",
        ),
        (
            app.put(
                &format!("{}/entitlements", account_path(tenant.id)),
                &root.token,
                json!({ "limits": { "max_spaceships": 1 } }),
            )
            .await,
            "validation_failed",
        ),
        (
            app.delete(
                &tenant.path(&format!("/teams/{one}/members/{}", admin.id)),
                &admin.token,
            )
            .await,
            "not_found",
        ),
    ];
    assert_refused_silently(&app, &tenant, &refusals, &first).await;

    // Idle writes: activating an active member, adding a team member twice.
    let activate = tenant.path(&format!("/users/{}/activate", tenant.agent.id));
    let idle = app
        .request(Method::POST, &activate, Some(&admin.token), None)
        .await;
    assert_eq!(idle.status, StatusCode::OK);
    let join = json!({ "user_id": tenant.agent.id });
    let members = tenant.path(&format!("/teams/{one}/members"));
    assert_eq!(
        app.post(&members, &admin.token, join.clone()).await.status,
        StatusCode::CREATED
    );
    let second = entry_ids(&log(&app, admin, tenant.id, "").await);
    assert_eq!(second.len(), 6, "the first join is recorded");
    assert_eq!(
        app.post(&members, &admin.token, join).await.status,
        StatusCode::OK
    );
    assert_refused_silently(&app, &tenant, &[], &second).await;

    // Refusals at full quota.
    create_team(&app, admin, &tenant, "Two").await;
    add_user(&app, &tenant, "four@acme.test").await;
    add_user(&app, &tenant, "five@acme.test").await;
    let full = entry_ids(&log(&app, admin, tenant.id, "").await);
    assert_eq!(full.len(), 9);
    let refusals = [
        (
            create_team(&app, admin, &tenant, "Three").await,
            "quota_exceeded",
        ),
        (
            add_user(&app, &tenant, "six@acme.test").await,
            "quota_exceeded",
        ),
    ];
    assert_refused_silently(&app, &tenant, &refusals, &full).await;
}
