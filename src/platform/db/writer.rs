//! SQLite's one writer connection, taken in turns, with group commit (ADR 29).
//!
//! SQLite lets one writer in at a time, so this process's writers queue for one connection
//! (see [`super::SqliteDb`]). A commit is the dearest step of a small write (the WAL pages
//! and their checksums, ~360 µs of a chat send's ~800 µs turn), so writers that find others
//! queued behind them do not commit alone: each writer's transaction is a savepoint in the
//! connection's open transaction, and whoever finds the queue empty commits everything in it
//! at once. Nobody hears "committed" before the `COMMIT` that holds their work succeeded; if
//! it fails, every writer in it hears the error. A writer that fails or is cancelled has its
//! savepoint rolled back before anyone else writes, and everyone else's work stays.
//!
//! A queued writer may give up (its request cancelled, its wait timed out), so whoever leaves
//! the transaction open without committing also queues a committer behind everyone waiting
//! (the queue is first come, first served): the transaction is committed once those writers
//! had their turn, whoever they were.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use sqlx::{Sqlite, SqliteConnection, SqlitePool, pool::PoolConnection};
use tokio::sync::{Mutex, Notify, OwnedMutexGuard, oneshot};

/// How long a writer waits for its turn (as SQLite's own busy timeout would).
const TURN_TIMEOUT: Duration = Duration::from_secs(5);

/// The process's writer connection and its queue.
#[derive(Clone, Debug)]
pub struct SqliteWriter {
    /// A pool of one connection, kept open: its page cache is the point.
    pool: SqlitePool,
    state: Arc<Mutex<WriterState>>,
    /// Writers waiting for their turn now.
    waiting: Arc<AtomicUsize>,
    /// Told after each `COMMIT` of a group (the log has grown: see [`super::checkpoint`]).
    committed: Arc<Notify>,
}

/// What the turn holder owns.
#[derive(Debug, Default)]
struct WriterState {
    /// Taken from the pool at the first turn and kept.
    conn: Option<PoolConnection<Sqlite>>,
    /// A transaction is open on the connection, holding the work of `members`.
    open: bool,
    /// Writers whose work is in the open transaction, waiting to hear how its commit went.
    members: Vec<oneshot::Sender<Result<(), String>>>,
    /// A writer left without committing: its savepoint is rolled back before anything else.
    rollback_owed: bool,
    /// The last writer committed: its savepoint is released by the next request on the
    /// connection, which saves the writer a round trip under the turn.
    release_owed: bool,
    /// A committer is queued for the open transaction.
    committer_queued: bool,
    /// A request of the writer's own (`BEGIN`, `SAVEPOINT`, `COMMIT`, …) was cut off, its
    /// caller dropped while it ran: whether it took effect is unknown.
    in_doubt: bool,
}

/// The writer connection, to this holder alone until dropped.
pub struct Turn {
    guard: OwnedMutexGuard<WriterState>,
    writer: SqliteWriter,
}

/// One writer's transaction: a savepoint in the connection's open transaction.
pub struct WriteTx {
    turn: Turn,
    /// Its work is kept in the open transaction, or rolled back: nothing owed.
    settled: bool,
}

impl SqliteWriter {
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            state: Arc::default(),
            waiting: Arc::default(),
            committed: Arc::default(),
        }
    }

    /// Told after each `COMMIT` of a group.
    pub fn committed(&self) -> Arc<Notify> {
        self.committed.clone()
    }

    /// Writers queued for their turn now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    async fn turn(&self) -> Result<Turn, sqlx::Error> {
        let queued = self.queue();
        let guard = tokio::time::timeout(TURN_TIMEOUT, self.state.clone().lock_owned()).await;
        drop(queued);
        self.settled(guard.map_err(|_| sqlx::Error::PoolTimedOut)?)
            .await
    }

    /// Counts a writer as waiting until the place is dropped, however its wait ends.
    fn queue(&self) -> Queued {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        Queued(self.waiting.clone())
    }

    async fn settled(&self, guard: OwnedMutexGuard<WriterState>) -> Result<Turn, sqlx::Error> {
        let mut turn = Turn {
            guard,
            writer: self.clone(),
        };
        turn.settle().await?;
        Ok(turn)
    }

    /// The connection for statements outside a transaction, each committed on its own: the
    /// open transaction is committed first.
    pub async fn single(&self) -> Result<Turn, sqlx::Error> {
        let mut turn = self.turn().await?;
        turn.commit_group().await;
        Ok(turn)
    }

    /// A transaction, `BEGIN IMMEDIATE` as far as its writer can tell: nothing else writes
    /// until it ends.
    pub async fn begin(&self) -> Result<WriteTx, sqlx::Error> {
        let (mut tx, opening) = self.begin_deferred().await?;
        // If it fails, dropping `tx` owes the rollback of whatever of it ran.
        tx.turn.run(opening).await?;
        Ok(tx)
    }

    /// [`Self::begin`] whose opening rides on the transaction's first request instead of a
    /// round trip of its own under the turn: the caller puts the statements answered before
    /// its first one, in the same request. If that request fails or is cut off, the
    /// transaction is rolled back as any unsettled one (see [`Turn::settle`]).
    pub async fn begin_deferred(&self) -> Result<(WriteTx, &'static str), sqlx::Error> {
        let mut turn = self.turn().await?;
        let state = &mut *turn.guard;
        let opening = match (state.open, state.release_owed) {
            (false, _) => "BEGIN IMMEDIATE; SAVEPOINT writer;",
            (true, true) => "RELEASE writer; SAVEPOINT writer;",
            (true, false) => "SAVEPOINT writer;",
        };
        state.open = true;
        state.release_owed = false;
        let tx = WriteTx {
            turn,
            settled: false,
        };
        Ok((tx, opening))
    }

    /// Commits what is open and gives the connection back, so the pool can close (after
    /// the writers queued now, however long they take).
    pub async fn close(&self) {
        let guard = self.queued_turn().await;
        if let Ok(mut turn) = self.settled(guard).await {
            turn.commit_group().await;
        }
        self.state.lock().await.conn = None;
        self.pool.close().await;
    }

    /// Waits behind everyone queued now, however long, then commits what they left open.
    async fn commit_queued(self) {
        let mut guard = self.queued_turn().await;
        guard.committer_queued = false;
        // Settling rolls back what a failed writer left.
        match self.settled(guard).await {
            Ok(mut turn) => turn.commit_group().await,
            Err(err) => tracing::error!(error = %err, "the SQLite writer could not commit"),
        }
    }

    async fn queued_turn(&self) -> OwnedMutexGuard<WriterState> {
        let queued = self.queue();
        let guard = self.state.clone().lock_owned().await;
        drop(queued);
        guard
    }
}

/// A writer's place in the queue.
struct Queued(Arc<AtomicUsize>);

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Turn {
    pub fn conn(&mut self) -> &mut SqliteConnection {
        self.guard
            .conn
            .as_mut()
            .expect("a turn holds the writer connection")
    }

    async fn run(&mut self, sql: &'static str) -> Result<(), sqlx::Error> {
        // Cleared only if the request ends here, not if its caller is dropped meanwhile.
        self.guard.in_doubt = true;
        let done = sqlx::raw_sql(sql).execute(self.conn()).await.map(|_| ());
        self.guard.in_doubt = false;
        done
    }

    /// Takes the connection, and rolls back what a writer left without committing.
    async fn settle(&mut self) -> Result<(), sqlx::Error> {
        if self.guard.conn.is_none() {
            self.guard.conn = Some(self.writer.pool.acquire().await?);
        }
        if self.guard.in_doubt {
            self.resolve_doubt().await;
        }
        if std::mem::take(&mut self.guard.rollback_owed)
            && let Err(err) = self.run("ROLLBACK TO writer; RELEASE writer").await
        {
            // The savepoint is gone with the whole transaction (SQLite rolls back everything
            // after some errors, a full disk), or its opening never ran: undone, to be sure
            // of what is kept.
            self.abandon_group(&err.to_string()).await;
        }
        Ok(())
    }

    /// After a request cut off: a `ROLLBACK` that finds a transaction open undoes whatever
    /// the group had (its writers are told); one that finds none means the group's `COMMIT`
    /// went through (they are told so).
    async fn resolve_doubt(&mut self) {
        self.guard.rollback_owed = false;
        match self.run("ROLLBACK").await {
            Ok(()) => self.tell_group(Err(
                "the transaction was not committed: a request of it was cut off".into(),
            )),
            Err(err) if err.to_string().contains("no transaction is active") => {
                self.tell_group(Ok(()))
            }
            Err(err) => self.tell_group(Err(format!("the transaction was not committed: {err}"))),
        }
    }

    /// Nothing is open any more: tells the group's writers how it ended.
    fn tell_group(&mut self, outcome: Result<(), String>) {
        self.guard.open = false;
        self.guard.release_owed = false;
        for member in self.guard.members.drain(..) {
            let _ = member.send(outcome.clone());
        }
    }

    /// Commits the open transaction and tells its writers how it went.
    async fn commit_group(&mut self) {
        if !self.guard.open {
            return;
        }
        match self.run("COMMIT").await {
            Ok(()) => {
                self.tell_group(Ok(()));
                self.writer.committed.notify_one();
            }
            Err(err) => self.abandon_group(&err.to_string()).await,
        }
    }

    /// Rolls back whatever is open and tells its writers their work is lost.
    async fn abandon_group(&mut self, error: &str) {
        // Nothing may be open any more; then this fails, which is what it was for.
        let _ = self.run("ROLLBACK").await;
        self.tell_group(Err(format!("the transaction was not committed: {error}")));
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let state = &mut *self.guard;
        // In doubt, a transaction may be open whatever `open` says (its `BEGIN` was cut off).
        if (state.open || state.rollback_owed || state.in_doubt)
            && !state.committer_queued
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            state.committer_queued = true;
            runtime.spawn(self.writer.clone().commit_queued());
        }
    }
}

impl WriteTx {
    pub fn conn(&mut self) -> &mut SqliteConnection {
        self.turn.conn()
    }

    /// Keeps this writer's work: answers once the transaction holding it is committed, at
    /// once when nobody is queued, else by the last writer of the group or its committer.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        // Released by the next request on the connection, not left for `COMMIT` to end:
        // the savepoints of a group nested in one another made every write dearer.
        self.turn.guard.release_owed = true;
        self.settled = true;
        self.end().await
    }

    /// Drops this writer's work, and answers once the writers before it in the group are
    /// committed: what it read of theirs (a unique key taken, say) is then there for anyone.
    pub async fn rollback(mut self) -> Result<(), sqlx::Error> {
        self.turn.run("ROLLBACK TO writer; RELEASE writer").await?;
        self.settled = true;
        self.end().await
    }

    async fn end(mut self) -> Result<(), sqlx::Error> {
        let (told, heard) = oneshot::channel();
        self.turn.guard.members.push(told);
        if self.turn.writer.waiting() == 0 {
            self.turn.commit_group().await;
        }
        drop(self);
        match heard.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(sqlx::Error::Protocol(error)),
            Err(_) => Err(sqlx::Error::Protocol(
                "the SQLite writer stopped before committing".into(),
            )),
        }
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if !self.settled {
            self.turn.guard.rollback_owed = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{on_db, on_tx, platform::db::Db};

    async fn database() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
        let db = Db::connect(&url, 4).await.unwrap();
        let mut writer = db.writer().await.unwrap();
        let sql = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)";
        crate::on_writer!(&mut writer, c => sqlx::query(sql).execute(c).await.map(|_| ())).unwrap();
        drop(writer);
        (dir, db)
    }

    async fn write(db: &Db, body: &str) -> Result<(), sqlx::Error> {
        let mut tx = db.begin().await?;
        let sql = "INSERT INTO notes (body) VALUES ($1)";
        on_tx!(&mut tx, c => sqlx::query(sql).bind(body).execute(c).await.map(|_| ()))?;
        tx.commit().await
    }

    async fn stored(db: &Db) -> Vec<String> {
        let sql = "SELECT body FROM notes ORDER BY id";
        on_db!(db, pool => sqlx::query_scalar(sql).fetch_all(pool).await).unwrap()
    }

    /// Writers queued together commit together, and each hears "committed" only once its
    /// work is there for every reader.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_writers_commit_together_and_only_then_hear_so() {
        let (_dir, db) = database().await;
        let writers = (0..40).map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let body = format!("note {i}");
                write(&db, &body).await.unwrap();
                // Committed means a reader of the pool sees it.
                assert!(stored(&db).await.contains(&body), "{body} was not there");
            })
        });
        for writer in futures_util::future::join_all(writers).await {
            writer.unwrap();
        }
        assert_eq!(stored(&db).await.len(), 40);
    }

    /// A writer that fails mid-group loses its own work only; one that gives up while queued
    /// leaves nobody waiting for a commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_or_cancelled_writer_loses_only_its_own_work() {
        let (_dir, db) = database().await;
        // Held so the others queue behind it and end up in one group.
        let mut first = db.begin().await.unwrap();
        let sql = "INSERT INTO notes (body) VALUES ('first')";
        on_tx!(&mut first, c => sqlx::query(sql).execute(c).await.map(|_| ())).unwrap();
        let kept = tokio::spawn({
            let db = db.clone();
            async move { write(&db, "kept").await }
        });
        let failed = tokio::spawn({
            let db = db.clone();
            async move {
                let mut tx = db.begin().await.unwrap();
                let sql = "INSERT INTO notes (body) VALUES ('lost')";
                on_tx!(&mut tx, c => sqlx::query(sql).execute(c).await.map(|_| ())).unwrap();
                // A duplicate: the error drops the transaction, not the group.
                let sql = "INSERT INTO notes (body) VALUES ('first')";
                on_tx!(&mut tx, c => sqlx::query(sql).execute(c).await.map(|_| ())).unwrap_err();
            }
        });
        let cancelled = tokio::spawn({
            let db = db.clone();
            async move { write(&db, "never").await }
        });
        while db.writers_waiting() < 3 {
            tokio::task::yield_now().await;
        }
        cancelled.abort();
        while db.writers_waiting() > 2 {
            tokio::task::yield_now().await;
        }
        first.commit().await.unwrap();
        kept.await.unwrap().unwrap();
        failed.await.unwrap();
        assert!(cancelled.await.unwrap_err().is_cancelled());
        assert_eq!(stored(&db).await, ["first", "kept"]);
    }

    /// A writer that rolls back after finding a unique key taken by the group before it
    /// answers once that group is committed, so the key's row can be read.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rollback_answers_once_the_work_before_it_is_committed() {
        let (_dir, db) = database().await;
        let mut first = db.begin().await.unwrap();
        let sql = "INSERT INTO notes (body) VALUES ('taken')";
        on_tx!(&mut first, c => sqlx::query(sql).execute(c).await.map(|_| ())).unwrap();
        let second = tokio::spawn({
            let db = db.clone();
            async move {
                let mut tx = db.begin().await.unwrap();
                let sql = "INSERT INTO notes (body) VALUES ('taken') ON CONFLICT DO NOTHING";
                let n = on_tx!(&mut tx, c => sqlx::query(sql).execute(c).await.map(|r| r.rows_affected()));
                assert_eq!(n.unwrap(), 0);
                tx.rollback().await.unwrap();
                stored(&db).await
            }
        });
        while db.writers_waiting() < 1 {
            tokio::task::yield_now().await;
        }
        // Released into the group: the second writer comes next and the group commits after.
        first.commit().await.unwrap();
        assert_eq!(second.await.unwrap(), ["taken"]);
    }

    /// A request of the writer's own cut off while it ran (its caller dropped): the next
    /// turn finds out what happened. A transaction still open is rolled back and its writers
    /// hear their work is lost; none open means the `COMMIT` went through, and they hear so.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cut_off_request_is_resolved_by_the_next_turn() {
        let (_dir, db) = database().await;
        let Db::Sqlite(sqlite) = &db else {
            unreachable!()
        };
        for (body, committed) in [("lost", false), ("kept", true)] {
            let mut tx = sqlite.writer.begin().await.unwrap();
            let sql = "INSERT INTO notes (body) VALUES ($1)";
            let conn = tx.conn();
            sqlx::query(sql).bind(body).execute(conn).await.unwrap();
            if committed {
                tx.turn.run("COMMIT").await.unwrap();
            }
            let (told, heard) = super::oneshot::channel();
            tx.turn.guard.members.push(told);
            tx.turn.guard.in_doubt = true;
            tx.settled = true;
            drop(tx);
            assert_eq!(heard.await.unwrap().is_ok(), committed, "{body}");
        }
        assert_eq!(stored(&db).await, ["kept"]);
        write(&db, "after").await.unwrap();
        assert_eq!(stored(&db).await, ["kept", "after"]);
    }

    /// A writer whose transaction opens in its first request: kept when the request goes
    /// through, only its own work undone when it fails half way, whether it opened the
    /// connection's transaction or joined a group's.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_opening_riding_on_the_first_request_is_undone_with_it() {
        let (_dir, db) = database().await;
        async fn deferred(db: &Db, bodies: [&str; 2]) -> Result<(), sqlx::Error> {
            let (mut tx, opening) = db.begin_deferred().await?;
            let sql = format!(
                "{opening} INSERT INTO notes (body) VALUES ($1); INSERT INTO notes (body) VALUES ($2)"
            );
            let done = on_tx!(&mut tx, c => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(bodies[0]).bind(bodies[1]).execute(c).await.map(|_| ()));
            done?;
            tx.commit().await
        }
        // Alone: the request opens the connection's transaction.
        deferred(&db, ["one", "two"]).await.unwrap();
        deferred(&db, ["half", "one"]).await.unwrap_err();
        assert_eq!(stored(&db).await, ["one", "two"]);
        // In a group held open by a first writer, with a second queued behind the failing one.
        let mut first = db.begin().await.unwrap();
        let sql = "INSERT INTO notes (body) VALUES ('first')";
        on_tx!(&mut first, c => sqlx::query(sql).execute(c).await.map(|_| ())).unwrap();
        let failing = tokio::spawn({
            let db = db.clone();
            async move { deferred(&db, ["lost", "two"]).await }
        });
        while db.writers_waiting() < 1 {
            tokio::task::yield_now().await;
        }
        let kept = tokio::spawn({
            let db = db.clone();
            async move { deferred(&db, ["three", "four"]).await }
        });
        while db.writers_waiting() < 2 {
            tokio::task::yield_now().await;
        }
        first.commit().await.unwrap();
        failing.await.unwrap().unwrap_err();
        kept.await.unwrap().unwrap();
        assert_eq!(stored(&db).await, ["one", "two", "first", "three", "four"]);
    }
}
