//! An in-memory Chatwoot that speaks the real wire formats, for tests and demos.
//!
//! `Simulator::start()` serves it on 127.0.0.1:0. Seed it from Rust (`add_account`,
//! `add_user`, …), point a `ChatwootClient` at `base_url()`, and inspect what happened
//! (`conversation`, `webhooks`, `deliveries`). It authenticates like Chatwoot (user
//! access tokens, devise sessions, platform app tokens), answers Chatwoot's status codes
//! and error bodies, and emits signed webhooks for changes made through its API.
//!
//! Not modelled: agent bots, contacts API, attachments, message updates, pagination beyond
//! 25 items.

mod api_account;
mod api_conversation_state;
mod api_conversations;
mod api_inboxes;
mod api_integrations;
mod api_platform;
mod auth;
mod dashboard;
mod delivery;
pub mod demo;
mod model;
mod payloads;
mod render;
mod routes;
mod seed;
mod state;
pub mod wire;

use std::{
    fmt,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::net::TcpListener;

use super::ServerTask;

pub use demo::{DemoInstallation, run_standalone};
pub use model::{
    Sender, SimAccount, SimContact, SimConversation, SimDashboardApp, SimInbox, SimLabel,
    SimMember, SimMessage, SimTeam, SimUser, SimWebhook,
};
pub use state::Delivery;

use state::{Fault, Shared, lock};

/// A handle on a running simulator. Clones share it; the server stops when the last
/// clone is dropped.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: Arc<ServerTask>,
}

impl fmt::Debug for Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Simulator {
    /// Serves an empty installation on an ephemeral localhost port.
    pub async fn start() -> Simulator {
        Simulator::serve(super::local_listener().await).await
    }

    /// Serves an empty installation on `listener`, in a background task.
    pub async fn serve(listener: TcpListener) -> Simulator {
        crate::platform::install_crypto_provider();
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("webhook HTTP client");
        let shared = Arc::new(Shared {
            db: Mutex::default(),
            fault: Mutex::new(None),
            requests: AtomicU64::new(0),
            unsigned: AtomicBool::new(false),
            deliveries: Mutex::default(),
            dashboard_scripts: Mutex::default(),
            http,
            runtime: tokio::runtime::Handle::current(),
        });
        let app = routes::router(shared.clone());
        Simulator {
            shared,
            addr,
            _server: Arc::new(ServerTask::serve(listener, app)),
        }
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next `n` requests (any endpoint) answer `status`; 429s carry `Retry-After: 1`.
    pub fn fail_next(&self, n: u32, status: u16) {
        *lock(&self.shared.fault) = (n > 0).then_some(Fault {
            remaining: n,
            status,
        });
    }

    /// Requests received so far, injected failures included.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// `true` simulates Chatwoot before 4.11.2: the webhooks API shows no `secret` and
    /// deliveries go out without the timestamp and signature headers.
    pub fn unsigned(&self, unsigned: bool) {
        self.shared.unsigned.store(unsigned, Ordering::Relaxed);
    }

    /// Finished webhook deliveries, in completion order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.shared.deliveries).clone()
    }

    /// Waits (up to `timeout`) until at least `n` deliveries finished, and returns them.
    pub async fn wait_for_deliveries(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let done = self.deliveries();
            if done.len() >= n || tokio::time::Instant::now() >= deadline {
                return done;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn webhooks(&self, account_id: i64) -> Vec<SimWebhook> {
        let db = self.shared.db();
        let hooks = db.webhooks.values();
        hooks
            .filter(|w| w.account_id == account_id)
            .cloned()
            .collect()
    }

    pub fn dashboard_apps(&self, account_id: i64) -> Vec<SimDashboardApp> {
        let db = self.shared.db();
        let apps = db.dashboard_apps.values();
        apps.filter(|a| a.account_id == account_id)
            .cloned()
            .collect()
    }

    pub fn conversation(&self, account_id: i64, display_id: i64) -> Option<SimConversation> {
        self.shared
            .db()
            .conversation(account_id, display_id)
            .cloned()
    }

    pub fn account(&self, account_id: i64) -> Option<SimAccount> {
        self.shared.db().accounts.get(&account_id).cloned()
    }

    pub fn members(&self, account_id: i64) -> Vec<SimMember> {
        self.shared.db().members_of(account_id).copied().collect()
    }
}
