-- Chatwoot installations, account connections, instance tokens, inboxes and webhook
-- deliveries. A hub account now belongs to one (installation, Chatwoot account) pair, and a
-- Chatwoot user id is only unique within its installation, so the global UNIQUE constraints
-- on accounts.chatwoot_account_id and users.chatwoot_user_id go.

CREATE TABLE chatwoot_installations (
    id             UUID PRIMARY KEY,
    name           TEXT NOT NULL,
    base_url       TEXT NOT NULL UNIQUE,
    origins        JSONB NOT NULL,
    platform_token TEXT,
    app_secret     TEXT,
    signs_webhooks BOOLEAN NOT NULL,
    from_env       BOOLEAN NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX chatwoot_installations_env ON chatwoot_installations (from_env) WHERE from_env;

ALTER TABLE accounts DROP CONSTRAINT accounts_chatwoot_account_id_key;
ALTER TABLE accounts ADD COLUMN chatwoot_installation_id UUID REFERENCES chatwoot_installations (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX accounts_chatwoot ON accounts (chatwoot_installation_id, chatwoot_account_id);
ALTER TABLE users DROP CONSTRAINT users_chatwoot_user_id_key;

CREATE TABLE chatwoot_connections (
    account_id        UUID PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    status            TEXT NOT NULL CHECK (status IN ('connected', 'disconnected', 'error')),
    token_source      TEXT NOT NULL CHECK (token_source IN ('access_token', 'platform')),
    api_token         TEXT,
    webhook_id        BIGINT,
    webhook_secret    TEXT,
    dashboard_app_id  BIGINT,
    last_error        TEXT,
    connected_at      TIMESTAMPTZ,
    last_sync_at      TIMESTAMPTZ,
    last_sync_report  JSONB,
    updated_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE instance_tokens (
    id           UUID PRIMARY KEY,
    token_hash   BYTEA NOT NULL UNIQUE,
    account_id   UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    origin       TEXT NOT NULL,
    scopes       JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    exchanged_at TIMESTAMPTZ
);
CREATE INDEX instance_tokens_expiry ON instance_tokens (expires_at);

CREATE TABLE platform_app_events (
    installation_id UUID NOT NULL REFERENCES chatwoot_installations (id) ON DELETE CASCADE,
    signature_hash  BYTEA NOT NULL,
    event           TEXT NOT NULL,
    received_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (installation_id, signature_hash)
);

CREATE TABLE inboxes (
    id                UUID PRIMARY KEY,
    account_id        UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    chatwoot_inbox_id BIGINT NOT NULL,
    name              TEXT NOT NULL,
    channel_type      TEXT NOT NULL,
    phone_number      TEXT,
    enabled           BOOLEAN NOT NULL,
    disabled_reason   TEXT,
    removed_at        TIMESTAMPTZ,
    synced_at         TIMESTAMPTZ NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX inboxes_chatwoot ON inboxes (account_id, chatwoot_inbox_id);

CREATE TABLE webhook_deliveries (
    id              UUID PRIMARY KEY,
    account_id      UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    source          TEXT NOT NULL,
    event           TEXT NOT NULL,
    dedupe_key      TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'done', 'dead')),
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    last_error      TEXT,
    received_at     TIMESTAMPTZ NOT NULL,
    processed_at    TIMESTAMPTZ
);
CREATE UNIQUE INDEX webhook_deliveries_dedupe ON webhook_deliveries (account_id, source, dedupe_key);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account_id, id);

