//! Stand-ins for the external services the hub talks to, for tests, benchmarks and the
//! demo. Each speaks only its service's wire format (paths, headers, bodies, status codes,
//! signed webhooks), so a reader of a domain sees the integration and not its stand-in.

pub mod asaas;
pub mod chatwoot;
pub mod cloud_api;
pub mod evolution;
mod faults;
mod qr_image;
pub mod s3;
#[cfg(test)]
mod testing;
pub mod uazapi;
pub mod waha;
mod webhooks;
pub mod zapi;

use tokio::net::TcpListener;

pub use webhooks::Sent;

/// A simulator's task (its server, or a worker of its own), stopped when the last handle on
/// the simulator goes, so a test's simulator does not outlive the test.
pub(crate) struct ServerTask(pub(crate) tokio::task::JoinHandle<()>);

impl ServerTask {
    /// Serves `app` on `listener` in a task of its own.
    pub(crate) fn serve(listener: TcpListener, app: axum::Router) -> ServerTask {
        // axum's `serve` never returns (it retries failed accepts itself): nothing to report.
        ServerTask(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }))
    }
}

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An ephemeral port on localhost: where `start` serves a simulator, so tests never clash.
pub(crate) async fn local_listener() -> TcpListener {
    TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind 127.0.0.1:0")
}

/// `len` characters drawn from `alphabet` (ASCII), for ids and codes in a provider's format.
pub(crate) fn random_text(alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rand::random_range(0..alphabet.len())]))
        .collect()
}

/// Now in milliseconds since the Unix epoch, the unit of the providers' event timestamps.
pub(crate) fn now_millis() -> i64 {
    crate::platform::clock::now_micros() / 1_000
}

/// A pairing code as WhatsApp shows it: `XXXX-XXXX` in its alphabet without look-alikes.
pub(crate) fn pairing_code() -> String {
    let code = random_text(b"123456789ABCDEFGHJKLMNPQRSTVWXYZ", 8);
    format!("{}-{}", &code[..4], &code[4..])
}

/// The text of a WhatsApp Web QR: `2@<ref>,<noise key>,<identity key>,<secret>`.
pub(crate) fn whatsapp_qr() -> String {
    const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let part = |len| random_text(BASE64, len);
    format!("2@{},{}=,{}=,{}=", part(60), part(43), part(43), part(43))
}
