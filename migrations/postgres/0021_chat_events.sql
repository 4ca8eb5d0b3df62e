-- Team chat realtime (ADR 24): everything that happens in a room takes the room's next
-- `event_seq` in the transaction that makes it, and is kept here, so a WebSocket that
-- reconnects is sent exactly what it missed, from the database, in order. Rows name what
-- changed (ids only); frames are built from the current state when they are sent.
ALTER TABLE chat_rooms ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;

CREATE TABLE chat_events (
    room_id    UUID NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- message.created | message.updated | room.updated | member.removed
    kind       TEXT NOT NULL,
    message_id UUID,
    -- The person a member.removed event took out of the room.
    user_id    UUID,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (room_id, seq)
);
CREATE INDEX chat_events_created ON chat_events (account_id, created_at);
