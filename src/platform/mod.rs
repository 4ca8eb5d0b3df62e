//! What every domain stands on: configuration, storage, HTTP plumbing, errors,
//! observability and the server itself.

pub mod client;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod error;
pub mod headers;
mod health;
pub mod json;
pub mod kept;
pub mod list_cache;
pub mod metrics;
mod openapi;
pub mod pagination;
pub mod params;
pub mod rate_limit;
pub mod request_id;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod text;
pub mod time_input;
pub mod validate;
pub mod web;

pub use openapi::ApiDoc;

/// ring is the only TLS crypto provider compiled in; every outgoing HTTPS client uses it.
/// Installing twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
