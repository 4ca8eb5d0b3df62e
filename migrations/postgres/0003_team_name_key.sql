-- Team names are unique per account ignoring case in every script, not only ASCII:
-- the application writes the folded name, so both engines compare the same text.
ALTER TABLE teams ADD COLUMN name_key TEXT;
UPDATE teams SET name_key = lower(name);
DROP INDEX teams_live_name;
CREATE UNIQUE INDEX teams_live_name_key ON teams (account_id, name_key) WHERE deleted_at IS NULL;
