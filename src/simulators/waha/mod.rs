//! An in-memory WAHA server (devlikeapro/waha, NOWEB engine, the 2026.7 wire) for tests and
//! the demo.
//!
//! `WahaSimulator::start(api_key)` serves it on 127.0.0.1:0. It answers like WAHA: the
//! `X-Api-Key` header (or `?x-api-key=`) on every `/api` route, NestJS error bodies, `GET
//! /ping` without a key. Each session posts its events to the webhooks of its own config,
//! signed when they carry an HMAC key. Tests inject faults (`fail_next`, `delay_next`), play
//! the phone (`scan`, `rotate_qr`, `drop_session`), and can turn it into a Core edition from
//! before 2026.6 that serves only the session `default` (`core_only`).

mod auth;
mod events;
mod lifecycle;
mod messages;
mod refusal;
mod session;
mod sessions;
#[cfg(test)]
mod tests;

pub use session::{Me, SessionStatus, WahaSession};

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Query, Request, State},
    http::{HeaderMap, StatusCode},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{Sent, ServerTask, faults::Faults, webhooks::WebhookPoster};
use refusal::Refusal;

/// The WAHA release whose wire the simulator speaks, as `environment.version` shows it.
const VERSION: &str = "2026.7.1";

/// A handle on a running simulator; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct WahaSimulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: Arc<ServerTask>,
}

struct Shared {
    api_key: String,
    faults: Faults,
    sessions: Mutex<HashMap<String, WahaSession>>,
    webhooks: WebhookPoster,
    /// Serve only the session `default`, as WAHA Core did before 2026.6.1.
    core_only: AtomicBool,
}

impl Shared {
    fn sessions(&self) -> MutexGuard<'_, HashMap<String, WahaSession>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Refuses a session name the edition does not serve.
    fn serves(&self, name: &str) -> Result<(), Refusal> {
        if !self.core_only.load(Ordering::Relaxed) || name == "default" {
            return Ok(());
        }
        let encoded = STANDARD.encode(name);
        Err(Refusal::unprocessable(format!(
            "WAHA Core support only 'default' session. You tried to access '{name}' session \
             (base64: {encoded}). If you want to run more then one WhatsApp account - please \
             get WAHA PLUS version. Check this out: https://waha.devlike.pro/"
        )))
    }
}

impl WahaSimulator {
    /// Serves a server whose `WAHA_API_KEY` is `api_key`, on an ephemeral localhost port.
    pub async fn start(api_key: &str) -> WahaSimulator {
        Self::serve(super::local_listener().await, api_key).await
    }

    /// Serves it on `listener`, in a background task.
    pub async fn serve(listener: TcpListener, api_key: &str) -> WahaSimulator {
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared {
            api_key: api_key.to_string(),
            faults: Faults::default(),
            sessions: Mutex::default(),
            webhooks: WebhookPoster::new(),
            core_only: AtomicBool::new(false),
        });
        let app = Router::new()
            .route("/api/sessions", get(sessions::list).post(sessions::create))
            .route(
                "/api/sessions/{session}",
                get(sessions::get)
                    .put(sessions::update)
                    .delete(sessions::delete),
            )
            .route("/api/sessions/{session}/me", get(sessions::me))
            .route("/api/sessions/{session}/start", post(sessions::start))
            .route("/api/sessions/{session}/stop", post(sessions::stop))
            .route("/api/sessions/{session}/restart", post(sessions::restart))
            .route("/api/sessions/{session}/logout", post(sessions::logout))
            .route("/api/{session}/auth/qr", get(auth::qr))
            .route("/api/{session}/auth/request-code", post(auth::request_code))
            .route("/api/sendText", post(messages::send_text))
            .route("/api/server/version", get(version))
            .route_layer(from_fn_with_state(shared.clone(), api_key_guard))
            .route("/ping", get(ping))
            .fallback(not_found)
            .layer(from_fn_with_state(shared.clone(), faults))
            .with_state(shared.clone());
        WahaSimulator {
            shared,
            addr,
            _server: Arc::new(ServerTask::serve(listener, app)),
        }
    }

    /// `http://127.0.0.1:<port>`; WAHA's routes start with `/api`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `n` requests answer `status` with WAHA's error body for it.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.shared.faults.fail_next(n, status);
    }

    /// The next `n` requests wait `delay` before they are answered.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        self.shared.faults.delay_next(n, delay);
    }

    /// From now on only the session `default` is served; any other name answers 422.
    pub fn core_only(&self) {
        self.shared.core_only.store(true, Ordering::Relaxed);
    }

    /// The phone scans the QR (or types the pairing code) of `session` as `phone`: the
    /// session becomes WORKING as `<phone>@c.us`. Panics unless it shows a QR.
    pub fn scan(&self, session: &str, phone: &str) {
        let mut sessions = self.shared.sessions();
        let found = sessions
            .get_mut(session)
            .unwrap_or_else(|| panic!("waha simulator: no session {session}"));
        if let Err(why) = lifecycle::scanned(&self.shared, found, phone) {
            panic!("waha simulator: {why} ({session})");
        }
    }

    /// The phone logs a WORKING session out (removes the linked device): it goes FAILED.
    pub fn drop_session(&self, session: &str) {
        if let Some(found) = self.shared.sessions().get_mut(session) {
            lifecycle::logged_out_by_phone(&self.shared, found);
        }
    }

    /// The QR on show expires and the next is shown; after the sixth the session fails.
    /// Does nothing to a session that shows no QR.
    pub fn rotate_qr(&self, session: &str) {
        if let Some(found) = self.shared.sessions().get_mut(session) {
            lifecycle::next_qr(&self.shared, found);
        }
    }

    /// Webhook posts answered so far: (event, status, or `None` when the post failed).
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.webhooks.sent()
    }

    pub fn session(&self, name: &str) -> Option<WahaSession> {
        self.shared.sessions().get(name).cloned()
    }
}

/// What `GET /api/server/version` answers and every event carries as `environment`.
fn environment() -> Value {
    json!({"version": VERSION, "engine": "NOWEB", "tier": "CORE", "browser": null})
}

#[derive(serde::Deserialize)]
struct KeyQuery {
    #[serde(rename = "x-api-key")]
    api_key: Option<String>,
}

async fn api_key_guard(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<KeyQuery>,
    request: Request,
    next: Next,
) -> Response {
    let header = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    let key = header.or(query.api_key.as_deref());
    if key != Some(shared.api_key.as_str()) {
        return Refusal::Unauthorized.into_response();
    }
    next.run(request).await
}

async fn faults(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    shared.faults.apply(request, next, refusal::injected).await
}

async fn ping() -> Json<Value> {
    Json(json!({"message": "pong"}))
}

async fn version() -> Json<Value> {
    Json(environment())
}

async fn not_found(request: Request) -> Response {
    let message = format!("Cannot {} {}", request.method(), request.uri().path());
    Refusal::Http(StatusCode::NOT_FOUND, json!(message)).into_response()
}
