//! Users as members of an account: add, read, list, edit, deactivate, activate; the last
//! admin rule and the `max_agents` quota.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    accounts::{
        assert_hidden, assert_invalid, assert_needs_token, assert_quota, ids, items,
        set_entitlements, sorted, super_admin, walk_pages,
    },
    support::{Caller, Resp, Tenant, TestApp},
};

fn user_path(tenant: &Tenant, user_id: Uuid) -> String {
    tenant.path(&format!("/users/{user_id}"))
}

async fn add_user(app: &TestApp, caller: &Caller, tenant: &Tenant, body: Value) -> Resp {
    app.post(&tenant.path("/users"), &caller.token, body).await
}

/// Adds `email` with `role` as the tenant's admin; asserts 201 and answers the member.
async fn add_member(app: &TestApp, tenant: &Tenant, email: &str, role: &str) -> Value {
    let resp = add_user(
        app,
        &tenant.admin,
        tenant,
        json!({ "email": email, "name": email, "role": role }),
    )
    .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body
}

async fn set_active(app: &TestApp, caller: &Caller, tenant: &Tenant, user: Uuid, on: bool) -> Resp {
    let verb = if on { "activate" } else { "deactivate" };
    app.request(
        Method::POST,
        &format!("{}/{verb}", user_path(tenant, user)),
        Some(&caller.token),
        None,
    )
    .await
}

/// The account's members matching `query` (sorted ids), read by its admin.
async fn member_ids(app: &TestApp, tenant: &Tenant, query: &str) -> Vec<Uuid> {
    let path = tenant.path(&format!("/users?{query}"));
    sorted(ids(&app.get(&path, &tenant.admin.token).await))
}

#[tokio::test]
async fn admin_adds_a_user_who_is_an_agent_by_default() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let created = add_user(
        &app,
        &tenant.admin,
        &tenant,
        json!({
            "email": "  Maria@Example.COM ",
            "name": " Maria ",
            "avatar_url": "https://cdn.example.com/maria.png"
        }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let body = &created.body;
    assert_eq!(body["email"], "maria@example.com", "emails are normalised");
    assert_eq!(body["name"], "Maria");
    assert_eq!(body["role"], "agent");
    assert_eq!(body["active"], true);
    assert_eq!(body["avatar_url"], "https://cdn.example.com/maria.png");
    assert_eq!(
        body["chatwoot_user_id"],
        Value::Null,
        "only Chatwoot sets its ids"
    );

    let id = created.id();
    for caller in [&tenant.admin, &tenant.supervisor, &tenant.agent] {
        let read = app.get(&user_path(&tenant, id), &caller.token).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(&read.body, body);
    }
    let all = member_ids(&app, &tenant, "").await;
    assert_eq!(all.len(), 4);
    assert!(all.contains(&id));

    let supervisor = add_user(
        &app,
        &tenant.admin,
        &tenant,
        json!({ "email": "lead@example.com", "name": "Lead", "role": "supervisor" }),
    )
    .await;
    assert_eq!(supervisor.body["role"], "supervisor");
}

#[tokio::test]
async fn user_creation_rejects_invalid_fields() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let ok = |extra: Value| {
        let mut body = json!({ "email": "new@acme.test", "name": "New" });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let cases = [
        (ok(json!({ "email": "nope" })), "email"),
        (ok(json!({ "email": "a@localhost" })), "email"),
        (ok(json!({ "email": "@acme.test" })), "email"),
        (ok(json!({ "email": "a b@acme.test" })), "email"),
        (ok(json!({ "name": "  " })), "name"),
        (ok(json!({ "name": "n".repeat(121) })), "name"),
        (
            ok(json!({ "avatar_url": "javascript:alert(1)" })),
            "avatar_url",
        ),
        (ok(json!({ "role": "super_admin" })), "role"),
    ];
    for (body, field) in cases {
        assert_invalid(&add_user(&app, &tenant.admin, &tenant, body).await, field);
    }
    let unknown_role = add_user(&app, &tenant.admin, &tenant, ok(json!({ "role": "owner" }))).await;
    unknown_role.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let both = add_user(
        &app,
        &tenant.admin,
        &tenant,
        json!({ "email": "x", "name": "" }),
    )
    .await;
    assert_invalid(&both, "email");
    assert_invalid(&both, "name");
    assert_eq!(
        member_ids(&app, &tenant, "").await.len(),
        3,
        "nobody was added"
    );
}

#[tokio::test]
async fn only_admins_add_users() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let body = json!({ "email": "new@acme.test", "name": "New" });
    for caller in [&tenant.supervisor, &tenant.agent] {
        add_user(&app, caller, &tenant, body.clone())
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
    assert_eq!(member_ids(&app, &tenant, "").await.len(), 3);
    let by_root = add_user(&app, &root, &tenant, body).await;
    assert_eq!(
        by_root.status,
        StatusCode::CREATED,
        "a super admin need not be a member"
    );
}

#[tokio::test]
async fn an_email_is_a_member_of_an_account_once() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    for email in ["agent@acme.test", " AGENT@Acme.Test "] {
        add_user(
            &app,
            &tenant.admin,
            &tenant,
            json!({ "email": email, "name": "Again" }),
        )
        .await
        .assert_problem(StatusCode::CONFLICT, "already_member");
    }
    // Deactivated members are still members: they are activated, not re-added.
    set_active(&app, &tenant.admin, &tenant, tenant.agent.id, false).await;
    add_user(
        &app,
        &tenant.admin,
        &tenant,
        json!({ "email": "agent@acme.test", "name": "Again" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "already_member");
    assert_eq!(member_ids(&app, &tenant, "").await.len(), 3);
}

/// Regression: at full `max_agents`, re-adding a member is 409 `already_member` (whose
/// message tells the admin to activate them), not 403 `quota_exceeded`.
#[tokio::test]
async fn a_duplicate_email_at_full_quota_is_still_already_member() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    add_member(&app, &tenant, "four@acme.test", "agent").await;
    add_member(&app, &tenant, "five@acme.test", "agent").await;
    add_user(
        &app,
        &tenant.admin,
        &tenant,
        json!({ "email": "agent@acme.test", "name": "Again" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "already_member");
}

#[tokio::test]
async fn an_account_admin_changes_membership_never_someone_elses_profile() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let own = add_member(&app, &globex, "agent@acme.test", "agent").await;
    assert_ne!(own["id"], acme.agent.id.to_string(), "not Acme's person");
    assert_eq!(
        own["name"], "agent@acme.test",
        "Globex sees only what it wrote"
    );

    // An operator who is a member of both accounts.
    for tenant in [&acme, &globex] {
        app.join(tenant.id, root.id, "agent").await;
    }
    for tenant in [&acme, &globex] {
        app.put(
            &user_path(tenant, root.id),
            &tenant.admin.token,
            json!({ "name": "Renamed by a tenant", "avatar_url": "https://x.test/a.png" }),
        )
        .await
        .assert_problem(StatusCode::FORBIDDEN, "profile_not_editable");
        let promoted = app
            .put(
                &user_path(tenant, root.id),
                &tenant.admin.token,
                json!({ "role": "supervisor" }),
            )
            .await;
        assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
        assert_eq!(promoted.body["role"], "supervisor");
        assert_eq!(promoted.body["name"], "Test User");
    }
}

/// The same email added by two accounts at once is two people, each account's own; the
/// insert race never answers a conflict.
#[tokio::test]
async fn the_same_new_email_added_to_two_accounts_is_two_people() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    for tenant in [&acme, &globex] {
        set_entitlements(
            &app,
            &root,
            tenant.id,
            json!({ "limits": { "max_agents": 50 } }),
        )
        .await;
    }
    for n in 0..10 {
        let email = format!("shared{n}@example.com");
        let (in_acme, in_globex) = tokio::join!(
            add_user(
                &app,
                &acme.admin,
                &acme,
                json!({ "email": email, "name": "Acme's" })
            ),
            add_user(
                &app,
                &globex.admin,
                &globex,
                json!({ "email": email, "name": "Globex's" })
            ),
        );
        assert_eq!(
            in_acme.status,
            StatusCode::CREATED,
            "{email}: {:?}",
            in_acme.body
        );
        assert_eq!(
            in_globex.status,
            StatusCode::CREATED,
            "{email}: {:?}",
            in_globex.body
        );
        assert_ne!(in_acme.id(), in_globex.id(), "{email} is two people");
        assert_eq!(in_globex.body["name"], "Globex's");
    }
    add_user(
        &app,
        &acme.admin,
        &acme,
        json!({ "email": "SHARED0@example.com", "name": "Again" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "already_member");
}

/// Regression (issue 13, finding 2): an admin cannot pre-claim a Chatwoot identity; only
/// single sign-on and the agent sync set one.
#[tokio::test]
async fn an_admin_cannot_name_a_chatwoot_user_id() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let body = json!({ "email": "one@acme.test", "name": "Linked", "chatwoot_user_id": 9 });
    add_user(&app, &tenant.admin, &tenant, body)
        .await
        .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(member_ids(&app, &tenant, "").await.len(), 3);
}

#[tokio::test]
async fn admin_edits_name_avatar_and_role() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = user_path(&tenant, tenant.agent.id);
    let updated = app
        .put(
            &path,
            &tenant.admin.token,
            json!({ "role": "supervisor", "name": " Promoted ", "avatar_url": "http://img.test/a.png" }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(updated.body["role"], "supervisor");
    assert_eq!(updated.body["name"], "Promoted");
    assert_eq!(updated.body["avatar_url"], "http://img.test/a.png");
    assert_eq!(updated.body["email"], "agent@acme.test");

    let renamed = app
        .put(
            &path,
            &tenant.admin.token,
            json!({ "name": "Only the name" }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let read = app.get(&path, &tenant.agent.token).await;
    assert_eq!(read.body["name"], "Only the name");
    assert_eq!(
        read.body["role"], "supervisor",
        "a partial update keeps the role"
    );
    assert_eq!(read.body["avatar_url"], "http://img.test/a.png");

    // The promotion is effective: the former agent may now create a team.
    let team = app
        .post(
            &tenant.path("/teams"),
            &tenant.agent.token,
            json!({ "name": "Mine" }),
        )
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{:?}", team.body);
}

#[tokio::test]
async fn user_update_rejects_invalid_fields_and_wrong_roles() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = user_path(&tenant, tenant.agent.id);
    let cases = [
        (json!({ "name": "" }), "name"),
        (
            json!({ "avatar_url": "ftp://img.test/a.png" }),
            "avatar_url",
        ),
        (json!({ "role": "super_admin" }), "role"),
    ];
    for (body, field) in cases {
        assert_invalid(&app.put(&path, &tenant.admin.token, body).await, field);
    }
    for caller in [&tenant.supervisor, &tenant.agent] {
        app.put(&path, &caller.token, json!({ "role": "admin" }))
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
        set_active(&app, caller, &tenant, tenant.agent.id, false)
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
    let read = app.get(&path, &tenant.admin.token).await;
    assert_eq!(
        (read.body["role"].as_str(), read.body["active"].as_bool()),
        (Some("agent"), Some(true))
    );
}

#[tokio::test]
async fn the_last_active_admin_can_be_neither_demoted_nor_deactivated() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let admin = user_path(&tenant, tenant.admin.id);
    for role in ["supervisor", "agent"] {
        app.put(&admin, &tenant.admin.token, json!({ "role": role }))
            .await
            .assert_problem(StatusCode::CONFLICT, "last_admin");
    }
    set_active(&app, &tenant.admin, &tenant, tenant.admin.id, false)
        .await
        .assert_problem(StatusCode::CONFLICT, "last_admin");
    set_active(&app, &root, &tenant, tenant.admin.id, false)
        .await
        .assert_problem(StatusCode::CONFLICT, "last_admin");
    let read = app.get(&admin, &tenant.admin.token).await;
    assert_eq!(read.body["role"], "admin");
    assert_eq!(read.body["active"], true);

    // Keeping the role is not a demotion.
    let same = app
        .put(
            &admin,
            &tenant.admin.token,
            json!({ "role": "admin", "name": "Boss" }),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{:?}", same.body);

    // With a second admin, the first may step down.
    let promoted = app
        .put(
            &user_path(&tenant, tenant.supervisor.id),
            &tenant.admin.token,
            json!({ "role": "admin" }),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK);
    let demoted = app
        .put(&admin, &tenant.admin.token, json!({ "role": "agent" }))
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{:?}", demoted.body);
    assert_eq!(demoted.body["role"], "agent");
    // ...and now the promoted one is the last admin.
    set_active(
        &app,
        &tenant.supervisor,
        &tenant,
        tenant.supervisor.id,
        false,
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "last_admin");
}

#[tokio::test]
async fn a_deactivated_admin_no_longer_counts_as_an_admin() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let second = add_member(&app, &tenant, "second@acme.test", "admin").await;
    let second: Uuid = second["id"].as_str().unwrap().parse().unwrap();
    let off = set_active(&app, &tenant.admin, &tenant, second, false).await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    app.put(
        &user_path(&tenant, tenant.admin.id),
        &tenant.admin.token,
        json!({ "role": "agent" }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "last_admin");
}

#[tokio::test]
async fn a_deactivated_user_loses_access_at_once_and_can_be_activated_again() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let agent = tenant.agent.id;
    let off = set_active(&app, &tenant.admin, &tenant, agent, false).await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    assert_eq!(off.body["active"], false);
    assert_eq!(off.body["role"], "agent", "the role is kept");

    // The same token is refused at once, like any outsider's.
    let missing = app
        .get(
            &format!("/api/v1/accounts/{}", Uuid::now_v7()),
            &tenant.agent.token,
        )
        .await;
    for sub in ["", "/users", "/teams"] {
        assert_hidden(
            &app.get(&tenant.path(sub), &tenant.agent.token).await,
            &missing,
        );
    }
    assert!(items(&app.get("/api/v1/accounts", &tenant.agent.token).await).is_empty());

    assert_eq!(member_ids(&app, &tenant, "active=false").await, vec![agent]);
    assert_eq!(
        member_ids(&app, &tenant, "active=true").await,
        sorted(vec![tenant.admin.id, tenant.supervisor.id])
    );
    assert_eq!(member_ids(&app, &tenant, "").await.len(), 3);
    let read = app
        .get(&user_path(&tenant, agent), &tenant.admin.token)
        .await;
    assert_eq!(read.body["active"], false, "admins still see them");

    let again = set_active(&app, &tenant.admin, &tenant, agent, false).await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "deactivating twice is harmless"
    );

    let on = set_active(&app, &tenant.admin, &tenant, agent, true).await;
    assert_eq!(on.status, StatusCode::OK, "{:?}", on.body);
    assert_eq!(on.body["active"], true);
    assert_eq!(
        app.get(&tenant.path(""), &tenant.agent.token).await.status,
        StatusCode::OK
    );
    assert!(member_ids(&app, &tenant, "active=false").await.is_empty());
    let twice = set_active(&app, &tenant.admin, &tenant, agent, true).await;
    assert_eq!(twice.status, StatusCode::OK, "activating twice is harmless");
}

#[tokio::test]
async fn max_agents_counts_active_members_only() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    add_member(&app, &tenant, "four@acme.test", "agent").await;
    add_member(&app, &tenant, "five@acme.test", "agent").await;
    let sixth = json!({ "email": "six@acme.test", "name": "Six" });
    let refused = add_user(&app, &tenant.admin, &tenant, sixth.clone()).await;
    assert_quota(&refused, "agents", 5, 5);
    assert_eq!(member_ids(&app, &tenant, "").await.len(), 5);
    add_user(&app, &root, &tenant, sixth.clone())
        .await
        .assert_problem(StatusCode::FORBIDDEN, "quota_exceeded");

    set_active(&app, &tenant.admin, &tenant, tenant.agent.id, false).await;
    let admitted = add_user(&app, &tenant.admin, &tenant, sixth).await;
    assert_eq!(
        admitted.status,
        StatusCode::CREATED,
        "a deactivated member frees a slot: {:?}",
        admitted.body
    );
    let back = set_active(&app, &tenant.admin, &tenant, tenant.agent.id, true).await;
    assert_quota(&back, "agents", 5, 5);
    let read = app
        .get(&user_path(&tenant, tenant.agent.id), &tenant.admin.token)
        .await;
    assert_eq!(
        read.body["active"], false,
        "a refused activation changes nothing"
    );
}

/// Fires 8 user creates at once at a fresh account with 3 of its 5 `max_agents` taken:
/// exactly 2 win, the others are refused with the quota.
async fn race_for_two_agent_slots(app: &TestApp, root: &Caller, name: &str) {
    let tenant = app.tenant(root, name).await;
    let attempts = (0..8).map(|n| {
        let body = json!({ "email": format!("rush{n}@{}.test", tenant.id), "name": "Rush" });
        add_user(app, &tenant.admin, &tenant, body)
    });
    let results = join_all(attempts).await;
    let created = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 2, "{name}: 3 members + 2 = max_agents 5");
    for refused in results.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_quota(refused, "agents", 5, 5);
    }
    assert_eq!(member_ids(app, &tenant, "active=true").await.len(), 5);
}

#[tokio::test]
async fn concurrent_user_creates_stop_at_max_agents() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    // Several rounds: an unguarded count-then-insert loses at least one of them.
    for round in 0..5 {
        race_for_two_agent_slots(&app, &root, &format!("Race {round}")).await;
    }
}

/// The same new email added by racing requests makes one member; the others are told it
/// exists (the second insert is a conflict, never a 500).
#[tokio::test]
async fn racing_adds_of_one_email_make_one_member() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let body = json!({ "email": "twice@acme.test", "name": "Twice" });
    let answers =
        join_all((0..6).map(|_| add_user(&app, &tenant.admin, &tenant, body.clone()))).await;
    let mut statuses: Vec<_> = answers.iter().map(|r| r.status).collect();
    statuses.sort();
    let mut expected = vec![StatusCode::CONFLICT; 5];
    expected.insert(0, StatusCode::CREATED);
    assert_eq!(
        statuses,
        expected,
        "{:?}",
        answers.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    assert!(
        answers
            .iter()
            .filter(|r| r.status == StatusCode::CONFLICT)
            .all(|r| r.body["code"] == "already_member")
    );
}

#[tokio::test]
async fn user_list_walks_every_page_by_cursor() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    set_entitlements(
        &app,
        &root,
        tenant.id,
        json!({ "limits": { "max_agents": 20 } }),
    )
    .await;
    for n in 0..8 {
        add_member(&app, &tenant, &format!("page{n}@acme.test"), "agent").await;
    }
    let everyone = member_ids(&app, &tenant, "limit=200").await;
    assert_eq!(everyone.len(), 11);
    for limit in [1, 4, 11] {
        let walked = walk_pages(&app, &tenant.path("/users"), &tenant.agent.token, limit).await;
        assert_eq!(walked, everyone, "limit {limit}");
    }
    // Filters and cursors combine.
    let off = everyone[3..7].to_vec();
    for id in &off {
        set_active(&app, &tenant.admin, &tenant, *id, false).await;
    }
    let walked = walk_pages(
        &app,
        &tenant.path("/users?active=false"),
        &tenant.admin.token,
        3,
    )
    .await;
    assert_eq!(walked, off);
    assert_invalid(
        &app.get(&tenant.path("/users?limit=201"), &tenant.admin.token)
            .await,
        "limit",
    );
}

#[tokio::test]
async fn another_tenants_users_are_not_found() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let token = &globex.admin.token;
    let victim = acme.agent.id;
    let nobody = Uuid::now_v7();

    // Acme's user under Acme's path, and under Globex's own path.
    for tenant in [&acme, &globex] {
        assert_hidden(
            &app.get(&user_path(tenant, victim), token).await,
            &app.get(&user_path(&globex, nobody), token).await,
        );
        let edit = json!({ "role": "admin" });
        assert_hidden(
            &app.put(&user_path(tenant, victim), token, edit.clone())
                .await,
            &app.put(&user_path(&globex, nobody), token, edit).await,
        );
        for on in [false, true] {
            assert_hidden(
                &set_active(&app, &globex.admin, tenant, victim, on).await,
                &set_active(&app, &globex.admin, &globex, nobody, on).await,
            );
        }
    }
    assert_hidden(
        &app.get(&acme.path("/users"), token).await,
        &app.get(&format!("/api/v1/accounts/{nobody}/users"), token)
            .await,
    );
    let new_user = json!({ "email": "spy@globex.test", "name": "Spy" });
    assert_hidden(
        &add_user(&app, &globex.admin, &acme, new_user.clone()).await,
        &app.post(&format!("/api/v1/accounts/{nobody}/users"), token, new_user)
            .await,
    );

    let read = app.get(&user_path(&acme, victim), &acme.admin.token).await;
    assert_eq!(read.body["role"], "agent");
    assert_eq!(read.body["active"], true);
    assert_eq!(member_ids(&app, &acme, "").await.len(), 3);
}

#[tokio::test]
async fn user_endpoints_need_a_valid_token() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let one = user_path(&tenant, tenant.agent.id);
    let body = json!({ "email": "x@acme.test", "name": "X" });
    assert_needs_token(&app, Method::GET, &tenant.path("/users"), None).await;
    assert_needs_token(&app, Method::POST, &tenant.path("/users"), Some(body)).await;
    assert_needs_token(&app, Method::GET, &one, None).await;
    assert_needs_token(&app, Method::PUT, &one, Some(json!({ "role": "admin" }))).await;
    assert_needs_token(&app, Method::POST, &format!("{one}/deactivate"), None).await;
    assert_needs_token(&app, Method::POST, &format!("{one}/activate"), None).await;
    let read = app.get(&one, &tenant.admin.token).await;
    assert_eq!(
        (read.body["role"].as_str(), read.body["active"].as_bool()),
        (Some("agent"), Some(true))
    );
    assert_eq!(member_ids(&app, &tenant, "").await.len(), 3);
}
