//! The queue's statements that must read one index whatever the planner's statistics say.
//!
//! SQLite's statistics, taken when nearly every delivery is done, say a status matches half
//! the table; it then read all of it (a million rows a year in) on every claim and every
//! move that writes back, instead of the few rows a status index leads to. On SQLite these
//! statements name their index; the test below plans each over such statistics.

use crate::platform::db::Engine;

/// Picks the statement text for `engine`, from one template with a hole for SQLite's
/// `INDEXED BY` (and one for PostgreSQL's row locks, where they apply).
macro_rules! per_engine {
    ($engine:expr, $template:ident, $sqlite_index:literal) => {
        per_engine!($engine, $template, $sqlite_index, "")
    };
    ($engine:expr, $template:ident, $sqlite_index:literal, $pg_lock:literal) => {
        match $engine {
            Engine::Sqlite => $template!(concat!("INDEXED BY ", $sqlite_index), ""),
            Engine::Postgres => $template!("", $pg_lock),
        }
    };
}

/// Leases up to `$3` deliveries at `$1` until `$2`: first those whose lease ran out, then
/// the due ones in order. Each half reads `webhook_deliveries_due` (status,
/// next_attempt_at) and stops after `$3` rows, so a claim costs the same with a backlog of
/// ten or of ten thousand (an `OR` of the two conditions would read and sort every due row).
pub fn claim(engine: Engine) -> &'static str {
    macro_rules! claim {
        ($indexed:expr, $lock:expr) => {
            concat!(
                "WITH abandoned AS (
                     SELECT id FROM webhook_deliveries ", $indexed, "
                     WHERE status = 'processing' AND locked_until < $1
                     LIMIT $3", $lock, "),
                 due AS (
                     SELECT id FROM webhook_deliveries ", $indexed, "
                     WHERE status = 'pending' AND next_attempt_at <= $1
                     ORDER BY next_attempt_at LIMIT $3", $lock, ")
                 UPDATE webhook_deliveries SET status = 'processing', locked_until = $2,
                     attempts = attempts + 1
                 WHERE id IN (SELECT id FROM abandoned UNION ALL SELECT id FROM due LIMIT $3)
                 RETURNING id, account_id, source, event, body, attempts, next_attempt_at"
            )
        };
    }
    per_engine!(
        engine,
        claim,
        "webhook_deliveries_due",
        " FOR UPDATE SKIP LOCKED"
    )
}

/// Deletes up to `$2` done deliveries received before `$1`, read from the index made for it.
pub fn purge(engine: Engine) -> &'static str {
    macro_rules! purge {
        ($indexed:expr, $lock:expr) => {
            concat!(
                "DELETE FROM webhook_deliveries WHERE id IN (
                     SELECT id FROM webhook_deliveries ",
                $indexed,
                "
                     WHERE status = 'done' AND received_at < $1 LIMIT $2)",
                $lock
            )
        };
    }
    per_engine!(engine, purge, "webhook_deliveries_done")
}

/// Marks the account `$1`'s pending hub jobs `$2` of group pattern `$3` done at `$4`,
/// reading the account's pending deliveries, not all it ever had.
pub fn supersede_jobs(engine: Engine) -> &'static str {
    macro_rules! supersede {
        ($indexed:expr, $lock:expr) => {
            concat!(
                "UPDATE webhook_deliveries
                 SET status = 'done', processed_at = $4, last_error = 'superseded'
                 WHERE id IN (
                     SELECT id FROM webhook_deliveries ",
                $indexed,
                "
                     WHERE account_id = $1 AND status = 'pending' AND source = 'hub'
                       AND event = $2 AND dedupe_key LIKE $3)",
                $lock
            )
        };
    }
    per_engine!(engine, supersede, "webhook_deliveries_account_status")
}

/// What puts a delivery back in the queue as if just received, at `$2`.
macro_rules! requeue {
    () => {
        "UPDATE webhook_deliveries
         SET status = 'pending', attempts = 0, next_attempt_at = $2, locked_until = NULL,
             last_error = NULL, ignored = NULL, processed_at = NULL
         WHERE ($1 IS NULL OR account_id = $1) AND "
    };
}

/// Queues delivery `$3` again (of account `$1`, when given) unless a worker holds it now.
pub const REPLAY_ONE: &str = concat!(requeue!(), "id = $3 AND status <> 'processing'");

/// Queues the dead deliveries again (of account `$1`, when given).
pub fn replay_dead(engine: Engine) -> &'static str {
    macro_rules! replay_dead {
        ($indexed:expr, $lock:expr) => {
            concat!(
                requeue!(),
                "id IN (SELECT id FROM webhook_deliveries ",
                $indexed,
                " WHERE status = 'dead')",
                $lock
            )
        };
    }
    per_engine!(engine, replay_dead, "webhook_deliveries_due")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::db::Db;

    /// Plans each statement over statistics like a year's: a million done deliveries and
    /// nothing else. None may read the whole table.
    #[tokio::test]
    async fn no_statement_reads_every_delivery() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("plans.db").display()
        );
        let db = Db::connect(&url, 1).await.unwrap();
        db.migrate().await.unwrap();
        // The writer's connection: the pool only reads.
        let mut writer = db.writer().await.unwrap();
        let crate::platform::db::Writer::Sqlite(turn) = &mut writer else {
            unreachable!()
        };
        // The statistics ANALYZE took over a preloaded benchmark database (1.02M deliveries,
        // all done), loaded as SQLite documents for planning against another database's.
        let stats = "
            ANALYZE;
            DELETE FROM sqlite_stat1 WHERE tbl = 'webhook_deliveries';
            INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
                ('webhook_deliveries', 'webhook_deliveries_done', '1020000 23182'),
                ('webhook_deliveries', 'webhook_deliveries_account_status', '1020000 1020000 1020000 1'),
                ('webhook_deliveries', 'webhook_deliveries_account', '1020000 1020000 1'),
                ('webhook_deliveries', 'webhook_deliveries_due', '1020000 1020000 23182'),
                ('webhook_deliveries', 'webhook_deliveries_dedupe', '1020000 1020000 1020000 1'),
                ('webhook_deliveries', 'sqlite_autoindex_webhook_deliveries_1', '1020000 1');
            ANALYZE sqlite_schema;";
        sqlx::raw_sql(stats).execute(turn.conn()).await.unwrap();

        let statements = [
            ("claim", claim(Engine::Sqlite)),
            ("purge", purge(Engine::Sqlite)),
            ("supersede_jobs", supersede_jobs(Engine::Sqlite)),
            ("replay_dead", replay_dead(Engine::Sqlite)),
            ("replay_one", REPLAY_ONE),
        ];
        for (name, sql) in statements {
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let mut query =
                sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(explain));
            for _ in 0..parameters(sql) {
                query = query.bind(None::<String>);
            }
            let plan = query.fetch_all(turn.conn()).await.unwrap();
            let steps: Vec<_> = plan.into_iter().map(|(.., step)| step).collect();
            assert!(
                !steps.iter().any(|s| s == "SCAN webhook_deliveries"),
                "{name} reads every delivery: {steps:#?}"
            );
        }
    }

    /// The highest `$n` in the statement.
    fn parameters(sql: &str) -> usize {
        sql.split('$')
            .skip(1)
            .filter_map(|rest| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .max()
            .unwrap_or(0)
    }
}
