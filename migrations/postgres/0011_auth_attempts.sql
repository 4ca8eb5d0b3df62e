-- Sign-in and refresh attempts per client IP and per presented credential, so every replica
-- counts the same ones: one row per key holding its GCRA "theoretical arrival time" (Unix
-- milliseconds), the moment its budget is whole again. Rows past it say nothing and are
-- purged.
CREATE TABLE auth_attempts (
    attempt_key BYTEA PRIMARY KEY,
    refilled_at BIGINT NOT NULL
);
CREATE INDEX auth_attempts_refilled ON auth_attempts (refilled_at);
