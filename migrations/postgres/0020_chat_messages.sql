-- Team chat, messages (ADR 23): the rendered HTML kept beside the Markdown, threads one
-- level deep with their reply count in the parent's row, mentions and reactions.
--
-- `html` is rendered and sanitised once, at send and at edit; a mention is kept as an
-- empty `<span class="mention" data-user-id="…"></span>` and filled with the person's
-- current name when read. A deleted message keeps its row and seq (a tombstone) with
-- `body` and `html` emptied.
ALTER TABLE chat_messages ADD COLUMN html TEXT NOT NULL DEFAULT '';
ALTER TABLE chat_messages ADD COLUMN mentions_room BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE chat_messages ADD COLUMN reply_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chat_messages ADD COLUMN last_reply_at TIMESTAMPTZ;

-- The room's timeline (top-level messages) and a thread's replies, each paged by seq.
DROP INDEX chat_messages_parent;
CREATE INDEX chat_messages_timeline ON chat_messages (room_id, seq) WHERE parent_id IS NULL;
CREATE INDEX chat_messages_thread ON chat_messages (parent_id, seq) WHERE parent_id IS NOT NULL;

-- Who a message mentions, with the message's seq: a member's unread mentions in a room are
-- their rows past their read marker. `@room` writes a row for each member but the author.
CREATE TABLE chat_mentions (
    message_id UUID NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id    UUID NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (message_id, user_id)
);
CREATE INDEX chat_mentions_unread ON chat_mentions (user_id, room_id, seq);

-- One of each emoji per person and message.
CREATE TABLE chat_reactions (
    message_id UUID NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    account_id UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
);
