-- no-transaction
-- A person's identity is one of three kinds, and never two:
--   * a Chatwoot user: (installation, Chatwoot user id); Chatwoot numbers users from 1 in
--     every installation, so the id alone names nobody;
--   * a person an account's admin added in the hub: (that account, email);
--   * an operator (`whatpro-hub create-admin`): email among operators.
-- Identities are never merged by email. The unique indexes make a second row for one
-- identity impossible, so a sign-in can never find two. SQLite cannot drop the column's
-- UNIQUE on email, so the table is rebuilt (foreign keys off, outside any transaction,
-- around our own transaction, as in 0005).
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE users_rebuilt (
    id                       UUID PRIMARY KEY,
    -- No foreign key: a removed installation leaves its people unable to sign in, not
    -- turned into people of another kind.
    chatwoot_installation_id UUID,
    chatwoot_user_id         BIGINT,
    home_account_id          UUID REFERENCES accounts (id) ON DELETE CASCADE,
    email                    TEXT NOT NULL,
    name                     TEXT NOT NULL,
    avatar_url               TEXT,
    is_super_admin           BOOLEAN NOT NULL,
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL,
    CHECK ((chatwoot_installation_id IS NULL) = (chatwoot_user_id IS NULL)),
    CHECK (chatwoot_installation_id IS NULL OR home_account_id IS NULL)
);
-- A Chatwoot id gets the installation of the first account the person joined; one no
-- account explains (set by hand through the API) is dropped: only Chatwoot sets them.
INSERT INTO users_rebuilt (id, chatwoot_installation_id, chatwoot_user_id, home_account_id,
                           email, name, avatar_url, is_super_admin, created_at, updated_at)
SELECT id, installation_id, CASE WHEN installation_id IS NULL THEN NULL ELSE chatwoot_user_id END,
       NULL, email, name, avatar_url, is_super_admin, created_at, updated_at
FROM (SELECT u.*,
             (SELECT a.chatwoot_installation_id FROM account_users m
              JOIN accounts a ON a.id = m.account_id
              WHERE m.user_id = u.id AND a.chatwoot_installation_id IS NOT NULL
              ORDER BY m.created_at, a.id LIMIT 1) AS installation_id
      FROM users u WHERE u.chatwoot_user_id IS NOT NULL
      UNION ALL
      SELECT u.*, NULL FROM users u WHERE u.chatwoot_user_id IS NULL);
DROP TABLE users;
ALTER TABLE users_rebuilt RENAME TO users;

CREATE UNIQUE INDEX users_chatwoot_identity ON users (chatwoot_installation_id, chatwoot_user_id);
CREATE UNIQUE INDEX users_added_in_account ON users (home_account_id, email)
    WHERE home_account_id IS NOT NULL;
CREATE UNIQUE INDEX users_operator_email ON users (email)
    WHERE chatwoot_installation_id IS NULL AND home_account_id IS NULL;

COMMIT;
PRAGMA foreign_keys = ON;
