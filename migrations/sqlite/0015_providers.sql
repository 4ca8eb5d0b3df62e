-- WhatsApp provider servers an account registered (Evolution, WAHA, UazAPI, Z-API, Cloud
-- API). Credentials are sealed with the secrets vault, bound to the provider's id.
CREATE TABLE providers (
    id                 UUID PRIMARY KEY,
    account_id         UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind               TEXT NOT NULL,
    name               TEXT NOT NULL,
    base_url           TEXT NOT NULL,
    credentials        TEXT NOT NULL,
    -- The last four characters of the main credential, to tell keys apart.
    credentials_hint   TEXT NOT NULL,
    status             TEXT NOT NULL,
    last_checked_at    TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    deleted_at         TIMESTAMPTZ
);
CREATE INDEX providers_account ON providers (account_id, id);
CREATE UNIQUE INDEX providers_name ON providers (account_id, name) WHERE deleted_at IS NULL;
