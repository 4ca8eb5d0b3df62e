-- WhatsApp numbers (sessions) on an account's provider servers, and every change of their
-- status. An instance's own credential (Evolution's instance token) is sealed like its
-- provider's.
CREATE TABLE instances (
    id              UUID PRIMARY KEY,
    account_id      UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider_id     UUID NOT NULL REFERENCES providers (id),
    name            TEXT NOT NULL,
    phone           TEXT,
    status          TEXT NOT NULL,
    provider_status TEXT,
    credentials     TEXT NOT NULL,
    -- What the provider sends back with each webhook for this instance (sealed).
    webhook_secret  TEXT NOT NULL,
    last_event_at   TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    deleted_at      TIMESTAMPTZ
);
CREATE INDEX instances_account ON instances (account_id, id);
CREATE UNIQUE INDEX instances_name ON instances (provider_id, name) WHERE deleted_at IS NULL;

-- A change of status; changes coming fast one after another (a flapping session) fold into
-- one entry counting them.
CREATE TABLE instance_status_history (
    id            UUID PRIMARY KEY,
    account_id    UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    instance_id   UUID NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
    from_status   TEXT NOT NULL,
    to_status     TEXT NOT NULL,
    raw           TEXT,
    reason        TEXT NOT NULL,
    source        TEXT NOT NULL,
    changes       INTEGER NOT NULL,
    first_at      TIMESTAMPTZ NOT NULL,
    last_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX instance_status_history_instance ON instance_status_history (instance_id, id);
