//! One handle over the two storage engines.
//!
//! SQL is written once: [`on_db!`] and [`on_tx!`] expand a block for each engine, so the
//! same query text is compiled against both drivers with native types (UUID, time, JSON).
//! Where dialects differ (row locks), [`Tx`] exposes a method instead of a branch at the call site.

mod checkpoint;
mod writer;

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use sqlx::{
    PgPool, Postgres, SqlitePool, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};
use uuid::Uuid;
use writer::SqliteWriter;
pub use writer::{Turn, WriteTx};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A pool on whichever engine the configuration chose.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgPool),
}

/// How much of a SQLite file the writer maps into memory (address space, not memory: pages
/// come from the kernel's cache, which may drop them). Readers do not map it: a reader drops
/// its mapping at each transaction after a commit, and unmapping cost more than copying
/// (ADR 14, last addendum).
const SQLITE_MMAP_BYTES: u64 = 4 << 30;
/// The writer's page cache, negative as SQLite counts KiB (the default is 2 MiB): the
/// indexes every insert and cleanup walks stay in it.
const SQLITE_WRITER_CACHE_KIB: i64 = -(64 << 10);

/// A SQLite database: a pool to read (it refuses writes), one connection to write, and the
/// queue of this process's writers. SQLite lets one writer in at a time; a writer that finds
/// the lock taken sleeps in SQLite's busy handler (1 to 100 ms at a time), which is where the tail
/// latency under concurrent writes came from. Writers instead wait their turn here, in
/// order, never sleep, and commit in groups ([`writer`]). They all write through one
/// connection: a connection keeps its own page cache and drops all of it when another
/// connection wrote since its last transaction, so writers spread over the pool read their
/// pages again at nearly every turn (one connection made card moves about 1.5 times as fast).
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub pool: SqlitePool,
    writer: SqliteWriter,
}

/// A transaction on either engine. Writes that check a quota start with [`Db::begin`]
/// and hold this until commit, so the count and the insert see the same state.
pub enum Tx {
    Sqlite(WriteTx),
    Postgres(Transaction<'static, Postgres>),
}

/// Where single statements that write go, outside a transaction: on SQLite, the writer
/// connection in its turn; on PostgreSQL, the pool.
pub enum Writer<'a> {
    Sqlite(Turn),
    Postgres(&'a PgPool),
}

/// Runs `$body` with `$pool` bound to the engine's concrete pool type.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::platform::db::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.pool;
                $body
            }
            $crate::platform::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's connection (`&mut Connection`).
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::platform::db::Tx::Sqlite(t) => {
                let $conn = t.conn();
                $body
            }
            $crate::platform::db::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}

/// Runs `$body` with `$conn` bound to an executor of a [`Writer`] (given as `&mut`).
#[macro_export]
macro_rules! on_writer {
    ($writer:expr, $conn:ident => $body:expr) => {
        match $writer {
            $crate::platform::db::Writer::Sqlite(turn) => {
                let $conn = turn.conn();
                $body
            }
            $crate::platform::db::Writer::Postgres(pool) => {
                let $conn = *pool;
                $body
            }
        }
    };
}

/// The pool or an open transaction: a read written against `Conn` serves both a plain
/// read and a read inside a write (`store::get(&state.db, …)` and `store::get(&mut tx, …)`).
pub enum Conn<'a> {
    Pool(&'a Db),
    Tx(&'a mut Tx),
}

impl Conn<'_> {
    pub fn engine(&self) -> Engine {
        match self {
            Conn::Pool(db) => db.engine(),
            Conn::Tx(tx) => tx.engine(),
        }
    }
}

impl<'a> From<&'a Db> for Conn<'a> {
    fn from(db: &'a Db) -> Self {
        Conn::Pool(db)
    }
}

impl<'a> From<&'a mut Tx> for Conn<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Conn::Tx(tx)
    }
}

/// Runs `$body` with `$conn` bound to an executor of whichever [`Conn`] it is given.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::platform::db::Conn::Pool($crate::platform::db::Db::Sqlite(sqlite)) => {
                let $c = &sqlite.pool;
                $body
            }
            $crate::platform::db::Conn::Pool($crate::platform::db::Db::Postgres($c)) => $body,
            $crate::platform::db::Conn::Tx($crate::platform::db::Tx::Sqlite(t)) => {
                let $c = t.conn();
                $body
            }
            $crate::platform::db::Conn::Tx($crate::platform::db::Tx::Postgres(t)) => {
                let $c = &mut **t;
                $body
            }
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Db {
    /// Opens a pool for `url` (`sqlite:` or `postgres:`), without migrating.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .context("DATABASE_URL is not a valid SQLite URL")?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            // An embedded file cannot "hang up"; pinging it on every acquire only doubles the
            // hops to its worker thread.
            // The pool only reads: a write through it would skip the writers' queue and
            // sleep in SQLite's busy handler, so SQLite refuses it (`query_only`).
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .test_before_acquire(false)
                .connect_with(options.clone().pragma("query_only", "ON"))
                .await
                .context("cannot open the SQLite database")?;
            // Kept open: its page cache is the point.
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(Duration::from_secs(5))
                .test_before_acquire(false)
                .connect_with(
                    options
                        // Pages read through a mapping of the file instead of copied out of
                        // the kernel one read at a time: over a database of a year's
                        // deliveries, copying pages was two thirds of the hub's CPU.
                        .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
                        .pragma("cache_size", SQLITE_WRITER_CACHE_KIB.to_string())
                        // A writer's savepoint keeps the pages it changes as they were, in
                        // the statement journal: in memory, not spilled to a temporary file
                        // (which was half of the bytes a chat send wrote).
                        .pragma("temp_store", "MEMORY")
                        // Checkpoints mostly run beside the writer (`keep_checkpointed`).
                        .pragma(
                            "wal_autocheckpoint",
                            checkpoint::WRITER_CHECKPOINT_PAGES.to_string(),
                        ),
                )
                .await
                .context("cannot open the SQLite database")?;
            Ok(Self::Sqlite(SqliteDb {
                pool,
                writer: SqliteWriter::new(writer),
            }))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)
                .context("DATABASE_URL is not a valid PostgreSQL URL")?;
            Ok(Self::Postgres(
                Self::pg_pool(options, max_connections).await?,
            ))
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres:")
        }
    }

    /// A PostgreSQL pool from already-built options (tests use this to pin a schema).
    pub async fn pg_pool(
        options: PgConnectOptions,
        max_connections: u32,
    ) -> anyhow::Result<PgPool> {
        PgPoolOptions::new()
            .max_connections(max_connections)
            // sqlx pings on every acquire by default: a second round trip per query. A
            // broken connection is instead dropped on its first error, and connections are
            // recycled by idle timeout and maximum lifetime.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .context("cannot connect to PostgreSQL")
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(_) => Engine::Sqlite,
            Db::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies pending migrations. On PostgreSQL sqlx holds an advisory lock, so replicas
    /// starting together migrate once.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite(sqlite) => {
                let mut turn = sqlite.writer.single().await?;
                SQLITE_MIGRATIONS.run(turn.conn()).await
            }
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .context("database migration failed")
    }

    /// Starts a write transaction. SQLite takes the write lock up front (`BEGIN IMMEDIATE`)
    /// so a read-then-write transaction cannot fail half way on a lock upgrade, after this
    /// process's earlier writers (see [`SqliteDb`]).
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(sqlite) => Tx::Sqlite(sqlite.writer.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// [`Db::begin`] whose opening statements ride on the transaction's first request: the
    /// caller puts the text answered before its first statement, in the same request (on
    /// SQLite it saves a round trip under the writers' turn; empty on PostgreSQL).
    pub async fn begin_deferred(&self) -> Result<(Tx, &'static str), sqlx::Error> {
        Ok(match self {
            Db::Sqlite(sqlite) => {
                let (tx, opening) = sqlite.writer.begin_deferred().await?;
                (Tx::Sqlite(tx), opening)
            }
            Db::Postgres(pool) => (Tx::Postgres(pool.begin().await?), ""),
        })
    }

    /// Where to write a single statement outside a transaction, once it is this writer's
    /// turn (on PostgreSQL there is nothing to wait for); see [`on_writer!`].
    pub async fn writer(&self) -> Result<Writer<'_>, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(sqlite) => Writer::Sqlite(sqlite.writer.single().await?),
            Db::Postgres(pool) => Writer::Postgres(pool),
        })
    }

    /// On SQLite, copies the write-ahead log into the database after commits, beside the
    /// writer (see [`checkpoint`]), until `shutdown`; returns at once on PostgreSQL.
    pub async fn keep_checkpointed(self, shutdown: tokio_util::sync::CancellationToken) {
        if let Db::Sqlite(sqlite) = self {
            let committed = sqlite.writer.committed();
            checkpoint::keep_checkpointed(sqlite.pool, committed, shutdown).await;
        }
    }

    /// Answers whether the database takes a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }

    /// Writers of this process queued for SQLite's one writer now; always 0 on PostgreSQL,
    /// where writers do not queue behind each other.
    pub fn writers_waiting(&self) -> usize {
        match self {
            Db::Sqlite(sqlite) => sqlite.writer.waiting(),
            Db::Postgres(_) => 0,
        }
    }

    /// Connections (in use, idle) for the metrics endpoint.
    pub fn pool_usage(&self) -> (u32, u32) {
        let (size, idle) = on_db!(self, pool => (pool.size(), pool.num_idle() as u32));
        (size.saturating_sub(idle), idle)
    }

    pub async fn close(&self) {
        if let Db::Sqlite(sqlite) = self {
            sqlite.writer.close().await;
        }
        on_db!(self, pool => pool.close().await)
    }
}

impl Tx {
    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }

    /// Drops the transaction's work. Where a write found another's work in its way (a
    /// unique key), that work is committed when this returns, so reading it finds it.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.rollback().await,
            Tx::Postgres(t) => t.rollback().await,
        }
    }

    /// Serialises every transaction that takes the lock named `name` (start-up work that
    /// replicas would otherwise race through). SQLite's single writer already does.
    pub async fn lock_named(&mut self, name: &str) -> Result<(), sqlx::Error> {
        if let Tx::Postgres(conn) = self {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(name)
                .execute(&mut **conn)
                .await?;
        }
        Ok(())
    }

    /// Serialises writers of one account for the rest of the transaction. SQLite's
    /// `BEGIN IMMEDIATE` already excludes every other writer; PostgreSQL locks the row.
    pub async fn lock_account(&mut self, account_id: Uuid) -> Result<bool, sqlx::Error> {
        let sql = match self {
            Tx::Sqlite(_) => "SELECT id FROM accounts WHERE id = $1",
            Tx::Postgres(_) => "SELECT id FROM accounts WHERE id = $1 FOR UPDATE",
        };
        let found: Option<(Uuid,)> =
            on_tx!(self, conn => sqlx::query_as(sql).bind(account_id).fetch_optional(conn).await?);
        Ok(found.is_some())
    }
}

/// `$from, $from+1, …` for `n` values (an `IN (…)` list of `n` bound values).
pub fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// True when a database error is a unique-constraint violation (both engines).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write through SQLite's read pool would skip the writers' queue: it is refused, and
    /// the same write in the writer's turn goes through.
    #[tokio::test]
    async fn the_sqlite_read_pool_refuses_writes() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let db = Db::connect(&url, 2).await.unwrap();
        db.migrate().await.unwrap();
        let sql = "DELETE FROM realtime_tickets";
        let refused = on_db!(&db, pool => sqlx::query(sql).execute(pool).await.map(|_| ()));
        assert!(refused.is_err(), "the read pool wrote");
        let mut writer = db.writer().await.unwrap();
        on_writer!(&mut writer, c => sqlx::query(sql).execute(c).await.map(|_| ())).unwrap();
    }
}
