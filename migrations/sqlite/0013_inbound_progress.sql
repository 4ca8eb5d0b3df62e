-- Which consumers already applied a delivery that failed in a later one: its retry skips
-- them. Written only on such a failure, so a delivery that succeeds costs no row here.
CREATE TABLE inbound_progress (
    delivery_id UUID NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    consumer    TEXT NOT NULL,
    done_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (delivery_id, consumer)
);
