//! The two migration folders must describe the same schema: same tables, same columns,
//! same named indexes. Runs in the PostgreSQL pass (it needs both engines).

use std::collections::BTreeSet;

use whatpro_hub::platform::db::Db;

use crate::support::{TestApp, postgres_url};

type Schema = BTreeSet<String>;

async fn sqlite_schema() -> Schema {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("parity.db").display()
    );
    let db = Db::connect(&url, 1).await.unwrap();
    db.migrate().await.unwrap();
    let Db::Sqlite(sqlite) = &db else {
        unreachable!()
    };
    let pool = &sqlite.pool;
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let indexes: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex%'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    describe(columns, indexes)
}

async fn postgres_schema(app: &TestApp) -> Schema {
    let Db::Postgres(pool) = &app.state.db else {
        unreachable!()
    };
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let indexes: Vec<(String,)> = sqlx::query_as(
        "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema()
           AND indexname NOT IN (SELECT conname FROM pg_constraint)",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    describe(columns, indexes)
}

/// Each engine's own full-text search over the team chat (migrations 0022 and 0027, ADRs 23
/// and 30), left out of the comparison: SQLite's FTS5 table (with the shadow tables FTS5
/// makes), the map its rowids come from and how far it has indexed; PostgreSQL's `tsvector` column (kept by a trigger) and its GIN index. Each
/// engine's must be there all the same.
const SQLITE_OWN: &[&str] = &[
    "column chat_messages_fts.",
    "column chat_messages_fts_",
    "column chat_search_docs.",
    "column chat_search_indexed.",
    "index chat_search_docs_",
];
const POSTGRES_OWN: &[&str] = &["column chat_messages.search", "index chat_messages_search"];

/// Takes the items starting with one of `own` out of `schema`, checking each is there.
fn set_apart(schema: &mut Schema, own: &[&str]) {
    for prefix in own {
        let found: Vec<String> = schema
            .iter()
            .filter(|item| item.starts_with(prefix))
            .cloned()
            .collect();
        assert!(!found.is_empty(), "the schema has no `{prefix}…`");
        for item in found {
            schema.remove(&item);
        }
    }
}

fn describe(columns: Vec<(String, String)>, indexes: Vec<(String,)>) -> Schema {
    let columns = columns
        .into_iter()
        .map(|(table, column)| format!("column {table}.{column}"));
    let indexes = indexes.into_iter().map(|(name,)| format!("index {name}"));
    columns.chain(indexes).collect()
}

#[tokio::test]
async fn both_migration_folders_build_the_same_schema() {
    if postgres_url().is_none() {
        eprintln!("schema parity needs TEST_DATABASE_URL (it runs in the PostgreSQL pass)");
        return;
    }
    let app = TestApp::spawn().await;
    let (mut sqlite, mut postgres) = (sqlite_schema().await, postgres_schema(&app).await);
    set_apart(&mut sqlite, SQLITE_OWN);
    set_apart(&mut postgres, POSTGRES_OWN);
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "schemas differ\n only in SQLite: {only_sqlite:?}\n only in PostgreSQL: {only_postgres:?}"
    );
    assert!(
        sqlite.contains("column accounts.revision"),
        "the comparison sees real columns"
    );
}
