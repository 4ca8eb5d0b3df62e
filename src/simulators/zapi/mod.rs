//! An in-memory Z-API (the hosted WhatsApp API at `https://api.z-api.io`) for tests and
//! the demo.
//!
//! `ZapiSimulator::start(client_token)` serves it on 127.0.0.1:0. Like Z-API, every call
//! names its instance and the instance's token in the path
//! (`/instances/{id}/token/{token}/…`) and carries the account's security token in the
//! `Client-Token` header; errors are `{"error": "…"}`. Instances exist only once
//! `add_instance` made them (Z-API makes them in its panel, not through this API). Tests
//! inject faults (`fail_next`, `delay_next`) and play the phone (`scan`, `drop_session`,
//! `rotate_qr`, `deliver_message`); callbacks go, one URL per type, unsigned.

mod callbacks;
mod gate;
mod instance;
mod send;
mod session;
mod webhooks;

#[cfg(test)]
mod tests;

pub use instance::{SentText, Webhooks, ZapiInstance};

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
    extract::{Request, State},
    http::StatusCode,
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde_json::json;

pub use super::Sent;
use super::{ServerTask, faults::Faults, webhooks::WebhookPoster};

/// Every instance route sits under this: the instance id and its token, as in Z-API.
const INSTANCE: &str = "/instances/{instance_id}/token/{instance_token}";

/// A handle on a running simulator; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct ZapiSimulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: Arc<ServerTask>,
}

struct Shared {
    /// The account's security token, which every call must carry as `Client-Token`.
    client_token: String,
    /// Whether webhook URLs must be HTTPS, as the real service demands.
    require_https: AtomicBool,
    faults: Faults,
    instances: Mutex<HashMap<String, ZapiInstance>>,
    /// Posts the callbacks, logged under their `type`.
    webhooks: WebhookPoster,
}

impl Shared {
    fn instances(&self) -> MutexGuard<'_, HashMap<String, ZapiInstance>> {
        self.instances
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl ZapiSimulator {
    /// Serves an account whose security token is `client_token`, on an ephemeral
    /// localhost port.
    pub async fn start(client_token: &str) -> ZapiSimulator {
        let listener = super::local_listener().await;
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared {
            client_token: client_token.to_string(),
            require_https: AtomicBool::new(false),
            faults: Faults::default(),
            instances: Mutex::default(),
            webhooks: WebhookPoster::new(),
        });
        let app = router(shared.clone());
        ZapiSimulator {
            shared,
            addr,
            _server: Arc::new(ServerTask::serve(listener, app)),
        }
    }

    /// `http://127.0.0.1:<port>`, standing for `https://api.z-api.io`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An instance made in the Z-API panel: the only way instances come to exist. It starts
    /// disconnected, showing its first QR.
    pub fn add_instance(&self, instance_id: &str, instance_token: &str) {
        let instance = ZapiInstance::new(instance_id, instance_token);
        self.shared
            .instances()
            .insert(instance_id.to_string(), instance);
    }

    /// Whether `PUT update-webhook-*` refuses URLs that are not HTTPS, as Z-API does. Off
    /// by default, so tests can point webhooks at plain-HTTP receivers.
    pub fn require_https(&self, on: bool) {
        self.shared.require_https.store(on, Ordering::Relaxed);
    }

    /// The next `n` requests answer `status` with Z-API's error body.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.shared.faults.fail_next(n, status);
    }

    /// The next `n` requests wait `delay` before they are answered.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        self.shared.faults.delay_next(n, delay);
    }

    /// The phone scans the QR (or types the phone code) as `phone`: the instance connects
    /// and its connected webhook gets a `ConnectedCallback`.
    pub fn scan(&self, instance_id: &str, phone: &str) {
        let mut instances = self.shared.instances();
        let instance = known(&mut instances, instance_id);
        assert!(
            !instance.connected,
            "z-api simulator: {instance_id} is already connected"
        );
        instance.connected = true;
        instance.phone = Some(phone.to_string());
        let url = instance.webhooks.connected.clone();
        webhooks::post(&self.shared, url, callbacks::connected(instance));
    }

    /// The session dies on the phone's side (logged out there, or banned): not connected
    /// any more, a new QR, and a `DisconnectedCallback` to the disconnected webhook.
    pub fn drop_session(&self, instance_id: &str) {
        let mut instances = self.shared.instances();
        let instance = known(&mut instances, instance_id);
        if !instance.connected {
            return;
        }
        instance.sign_out();
        let url = instance.webhooks.disconnected.clone();
        webhooks::post(&self.shared, url, callbacks::disconnected(instance));
    }

    /// WhatsApp shows a new QR (Z-API's changes every 20 s); nothing while connected.
    pub fn rotate_qr(&self, instance_id: &str) {
        let mut instances = self.shared.instances();
        let instance = known(&mut instances, instance_id);
        if !instance.connected {
            instance.qr_count += 1;
        }
    }

    /// A contact `from` writes `text` to the connected instance: a `ReceivedCallback` to
    /// its received webhook.
    pub fn deliver_message(&self, instance_id: &str, from: &str, text: &str) {
        let mut instances = self.shared.instances();
        let instance = known(&mut instances, instance_id);
        assert!(
            instance.connected,
            "z-api simulator: {instance_id} is not connected"
        );
        let url = instance.webhooks.received.clone();
        let message_id = instance::message_id(32);
        let callback = callbacks::received(instance, from, text, false, &message_id);
        webhooks::post(&self.shared, url, callback);
    }

    /// Callback posts made so far: (callback type, the receiver's status or `None` when the
    /// post failed), in the order they were answered.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.webhooks.sent()
    }

    pub fn instance(&self, instance_id: &str) -> Option<ZapiInstance> {
        self.shared.instances().get(instance_id).cloned()
    }
}

/// The instance a test names; naming one never added is a mistake in the test.
fn known<'a>(instances: &'a mut HashMap<String, ZapiInstance>, id: &str) -> &'a mut ZapiInstance {
    instances
        .get_mut(id)
        .unwrap_or_else(|| panic!("z-api simulator: no instance {id}"))
}

fn router(shared: Arc<Shared>) -> Router {
    let instance_routes = Router::new()
        .route(&format!("{INSTANCE}/status"), get(session::status))
        .route(&format!("{INSTANCE}/qr-code"), get(session::qr_code))
        .route(&format!("{INSTANCE}/qr-code/image"), get(session::qr_image))
        .route(
            &format!("{INSTANCE}/phone-code/{{phone}}"),
            get(session::phone_code),
        )
        .route(&format!("{INSTANCE}/restart"), get(session::restart))
        .route(&format!("{INSTANCE}/disconnect"), get(session::disconnect))
        .route(&format!("{INSTANCE}/me"), get(session::me))
        .route(&format!("{INSTANCE}/send-text"), post(send::send_text));
    webhooks::routes(instance_routes)
        .route_layer(from_fn_with_state(shared.clone(), gate::gate))
        .fallback(not_found)
        .layer(from_fn_with_state(shared.clone(), faults))
        .with_state(shared)
}

/// Z-API's error body.
fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

async fn faults(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let refuse = |status: StatusCode, _: &Request| {
        error(status, status.canonical_reason().unwrap_or("Error"))
    };
    shared.faults.apply(request, next, refuse).await
}

/// Z-API's answer to a path it does not serve (a JAX-RS style 404; recalled, unverified).
async fn not_found() -> Response {
    let body =
        json!({"error": "NOT_FOUND", "message": "Unable to find matching target resource method"});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
