-- Sign-in and refresh attempts per client IP and per presented credential, one row per
-- key and minute, so every replica counts the same attempts (a sliding window over this
-- minute and the last). Rows older than two minutes are purged.
CREATE TABLE auth_attempts (
    attempt_key  BYTEA NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    attempts     INTEGER NOT NULL,
    PRIMARY KEY (attempt_key, window_start)
);
CREATE INDEX auth_attempts_window ON auth_attempts (window_start);
