//! Enforcement matches `docs/rbac.md`: its first table (one account route per row) says
//! which roles may call each route and which API-key scope it needs. Every row is called
//! as every role and with keys, on fresh fixtures, and the table must list exactly the
//! account routes of the OpenAPI document.

use std::collections::{BTreeSet, HashMap};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use whatpro_hub::auth::scopes;

use whatpro_hub::simulators::asaas::AsaasSimulator;

use crate::{
    billing::{billed_with, plan, subscription_body},
    cross_tenant::{
        Ids, Route, document, example_body, fill, placeholders, problem, routes, substitute,
    },
    providers::{instance_body, provider_body},
    support::{Resp, Tenant, TestApp},
};

const MATRIX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rbac.md");
const ROLES: [&str; 4] = ["agent", "supervisor", "admin", "super_admin"];

/// One row of the matrix.
#[derive(Debug)]
struct Row {
    line: usize,
    method: Method,
    template: String,
    /// By [`ROLES`].
    allowed: [bool; 4],
    /// The scope a key needs; `None` ("—"): no key may call it.
    scope: Option<String>,
}

impl Row {
    fn label(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    fn key(&self) -> (String, String) {
        (self.method.to_string(), self.template.clone())
    }
}

fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_string()).collect()
}

/// The first table of docs/rbac.md; any cell it cannot read fails the test.
fn matrix() -> Vec<Row> {
    let text = std::fs::read_to_string(MATRIX).expect("docs/rbac.md exists");
    let mut lines = text
        .lines()
        .enumerate()
        .skip_while(|(_, l)| !l.trim_start().starts_with('|'));
    let (_, header) = lines.next().expect("docs/rbac.md has a table");
    let header = cells(header);
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("docs/rbac.md: the first table has no `{name}` column"))
    };
    let route_col = column("route");
    let role_cols = ROLES.map(column);
    let scope_col = column("API key scope");
    let (_, separator) = lines.next().expect("a header separator");
    assert!(separator.trim_start().starts_with("|-"), "{separator}");

    let mut rows = Vec::new();
    for (index, line) in lines {
        if !line.trim_start().starts_with('|') {
            break;
        }
        let line_no = index + 1;
        assert!(
            line.trim_start().starts_with("| `"),
            "docs/rbac.md:{line_no}: a row of the matrix must start with \"| `\": {line}"
        );
        let cells = cells(line);
        let route = cells[route_col].trim_matches('`');
        let (method, template) = route.split_once(' ').unwrap_or_else(|| {
            panic!("docs/rbac.md:{line_no}: route `{route}` is not `METHOD path`")
        });
        let allowed = role_cols.map(|c| match cells[c].as_str() {
            "✓" => true,
            "" => false,
            other => panic!("docs/rbac.md:{line_no}: role cell {other:?} is neither ✓ nor empty"),
        });
        let scope_cell = cells[scope_col].as_str();
        let scope = if scope_cell.starts_with('—') {
            None
        } else {
            let scope = scope_cell
                .strip_prefix('`')
                .and_then(|s| s.strip_suffix('`'))
                .unwrap_or_else(|| {
                    panic!(
                        "docs/rbac.md:{line_no}: scope cell {scope_cell:?} is neither `scope` nor —"
                    )
                });
            assert!(
                scopes::ALL.contains(&scope),
                "docs/rbac.md:{line_no}: `{scope}` is not a scope keys can hold"
            );
            Some(scope.to_string())
        };
        rows.push(Row {
            line: line_no,
            method: Method::from_bytes(method.as_bytes()).unwrap(),
            template: template.to_string(),
            allowed,
            scope,
        });
    }
    assert!(
        !rows.is_empty(),
        "docs/rbac.md: the first table has no rows"
    );
    rows
}

/// The document's operation for `row`.
fn route_of<'a>(routes: &'a [Route], row: &Row) -> &'a Route {
    routes
        .iter()
        .find(|r| r.key() == row.key())
        .unwrap_or_else(|| {
            panic!(
                "docs/rbac.md:{}: {} is not in the OpenAPI document",
                row.line,
                row.label()
            )
        })
}

// ---------------------------------------------------------------------------------------
// Fresh fixtures.
// ---------------------------------------------------------------------------------------

/// Ids for every parameter `route` and its `body` name, freshly made where the call could
/// change or remove them: a new team, a new agent (in that team when the path names both),
/// a new API key. `by` is the caller's token (a chat message is theirs where they may send).
async fn fixtures(
    app: &TestApp,
    t: &Tenant,
    route: &Route,
    body: Option<&Value>,
    (n, by): (usize, &str),
) -> Ids {
    let path_params = route.params();
    let mut needed: BTreeSet<String> = path_params.iter().cloned().collect();
    needed.extend(body.map(placeholders).unwrap_or_default());
    let admin = &t.admin.token;
    let mut ids = Ids::new();
    for name in &needed {
        let id = match name.as_str() {
            "accountId" => t.id.to_string(),
            "teamId" => made(
                app.post(
                    &t.path("/teams"),
                    admin,
                    json!({ "name": format!("Fixture team {n}") }),
                )
                .await,
            ),
            "userId" => made(
                app.post(
                    &t.path("/users"),
                    admin,
                    json!({ "email": format!("fixture{n}@rbac.test"), "name": format!("Fixture {n}"), "role": "agent" }),
                )
                .await,
            ),
            "keyId" => made(
                app.post(
                    &t.path("/api-keys"),
                    admin,
                    json!({ "name": format!("Fixture key {n}"), "scopes": [scopes::ALL[0]] }),
                )
                .await,
            ),
            "boardId" => made(
                app.post(
                    &t.path("/boards"),
                    admin,
                    json!({ "name": format!("Fixture board {n}") }),
                )
                .await,
            ),
            // The board's second stage: empty, so it can also be deleted.
            "stageId" => {
                let board = app
                    .get(&t.path(&format!("/boards/{}", ids["boardId"])), admin)
                    .await;
                board.body["stages"][1]["id"].as_str().unwrap().to_string()
            }
            "cardId" => made(
                app.post(
                    &t.path(&format!("/boards/{}/cards", ids["boardId"])),
                    admin,
                    json!({ "title": format!("Fixture card {n}") }),
                )
                .await,
            ),
            "deliveryId" => app.add_delivery(t.id).await.to_string(),
            "inboxId" => app
                .add_inbox(t.id, &format!("Fixture inbox {n}"))
                .await
                .to_string(),
            "planId" => {
                let root = app.user(&format!("plans{n}@rbac.test"), true).await;
                plan(app, &root, &format!("plan-{n}"), "99.90", 100_000).await.to_string()
            }
            "paymentId" => open_payment(app, t, &n.to_string()).await,
            "providerId" => made(
                app.post(
                    &t.path("/providers"),
                    admin,
                    provider_body(&format!("Fixture provider {n}")),
                )
                .await,
            ),
            "instanceId" => {
                let provider = made(
                    app.post(&t.path("/providers"), admin, provider_body(&format!("Numbers {n}")))
                        .await,
                );
                made(
                    app.post(&t.path("/instances"), admin, instance_body(provider.parse().unwrap()))
                        .await,
                )
            }
            // A public channel: every member of the account may see it and post in it.
            "roomId" => match ids.get("roomId") {
                Some(room) => room.clone(),
                None => fixture_room(app, t, n).await,
            },
            // A message of the caller's in a fresh public channel (the admin's, for a key):
            // its author may edit and delete it.
            "messageId" => {
                let room = fixture_room(app, t, n).await;
                let path = t.path(&format!("/chat/rooms/{room}/messages"));
                let body = json!({ "body": format!("Fixture message {n}"), "client_id": format!("fixture-{n}") });
                let sent = app.post(&path, by, body.clone()).await;
                ids.insert("roomId".into(), room);
                if sent.status == StatusCode::CREATED {
                    sent.id().to_string()
                } else {
                    made(app.post(&path, admin, body).await)
                }
            }
            "emoji" => "👍".to_string(),
            // A Chatwoot display id: a number within the account (its Chatwoot decides).
            "conversationId" => "1".to_string(),
            other => panic!(
                "{}: `{other}` has no fixture in tests/api/rbac.rs; a new parameter needs a fixture",
                route.label()
            ),
        };
        ids.insert(name.clone(), id);
    }
    // A member to remove from a team must be in it.
    if path_params.iter().any(|p| p == "teamId") && path_params.iter().any(|p| p == "userId") {
        let path = t.path(&format!("/teams/{}/members", ids["teamId"]));
        made(
            app.post(&path, admin, json!({ "user_id": ids["userId"] }))
                .await,
        );
    }
    // A room's member whose role changes must be in it.
    if path_params.iter().any(|p| p == "roomId") && path_params.iter().any(|p| p == "userId") {
        let path = t.path(&format!("/chat/rooms/{}/members", ids["roomId"]));
        let add = json!({ "user_ids": [ids["userId"]] });
        app.post(&path, admin, add).await;
    }
    ids
}

/// A public channel of the admin's.
/// A public channel of the admin's with one message of theirs (so there is something to
/// mark unread).
async fn fixture_room(app: &TestApp, t: &Tenant, n: usize) -> String {
    let room = made(
        app.post(
            &t.path("/chat/rooms"),
            &t.admin.token,
            json!({ "kind": "channel", "name": format!("Fixture room {n}"), "member_ids": [] }),
        )
        .await,
    );
    let first = json!({ "body": "first", "client_id": format!("fixture-room-{n}") });
    let path = t.path(&format!("/chat/rooms/{room}/messages"));
    made(app.post(&path, &t.admin.token, first).await);
    room
}

/// An open charge of the tenant's subscription (subscribing it first when it has none).
pub(crate) async fn open_payment(app: &TestApp, t: &Tenant, label: &str) -> String {
    let root = app.user(&format!("payer-{label}@rbac.test"), true).await;
    let plan = plan(
        app,
        &root,
        &format!("payment-plan-{label}"),
        "59.90",
        100_000,
    )
    .await;
    let path = t.path("/billing/subscription");
    let subscribed = app
        .post(&path, &t.admin.token, subscription_body(plan, "PIX"))
        .await;
    if subscribed.status == StatusCode::CREATED {
        return subscribed.body["payment"]["id"]
            .as_str()
            .unwrap()
            .to_string();
    }
    let billing = app.get(&t.path("/billing"), &t.admin.token).await;
    billing.body["payments"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("fixture: no payment in {}", billing.body))
        .to_string()
}

#[track_caller]
fn made(resp: Resp) -> String {
    assert!(
        resp.status == StatusCode::CREATED || resp.status == StatusCode::OK,
        "fixture: {} {:?}",
        resp.status,
        resp.body
    );
    resp.id().to_string()
}

/// Calls `route` with fresh fixtures and a valid body, as `token`.
async fn call(
    app: &TestApp,
    doc: &Value,
    t: &Tenant,
    route: &Route,
    token: &str,
    n: usize,
) -> (String, Resp) {
    let body = example_body(doc, route, n);
    let ids = fixtures(app, t, route, body.as_ref(), (n, token)).await;
    let path = fill(route, &ids);
    if route.multipart {
        let file = ("fixture.png", "image/png");
        let resp = app
            .upload(&path, token, file, &crate::chat_attachments::png(4, 3))
            .await;
        return (path, resp);
    }
    let body = body.map(|b| substitute(route, &b, &ids));
    let resp = app
        .request(route.method.clone(), &path, Some(token), body)
        .await;
    (path, resp)
}

/// Allowed: the call did what it asked (2xx), or failed on the data (409, e.g. the last
/// admin) — never 401, 403 or 404.
fn allowed(resp: &Resp) -> Result<(), String> {
    if resp.status.is_success() || resp.status == StatusCode::CONFLICT {
        Ok(())
    } else {
        Err(format!(
            "expected success, got {} {}",
            resp.status, resp.body
        ))
    }
}

/// A key holding exactly `held`, made by the tenant's admin.
async fn key_holding(app: &TestApp, t: &Tenant, held: &[String]) -> String {
    let resp = app
        .post(
            &t.path("/api-keys"),
            &t.admin.token,
            json!({ "name": "rbac probe", "scopes": held }),
        )
        .await;
    assert_eq!(resp.status, StatusCode::CREATED, "{:?}", resp.body);
    resp.body["key"].as_str().unwrap().to_string()
}

/// A hub billing through an Asaas simulator (kept alive by the caller), with limits no
/// fixture reaches.
async fn spawn() -> (AsaasSimulator, TestApp) {
    billed_with(&[
        ("DEFAULT_PLAN_MAX_AGENTS", "100000"),
        ("DEFAULT_PLAN_MAX_TEAMS", "100000"),
        ("DEFAULT_PLAN_MAX_BOARDS", "100000"),
        ("DEFAULT_PLAN_MAX_PROVIDERS", "100000"),
        ("DEFAULT_PLAN_MAX_INSTANCES", "100000"),
    ])
    .await
}

fn report(what: &str, calls: usize, failures: Vec<String>) {
    println!("rbac {what}: {calls} calls");
    assert!(
        failures.is_empty(),
        "{} of {calls} calls disagree with docs/rbac.md:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------

#[test]
fn the_matrix_lists_exactly_the_account_routes_of_the_document() {
    let rows = matrix();
    let mut listed = BTreeSet::new();
    for row in &rows {
        assert!(
            listed.insert(row.key()),
            "docs/rbac.md:{}: {} is listed twice",
            row.line,
            row.label()
        );
    }
    let documented: BTreeSet<_> = routes(&document())
        .iter()
        .filter(|r| r.in_account())
        .map(Route::key)
        .collect();
    let missing: Vec<_> = documented.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "account routes of the OpenAPI document missing from docs/rbac.md: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "docs/rbac.md lists routes that are not in the OpenAPI document: {stale:?}"
    );
}

#[tokio::test]
async fn every_role_gets_what_the_matrix_says() {
    let doc = document();
    let routes = routes(&doc);
    let (_asaas, app) = spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Rbac Corp").await;
    let tokens = [
        &t.agent.token,
        &t.supervisor.token,
        &t.admin.token,
        &root.token,
    ];

    let (mut calls, mut n, mut failures) = (0, 0, Vec::new());
    for row in matrix() {
        let route = route_of(&routes, &row);
        for (i, role) in ROLES.iter().enumerate() {
            n += 1;
            let (path, resp) = call(&app, &doc, &t, route, tokens[i], n).await;
            calls += 1;
            let verdict = if row.allowed[i] {
                allowed(&resp)
            } else {
                problem(&resp, StatusCode::FORBIDDEN, &["forbidden"])
            };
            if let Err(why) = verdict {
                let should = if row.allowed[i] { "allowed" } else { "denied" };
                failures.push(format!(
                    "docs/rbac.md:{} {} {path} as {role} ({should}): {why}",
                    row.line, row.method
                ));
            }
        }
    }
    report("roles", calls, failures);
}

#[tokio::test]
async fn api_keys_need_exactly_the_documented_scope() {
    let doc = document();
    let routes = routes(&doc);
    let (_asaas, app) = spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Keyed Corp").await;

    let mut keys: HashMap<Vec<String>, String> = HashMap::new();
    let (mut calls, mut n, mut failures) = (0, 0, Vec::new());
    for row in matrix() {
        let route = route_of(&routes, &row);
        // (what the key holds, what it must get)
        let mut cases: Vec<(Vec<String>, bool)> = Vec::new();
        match &row.scope {
            Some(scope) => {
                cases.push((vec![scope.clone()], true));
                let others = scopes::ALL
                    .iter()
                    .filter(|s| **s != scope.as_str())
                    .map(|s| s.to_string())
                    .collect();
                cases.push((others, false));
            }
            None => cases.push((scopes::ALL.iter().map(|s| s.to_string()).collect(), false)),
        }
        for (held, ok) in cases {
            if !keys.contains_key(&held) {
                let key = key_holding(&app, &t, &held).await;
                keys.insert(held.clone(), key);
            }
            n += 1;
            let (path, resp) = call(&app, &doc, &t, route, &keys[&held], n).await;
            calls += 1;
            let verdict = match (ok, &row.scope) {
                (true, _) => allowed(&resp),
                (false, Some(_)) => problem(&resp, StatusCode::FORBIDDEN, &["insufficient_scope"]),
                (false, None) => problem(
                    &resp,
                    StatusCode::FORBIDDEN,
                    &["insufficient_scope", "user_token_required"],
                ),
            };
            if let Err(why) = verdict {
                let holding = if held.len() == 1 {
                    format!("only {}", held[0])
                } else if held.len() == scopes::ALL.len() {
                    "every scope".into()
                } else {
                    "every scope but the documented one".into()
                };
                failures.push(format!(
                    "docs/rbac.md:{} {} {path} with a key holding {holding}: {why}",
                    row.line, row.method
                ));
            }
        }
    }
    report("API-key scopes", calls, failures);
}

/// Regression (issue 13, finding 14): every JSON body of the API refuses a field it does
/// not know, with the same 422 — bodies that flatten another struct included.
#[tokio::test]
async fn every_body_refuses_an_unknown_field() {
    let doc = document();
    let routes = routes(&doc);
    let (_asaas, app) = spawn().await;
    let root = app.user("root@hub.test", true).await;
    let t = app.tenant(&root, "Strict Corp").await;
    let (mut calls, mut failures) = (0, Vec::new());
    for (n, route) in routes.iter().enumerate() {
        // Chatwoot's deliveries and platform events are its formats, checked by signature.
        let external = ["/api/v1/webhooks/", "/api/v1/platform-app/"];
        if external.iter().any(|p| route.template.starts_with(p)) {
            continue;
        }
        let Some(Value::Object(mut body)) = example_body(&doc, route, n) else {
            continue;
        };
        body.insert("board_id".into(), json!("not a field of any body"));
        let body = Value::Object(body);
        // The body is read before anything it names is looked up: outside an account, any
        // id in the path will do.
        let (ids, token) = if route.in_account() {
            (
                fixtures(&app, &t, route, Some(&body), (n, &t.admin.token)).await,
                &t.admin.token,
            )
        } else {
            let any = route
                .params()
                .into_iter()
                .map(|p| (p, uuid::Uuid::now_v7().to_string()));
            (any.collect(), &root.token)
        };
        let path = fill(route, &ids);
        let body = substitute(route, &body, &ids);
        let resp = app
            .request(route.method.clone(), &path, Some(token), Some(body))
            .await;
        calls += 1;
        let refused = resp.status == StatusCode::UNPROCESSABLE_ENTITY
            && resp.body["code"] == "validation_failed"
            && resp.body.to_string().contains("board_id");
        if !refused {
            failures.push(format!(
                "{} {path}: {} {}",
                route.method, resp.status, resp.body
            ));
        }
    }
    report("unknown fields", calls, failures);
}
