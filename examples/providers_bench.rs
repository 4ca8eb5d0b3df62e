//! Provider numbers under load: Evolution's webhook acknowledged, and 1,000 numbers
//! health-checked within one interval while the API keeps answering.
//!
//! ```sh
//! cargo run --release --example providers_bench                       # SQLite
//! cargo run --release --example providers_bench -- --database-url postgres://postgres@127.0.0.1:5432/test
//! ```
//!
//! One process serves the hub (the real server with its workers, over a fresh database;
//! its own health scheduler off) and `--servers` Evolution simulators, and drives them over
//! HTTP on 127.0.0.1. One account gets `--members` members and, through the API, one
//! provider per server with `--per-server` numbers each; one number in `--connected-every`
//! is connected (QR asked, then scanned on the simulator).
//!
//! 1. Webhooks: `--events` distinct `messages.upsert` events, spread over the numbers, are
//!    posted to `POST /api/v1/webhooks/providers/{id}` with each number's secret,
//!    `--concurrency` at a time (the acknowledgement figures); the worker applies them (the
//!    processing figure); then every one is posted again, the worker idle, and must answer
//!    `duplicate`.
//! 2. Health: every number is made due and one pass of the scheduler's own
//!    `providers::health::check_due` checks them all, while `GET …/users?limit=100` is loaded
//!    `--list-concurrency` at a time; then the same load runs as long again without a pass,
//!    and a pass runs again without the load.
//!
//! Checks: every event stored once and processed, none dead; every number checked once by
//! each pass and given its next check; the pass within the interval; no list request failed.

mod common;

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use whatpro_hub::{
    on_db, on_writer,
    providers::{adapters::SECRET_HEADER, health, instances},
    simulators::evolution::EvolutionSimulator,
};

use common::{Api, Figures, Hub, post_all, report};

/// The Evolution servers' global key.
const KEY: &str = "bench-evolution-key";
/// The interval a pass must fit in (`INSTANCE_CHECK_SECONDS`' default).
const EVERY: Duration = Duration::from_secs(60);
/// API calls in flight while setting up.
const SETUP_CONCURRENCY: usize = 8;

#[derive(Parser)]
struct Args {
    /// PostgreSQL to run on (a schema of its own is made and dropped); SQLite without.
    #[arg(long)]
    database_url: Option<String>,
    /// Evolution servers (simulators), one provider each.
    #[arg(long, default_value_t = 4)]
    servers: usize,
    /// Numbers per server.
    #[arg(long, default_value_t = 250)]
    per_server: usize,
    /// One number in this many is connected.
    #[arg(long, default_value_t = 4)]
    connected_every: usize,
    /// Members of the account: what the users list returns.
    #[arg(long, default_value_t = 100)]
    members: usize,
    /// Webhook events to post.
    #[arg(long, default_value_t = 20_000)]
    events: usize,
    /// Webhook posts in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Users-list requests in flight at once, during the health pass and without it.
    #[arg(long, default_value_t = 16)]
    list_concurrency: usize,
}

/// A number the hub made on a server.
struct Number {
    id: Uuid,
    name: String,
    server_url: String,
    /// What its provider sends back in `x-whatpro-webhook-token`.
    secret: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // As the hub's `main` does: the simulators' webhook clients need it.
    whatpro_hub::platform::install_crypto_provider();
    let mut servers = Vec::new();
    for _ in 0..args.servers {
        servers.push(EvolutionSimulator::start(KEY).await);
    }
    let quota = (args.servers * args.per_server).to_string();
    let vars = [
        ("DEFAULT_PLAN_MAX_AGENTS", "100000"),
        ("DEFAULT_PLAN_MAX_PROVIDERS", "1000"),
        ("DEFAULT_PLAN_MAX_INSTANCES", quota.as_str()),
        // The bench runs the passes itself.
        ("INSTANCE_CHECK_SECONDS", "0"),
    ];
    let hub = Hub::start(
        "providers_bench",
        args.database_url.as_deref(),
        &vars,
        args.concurrency,
    )
    .await?;
    let api = hub.operator("providers bench").await?;

    let started = Instant::now();
    let (account, numbers) = set_up(&hub, &api, &servers, &args).await?;
    println!(
        "{}: {} members, {} servers, {} numbers ({} connected), set up in {:.1} s",
        hub.engine,
        args.members,
        servers.len(),
        numbers.len(),
        numbers.len().div_ceil(args.connected_every),
        started.elapsed().as_secs_f64()
    );

    webhooks(&hub, &numbers, &args).await?;
    health_pass(&hub, &api, &account, numbers.len(), &args).await?;
    hub.stop().await
}

/// The account, its members, one provider per server and its numbers, some connected, each
/// with its webhook secret. Answers the account's id and the numbers.
async fn set_up(
    hub: &Hub,
    api: &Api,
    servers: &[EvolutionSimulator],
    args: &Args,
) -> anyhow::Result<(String, Vec<Number>)> {
    let account = api
        .post("/api/v1/accounts", json!({"name": "Providers bench"}))
        .await?;
    let account = text(&account["id"])?;
    let path = |p: &str| format!("/api/v1/accounts/{account}{p}");

    let members = (0..args.members)
        .map(|i| json!({"email": format!("agent{i}@bench.test"), "name": format!("Agent {i}")}));
    let users = path("/users");
    stream::iter(members)
        .map(|body| api.post(&users, body))
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;

    let mut numbers = Vec::new();
    let mut to_connect = Vec::new();
    for (s, server) in servers.iter().enumerate() {
        let provider = api
            .post(
                &path("/providers"),
                json!({"type": "evolution", "name": format!("Evolution {s}"),
                    "base_url": server.base_url(), "credentials": {"api_key": KEY}}),
            )
            .await?;
        let instances = path("/instances");
        let names = (0..args.per_server).map(|i| format!("s{s}-n{i}"));
        let made: Vec<Value> = stream::iter(names)
            .map(|name| {
                let body = json!({"provider_id": provider["id"], "name": name});
                api.post(&instances, body)
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await?;
        for (i, instance) in made.iter().enumerate() {
            let id = Uuid::parse_str(&text(&instance["id"])?)?;
            if i % args.connected_every == 0 {
                to_connect.push((server, numbers.len()));
            }
            numbers.push(Number {
                id,
                name: text(&instance["name"])?,
                server_url: server.base_url(),
                secret: webhook_secret(hub, id).await?,
            });
        }
    }

    // Connected: every QR asked for and its event applied, then every QR scanned. (A QR's
    // event applied after the scan's can leave a number `qr_pending` until its next check
    // on PostgreSQL, whose two workers apply events side by side.)
    let connect = |n: usize| {
        let url = path(&format!("/instances/{}/connect", numbers[n].id));
        async move { api.post(&url, json!({"method": "qr"})).await }
    };
    stream::iter(&to_connect)
        .map(|&(_, n)| connect(n))
        .buffer_unordered(SETUP_CONCURRENCY)
        .try_collect::<Vec<_>>()
        .await?;
    let qrs = "SELECT COUNT(*) FROM webhook_deliveries
               WHERE event = 'qrcode.updated' AND status = 'done'";
    until(hub, qrs, to_connect.len(), "QRs shown").await?;
    for &(server, n) in &to_connect {
        server.scan(&numbers[n].name, &format!("55119{n:08}"));
    }
    let connected = "SELECT COUNT(*) FROM instances WHERE status = 'connected'";
    until(hub, connected, to_connect.len(), "numbers connected").await?;
    hub.drained("providers").await?;
    Ok((account, numbers))
}

/// Waits until `sql` counts `n`, for a minute at most.
async fn until(hub: &Hub, sql: &'static str, n: usize, what: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while hub.count(sql).await? < n as i64 {
        anyhow::ensure!(Instant::now() < deadline, "{what}: not all within a minute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn text(value: &Value) -> anyhow::Result<String> {
    value
        .as_str()
        .map(String::from)
        .with_context(|| format!("not a string: {value}"))
}

/// The secret the hub gave instance `id`, opened from the database as the hub opens it.
async fn webhook_secret(hub: &Hub, id: Uuid) -> anyhow::Result<String> {
    let sql = "SELECT webhook_secret FROM instances WHERE id = $1";
    let sealed: String = on_db!(&hub.state.db, pool => sqlx::query_scalar(sql)
        .bind(id).fetch_one(pool).await?);
    Ok(instances::open_secret(&hub.state.vault, id, &sealed)?)
}

/// One event posted to a number's webhook.
struct Event<'a> {
    url: String,
    secret: &'a str,
    body: String,
}

/// Evolution's `messages.upsert`, the `n`th message, received by `number`.
fn message_upsert(number: &Number, url: &str, n: usize) -> String {
    json!({
        "event": "messages.upsert",
        "instance": number.name,
        "data": {
            "key": {"remoteJid": format!("55119{:08}@s.whatsapp.net", n % 100_000_000),
                    "fromMe": false, "id": format!("3EB0{n:016X}"), "addressingMode": "pn"},
            "pushName": "Maria",
            "status": "DELIVERY_ACK",
            "message": {"conversation": "Oi, preciso de ajuda", "messageContextInfo": {}},
            "messageType": "conversation",
            "messageTimestamp": 1_761_058_839 + n,
            "instanceId": number.id,
            "source": "ios"
        },
        "destination": url,
        "date_time": "2025-10-21T11:40:39.123Z",
        "sender": "5511999990000@s.whatsapp.net",
        "server_url": number.server_url,
        "apikey": "C0FFEE00-1111-2222-3333-444455556666"
    })
    .to_string()
}

/// Part 1: the events acknowledged, processed, and recognised when posted again.
async fn webhooks(hub: &Hub, numbers: &[Number], args: &Args) -> anyhow::Result<()> {
    let events: Vec<Event> = (0..args.events)
        .map(|n| {
            let number = &numbers[n % numbers.len()];
            let url = format!("{}/api/v1/webhooks/providers/{}", hub.base, number.id);
            let body = message_upsert(number, &url, n);
            Event {
                url,
                secret: &number.secret,
                body,
            }
        })
        .collect();
    let post = |event: &Event| {
        hub.http
            .post(&event.url)
            .header(SECRET_HEADER, event.secret)
            .header("content-type", "application/json")
            .body(event.body.clone())
    };

    let started = Instant::now();
    let (latencies, failures) = post_all(&events, args.concurrency, "accepted", post).await;
    let elapsed = started.elapsed();
    report(
        "Evolution webhook acknowledgements",
        events.len(),
        elapsed,
        latencies,
        failures,
    )?;
    hub.drained("providers").await?;
    println!(
        "| events processed, from the first post to the last done | {:.0}/s |",
        events.len() as f64 / started.elapsed().as_secs_f64()
    );

    // Posted again, the worker idle: each must be a duplicate.
    let started = Instant::now();
    let (latencies, failures) = post_all(&events, args.concurrency, "duplicate", post).await;
    report(
        "the same events again, answered duplicate",
        events.len(),
        started.elapsed(),
        latencies,
        failures,
    )?;

    let messages = "SELECT COUNT(*) FROM webhook_deliveries
                    WHERE source = 'providers' AND event = 'messages.upsert'";
    let stored = hub.count(messages).await?;
    let done = hub
        .count(
            "SELECT COUNT(*) FROM webhook_deliveries
             WHERE source = 'providers' AND event = 'messages.upsert' AND status = 'done'",
        )
        .await?;
    let dead = hub
        .count("SELECT COUNT(*) FROM webhook_deliveries WHERE source = 'providers' AND status = 'dead'")
        .await?;
    println!("checks: {stored} stored, {done} done, {dead} dead");
    anyhow::ensure!(
        stored as usize == events.len(),
        "events lost or stored twice"
    );
    anyhow::ensure!(done == stored, "events not processed");
    anyhow::ensure!(dead == 0, "dead deliveries");
    Ok(())
}

/// Part 2: one pass over every number while the users list is loaded, then the same load
/// as long without a pass, and a pass without the load.
async fn health_pass(
    hub: &Hub,
    api: &Api,
    account: &str,
    numbers: usize,
    args: &Args,
) -> anyhow::Result<()> {
    let list = format!("/api/v1/accounts/{account}/users?limit=100");
    let listed = api.send(reqwest::Method::GET, &list, None).await?;
    let members = listed["items"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(
        members == args.members.min(100),
        "the list has {members} users"
    );

    // The pass, with the list loaded meanwhile.
    let stop = CancellationToken::new();
    let pass = async {
        let pass = timed_pass(hub).await;
        stop.cancel();
        pass
    };
    let (pass, during) = tokio::join!(pass, load(api, &list, args.list_concurrency, &stop));
    let ((pass, took), during) = (pass?, during?);
    print_pass(
        &format!("one health pass over {numbers} numbers"),
        &pass,
        took,
    );
    let undue = hub
        .count("SELECT COUNT(*) FROM instances WHERE check_due_at IS NULL")
        .await?;

    // The list loaded as long without a pass; then a pass without the list.
    let stop = CancellationToken::new();
    let timer = async {
        tokio::time::sleep(took).await;
        stop.cancel();
    };
    let ((), quiet) = tokio::join!(timer, load(api, &list, args.list_concurrency, &stop));
    let quiet = quiet?;
    let (alone, alone_took) = timed_pass(hub).await?;
    print_pass("the same pass, the list not loaded", &alone, alone_took);
    let c = args.list_concurrency;
    during.print(&format!("users list, {c} in flight, during the pass"));
    quiet.print(&format!("users list, {c} in flight, without a pass"));

    println!(
        "checks: {} checked, {undue} left unscheduled, {} + {} list requests failed",
        pass.checked, during.failures, quiet.failures
    );
    anyhow::ensure!(pass.checked == numbers, "numbers checked twice or never");
    anyhow::ensure!(alone.checked == numbers, "numbers checked twice or never");
    anyhow::ensure!(took < EVERY, "the pass took longer than the interval");
    anyhow::ensure!(undue == 0, "numbers left without a next check");
    anyhow::ensure!(
        during.failures + quiet.failures == 0,
        "list requests failed"
    );
    Ok(())
}

/// Every number made due, then one pass, as the scheduler runs it (a task of its own).
async fn timed_pass(hub: &Hub) -> anyhow::Result<(health::Pass, Duration)> {
    on_writer!(&mut hub.state.db.writer().await?, pool => sqlx::query("UPDATE instances SET check_due_at = NULL")
        .execute(pool).await?.rows_affected());
    let state = hub.state.clone();
    let started = Instant::now();
    let pass = tokio::spawn(async move { health::check_due(&state, EVERY).await }).await??;
    Ok((pass, started.elapsed()))
}

fn print_pass(what: &str, pass: &health::Pass, took: Duration) {
    println!(
        "| {what} | {:.2} s | {:.0} checks/s | {} changed | {} servers unreachable |",
        took.as_secs_f64(),
        pass.checked as f64 / took.as_secs_f64(),
        pass.changed,
        pass.unreachable
    );
}

/// Requests answered while a load ran.
struct Load {
    latencies: Vec<u64>,
    failures: usize,
    elapsed: Duration,
}

impl Load {
    fn print(&self, what: &str) {
        let rate = self.latencies.len() as f64 / self.elapsed.as_secs_f64();
        let f = Figures::of(self.latencies.clone());
        println!(
            "| {what} | {rate:.0} req/s | p50 {:.1} ms | p95 {:.1} ms | p99 {:.1} ms | max {:.1} ms |",
            f.p50, f.p95, f.p99, f.max
        );
    }
}

/// GETs `path` with `concurrency` requests in flight until `stop`, each answer read whole
/// and not parsed (as `wrk` would). Each worker is a task of its own, as a connection of
/// the server is.
async fn load(
    api: &Api,
    path: &str,
    concurrency: usize,
    stop: &CancellationToken,
) -> anyhow::Result<Load> {
    let started = Instant::now();
    let url = format!("{}{path}", api.base);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let request = api.http.get(&url).bearer_auth(&api.token);
            let stop = stop.clone();
            tokio::spawn(async move {
                let (mut latencies, mut failures) = (Vec::new(), 0);
                while !stop.is_cancelled() {
                    let at = Instant::now();
                    let answer = request.try_clone().expect("a bodiless GET").send().await;
                    let ok = match answer {
                        Ok(response) if response.status() == 200 => response.bytes().await.is_ok(),
                        _ => false,
                    };
                    latencies.push(at.elapsed().as_micros() as u64);
                    failures += usize::from(!ok);
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut load = Load {
        latencies: Vec::new(),
        failures: 0,
        elapsed: Duration::ZERO,
    };
    for worker in workers {
        let (latencies, failures) = worker.await?;
        load.latencies.extend(latencies);
        load.failures += failures;
    }
    load.elapsed = started.elapsed();
    Ok(load)
}
