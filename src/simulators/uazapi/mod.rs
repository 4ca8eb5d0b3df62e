//! An in-memory uazapiGO v2 server for tests and the demo.
//!
//! `UazapiSimulator::start(admin_token)` serves it on 127.0.0.1:0. It answers like
//! uazapiGO: the `admintoken` header on the server-level routes (create and list
//! instances), each instance's own `token` header on everything else, `{"error": "…"}`
//! bodies, and `connection` webhooks posted as plain JSON that carry the instance token.
//! Tests inject faults, cap the connected instances (`set_instance_limit`, answered with
//! 429) and play the phone (`scan`, `rotate_qr`, `drop_session`).

mod admin;
mod connection;
mod events;
mod instance;
mod send;
#[cfg(test)]
mod tests;
mod webhook;

pub use instance::{InstanceStatus, UazapiInstance, WebhookConfig};

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
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
use serde_json::json;
use tokio::net::TcpListener;

use super::{Sent, ServerTask, faults::Faults, webhooks::WebhookPoster};

/// A handle on a running simulator; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct UazapiSimulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: Arc<ServerTask>,
}

struct Shared {
    admin_token: String,
    faults: Faults,
    /// In creation order; names need not be unique, tokens are.
    instances: Mutex<Vec<UazapiInstance>>,
    webhooks: WebhookPoster,
    /// `BaseUrl` in webhook bodies: the server's own address.
    base_url: String,
    /// How many instances may be connected at once.
    instance_limit: AtomicUsize,
}

impl Shared {
    fn instances(&self) -> MutexGuard<'_, Vec<UazapiInstance>> {
        self.instances
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The server-level routes' guard: the `admintoken` header.
    fn admin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let token = headers.get("admintoken").and_then(|v| v.to_str().ok());
        if token == Some(self.admin_token.as_str()) {
            Ok(())
        } else {
            Err(Refusal(StatusCode::FORBIDDEN, "Invalid AdminToken Header"))
        }
    }
}

/// The instance whose credential the `token` header carries.
fn authorised<'a>(
    instances: &'a mut [UazapiInstance],
    headers: &HeaderMap,
) -> Result<&'a mut UazapiInstance, Refusal> {
    let Some(token) = headers.get("token").and_then(|v| v.to_str().ok()) else {
        return Err(Refusal(StatusCode::UNAUTHORIZED, "missing token"));
    };
    instances
        .iter_mut()
        .find(|instance| instance.token == token)
        .ok_or(Refusal(StatusCode::UNAUTHORIZED, "Invalid token"))
}

/// uazapiGO's error answer: a status and `{"error": "…"}`.
struct Refusal(StatusCode, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

impl UazapiSimulator {
    /// Serves a server whose admin token is `admin_token`, on an ephemeral localhost port.
    pub async fn start(admin_token: &str) -> UazapiSimulator {
        Self::serve(super::local_listener().await, admin_token).await
    }

    /// Serves it on `listener`, in a background task.
    pub async fn serve(listener: TcpListener, admin_token: &str) -> UazapiSimulator {
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared {
            admin_token: admin_token.to_string(),
            faults: Faults::default(),
            instances: Mutex::default(),
            webhooks: WebhookPoster::new(),
            base_url: format!("http://{addr}"),
            instance_limit: AtomicUsize::new(usize::MAX),
        });
        let app = Router::new()
            .route("/status", get(liveness))
            .route("/instance/init", post(admin::init))
            .route("/instance/all", get(admin::all))
            .route("/instance/connect", post(connection::connect))
            .route("/instance/status", get(connection::status))
            .route("/instance/disconnect", post(connection::disconnect))
            .route("/instance", delete(connection::delete))
            .route("/webhook", get(webhook::list).post(webhook::set))
            .route("/send/text", post(send::text))
            .fallback(not_found)
            .layer(from_fn_with_state(shared.clone(), faults))
            .with_state(shared.clone());
        UazapiSimulator {
            shared,
            addr,
            _server: Arc::new(ServerTask::serve(listener, app)),
        }
    }

    /// `http://127.0.0.1:<port>`: uazapiGO's routes have no prefix.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next `n` requests answer `status` with `{"error": …}`.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.shared.faults.fail_next(n, status);
    }

    /// The next `n` requests wait `delay` before they are answered.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        self.shared.faults.delay_next(n, delay);
    }

    /// At most `n` instances connected at once: a connect beyond answers 429.
    pub fn set_instance_limit(&self, n: usize) {
        self.shared.instance_limit.store(n, Ordering::Relaxed);
    }

    /// The phone scans the QR (or types the pair code) of instance `name` as `phone`: it
    /// connects with `phone` as its owner. Panics unless the instance is connecting.
    pub fn scan(&self, name: &str, phone: &str) {
        let mut instances = self.shared.instances();
        let instance = named(&mut instances, name)
            .unwrap_or_else(|| panic!("uazapi simulator: no instance {name}"));
        if instance.status != InstanceStatus::Connecting {
            panic!("uazapi simulator: instance {name} shows no QR");
        }
        instance.status = InstanceStatus::Connected;
        instance.owner = phone.to_string();
        instance.profile_name = "Demo phone".to_string();
        instance.qr = None;
        instance.paircode = None;
        events::connection(&self.shared, instance, false);
    }

    /// The phone logs a connected instance out (removes the linked device).
    pub fn drop_session(&self, name: &str) {
        let mut instances = self.shared.instances();
        let Some(instance) = named(&mut instances, name) else {
            return;
        };
        if instance.status == InstanceStatus::Connected {
            connection::disconnected(instance, "401: logged out from another device");
            events::connection(&self.shared, instance, true);
        }
    }

    /// The QR on show expires and the next is shown. Does nothing unless connecting.
    pub fn rotate_qr(&self, name: &str) {
        let mut instances = self.shared.instances();
        let Some(instance) = named(&mut instances, name) else {
            return;
        };
        if instance.status == InstanceStatus::Connecting {
            instance.show_qr();
            events::connection(&self.shared, instance, false);
        }
    }

    /// Webhook posts answered so far: (event, status, or `None` when the post failed).
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.webhooks.sent()
    }

    /// The first instance created with this name.
    pub fn instance(&self, name: &str) -> Option<UazapiInstance> {
        self.shared
            .instances()
            .iter()
            .find(|instance| instance.name == name)
            .cloned()
    }
}

/// The first instance created with this name.
fn named<'a>(instances: &'a mut [UazapiInstance], name: &str) -> Option<&'a mut UazapiInstance> {
    instances.iter_mut().find(|instance| instance.name == name)
}

async fn faults(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let refuse = |status, _: &Request| Refusal(status, "Simulated failure").into_response();
    shared.faults.apply(request, next, refuse).await
}

/// The simulator's own liveness route: uazapiGO's spec lists none that needs no token
/// (a real server is best checked with `GET /instance/all` and the admin token).
async fn liveness() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Go's plain-text answer to a route it does not have.
async fn not_found() -> (StatusCode, &'static str) {
    (StatusCode::NOT_FOUND, "404 page not found")
}
