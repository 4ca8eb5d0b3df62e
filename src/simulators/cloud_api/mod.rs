//! An in-memory Meta WhatsApp Cloud API (the Graph API's phone-number node and its
//! `messages` edge, and the webhooks Meta posts) for tests and the demo.
//!
//! `CloudApiSimulator::start(access_token, app_secret)` serves it on 127.0.0.1:0 under a
//! version segment (`/v22.0`, any `v{N}.0` accepted) like `https://graph.facebook.com`.
//! Every call carries `Authorization: Bearer <token>`; errors are Graph's
//! `{"error": {message, type, code, error_subcode?, error_data?, fbtrace_id}}`. A number
//! gets webhooks only at its override callback, which is stored only after Meta's
//! verification handshake passed; each post is signed `X-Hub-Signature-256` over its raw
//! bytes. Tests add numbers, change their status, revoke the token, inject faults and play
//! the contacts (`deliver_message`, `deliver_status`).

mod gate;
mod graph_error;
mod messages;
mod number;
mod verification;
mod webhooks;

#[cfg(test)]
mod tests;

pub use number::{SentText, SimPhoneNumber};

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
    Router,
    extract::{Request, State},
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{get, post},
};

pub use super::Sent;
use super::{ServerTask, faults::Faults, webhooks::WebhookPoster};
use graph_error::GraphError;

/// A handle on a running simulator; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct CloudApiSimulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: Arc<ServerTask>,
}

struct Shared {
    access_token: String,
    /// Keys the webhook signatures.
    app_secret: String,
    /// Set by `revoke_token`: the token no longer opens anything.
    revoked: AtomicBool,
    /// The WhatsApp Business Account all numbers belong to (`entry[].id` of webhooks).
    waba_id: String,
    faults: Faults,
    numbers: Mutex<HashMap<String, SimPhoneNumber>>,
    /// Sends the webhooks and the verification requests, logged as "messages", "statuses"
    /// or "verification".
    webhooks: WebhookPoster,
}

impl Shared {
    fn numbers(&self) -> MutexGuard<'_, HashMap<String, SimPhoneNumber>> {
        self.numbers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CloudApiSimulator {
    /// Serves a Graph API that accepts `access_token` and signs webhooks with `app_secret`,
    /// on an ephemeral localhost port.
    pub async fn start(access_token: &str, app_secret: &str) -> CloudApiSimulator {
        let listener = super::local_listener().await;
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared {
            access_token: access_token.to_string(),
            app_secret: app_secret.to_string(),
            revoked: AtomicBool::new(false),
            waba_id: format!("1022{:011}", rand::random_range(0..100_000_000_000u64)),
            faults: Faults::default(),
            numbers: Mutex::default(),
            webhooks: WebhookPoster::new(),
        });
        let app = Router::new()
            .route("/{version}/{node}", get(number::read).post(number::update))
            .route("/{version}/{node}/messages", post(messages::send))
            .fallback(unknown_path)
            .layer(from_fn_with_state(shared.clone(), gate::gate))
            .layer(from_fn_with_state(shared.clone(), faults))
            .with_state(shared.clone());
        CloudApiSimulator {
            shared,
            addr,
            _server: Arc::new(ServerTask::serve(listener, app)),
        }
    }

    /// `http://127.0.0.1:<port>/v22.0`, standing for `https://graph.facebook.com/v22.0`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v22.0", self.addr)
    }

    /// A number registered on the account: status `CONNECTED`, quality `GREEN`, no
    /// override callback yet.
    pub fn add_phone_number(&self, phone_number_id: &str, display_phone_number: &str) {
        let number = SimPhoneNumber::new(phone_number_id, display_phone_number);
        self.shared
            .numbers()
            .insert(phone_number_id.to_string(), number);
    }

    /// Meta changes a number's `status` (`FLAGGED`, `BANNED`, `DISCONNECTED`, …) and
    /// `quality_rating` (`GREEN`, `YELLOW`, `RED`).
    pub fn set_phone_status(&self, phone_number_id: &str, status: &str, quality: &str) {
        let mut numbers = self.shared.numbers();
        let number = known(&mut numbers, phone_number_id);
        number.status = status.to_string();
        number.quality_rating = quality.to_string();
    }

    /// The token is revoked (or expired): every call now answers the code 190 error.
    pub fn revoke_token(&self) {
        self.shared.revoked.store(true, Ordering::Relaxed);
    }

    /// The next `n` requests answer `status` with a Graph error body.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.shared.faults.fail_next(n, status);
    }

    /// The next `n` requests wait `delay` before they are answered.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        self.shared.faults.delay_next(n, delay);
    }

    /// Contact `from` writes `text` to the number: a signed `messages` webhook to its
    /// callback.
    pub fn deliver_message(&self, phone_number_id: &str, from: &str, text: &str) {
        let mut numbers = self.shared.numbers();
        let number = known(&mut numbers, phone_number_id);
        let payload = webhooks::message(&self.shared, number, from, text);
        webhooks::post(&self.shared, number, "messages", &payload);
    }

    /// WhatsApp reports `status` (`sent`, `delivered`, `read`, `failed`) of a text the
    /// number sent: a signed `statuses` webhook to its callback.
    pub fn deliver_status(&self, phone_number_id: &str, message_id: &str, status: &str) {
        let mut numbers = self.shared.numbers();
        let number = known(&mut numbers, phone_number_id);
        let Some(recipient) = number
            .sent_texts
            .iter()
            .find(|text| text.id == message_id)
            .map(|text| text.wa_id.clone())
        else {
            panic!("cloud api simulator: {phone_number_id} sent no message {message_id}");
        };
        let payload = webhooks::status(&self.shared, number, message_id, &recipient, status);
        webhooks::post(&self.shared, number, "statuses", &payload);
    }

    /// Webhook posts and verification requests made so far: ("messages", "statuses" or
    /// "verification", the receiver's status or `None` when the request failed).
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.webhooks.sent()
    }

    pub fn phone_number(&self, id: &str) -> Option<SimPhoneNumber> {
        self.shared.numbers().get(id).cloned()
    }
}

/// The number a test names; naming one never added is a mistake in the test.
fn known<'a>(numbers: &'a mut HashMap<String, SimPhoneNumber>, id: &str) -> &'a mut SimPhoneNumber {
    numbers
        .get_mut(id)
        .unwrap_or_else(|| panic!("cloud api simulator: no phone number {id}"))
}

async fn faults(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let refuse = |status, _: &Request| GraphError::injected(status).into_response();
    shared.faults.apply(request, next, refuse).await
}

async fn unknown_path(request: Request) -> GraphError {
    GraphError::unknown_path(request.uri().path())
}
