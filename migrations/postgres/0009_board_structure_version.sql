-- Moves on with every change to a board's settings or stages (not its cards), in the
-- transaction making it. Card writers read it with the board and keep the board's
-- settings and stages per replica as of it, instead of reading them on every write.
ALTER TABLE boards ADD COLUMN structure_version BIGINT NOT NULL DEFAULT 0;
