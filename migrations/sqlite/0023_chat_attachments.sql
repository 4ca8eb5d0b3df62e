-- Team chat attachments (ADR 25). A file is uploaded first (its row has no message yet) and
-- then sent with a message, which claims it; deleting the message (a tombstone) deletes its
-- rows, and the stored files after commit.
--
-- `storage_key` and `thumbnail_key` are random names in the file store (local disk or an
-- S3 bucket), never derived from the client's file name; `filename` is only shown.
CREATE TABLE chat_attachments (
    id            UUID PRIMARY KEY,
    account_id    UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    room_id       UUID NOT NULL REFERENCES chat_rooms (id) ON DELETE CASCADE,
    uploader_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id    UUID REFERENCES chat_messages (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL DEFAULT 0,
    filename      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    width         INTEGER,
    height        INTEGER,
    storage_key   TEXT NOT NULL,
    thumbnail_key TEXT,
    thumbnail_type TEXT,
    created_at    TIMESTAMPTZ NOT NULL
);
-- A message's files in the order they were sent.
CREATE INDEX chat_attachments_message ON chat_attachments (message_id, position)
    WHERE message_id IS NOT NULL;
-- Uploads never sent, oldest first (for their cleanup).
CREATE INDEX chat_attachments_unsent ON chat_attachments (created_at) WHERE message_id IS NULL;
