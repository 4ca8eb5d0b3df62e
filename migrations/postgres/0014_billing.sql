-- Billing (plans, Asaas customers, subscriptions, payments, metering), and deliveries that
-- belong to no account when received: Asaas posts every account's events to one URL, so
-- an Asaas delivery is keyed by its event id alone.
-- Plans the operator sells; a subscription links an account to one through Asaas, and
-- its payments mirror Asaas's charges. Money is kept in cents.
CREATE TABLE plans (
    id           UUID PRIMARY KEY,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    price_cents  BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    cycle        TEXT NOT NULL,
    trial_days   INTEGER NOT NULL,
    entitlements JSONB NOT NULL,
    active       BOOLEAN NOT NULL,
    position     INTEGER NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX plans_code ON plans (code);

-- The account's customer at Asaas, made once and reused by every later subscription.
CREATE TABLE billing_customers (
    account_id   UUID PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    asaas_id     TEXT NOT NULL,
    name         TEXT NOT NULL,
    cpf_cnpj     TEXT NOT NULL,
    email        TEXT NOT NULL,
    mobile_phone TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE subscriptions (
    id                   UUID PRIMARY KEY,
    account_id           UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    plan_id              UUID NOT NULL REFERENCES plans (id),
    pending_plan_id      UUID REFERENCES plans (id),
    status               TEXT NOT NULL CHECK (status IN
                             ('pending', 'trialing', 'active', 'past_due', 'suspended', 'canceled')),
    billing_type         TEXT NOT NULL,
    asaas_id             TEXT,
    trial_ends_at        TIMESTAMPTZ,
    current_period_end   TIMESTAMPTZ,
    next_due_date        DATE,
    grace_until          TIMESTAMPTZ,
    cancel_at_period_end BOOLEAN NOT NULL,
    -- When a scheduled downgrade or cancellation takes effect: the end of the period paid
    -- when it was asked for (a charge paid early does not move it).
    change_at            TIMESTAMPTZ,
    canceled_at          TIMESTAMPTZ,
    -- While a subscribe is talking to Asaas: a second one waits rather than making a
    -- second subscription there.
    attempt_until        TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL
);
-- One live subscription per account: two subscribes racing cannot both succeed.
CREATE UNIQUE INDEX subscriptions_live ON subscriptions (account_id) WHERE status <> 'canceled';
CREATE UNIQUE INDEX subscriptions_asaas ON subscriptions (asaas_id);
CREATE INDEX subscriptions_account ON subscriptions (account_id, id);
CREATE INDEX subscriptions_status ON subscriptions (status);

CREATE TABLE payments (
    id              UUID PRIMARY KEY,
    account_id      UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    subscription_id UUID NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    asaas_id        TEXT NOT NULL,
    value_cents     BIGINT NOT NULL,
    status          TEXT NOT NULL,
    billing_type    TEXT NOT NULL,
    due_date        DATE NOT NULL,
    paid_at         TIMESTAMPTZ,
    invoice_url     TEXT,
    deleted         BOOLEAN NOT NULL,
    -- When what is stored was read from Asaas, in microseconds since 1970 (taken before
    -- the request; seconds would tie): an older read never overwrites a newer one.
    fetched_at      BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX payments_asaas ON payments (asaas_id);
CREATE INDEX payments_account ON payments (account_id, id);
CREATE INDEX payments_subscription ON payments (subscription_id, due_date);

-- Metering, per account and calendar month (UTC, 'YYYY-MM'). Each counted message and
-- agent has a row, so a message delivered twice is counted once; the month's totals and
-- the share of the limit last announced sit beside them.
CREATE TABLE usage_months (
    account_id        UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    month             TEXT NOT NULL,
    messages          BIGINT NOT NULL,
    active_agents     BIGINT NOT NULL,
    announced_percent INTEGER NOT NULL,
    PRIMARY KEY (account_id, month)
);
CREATE TABLE metered_messages (
    account_id          UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    chatwoot_message_id BIGINT NOT NULL,
    month               TEXT NOT NULL,
    PRIMARY KEY (account_id, chatwoot_message_id)
);
CREATE TABLE metered_agents (
    account_id       UUID NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    month            TEXT NOT NULL,
    chatwoot_user_id BIGINT NOT NULL,
    PRIMARY KEY (account_id, month, chatwoot_user_id)
);

ALTER TABLE webhook_deliveries ALTER COLUMN account_id DROP NOT NULL;
-- Why a delivery was done without doing anything (an event no one handles, a payment of
-- no subscription of ours); NULL when it was applied.
ALTER TABLE webhook_deliveries ADD COLUMN ignored TEXT;
CREATE UNIQUE INDEX webhook_deliveries_unowned ON webhook_deliveries (source, dedupe_key)
    WHERE account_id IS NULL;
