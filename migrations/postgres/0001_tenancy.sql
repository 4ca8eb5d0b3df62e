-- Tenancy core: accounts, users, memberships, teams; entitlement overrides; the audit log.
-- Timestamps are written by the application (UTC, whole seconds), never defaulted here,
-- so both engines hold the same values.

CREATE TABLE accounts (
    id                  UUID PRIMARY KEY,
    chatwoot_account_id BIGINT UNIQUE,
    name                TEXT NOT NULL,
    locale              TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    settings            JSONB NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id               UUID PRIMARY KEY,
    chatwoot_user_id BIGINT UNIQUE,
    email            TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    avatar_url       TEXT,
    is_super_admin   BOOLEAN NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE account_users (
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    active     BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX account_users_user ON account_users (user_id);

CREATE TABLE teams (
    id               UUID PRIMARY KEY,
    account_id       UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    chatwoot_team_id BIGINT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    deleted_at       TIMESTAMPTZ
);
CREATE UNIQUE INDEX teams_live_name ON teams (account_id, lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX teams_account ON teams (account_id, id);

CREATE TABLE team_members (
    team_id    UUID NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE account_entitlements (
    account_id UUID PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    overrides  JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_logs (
    id            UUID PRIMARY KEY,
    account_id    UUID,
    actor_type    TEXT NOT NULL,
    actor_user_id UUID,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    before        JSONB,
    after         JSONB,
    ip            TEXT,
    user_agent    TEXT,
    request_id    TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX audit_logs_account ON audit_logs (account_id, id);

-- The audit log is append-only: even the application's own role cannot rewrite history.
CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only';
END;
$$;
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
