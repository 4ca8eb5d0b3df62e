//! Stand-ins for the external services the hub talks to, for tests, benchmarks and the
//! demo. Each speaks only its service's wire format (paths, headers, bodies, status codes,
//! signed webhooks), so a reader of a domain sees the integration and not its stand-in.

pub mod asaas;
pub mod chatwoot;
pub mod cloud_api;
pub mod evolution;
mod qr_image;
pub mod zapi;

/// A simulator's server task, stopped when the last handle on the simulator goes.
pub(crate) struct ServerTask(pub(crate) tokio::task::JoinHandle<()>);

impl Drop for ServerTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}
