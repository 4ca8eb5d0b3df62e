//! An in-memory Evolution API v2 server (tag 2.3.6 behaviour) for tests and the demo.
//!
//! `EvolutionSimulator::start(global_key)` serves it on 127.0.0.1:0. It answers like
//! Evolution: one `apikey` header, `{status, error, response: {message}}` errors, `GET /`
//! as its liveness page, `POST /verify-creds` taking only the global key. Tests inject
//! faults (`fail_next`, `delay_next`) and play the phone (`scan`, `rotate_qr`).

mod chatwoot;
mod events;
mod instances;
mod phone;
mod session;

pub use instances::SimInstance;

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{HeaderMap, StatusCode},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub use super::Sent;
use super::{ServerTask, faults::Faults, webhooks::WebhookPoster};

/// A handle on a running simulator; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct EvolutionSimulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: Arc<ServerTask>,
}

struct Shared {
    global_key: String,
    faults: Faults,
    instances: Mutex<HashMap<String, SimInstance>>,
    /// Posts webhooks (Evolution waits 30 s for an answer).
    webhooks: WebhookPoster,
    base_url: String,
}

impl Shared {
    fn instances(&self) -> MutexGuard<'_, HashMap<String, SimInstance>> {
        self.instances
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Eight characters like `WZYEH1YY`.
fn pairing_code() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric
        .sample_string(&mut rand::rng(), 8)
        .to_uppercase()
}

impl EvolutionSimulator {
    /// Serves a server whose global key (`AUTHENTICATION_API_KEY`) is `global_key`, on an
    /// ephemeral localhost port.
    pub async fn start(global_key: &str) -> EvolutionSimulator {
        Self::serve(super::local_listener().await, global_key).await
    }

    /// Serves it on `listener`, in a background task.
    pub async fn serve(listener: TcpListener, global_key: &str) -> EvolutionSimulator {
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared {
            global_key: global_key.to_string(),
            faults: Faults::default(),
            instances: Mutex::default(),
            webhooks: WebhookPoster::new(),
            base_url: format!("http://{addr}"),
        });
        let app = Router::new()
            .route("/", get(welcome))
            .route("/verify-creds", post(verify_creds))
            .route("/instance/create", post(instances::create))
            .route("/instance/connect/{name}", get(instances::connect))
            .route(
                "/instance/connectionState/{name}",
                get(instances::connection_state),
            )
            .route("/instance/fetchInstances", get(session::fetch_instances))
            .route("/instance/restart/{name}", post(session::restart))
            .route("/settings/set/{name}", post(session::set_settings))
            .route("/message/sendText/{name}", post(session::send_text))
            .route("/chatwoot/set/{name}", post(chatwoot::set))
            .route("/instance/logout/{name}", delete(instances::logout))
            .route("/instance/delete/{name}", delete(instances::delete))
            .route("/manager", get(phone::page))
            .route("/simulator/instances/{name}/scan", post(phone::scan))
            .fallback(not_found)
            .layer(from_fn_with_state(shared.clone(), faults))
            .with_state(shared.clone());
        EvolutionSimulator {
            shared,
            addr,
            _server: Arc::new(ServerTask::serve(listener, app)),
        }
    }

    /// `http://127.0.0.1:<port>`: Evolution's routes have no version prefix.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `n` requests answer `status` with Evolution's error body.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.shared.faults.fail_next(n, status);
    }

    /// The next `n` requests wait `delay` before they are answered.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        self.shared.faults.delay_next(n, delay);
    }

    /// The phone scans the QR (or enters the pairing code): the instance opens.
    pub fn scan(&self, name: &str, phone: &str) {
        if let Err(why) = phone::open_session(&self.shared, name, phone) {
            panic!("evolution simulator: {why}");
        }
    }

    /// Holds instance `name` with its token again, logged out (a server restarted with
    /// its database: what the demo finds after the hub restarts).
    pub fn restore(&self, name: &str, token: &str) {
        let instance = SimInstance {
            name: name.to_string(),
            id: uuid::Uuid::new_v4().to_string(),
            token: token.to_string(),
            state: "close",
            qr_count: 0,
            pairing_code: None,
            owner: None,
            webhook: None,
            settings: Value::Null,
            sent: Vec::new(),
            chatwoot: Value::Null,
        };
        self.shared.instances().insert(name.to_string(), instance);
    }

    /// Baileys shows a new QR (about every 45 s).
    pub fn rotate_qr(&self, name: &str) {
        if let Some(instance) = self.shared.instances().get_mut(name) {
            instance.qr_count += 1;
            let data = serde_json::json!({"qrcode": instance.qr()});
            events::emit(&self.shared, instance, "qrcode.updated", data);
        }
    }

    /// The session dies on the phone's side (logged out there, or banned).
    pub fn drop_session(&self, name: &str) {
        if let Some(instance) = self.shared.instances().get_mut(name) {
            events::closed(&self.shared, instance, false);
        }
    }

    /// Webhook posts answered so far: (event, status, or `None` when the post failed).
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.webhooks.sent()
    }

    pub fn instance(&self, name: &str) -> Option<SimInstance> {
        self.shared.instances().get(name).cloned()
    }
}

/// Evolution's error envelope.
pub(super) fn error(status: StatusCode, message: Value) -> Response {
    let name = status.canonical_reason().unwrap_or("Error");
    let body = json!({"status": status.as_u16(), "error": name, "response": {"message": message}});
    (status, Json(body)).into_response()
}

async fn faults(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let refuse = |status, _: &Request| error(status, json!(["Simulated failure"]));
    shared.faults.apply(request, next, refuse).await
}

async fn welcome() -> Json<Value> {
    Json(json!({
        "status": 200,
        "message": "Welcome to the Evolution API, it is working!",
        "version": "2.3.6",
        "clientName": "evolution_simulator",
        "manager": "http://localhost/manager",
        "documentation": "https://doc.evolution-api.com",
    }))
}

async fn verify_creds(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let key = headers.get("apikey").and_then(|v| v.to_str().ok());
    if key != Some(shared.global_key.as_str()) {
        return error(StatusCode::UNAUTHORIZED, json!("Unauthorized"));
    }
    Json(json!({
        "status": 200,
        "message": "Credentials are valid",
        "facebookAppId": null,
        "facebookConfigId": null,
        "facebookUserToken": null,
    }))
    .into_response()
}

async fn not_found(request: Request) -> Response {
    let line = format!("Cannot {} {}", request.method(), request.uri().path());
    error(StatusCode::NOT_FOUND, json!([line]))
}
