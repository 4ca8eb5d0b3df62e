-- Team chat retention per account (issue 16): NULL keeps messages forever (the default);
-- otherwise a scheduled pass removes what is older than `retention_days`, audited.
CREATE TABLE chat_settings (
    account_id     UUID PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    retention_days INTEGER CHECK (retention_days IS NULL OR retention_days >= 1),
    updated_at     TIMESTAMPTZ NOT NULL
);
