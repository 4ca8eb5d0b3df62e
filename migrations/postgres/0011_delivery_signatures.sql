-- What Chatwoot signed (the HMAC tag, canonical hex) for each signed delivery: a second
-- delivery of one signature is a replay, whatever `X-Chatwoot-Delivery` it carries (that
-- header is not signed).
ALTER TABLE webhook_deliveries ADD COLUMN signature TEXT;
CREATE UNIQUE INDEX webhook_deliveries_signature ON webhook_deliveries (account_id, signature)
    WHERE signature IS NOT NULL;
