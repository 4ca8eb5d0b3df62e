-- SQLite's full-text index catches up in batches (ADR 30) instead of in each message's
-- insert: FTS5 writes its pending words to disk at every savepoint, and every writer is a
-- savepoint in the writers' group (ADR 29), so indexing inside the send made one index
-- segment per message, and their merges, under the writers' turn.
--
-- Docs up to `chat_search_indexed.doc` are in the index (those of live messages); the
-- rest wait for `chat::search::index`, which a search also runs first. Docs are numbered in
-- the order they are committed (AUTOINCREMENT under SQLite's one writer), so one number
-- says what is indexed.
CREATE TABLE chat_search_indexed (
    only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
    doc      INTEGER NOT NULL
);
INSERT INTO chat_search_indexed (only_row, doc)
    SELECT 1, COALESCE(MAX(doc), 0) FROM chat_search_docs;

-- The index's external content is what it holds: FTS5's integrity check and `rebuild`
-- then agree with it at any time, messages waiting or not.
DROP VIEW chat_search_content;
CREATE VIEW chat_search_content AS
    SELECT d.doc AS doc, m.body AS body
    FROM chat_search_docs d JOIN chat_messages m ON m.id = d.message_id
    WHERE m.deleted_at IS NULL AND d.doc <= (SELECT doc FROM chat_search_indexed);

DROP TRIGGER chat_messages_search_insert;
CREATE TRIGGER chat_messages_search_insert AFTER INSERT ON chat_messages BEGIN
    INSERT INTO chat_search_docs (message_id) VALUES (new.id);
END;

-- Only an indexed doc is in the index to forget or to index again; one still waiting is
-- indexed with whatever body it has then.
DROP TRIGGER chat_messages_search_update;
CREATE TRIGGER chat_messages_search_update AFTER UPDATE OF body, deleted_at ON chat_messages
BEGIN
    INSERT INTO chat_messages_fts (chat_messages_fts, rowid, body)
        SELECT 'delete', doc, old.body FROM chat_search_docs
        WHERE message_id = old.id AND old.deleted_at IS NULL
          AND doc <= (SELECT doc FROM chat_search_indexed);
    INSERT INTO chat_messages_fts (rowid, body)
        SELECT doc, new.body FROM chat_search_docs
        WHERE message_id = new.id AND new.deleted_at IS NULL
          AND doc <= (SELECT doc FROM chat_search_indexed);
END;

DROP TRIGGER chat_messages_search_delete;
CREATE TRIGGER chat_messages_search_delete AFTER DELETE ON chat_messages BEGIN
    INSERT INTO chat_messages_fts (chat_messages_fts, rowid, body)
        SELECT 'delete', doc, old.body FROM chat_search_docs
        WHERE message_id = old.id AND old.deleted_at IS NULL
          AND doc <= (SELECT doc FROM chat_search_indexed);
    DELETE FROM chat_search_docs WHERE message_id = old.id;
END;
