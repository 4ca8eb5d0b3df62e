//! A webhook endpoint for the provider simulators' own tests: it keeps every post (headers
//! and raw body) and answers 200.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, routing::post};
use serde_json::Value;

use super::ServerTask;

type Posts = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

pub(crate) struct Receiver {
    /// Where to point a webhook: any path under it is received.
    pub(crate) url: String,
    posts: Posts,
    _server: ServerTask,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let posts = Posts::default();
        let app = Router::new()
            .route("/{*path}", post(keep))
            .with_state(posts.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url,
            posts,
            _server: ServerTask(server),
        }
    }

    /// Waits for a post whose JSON body `wanted` accepts, and gives its headers and body.
    /// Posts go out in tasks of their own, so it polls a little while before it gives up.
    pub(crate) async fn wait_for(&self, wanted: impl Fn(&Value) -> bool) -> (HeaderMap, Bytes) {
        for _ in 0..250 {
            let found = self.lock().iter().find_map(|(headers, bytes)| {
                let body: Value = serde_json::from_slice(bytes).ok()?;
                wanted(&body).then(|| (headers.clone(), bytes.clone()))
            });
            if let Some(post) = found {
                return post;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let bodies: Vec<_> = self
            .lock()
            .iter()
            .map(|(_, body)| String::from_utf8_lossy(body).into_owned())
            .collect();
        panic!("no such webhook post; received: {bodies:#?}");
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(HeaderMap, Bytes)>> {
        self.posts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn keep(State(posts): State<Posts>, headers: HeaderMap, body: Bytes) {
    posts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((headers, body));
}
