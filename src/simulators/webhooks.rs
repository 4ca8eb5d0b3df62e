//! Webhook posts of the WhatsApp-provider simulators: each in a task of its own, so a slow
//! receiver holds up nothing (the providers post concurrently too), with a 30 s timeout, and
//! a log of what each receiver answered for tests to read. Meta's verification `GET` goes
//! through here too, so it shares the timeout and the log.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use reqwest::header::CONTENT_TYPE;

/// A webhook request: its event, and the receiver's status (`None` when the request failed).
pub type Sent = (String, Option<u16>);

pub(crate) struct WebhookPoster {
    http: reqwest::Client,
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl WebhookPoster {
    pub(crate) fn new() -> Self {
        WebhookPoster {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("the webhook HTTP client"),
            sent: Arc::default(),
        }
    }

    /// Posts the JSON `body` to `url` with `headers`; the answer is logged under `event`.
    /// The body goes as the bytes given, so a signature computed over them stays valid.
    pub(crate) fn post(
        &self,
        event: &str,
        url: &str,
        body: Vec<u8>,
        headers: Vec<(String, String)>,
    ) {
        let mut request = self
            .http
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let event = event.to_string();
        let log = Arc::clone(&self.sent);
        tokio::spawn(async move {
            let status = request.send().await.ok().map(|r| r.status().as_u16());
            record(&log, event, status);
        });
    }

    /// A `GET` whose answer the simulator itself reads (Meta's verification handshake), so
    /// it is awaited, not spawned; logged under `event` like a post.
    pub(crate) async fn get(&self, event: &str, url: reqwest::Url) -> Option<reqwest::Response> {
        let answer = self.http.get(url).send().await.ok();
        let status = answer.as_ref().map(|a| a.status().as_u16());
        record(&self.sent, event.to_string(), status);
        answer
    }

    pub(crate) fn sent(&self) -> Vec<Sent> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn record(log: &Mutex<Vec<Sent>>, event: String, status: Option<u16>) {
    log.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((event, status));
}
