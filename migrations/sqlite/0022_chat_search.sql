-- Team chat search (issue 16, ADR 23): an FTS5 index over the live messages' bodies, kept
-- by triggers, so every insert, edit and delete changes the index in the same statement.
--
-- The index's rowids are `chat_search_docs.doc`, never `chat_messages.rowid`: a table
-- without an INTEGER PRIMARY KEY may have its rowids renumbered by VACUUM (or VACUUM INTO,
-- a backup), which would leave the index pointing at other messages. AUTOINCREMENT never
-- hands a number out twice.
CREATE TABLE chat_search_docs (
    doc        INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id UUID NOT NULL
);
CREATE UNIQUE INDEX chat_search_docs_message ON chat_search_docs (message_id);

-- What the index holds: the body of each message not deleted (a tombstone's text, even one
-- that kept its body, is never findable). The external content of the FTS5 table, so
-- `INSERT INTO chat_messages_fts(chat_messages_fts) VALUES ('rebuild')` rebuilds it.
CREATE VIEW chat_search_content AS
    SELECT d.doc AS doc, m.body AS body
    FROM chat_search_docs d JOIN chat_messages m ON m.id = d.message_id
    WHERE m.deleted_at IS NULL;

-- Words are runs of letters and digits, case- and accent-folded ("Ação" is "acao").
CREATE VIRTUAL TABLE chat_messages_fts USING fts5 (
    body,
    content = 'chat_search_content',
    content_rowid = 'doc',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER chat_messages_search_insert AFTER INSERT ON chat_messages BEGIN
    INSERT INTO chat_search_docs (message_id) VALUES (new.id);
    INSERT INTO chat_messages_fts (rowid, body)
        SELECT doc, new.body FROM chat_search_docs
        WHERE message_id = new.id AND new.deleted_at IS NULL;
END;

-- An external-content index forgets a row by being told the text it indexed.
CREATE TRIGGER chat_messages_search_update AFTER UPDATE OF body, deleted_at ON chat_messages
BEGIN
    INSERT INTO chat_messages_fts (chat_messages_fts, rowid, body)
        SELECT 'delete', doc, old.body FROM chat_search_docs
        WHERE message_id = old.id AND old.deleted_at IS NULL;
    INSERT INTO chat_messages_fts (rowid, body)
        SELECT doc, new.body FROM chat_search_docs
        WHERE message_id = new.id AND new.deleted_at IS NULL;
END;

-- Also run for rows removed by a cascade (a room or an account deleted).
CREATE TRIGGER chat_messages_search_delete AFTER DELETE ON chat_messages BEGIN
    INSERT INTO chat_messages_fts (chat_messages_fts, rowid, body)
        SELECT 'delete', doc, old.body FROM chat_search_docs
        WHERE message_id = old.id AND old.deleted_at IS NULL;
    DELETE FROM chat_search_docs WHERE message_id = old.id;
END;

-- Messages sent before this migration.
INSERT INTO chat_search_docs (message_id)
    SELECT id FROM chat_messages ORDER BY created_at, id;
INSERT INTO chat_messages_fts (chat_messages_fts) VALUES ('rebuild');
