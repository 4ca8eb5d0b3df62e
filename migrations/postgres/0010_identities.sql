-- A person's identity is one of three kinds, and never two:
--   * a Chatwoot user: (installation, Chatwoot user id); Chatwoot numbers users from 1 in
--     every installation, so the id alone names nobody;
--   * a person an account's admin added in the hub: (that account, email);
--   * an operator (`whatpro-hub create-admin`): email among operators.
-- Identities are never merged by email. The unique indexes make a second row for one
-- identity impossible, so a sign-in can never find two.
-- No foreign key on the installation: a removed installation leaves its people unable to
-- sign in, not turned into people of another kind.
ALTER TABLE users ADD COLUMN chatwoot_installation_id UUID;
ALTER TABLE users ADD COLUMN home_account_id UUID REFERENCES accounts (id) ON DELETE CASCADE;

-- A Chatwoot id gets the installation of the first account the person joined; one no
-- account explains (set by hand through the API) is dropped: only Chatwoot sets them.
UPDATE users u SET chatwoot_installation_id = (
    SELECT a.chatwoot_installation_id FROM account_users m
    JOIN accounts a ON a.id = m.account_id
    WHERE m.user_id = u.id AND a.chatwoot_installation_id IS NOT NULL
    ORDER BY m.created_at, a.id LIMIT 1)
WHERE u.chatwoot_user_id IS NOT NULL;
UPDATE users SET chatwoot_user_id = NULL WHERE chatwoot_installation_id IS NULL;

ALTER TABLE users DROP CONSTRAINT users_email_key;
ALTER TABLE users ADD CONSTRAINT users_chatwoot_pair
    CHECK ((chatwoot_installation_id IS NULL) = (chatwoot_user_id IS NULL));
ALTER TABLE users ADD CONSTRAINT users_one_kind
    CHECK (chatwoot_installation_id IS NULL OR home_account_id IS NULL);

CREATE UNIQUE INDEX users_chatwoot_identity ON users (chatwoot_installation_id, chatwoot_user_id);
CREATE UNIQUE INDEX users_added_in_account ON users (home_account_id, email)
    WHERE home_account_id IS NOT NULL;
CREATE UNIQUE INDEX users_operator_email ON users (email)
    WHERE chatwoot_installation_id IS NULL AND home_account_id IS NULL;
