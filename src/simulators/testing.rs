//! What the provider simulators' own tests share: calls over real HTTP, as a hub adapter
//! makes them, and a webhook endpoint that keeps every post and answers 200.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Uri},
    routing::post,
};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

use super::{ServerTask, local_listener};

/// Sends `request`, with `body` as JSON if given, and gives the status and the JSON answer
/// (`null` when the answer is not JSON, as a few error answers are not).
pub(crate) async fn call(request: RequestBuilder, body: Option<Value>) -> (StatusCode, Value) {
    let request = match body {
        Some(body) => request.json(&body),
        None => request,
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A post the receiver got.
#[derive(Clone)]
pub(crate) struct Post {
    /// Where it went (`/hooks/…`): simulators with a URL per event are checked by it.
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    /// The bytes as sent, which a signature covers.
    pub(crate) body: Bytes,
    /// The body as JSON (`null` when it is not).
    pub(crate) json: Value,
}

type Posts = Arc<Mutex<Vec<Post>>>;

pub(crate) struct Receiver {
    /// Where to point a webhook: any path under it is received.
    pub(crate) url: String,
    posts: Posts,
    _server: ServerTask,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let listener = local_listener().await;
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let posts = Posts::default();
        let app = Router::new()
            .route("/{*path}", post(keep))
            .with_state(posts.clone());
        Receiver {
            url,
            posts,
            _server: ServerTask::serve(listener, app),
        }
    }

    /// Waits for a post whose JSON body `wanted` accepts. Posts go out in tasks of their
    /// own, so it polls a little while before it gives up.
    pub(crate) async fn wait_for(&self, wanted: impl Fn(&Value) -> bool) -> Post {
        for _ in 0..250 {
            if let Some(post) = self.lock().iter().find(|post| wanted(&post.json)) {
                return post.clone();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let bodies: Vec<_> = self
            .lock()
            .iter()
            .map(|post| String::from_utf8_lossy(&post.body).into_owned())
            .collect();
        panic!("no such webhook post; received: {bodies:#?}");
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Post>> {
        self.posts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn keep(State(posts): State<Posts>, uri: Uri, headers: HeaderMap, body: Bytes) {
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let path = uri.path().to_string();
    let post = Post {
        path,
        headers,
        body,
        json,
    };
    posts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(post);
}
