//! Whatpro Hub: a modular monolith cut by domain. `platform` holds what every domain
//! stands on and imports none of them; each domain module owns its routes, types and
//! queries; `app` assembles them into the server.

pub mod app;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod chat;
pub mod chatwoot;
pub mod cli;
pub mod entitlements;
pub mod inbound;
pub mod kanban;
pub mod metering;
pub mod platform;
pub mod providers;
pub mod realtime;
pub mod simulators;
pub mod tenancy;
