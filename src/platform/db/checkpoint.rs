//! Copying SQLite's write-ahead log into the database file (a checkpoint) beside the writer,
//! not in its commits (ADR 31).
//!
//! SQLite checkpoints in the commit that takes the log past `wal_autocheckpoint` pages: the
//! committing connection copies the log's pages into the database file and syncs both files
//! while every writer of the process waits for that connection. Here a reader connection
//! does the copying after commits, on its own thread, while the writer goes on. The writer
//! still checkpoints past a larger size ([`WRITER_CHECKPOINT_PAGES`]), which now finds only
//! the pages committed since the last pass: SQLite rewinds the log only when a writer begins
//! right after a complete checkpoint, which passes beside a busy writer rarely leave, so the
//! writer's own finishes the job and the log does not grow without end.

use std::sync::Arc;

use sqlx::SqlitePool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Log pages past which the writer's own commit checkpoints (SQLite's default is 1,000):
/// 16 MiB of log at 4 KiB pages.
pub(super) const WRITER_CHECKPOINT_PAGES: u32 = 4096;

/// Checkpoints through `pool` after each commit announced on `committed` (passes run back
/// to back under load, each copying what the writer committed during the last), until
/// `shutdown`.
pub(super) async fn keep_checkpointed(
    pool: SqlitePool,
    committed: Arc<Notify>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = committed.notified() => {},
            () = shutdown.cancelled() => return,
        }
        // PASSIVE: copies what no reader still needs from the log, waits for nobody.
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %err, "checkpointing the SQLite log failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use crate::{on_tx, platform::db::Db};

    /// Commits well below the writer's own threshold reach the database file: the pass
    /// beside the writer copied them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_are_copied_into_the_database_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hub.db");
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", file.display()), 2)
            .await
            .unwrap();
        let mut tx = db.begin().await.unwrap();
        on_tx!(&mut tx, c => sqlx::query("CREATE TABLE notes (body TEXT NOT NULL)")
            .execute(c).await.map(|_| ()))
        .unwrap();
        tx.commit().await.unwrap();
        let size = || std::fs::metadata(&file).unwrap().len();
        let before = size();
        let shutdown = CancellationToken::new();
        let checkpointer = tokio::spawn(db.clone().keep_checkpointed(shutdown.clone()));
        for _ in 0..50 {
            let mut tx = db.begin().await.unwrap();
            on_tx!(&mut tx, c => sqlx::query("INSERT INTO notes (body) VALUES ($1)")
                .bind("x".repeat(1000)).execute(c).await.map(|_| ()))
            .unwrap();
            tx.commit().await.unwrap();
        }
        let copied = async {
            while size() < before + 40_000 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), copied)
            .await
            .expect("the log was copied into the database file");
        shutdown.cancel();
        checkpointer.await.unwrap();
    }
}
