-- The Kanban: boards, their stages, cards and each card's history. Every row carries its
-- account, so every query can be confined to one tenant; cards and stages also carry their
-- board. Positions within a stage are dense (0..n-1), kept so under the board's lock.

CREATE TABLE boards (
    id            UUID PRIMARY KEY,
    account_id    UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    currency      TEXT NOT NULL,
    inbox_ids     JSONB NOT NULL,
    custom_fields JSONB NOT NULL,
    rules         JSONB NOT NULL,
    version       BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    archived_at   TIMESTAMPTZ
);
CREATE INDEX boards_account ON boards (account_id, id);

CREATE TABLE stages (
    id         UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    board_id   UUID NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    color      TEXT NOT NULL,
    position   INTEGER NOT NULL,
    sla_hours  INTEGER,
    kind       TEXT NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX stages_board ON stages (board_id, position);

CREATE TABLE cards (
    id                       UUID PRIMARY KEY,
    account_id               UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    board_id                 UUID NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    stage_id                 UUID NOT NULL REFERENCES stages (id),
    position                 INTEGER NOT NULL,
    title                    TEXT NOT NULL,
    chatwoot_conversation_id BIGINT,
    chatwoot_contact_id      BIGINT,
    chatwoot_inbox_id        BIGINT,
    chatwoot_updated_micros  BIGINT,
    contact_name             TEXT,
    contact_avatar_url       TEXT,
    last_message             TEXT,
    last_message_at          TIMESTAMPTZ,
    value_minor              BIGINT,
    currency                 TEXT,
    priority                 TEXT CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    due_at                   TIMESTAMPTZ,
    assignee_id              UUID REFERENCES users (id) ON DELETE SET NULL,
    labels                   JSONB NOT NULL,
    custom_fields            JSONB NOT NULL,
    status                   TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    lost_reason              TEXT,
    version                  BIGINT NOT NULL,
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    archived_at              TIMESTAMPTZ
);
CREATE INDEX cards_stage ON cards (stage_id, position);
CREATE INDEX cards_board ON cards (board_id, id);
CREATE UNIQUE INDEX cards_conversation ON cards (board_id, chatwoot_conversation_id)
    WHERE chatwoot_conversation_id IS NOT NULL;
CREATE INDEX cards_contact ON cards (account_id, chatwoot_contact_id);

CREATE TABLE card_events (
    id            UUID PRIMARY KEY,
    account_id    UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    board_id      UUID NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
    card_id       UUID NOT NULL REFERENCES cards (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    from_stage_id UUID,
    to_stage_id   UUID,
    actor_type    TEXT NOT NULL,
    actor_user_id UUID,
    reason        TEXT,
    changes       JSONB,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX card_events_card ON card_events (card_id, id);
CREATE INDEX card_events_board ON card_events (board_id, created_at);

-- The periodic reconciliation's last run per connected account, shown to admins.
ALTER TABLE chatwoot_connections ADD COLUMN last_reconciled_at TIMESTAMPTZ;
ALTER TABLE chatwoot_connections ADD COLUMN last_reconcile_report JSONB;
