//! One integration-test binary: every test starts the real server on a random port over
//! its own database (SQLite by default, PostgreSQL with `TEST_DATABASE_URL`).

mod accounts;
mod api_keys;
mod audit;
mod billing;
mod card_links;
mod chat;
mod chat_attachments;
mod chat_live;
mod chat_messages;
mod chat_rooms;
mod chat_search;
mod cross_tenant;
mod embedding;
mod entitlements;
mod identities;
mod inbound;
mod input_edges;
mod kanban;
mod kanban_chatwoot;
mod kanban_metrics;
mod list_cache;
mod platform;
mod provider_health;
mod provider_inboxes;
mod provider_types;
mod providers;
mod rbac;
mod realtime;
mod schema_parity;
mod sessions;
mod sso;
mod support;
mod teams;
mod users;
mod webhooks;
