//! Platform API: tokens, permissibles, and the provisioning round trip.

use secrecy::{ExposeSecret, SecretString};

use super::{Fixture, secret};
use crate::chatwoot::client::{ChatwootError, Credential, NewAccount, NewUser, Role};

fn new_user(email: &str) -> NewUser {
    NewUser {
        name: "Paula Prov".into(),
        email: email.into(),
        password: secret("Str0ng-pass!"),
        display_name: Some("Paula".into()),
        custom_attributes: Default::default(),
    }
}

#[tokio::test]
async fn provisions_an_account_with_a_user_and_token() {
    let f = Fixture::new().await;
    let platform = f
        .client
        .platform(SecretString::from(f.sim.add_platform_app("hub")));
    let mut request = NewAccount {
        name: "Tenant One".into(),
        ..Default::default()
    };
    request
        .custom_attributes
        .insert("plan".into(), "pro".into());
    let account = platform.create_account(&request).await.unwrap();
    assert_eq!(
        (account.name.as_str(), account.status.as_deref()),
        ("Tenant One", Some("active"))
    );
    assert_eq!(account.custom_attributes["plan"], "pro");
    assert_eq!(platform.account(account.id).await.unwrap(), account);

    let user = platform
        .create_user(&new_user("paula@tenant.test"))
        .await
        .unwrap();
    assert_eq!(
        (user.email.as_str(), user.display_name.as_deref()),
        ("paula@tenant.test", Some("Paula"))
    );
    let membership = platform
        .add_account_user(account.id, user.id, Role::Administrator)
        .await
        .unwrap();
    assert_eq!(
        (membership.account_id, membership.user_id, membership.role),
        (account.id, user.id, Role::Administrator)
    );
    // An upsert: the role changes, no second row.
    platform
        .add_account_user(account.id, user.id, Role::Agent)
        .await
        .unwrap();
    assert_eq!(f.sim.members(account.id).len(), 1);

    let token = platform.user_token(user.id).await.unwrap();
    assert_eq!(token.user.id, user.id);
    assert!(!format!("{token:?}").contains(token.access_token.expose_secret()));
    let cred = Credential::ApiToken(token.access_token.clone());
    let profile = f.client.profile(&cred).await.unwrap();
    assert_eq!(
        (profile.id, profile.accounts[0].id, profile.accounts[0].role),
        (user.id, account.id, Role::Agent)
    );

    platform.delete_account(account.id).await.unwrap();
    assert_eq!(
        platform.account(account.id).await,
        Err(ChatwootError::NotFound)
    );
}

#[tokio::test]
async fn an_existing_email_is_adopted() {
    let f = Fixture::new().await;
    let platform = f
        .client
        .platform(SecretString::from(f.sim.add_platform_app("hub")));
    let adopted = platform
        .create_user(&new_user("RUI@acme.test"))
        .await
        .unwrap();
    assert_eq!(adopted.id, f.agent.id);
    assert_eq!(adopted.accounts[0].role, Role::Agent);
    assert!(
        platform.user_token(f.agent.id).await.is_ok(),
        "adoption grants the permissible"
    );
}

#[tokio::test]
async fn apps_only_touch_their_own_resources() {
    let f = Fixture::new().await;
    let mine = f
        .client
        .platform(SecretString::from(f.sim.add_platform_app("hub")));
    let theirs = f
        .client
        .platform(SecretString::from(f.sim.add_platform_app("other")));
    let account = mine
        .create_account(&NewAccount {
            name: "Mine".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let user = mine.create_user(&new_user("me@tenant.test")).await.unwrap();

    assert_eq!(
        theirs.account(account.id).await,
        Err(ChatwootError::Forbidden)
    );
    assert_eq!(
        theirs.delete_account(account.id).await,
        Err(ChatwootError::Forbidden)
    );
    assert_eq!(
        theirs.user_token(user.id).await.unwrap_err(),
        ChatwootError::Forbidden
    );
    let err = theirs
        .add_account_user(account.id, user.id, Role::Agent)
        .await;
    assert_eq!(err, Err(ChatwootError::Forbidden));
    // Seeded accounts belong to no app.
    assert_eq!(mine.account(f.account).await, Err(ChatwootError::Forbidden));
    assert_eq!(mine.account(987_654).await, Err(ChatwootError::NotFound));
}

#[tokio::test]
async fn tokens_do_not_cross_apis() {
    let f = Fixture::new().await;
    let platform_token = f.sim.add_platform_app("hub");
    // A user token on the Platform API.
    let as_user = f
        .client
        .platform(SecretString::from(f.admin.api_token.clone()));
    let err = as_user
        .create_account(&NewAccount {
            name: "X".into(),
            ..Default::default()
        })
        .await;
    assert_eq!(err, Err(ChatwootError::Unauthorized));
    // A platform token on the Application API.
    let cred = Credential::api_token(platform_token);
    assert_eq!(
        f.client.profile(&cred).await,
        Err(ChatwootError::Unauthorized)
    );
    assert_eq!(
        f.client.account(&cred, f.account).await,
        Err(ChatwootError::Unauthorized)
    );
}
