//! Sessions: rotating refresh tokens and reuse detection, the refresh cookie, logout, who
//! am I, the session list, ending sessions (one, all others, a member's by an admin, by
//! deactivation), idle and absolute lifetimes, and which access tokens are refused
//! (expired, forged, signed with a rotated-out key).
//!
//! Refresh tokens come from single sign-on against the Chatwoot simulator, the way real
//! clients get them; where only an access token matters, `app.user` is enough.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;
use whatpro_hub::{
    auth::tokens::{AccessClaims, TokenService},
    simulators::chatwoot::demo::{DEMO_ADMIN_EMAIL, DEMO_ADMIN_TOKEN, DEMO_AGENT_TOKEN},
    simulators::chatwoot::wire::Role as ChatwootRole,
};

use crate::{
    accounts::{account_path, items, super_admin},
    sso::{chatwoot, hub, sign_in, sign_in_to, sign_in_with},
    support::{self, Caller, Resp, TestApp},
};

const REFRESH: &str = "/api/v1/auth/refresh";
const LOGOUT: &str = "/api/v1/auth/logout";
const ME: &str = "/api/v1/auth/me";
const SESSIONS: &str = "/api/v1/auth/sessions";
const COOKIE: &str = "__Host-whatpro_refresh";
const DEV_KEY_ID: &str = "dev";
const DEV_KEY: &str = "development-only-signing-key-do-not-use-in-production";

/// `POST /api/v1/auth/refresh` with the token in the body.
async fn refresh(app: &TestApp, refresh_token: &str) -> Resp {
    app.request(
        Method::POST,
        REFRESH,
        None,
        Some(json!({ "refresh_token": refresh_token })),
    )
    .await
}

/// `POST /api/v1/auth/refresh` with no body, the token in the refresh cookie (beside another
/// cookie, as browsers send them).
async fn refresh_by_cookie(app: &TestApp, refresh_token: &str) -> Resp {
    let resp = app
        .client
        .post(format!("{}{REFRESH}", app.base))
        .header("cookie", format!("theme=dark; {COOKIE}={refresh_token}"))
        .send()
        .await
        .unwrap();
    Resp::read(resp).await
}

async fn logout(app: &TestApp, access: &str) -> Resp {
    app.request(Method::POST, LOGOUT, Some(access), None).await
}

/// The `Set-Cookie` of `resp` for the refresh cookie, with the attributes a host-only,
/// script-proof, same-site cookie needs. Answers `(value, max_age)`.
#[track_caller]
fn refresh_cookie(resp: &Resp) -> (String, u64) {
    let cookie = resp.header("set-cookie").expect("a Set-Cookie header");
    let mut parts = cookie.split(';').map(str::trim);
    let (name, value) = parts.next().unwrap().split_once('=').unwrap();
    assert_eq!(name, COOKIE, "{cookie}");
    let attributes: Vec<&str> = parts.collect();
    for needed in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&needed), "{needed} missing: {cookie}");
    }
    assert!(
        !attributes
            .iter()
            .any(|a| a.to_ascii_lowercase().starts_with("domain")),
        "a __Host- cookie has no Domain: {cookie}"
    );
    let max_age = attributes
        .iter()
        .find_map(|a| a.strip_prefix("Max-Age="))
        .expect("Max-Age")
        .parse()
        .unwrap();
    (value.to_string(), max_age)
}

/// Asserts a 200 token pair for `session_id` and answers `(access, refresh)`.
#[track_caller]
fn token_pair(resp: &Resp, session_id: Uuid) -> (String, String) {
    assert_eq!(resp.status, StatusCode::OK, "{:?}", resp.body);
    assert_eq!(resp.body["token_type"], "Bearer");
    assert_eq!(resp.body["session_id"], session_id.to_string());
    assert!(resp.body["expires_in"].as_u64().unwrap() > 0);
    let access = resp.body["access_token"].as_str().unwrap().to_string();
    let refresh = resp.body["refresh_token"].as_str().unwrap().to_string();
    assert!(refresh.starts_with("wphr_"), "{refresh}");
    (access, refresh)
}

/// The audit entries of `account_id` with `action`, as a super admin reads them.
async fn audit(app: &TestApp, root: &Caller, account_id: Uuid, action: &str) -> Vec<Value> {
    let resp = app
        .get(
            &format!(
                "{}/audit-logs?limit=200&action={action}",
                account_path(account_id)
            ),
            &root.token,
        )
        .await;
    items(&resp).to_vec()
}

/// The claims of a token `app` minted.
fn claims_of(app: &TestApp, token: &str) -> AccessClaims {
    app.state.tokens.verify_access(token).unwrap()
}

/// Signs `claims` with HS256 under `kid` and `secret`, with the `at+jwt` type.
fn sign(claims: &AccessClaims, kid: &str, secret: &str) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// The `kid` in a token's header.
fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn status_of(app: &TestApp, path: &str, token: &str) -> StatusCode {
    app.get(path, token).await.status
}

#[tokio::test]
async fn refresh_trades_a_refresh_token_for_a_new_pair() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let signed = sign_in(&app, DEMO_ADMIN_TOKEN).await;

    let first = refresh(&app, &signed.refresh).await;
    let (access, next_refresh) = token_pair(&first, signed.session_id);
    let mut fields: Vec<&str> = first
        .body
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
            "expires_in",
            "refresh_token",
            "session_id",
            "token_type"
        ]
    );
    assert_eq!(first.body["expires_in"], 900);
    assert_ne!(access, signed.access);
    assert_ne!(next_refresh, signed.refresh);

    // The new access token is the same person in the same session and account.
    let me = app.get(ME, &access).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["user"]["id"], signed.user_id.to_string());
    assert_eq!(me.body["session_id"], signed.session_id.to_string());
    assert_eq!(me.body["account_id"], signed.account_id.to_string());
    assert_eq!(
        status_of(&app, &account_path(signed.account_id), &access).await,
        StatusCode::OK
    );

    // The new refresh token rotates again; it is still one session.
    let second = refresh(&app, &next_refresh).await;
    let (_, third_refresh) = token_pair(&second, signed.session_id);
    assert_ne!(third_refresh, next_refresh);
    assert_eq!(items(&app.get(SESSIONS, &access).await).len(), 1);
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_whole_session_and_is_audited() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    let signed = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let bystander = sign_in(&app, DEMO_ADMIN_TOKEN).await;

    let rotated = refresh(&app, &signed.refresh).await;
    let (access, newest_refresh) = token_pair(&rotated, signed.session_id);
    assert_eq!(status_of(&app, ME, &access).await, StatusCode::OK);

    // The used token again: someone else has a copy, so the session ends.
    refresh(&app, &signed.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "refresh_token_reused");
    for token in [&access, &signed.access] {
        app.get(ME, token)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
        app.get(&account_path(signed.account_id), token)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    }
    refresh(&app, &newest_refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");

    let entries = audit(
        &app,
        &root,
        signed.account_id,
        "auth.refresh_reuse_detected",
    )
    .await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["resource_type"], "session");
    assert_eq!(entries[0]["resource_id"], signed.session_id.to_string());
    assert_eq!(entries[0]["actor_type"], "anonymous");

    // The same person's other session is a different token family and goes on.
    assert_eq!(status_of(&app, ME, &bystander.access).await, StatusCode::OK);
    token_pair(
        &refresh(&app, &bystander.refresh).await,
        bystander.session_id,
    );
}

#[tokio::test]
async fn the_refresh_token_also_travels_in_a_host_only_cookie() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let signed = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let (cookie, max_age) = refresh_cookie(&signed.resp);
    assert_eq!(
        cookie, signed.refresh,
        "the cookie carries the refresh token"
    );
    let twelve_hours = 12 * 3600;
    assert!(
        (twelve_hours - 5..=twelve_hours).contains(&max_age),
        "the cookie lives as long as the session: {max_age}"
    );

    let by_cookie = refresh_by_cookie(&app, &cookie).await;
    let (access, body_refresh) = token_pair(&by_cookie, signed.session_id);
    let (rotated_cookie, _) = refresh_cookie(&by_cookie);
    assert_eq!(rotated_cookie, body_refresh);
    assert_ne!(rotated_cookie, cookie);
    assert_eq!(status_of(&app, ME, &access).await, StatusCode::OK);

    // The cookie it replaced is now a used token.
    refresh_by_cookie(&app, &cookie)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "refresh_token_reused");

    // Logging out clears the cookie.
    let fresh = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let out = logout(&app, &fresh.access).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let (cleared, max_age) = refresh_cookie(&out);
    assert_eq!((cleared.as_str(), max_age), ("", 0));
}

#[tokio::test]
async fn refresh_accepts_nothing_but_a_live_refresh_token() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let signed = sign_in(&app, DEMO_ADMIN_TOKEN).await;

    for garbage in [
        "garbage",
        "wphr_0000000000000000000000000000000000000000000",
        "",
    ] {
        let refused = refresh(&app, garbage).await;
        refused.assert_problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
        assert!(refused.header("set-cookie").is_none());
    }
    refresh_by_cookie(&app, "garbage")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    app.request(Method::POST, REFRESH, None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    app.request(
        Method::POST,
        REFRESH,
        None,
        Some(json!({ "token": signed.refresh })),
    )
    .await
    .assert_problem(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    // An access token is not a refresh token, and a refresh token is not an access token.
    refresh(&app, &signed.access)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    app.get(ME, &signed.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    app.get(&account_path(signed.account_id), &signed.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");

    // None of that touched the real session.
    token_pair(&refresh(&app, &signed.refresh).await, signed.session_id);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_very_next_request() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    let signed = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let elsewhere = sign_in(&app, DEMO_ADMIN_TOKEN).await;

    let out = logout(&app, &signed.access).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(out.header("clear-site-data"), Some("\"cookies\""));
    app.get(ME, &signed.access)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    app.get(&account_path(signed.account_id), &signed.access)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    refresh(&app, &signed.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    logout(&app, &signed.access)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");

    assert_eq!(
        status_of(&app, ME, &elsewhere.access).await,
        StatusCode::OK,
        "only this session ended"
    );
    let entries = audit(&app, &root, signed.account_id, "auth.logout").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["resource_id"], signed.session_id.to_string());
    assert_eq!(entries[0]["actor_user_id"], signed.user_id.to_string());

    logout(&app, "not-a-token")
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    app.request(Method::POST, LOGOUT, None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn me_describes_the_person_and_their_session() {
    let (sim, demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let signed = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let me = app.get(ME, &signed.access).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["user"]["id"], signed.user_id.to_string());
    assert_eq!(me.body["user"]["email"], DEMO_ADMIN_EMAIL);
    assert_eq!(me.body["user"]["chatwoot_user_id"], demo.admin_id);
    assert_eq!(me.body["user"]["is_super_admin"], false);
    assert_eq!(me.body["session_id"], signed.session_id.to_string());
    assert_eq!(me.body["account_id"], signed.account_id.to_string());
    assert_eq!(
        me.body["memberships"],
        json!([{ "account_id": signed.account_id, "account_name": "Demo Co", "role": "admin" }])
    );

    // An operator session belongs to no account.
    let operator = app.user("ops@hub.test", false).await;
    let me = app.get(ME, &operator.token).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["user"]["id"], operator.id.to_string());
    assert!(me.body["account_id"].is_null());
    assert_eq!(me.body["memberships"], json!([]));

    app.request(Method::GET, ME, None, None)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn the_session_list_shows_live_sessions_and_marks_the_current_one() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let device = |name: &str| json!({ "chatwoot_api_token": DEMO_ADMIN_TOKEN, "device": name });
    let laptop = sign_in_with(&app, device("Laptop")).await;
    let phone = sign_in_with(&app, device("Phone")).await;
    let gone = sign_in_with(&app, device("Old tablet")).await;
    let agent = sign_in(&app, DEMO_AGENT_TOKEN).await;
    assert_eq!(
        logout(&app, &gone.access).await.status,
        StatusCode::NO_CONTENT
    );

    for (me, other) in [(&phone, &laptop), (&laptop, &phone)] {
        let list = app.get(SESSIONS, &me.access).await;
        let list = items(&list);
        let listed: Vec<&str> = list.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(
            listed,
            [phone.session_id.to_string(), laptop.session_id.to_string()],
            "live sessions, newest first"
        );
        let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
        assert_eq!(current.len(), 1, "{list:?}");
        assert_eq!(current[0]["id"], me.session_id.to_string());
        let not_current = list
            .iter()
            .find(|s| s["id"] == other.session_id.to_string())
            .unwrap();
        assert_eq!(not_current["current"], false);
    }
    let list = app.get(SESSIONS, &laptop.access).await;
    let first = &items(&list)[0];
    assert_eq!(first["device"], "Phone");
    assert_eq!(first["method"], "chatwoot_sso");
    assert_eq!(first["account_id"], phone.account_id.to_string());
    assert_eq!(first["ip"], "127.0.0.1");
    assert!(first["expires_at"].is_string() && first["last_seen_at"].is_string());

    let theirs = app.get(SESSIONS, &agent.access).await;
    let theirs = items(&theirs);
    assert_eq!(theirs.len(), 1, "only one's own sessions");
    assert_eq!(theirs[0]["id"], agent.session_id.to_string());
    assert_eq!(theirs[0]["current"], true);
}

#[tokio::test]
async fn a_person_ends_one_of_their_other_sessions() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let here = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let there = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let someone_else = sign_in(&app, DEMO_AGENT_TOKEN).await;

    let path = format!("{SESSIONS}/{}", there.session_id);
    let ended = app.delete(&path, &here.access).await;
    assert_eq!(ended.status, StatusCode::NO_CONTENT, "{:?}", ended.body);
    app.get(ME, &there.access)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    refresh(&app, &there.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    assert_eq!(status_of(&app, ME, &here.access).await, StatusCode::OK);
    let listed: Vec<Value> = items(&app.get(SESSIONS, &here.access).await).to_vec();
    assert_eq!(listed.len(), 1);

    // Already ended, unknown, or someone else's: not found, and nothing happens.
    app.delete(&path, &here.access)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.delete(&format!("{SESSIONS}/{}", Uuid::now_v7()), &here.access)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.delete(
        &format!("{SESSIONS}/{}", someone_else.session_id),
        &here.access,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        status_of(&app, ME, &someone_else.access).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_person_ends_all_their_sessions_but_the_current_one() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let first = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let current = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let third = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let operator = app.token_for(current.user_id).await;
    let someone_else = sign_in(&app, DEMO_AGENT_TOKEN).await;

    let ended = app.delete(SESSIONS, &current.access).await;
    assert_eq!(ended.status, StatusCode::OK, "{:?}", ended.body);
    assert_eq!(ended.body, json!({ "ended": 3 }));
    for token in [&first.access, &third.access, &operator] {
        app.get(ME, token)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    }
    refresh(&app, &third.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    assert_eq!(status_of(&app, ME, &current.access).await, StatusCode::OK);
    assert_eq!(
        status_of(&app, ME, &someone_else.access).await,
        StatusCode::OK
    );
    token_pair(&refresh(&app, &current.refresh).await, current.session_id);
    let listed = app.get(SESSIONS, &current.access).await;
    assert_eq!(items(&listed).len(), 1);
    assert_eq!(items(&listed)[0]["id"], current.session_id.to_string());

    let again = app.delete(SESSIONS, &current.access).await;
    assert_eq!(again.body, json!({ "ended": 0 }));
}

#[tokio::test]
async fn an_admin_ends_a_members_sessions_in_their_account() {
    let (sim, demo) = chatwoot().await;
    let other = sim.add_account("Other Co");
    let olga = sim.add_user("Olga Admin", "olga@other.test");
    sim.add_member(other, olga.id, ChatwootRole::Administrator);
    sim.add_member(other, demo.agent_id, ChatwootRole::Agent);
    let app = hub(&sim, &[]).await;
    let root = super_admin(&app).await;
    let admin = sign_in_to(&app, DEMO_ADMIN_TOKEN, demo.account_id).await;
    let agent = sign_in_to(&app, DEMO_AGENT_TOKEN, demo.account_id).await;
    let agent_again = sign_in_to(&app, DEMO_AGENT_TOKEN, demo.account_id).await;
    let agent_elsewhere = sign_in_to(&app, DEMO_AGENT_TOKEN, other).await;
    let olga = sign_in_to(&app, &olga.api_token, other).await;
    let sessions_of =
        |account: Uuid, user: Uuid| format!("{}/users/{user}/sessions", account_path(account));
    let path = sessions_of(admin.account_id, agent.user_id);

    // An agent may not; an admin of another account cannot even see it; and a person who
    // is not a member here is not found.
    app.delete(&sessions_of(admin.account_id, admin.user_id), &agent.access)
        .await
        .assert_problem(StatusCode::FORBIDDEN, "forbidden");
    app.delete(&path, &olga.access)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.delete(&sessions_of(admin.account_id, olga.user_id), &admin.access)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    for signed in [&admin, &agent, &olga] {
        assert_eq!(status_of(&app, ME, &signed.access).await, StatusCode::OK);
    }

    let ended = app.delete(&path, &admin.access).await;
    assert_eq!(ended.status, StatusCode::OK, "{:?}", ended.body);
    assert_eq!(ended.body, json!({ "ended": 2 }));
    for signed in [&agent, &agent_again] {
        app.get(&account_path(admin.account_id), &signed.access)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
        refresh(&app, &signed.refresh)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    }
    // Their session in the other account, and the admin's own, go on.
    assert_eq!(
        status_of(
            &app,
            &account_path(olga.account_id),
            &agent_elsewhere.access
        )
        .await,
        StatusCode::OK
    );
    assert_eq!(
        status_of(&app, &account_path(admin.account_id), &admin.access).await,
        StatusCode::OK
    );
    let entries = audit(&app, &root, admin.account_id, "user.sessions_ended").await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["resource_id"], agent.user_id.to_string());
    assert_eq!(entries[0]["actor_user_id"], admin.user_id.to_string());
}

#[tokio::test]
async fn deactivating_a_member_ends_their_sessions_in_that_account() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let admin = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let agent = sign_in(&app, DEMO_AGENT_TOKEN).await;
    // The same person also holds an operator session, opened for no account.
    let operator = app.token_for(agent.user_id).await;
    let account = account_path(admin.account_id);
    assert_eq!(status_of(&app, &account, &operator).await, StatusCode::OK);

    let deactivated = app
        .request(
            Method::POST,
            &format!("{account}/users/{}/deactivate", agent.user_id),
            Some(&admin.access),
            None,
        )
        .await;
    assert_eq!(deactivated.status, StatusCode::OK, "{:?}", deactivated.body);

    // 401: the session was opened for this account, so deactivation revoked it, and a
    // revoked session is refused before membership is even looked at — everywhere.
    app.get(&account, &agent.access)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    app.get(ME, &agent.access)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    refresh(&app, &agent.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_revoked");
    // 404: the operator session belongs to no account, so it is not revoked; but the
    // person is no longer an active member, and to a non-member the account does not exist.
    app.get(&account, &operator)
        .await
        .assert_problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(status_of(&app, ME, &operator).await, StatusCode::OK);
}

#[tokio::test]
async fn an_idle_session_can_no_longer_be_refreshed() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[("SESSION_IDLE_TIMEOUT_MINUTES", "0")]).await;
    let signed = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    // Times are kept in whole seconds: a full second later the session has been idle.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    refresh(&app, &signed.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_expired");
    // The refused attempt did not use the token up (that would now read as reuse).
    refresh(&app, &signed.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_expired");
}

#[tokio::test]
async fn a_session_past_its_absolute_lifetime_is_refused() {
    let (sim, _) = chatwoot().await;
    let app = hub(&sim, &[("SESSION_ABSOLUTE_TIMEOUT_HOURS", "0")]).await;
    let signed = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    assert_eq!(
        signed.resp.body["expires_in"], 0,
        "never longer than the session"
    );
    app.get(ME, &signed.access)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_expired");
    app.get(&account_path(signed.account_id), &signed.access)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_expired");
    refresh(&app, &signed.refresh)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_expired");

    let operator = app.user("ops@hub.test", true).await;
    app.get(ME, &operator.token)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "session_expired");
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let app = TestApp::spawn().await;
    let caller = app.user("ops@hub.test", false).await;
    let mut claims = claims_of(&app, &caller.token);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Control: the same claims signed here are accepted, so only the times differ below.
    assert_eq!(
        status_of(&app, ME, &sign(&claims, DEV_KEY_ID, DEV_KEY)).await,
        StatusCode::OK
    );

    (claims.iat, claims.nbf, claims.exp) = (now - 3600, now - 3600, now - 120);
    let expired = app.get(ME, &sign(&claims, DEV_KEY_ID, DEV_KEY)).await;
    expired.assert_problem(StatusCode::UNAUTHORIZED, "token_expired");
    assert_eq!(expired.header("www-authenticate"), Some("Bearer"));
    app.get("/api/v1/accounts", &sign(&claims, DEV_KEY_ID, DEV_KEY))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "token_expired");

    // Clocks drift: ten seconds past expiry is within the 30-second leeway (for a token
    // that lived no longer than the configured 15 minutes).
    (claims.iat, claims.nbf, claims.exp) = (now - 900, now - 900, now - 10);
    assert_eq!(
        status_of(&app, ME, &sign(&claims, DEV_KEY_ID, DEV_KEY)).await,
        StatusCode::OK
    );
    // Not valid before `nbf` (beyond the leeway) either.
    (claims.nbf, claims.exp) = (now + 600, now + 1200);
    app.get(ME, &sign(&claims, DEV_KEY_ID, DEV_KEY))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

#[tokio::test]
async fn forged_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let caller = app.user("ops@hub.test", false).await;
    let other = app.user("other@hub.test", false).await;
    let claims = claims_of(&app, &caller.token);
    assert_eq!(
        status_of(&app, ME, &sign(&claims, DEV_KEY_ID, DEV_KEY)).await,
        StatusCode::OK,
        "control: correctly signed"
    );

    let payload = caller.token.split('.').nth(1).unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt","kid":"dev"}"#);
    let mut wrong_type = Header::new(Algorithm::HS256);
    wrong_type.kid = Some(DEV_KEY_ID.into());
    wrong_type.typ = Some("JWT".into());
    let plain_jwt = jsonwebtoken::encode(
        &wrong_type,
        &claims,
        &EncodingKey::from_secret(DEV_KEY.as_bytes()),
    )
    .unwrap();
    let mut foreign_issuer = claims.clone();
    foreign_issuer.iss = "https://evil.example".into();
    let mut someone_else = claims.clone();
    someone_else.sub = other.id;
    let mut tampered = caller.token.split('.').collect::<Vec<_>>();
    let other_payload = other.token.split('.').nth(1).unwrap();
    tampered[1] = other_payload;

    let forgeries = [
        ("alg none", format!("{none_header}.{payload}.")),
        (
            "wrong key",
            sign(
                &claims,
                DEV_KEY_ID,
                "an-attacker-chosen-secret-of-32-characters",
            ),
        ),
        ("unknown key id", sign(&claims, "k9", DEV_KEY)),
        ("typ JWT", plain_jwt),
        ("other issuer", sign(&foreign_issuer, DEV_KEY_ID, DEV_KEY)),
        ("payload swapped", tampered.join(".")),
        (
            "another user's id on this session",
            sign(&someone_else, DEV_KEY_ID, DEV_KEY),
        ),
        (
            "a session that does not exist",
            app.state
                .tokens
                .mint_access(caller.id, Uuid::now_v7())
                .token,
        ),
    ];
    for (what, token) in forgeries {
        let resp = app.get(ME, &token).await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{what}");
        resp.assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
    }
    assert_eq!(status_of(&app, ME, &caller.token).await, StatusCode::OK);
}

#[tokio::test]
async fn tokens_signed_with_the_previous_key_verify_after_rotation() {
    let new_key = "new:a-brand-new-signing-key-with-more-than-32-chars";
    let keys = format!("{new_key},{DEV_KEY_ID}:{DEV_KEY}");
    let app = TestApp::spawn_with(&[("JWT_SIGNING_KEYS", &keys)]).await;
    let caller = app.user("ops@hub.test", false).await;
    let session = claims_of(&app, &caller.token).sid;
    assert_eq!(kid_of(&caller.token), "new", "the first key signs");

    // The deployment before the rotation: the development key only.
    let before = support::config(&[]);
    let old = TokenService::new(
        &before.signing_keys,
        app.state.config.public_url.clone(),
        before.access_token_ttl,
    );
    let minted = old
        .mint_access_for(caller.id, session, Duration::from_secs(300))
        .token;
    assert_eq!(kid_of(&minted), DEV_KEY_ID);
    let me = app.get(ME, &minted).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    assert_eq!(me.body["session_id"], session.to_string());
    assert!(
        old.verify_access(&caller.token).is_err(),
        "the old deployment cannot read the new key's tokens"
    );

    // A key no longer configured verifies nothing.
    let retired = support::config(&[(
        "JWT_SIGNING_KEYS",
        "gone:a-retired-signing-key-with-more-than-32-chars",
    )]);
    let retired = TokenService::new(
        &retired.signing_keys,
        retired.public_url.clone(),
        retired.access_token_ttl,
    );
    let stale = retired.mint_access(caller.id, session).token;
    app.get(ME, &stale)
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "invalid_token");
}

/// FAILS until src/auth/sessions/routes.rs `refresh` counts attempts: `RateLimiters::
/// auth_attempt` (src/auth/rate_limit.rs) is documented as limiting "sign-in and refresh
/// attempts" per IP and per credential, but only `sso` calls it, so refresh tokens can be
/// guessed at the general anonymous rate.
#[tokio::test]
async fn the_eleventh_refresh_attempt_in_a_minute_from_one_ip_is_rate_limited() {
    let app = TestApp::spawn().await;
    for attempt in 0..10 {
        refresh(&app, &format!("wphr_guess{attempt}"))
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "invalid_refresh_token");
    }
    let limited = refresh(&app, "wphr_guess10").await;
    limited.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(limited.header("retry-after").is_some());
}
