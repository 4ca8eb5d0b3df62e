-- What the hub keeps of a number besides its session: the behaviour settings pushed to its
-- provider (JSON), the Chatwoot inbox it is bridged to (one number per inbox), and when the
-- health check is next due (claimed by moving it forward, so replicas never check twice).
ALTER TABLE instances ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE instances ADD COLUMN chatwoot_inbox_id BIGINT;
ALTER TABLE instances ADD COLUMN check_due_at TIMESTAMPTZ;
CREATE INDEX instances_check_due ON instances (check_due_at) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX instances_inbox ON instances (account_id, chatwoot_inbox_id)
    WHERE deleted_at IS NULL AND chatwoot_inbox_id IS NOT NULL;
