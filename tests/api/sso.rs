//! Single sign-on from Chatwoot, against the simulator: what a sign-in creates and with
//! which role, both credential kinds, the refusals (bad credential, not a member,
//! deactivated, quota), failing closed when Chatwoot is missing or down, roles kept in step
//! with Chatwoot, the binding of the session to its account, and the attempt limits.
//!
//! Also the helpers the session tests use to obtain real refresh tokens.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;
use whatpro_hub::{
    on_db,
    simulators::chatwoot::wire::Role as ChatwootRole,
    simulators::chatwoot::{
        DemoInstallation, Simulator,
        demo::{
            DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_TOKEN, DEMO_AGENT_EMAIL,
            DEMO_AGENT_TOKEN,
        },
    },
};

use crate::{
    accounts::{account_path, assert_quota, ids, items, super_admin},
    support::{Caller, Resp, TestApp},
};

pub const SSO: &str = "/api/v1/auth/sso";

/// A simulator with the demo installation: "Demo Co" with an administrator and an agent.
pub async fn chatwoot() -> (Simulator, DemoInstallation) {
    let sim = Simulator::start().await;
    let demo = sim.seed_demo();
    (sim, demo)
}

/// A hub that checks sign-ins against `sim`, plus `vars`.
pub async fn hub(sim: &Simulator, vars: &[(&str, &str)]) -> TestApp {
    let url = sim.base_url();
    let mut all = vec![("CHATWOOT_URL", url.as_str())];
    all.extend_from_slice(vars);
    TestApp::spawn_with(&all).await
}

/// `POST /api/v1/auth/sso` with `body`, without a bearer token.
pub async fn sso(app: &TestApp, body: Value) -> Resp {
    app.request(Method::POST, SSO, None, Some(body)).await
}

/// A successful sign-in: the token pair and who and where it is for.
pub struct SignedIn {
    pub access: String,
    pub refresh: String,
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub account_id: Uuid,
    pub resp: Resp,
}

fn uuid_at(value: &Value) -> Uuid {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a uuid: {value:?}"))
}

/// Signs in with `body`; asserts 200.
pub async fn sign_in_with(app: &TestApp, body: Value) -> SignedIn {
    let resp = sso(app, body).await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    SignedIn {
        access: resp.body["access_token"].as_str().unwrap().to_string(),
        refresh: resp.body["refresh_token"].as_str().unwrap().to_string(),
        session_id: uuid_at(&resp.body["session_id"]),
        user_id: uuid_at(&resp.body["user"]["id"]),
        account_id: uuid_at(&resp.body["account"]["id"]),
        resp,
    }
}

/// Signs in with a Chatwoot API token into its active account; asserts 200.
pub async fn sign_in(app: &TestApp, api_token: &str) -> SignedIn {
    sign_in_with(app, json!({ "chatwoot_api_token": api_token })).await
}

/// Signs in with a Chatwoot API token into Chatwoot account `chatwoot_account_id`.
pub async fn sign_in_to(app: &TestApp, api_token: &str, chatwoot_account_id: i64) -> SignedIn {
    sign_in_with(
        app,
        json!({ "chatwoot_api_token": api_token, "chatwoot_account_id": chatwoot_account_id }),
    )
    .await
}

/// The member's role in the account, as a super admin reads it.
async fn role_of(app: &TestApp, root: &Caller, account_id: Uuid, user_id: Uuid) -> String {
    let resp = app
        .get(
            &format!("{}/users/{user_id}", account_path(account_id)),
            &root.token,
        )
        .await;
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    resp.body["role"].as_str().unwrap().to_string()
}

/// Every account in the hub, as a super admin lists them.
async fn all_accounts(app: &TestApp, root: &Caller) -> Vec<Value> {
    items(&app.get("/api/v1/accounts?limit=100", &root.token).await).to_vec()
}

/// `(action, actor_type)` of audit entries that belong to no account. Refused sign-ins are
/// recorded there, and no API reads that part of the log, so this reads the table.
async fn unscoped_audit(app: &TestApp) -> Vec<(String, String)> {
    let sql = "SELECT action, actor_type FROM audit_logs WHERE account_id IS NULL ORDER BY id";
    on_db!(&app.state.db, pool => sqlx::query_as(sql).fetch_all(pool).await.unwrap())
}

/// Signs into the simulator's dashboard and answers its devise headers as SSO takes them.
pub(crate) async fn dashboard_session(
    app: &TestApp,
    sim: &Simulator,
    email: &str,
    password: &str,
) -> Value {
    let resp = app
        .client
        .post(format!("{}/auth/sign_in", sim.base_url()))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_string()
    };
    json!({ "access-token": header("access-token"), "client": header("client"), "uid": header("uid") })
}

#[tokio::test]
async fn an_administrators_api_token_signs_in_as_admin_of_a_new_hub_account() {
    let (sim, demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    assert!(all_accounts(&app, &root).await.is_empty());

    let signed = sign_in_with(
        &app,
        json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN, "device": "Firefox on Linux" }),
    )
    .await;
    let body = &signed.resp.body;
    let mut fields: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "access_token",
            "account",
            "expires_in",
            "refresh_token",
            "session_id",
            "token_type",
            "user"
        ]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["expires_in"], 900,
        "ACCESS_TOKEN_TTL_MINUTES defaults to 15"
    );
    assert_eq!(signed.access.split('.').count(), 3, "a JWT");
    assert!(signed.refresh.starts_with("wphr_"), "{}", signed.refresh);
    assert_eq!(body["user"]["email"], DEMO_ADMIN_EMAIL);
    assert_eq!(body["user"]["name"], "Ana Admin");
    assert_eq!(body["user"]["chatwoot_user_id"], demo.admin_id);
    assert_eq!(body["user"]["is_super_admin"], false);
    assert_eq!(body["account"]["chatwoot_account_id"], demo.account_id);
    assert_eq!(body["account"]["name"], "Demo Co");
    assert_eq!(body["account"]["status"], "active");

    // The hub now has that account, with this person as its admin.
    let accounts = all_accounts(&app, &root).await;
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["id"], signed.account_id.to_string());
    assert_eq!(accounts[0]["chatwoot_account_id"], demo.account_id);
    assert_eq!(
        role_of(&app, &root, signed.account_id, signed.user_id).await,
        "admin"
    );
    let members = app
        .get(
            &format!("{}/users", account_path(signed.account_id)),
            &root.token,
        )
        .await;
    assert_eq!(
        ids(&members),
        [signed.user_id],
        "the agent has not signed in yet"
    );

    // The token acts in that account with the admin's rights.
    let account = app
        .get(&account_path(signed.account_id), &signed.access)
        .await;
    assert_eq!(account.status, StatusCode::OK, "{:?}", account.body);
    let log = app
        .get(
            &format!(
                "{}/audit-logs?action=auth.sso_login",
                account_path(signed.account_id)
            ),
            &signed.access,
        )
        .await;
    let log = items(&log);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["resource_id"], signed.session_id.to_string());
    assert_eq!(log[0]["actor_user_id"], signed.user_id.to_string());
    let sessions = app.get("/api/v1/auth/sessions", &signed.access).await;
    let sessions = items(&sessions);
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["method"], "chatwoot_sso");
    assert_eq!(sessions[0]["device"], "Firefox on Linux");
    assert_eq!(sessions[0]["account_id"], signed.account_id.to_string());
}

#[tokio::test]
async fn an_agent_joins_the_same_account_as_agent_and_signs_in_again_as_the_same_person() {
    let (sim, demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let agent = sign_in(&app, DEMO_AGENT_TOKEN).await;
    assert_eq!(agent.account_id, admin.account_id);
    assert_eq!(agent.resp.body["user"]["email"], DEMO_AGENT_EMAIL);
    assert_eq!(agent.resp.body["user"]["chatwoot_user_id"], demo.agent_id);
    assert_eq!(
        role_of(&app, &root, agent.account_id, agent.user_id).await,
        "agent"
    );
    // An agent may not do admin things there.
    app.get(
        &format!("{}/audit-logs", account_path(agent.account_id)),
        &agent.access,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");

    let again = sign_in(&app, DEMO_AGENT_TOKEN).await;
    assert_eq!(again.user_id, agent.user_id, "no second user");
    assert_eq!(again.account_id, agent.account_id, "no second account");
    assert_ne!(again.session_id, agent.session_id, "a new session");
    assert_eq!(all_accounts(&app, &root).await.len(), 1);
    let members = app
        .get(
            &format!("{}/users", account_path(agent.account_id)),
            &root.token,
        )
        .await;
    assert_eq!(items(&members).len(), 2);
}

#[tokio::test]
async fn a_dashboard_session_signs_in_as_the_same_person() {
    let (sim, demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let session = dashboard_session(&app, &sim, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD).await;
    let by_session = sign_in_with(&app, json!({ "chatwoot_session": session })).await;
    assert_eq!(by_session.resp.body["token_type"], "Bearer");
    assert_eq!(by_session.resp.body["user"]["email"], DEMO_ADMIN_EMAIL);
    assert_eq!(
        by_session.resp.body["account"]["chatwoot_account_id"],
        demo.account_id
    );
    let me = app.get("/api/v1/auth/me", &by_session.access).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);

    let by_token = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    assert_eq!(by_token.user_id, by_session.user_id);
    assert_eq!(by_token.account_id, by_session.account_id);

    // Devise headers Chatwoot does not know are refused like a wrong token.
    let mut forged = session.clone();
    forged["access-token"] = json!("not-the-real-access-token");
    sso(&app, json!({ "chatwoot_session": forged }))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "chatwoot_credential_rejected");
}

#[tokio::test]
async fn a_credential_chatwoot_rejects_is_refused_audited_and_creates_nothing() {
    let (sim, _demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    let refused = sso(
        &app,
        json!({ "chatwoot_api_token": "not-a-chatwoot-token" }),
    )
    .await;
    refused.assert_problem(StatusCode::UNAUTHORIZED, "chatwoot_credential_rejected");
    assert_eq!(refused.header("www-authenticate"), Some("Bearer"));
    assert!(refused.header("set-cookie").is_none());
    assert_eq!(
        unscoped_audit(&app).await,
        [("auth.sso_failed".to_string(), "anonymous".to_string())]
    );
    assert!(all_accounts(&app, &root).await.is_empty());
}

#[tokio::test]
async fn signing_into_a_chatwoot_account_the_user_is_not_in_is_refused() {
    let (sim, demo) = chatwoot().await;
    let stranger_account = sim.add_account("Other Co");
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    for chatwoot_account_id in [stranger_account, 987_654] {
        sso(
            &app,
            json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN, "chatwoot_account_id": chatwoot_account_id }),
        )
        .await
        .assert_problem(StatusCode::FORBIDDEN, "not_a_member");
    }
    assert!(
        all_accounts(&app, &root).await.is_empty(),
        "nothing created"
    );
    let audited: Vec<String> = unscoped_audit(&app)
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(audited, ["auth.sso_not_a_member", "auth.sso_not_a_member"]);
    // The account the user is in still works.
    let signed = sign_in_to(&app, DEMO_ADMIN_TOKEN, demo.account_id).await;
    assert_eq!(
        signed.resp.body["account"]["chatwoot_account_id"],
        demo.account_id
    );
}

#[tokio::test]
async fn without_chatwoot_url_sign_in_is_unavailable() {
    let app = TestApp::spawn().await;
    let root = super_admin(&app).await;
    sso(&app, json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN }))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let session = json!({ "access-token": "a", "client": "b", "uid": "c@d.test" });
    sso(&app, json!({ "chatwoot_session": session }))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert!(all_accounts(&app, &root).await.is_empty());
}

#[tokio::test]
async fn when_chatwoot_cannot_be_reached_sign_in_fails_closed_and_creates_nothing() {
    // A port that was just free: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let url = format!("http://{closed}");
    let app = TestApp::spawn_with(&[("CHATWOOT_URL", &url)]).await;
    let root = super_admin(&app).await;
    let resp = sso(&app, json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN })).await;
    resp.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert!(resp.header("set-cookie").is_none());
    assert!(all_accounts(&app, &root).await.is_empty());
    assert!(
        unscoped_audit(&app).await.is_empty(),
        "not a refused sign-in"
    );
}

#[tokio::test]
async fn exactly_one_credential_is_required() {
    let (sim, _demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let session = json!({ "access-token": "a", "client": "b", "uid": "admin@demo.test" });
    let cases = [
        json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN, "chatwoot_session": session }),
        json!({}),
        json!({ "chatwoot_account_id": 1 }),
        json!({ "chatwoot_api_token": "   " }),
        json!({ "chatwoot_session": { "access-token": "", "client": "b", "uid": "admin@demo.test" } }),
        json!({ "chatwoot_session": { "access-token": "a", "client": "b" } }),
    ];
    let before = sim.request_count();
    for body in cases {
        sso(&app, body.clone())
            .await
            .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    assert_eq!(sim.request_count(), before, "Chatwoot was not even asked");
}

#[tokio::test]
async fn a_supervisor_role_granted_in_the_hub_survives_the_next_sign_in() {
    let (sim, demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let agent = sign_in(&app, DEMO_AGENT_TOKEN).await;
    let promoted = app
        .put(
            &format!("{}/users/{}", account_path(admin.account_id), agent.user_id),
            &admin.access,
            json!({ "role": "supervisor" }),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);

    sign_in(&app, DEMO_AGENT_TOKEN).await;
    assert_eq!(
        role_of(&app, &root, agent.account_id, agent.user_id).await,
        "supervisor",
        "Chatwoot still says agent, which a supervisor is"
    );

    // Made an administrator in Chatwoot, they become an admin here.
    sim.add_member(demo.account_id, demo.agent_id, ChatwootRole::Administrator);
    sign_in(&app, DEMO_AGENT_TOKEN).await;
    assert_eq!(
        role_of(&app, &root, agent.account_id, agent.user_id).await,
        "admin"
    );
}

#[tokio::test]
async fn an_admin_demoted_in_chatwoot_is_an_agent_after_the_next_sign_in() {
    let (sim, demo) = chatwoot().await;
    let second = sim.add_user("Carla Admin", "carla@demo.test");
    sim.add_member(demo.account_id, second.id, ChatwootRole::Administrator);
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let carla = sign_in(&app, &second.api_token).await;
    assert_eq!(
        role_of(&app, &root, carla.account_id, carla.user_id).await,
        "admin"
    );

    sim.add_member(demo.account_id, second.id, ChatwootRole::Agent);
    // Until then the hub keeps what it knew.
    assert_eq!(
        role_of(&app, &root, carla.account_id, carla.user_id).await,
        "admin"
    );
    let again = sign_in(&app, &second.api_token).await;
    assert_eq!(
        role_of(&app, &root, carla.account_id, carla.user_id).await,
        "agent"
    );
    app.get(
        &format!("{}/audit-logs", account_path(again.account_id)),
        &again.access,
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn a_member_deactivated_in_the_hub_cannot_sign_in() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let agent = sign_in(&app, DEMO_AGENT_TOKEN).await;
    let member = format!("{}/users/{}", account_path(admin.account_id), agent.user_id);
    let deactivated = app
        .request(
            Method::POST,
            &format!("{member}/deactivate"),
            Some(&admin.access),
            None,
        )
        .await;
    assert_eq!(deactivated.status, StatusCode::OK, "{:?}", deactivated.body);

    let refused = sso(&app, json!({ "chatwoot_api_token": DEMO_AGENT_TOKEN })).await;
    refused.assert_problem(StatusCode::FORBIDDEN, "membership_deactivated");
    assert!(refused.header("set-cookie").is_none());
    let still = app.get(&member, &admin.access).await;
    assert_eq!(
        still.body["active"], false,
        "Chatwoot did not reactivate them"
    );

    let activated = app
        .request(
            Method::POST,
            &format!("{member}/activate"),
            Some(&admin.access),
            None,
        )
        .await;
    assert_eq!(activated.status, StatusCode::OK, "{:?}", activated.body);
    sign_in(&app, DEMO_AGENT_TOKEN).await;
}

#[tokio::test]
async fn a_new_person_beyond_max_agents_is_refused() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[("DEFAULT_PLAN_MAX_AGENTS", "1")]).await;
    let root = super_admin(&app).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let refused = sso(&app, json!({ "chatwoot_api_token": DEMO_AGENT_TOKEN })).await;
    assert_quota(&refused, "agents", 1, 1);
    let members = app
        .get(
            &format!("{}/users", account_path(admin.account_id)),
            &root.token,
        )
        .await;
    assert_eq!(ids(&members), [admin.user_id], "the agent was not added");
    // Someone already in is not a new person.
    sign_in(&app, DEMO_ADMIN_TOKEN).await;
}

#[tokio::test]
async fn an_sso_session_acts_only_in_the_account_it_was_opened_for() {
    let (sim, demo) = chatwoot().await;
    let other = sim.add_account("Other Co");
    sim.add_member(other, demo.admin_id, ChatwootRole::Administrator);
    let app = hub(&sim, &[]).await;
    let in_demo = sign_in_to(&app, DEMO_ADMIN_TOKEN, demo.account_id).await;
    let in_other = sign_in_to(&app, DEMO_ADMIN_TOKEN, other).await;
    assert_eq!(in_demo.user_id, in_other.user_id, "one person");
    assert_ne!(in_demo.account_id, in_other.account_id);
    for (signed, own, foreign) in [
        (&in_demo, in_demo.account_id, in_other.account_id),
        (&in_other, in_other.account_id, in_demo.account_id),
    ] {
        let home = app.get(&account_path(own), &signed.access).await;
        assert_eq!(home.status, StatusCode::OK, "{:?}", home.body);
        app.get(&account_path(foreign), &signed.access)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
        app.get(&format!("{}/users", account_path(foreign)), &signed.access)
            .await
            .assert_problem(StatusCode::NOT_FOUND, "not_found");
    }
}

/// A session opened from Chatwoot acts only in its account (ADR 0005), and a Chatwoot
/// person who shares a super admin's email is someone else, with no super-admin power.
#[tokio::test]
async fn a_super_admins_sso_session_acts_only_in_its_account() {
    let (sim, demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    let elsewhere = app
        .post(
            "/api/v1/accounts",
            &root.token,
            json!({ "name": "Elsewhere" }),
        )
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::CREATED,
        "{:?}",
        elsewhere.body
    );
    let twin = sim.add_user("Root In Chatwoot", "root@hub.test");
    sim.add_member(demo.account_id, twin.id, ChatwootRole::Agent);
    let signed = sign_in(&app, &twin.api_token).await;
    assert_ne!(
        signed.user_id, root.id,
        "an operator is never linked by email (issue 13, finding 1)"
    );
    let home = app
        .get(&account_path(signed.account_id), &signed.access)
        .await;
    assert_eq!(home.status, StatusCode::OK, "{:?}", home.body);
    app.get(&account_path(elsewhere.id()), &signed.access)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let listed = app.get("/api/v1/accounts", &signed.access).await;
    assert_eq!(
        ids(&listed),
        [signed.account_id],
        "a bound session sees its own account"
    );
    app.post(
        "/api/v1/accounts",
        &signed.access,
        json!({ "name": "Made by SSO" }),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(all_accounts(&app, &root).await.len(), 2, "nothing created");
}

#[tokio::test]
async fn the_eleventh_attempt_in_a_minute_from_one_ip_is_rate_limited() {
    let (sim, _demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    for attempt in 0..10 {
        sso(
            &app,
            json!({ "chatwoot_api_token": format!("wrong-token-{attempt}") }),
        )
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "chatwoot_credential_rejected");
    }
    let before = sim.request_count();
    // Even a good credential waits: the limit is on the address.
    let limited = sso(&app, json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN })).await;
    limited.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry_after: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(sim.request_count(), before, "Chatwoot was not asked");
}

#[tokio::test]
async fn one_credential_from_many_addresses_is_rate_limited_too() {
    let (sim, _demo) = chatwoot().await;
    let app = hub(&sim, &[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let attempt = |n: u32| {
        let request = app
            .client
            .post(format!("{}{SSO}", app.base))
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .json(&json!({ "chatwoot_api_token": "a-guessed-token" }));
        async move { Resp::read(request.send().await.unwrap()).await }
    };
    for n in 1..=10 {
        attempt(n)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "chatwoot_credential_rejected");
    }
    let limited = attempt(11).await;
    limited.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(limited.header("retry-after").is_some());
    // Another credential from a fresh address is not affected.
    let other = app
        .client
        .post(format!("{}{SSO}", app.base))
        .header("x-forwarded-for", "198.51.100.99")
        .json(&json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN }))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
}

/// Regression (issue 13, finding 17): a session opened for one account shows that account
/// alone, in the account list and in `/auth/me`, though its person belongs to two.
#[tokio::test]
async fn a_session_bound_to_one_account_lists_that_account_alone() {
    let (sim, demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let other = sim.add_account("Other Co");
    sim.add_member(other, demo.admin_id, ChatwootRole::Administrator);
    let in_demo = sign_in_to(&app, DEMO_ADMIN_TOKEN, demo.account_id).await;
    let in_other = sign_in_to(&app, DEMO_ADMIN_TOKEN, other).await;
    assert_eq!(
        in_demo.user_id, in_other.user_id,
        "one person in two accounts"
    );
    for signed in [&in_demo, &in_other] {
        let listed = app.get("/api/v1/accounts", &signed.access).await;
        assert_eq!(ids(&listed), [signed.account_id]);
        let me = app.get("/api/v1/auth/me", &signed.access).await;
        let memberships = me.body["memberships"].as_array().unwrap();
        assert_eq!(memberships.len(), 1, "{:?}", me.body);
        assert_eq!(memberships[0]["account_id"], signed.account_id.to_string());
    }
}

/// Regression (issue 13, finding 17): Chatwoot refuses a suspended account's members, and
/// so does the hub, at sign-in and for the dashboard's instance tokens alike (both admit
/// through `sso::admit`).
#[tokio::test]
async fn a_chatwoot_account_reported_suspended_is_refused() {
    let (sim, demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    sim.suspend_account(demo.account_id);
    sso(&app, json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN }))
        .await
        .assert_problem(StatusCode::FORBIDDEN, "chatwoot_account_suspended");
}

/// Regression (issue 13, finding 18): replicas count the same attempts (they used to count
/// alone, so N replicas allowed N times the attempts).
#[tokio::test]
async fn attempts_are_counted_across_replicas() {
    let (sim, _demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let other = app.replica().await;
    for attempt in 0..10 {
        let replica = if attempt % 2 == 0 { &app } else { &other };
        sso(
            replica,
            json!({ "chatwoot_api_token": format!("wrong-{attempt}") }),
        )
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "chatwoot_credential_rejected");
    }
    for replica in [&app, &other] {
        sso(replica, json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN }))
            .await
            .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    }
}
