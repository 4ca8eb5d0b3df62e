-- What the admin list of deliveries filters and sorts on (an account's deliveries of one
-- status, newest first), and what the cleanup of processed deliveries looks for (done ones
-- by age). Without them, both read every delivery of the account or of the table.
CREATE INDEX webhook_deliveries_account_status ON webhook_deliveries (account_id, status, id);
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (received_at) WHERE status = 'done';
