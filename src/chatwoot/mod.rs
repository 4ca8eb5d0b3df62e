//! Chatwoot integration: a typed client for its Application and Platform APIs, webhook
//! signature checks, installations, the connection of an account, its inbox mirror and
//! the webhook intake. Wire facts come from shared/chatwoot/FACTS.md (Chatwoot v4.13); its
//! stand-in for tests and demos is `simulators::chatwoot`.

pub mod access;
pub mod client;
pub mod connection;
pub mod embed;
pub mod inboxes;
pub mod installations;
pub mod platform_app;
pub mod signature;
pub mod webhooks;

#[cfg(test)]
mod tests;

pub use client::{ChatwootClient, ChatwootError, Credential, PlatformClient};
