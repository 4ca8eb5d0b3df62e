//! An in-memory Asaas (API v3 and its webhooks) for tests and the demo.
//!
//! `AsaasSimulator::start(api_key)` serves it on 127.0.0.1:0; point the hub's Asaas client
//! at `base_url()` (`…/v3`, like `ASAAS_API_URL`). It checks `access_token` and
//! `User-Agent` like Asaas, answers its JSON shapes and `{"errors":[…]}` bodies, counts a
//! request quota in `RateLimit-*` headers, and posts webhooks with the configured
//! `authToken`. Tests inject faults (`fail_next`, `delay_next`, `rate_limit`), drive what
//! happens outside the API (`pay`, `overdue`, `next_cycle`, …), bend delivery
//! (`hold_webhooks`, `resend`, `redeliver_failed`) and wait for it (`settle`).
//! `page_url()` serves an index and invoice pages where a person can pay by PIX.
//!
//! Not modelled: one-off `POST /v3/payments`, installments, card tokenisation, fees,
//! split, retry timers, and customer updates or deletion.

mod control;
mod customers;
mod gate;
mod model;
mod objects;
mod page;
mod payments;
mod pix;
mod routes;
mod state;
mod subscriptions;
mod webhook_api;
mod webhooks;
pub mod wire;

#[cfg(test)]
mod tests;

use std::{
    fmt,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use time::Date;
use tokio::{
    net::TcpListener,
    sync::{mpsc, watch},
};

pub use model::{SimCustomer, SimPayment, SimSubscription, SimWebhook};
pub use state::{Delivery, LoggedRequest};
pub use webhooks::{Release, SentEvent};
pub use wire::{BillingType, Cycle, PaymentStatus, SubscriptionStatus};

use super::ServerTask;
use state::{Gate, Quota, Shared, lock};

/// A handle on a running simulator. Clones share it; the server and its delivery worker
/// stop when the last clone is dropped.
#[derive(Clone)]
pub struct AsaasSimulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _tasks: Arc<[ServerTask; 2]>,
}

impl fmt::Debug for AsaasSimulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsaasSimulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Today in UTC, from the hub's clock.
fn today() -> Date {
    crate::platform::clock::now().date()
}

impl AsaasSimulator {
    /// Serves an empty account, reached with `api_key`, on an ephemeral localhost port.
    pub async fn start(api_key: &str) -> AsaasSimulator {
        AsaasSimulator::serve(super::local_listener().await, api_key).await
    }

    /// Serves an empty account on `listener`, in a background task.
    pub async fn serve(listener: TcpListener, api_key: &str) -> AsaasSimulator {
        crate::platform::install_crypto_provider();
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("webhook HTTP client");
        let (jobs, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            api_key: api_key.to_string(),
            page_url: format!("http://{addr}"),
            account_id: uuid::Uuid::new_v4().to_string(),
            db: Mutex::default(),
            gate: Mutex::new(Gate {
                fault: None,
                delay: None,
                quota: Quota::asaas_default(),
            }),
            requests: Mutex::default(),
            deliveries: Mutex::default(),
            jobs,
            pending: watch::Sender::new(0),
            http,
        });
        let app = routes::router(shared.clone());
        let server = ServerTask::serve(listener, app);
        let worker = ServerTask(tokio::spawn(webhooks::run(shared.clone(), queue)));
        AsaasSimulator {
            shared,
            addr,
            _tasks: Arc::new([server, worker]),
        }
    }

    /// `http://127.0.0.1:<port>/v3`: the API base, as `ASAAS_API_URL` holds it.
    pub fn base_url(&self) -> String {
        format!("{}/v3", self.page_url())
    }

    /// `http://127.0.0.1:<port>`: the index page; invoices are under `/i/{payment id}`.
    pub fn page_url(&self) -> String {
        self.shared.page_url.clone()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next `n` API requests answer `status` (say 500, 502 or 503) with an errors body.
    pub fn fail_next(&self, n: u32, status: u16) {
        lock(&self.shared.gate).fault = (n > 0).then_some((n, status));
    }

    /// The next `n` API requests are carried out, then answered `delay` late: a client
    /// that times out has still caused the change.
    pub fn delay_next(&self, n: u32, delay: Duration) {
        lock(&self.shared.gate).delay = (n > 0).then_some((n, delay));
    }

    /// Allows `limit` authenticated requests per window of `reset_secs` seconds (from now);
    /// then 429 until the window ends. The default is Asaas's 25,000 per 12 hours.
    pub fn rate_limit(&self, limit: u32, reset_secs: u64) {
        lock(&self.shared.gate).quota = Quota::new(limit, Duration::from_secs(reset_secs));
    }

    /// Every `/v3` request received, oldest first, rejected and faulted ones included.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.requests).clone()
    }

    pub fn customers(&self) -> Vec<SimCustomer> {
        self.shared.db().customers.clone()
    }

    /// All subscriptions, deleted ones included.
    pub fn subscriptions(&self) -> Vec<SimSubscription> {
        self.shared.db().subscriptions.clone()
    }

    pub fn subscription(&self, id: &str) -> Option<SimSubscription> {
        self.shared.db().subscription(id).cloned()
    }

    pub fn payment(&self, id: &str) -> Option<SimPayment> {
        self.shared.db().payment(id).cloned()
    }

    /// The subscription's payments in creation order, deleted ones included (see
    /// `deleted`).
    pub fn payments_of(&self, subscription_id: &str) -> Vec<SimPayment> {
        let db = self.shared.db();
        let payments = db.payments.iter();
        payments
            .filter(|p| p.subscription.as_deref() == Some(subscription_id))
            .cloned()
            .collect()
    }
}
