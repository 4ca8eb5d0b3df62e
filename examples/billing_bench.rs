//! Billing under load: Asaas's webhook acknowledged, and a burst of payment events
//! processed none lost and none applied twice.
//!
//! ```sh
//! cargo run --release --example billing_bench                       # SQLite
//! cargo run --release --example billing_bench -- --database-url postgres://postgres@127.0.0.1:5432/test
//! ```
//!
//! One process serves the hub (the real server, over a fresh database) and the Asaas
//! simulator, and drives both over HTTP on 127.0.0.1: `--accounts` accounts subscribe
//! through the API; each pays its first charge and then `--cycles` more (each cycle is a
//! PAYMENT_CREATED and a PAYMENT_RECEIVED), with the simulator's webhooks held; the held
//! events are then posted to the hub `--concurrency` at a time (the acknowledgement
//! figures), processed by the hub's worker, which reads each payment back from the
//! simulator (the processing figure), and posted again (each must be a duplicate).
//! Checks: every event stored once and processed, none dead, every payment recorded, each
//! account activated exactly once.

mod common;

use std::time::Instant;

use clap::Parser;
use serde_json::json;
use whatpro_hub::simulators::asaas::{AsaasSimulator, BillingType};

use common::{Hub, post_all, report};

const KEY: &str = "$aact_bench_key";
const TOKEN: &str = "bench-webhook-token";

#[derive(Parser)]
struct Args {
    /// PostgreSQL to run on (a schema of its own is made and dropped); SQLite without.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 100)]
    accounts: usize,
    /// Paid cycles after the first payment, per account: 2 events each.
    #[arg(long, default_value_t = 49)]
    cycles: usize,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let asaas = AsaasSimulator::start(KEY).await;
    asaas.rate_limit(u32::MAX, 1);
    let asaas_url = asaas.base_url();
    let vars = [
        ("ASAAS_API_KEY", KEY),
        ("ASAAS_API_URL", asaas_url.as_str()),
        ("ASAAS_WEBHOOK_TOKEN", TOKEN),
        ("DEFAULT_PLAN_MAX_AGENTS", "1000"),
    ];
    let hub = Hub::start(
        "billing_bench",
        args.database_url.as_deref(),
        &vars,
        args.concurrency,
    )
    .await?;
    let engine = hub.engine;
    let url = format!("{}/api/v1/webhooks/asaas", hub.base);
    asaas.set_webhook(&url, TOKEN);
    let api = hub.operator("billing bench").await?;

    // Accounts subscribed, their first charges paid and more cycles billed and paid, with
    // the webhooks held back: the burst.
    let plan = api
        .post("/api/v1/plans", json!({"code": "bench", "name": "Bench", "price": "99.90",
            "cycle": "MONTHLY", "entitlements": {
                "limits": {"max_agents": 10, "max_teams": 10, "max_inboxes": 10, "max_boards": 10,
                           "max_providers": 1, "max_instances": 1, "max_monthly_messages": 1000},
                "features": {"kanban_enabled": true, "internal_chat_enabled": true, "analytics_enabled": false}}}))
        .await?;
    asaas.hold_webhooks(true);
    for n in 0..args.accounts {
        let account = api
            .post("/api/v1/accounts", json!({"name": format!("Bench {n}")}))
            .await?;
        let subscribed = api
            .post(
                &format!("/api/v1/accounts/{}/billing/subscription", account["id"].as_str().unwrap_or_default()),
                json!({"plan_id": plan["id"], "billing_type": "PIX",
                       "customer": {"name": format!("Bench {n}"), "cpf_cnpj": "52998224725", "email": format!("bench{n}@bench.test")}}),
            )
            .await?;
        let first = subscribed["payment"]["asaas_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        asaas.pay(&first, BillingType::Pix);
        let sub = asaas
            .subscriptions()
            .into_iter()
            .find(|s| s.external_reference.as_deref() == subscribed["subscription"]["id"].as_str())
            .ok_or_else(|| anyhow::anyhow!("the subscription is not at Asaas"))?;
        for _ in 0..args.cycles {
            let next = asaas.next_cycle(&sub.id);
            asaas.pay(&next, BillingType::Pix);
        }
    }
    let events: Vec<String> = asaas
        .events()
        .into_iter()
        .map(|e| e.body.to_string())
        .collect();
    let expected_payments = args.accounts * (args.cycles + 1);
    println!(
        "{engine}: {} accounts, {} payment events, {expected_payments} payments",
        args.accounts,
        events.len()
    );

    let webhook = |body: &String| {
        hub.http
            .post(&url)
            .header("asaas-access-token", TOKEN)
            .header("content-type", "application/json")
            .body(body.clone())
    };
    let started = Instant::now();
    let (latencies, failures) = post_all(&events, args.concurrency, "accepted", webhook).await;
    let elapsed = started.elapsed();
    report(
        "webhook acknowledgements",
        events.len(),
        elapsed,
        latencies,
        failures,
    )?;

    hub.drained("asaas").await?;
    println!(
        "| payment events processed, from the first post to the last done | {:.0}/s |",
        events.len() as f64 / started.elapsed().as_secs_f64()
    );

    let (_, failures) = post_all(&events, args.concurrency, "duplicate", webhook).await;
    anyhow::ensure!(
        failures == 0,
        "{failures} redeliveries were not recognised as duplicates"
    );

    let stored = hub
        .count("SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'asaas'")
        .await?;
    let dead = hub
        .count("SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'asaas' AND status = 'dead'")
        .await?;
    let payments = hub
        .count("SELECT COUNT(*) FROM payments WHERE status = 'RECEIVED'")
        .await?;
    let activated = hub
        .count("SELECT COUNT(*) FROM audit_logs WHERE action = 'subscription.activated'")
        .await?;
    let active = hub
        .count("SELECT COUNT(*) FROM subscriptions WHERE status = 'active'")
        .await?;
    println!(
        "checks: {stored} stored, {dead} dead, {payments} payments received, {active} active, {activated} activations"
    );
    anyhow::ensure!(
        stored as usize == events.len(),
        "events lost or stored twice"
    );
    anyhow::ensure!(dead == 0, "dead deliveries");
    anyhow::ensure!(payments as usize == expected_payments, "payments missing");
    anyhow::ensure!(active as usize == args.accounts, "accounts not active");
    anyhow::ensure!(
        activated as usize == args.accounts,
        "an activation applied twice or never"
    );

    hub.stop().await
}
