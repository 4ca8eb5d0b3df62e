//! Retries, backoff, Retry-After and transport failures.

use std::time::{Duration, Instant};

use super::Fixture;
use crate::chatwoot::client::{ChatwootClient, ChatwootError, ConversationStatus, RetryPolicy};

#[tokio::test]
async fn transient_503s_are_retried_until_success() {
    let f = Fixture::new().await;
    let before = f.sim.request_count();
    f.sim.fail_next(2, 503);
    let profile = f.client.profile(&f.admin_cred()).await.unwrap();
    assert_eq!(profile.id, f.admin.id);
    assert_eq!(f.sim.request_count() - before, 3);
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let f = Fixture::new().await;
    let before = f.sim.request_count();
    f.sim.fail_next(1, 429);
    let started = Instant::now();
    f.client.inboxes(&f.admin_cred(), f.account).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(f.sim.request_count() - before, 2);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let f = Fixture::new().await;
    let before = f.sim.request_count();
    f.sim.fail_next(1, 400);
    let err = f.client.profile(&f.admin_cred()).await.unwrap_err();
    assert!(matches!(err, ChatwootError::Validation(_)), "{err:?}");
    assert_eq!(f.sim.request_count() - before, 1);
}

#[tokio::test]
async fn retries_give_up_after_three_attempts() {
    let f = Fixture::new().await;
    let before = f.sim.request_count();
    f.sim.fail_next(5, 502);
    let err = f
        .client
        .agents(&f.admin_cred(), f.account)
        .await
        .unwrap_err();
    assert_eq!(err, ChatwootError::Unavailable("status 502".into()));
    assert_eq!(f.sim.request_count() - before, 3);

    // A short Retry-After cap keeps this test fast.
    let quick = f.client.with_retry_policy(RetryPolicy {
        max_retry_after: Duration::from_millis(10),
        ..RetryPolicy::default()
    });
    f.sim.fail_next(3, 429);
    assert_eq!(
        quick.profile(&f.admin_cred()).await.unwrap_err(),
        ChatwootError::RateLimited
    );
}

#[tokio::test]
async fn messages_are_never_retried_but_absolute_posts_are() {
    let f = Fixture::new().await;
    let cred = f.admin_cred();
    let before = f.sim.request_count();
    f.sim.fail_next(1, 503);
    let err = f
        .client
        .create_message(&cred, f.account, f.conversation, "hi", false)
        .await;
    assert_eq!(
        err.unwrap_err(),
        ChatwootError::Unavailable("status 503".into())
    );
    assert_eq!(f.sim.request_count() - before, 1);
    assert_eq!(
        f.sim
            .conversation(f.account, f.conversation)
            .unwrap()
            .messages
            .len(),
        1
    );

    f.sim.fail_next(1, 503);
    let status = ConversationStatus::Resolved;
    f.client
        .toggle_status(&cred, f.account, f.conversation, status)
        .await
        .unwrap();
    assert_eq!(f.sim.request_count() - before, 3);
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    // Bind and drop a listener so the port is very likely closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = ChatwootClient::new(&format!("http://127.0.0.1:{port}")).unwrap();
    let cred = crate::chatwoot::client::Credential::api_token("tok-secret-123");
    let err = client.profile(&cred).await.unwrap_err();
    assert!(matches!(err, ChatwootError::Unavailable(_)), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("tok-secret-123"), "{text}");
}

#[tokio::test]
async fn bad_base_urls_are_refused() {
    for url in [
        "not a url",
        "ftp://chat.test",
        "https://user:pw@chat.test",
        "https://chat.test/?a=1",
    ] {
        assert!(
            matches!(ChatwootClient::new(url), Err(ChatwootError::Validation(_))),
            "{url}"
        );
    }
    let client = ChatwootClient::new("https://chat.test/").unwrap();
    assert_eq!(client.base_url(), "https://chat.test");
}

/// A one-route server answering `GET /api/v1/profile` with `answer`, counting requests
/// that carry an `api_access_token`.
async fn tiny_server(
    answer: axum::response::Response,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let answer = Arc::new(std::sync::Mutex::new(Some(answer)));
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap| {
        let (counter, answer) = (counter.clone(), answer.clone());
        async move {
            if headers.contains_key("api_access_token") {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            let taken = answer.lock().unwrap().take();
            taken.unwrap_or_else(|| {
                axum::Json(serde_json::json!({
                    "id": 7, "name": "Redirected", "email": "r@x.test"
                }))
                .into_response()
            })
        }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (base, hits)
}

use axum::response::IntoResponse;

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed() {
    // The "attacker" would receive our token if the client followed the redirect.
    let (elsewhere, stolen) = tiny_server(axum::Json(serde_json::json!({})).into_response()).await;
    let location = format!("{elsewhere}/steal");
    let redirect = axum::response::Redirect::temporary(&location).into_response();
    let (base, _) = tiny_server(redirect).await;
    let client = ChatwootClient::new(&base).unwrap();
    let cred = crate::chatwoot::client::Credential::api_token("tok");
    let err = client.profile(&cred).await.unwrap_err();
    assert!(matches!(err, ChatwootError::Unexpected(_)), "{err:?}");
    assert_eq!(stolen.load(std::sync::atomic::Ordering::SeqCst), 0);

    // Same origin: followed, credentials kept.
    let redirect = axum::response::Redirect::temporary("/api/v1/profile").into_response();
    let (base, hits) = tiny_server(redirect).await;
    let client = ChatwootClient::new(&base).unwrap();
    assert_eq!(client.profile(&cred).await.unwrap().name, "Redirected");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 2);
}
