//! Chatwoot integration: a typed client for its Application and Platform APIs, webhook
//! signature checks, and an in-memory simulator that speaks the same wire formats for
//! tests and demos. Wire facts come from shared/chatwoot/FACTS.md (Chatwoot v4.13).

pub mod client;
pub mod connection;
pub mod embed;
pub mod inboxes;
pub mod installations;
pub mod platform_app;
pub mod signature;
pub mod simulator;
pub mod webhooks;

#[cfg(test)]
mod tests;

pub use client::{ChatwootClient, ChatwootError, Credential, PlatformClient};
