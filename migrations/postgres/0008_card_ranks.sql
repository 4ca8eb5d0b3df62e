-- A card's place in its stage is a sparse rank, not a stored dense position: a move
-- rewrites the moved card only, where shifting positions rewrote every card below it
-- (dozens of row versions per move on PostgreSQL). The dense position the API shows is
-- counted from the ranks when read (ADR 13).

ALTER TABLE cards ADD COLUMN rank BIGINT NOT NULL DEFAULT 0;
-- 2^32 apart, as a renumbered stage is (ADR 13).
UPDATE cards SET rank = (position + 1) * 4294967296 WHERE archived_at IS NULL;

DROP INDEX cards_stage;
DROP INDEX cards_account_stage;
ALTER TABLE cards DROP COLUMN position;

CREATE INDEX cards_stage ON cards (stage_id);
-- A stage's live cards in order: placing a card and counting positions read only this.
CREATE INDEX cards_stage_rank ON cards (account_id, stage_id, rank, id) WHERE archived_at IS NULL;

-- A board's revision is its own column plus the sum of these counters. On PostgreSQL each
-- change bumps one of a few shards, picked at random, so writers of one board seldom wait
-- on one row (SQLite, with one writer, bumps the column); a reader sums them in one
-- statement. Committed changes only ever add, so one sum always names one state.
CREATE TABLE board_revisions (
    board_id UUID NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    shard    INTEGER NOT NULL,
    revision BIGINT NOT NULL,
    PRIMARY KEY (board_id, shard)
);
