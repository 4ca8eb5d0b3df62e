//! The client against the simulator over real HTTP on localhost.

mod application;
mod conversations;
mod integrations;
mod platform;
mod retry;
mod shape;
mod webhooks;

use std::sync::Arc;

use secrecy::SecretString;

use crate::{
    chatwoot::client::{ChatwootClient, Credential},
    simulators::chatwoot::{SimUser, Simulator, wire::Role},
};

/// One account with an admin, an agent, a WhatsApp inbox, a team, two labels and one
/// conversation; plus an outsider who belongs to another account.
pub(super) struct Fixture {
    pub sim: Simulator,
    pub client: ChatwootClient,
    pub account: i64,
    pub other_account: i64,
    pub admin: SimUser,
    pub agent: SimUser,
    pub outsider: SimUser,
    pub inbox: i64,
    pub team: i64,
    pub conversation: i64,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let sim = Simulator::start().await;
        let account = sim.add_account("Acme Store");
        let other_account = sim.add_account("Elsewhere");
        let admin = sim.add_user("Marta Silva", "marta@acme.test");
        let agent = sim.add_user("Rui Costa", "rui@acme.test");
        let outsider = sim.add_user("Olga Out", "olga@elsewhere.test");
        sim.add_member(account, admin.id, Role::Administrator);
        sim.add_member(account, agent.id, Role::Agent);
        sim.add_member(other_account, outsider.id, Role::Administrator);
        let inbox = sim.add_inbox(
            account,
            "WhatsApp",
            "Channel::Whatsapp",
            Some("+5511999990000"),
        );
        let team = sim.add_team(account, "support", &[agent.id]);
        sim.add_label(account, "VIP");
        sim.add_label(account, "billing");
        let conversation =
            sim.add_conversation(account, inbox, "Joana Reis", Some("+351912345678"));
        sim.add_incoming_message(account, conversation, "Where is my order?");
        let client = ChatwootClient::new(&sim.base_url()).expect("client");
        Fixture {
            sim,
            client,
            account,
            other_account,
            admin,
            agent,
            outsider,
            inbox,
            team,
            conversation,
        }
    }

    pub fn admin_cred(&self) -> Credential {
        Credential::api_token(self.admin.api_token.clone())
    }

    pub fn agent_cred(&self) -> Credential {
        Credential::api_token(self.agent.api_token.clone())
    }

    pub fn outsider_cred(&self) -> Credential {
        Credential::api_token(self.outsider.api_token.clone())
    }
}

pub(super) fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_string())
}

/// Collects webhook deliveries: (headers, raw body) per request.
pub(super) struct Receiver {
    pub url: String,
    rx: tokio::sync::mpsc::UnboundedReceiver<(axum::http::HeaderMap, Vec<u8>)>,
    _server: Arc<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: Bytes| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((headers, body.to_vec()));
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            url,
            rx,
            _server: Arc::new(server),
        }
    }

    /// The next delivery, or a panic after 5 s.
    pub async fn next(&mut self) -> (axum::http::HeaderMap, Vec<u8>) {
        tokio::time::timeout(std::time::Duration::from_secs(5), self.rx.recv())
            .await
            .expect("a webhook within 5 s")
            .expect("receiver open")
    }

    /// Deliveries until one carries `event`; earlier ones are dropped.
    pub async fn next_event(
        &mut self,
        event: &str,
    ) -> (axum::http::HeaderMap, Vec<u8>, serde_json::Value) {
        loop {
            let (headers, body) = self.next().await;
            let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON body");
            if json["event"] == event {
                return (headers, body, json);
            }
        }
    }

    /// Nothing arrives within `ms` milliseconds.
    pub async fn assert_quiet(&mut self, ms: u64) {
        let got = tokio::time::timeout(std::time::Duration::from_millis(ms), self.rx.recv()).await;
        assert!(got.is_err(), "unexpected delivery: {got:?}");
    }
}
