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

use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use whatpro_hub::{
    app::{config::Config, server, state::AppState},
    auth::sessions,
    on_db,
    platform::db::Db,
    simulators::asaas::{AsaasSimulator, BillingType},
    tenancy::users::store::{self as users, Identity, NewUser},
};

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
    let dir = tempfile::tempdir()?;
    let (db_url, engine) = match &args.database_url {
        Some(url) => (fresh_schema(url).await?, "postgres"),
        None => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            "sqlite",
        ),
    };
    let asaas = AsaasSimulator::start(KEY).await;
    asaas.rate_limit(u32::MAX, 1);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let config = Config::from_vars(
        [
            ("DATABASE_URL", db_url.as_str()),
            ("PUBLIC_URL", base.as_str()),
            ("ASAAS_API_KEY", KEY),
            ("ASAAS_API_URL", asaas.base_url().as_str()),
            ("ASAAS_WEBHOOK_TOKEN", TOKEN),
            ("RATE_LIMIT_PER_MINUTE", "1000000000"),
            ("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "1000000000"),
            ("DEFAULT_PLAN_MAX_AGENTS", "1000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    )?;
    let db = Db::connect(&config.database_url, 16).await?;
    db.migrate().await?;
    let state = AppState::new(db.clone(), config).await?;
    let shutdown = CancellationToken::new();
    let hub = tokio::spawn(server::serve(state.clone(), listener, shutdown.clone()));
    asaas.set_webhook(&format!("{base}/api/v1/webhooks/asaas"), TOKEN);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let api = Api {
        http: http.clone(),
        base: base.clone(),
        token: operator_token(&state).await?,
    };

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

    let started = Instant::now();
    let (latencies, failures) = post_all(&http, &base, &events, args.concurrency, "accepted").await;
    let elapsed = started.elapsed();
    report(
        "webhook acknowledgements",
        events.len(),
        elapsed,
        latencies,
        failures,
    )?;

    loop {
        let open = count(&db, "SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'asaas' AND status IN ('pending', 'processing')").await?;
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "| payment events processed, from the first post to the last done | {:.0}/s |",
        events.len() as f64 / started.elapsed().as_secs_f64()
    );

    let (_, failures) = post_all(&http, &base, &events, args.concurrency, "duplicate").await;
    anyhow::ensure!(
        failures == 0,
        "{failures} redeliveries were not recognised as duplicates"
    );

    let stored = count(
        &db,
        "SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'asaas'",
    )
    .await?;
    let dead = count(
        &db,
        "SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'asaas' AND status = 'dead'",
    )
    .await?;
    let payments = count(
        &db,
        "SELECT COUNT(*) FROM payments WHERE status = 'RECEIVED'",
    )
    .await?;
    let activated = count(
        &db,
        "SELECT COUNT(*) FROM audit_logs WHERE action = 'subscription.activated'",
    )
    .await?;
    let active = count(
        &db,
        "SELECT COUNT(*) FROM subscriptions WHERE status = 'active'",
    )
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

    shutdown.cancel();
    let _ = hub.await;
    db.close().await;
    if let Some(url) = &args.database_url {
        let admin = Db::connect(url, 1).await?;
        if let Db::Postgres(pool) = &admin {
            let drop = format!("DROP SCHEMA {} CASCADE", schema_name());
            sqlx::query(sqlx::AssertSqlSafe(drop)).execute(pool).await?;
        }
        admin.close().await;
    }
    Ok(())
}

fn schema_name() -> String {
    format!("billing_bench_{}", std::process::id())
}

/// Posts every body to the webhook, `concurrency` at a time; each answer must be 200 with
/// `status` = `expected`. Answers the latencies (µs) and how many failed.
async fn post_all(
    http: &reqwest::Client,
    base: &str,
    bodies: &[String],
    concurrency: usize,
    expected: &'static str,
) -> (Vec<u64>, usize) {
    let url = format!("{base}/api/v1/webhooks/asaas");
    let outcomes: Vec<(u64, bool)> = stream::iter(bodies)
        .map(|body| {
            let request = http
                .post(&url)
                .header("asaas-access-token", TOKEN)
                .header("content-type", "application/json")
                .body(body.clone());
            async move {
                let at = Instant::now();
                let ok = match request.send().await {
                    Ok(response) if response.status() == 200 => response
                        .json::<Value>()
                        .await
                        .is_ok_and(|b| b["status"] == expected),
                    _ => false,
                };
                (at.elapsed().as_micros() as u64, ok)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let failures = outcomes.iter().filter(|(_, ok)| !ok).count();
    (outcomes.into_iter().map(|(us, _)| us).collect(), failures)
}

fn report(
    what: &str,
    count: usize,
    elapsed: Duration,
    mut latencies: Vec<u64>,
    failures: usize,
) -> anyhow::Result<()> {
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)] as f64 / 1000.0
    };
    println!(
        "| {what} | {:.0}/s | p50 {:.1} ms | p99 {:.1} ms | {failures} failed |",
        count as f64 / elapsed.as_secs_f64(),
        at(0.5),
        at(0.99)
    );
    anyhow::ensure!(failures == 0, "{failures} of {count} were not acknowledged");
    Ok(())
}

async fn count(db: &Db, sql: &'static str) -> anyhow::Result<i64> {
    Ok(on_db!(db, pool => sqlx::query_scalar(sql).fetch_one(pool).await?))
}

/// A super admin's access token, minted as `whatpro-hub token` mints one.
async fn operator_token(state: &AppState) -> anyhow::Result<String> {
    let mut tx = state.db.begin().await?;
    let user_id = users::insert_user(
        &mut tx,
        &NewUser {
            identity: Identity::Operator,
            email: "bench@hub.test",
            name: "Bench",
            avatar_url: None,
            is_super_admin: true,
        },
    )
    .await?;
    let new = sessions::NewSession {
        user_id,
        account_id: None,
        method: sessions::Method::Cli,
        device: Some("billing bench"),
        client: None,
    };
    let issued = sessions::open_for(&mut tx, state, new, Duration::from_secs(3600)).await?;
    tx.commit().await?;
    Ok(issued.access.token)
}

/// A PostgreSQL schema of its own, named in the URL's `options`.
async fn fresh_schema(url: &str) -> anyhow::Result<String> {
    let schema = schema_name();
    let db = Db::connect(url, 1).await?;
    if let Db::Postgres(pool) = &db {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(pool)
            .await?;
    }
    db.close().await;
    let joiner = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{joiner}options=-c%20search_path%3D{schema}"))
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }
}
