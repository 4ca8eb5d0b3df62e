//! Application API round trips, authentication and account access.

use super::{Fixture, secret};
use crate::chatwoot::client::*;

#[tokio::test]
async fn profile_with_api_token_lists_memberships() {
    let f = Fixture::new().await;
    let profile = f.client.profile(&f.admin_cred()).await.unwrap();
    assert_eq!(
        (profile.id, profile.email.as_str()),
        (f.admin.id, "marta@acme.test")
    );
    assert_eq!(profile.account_id, Some(f.account));
    assert_eq!(profile.role, Some(Role::Administrator));
    assert_eq!(profile.accounts.len(), 1);
    assert_eq!(profile.accounts[0].name, "Acme Store");
    assert_eq!(profile.accounts[0].status.as_deref(), Some("active"));
}

#[tokio::test]
async fn sign_in_yields_a_session_credential_that_works() {
    let f = Fixture::new().await;
    let (cred, user) = f
        .client
        .sign_in("RUI@acme.test", &secret(&f.agent.password))
        .await
        .unwrap();
    assert_eq!(user.id, f.agent.id);
    assert!(matches!(&cred, Credential::Session { uid, .. } if uid == "rui@acme.test"));
    let debug = format!("{cred:?}");
    assert!(!debug.contains(&f.agent.password) && debug.contains("redacted"));
    let profile = f.client.profile(&cred).await.unwrap();
    assert_eq!(profile.accounts[0].role, Role::Agent);
    assert_eq!(f.client.inboxes(&cred, f.account).await.unwrap().len(), 1);
}

#[tokio::test]
async fn bad_credentials_are_unauthorized() {
    let f = Fixture::new().await;
    let wrong = Credential::api_token("not-a-token");
    assert_eq!(
        f.client.profile(&wrong).await,
        Err(ChatwootError::Unauthorized)
    );
    let bad_session = Credential::Session {
        access_token: secret("nope"),
        client: secret("nope"),
        uid: f.admin.email.clone(),
    };
    assert_eq!(
        f.client.profile(&bad_session).await,
        Err(ChatwootError::Unauthorized)
    );
    let signed_in = f
        .client
        .sign_in(&f.admin.email, &secret("wrong password"))
        .await;
    assert_eq!(signed_in.err(), Some(ChatwootError::Unauthorized));
}

#[tokio::test]
async fn account_access_needs_membership() {
    let f = Fixture::new().await;
    // Chatwoot answers 401 "not authorized to access this account"; the client tells it
    // apart from a bad token.
    let err = f
        .client
        .account(&f.outsider_cred(), f.account)
        .await
        .unwrap_err();
    assert_eq!(err, ChatwootError::Forbidden);
    assert_eq!(
        f.client.inboxes(&f.admin_cred(), f.other_account).await,
        Err(ChatwootError::Forbidden)
    );
    assert_eq!(
        f.client.account(&f.admin_cred(), 999_999).await,
        Err(ChatwootError::NotFound)
    );
    f.sim.suspend_account(f.account);
    assert_eq!(
        f.client.account(&f.admin_cred(), f.account).await,
        Err(ChatwootError::Forbidden)
    );
}

#[tokio::test]
async fn account_resources_round_trip() {
    let f = Fixture::new().await;
    let cred = f.agent_cred();
    let account = f.client.account(&cred, f.account).await.unwrap();
    assert_eq!(
        (account.id, account.name.as_str()),
        (f.account, "Acme Store")
    );

    let inboxes = f.client.inboxes(&cred, f.account).await.unwrap();
    assert_eq!(inboxes[0].channel_type, "Channel::Whatsapp");
    assert_eq!(inboxes[0].phone_number.as_deref(), Some("+5511999990000"));

    let agents = f.client.agents(&cred, f.account).await.unwrap();
    let roles: Vec<_> = agents.iter().map(|a| (a.id, a.role)).collect();
    assert_eq!(
        roles,
        [(f.admin.id, Role::Administrator), (f.agent.id, Role::Agent)]
    );

    let teams = f.client.teams(&cred, f.account).await.unwrap();
    assert_eq!((teams[0].id, teams[0].is_member), (f.team, true));
    let admin_teams = f.client.teams(&f.admin_cred(), f.account).await.unwrap();
    assert!(!admin_teams[0].is_member);

    let labels = f.client.labels(&cred, f.account).await.unwrap();
    let titles: Vec<_> = labels.iter().map(|l| l.title.as_str()).collect();
    assert_eq!(titles, ["vip", "billing"]);
}

#[tokio::test]
async fn the_demo_installation_is_usable() {
    use crate::simulators::chatwoot::{Simulator, demo};
    let sim = Simulator::start().await;
    let seeded = sim.seed_demo();
    let client = ChatwootClient::new(&sim.base_url()).unwrap();
    let (admin, _) = client
        .sign_in(demo::DEMO_ADMIN_EMAIL, &secret(demo::DEMO_ADMIN_PASSWORD))
        .await
        .unwrap();
    let filter = ConversationFilter {
        status: Some(StatusFilter::All),
        ..Default::default()
    };
    let page = client
        .conversations(&admin, seeded.account_id, &filter)
        .await
        .unwrap();
    assert_eq!(page.meta.all_count, 3);
    let agent = Credential::api_token(demo::DEMO_AGENT_TOKEN);
    let inboxes = client.inboxes(&agent, seeded.account_id).await.unwrap();
    assert_eq!(inboxes.len(), 2);
    assert_eq!(
        client
            .list_webhooks(&agent, seeded.account_id)
            .await
            .unwrap_err(),
        ChatwootError::Forbidden
    );
}

/// The devise wire format, checked without our client.
#[tokio::test]
async fn sign_in_and_validate_token_speak_devise() {
    let f = Fixture::new().await;
    let http = reqwest::Client::new();
    let body = serde_json::json!({ "email": f.admin.email, "password": f.admin.password });
    let res = http
        .post(format!("{}/auth/sign_in", f.sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    for name in ["access-token", "client", "uid", "token-type", "expiry"] {
        assert!(headers.contains_key(name), "{name}");
    }
    assert_eq!(headers["token-type"], "Bearer");
    let json: serde_json::Value = res.json().await.unwrap();
    assert_eq!(json["data"]["accounts"][0]["role"], "administrator");

    let validate = |with: Option<&str>| {
        let mut req = http.get(format!("{}/auth/validate_token", f.sim.base_url()));
        for name in ["access-token", "client", "uid"] {
            let value = headers[name].to_str().unwrap();
            req = req.header(
                name,
                if name == "access-token" {
                    with.unwrap_or(value)
                } else {
                    value
                },
            );
        }
        req.send()
    };
    let ok: serde_json::Value = validate(None).await.unwrap().json().await.unwrap();
    assert_eq!(
        (
            ok["payload"]["success"].as_bool(),
            ok["payload"]["data"]["id"].as_i64()
        ),
        (Some(true), Some(f.admin.id))
    );
    assert_eq!(validate(Some("forged")).await.unwrap().status(), 401);

    let res = http
        .get(format!("{}/api/v1/profile", f.sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let json: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        json["errors"][0],
        "You need to sign in or sign up before continuing."
    );
}
