-- Team chat, Chatwoot conversation references (issue 16, ADR 26): the conversations a
-- message refers to (`#123`, or an address of a conversation of the account's Chatwoot),
-- by Chatwoot's display id, in the order written, at most 10 a message. Rewritten at each
-- edit, emptied when the message becomes a tombstone. Kept in rows rather than parsed from
-- `html` again, so "where was conversation 123 talked about" is one indexed lookup.
CREATE TABLE chat_conversation_refs (
    message_id      UUID NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    account_id      UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    room_id         UUID NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    conversation_id BIGINT NOT NULL,
    PRIMARY KEY (message_id, conversation_id)
);
CREATE INDEX chat_conversation_refs_conversation
    ON chat_conversation_refs (account_id, conversation_id);
