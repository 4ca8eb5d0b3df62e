//! One integration-test binary: every test starts the real server on a random port over
//! its own database (SQLite by default, PostgreSQL with `TEST_DATABASE_URL`).

mod accounts;
mod audit;
mod entitlements;
mod platform;
mod support;
mod teams;
mod users;
