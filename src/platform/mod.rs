//! What every domain stands on: storage, HTTP plumbing, errors, time, text, secrets and
//! observability. It imports no domain (a test in `app` checks); what assembles the
//! domains into a server is `app`.

pub mod client;
pub mod clock;
pub mod crypto;
pub mod db;
pub mod error;
pub mod json;
pub mod kept;
pub mod metrics;
pub mod pagination;
pub mod params;
pub mod request_id;
pub mod telemetry;
pub mod text;
pub mod time_input;
pub mod validate;

/// ring is the only TLS crypto provider compiled in; every outgoing HTTPS client uses it.
/// Installing twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
