-- Team chat search (issue 16, ADR 23): a generated tsvector of each live message's body
-- with a GIN index; PostgreSQL recomputes it on every insert and edit, and a tombstone's
-- is empty (its text, even one that kept its body, is never findable).
--
-- The `simple` configuration (no stemming, no stop words) works for Portuguese and English
-- alike. Words are folded by `chat_search_fold`: accents off, then lower case (in that
-- order, so the folding does not depend on the database's locale); the query is folded by
-- the same function. Punctuation separates words, as in SQLite's FTS5 (`e-mail` is "e" and
-- "mail"; an address or a URL is its words), rather than the parser's emails and URLs.
-- No extension needed.
CREATE FUNCTION chat_search_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT pg_catalog.lower(pg_catalog.translate($1,
        'áàâãäåéèêëíìîïóòôõöøúùûüýÿçñÁÀÂÃÄÅÉÈÊËÍÌÎÏÓÒÔÕÖØÚÙÛÜÝÇÑ',
        'aaaaaaeeeeiiiioooooouuuuyycnAAAAAAEEEEIIIIOOOOOOUUUUYCN')) $$;

ALTER TABLE chat_messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    to_tsvector('simple'::regconfig, CASE WHEN deleted_at IS NULL
        THEN regexp_replace(chat_search_fold(body), '[[:punct:]“”‘’«»…–—¡¿·•]+', ' ', 'g')
        ELSE '' END)
) STORED;
CREATE INDEX chat_messages_search ON chat_messages USING GIN (search);
