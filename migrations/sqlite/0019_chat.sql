-- Team chat, first slice (ADR 23): rooms, their members with a read marker, and messages
-- numbered per room. A message's `seq` is the room's `last_seq` moved on in the sending
-- transaction; `client_id` makes a retried send return the message it already made.
CREATE TABLE chat_rooms (
    id          UUID PRIMARY KEY,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('direct', 'channel', 'team')),
    name        TEXT,
    topic       TEXT NOT NULL,
    private     BOOLEAN NOT NULL,
    team_id     UUID REFERENCES teams (id) ON DELETE SET NULL,
    -- A direct room's people: their sorted ids joined by commas (one room per set).
    direct_key  TEXT,
    last_seq    BIGINT NOT NULL,
    archived_at TIMESTAMPTZ,
    created_by  UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX chat_rooms_direct ON chat_rooms (account_id, direct_key);
CREATE INDEX chat_rooms_account ON chat_rooms (account_id, kind, id);

CREATE TABLE chat_members (
    room_id       UUID NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id    UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role          TEXT NOT NULL CHECK (role IN ('owner', 'moderator', 'member')),
    last_read_seq BIGINT NOT NULL,
    muted         BOOLEAN NOT NULL,
    joined_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX chat_members_user ON chat_members (account_id, user_id);

CREATE TABLE chat_messages (
    id         UUID PRIMARY KEY,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    room_id    UUID NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    author_id  UUID REFERENCES users (id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    parent_id  UUID REFERENCES chat_messages (id),
    edited_at  TIMESTAMPTZ,
    deleted_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX chat_messages_seq ON chat_messages (room_id, seq);
CREATE UNIQUE INDEX chat_messages_client ON chat_messages (room_id, author_id, client_id);
CREATE INDEX chat_messages_parent ON chat_messages (parent_id) WHERE parent_id IS NOT NULL;
