//! Instance tokens: how the dashboard script, running in Chatwoot's page, gets the person
//! at the screen into the hub's framed UI without any Chatwoot credential leaving
//! Chatwoot's page for anywhere but this endpoint.
//!
//! The script presents the Chatwoot session (devise headers) and the account; the hub
//! checks the request's `Origin` against the installations, the session against that
//! installation's Chatwoot (failing closed), and answers an opaque token that lives
//! minutes, names one account, one user and the origin, and can be exchanged for a session
//! once. Only its hash is stored.

mod routes;
pub mod store;

pub use routes::{is_hub_page, is_usable, request_origin, router};

/// What an instance token allows: reading the platform-app configuration, and one
/// exchange for a session. Nothing else accepts it.
pub const SCOPES: [&str; 2] = ["platform-app:config", "auth:exchange"];
