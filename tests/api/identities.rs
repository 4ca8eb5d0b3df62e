//! Who a person is (issue 13, findings 1–3): a Chatwoot identity is (installation, Chatwoot
//! user id), never an email; two installations that both number their users from 1 keep
//! their people apart, and an operator made with `create-admin` stays apart from a Chatwoot
//! person who shares their email.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use whatpro_hub::{
    simulators::chatwoot::demo::{DEMO_ADMIN_EMAIL, DEMO_ADMIN_TOKEN},
    simulators::chatwoot::wire::Role as ChatwootRole,
};

use crate::{
    accounts::{ids, super_admin},
    cross_tenant::{Ids, document, fill, problem, routes},
    sso::{chatwoot, hub, sign_in, sign_in_with},
};

const MALLORY_TOKEN: &str = "malloryToken123456789012";

/// A person of a second installation, numbered and addressed like the first's admin, signs
/// in as a new person: nothing of the first's (accounts, sessions, profile) is reachable.
#[tokio::test]
async fn people_of_two_installations_are_never_merged() {
    let (first, demo) = chatwoot().await;
    let app = hub(&first, &[]).await;
    let root = super_admin(&app).await;

    let second = whatpro_hub::simulators::chatwoot::Simulator::start().await;
    let account = second.add_account("Mallory Co");
    let mallory = second.add_user_with("Mallory", DEMO_ADMIN_EMAIL, MALLORY_TOKEN, "Pw-mallory-1!");
    second.add_member(account, mallory.id, ChatwootRole::Administrator);
    assert_eq!(
        (account, mallory.id),
        (demo.account_id, demo.admin_id),
        "the second installation numbers its account and user like the first"
    );
    let created = app
        .post(
            "/api/v1/chatwoot/installations",
            &root.token,
            json!({ "name": "Second", "base_url": second.base_url(), "signs_webhooks": false }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);

    let ana = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    let intruder = sign_in_with(
        &app,
        json!({ "chatwoot_api_token": MALLORY_TOKEN, "installation_id": created.id() }),
    )
    .await;
    assert_ne!(intruder.user_id, ana.user_id, "a person of their own");
    assert_ne!(intruder.account_id, ana.account_id);

    let listed = app.get("/api/v1/accounts", &intruder.access).await;
    assert_eq!(ids(&listed), vec![intruder.account_id]);
    let sessions = app.get("/api/v1/auth/sessions", &intruder.access).await;
    assert_eq!(ids(&sessions), vec![intruder.session_id]);
    app.delete(
        &format!("/api/v1/auth/sessions/{}", ana.session_id),
        &intruder.access,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");
    app.get(
        &format!("/api/v1/accounts/{}", ana.account_id),
        &intruder.access,
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "not_found");

    let me = app.get("/api/v1/auth/me", &ana.access).await;
    assert_eq!(me.status, StatusCode::OK, "Ana's session still stands");
    assert_eq!(
        me.body["user"]["name"], "Ana Admin",
        "her profile is untouched"
    );
    let me = app.get("/api/v1/auth/me", &intruder.access).await;
    assert_eq!(me.body["user"]["name"], "Mallory");

    // Every route of the first installation's account, walked with the second's identity
    // (the same Chatwoot ids, the same email): each answers as if the account did not exist.
    let doc = document();
    let ids: Ids = [
        ("accountId".to_string(), ana.account_id.to_string()),
        ("userId".to_string(), ana.user_id.to_string()),
    ]
    .into();
    let (mut walked, mut failures) = (0, Vec::new());
    for route in routes(&doc).iter().filter(|r| r.in_account()) {
        if route.params().iter().any(|p| !ids.contains_key(p)) {
            continue;
        }
        walked += 1;
        let path = fill(route, &ids);
        let body = (route.method != reqwest::Method::GET).then(|| json!({}));
        let resp = app
            .request(route.method.clone(), &path, Some(&intruder.access), body)
            .await;
        if let Err(why) = problem(&resp, StatusCode::NOT_FOUND, &["not_found"]) {
            failures.push(format!("{} {path}: {why}", route.method));
        }
    }
    assert!(walked >= 25, "only {walked} routes walked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Signing in again finds each person again, never the other.
    assert_eq!(sign_in(&app, DEMO_ADMIN_TOKEN).await.user_id, ana.user_id);
}

/// An operator made with `create-admin` is not the Chatwoot person who shares their email:
/// signing in from Chatwoot makes a person of their own, with no super-admin power.
#[tokio::test]
async fn an_operator_stays_apart_from_a_chatwoot_person_with_their_email() {
    let (sim, _demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let operator = app.user(DEMO_ADMIN_EMAIL, true).await;
    let ana = sign_in(&app, DEMO_ADMIN_TOKEN).await;
    assert_ne!(ana.user_id, operator.id);
    let me = app.get("/api/v1/auth/me", &ana.access).await;
    assert_eq!(me.body["user"]["is_super_admin"], false, "{:?}", me.body);
    let accounts = app.get("/api/v1/accounts", &operator.token).await;
    assert_eq!(
        ids(&accounts),
        vec![ana.account_id],
        "the operator sees all, as before"
    );
}

/// First sign-ins racing for one new identity make one person: the unique index decides,
/// not the order of lookups.
#[tokio::test]
async fn racing_first_sign_ins_make_one_person() {
    let (sim, _demo) = chatwoot().await;
    let app = hub(&sim, &[]).await;
    let attempts = (0..8).map(|_| sign_in(&app, DEMO_ADMIN_TOKEN));
    let people: std::collections::HashSet<_> = join_all(attempts)
        .await
        .into_iter()
        .map(|s| s.user_id)
        .collect();
    assert_eq!(people.len(), 1, "{people:?}");
}
