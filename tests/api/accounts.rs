//! Accounts (tenants): create, list, read, edit, suspend. Also the small helpers the
//! tenancy test files share (validation, pagination, authentication and not-found checks).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Caller, Resp, TestApp};

// ---------------------------------------------------------------------------------------
// Helpers shared by accounts.rs, users.rs, teams.rs, entitlements.rs and audit.rs.
// ---------------------------------------------------------------------------------------

/// The platform operator every test starts with.
pub async fn super_admin(app: &TestApp) -> Caller {
    app.user("root@hub.test", true).await
}

pub fn account_path(account_id: Uuid) -> String {
    format!("/api/v1/accounts/{account_id}")
}

/// Asserts a 422 `validation_failed` whose `errors[].field` names `field`.
#[track_caller]
pub fn assert_invalid(resp: &Resp, field: &str) {
    resp.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields: Vec<&str> = resp.body["errors"]
        .as_array()
        .expect("a validation problem lists its errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default())
        .collect();
    assert!(
        fields.contains(&field),
        "expected `{field}` among the failing fields {fields:?}: {:?}",
        resp.body
    );
}

/// Asserts a 404 `not_found` that is indistinguishable (request id aside) from the one a
/// random, never-issued id got: another tenant's ids must reveal nothing.
#[track_caller]
pub fn assert_hidden(resp: &Resp, missing: &Resp) {
    resp.assert_problem(StatusCode::NOT_FOUND, "not_found");
    missing.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let strip = |body: &Value| {
        let mut body = body.clone();
        body.as_object_mut().map(|o| o.remove("request_id"));
        body
    };
    assert_eq!(strip(&resp.body), strip(&missing.body));
}

/// Asserts a 403 `quota_exceeded` on `resource` with its `limit` and `current` count.
#[track_caller]
pub fn assert_quota(resp: &Resp, resource: &str, limit: i64, current: i64) {
    resp.assert_problem(StatusCode::FORBIDDEN, "quota_exceeded");
    assert_eq!(resp.body["resource"], resource, "{:?}", resp.body);
    assert_eq!(resp.body["limit"], limit, "{:?}", resp.body);
    assert_eq!(resp.body["current"], current, "{:?}", resp.body);
}

/// The items of a successful page.
#[track_caller]
pub fn items(resp: &Resp) -> &[Value] {
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body["items"].as_array().expect("a page has items")
}

/// The `id`s of a successful page, in order.
#[track_caller]
pub fn ids(resp: &Resp) -> Vec<Uuid> {
    items(resp)
        .iter()
        .map(|item| item["id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// `ids` in ascending order, to compare sets of ids.
pub fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort();
    ids
}

/// Follows `next_cursor` through `path` with `limit`, asserting that every page but the
/// last is full, the last one has no cursor, and no id comes twice. Ids in page order.
pub async fn walk_pages(app: &TestApp, path: &str, token: &str, limit: usize) -> Vec<Uuid> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut seen: Vec<Uuid> = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..1000 {
        let url = match &cursor {
            Some(cursor) => format!("{path}{separator}limit={limit}&cursor={cursor}"),
            None => format!("{path}{separator}limit={limit}"),
        };
        let page = app.get(&url, token).await;
        let page_ids = ids(&page);
        for id in &page_ids {
            assert!(!seen.contains(id), "{id} came twice while paging {path}");
        }
        seen.extend(&page_ids);
        match page.body["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(page_ids.len(), limit, "only the last page may be short");
                cursor = Some(next.to_string());
            }
            None => {
                assert!(page_ids.len() <= limit);
                return seen;
            }
        }
    }
    panic!("paging {path} did not end");
}

/// Asserts that `method path` refuses a request without a token (401 `unauthenticated`),
/// with a garbage token, and with a well-signed token of a user that does not exist
/// (401 `invalid_token`).
pub async fn assert_needs_token(app: &TestApp, method: Method, path: &str, body: Option<Value>) {
    let anonymous = app.request(method.clone(), path, None, body.clone()).await;
    anonymous.assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(anonymous.header("www-authenticate"), Some("Bearer"));
    app.request(method.clone(), path, Some("not.a-jwt"), body.clone())
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    let ghost = app
        .state
        .tokens
        .mint_access(Uuid::now_v7(), Uuid::now_v7())
        .token;
    app.request(method, path, Some(&ghost), body)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

/// A super admin's entitlement override for one account; asserts it was accepted.
pub async fn set_entitlements(
    app: &TestApp,
    root: &Caller,
    account_id: Uuid,
    body: Value,
) -> Value {
    let resp = app
        .put(
            &format!("{}/entitlements", account_path(account_id)),
            &root.token,
            body,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body
}

// ---------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------

async fn create_account(app: &TestApp, caller: &Caller, body: Value) -> Resp {
    app.post("/api/v1/accounts", &caller.token, body).await
}

async fn list_all(app: &TestApp, caller: &Caller) -> Vec<Uuid> {
    ids(&app.get("/api/v1/accounts?limit=200", &caller.token).await)
}

#[tokio::test]
async fn super_admin_creates_an_account_with_defaults() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let created = create_account(&app, &root, json!({ "name": "  Acme Ltd  " })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let body = &created.body;
    assert_eq!(body["name"], "Acme Ltd", "the name is trimmed");
    assert_eq!(body["locale"], "en");
    assert_eq!(body["status"], "active");
    assert_eq!(body["settings"], json!({}));
    assert_eq!(body["chatwoot_account_id"], Value::Null);
    assert_eq!(body["created_at"], body["updated_at"]);

    let fetched = app.get(&account_path(created.id()), &root.token).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, created.body);
}

#[tokio::test]
async fn account_creation_keeps_locale_chatwoot_link_and_settings() {
    let app = TestApp::spawn_with(&[("CHATWOOT_URL", "http://chatwoot.test")]).await;
    let root = super_admin(&app).await;
    let settings = json!({ "timezone": "America/Sao_Paulo", "business_hours": { "mon": [9, 18] } });
    let created = create_account(
        &app,
        &root,
        json!({ "name": "Globex", "locale": "pt_BR", "chatwoot_account_id": 42, "settings": settings }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let fetched = app.get(&account_path(created.id()), &root.token).await;
    assert_eq!(fetched.body["locale"], "pt_BR");
    assert_eq!(fetched.body["chatwoot_account_id"], 42);
    assert_eq!(fetched.body["settings"], settings);
}

#[tokio::test]
async fn account_creation_rejects_invalid_fields() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let cases = [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "   " }), "name"),
        (json!({ "name": "x".repeat(121) }), "name"),
        (json!({ "name": "Bell\u{7}" }), "name"),
        (json!({ "name": "A", "locale": "english" }), "locale"),
        (json!({ "name": "A", "locale": "../x" }), "locale"),
        (
            json!({ "name": "A", "chatwoot_account_id": 0 }),
            "chatwoot_account_id",
        ),
        (
            json!({ "name": "A", "chatwoot_account_id": -5 }),
            "chatwoot_account_id",
        ),
        (json!({ "name": "A", "settings": [1, 2] }), "settings"),
        (
            json!({ "name": "A", "settings": { "blob": "x".repeat(17 * 1024) } }),
            "settings",
        ),
    ];
    for (body, field) in cases {
        assert_invalid(&create_account(&app, &root, body).await, field);
    }
    let all_at_once = create_account(
        &app,
        &root,
        json!({ "name": "", "locale": "x", "chatwoot_account_id": -1 }),
    )
    .await;
    for field in ["name", "locale", "chatwoot_account_id"] {
        assert_invalid(&all_at_once, field);
    }
    let unknown = create_account(&app, &root, json!({ "name": "A", "owner": "me" })).await;
    unknown.assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(
        list_all(&app, &root).await.is_empty(),
        "nothing was created"
    );
}

/// Regression: a JSON value of the wrong type names its field, not the generic `body`
/// (src/platform/json.rs `field_of` used to read the wrong part of axum's message).
#[tokio::test]
async fn wrong_json_types_name_the_failing_field() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    assert_invalid(
        &create_account(&app, &root, json!({ "name": 42 })).await,
        "name",
    );
    assert_invalid(
        &create_account(
            &app,
            &root,
            json!({ "name": "A", "chatwoot_account_id": "7" }),
        )
        .await,
        "chatwoot_account_id",
    );
}

#[tokio::test]
async fn only_super_admins_create_accounts() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    for caller in [&tenant.admin, &tenant.supervisor, &tenant.agent] {
        create_account(&app, caller, json!({ "name": "Sneaky" }))
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
    assert_eq!(list_all(&app, &root).await, vec![tenant.id]);
}

#[tokio::test]
async fn super_admin_lists_every_account_and_members_only_their_own() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let both = sorted(vec![acme.id, globex.id]);
    assert_eq!(sorted(list_all(&app, &root).await), both);

    for caller in [&acme.admin, &acme.supervisor, &acme.agent] {
        assert_eq!(list_all(&app, caller).await, vec![acme.id]);
    }
    assert_eq!(list_all(&app, &globex.agent).await, vec![globex.id]);

    // Joining a second account shows both to that member only.
    app.join(globex.id, acme.agent.id, "agent").await;
    assert_eq!(sorted(list_all(&app, &acme.agent).await), both);
    assert_eq!(list_all(&app, &acme.supervisor).await, vec![acme.id]);

    let stranger = app.user("stranger@hub.test", false).await;
    assert!(list_all(&app, &stranger).await.is_empty());
}

#[tokio::test]
async fn account_list_walks_every_page_by_cursor() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let mut created = Vec::new();
    for n in 0..7 {
        let resp = create_account(&app, &root, json!({ "name": format!("Account {n}") })).await;
        assert_eq!(resp.status, StatusCode::CREATED);
        created.push(resp.id());
    }
    let created = sorted(created);
    for limit in [1, 3, 7, 200] {
        let walked = walk_pages(&app, "/api/v1/accounts", &root.token, limit).await;
        assert_eq!(
            walked, created,
            "limit {limit}: every account once, in id order"
        );
    }
    let first = app.get("/api/v1/accounts?limit=3", &root.token).await;
    assert!(first.body["next_cursor"].is_string());
    let exact = app.get("/api/v1/accounts?limit=7", &root.token).await;
    assert_eq!(ids(&exact).len(), 7);
    assert!(
        exact.body["next_cursor"].is_null(),
        "no cursor when nothing follows"
    );
    let default = app.get("/api/v1/accounts", &root.token).await;
    assert_eq!(ids(&default), created, "the default page holds 50");
}

#[tokio::test]
async fn account_list_rejects_bad_limits_and_forged_cursors() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    for query in ["limit=201", "limit=0"] {
        let resp = app
            .get(&format!("/api/v1/accounts?{query}"), &root.token)
            .await;
        assert_invalid(&resp, "limit");
    }
    let forged = app
        .get("/api/v1/accounts?cursor=not-a-cursor", &root.token)
        .await;
    assert_invalid(&forged, "cursor");
    let ok = app.get("/api/v1/accounts?limit=200", &root.token).await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn chatwoot_account_ids_belong_to_one_account() {
    let app = TestApp::spawn_with(&[("CHATWOOT_URL", "http://chatwoot.test")]).await;
    let root = super_admin(&app).await;
    let first = create_account(
        &app,
        &root,
        json!({ "name": "A", "chatwoot_account_id": 7 }),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);
    create_account(
        &app,
        &root,
        json!({ "name": "B", "chatwoot_account_id": 7 }),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "chatwoot_account_taken");
    assert_eq!(list_all(&app, &root).await, vec![first.id()]);
    let other = create_account(
        &app,
        &root,
        json!({ "name": "B", "chatwoot_account_id": 8 }),
    )
    .await;
    assert_eq!(other.status, StatusCode::CREATED);
    for _ in 0..2 {
        let unlinked = create_account(&app, &root, json!({ "name": "Unlinked" })).await;
        assert_eq!(
            unlinked.status,
            StatusCode::CREATED,
            "many accounts may have no Chatwoot link"
        );
    }
}

#[tokio::test]
async fn members_read_their_account_and_admins_edit_it() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = account_path(tenant.id);
    for caller in [&tenant.admin, &tenant.supervisor, &tenant.agent] {
        let read = app.get(&path, &caller.token).await;
        assert_eq!(read.status, StatusCode::OK);
        assert_eq!(read.body["name"], "Acme");
    }
    for caller in [&tenant.supervisor, &tenant.agent] {
        app.put(&path, &caller.token, json!({ "name": "Hijacked" }))
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }

    let settings = json!({ "greeting": "Olá" });
    let updated = app
        .put(
            &path,
            &tenant.admin.token,
            json!({ "name": " Acme Brasil ", "locale": "pt_BR", "settings": settings }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{:?}", updated.body);
    assert_eq!(updated.body["name"], "Acme Brasil");
    assert_eq!(updated.body["locale"], "pt_BR");
    assert_eq!(updated.body["settings"], settings);
    assert_eq!(updated.body["status"], "active");

    // A partial update keeps what it does not mention.
    let renamed = app
        .put(&path, &tenant.admin.token, json!({ "name": "Acme BR" }))
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let read = app.get(&path, &tenant.agent.token).await;
    assert_eq!(read.body["name"], "Acme BR");
    assert_eq!(read.body["locale"], "pt_BR");
    assert_eq!(read.body["settings"], settings);
}

#[tokio::test]
async fn account_update_rejects_invalid_fields() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = account_path(tenant.id);
    let cases = [
        (json!({ "name": "" }), "name"),
        (json!({ "name": "y".repeat(121) }), "name"),
        (json!({ "locale": "EN" }), "locale"),
        (json!({ "settings": "dark" }), "settings"),
    ];
    for (body, field) in cases {
        assert_invalid(&app.put(&path, &tenant.admin.token, body).await, field);
    }
    assert_invalid(
        &app.put(&path, &root.token, json!({ "status": "closed" }))
            .await,
        "status",
    );
    let read = app.get(&path, &root.token).await;
    assert_eq!(
        (read.body["name"].as_str(), read.body["status"].as_str()),
        (Some("Acme"), Some("active"))
    );
}

#[tokio::test]
async fn only_super_admins_change_account_status() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = account_path(tenant.id);
    for caller in [&tenant.admin, &tenant.supervisor, &tenant.agent] {
        app.put(&path, &caller.token, json!({ "status": "suspended" }))
            .await
            .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    }
    app.put(
        &path,
        &tenant.admin.token,
        json!({ "name": "Renamed", "status": "active" }),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    let read = app.get(&path, &tenant.admin.token).await;
    assert_eq!(read.body["status"], "active");
    assert_eq!(
        read.body["name"], "Acme",
        "a refused update changes nothing"
    );
}

#[tokio::test]
async fn a_suspended_account_locks_members_out_but_not_super_admins() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let path = account_path(acme.id);
    let suspended = app
        .put(&path, &root.token, json!({ "status": "suspended" }))
        .await;
    assert_eq!(suspended.status, StatusCode::OK, "{:?}", suspended.body);
    assert_eq!(suspended.body["status"], "suspended");

    for caller in [&acme.admin, &acme.supervisor, &acme.agent] {
        for sub in ["", "/users", "/teams", "/usage"] {
            app.get(&format!("{path}{sub}"), &caller.token)
                .await
                .assert_problem(StatusCode::FORBIDDEN, "account_suspended");
        }
    }
    app.post(
        &format!("{path}/teams"),
        &acme.admin.token,
        json!({ "name": "Sales" }),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "account_suspended");

    let missing = app
        .get(&account_path(Uuid::now_v7()), &globex.admin.token)
        .await;
    let outsider = app.get(&path, &globex.admin.token).await;
    assert_hidden(&outsider, &missing);

    let read = app.get(&path, &root.token).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["status"], "suspended");
    let users = app.get(&format!("{path}/users"), &root.token).await;
    assert_eq!(items(&users).len(), 3);
    let other = app.get(&account_path(globex.id), &globex.agent.token).await;
    assert_eq!(
        other.status,
        StatusCode::OK,
        "other accounts are not affected"
    );

    let reactivated = app
        .put(&path, &root.token, json!({ "status": "active" }))
        .await;
    assert_eq!(reactivated.body["status"], "active");
    let back = app.get(&path, &acme.agent.token).await;
    assert_eq!(back.status, StatusCode::OK);
}

#[tokio::test]
async fn another_tenants_account_is_not_found() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let acme = app.tenant(&root, "Acme").await;
    let globex = app.tenant(&root, "Globex").await;
    let (theirs, nowhere) = (account_path(acme.id), account_path(Uuid::now_v7()));

    let token = &globex.admin.token;
    assert_hidden(
        &app.get(&theirs, token).await,
        &app.get(&nowhere, token).await,
    );
    let rename = json!({ "name": "Mine now" });
    assert_hidden(
        &app.put(&theirs, token, rename.clone()).await,
        &app.put(&nowhere, token, rename).await,
    );
    let malformed = app.get("/api/v1/accounts/not-a-uuid", token).await;
    malformed.assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.get(&theirs, &root.token).await.body["name"], "Acme");
    // A super admin sees a missing account as missing too.
    app.get(&nowhere, &root.token)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn account_endpoints_need_a_valid_token() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    let tenant = app.tenant(&root, "Acme").await;
    let path = account_path(tenant.id);
    let body = json!({ "name": "X" });
    assert_needs_token(&app, Method::GET, "/api/v1/accounts", None).await;
    assert_needs_token(&app, Method::POST, "/api/v1/accounts", Some(body.clone())).await;
    assert_needs_token(&app, Method::GET, &path, None).await;
    assert_needs_token(&app, Method::PUT, &path, Some(body)).await;
    assert_eq!(
        list_all(&app, &root).await,
        vec![tenant.id],
        "nothing was created"
    );
    assert_eq!(
        app.get(&path, &root.token).await.body["name"],
        "Acme",
        "nothing was renamed"
    );
}
