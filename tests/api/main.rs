//! One integration-test binary: every test starts the real server on a random port over
//! its own database (SQLite by default, PostgreSQL with `TEST_DATABASE_URL`).

mod platform;
mod support;
