-- Realtime boards: a board's revision moves on with every change to its stages or cards
-- (clients catch up by comparing it, and the card list is cached per revision); each card
-- knows when it entered its stage (SLA badges); streams are opened with one-use tickets.

ALTER TABLE boards ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;

ALTER TABLE cards ADD COLUMN stage_entered_at TIMESTAMPTZ;
UPDATE cards SET stage_entered_at = COALESCE(
    (SELECT MAX(e.created_at) FROM card_events e
     WHERE e.card_id = cards.id AND e.to_stage_id = cards.stage_id),
    created_at);
ALTER TABLE cards ALTER COLUMN stage_entered_at SET NOT NULL;

CREATE TABLE realtime_tickets (
    id          UUID PRIMARY KEY,
    token_hash  BYTEA NOT NULL UNIQUE,
    account_id  UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    session_id  UUID NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX realtime_tickets_expiry ON realtime_tickets (expires_at);

-- The conversation status a card last saw (or last wrote back to Chatwoot): status rules
-- fire on a change of status, so the echo of a write-back does not move the card again.
ALTER TABLE cards ADD COLUMN chatwoot_status TEXT;
-- Until when (µs) Chatwoot's events about the card are echoes of a write-back in flight:
-- they update its fields but move it nowhere.
ALTER TABLE cards ADD COLUMN chatwoot_quiet_until_micros BIGINT;

-- A stage's cards by account, in order: what placing and shifting cards reads. Without it a
-- table not yet analysed gets statements keyed by account planned through `cards_contact`.
CREATE INDEX cards_account_stage ON cards (account_id, stage_id, position);
