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
    http::StatusCode,
    middleware::{Next, from_fn_with_state},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tokio::net::TcpListener;

use super::ServerTask;
use graph_error::GraphError;

/// A post made: its `messages`, `statuses` or `verification`, and the receiver's status (`None` when the request failed).
pub type Sent = (String, Option<u16>);

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
    faults: Mutex<Faults>,
    numbers: Mutex<HashMap<String, SimPhoneNumber>>,
    /// Posts webhooks and verification requests (waits 30 s for an answer).
    http: reqwest::Client,
    /// Posts made: ("messages", "statuses" or "verification", the receiver's status or
    /// `None` when the request failed).
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl Shared {
    fn numbers(&self) -> MutexGuard<'_, HashMap<String, SimPhoneNumber>> {
        self.numbers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn log(&self, kind: &str, status: Option<u16>) {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((kind.to_string(), status));
    }
}

#[derive(Default)]
struct Faults {
    /// The next requests answer this status, as many times as given.
    failing: Option<(u32, StatusCode)>,
    /// The next requests wait this long first, as many times as given.
    slow: Option<(u32, Duration)>,
}

impl CloudApiSimulator {
    /// Serves a Graph API that accepts `access_token` and signs webhooks with `app_secret`,
    /// on an ephemeral localhost port.
    pub async fn start(access_token: &str, app_secret: &str) -> CloudApiSimulator {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared {
            access_token: access_token.to_string(),
            app_secret: app_secret.to_string(),
            revoked: AtomicBool::new(false),
            waba_id: format!("1022{:011}", rand::random_range(0..100_000_000_000u64)),
            faults: Mutex::default(),
            numbers: Mutex::default(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("the webhook HTTP client"),
            sent: Arc::default(),
        });
        let app = Router::new()
            .route("/{version}/{node}", get(number::read).post(number::update))
            .route("/{version}/{node}/messages", post(messages::send))
            .fallback(unknown_path)
            .layer(from_fn_with_state(shared.clone(), gate::gate))
            .layer(from_fn_with_state(shared.clone(), faults))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CloudApiSimulator {
            shared,
            addr,
            _server: Arc::new(ServerTask(server)),
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
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.faults().failing = (n > 0).then_some((n, status));
    }

    /// The next `n` requests wait `delay` before they are answered.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        self.faults().slow = (n > 0).then_some((n, delay));
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
        self.shared
            .sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn phone_number(&self, id: &str) -> Option<SimPhoneNumber> {
        self.shared.numbers().get(id).cloned()
    }

    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The number a test names; naming one never added is a mistake in the test.
fn known<'a>(numbers: &'a mut HashMap<String, SimPhoneNumber>, id: &str) -> &'a mut SimPhoneNumber {
    numbers
        .get_mut(id)
        .unwrap_or_else(|| panic!("cloud api simulator: no phone number {id}"))
}

async fn faults(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (failing, slow) = {
        let mut faults = shared.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let failing = take(&mut faults.failing);
        (failing, take(&mut faults.slow))
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    match failing {
        Some(status) => GraphError::injected(status).into_response(),
        None => next.run(request).await,
    }
}

/// One use of a counted fault.
fn take<T: Copy>(slot: &mut Option<(u32, T)>) -> Option<T> {
    let (left, value) = (*slot)?;
    *slot = (left > 1).then_some((left - 1, value));
    Some(value)
}

async fn unknown_path(request: Request) -> GraphError {
    GraphError::unknown_path(request.uri().path())
}
