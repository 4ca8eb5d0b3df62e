//! Tenant isolation over every route of the OpenAPI document. For each route, another
//! tenant's members, sessions and API keys get what a stranger gets (404 under the
//! account, nothing of the victim in any answer); broken, forged, expired and ended
//! credentials get 401; the victim's own key without the route's scope gets 403; and
//! afterwards nothing of the victim has changed.
//!
//! The route list comes from `openapi_document()`, never from this file: a new route is
//! swept automatically, a new path parameter fails until it gets a fixture, and a route
//! that cannot be swept must be listed in [`UNSCOPED`] with a reason.
//!
//! The helpers marked `pub(crate)` (routes, path filling, example bodies, problem checks)
//! are shared with `rbac.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use uuid::Uuid;
use whatpro_hub::{
    app::server::openapi_document,
    auth::{
        scopes,
        sessions::{self, Issued, Method as SessionMethod, NewSession},
    },
};

use crate::support::{Caller, Resp, Tenant, TestApp};

/// Documented routes this sweep does not call, with the reason. The sweep fails when a
/// route of the document is neither swept nor listed here, and when a listed route is no
/// longer in the document. (`/metrics`, `/api/openapi.json`, `/docs` and the UI are not in
/// the document; they are public and carry no tenant data.)
const UNSCOPED: &[(&str, &str, &str)] = &[
    (
        "GET",
        "/health/live",
        "public liveness probe: reads no tenant data and ignores credentials",
    ),
    (
        "GET",
        "/health/ready",
        "public readiness probe: pings the database, reads no tenant data, ignores credentials",
    ),
    (
        "POST",
        "/api/v1/auth/sso",
        "public sign-in: authenticates with a Chatwoot credential checked by Chatwoot (not configured here), never with a bearer token",
    ),
    (
        "POST",
        "/api/v1/auth/refresh",
        "public: authenticates with a refresh token (body or cookie), never with a bearer token, so a tenant id cannot be substituted",
    ),
    (
        "GET",
        "/api/v1/realtime/events",
        "authenticates with a one-use ticket bound to one account's member (tests/api/realtime.rs), never with a bearer token",
    ),
    (
        "GET",
        "/api/v1/realtime/ws",
        "authenticates with a one-use ticket bound to one account's member; frames are filtered by account and room membership (tests/api/chat_live.rs)",
    ),
    (
        "POST",
        "/api/v1/auth/exchange",
        "public: authenticates with a single-use instance token in the body, bound to its account; covered by tests/api/embedding.rs",
    ),
    (
        "POST",
        "/api/v1/instance-tokens",
        "public: authenticates with a Chatwoot session checked by Chatwoot and the page's Origin; covered by tests/api/embedding.rs",
    ),
    (
        "POST",
        "/api/v1/platform-app/events",
        "public: authenticates with the installation's HMAC signature, never a bearer token; covered by tests/api/embedding.rs",
    ),
    (
        "GET",
        "/api/v1/instance-tokens/validate",
        "authenticated only by an instance token, which names its one account and origin (sessions and API keys get 401); covered by tests/api/embedding.rs",
    ),
    (
        "GET",
        "/api/v1/platform-app/config",
        "authenticated only by an instance token, which names its one account and origin (sessions and API keys get 401); covered by tests/api/embedding.rs",
    ),
    (
        "GET",
        "/api/v1/platform-app/chat/unread",
        "authenticated only by an instance token, which names its one account, person and origin; answers that person's own totals (tests/api/embedding.rs)",
    ),
    (
        "POST",
        "/api/v1/webhooks/chatwoot/{accountId}",
        "public: authenticated by the account's Chatwoot webhook signature, never a bearer token; covered by tests/api/embedding.rs",
    ),
    (
        "GET",
        "/api/v1/chat/files/{attachmentId}",
        "authenticated only by the hub's signature over the attachment's id and an expiry (a link a room's messages hold, for <img src>); forged and expired links are covered by tests/api/chat_attachments.rs",
    ),
    (
        "GET",
        "/api/v1/chat/files/{attachmentId}/thumbnail",
        "authenticated only by the hub's signature over the attachment's id, the variant and an expiry; covered by tests/api/chat_attachments.rs",
    ),
    (
        "GET",
        "/api/v1/plans",
        "public: the plans on offer hold no tenant data; archived ones only for super admins (tests/api/billing.rs)",
    ),
    (
        "POST",
        "/api/v1/plans",
        "global, super-admin only, holds no tenant data (every other caller gets 403); covered by tests/api/billing.rs",
    ),
    (
        "PUT",
        "/api/v1/plans/{planId}",
        "global, super-admin only, holds no tenant data (every other caller gets 403); covered by tests/api/billing.rs",
    ),
    (
        "DELETE",
        "/api/v1/plans/{planId}",
        "global, super-admin only, holds no tenant data (every other caller gets 403); covered by tests/api/billing.rs",
    ),
    (
        "GET",
        "/api/v1/webhook-deliveries",
        "global, super-admin only: deliveries that belong to no account (Asaas's); covered by tests/api/billing.rs",
    ),
    (
        "POST",
        "/api/v1/webhook-deliveries/replay",
        "global, super-admin only (every other caller gets 403), what `whatpro-hub replay-webhooks` does; covered by tests/api/billing.rs",
    ),
    (
        "POST",
        "/api/v1/webhook-deliveries/{deliveryId}/replay",
        "global, super-admin only (every other caller gets 403); covered by tests/api/billing.rs",
    ),
    (
        "POST",
        "/api/v1/webhooks/providers/{instanceId}",
        "public: authenticated by the instance's own webhook secret, never a bearer token; covered by tests/api/providers.rs",
    ),
    (
        "POST",
        "/api/v1/webhooks/providers/{instanceId}/{secret}",
        "public: authenticated by the instance's own webhook secret (in the URL, for providers that cannot send a header), never a bearer token; covered by tests/api/providers.rs",
    ),
    (
        "GET",
        "/api/v1/webhooks/providers/{instanceId}/{secret}",
        "public: Meta's callback verification, answered only with the instance's own secret; covered by tests/api/providers.rs",
    ),
    (
        "POST",
        "/api/v1/webhooks/asaas",
        "public: authenticated by the Asaas webhook token, never a bearer token; its events are read back from Asaas before they change anything (tests/api/billing.rs)",
    ),
    (
        "GET",
        "/api/v1/chatwoot/installations",
        "global, super-admin only, holds no tenant data (every other caller gets 403); covered by tests/api/embedding.rs",
    ),
    (
        "POST",
        "/api/v1/chatwoot/installations",
        "global, super-admin only, holds no tenant data (every other caller gets 403); covered by tests/api/embedding.rs",
    ),
    (
        "PATCH",
        "/api/v1/chatwoot/installations/{installationId}",
        "global, super-admin only, holds no tenant data (every other caller gets 403); covered by tests/api/embedding.rs",
    ),
    (
        "DELETE",
        "/api/v1/chatwoot/installations/{installationId}",
        "global, super-admin only, holds no tenant data (every other caller gets 403); covered by tests/api/embedding.rs",
    ),
];

/// Ids of what belongs to no tenant (the operator's plans): every tenant may name them,
/// so a body naming only these refers to nothing of another tenant's.
const GLOBAL_IDS: &[&str] = &["planId"];

/// Path parameters that are numbers within the account that names them, not ids of
/// anything of one tenant's (a Chatwoot conversation's display id: `#1` of each account is
/// its own). Under one's own account they name one's own, so naming "the victim's" there
/// means nothing; another Chatwoot account's conversations under one's own account are
/// covered by tests/api/chat_conversation_refs.rs.
const ACCOUNT_RELATIVE: &[&str] = &["conversationId"];

/// The development signing key (`JWT_SIGNING_KEYS` default), to forge tokens.
const DEV_KEY_ID: &str = "dev";
const DEV_SECRET: &str = "development-only-signing-key-do-not-use-in-production";

// ---------------------------------------------------------------------------------------
// Routes of the OpenAPI document (shared with rbac.rs).
// ---------------------------------------------------------------------------------------

const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// One operation of the OpenAPI document.
#[derive(Clone, Debug)]
pub(crate) struct Route {
    pub method: Method,
    pub template: String,
    /// Documented with `security: [{}]`: callable without a credential.
    pub public: bool,
    /// The JSON request body's schema, when the operation takes one.
    pub body: Option<Value>,
    /// The operation takes a `multipart/form-data` upload instead.
    pub multipart: bool,
}

impl Route {
    pub fn key(&self) -> (String, String) {
        (self.method.to_string(), self.template.clone())
    }

    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// The names of the path parameters, in order.
    pub fn params(&self) -> Vec<String> {
        self.template
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(String::from)
            .collect()
    }

    /// Under `/api/v1/accounts/{accountId}`.
    pub fn in_account(&self) -> bool {
        self.template == "/api/v1/accounts/{accountId}"
            || self.template.starts_with("/api/v1/accounts/{accountId}/")
    }
}

/// The OpenAPI document as JSON.
pub(crate) fn document() -> Value {
    serde_json::to_value(openapi_document()).expect("the OpenAPI document serializes")
}

/// Every operation of `doc`, sorted by path then method.
pub(crate) fn routes(doc: &Value) -> Vec<Route> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    let mut out = Vec::new();
    for (template, item) in paths {
        for (method, operation) in item.as_object().expect("a path item is an object") {
            if !HTTP_METHODS.contains(&method.as_str()) {
                continue;
            }
            let public = operation["security"].as_array().is_some_and(|reqs| {
                !reqs.is_empty()
                    && reqs
                        .iter()
                        .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
            });
            let content = &operation["requestBody"]["content"];
            let body = content["application/json"]["schema"].clone();
            out.push(Route {
                method: Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                template: template.clone(),
                public,
                body: (!body.is_null()).then_some(body),
                multipart: !content["multipart/form-data"].is_null(),
            });
        }
    }
    out.sort_by_key(|r| (r.template.clone(), r.method.to_string()));
    out
}

/// Ids for path parameters and body placeholders, by parameter name (`teamId`, …).
pub(crate) type Ids = HashMap<String, String>;

fn missing_fixture(route: &str, name: &str, place: &str) -> ! {
    panic!(
        "{route}: the {place} needs `{name}`, and the security suites have no fixture for it. \
         A new parameter needs a fixture: add `{name}` to `Side::ids` in tests/api/cross_tenant.rs \
         and to `fixtures` in tests/api/rbac.rs"
    )
}

/// `route`'s path with every `{param}` replaced from `ids`; an unknown parameter fails
/// the test, naming it.
pub(crate) fn fill(route: &Route, ids: &Ids) -> String {
    route
        .template
        .split('/')
        .map(
            |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => ids
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| missing_fixture(&route.label(), name, "path parameter")),
                None => segment.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// A plausible body for `route` (its required fields), or `None` when it takes none. Ids
/// are `{param}` placeholders (`user_id` → `{userId}`) for [`substitute`]; text is unique
/// per `n`, so names and emails do not collide.
pub(crate) fn example_body(doc: &Value, route: &Route, n: usize) -> Option<Value> {
    route
        .body
        .as_ref()
        .map(|schema| example(doc, schema, "", n))
}

fn example(doc: &Value, schema: &Value, field: &str, n: usize) -> Value {
    // A provider server is called before it is kept: the shared Evolution simulator.
    match field {
        "base_url" => return json!(crate::support::shared_evolution()),
        "credentials" => return json!({ "api_key": crate::support::EVOLUTION_KEY }),
        // Unique on the provider server every test shares, and valid as an instance name.
        "name" => {
            let tag = Uuid::new_v4().simple().to_string();
            return json!(format!("probe-{n}-{}", &tag[..8]));
        }
        _ => {}
    }
    // A field whose value must be well formed (a CPF, an enumerated string) documents one.
    if let Some(example) = schema.get("example") {
        return example.clone();
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unsupported $ref {reference}"));
        return example(doc, &doc["components"]["schemas"][name], field, n);
    }
    for combinator in ["oneOf", "anyOf"] {
        if let Some(variants) = schema[combinator].as_array() {
            let variant = variants
                .iter()
                .find(|v| v["type"] != "null")
                .expect("a non-null variant");
            return example(doc, variant, field, n);
        }
    }
    // `#[serde(flatten)]` documents a body as the parts it merges.
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = Map::new();
        for part in parts {
            if let Value::Object(fields) = example(doc, part, field, n) {
                merged.extend(fields);
            }
        }
        return Value::Object(merged);
    }
    if let Some(values) = schema["enum"].as_array() {
        return values[0].clone();
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.as_str(),
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => panic!("field `{field}`: no example for schema {schema}"),
    };
    match kind {
        "object" => {
            let mut out = Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                out.insert(
                    name.to_string(),
                    example(doc, &schema["properties"][name], name, n),
                );
            }
            Value::Object(out)
        }
        "string" => match schema["format"].as_str() {
            Some("uuid") => Value::String(format!("{{{}}}", param_of_field(field))),
            Some("date-time") => {
                let at = time::OffsetDateTime::now_utc() + time::Duration::days(1);
                Value::String(
                    at.format(&time::format_description::well_known::Rfc3339)
                        .unwrap(),
                )
            }
            Some("email") => json!(format!("probe{n}@probe.test")),
            _ if field == "email" => json!(format!("probe{n}@probe.test")),
            _ => json!(format!("Probe {n}")),
        },
        "integer" | "number" => json!(1),
        "boolean" => json!(false),
        "array" if field == "scopes" => json!([scopes::ALL[0]]),
        "array" => json!([example(doc, &schema["items"], field, n)]),
        other => panic!("field `{field}`: no example for type {other}"),
    }
}

/// `user_id` → `userId`: body ids are named like the path parameter of the same thing.
fn param_of_field(field: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The `{param}` placeholders of a body.
pub(crate) fn placeholders(body: &Value) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    walk(body, &mut |s| {
        if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            found.insert(name.to_string());
        }
    });
    found
}

fn walk(value: &Value, visit: &mut impl FnMut(&str)) {
    match value {
        Value::String(s) => visit(s),
        Value::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        Value::Object(map) => map.values().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// `body` with its placeholders replaced from `ids`.
pub(crate) fn substitute(route: &Route, body: &Value, ids: &Ids) -> Value {
    match body {
        Value::String(s) => match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => Value::String(
                ids.get(name)
                    .cloned()
                    .unwrap_or_else(|| missing_fixture(&route.label(), name, "request body")),
            ),
            None => body.clone(),
        },
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| substitute(route, v, ids)).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(route, v, ids)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// An RFC 9457 problem with `status` and one of `codes`, or why not.
pub(crate) fn problem(resp: &Resp, status: StatusCode, codes: &[&str]) -> Result<(), String> {
    let code = resp.body["code"].as_str().unwrap_or_default();
    if resp.status != status || !codes.contains(&code) {
        return Err(format!(
            "expected {status} {codes:?}, got {} {}",
            resp.status, resp.body
        ));
    }
    if resp.header("content-type") != Some("application/problem+json")
        || resp.body["status"] != status.as_u16()
    {
        return Err(format!(
            "expected an application/problem+json body, got {:?} {}",
            resp.header("content-type"),
            resp.body
        ));
    }
    Ok(())
}

/// `body` without its `request_id`, to compare problems.
fn without_request_id(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("request_id");
    }
    body
}

// ---------------------------------------------------------------------------------------
// The two tenants.
// ---------------------------------------------------------------------------------------

/// A tenant with data, and the credentials of its own that the sweep misuses.
struct Side {
    name: &'static str,
    tenant: Tenant,
    /// An agent who is also a member of `team_id`.
    extra: Caller,
    team_id: Uuid,
    key_id: Uuid,
    inbox_id: Uuid,
    /// A board with its default stages and one card in the entry stage.
    board_id: Uuid,
    /// The board's second (empty) stage.
    stage_id: Uuid,
    card_id: Uuid,
    delivery_id: Uuid,
    /// A plan (global: any tenant may name it) and an open charge of this tenant's
    /// subscription to it.
    plan_id: Uuid,
    payment_id: Uuid,
    /// An Evolution server registered by this tenant, and a number on it.
    provider_id: Uuid,
    instance_id: Uuid,
    /// A private chat channel of the admin and `extra`, with one message.
    room_id: Uuid,
    message_id: Uuid,
    /// An API key of this account holding every scope.
    key: String,
    key_prefix: String,
    /// A second, live session of the admin (the `sessionId` fixture).
    second_session: Issued,
    /// The access token of a third session of the admin, ended by logging out.
    ended_token: String,
    /// Keys of this account holding every scope but the one a route needs, by that scope.
    keys_without: HashMap<Option<String>, String>,
}

impl Side {
    /// The `{param}` fixtures pointing at this tenant's data.
    fn ids(&self) -> Ids {
        HashMap::from([
            ("accountId".to_string(), self.tenant.id.to_string()),
            ("teamId".to_string(), self.team_id.to_string()),
            ("userId".to_string(), self.extra.id.to_string()),
            ("keyId".to_string(), self.key_id.to_string()),
            ("inboxId".to_string(), self.inbox_id.to_string()),
            ("boardId".to_string(), self.board_id.to_string()),
            ("stageId".to_string(), self.stage_id.to_string()),
            ("cardId".to_string(), self.card_id.to_string()),
            ("deliveryId".to_string(), self.delivery_id.to_string()),
            ("planId".to_string(), self.plan_id.to_string()),
            ("paymentId".to_string(), self.payment_id.to_string()),
            ("providerId".to_string(), self.provider_id.to_string()),
            ("instanceId".to_string(), self.instance_id.to_string()),
            ("roomId".to_string(), self.room_id.to_string()),
            ("messageId".to_string(), self.message_id.to_string()),
            ("emoji".to_string(), "👍".to_string()),
            ("conversationId".to_string(), "1".to_string()),
            (
                "sessionId".to_string(),
                self.second_session.session_id.to_string(),
            ),
        ])
    }

    /// Strings that must not appear in anything answered to another tenant.
    fn markers(&self) -> Vec<String> {
        let t = &self.tenant;
        let mut markers: Vec<String> = [
            t.id,
            t.admin.id,
            t.supervisor.id,
            t.agent.id,
            self.extra.id,
            self.team_id,
            self.key_id,
            self.inbox_id,
            self.board_id,
            self.stage_id,
            self.card_id,
            self.delivery_id,
            self.payment_id,
            self.provider_id,
            self.instance_id,
            self.room_id,
            self.message_id,
            self.second_session.session_id,
        ]
        .iter()
        .map(Uuid::to_string)
        .collect();
        markers.push(self.name.to_string());
        markers.push(slug(self.name));
        markers.push(self.key_prefix.clone());
        markers
    }
}

fn slug(name: &str) -> String {
    name.to_lowercase().replace(' ', "-")
}

#[track_caller]
fn created(resp: &Resp) -> Uuid {
    assert!(
        resp.status == StatusCode::CREATED || resp.status == StatusCode::OK,
        "{} {:?}",
        resp.status,
        resp.body
    );
    resp.id()
}

/// Opens a session the way sign-in does: bound to `account` (single sign-on) or not
/// (operator).
async fn open_session(app: &TestApp, user_id: Uuid, account: Option<Uuid>) -> Issued {
    let mut tx = app.state.db.begin().await.unwrap();
    let new = NewSession {
        user_id,
        account_id: account,
        method: if account.is_some() {
            SessionMethod::ChatwootSso
        } else {
            SessionMethod::Cli
        },
        device: None,
        client: None,
    };
    let issued = sessions::open(&mut tx, &app.state, new).await.unwrap();
    tx.commit().await.unwrap();
    issued
}

/// A tenant with a team that has a member, an extra user, an API key made through the
/// API, a second session of its admin, and an ended one.
async fn populate(app: &TestApp, root: &Caller, name: &'static str, plan_id: Uuid) -> Side {
    let tenant = app.tenant(root, name).await;
    let admin = &tenant.admin.token;
    let slug = slug(name);

    let extra = created(
        &app.post(
            &tenant.path("/users"),
            admin,
            json!({ "email": format!("extra@{slug}.test"), "name": format!("extra of {name}"), "role": "agent" }),
        )
        .await,
    );
    let extra = Caller {
        id: extra,
        token: app.token_for(extra).await,
    };
    let team_id = created(
        &app.post(
            &tenant.path("/teams"),
            admin,
            json!({ "name": format!("{name} support"), "description": format!("front line of {name}") }),
        )
        .await,
    );
    created(
        &app.post(
            &tenant.path(&format!("/teams/{team_id}/members")),
            admin,
            json!({ "user_id": extra.id }),
        )
        .await,
    );
    let key = app
        .post(
            &tenant.path("/api-keys"),
            admin,
            json!({ "name": format!("{name} integration"), "scopes": scopes::ALL }),
        )
        .await;
    let key_id = created(&key);
    let inbox_id = app.add_inbox(tenant.id, &format!("{name} WhatsApp")).await;
    let delivery_id = app.add_delivery(tenant.id).await;
    let board = app
        .post(
            &tenant.path("/boards"),
            admin,
            json!({ "name": format!("{name} pipeline") }),
        )
        .await;
    let board_id = created(&board);
    let stage_id = board.body["stages"][1]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let card_id = created(
        &app.post(
            &tenant.path(&format!("/boards/{board_id}/cards")),
            admin,
            json!({ "title": format!("{name} deal"), "contact_name": format!("client of {name}") }),
        )
        .await,
    );

    let payment_id = crate::rbac::open_payment(app, &tenant, &slug)
        .await
        .parse()
        .unwrap();
    let provider_id = created(
        &app.post(
            &tenant.path("/providers"),
            admin,
            crate::providers::provider_body(&format!("{name} WhatsApp server")),
        )
        .await,
    );
    let instance_id = created(
        &app.post(
            &tenant.path("/instances"),
            admin,
            crate::providers::instance_body(provider_id),
        )
        .await,
    );

    let room_id = created(
        &app.post(
            &tenant.path("/chat/rooms"),
            admin,
            json!({ "kind": "channel", "name": format!("{name} deals"), "private": true, "member_ids": [extra.id] }),
        )
        .await,
    );
    let message_id = created(
        &app.post(
            &tenant.path(&format!("/chat/rooms/{room_id}/messages")),
            admin,
            json!({ "body": format!("secret of {name}"), "client_id": "setup" }),
        )
        .await,
    );

    let second_session = open_session(app, tenant.admin.id, None).await;
    let ended = open_session(app, tenant.admin.id, None).await;
    let logout = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&ended.access.token),
            None,
        )
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT, "{:?}", logout.body);

    Side {
        name,
        extra,
        team_id,
        key_id,
        inbox_id,
        board_id,
        stage_id,
        card_id,
        delivery_id,
        plan_id,
        payment_id,
        provider_id,
        instance_id,
        room_id,
        message_id,
        key: key.body["key"].as_str().unwrap().to_string(),
        key_prefix: key.body["prefix"].as_str().unwrap().to_string(),
        second_session,
        ended_token: ended.access.token,
        keys_without: HashMap::new(),
        tenant,
    }
}

/// For every scope the account's routes need (or `None`: keys may not call it), a key
/// holding every other scope.
async fn make_keys_without_scope(app: &TestApp, side: &mut Side, routes: &[Route]) {
    let ids = side.ids();
    for route in routes.iter().filter(|r| r.in_account()) {
        let needed = scopes::required(&fill(route, &ids), &route.method);
        if side.keys_without.contains_key(&needed) {
            continue;
        }
        let held: Vec<&str> = scopes::ALL
            .iter()
            .copied()
            .filter(|s| Some(*s) != needed.as_deref())
            .collect();
        let key = app
            .post(
                &side.tenant.path("/api-keys"),
                &side.tenant.admin.token,
                json!({ "name": format!("all but {needed:?}"), "scopes": held }),
            )
            .await;
        created(&key);
        side.keys_without
            .insert(needed, key.body["key"].as_str().unwrap().to_string());
    }
}

// ---------------------------------------------------------------------------------------
// Forged credentials.
// ---------------------------------------------------------------------------------------

/// An access token for `sub`/`sid` made with the recipe of `auth::tokens`, expiring
/// `exp_in` seconds from now, signed with `secret`.
fn forge(app: &TestApp, sub: Uuid, sid: Uuid, exp_in: i64, secret: &str) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let issued = now.min(now + exp_in - 900);
    forge_at(app, (sub, sid), issued, now + exp_in, secret)
}

/// A token with the given issue and expiry times (Unix seconds).
fn forge_at(
    app: &TestApp,
    (sub, sid): (Uuid, Uuid),
    issued: i64,
    exp: i64,
    secret: &str,
) -> String {
    let claims = json!({
        "iss": app.state.config.public_url,
        "aud": "whatpro-hub",
        "sub": sub,
        "sid": sid,
        "iat": issued,
        "nbf": issued,
        "exp": exp,
        "jti": Uuid::new_v4(),
    });
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(DEV_KEY_ID.into());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The same claims, unsigned, with `alg: none`.
fn alg_none(app: &TestApp, sub: Uuid, sid: Uuid) -> String {
    let valid = forge(app, sub, sid, 600, DEV_SECRET);
    let payload = valid.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD
        .encode(json!({ "alg": "none", "typ": "at+jwt", "kid": DEV_KEY_ID }).to_string());
    format!("{header}.{payload}.")
}

// ---------------------------------------------------------------------------------------
// Callers and what each must get.
// ---------------------------------------------------------------------------------------

#[derive(Clone)]
enum Credential {
    /// A fresh session of this user per call (so logging out or ending sessions on one
    /// route does not disarm the next), bound to an account or not.
    Person {
        user: Uuid,
        bound: Option<Uuid>,
    },
    Bearer(String),
    Nothing,
    /// The victim's key lacking the scope the route needs.
    VictimKeyWithoutScope,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    /// A person of the other tenant. `member_of_victim`: also a member of the victim (with
    /// a session bound to the other tenant), who may legitimately see the victim outside
    /// account routes.
    Outsider { member_of_victim: bool },
    /// The other tenant's API key holding every scope.
    OutsiderKey,
    /// Every route answers 401 with this code.
    Rejected(&'static str),
    /// The victim's own key without the route's scope.
    KeyWithoutScope,
    /// The other tenant's admin under their own account, naming the victim's ids below it.
    OwnAccountVictimIds,
    /// The other tenant's admin on their own resources, naming the victim's ids in the body.
    VictimIdsInBody,
}

struct Probe {
    label: String,
    credential: Credential,
    kind: Kind,
}

fn probe(label: impl Into<String>, credential: Credential, kind: Kind) -> Probe {
    Probe {
        label: label.into(),
        credential,
        kind,
    }
}

/// Everyone who tries `victim`'s routes: `attacker`'s people and key, a member of both
/// signed in to `attacker`, and broken or misused credentials.
fn probes(app: &TestApp, victim: &Side, attacker: &Side, dual: Uuid) -> Vec<Probe> {
    let them = &attacker.tenant;
    let person = |user| Credential::Person { user, bound: None };
    let outsider = Kind::Outsider {
        member_of_victim: false,
    };
    let (sub, sid) = (victim.tenant.admin.id, victim.second_session.session_id);
    vec![
        probe("other tenant's admin", person(them.admin.id), outsider),
        probe(
            "other tenant's supervisor",
            person(them.supervisor.id),
            outsider,
        ),
        probe("other tenant's agent", person(them.agent.id), outsider),
        probe(
            "other tenant's team member",
            person(attacker.extra.id),
            outsider,
        ),
        probe(
            "member of both, signed in to the other tenant",
            Credential::Person {
                user: dual,
                bound: Some(them.id),
            },
            Kind::Outsider {
                member_of_victim: true,
            },
        ),
        probe(
            "other tenant's API key with every scope",
            Credential::Bearer(attacker.key.clone()),
            Kind::OutsiderKey,
        ),
        probe(
            "other tenant's admin, own account, victim's ids below it",
            person(them.admin.id),
            Kind::OwnAccountVictimIds,
        ),
        probe(
            "other tenant's admin, own resources, victim's ids in the body",
            person(them.admin.id),
            Kind::VictimIdsInBody,
        ),
        probe(
            "no credential",
            Credential::Nothing,
            Kind::Rejected("unauthenticated"),
        ),
        probe(
            "garbage bearer",
            Credential::Bearer("garbage.not-a.token".into()),
            Kind::Rejected("invalid_token"),
        ),
        probe(
            "malformed API key",
            Credential::Bearer("wph_0000notakey".into()),
            Kind::Rejected("invalid_token"),
        ),
        probe(
            "expired access token",
            Credential::Bearer(forge(app, sub, sid, -3600, DEV_SECRET)),
            Kind::Rejected("token_expired"),
        ),
        probe(
            "alg none access token",
            Credential::Bearer(alg_none(app, sub, sid)),
            Kind::Rejected("invalid_token"),
        ),
        probe(
            "access token signed with another key",
            Credential::Bearer(forge(app, sub, sid, 600, &"x".repeat(48))),
            Kind::Rejected("invalid_token"),
        ),
        probe(
            "refresh token as bearer",
            Credential::Bearer(victim.second_session.refresh_token.clone()),
            Kind::Rejected("invalid_token"),
        ),
        probe(
            "access token of an ended session",
            Credential::Bearer(victim.ended_token.clone()),
            Kind::Rejected("session_revoked"),
        ),
        probe(
            "victim's API key without the route's scope",
            Credential::VictimKeyWithoutScope,
            Kind::KeyWithoutScope,
        ),
    ]
}

/// Path ids and body ids for `kind` on `route`, or `None` when the probe does not apply.
fn ids_for(
    kind: Kind,
    route: &Route,
    body: Option<&Value>,
    victim: &Side,
    attacker: &Side,
) -> Option<(Ids, Ids)> {
    match kind {
        Kind::OwnAccountVictimIds => {
            let tenant_ids = route
                .params()
                .into_iter()
                .filter(|p| p != "accountId" && !ACCOUNT_RELATIVE.contains(&p.as_str()))
                .count();
            if !route.in_account() || tenant_ids == 0 {
                return None;
            }
            let mut path = victim.ids();
            path.insert("accountId".into(), attacker.tenant.id.to_string());
            Some((path, victim.ids()))
        }
        Kind::VictimIdsInBody => {
            let refers = body.is_some_and(|b| {
                placeholders(b)
                    .iter()
                    .any(|name| !GLOBAL_IDS.contains(&name.as_str()))
            });
            (route.in_account() && refers).then(|| (attacker.ids(), victim.ids()))
        }
        _ => Some((victim.ids(), victim.ids())),
    }
}

/// Whether `resp` is what `kind` must get on `route`.
fn verdict(kind: Kind, route: &Route, resp: &Resp, not_found: &Value) -> Result<(), String> {
    let hidden = || -> Result<(), String> {
        problem(resp, StatusCode::NOT_FOUND, &["not_found"])?;
        if without_request_id(&resp.body) != *not_found {
            return Err(format!(
                "a 404 that differs from a missing account's: {}",
                resp.body
            ));
        }
        Ok(())
    };
    match kind {
        Kind::Rejected(code) => problem(resp, StatusCode::UNAUTHORIZED, &[code]),
        Kind::KeyWithoutScope if route.in_account() => {
            problem(resp, StatusCode::FORBIDDEN, &["insufficient_scope"])
        }
        Kind::KeyWithoutScope | Kind::OutsiderKey if !route.in_account() => {
            problem(resp, StatusCode::FORBIDDEN, &["user_token_required"])
        }
        Kind::OutsiderKey | Kind::OwnAccountVictimIds => hidden(),
        Kind::Outsider { .. } if route.in_account() || !route.params().is_empty() => hidden(),
        Kind::Outsider { .. } if route.method == Method::GET => {
            if resp.status == StatusCode::OK {
                Ok(())
            } else {
                Err(format!("expected 200, got {} {}", resp.status, resp.body))
            }
        }
        // Acting on one's own sessions, or refused for the role: either is fine; the
        // snapshot proves the victim did not change.
        Kind::Outsider { .. } => {
            if resp.status.is_success() {
                Ok(())
            } else {
                problem(resp, StatusCode::FORBIDDEN, &["forbidden"])
            }
        }
        Kind::VictimIdsInBody if resp.status == StatusCode::UNPROCESSABLE_ENTITY => {
            problem(resp, resp.status, &["validation_failed"])
        }
        Kind::VictimIdsInBody => problem(resp, StatusCode::NOT_FOUND, &["not_found"])
            .map_err(|why| format!("{why} (or a 422 validation_failed)")),
        Kind::KeyWithoutScope => unreachable!(),
    }
}

// ---------------------------------------------------------------------------------------
// The sweep.
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Sweep {
    calls: usize,
    by_probe: BTreeMap<String, usize>,
    exercised: BTreeSet<(String, String)>,
    failures: Vec<String>,
    n: usize,
}

/// What stays the same for a whole sweep: the app, its document and routes, the person in
/// both tenants, and the body of a plain "not found".
struct World<'a> {
    app: &'a TestApp,
    doc: &'a Value,
    routes: &'a [Route],
    dual: Uuid,
    not_found: &'a Value,
}

/// Calls every swept route as every probe, with `victim`'s ids.
async fn sweep(world: &World<'_>, victim: &Side, attacker: &Side, out: &mut Sweep) {
    let World {
        app,
        doc,
        routes,
        dual,
        not_found,
    } = *world;
    let markers = victim.markers();
    let probes = probes(app, victim, attacker, dual);
    for route in routes.iter().filter(|r| !is_unscoped(r)) {
        out.exercised.insert(route.key());
        for probe in &probes {
            out.n += 1;
            let body = example_body(doc, route, out.n);
            let Some((path_ids, body_ids)) =
                ids_for(probe.kind, route, body.as_ref(), victim, attacker)
            else {
                continue;
            };
            let path = fill(route, &path_ids);
            let body = body.map(|b| substitute(route, &b, &body_ids));
            let token = match &probe.credential {
                Credential::Person { user, bound } => {
                    Some(open_session(app, *user, *bound).await.access.token)
                }
                Credential::Bearer(token) => Some(token.clone()),
                Credential::Nothing => None,
                Credential::VictimKeyWithoutScope => {
                    let needed = scopes::required(&path, &route.method);
                    Some(victim.keys_without[&needed].clone())
                }
            };
            let resp = app
                .request(route.method.clone(), &path, token.as_deref(), body.clone())
                .await;
            out.calls += 1;
            *out.by_probe.entry(probe.label.clone()).or_default() += 1;

            let mut result = verdict(probe.kind, route, &resp, not_found);
            let may_see_victim = matches!(
                probe.kind,
                Kind::Outsider {
                    member_of_victim: true
                }
            ) && !route.in_account();
            if result.is_ok() && !may_see_victim {
                let text = resp.body.to_string();
                if let Some(leak) = markers.iter().find(|m| text.contains(m.as_str())) {
                    result = Err(format!(
                        "the answer names {}'s `{leak}`: {text}",
                        victim.name
                    ));
                }
            }
            if let Err(why) = result {
                out.failures.push(format!(
                    "{} {path} (body {}) as {} against {}: {why}",
                    route.method,
                    body.map(|b| b.to_string()).unwrap_or_else(|| "none".into()),
                    probe.label,
                    victim.name,
                ));
            }
        }
    }
}

fn is_unscoped(route: &Route) -> bool {
    UNSCOPED
        .iter()
        .any(|(m, p, _)| *m == route.method.as_str() && *p == route.template)
}

/// Fresh tokens of the side's admin, supervisor, agent and team member, to read its data
/// (the side's own tokens may have been ended while it was the attacker).
async fn viewers(app: &TestApp, side: &Side) -> Vec<(&'static str, String)> {
    let t = &side.tenant;
    let mut out = Vec::new();
    for (who, user) in [
        ("admin", t.admin.id),
        ("supervisor", t.supervisor.id),
        ("agent", t.agent.id),
        ("team member", side.extra.id),
    ] {
        out.push((who, app.token_for(user).await));
    }
    out
}

/// Everything of `side` its admin can read, and its members' session lists.
async fn snapshot(app: &TestApp, side: &Side, viewers: &[(&'static str, String)]) -> Value {
    let t = &side.tenant;
    let admin = &viewers[0].1;
    let teams = read(app, &t.path("/teams?limit=200"), admin).await;
    let mut members = Map::new();
    for team in teams["items"].as_array().unwrap() {
        let id = team["id"].as_str().unwrap();
        let path = t.path(&format!("/teams/{id}/members?limit=200"));
        members.insert(id.to_string(), read(app, &path, admin).await);
    }
    let mut keys = read(app, &t.path("/api-keys?limit=200"), admin).await;
    for key in keys["items"].as_array_mut().unwrap() {
        key.as_object_mut().unwrap().remove("last_used_at");
    }
    let mut sessions = Map::new();
    for (who, token) in viewers {
        let listed = read(app, "/api/v1/auth/sessions?limit=200", token).await;
        sessions.insert(who.to_string(), listed);
    }
    json!({
        "account": read(app, &t.path(""), admin).await,
        "usage": read(app, &t.path("/usage"), admin).await,
        "users": read(app, &t.path("/users?limit=200"), admin).await,
        "teams": teams,
        "team_members": members,
        "api_keys": keys,
        "sessions": sessions,
        "audit_logs": read(app, &t.path("/audit-logs?limit=200"), admin).await,
    })
}

/// One direction: `attacker`'s callers and the bad credentials against `victim`, between
/// two snapshots of `victim`. Answers (before, after).
async fn pass(
    world: &World<'_>,
    victim: &mut Side,
    attacker: &Side,
    out: &mut Sweep,
) -> (Value, Value) {
    let app = world.app;
    // A live second session of the victim's admin for `sessionId` (an earlier pass, as
    // the attacker, may have ended the first one).
    victim.second_session = open_session(app, victim.tenant.admin.id, None).await;
    let viewers = viewers(app, victim).await;
    let before = snapshot(app, victim, &viewers).await;
    sweep(world, victim, attacker, out).await;
    let after = snapshot(app, victim, &viewers).await;
    (before, after)
}

async fn read(app: &TestApp, path: &str, token: &str) -> Value {
    let resp = app.get(path, token).await;
    assert_eq!(resp.status, StatusCode::OK, "{path}: {:?}", resp.body);
    assert!(
        resp.body.get("next_cursor").is_none_or(Value::is_null),
        "{path}: the snapshot must fit one page"
    );
    resp.body
}

// ---------------------------------------------------------------------------------------
// Tests.
// ---------------------------------------------------------------------------------------

#[test]
fn unscoped_routes_exist_and_every_public_route_is_listed() {
    let routes = routes(&document());
    let documented: BTreeSet<_> = routes.iter().map(Route::key).collect();
    for (method, path, reason) in UNSCOPED {
        assert!(
            documented.contains(&(method.to_string(), path.to_string())),
            "UNSCOPED lists {method} {path}, which is no longer in the OpenAPI document; remove it"
        );
        assert!(!reason.is_empty());
    }
    for route in routes.iter().filter(|r| r.public) {
        assert!(
            is_unscoped(route),
            "{} is documented as public (security: [{{}}]); the cross-tenant sweep cannot check \
             it with bearer credentials, so list it in UNSCOPED with a reason (or make it \
             authenticated)",
            route.label()
        );
    }
}

#[tokio::test]
async fn no_route_lets_another_tenant_or_a_bad_credential_reach_a_tenant() {
    let started = std::time::Instant::now();
    let doc = document();
    let routes = routes(&doc);
    let (_asaas, app) = crate::billing::billed_with(&[
        ("DEFAULT_PLAN_MAX_AGENTS", "50"),
        ("DEFAULT_PLAN_MAX_PROVIDERS", "50"),
        ("DEFAULT_PLAN_MAX_INSTANCES", "50"),
    ])
    .await;
    let root = app.user("root@hub.test", true).await;
    // Plans are the operator's, not a tenant's: both name the same one.
    let plan_id = crate::billing::plan(&app, &root, "shared-plan", "99.90", 100).await;
    let mut a = populate(&app, &root, "Alpha Corp", plan_id).await;
    let mut b = populate(&app, &root, "Bravo Corp", plan_id).await;

    // A person in both tenants (admin of B, agent of A), for sessions bound to one account.
    let dual = created(
        &app.post(
            &b.tenant.path("/users"),
            &b.tenant.admin.token,
            json!({ "email": "both@tenants.test", "name": "In Both", "role": "admin" }),
        )
        .await,
    );
    app.join(a.tenant.id, dual, "agent").await;

    make_keys_without_scope(&app, &mut a, &routes).await;
    make_keys_without_scope(&app, &mut b, &routes).await;

    // The forging recipe is right: the same token, unexpired, is accepted.
    let (sub, sid) = (a.tenant.admin.id, a.second_session.session_id);
    // Regression (issue 13, finding 8): a token living longer than the configured lifetime
    // was not minted here, whatever key signed it.
    let now = time::OffsetDateTime::now_utc().unix_timestamp(); // wall-clock: the hub checks tokens against its own clock
    let ten_years = forge_at(&app, (sub, sid), now, now + 10 * 365 * 86_400, DEV_SECRET);
    let long_ago = forge_at(
        &app,
        (sub, sid),
        now - 10 * 365 * 86_400,
        now + 600,
        DEV_SECRET,
    );
    for token in [ten_years, long_ago] {
        app.get("/api/v1/auth/me", &token)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    let me = app
        .get("/api/v1/auth/me", &forge(&app, sub, sid, 600, DEV_SECRET))
        .await;
    assert_eq!(
        me.status,
        StatusCode::OK,
        "forged token refused: {:?}",
        me.body
    );

    // What a missing account looks like; another tenant's must look the same.
    let missing = app
        .get(
            &format!("/api/v1/accounts/{}", Uuid::now_v7()),
            &b.tenant.admin.token,
        )
        .await;
    missing.assert_problem(StatusCode::NOT_FOUND, "not_found");
    let not_found = without_request_id(&missing.body);

    // Someone of each tenant online through the sweep (a person no probe signs in as, so
    // no probe ends their session): presence is answered from memory, not the database, so
    // it is swept with something to leak.
    let mut online = Vec::new();
    for side in [&a, &b] {
        let t = &side.tenant;
        let person = app
            .user(&format!("online@{}.test", slug(side.name)), false)
            .await;
        app.join(t.id, person.id, "agent").await;
        let mut watcher = crate::chat_presence::Watcher::open(&app, t, &person).await;
        watcher.until(person.id, "online").await;
        online.push((person.id, watcher));
    }

    let mut out = Sweep::default();
    let world = World {
        app: &app,
        doc: &doc,
        routes: &routes,
        dual,
        not_found: &not_found,
    };
    let alpha = pass(&world, &mut a, &b, &mut out).await;
    let bravo = pass(&world, &mut b, &a, &mut out).await;

    let swept = routes.len() - UNSCOPED.len();
    println!(
        "cross-tenant sweep: {} routes in the document, {swept} swept, {} unscoped; \
         {} (route × caller) calls in {:.1?}",
        routes.len(),
        UNSCOPED.len(),
        out.calls,
        started.elapsed()
    );
    for (label, calls) in &out.by_probe {
        println!("  {calls:>4}  {label}");
    }

    let unchecked: Vec<String> = routes
        .iter()
        .filter(|r| !out.exercised.contains(&r.key()) && !is_unscoped(r))
        .map(Route::label)
        .collect();
    assert!(
        unchecked.is_empty(),
        "routes neither swept nor listed in UNSCOPED: {unchecked:?}"
    );
    assert!(
        out.failures.is_empty(),
        "{} of {} calls broke tenant isolation or credential checks:\n{}",
        out.failures.len(),
        out.calls,
        out.failures.join("\n")
    );
    let present: Vec<Uuid> = online.iter().map(|(id, _)| *id).collect();
    for (n, (side, other)) in [(&a, &b), (&b, &a)].into_iter().enumerate() {
        let t = &side.tenant;
        let token = app.token_for(t.admin.id).await;
        let seen = read(&app, &t.path("/chat/presence"), &token).await;
        assert_eq!(seen["online"], json!([present[n]]), "{}", side.name);
        let text = seen.to_string();
        let mut markers = other.markers();
        markers.push(present[1 - n].to_string());
        let leak = markers.into_iter().find(|m| text.contains(m.as_str()));
        assert!(leak.is_none(), "{}'s presence names {leak:?}", side.name);
    }
    drop(online);
    for (name, (before, after)) in [("Alpha Corp", alpha), ("Bravo Corp", bravo)] {
        assert_eq!(
            serde_json::to_string_pretty(&before).unwrap(),
            serde_json::to_string_pretty(&after).unwrap(),
            "{name}'s data changed while the other tenant and bad credentials swept its routes"
        );
    }
}
