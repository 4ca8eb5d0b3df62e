//! SQLite's full-text index catching up in batches (ADR 30, migration 0027): a sent message
//! waits in `chat_search_docs` until a batch indexes it, a few hundred milliseconds later or
//! at the next search, whichever comes first. FTS5 writes what it holds to disk at every
//! savepoint, and each writer of a group is one (ADR 29): indexing inside the send wrote an
//! index segment per message, and merged them, while every other writer waited.
//!
//! PostgreSQL has nothing to catch up: a trigger keeps its `tsvector` in the insert
//! (migration 0027 on PostgreSQL), and GIN's pending list already batches the index.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{
    on_db, on_tx,
    platform::{
        db::{Db, Engine},
        error::AppResult,
    },
};

/// How often the waiting messages are indexed when nobody searches.
const EVERY: Duration = Duration::from_millis(500);
/// Messages indexed per writer's turn: a batch holds the writer for a few milliseconds, not
/// the length of a backlog.
const BATCH: i64 = 500;

/// Some message is waiting to be indexed.
const WAITING: &str = "SELECT EXISTS (SELECT 1 FROM chat_search_docs
    WHERE doc > (SELECT doc FROM chat_search_indexed))";

// $1 the batch's size. The batch is the same docs in both statements: nothing else writes
// between them. A deleted message's doc is passed over (its words are never findable).
const INDEX_BATCH: &str = "
WITH batch AS (
    SELECT doc, message_id FROM chat_search_docs
    WHERE doc > (SELECT doc FROM chat_search_indexed) ORDER BY doc LIMIT $1)
INSERT INTO chat_messages_fts (rowid, body)
SELECT b.doc, m.body FROM batch b JOIN chat_messages m ON m.id = b.message_id
WHERE m.deleted_at IS NULL ORDER BY b.doc;
UPDATE chat_search_indexed SET doc = (
    SELECT MAX(doc) FROM (
        SELECT doc FROM chat_search_docs
        WHERE doc > (SELECT doc FROM chat_search_indexed) ORDER BY doc LIMIT $1))
WHERE EXISTS (SELECT 1 FROM chat_search_docs WHERE doc > chat_search_indexed.doc);
SELECT EXISTS (SELECT 1 FROM chat_search_docs
    WHERE doc > (SELECT doc FROM chat_search_indexed))";

/// Indexes the waiting messages every [`EVERY`] until `shutdown` (on SQLite).
pub async fn keep_up(db: Db, shutdown: CancellationToken) {
    if db.engine() != Engine::Sqlite {
        return;
    }
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {},
            () = shutdown.cancelled() => return,
        }
        if let Err(err) = catch_up(&db).await {
            tracing::warn!(error = %err, "indexing chat messages for search failed");
        }
    }
}

/// Indexes every message committed so far and still waiting (a search runs this first, so
/// it finds everything sent before it).
pub async fn catch_up(db: &Db) -> AppResult<()> {
    if db.engine() != Engine::Sqlite {
        return Ok(());
    }
    let waiting: bool = on_db!(db, pool => sqlx::query_scalar(WAITING).fetch_one(pool).await?);
    if waiting {
        while index_batch(db).await? {}
    }
    Ok(())
}

/// Indexes up to [`BATCH`] waiting messages; answers whether more wait.
async fn index_batch(db: &Db) -> AppResult<bool> {
    let (mut tx, opening) = db.begin_deferred().await?;
    let sql = sqlx::AssertSqlSafe(format!("{opening}{INDEX_BATCH}"));
    let more: Vec<bool> =
        on_tx!(&mut tx, c => sqlx::query_scalar(sql).bind(BATCH).fetch_all(c).await?);
    tx.commit().await?;
    Ok(more.first().copied().unwrap_or(false))
}
