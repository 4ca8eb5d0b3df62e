//! Webhooks and dashboard apps CRUD, and who may use them.

use secrecy::ExposeSecret;

use super::Fixture;
use crate::chatwoot::client::{ChatwootError, DashboardAppFrame, WebhookEvent};

#[tokio::test]
async fn webhooks_crud_returns_a_secret() {
    let f = Fixture::new().await;
    let (cred, acc) = (f.admin_cred(), f.account);
    let events = [
        WebhookEvent::ConversationCreated,
        WebhookEvent::MessageCreated,
    ];
    let hook = f
        .client
        .create_webhook(&cred, acc, "https://hub.test/hooks/cw", "hub", &events)
        .await
        .unwrap();
    let secret = hook
        .secret
        .as_ref()
        .expect("a secret")
        .expose_secret()
        .to_string();
    assert_eq!(secret.len(), 24);
    assert!(secret.chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(
        !format!("{hook:?}").contains(&secret),
        "Debug must redact the secret"
    );
    assert_eq!(hook.subscriptions, events);
    assert_eq!(f.sim.webhooks(acc)[0].secret, secret);

    let listed = f.client.list_webhooks(&cred, acc).await.unwrap();
    assert_eq!((listed.len(), listed[0].id), (1, hook.id));

    let updated = f
        .client
        .update_webhook(
            &cred,
            acc,
            hook.id,
            "https://hub.test/v2",
            "hub v2",
            &[WebhookEvent::ConversationStatusChanged],
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.url.as_str(), updated.name.as_deref()),
        ("https://hub.test/v2", Some("hub v2"))
    );
    assert_eq!(
        updated.subscriptions,
        [WebhookEvent::ConversationStatusChanged]
    );
    assert_eq!(
        updated.secret.unwrap().expose_secret(),
        secret,
        "the secret survives updates"
    );

    f.client.delete_webhook(&cred, acc, hook.id).await.unwrap();
    assert!(f.client.list_webhooks(&cred, acc).await.unwrap().is_empty());
    assert_eq!(
        f.client.delete_webhook(&cred, acc, hook.id).await,
        Err(ChatwootError::NotFound)
    );
}

#[tokio::test]
async fn webhook_input_is_validated() {
    let f = Fixture::new().await;
    let (cred, acc) = (f.admin_cred(), f.account);
    let events = [WebhookEvent::MessageCreated];
    let bad_url = f
        .client
        .create_webhook(&cred, acc, "ftp://x", "x", &events)
        .await;
    assert!(matches!(bad_url, Err(ChatwootError::Validation(m)) if m.contains("Url")));
    let none = f
        .client
        .create_webhook(&cred, acc, "https://a.test", "x", &[])
        .await;
    assert!(matches!(none, Err(ChatwootError::Validation(m)) if m.contains("Subscriptions")));
    f.client
        .create_webhook(&cred, acc, "https://a.test", "x", &events)
        .await
        .unwrap();
    let twin = f
        .client
        .create_webhook(&cred, acc, "https://a.test", "x", &events)
        .await;
    assert_eq!(
        twin.unwrap_err(),
        ChatwootError::Validation("Url has already been taken".into())
    );
}

#[tokio::test]
async fn webhooks_are_admin_only() {
    let f = Fixture::new().await;
    let events = [WebhookEvent::MessageCreated];
    let err = f
        .client
        .create_webhook(&f.agent_cred(), f.account, "https://a.test", "x", &events)
        .await;
    assert_eq!(err.unwrap_err(), ChatwootError::Forbidden);
    assert_eq!(
        f.client
            .list_webhooks(&f.agent_cred(), f.account)
            .await
            .unwrap_err(),
        ChatwootError::Forbidden
    );
    assert!(f.sim.webhooks(f.account).is_empty());
}

#[tokio::test]
async fn dashboard_apps_crud() {
    let f = Fixture::new().await;
    let (cred, acc) = (f.admin_cred(), f.account);
    let frames = [DashboardAppFrame::frame("https://hub.test/embed/kanban")];
    let app = f
        .client
        .create_dashboard_app(&cred, acc, "Kanban", &frames)
        .await
        .unwrap();
    assert_eq!(
        (app.title.as_str(), app.content.as_slice()),
        ("Kanban", frames.as_slice())
    );
    assert_eq!(f.sim.dashboard_apps(acc)[0].title, "Kanban");

    // Agents see the tabs but cannot change them.
    let listed = f.client.dashboard_apps(&f.agent_cred(), acc).await.unwrap();
    assert_eq!(listed, std::slice::from_ref(&app));
    let denied = f
        .client
        .delete_dashboard_app(&f.agent_cred(), acc, app.id)
        .await;
    assert_eq!(denied, Err(ChatwootError::Forbidden));

    let frames = [DashboardAppFrame::frame("https://hub.test/embed/v2")];
    let updated = f
        .client
        .update_dashboard_app(&cred, acc, app.id, "Pipeline", &frames)
        .await
        .unwrap();
    assert_eq!((updated.id, updated.title.as_str()), (app.id, "Pipeline"));
    assert_eq!(updated.content[0].url, "https://hub.test/embed/v2");

    let bad = [DashboardAppFrame {
        kind: "frame".into(),
        url: "javascript:alert(1)".into(),
    }];
    let invalid = f.client.create_dashboard_app(&cred, acc, "Bad", &bad).await;
    assert!(matches!(invalid, Err(ChatwootError::Validation(_))));

    f.client
        .delete_dashboard_app(&cred, acc, app.id)
        .await
        .unwrap();
    assert!(
        f.client
            .dashboard_apps(&cred, acc)
            .await
            .unwrap()
            .is_empty()
    );
}
