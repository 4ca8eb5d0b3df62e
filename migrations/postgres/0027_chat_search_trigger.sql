-- A message's tsvector is kept by a trigger instead of a generated column (ADR 23, amended):
-- same words, same folding, same empty vector for a tombstone. PostgreSQL 15 rebuilds a
-- stored generated column's expression for every statement that writes the table, and
-- inlining `chat_search_fold` means parsing its body again each time: ~10% of a send's one
-- statement. PL/pgSQL plans the expression once per connection.
ALTER TABLE chat_messages ALTER COLUMN search DROP EXPRESSION;

CREATE FUNCTION chat_messages_searchable() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.search := to_tsvector('simple'::regconfig, CASE WHEN NEW.deleted_at IS NULL
        THEN regexp_replace(chat_search_fold(NEW.body), '[[:punct:]“”‘’«»…–—¡¿·•]+', ' ', 'g')
        ELSE '' END);
    RETURN NEW;
END
$$;

CREATE TRIGGER chat_messages_searchable BEFORE INSERT OR UPDATE OF body, deleted_at
    ON chat_messages FOR EACH ROW EXECUTE FUNCTION chat_messages_searchable();
