-- A counter bumped by every audited change to an account's data, in the same transaction:
-- list answers are cached and tagged (ETag) by it.
ALTER TABLE accounts ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
