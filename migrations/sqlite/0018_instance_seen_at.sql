-- When the status recorded was read from the provider (microseconds since the epoch): a
-- read-back older than the one recorded is not applied over it (two workers applying two
-- events of one number side by side).
ALTER TABLE instances ADD COLUMN status_seen_at BIGINT;
