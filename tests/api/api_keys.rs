//! API keys: created by admins and shown once, scoped per resource and action, confined to
//! their account, refused on routes that act for a person, revocable, expiring, audited as
//! the key, with `last_used_at`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;
use whatpro_hub::auth::opaque;

use crate::{
    accounts::{account_path, assert_hidden, assert_invalid, ids, items, super_admin},
    support::{Caller, Resp, Tenant, TestApp},
};

fn keys_path(tenant: &Tenant) -> String {
    tenant.path("/api-keys")
}

async fn create_as(app: &TestApp, caller: &Caller, tenant: &Tenant, body: Value) -> Resp {
    app.post(&keys_path(tenant), &caller.token, body).await
}

/// A key the tenant's admin created with `scopes`: `(id, secret)`.
async fn key_with(app: &TestApp, tenant: &Tenant, scopes: &[&str]) -> (Uuid, String) {
    let created = create_as(
        app,
        &tenant.admin,
        tenant,
        json!({ "name": "integration", "scopes": scopes }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    (
        created.id(),
        created.body["key"].as_str().unwrap().to_string(),
    )
}

/// The tenant's keys as its admin lists them.
async fn listed(app: &TestApp, tenant: &Tenant) -> Resp {
    let resp = app.get(&keys_path(tenant), &tenant.admin.token).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp
}

/// The listed key `id`.
async fn listed_key(app: &TestApp, tenant: &Tenant, id: Uuid) -> Value {
    let list = listed(app, tenant).await;
    items(&list)
        .iter()
        .find(|k| k["id"] == id.to_string())
        .unwrap_or_else(|| panic!("{id} not listed"))
        .clone()
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.replace_nanosecond(0).unwrap().format(&Rfc3339).unwrap()
}

/// The tenant's audit entries with `action`, newest first, read by its admin.
async fn audit(app: &TestApp, tenant: &Tenant, action: &str) -> Vec<Value> {
    let resp = app
        .get(
            &tenant.path(&format!("/audit-logs?limit=200&action={action}")),
            &tenant.admin.token,
        )
        .await;
    items(&resp).to_vec()
}

#[tokio::test]
async fn an_admin_creates_a_key_whose_secret_is_shown_once() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let created = create_as(
        &app,
        &tenant.admin,
        &tenant,
        json!({ "name": " Zapier ", "scopes": ["users:read", "teams:read", " users:read "] }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let body = &created.body;
    let key = body["key"].as_str().unwrap();
    assert!(key.starts_with("wph_"), "{key}");
    assert_eq!(key.len(), 4 + 32 + 6);
    assert!(opaque::is_well_formed_api_key(key), "carries its checksum");
    assert_eq!(body["name"], "Zapier");
    assert_eq!(body["scopes"], json!(["teams:read", "users:read"]));
    assert_eq!(body["prefix"].as_str(), Some(&key[..10]));
    assert_eq!(body["created_by"], tenant.admin.id.to_string());
    for unset in ["expires_at", "last_used_at", "revoked_at"] {
        assert!(body[unset].is_null(), "{unset}");
    }

    // Listed without the secret, anywhere.
    let list = listed(&app, &tenant).await;
    assert_eq!(ids(&list), [created.id()]);
    let shown = &items(&list)[0];
    assert!(shown.get("key").is_none());
    assert_eq!(shown["prefix"], body["prefix"]);
    assert_eq!(shown["scopes"], body["scopes"]);
    assert!(
        !list.body.to_string().contains(&key[10..]),
        "{:?}",
        list.body
    );
    // Nor in the audit log.
    let entries = audit(&app, &tenant, "api_key.created").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["resource_id"], created.id().to_string());
    assert!(
        !entries[0].to_string().contains(&key[10..]),
        "{:?}",
        entries[0]
    );

    // Each key is new.
    let (_, second) = key_with(&app, &tenant, &["users:read"]).await;
    assert_ne!(second, key);
}

#[tokio::test]
async fn only_admins_manage_keys() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let other = app.tenant(&root, "Globex").await;
    let (id, _) = key_with(&app, &tenant, &["users:read"]).await;
    let body = json!({ "name": "mine", "scopes": ["users:read"] });
    let one = format!("{}/{id}", keys_path(&tenant));
    for caller in [&tenant.supervisor, &tenant.agent] {
        create_as(&app, caller, &tenant, body.clone())
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
        app.get(&keys_path(&tenant), &caller.token)
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
        app.delete(&one, &caller.token)
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
    // Another account's admin is not a member here.
    let missing = app
        .get(
            &format!("{}/api-keys", account_path(Uuid::now_v7())),
            &other.admin.token,
        )
        .await;
    assert_hidden(
        &create_as(&app, &other.admin, &tenant, body.clone()).await,
        &missing,
    );
    assert_hidden(
        &app.get(&keys_path(&tenant), &other.admin.token).await,
        &missing,
    );
    assert_hidden(&app.delete(&one, &other.admin.token).await, &missing);
    app.request(Method::GET, &keys_path(&tenant), None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    // A super admin need not be a member.
    let by_root = create_as(&app, &root, &tenant, body).await;
    assert_eq!(by_root.status, StatusCode::CREATED, "{:?}", by_root.body);
    assert_eq!(ids(&listed(&app, &tenant).await).len(), 2);
    assert!(items(&listed(&app, &other).await).is_empty());
}

#[tokio::test]
async fn key_creation_rejects_invalid_input() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let past = rfc3339(OffsetDateTime::now_utc() - Duration::from_secs(60));
    let cases = [
        (json!({ "name": "k", "scopes": ["users:delete"] }), "scopes"),
        (
            json!({ "name": "k", "scopes": ["users:read", "admin"] }),
            "scopes",
        ),
        (json!({ "name": "k", "scopes": ["audit:write"] }), "scopes"),
        (json!({ "name": "k", "scopes": ["*"] }), "scopes"),
        (json!({ "name": "k", "scopes": [] }), "scopes"),
        (json!({ "name": "k", "scopes": ["  "] }), "scopes"),
        (
            json!({ "name": "k", "scopes": ["users:read"], "expires_at": past }),
            "expires_at",
        ),
        (json!({ "name": " ", "scopes": ["users:read"] }), "name"),
        (
            json!({ "name": "n".repeat(81), "scopes": ["users:read"] }),
            "name",
        ),
    ];
    for (body, field) in cases {
        assert_invalid(&create_as(&app, &tenant.admin, &tenant, body).await, field);
    }
    for body in [
        json!({ "name": "k" }),
        json!({ "name": "k", "scopes": ["users:read"], "expires_at": "tomorrow" }),
        json!({ "name": "k", "scopes": ["users:read"], "account_id": tenant.id }),
    ] {
        create_as(&app, &tenant.admin, &tenant, body)
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    assert!(
        items(&listed(&app, &tenant).await).is_empty(),
        "nothing created"
    );
}

#[tokio::test]
async fn a_key_reaches_only_the_routes_its_scopes_cover() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let (_, reader) = key_with(&app, &tenant, &["users:read"]).await;

    let users = app.get(&tenant.path("/users"), &reader).await;
    assert_eq!(ids(&users).len(), 3);
    let one = app
        .get(
            &tenant.path(&format!("/users/{}", tenant.agent.id)),
            &reader,
        )
        .await;
    assert_eq!(one.status, StatusCode::OK, "{:?}", one.body);

    let new_user = json!({ "email": "bot@acme.test", "name": "Bot" });
    let refused = [
        app.post(&tenant.path("/users"), &reader, new_user.clone())
            .await,
        app.get(&tenant.path("/teams"), &reader).await,
        app.get(&tenant.path("/audit-logs"), &reader).await,
        app.get(&tenant.path(""), &reader).await,
        app.get(&tenant.path("/usage"), &reader).await,
        app.put(
            &tenant.path("/entitlements"),
            &reader,
            json!({ "limits": { "max_agents": 50 } }),
        )
        .await,
    ];
    for resp in refused {
        resp.assert_problem(StatusCode::FORBIDDEN, "insufficient_scope");
    }
    assert_eq!(ids(&users).len(), 3, "nobody was added");

    // Other scopes open other doors.
    let (_, auditor) = key_with(&app, &tenant, &["audit:read", "account:read"]).await;
    for path in ["/audit-logs", "", "/usage"] {
        let resp = app.get(&tenant.path(path), &auditor).await;
        assert_eq!(resp.status, StatusCode::OK, "{path}: {:?}", resp.body);
    }
    app.get(&tenant.path("/users"), &auditor)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "insufficient_scope");
    let (_, writer) = key_with(&app, &tenant, &["users:write"]).await;
    let made = app
        .post(&tenant.path("/users"), &writer, new_user.clone())
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    app.get(&tenant.path("/users"), &writer)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "insufficient_scope");
}

#[tokio::test]
async fn a_key_never_reaches_another_account() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let other = app.tenant(&root, "Globex").await;
    let every_scope = [
        "account:read",
        "account:write",
        "users:read",
        "users:write",
        "teams:read",
        "audit:read",
    ];
    let (_, key) = key_with(&app, &tenant, &every_scope).await;
    let nowhere = app
        .get(&format!("{}/users", account_path(Uuid::now_v7())), &key)
        .await;
    for path in ["", "/users", "/teams", "/audit-logs"] {
        assert_hidden(&app.get(&other.path(path), &key).await, &nowhere);
    }
    assert_hidden(
        &app.post(
            &other.path("/users"),
            &key,
            json!({ "email": "spy@globex.test", "name": "Spy" }),
        )
        .await,
        &nowhere,
    );
    assert_eq!(
        ids(&app.get(&other.path("/users"), &other.admin.token).await).len(),
        3
    );
    // Nor the list of accounts, which is a person's view.
    app.get("/api/v1/accounts", &key)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "user_token_required");
}

#[tokio::test]
async fn a_key_cannot_manage_keys_nor_act_as_a_person() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let (id, key) = key_with(&app, &tenant, &["users:read", "users:write"]).await;
    let refused = [
        app.get(&keys_path(&tenant), &key).await,
        app.post(
            &keys_path(&tenant),
            &key,
            json!({ "name": "child", "scopes": ["users:read"] }),
        )
        .await,
        app.delete(&format!("{}/{id}", keys_path(&tenant)), &key)
            .await,
    ];
    for resp in refused {
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{:?}", resp.body);
        let code = resp.body["code"].as_str().unwrap();
        assert!(
            ["insufficient_scope", "user_token_required"].contains(&code),
            "{code}"
        );
    }
    assert_eq!(ids(&listed(&app, &tenant).await), [id], "still one, live");
    assert!(listed_key(&app, &tenant, id).await["revoked_at"].is_null());

    for (method, path) in [
        (Method::GET, "/api/v1/auth/me"),
        (Method::GET, "/api/v1/auth/sessions"),
        (Method::DELETE, "/api/v1/auth/sessions"),
        (Method::POST, "/api/v1/auth/logout"),
    ] {
        app.request(method, path, Some(&key), None)
            .await
            .assert_problem(StatusCode::FORBIDDEN, "user_token_required");
    }
}

#[tokio::test]
async fn a_revoked_key_stops_at_once() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let other = app.tenant(&root, "Globex").await;
    let (id, key) = key_with(&app, &tenant, &["users:read"]).await;
    let (other_id, other_key) = key_with(&app, &other, &["users:read"]).await;
    let users = tenant.path("/users");
    assert_eq!(app.get(&users, &key).await.status, StatusCode::OK);

    let one = format!("{}/{id}", keys_path(&tenant));
    let revoked = app.delete(&one, &tenant.admin.token).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{:?}", revoked.body);
    app.get(&users, &key)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "api_key_revoked");
    let shown = listed_key(&app, &tenant, id).await;
    assert!(shown["revoked_at"].is_string(), "{shown:?}");

    let again = app.delete(&one, &tenant.admin.token).await;
    assert_eq!(
        again.status,
        StatusCode::NO_CONTENT,
        "revoking twice is harmless"
    );
    assert_eq!(
        listed_key(&app, &tenant, id).await["revoked_at"],
        shown["revoked_at"]
    );
    assert_eq!(audit(&app, &tenant, "api_key.revoked").await.len(), 1);

    // Unknown ids, and ids of another account's keys, are not found here.
    for unknown in [Uuid::now_v7(), other_id] {
        app.delete(
            &format!("{}/{unknown}", keys_path(&tenant)),
            &tenant.admin.token,
        )
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(
        app.get(&other.path("/users"), &other_key).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let expires = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() + Duration::from_secs(2);
    let created = create_as(
        &app,
        &tenant.admin,
        &tenant,
        json!({ "name": "short", "scopes": ["users:read"], "expires_at": rfc3339(expires) }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let parsed = OffsetDateTime::parse(created.body["expires_at"].as_str().unwrap(), &Rfc3339);
    assert_eq!(parsed.unwrap(), expires);
    let key = created.body["key"].as_str().unwrap();
    let users = tenant.path("/users");
    assert_eq!(app.get(&users, key).await.status, StatusCode::OK);

    let wait = expires - OffsetDateTime::now_utc() + Duration::from_millis(200);
    tokio::time::sleep(wait.try_into().unwrap_or_default()).await;
    app.get(&users, key)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "api_key_expired");
}

#[tokio::test]
async fn malformed_and_unknown_keys_are_invalid_tokens() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let (_, key) = key_with(&app, &tenant, &["users:read"]).await;
    let users = tenant.path("/users");

    let mut typo = key.clone().into_bytes();
    typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let mut bad_checksum = key.clone();
    let last = bad_checksum.pop().unwrap();
    bad_checksum.push(if last == '0' { '1' } else { '0' });
    let (never_issued, _) = opaque::new_api_key();
    let forgeries = [
        typo,
        bad_checksum,
        "wph_short".to_string(),
        format!("{key}x"),
        never_issued,
    ];
    for forged in forgeries {
        app.get(&users, &forged)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    assert_eq!(app.get(&users, &key).await.status, StatusCode::OK);
}

#[tokio::test]
async fn writes_made_with_a_key_are_audited_as_the_key() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let (key_id, key) = key_with(&app, &tenant, &["users:write", "teams:write"]).await;
    let made = app
        .post(
            &tenant.path("/users"),
            &key,
            json!({ "email": "bot-made@acme.test", "name": "Made By Bot" }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let team = app
        .post(
            &tenant.path("/teams"),
            &key,
            json!({ "name": "Night shift" }),
        )
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{:?}", team.body);

    for (action, id) in [("user.created", made.id()), ("team.created", team.id())] {
        let entries = audit(&app, &tenant, action).await;
        let entry = entries
            .iter()
            .find(|e| e["resource_id"] == id.to_string())
            .unwrap_or_else(|| panic!("no {action} for {id}: {entries:?}"));
        assert_eq!(entry["actor_type"], "api_key", "{entry:?}");
        assert_eq!(entry["actor_api_key_id"], key_id.to_string());
        assert!(entry["actor_user_id"].is_null(), "{entry:?}");
    }
    // A person's writes are attributed to the person.
    let by_admin = app
        .post(
            &tenant.path("/users"),
            &tenant.admin.token,
            json!({ "email": "by-admin@acme.test", "name": "By Admin" }),
        )
        .await;
    let entries = audit(&app, &tenant, "user.created").await;
    let entry = entries
        .iter()
        .find(|e| e["resource_id"] == by_admin.id().to_string())
        .unwrap();
    assert_eq!(entry["actor_type"], "user");
    assert!(entry["actor_api_key_id"].is_null());
}

#[tokio::test]
async fn last_used_at_is_set_once_a_key_is_used() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let (id, key) = key_with(&app, &tenant, &["users:read"]).await;
    let (unused, _) = key_with(&app, &tenant, &["users:read"]).await;
    assert!(listed_key(&app, &tenant, id).await["last_used_at"].is_null());

    let before = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    assert_eq!(
        app.get(&tenant.path("/users"), &key).await.status,
        StatusCode::OK
    );
    let shown = listed_key(&app, &tenant, id).await;
    let used_at = OffsetDateTime::parse(shown["last_used_at"].as_str().unwrap(), &Rfc3339).unwrap();
    assert!(
        used_at >= before && used_at <= OffsetDateTime::now_utc(),
        "{used_at}"
    );
    assert!(listed_key(&app, &tenant, unused).await["last_used_at"].is_null());
}

#[tokio::test]
async fn a_key_of_a_suspended_account_is_refused() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let (_, key) = key_with(&app, &tenant, &["users:read"]).await;
    let suspended = app
        .put(
            &tenant.path(""),
            &root.token,
            json!({ "status": "suspended" }),
        )
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{:?}", suspended.body);
    app.get(&tenant.path("/users"), &key)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "account_suspended");
}
