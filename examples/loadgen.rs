//! Load generator for what `wrk` cannot drive: signed Chatwoot webhook deliveries (the
//! HMAC covers `"<timestamp>.<raw body>"`, so every request needs its own signature) and
//! concurrent card moves checked for dense positions afterwards. `scripts/bench` runs it;
//! docs/BENCHMARKS.md records what it measured. Two more modes serve `scripts/chaos`
//! (docs/RELIABILITY.md): `deliver` sends signed deliveries until every one is
//! acknowledged, whatever happens to the hub meanwhile, and lists the acknowledged ones;
//! `probe` polls endpoints and tallies every answer (status, problem code, latency).
//!
//! ```sh
//! cargo run --release --example loadgen -- webhooks --hub http://127.0.0.1:3000 \
//!     --account <hub account id> --secret <Chatwoot webhook secret> --token <admin token>
//! cargo run --release --example loadgen -- moves --hub http://127.0.0.1:3000 \
//!     --account <hub account id> --board <board id> --token <member token>
//! ```
//!
//! Progress and details go to stderr; the last line on stdout is the result for scripts:
//! `webhooks`: `<acks/s> <p50 ms> <p99 ms> <processed/s> <cards created>`;
//! `moves`: `<moves/s> <p50 ms> <p99 ms> <cards checked> <dense|BROKEN>`;
//! `deliver` and `probe`: one JSON object (see [`deliver`] and [`probe`]).
//! Any refused request, lost delivery or broken stage order exits non-zero (a broken order
//! after the moves still prints its line first).

use std::{
    collections::HashMap,
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail, ensure};
use clap::{Args, Parser, Subcommand};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

#[derive(Parser)]
#[command(about = "Load generator for the Whatpro Hub benchmarks wrk cannot run")]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Signed `conversation_created` and `message_created` deliveries to the account's
    /// webhook URL; then waits until the worker has processed every one.
    Webhooks(WebhookArgs),
    /// Random card moves on one board; then checks every stage's positions are 0..n-1.
    Moves(MoveArgs),
    /// Signed deliveries, each sent again (same delivery id) until the hub acknowledges
    /// it: refusals, errors, timeouts and a closed port only delay it. Writes the
    /// acknowledged ones to `--acked`. For fault injection (`scripts/chaos`).
    Deliver(DeliverArgs),
    /// Polls endpoints until `--seconds` have passed and tallies each answer: status,
    /// problem code, latency, and a request that got no answer within `--timeout-ms`.
    Probe(ProbeArgs),
}

#[derive(Args)]
struct Common {
    /// The hub's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    hub: String,
    /// The hub account (UUID).
    #[arg(long)]
    account: String,
    /// A bearer token with admin rights in the account (reads deliveries and cards).
    #[arg(long)]
    token: String,
    /// How many requests to send in all.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Requests in flight at once (one connection each).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Runtime threads of the load generator (wrk's `-t`).
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

#[derive(Args)]
struct WebhookArgs {
    #[command(flatten)]
    common: Common,
    /// The webhook's secret, as Chatwoot shows it (Settings → Integrations → Webhooks).
    #[arg(long)]
    secret: String,
    /// `message_created` deliveries per conversation, after its `conversation_created`.
    #[arg(long, default_value_t = 1)]
    messages_per_conversation: usize,
    /// The Chatwoot inbox the conversations are in; by default the account's first
    /// enabled inbox (so its boards make cards).
    #[arg(long)]
    inbox: Option<i64>,
    /// The board whose new cards are counted; by default the account's first board.
    #[arg(long)]
    board: Option<String>,
    /// Give up waiting for the worker after this many seconds.
    #[arg(long, default_value_t = 600)]
    drain_timeout: u64,
}

#[derive(Args)]
struct MoveArgs {
    #[command(flatten)]
    common: Common,
    /// The board (UUID); it needs at least one card.
    #[arg(long)]
    board: String,
}

#[derive(Args)]
struct DeliverArgs {
    /// The hub's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    hub: String,
    /// The hub account (UUID) whose webhook URL receives the deliveries.
    #[arg(long)]
    account: String,
    /// The webhook's secret, as Chatwoot shows it.
    #[arg(long)]
    secret: String,
    /// The Chatwoot inbox the conversations are in (one the account's boards take).
    #[arg(long)]
    inbox: i64,
    /// How many distinct deliveries to get acknowledged.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// `message_created` deliveries per conversation, after its `conversation_created`.
    #[arg(long, default_value_t = 1)]
    messages_per_conversation: usize,
    /// The first conversation's display id (the run uses the next ones); by default one
    /// no earlier run used.
    #[arg(long)]
    first_conversation: Option<i64>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Sends per second at most, retries included (0: as fast as the hub answers), so a
    /// load lasts long enough for faults to land in it.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// A request not answered within this many milliseconds counts as a hang (and the
    /// delivery is sent again).
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Stop after this many seconds even if some deliveries are still unacknowledged
    /// (they are reported).
    #[arg(long, default_value_t = 300)]
    give_up: u64,
    /// Where to write the acknowledged deliveries, one per line:
    /// `<delivery id>,<event>,<conversation id>,<accepted|duplicate>,<attempts>`.
    #[arg(long)]
    acked: String,
    /// Runtime threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

#[derive(Args)]
struct ProbeArgs {
    /// The hub's base URL.
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    hub: String,
    /// Bearer token sent with every request (when given).
    #[arg(long)]
    token: Option<String>,
    /// `name|METHOD|path[|json body]`, polled one request at a time; repeat for more.
    #[arg(long = "endpoint", required = true)]
    endpoints: Vec<String>,
    /// Pause between two requests of one endpoint.
    #[arg(long, default_value_t = 200)]
    interval_ms: u64,
    /// How long to poll.
    #[arg(long)]
    seconds: u64,
    /// A request not answered within this many milliseconds counts as a hang.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
    /// Where to write every answer, one JSON object per line (`t` in seconds since start).
    #[arg(long)]
    log: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let threads = match &cli.mode {
        Mode::Webhooks(args) => args.common.threads,
        Mode::Moves(args) => args.common.threads,
        Mode::Deliver(args) => args.threads,
        Mode::Probe(_) => 2,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome = runtime.block_on(async {
        match cli.mode {
            Mode::Webhooks(args) => webhooks(args).await,
            Mode::Moves(args) => moves(args).await,
            Mode::Deliver(args) => deliver(args).await,
            Mode::Probe(args) => probe(args).await,
        }
    });
    match outcome {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("loadgen: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// The hub's API as an account admin sees it.
struct Hub {
    http: reqwest::Client,
    base: String,
    account: String,
    token: String,
}

impl Hub {
    fn new(common: &Common) -> anyhow::Result<Hub> {
        // reqwest is built without a default TLS provider; plain http needs none, but the
        // builder insists one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(common.concurrency)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Hub {
            http,
            base: common.hub.trim_end_matches('/').to_string(),
            account: common.account.clone(),
            token: common.token.clone(),
        })
    }

    fn account_url(&self, rest: &str) -> String {
        format!("{}/api/v1/accounts/{}{rest}", self.base, self.account)
    }

    async fn get(&self, rest: &str) -> anyhow::Result<Value> {
        let url = self.account_url(rest);
        let resp = self.http.get(&url).bearer_auth(&self.token).send().await?;
        let status = resp.status();
        let body = resp.text().await?;
        ensure!(status.is_success(), "GET {url}: {status} {body}");
        Ok(serde_json::from_str(&body)?)
    }

    /// Every live card of the board as `(id, stage, position)`, in board order.
    async fn cards(&self, board: &str) -> anyhow::Result<Vec<(String, String, i64)>> {
        let mut cards = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut rest = format!("/boards/{board}/cards?limit=200");
            if let Some(c) = &cursor {
                rest.push_str("&cursor=");
                rest.push_str(c);
            }
            let page = self.get(&rest).await?;
            for card in page["items"].as_array().context("a page of cards")? {
                cards.push((
                    card["id"].as_str().context("card id")?.to_string(),
                    card["stage_id"].as_str().context("card stage")?.to_string(),
                    card["position"].as_i64().context("card position")?,
                ));
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return Ok(cards),
            }
        }
    }

    /// Whether any of the account's deliveries has `status`.
    async fn any_delivery(&self, status: &str) -> anyhow::Result<bool> {
        let page = self
            .get(&format!("/webhook-deliveries?status={status}&limit=1"))
            .await?;
        Ok(page["items"].as_array().is_some_and(|i| !i.is_empty()))
    }
}

/// Per-request latencies (µs) and failures of a run.
#[derive(Default)]
struct Tally {
    micros: Vec<u64>,
    failures: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.micros.extend(other.micros);
        self.failures.extend(other.failures);
    }

    /// `(p50, p99)` in milliseconds.
    fn percentiles(&mut self) -> (f64, f64) {
        self.micros.sort_unstable();
        let at = |p: f64| {
            let n = self.micros.len();
            if n == 0 {
                return 0.0;
            }
            let rank = ((p * n as f64).ceil() as usize).clamp(1, n);
            self.micros[rank - 1] as f64 / 1000.0
        };
        (at(0.50), at(0.99))
    }
}

/// Runs `count` requests, `concurrency` at a time; `send(i)` performs request `i` and
/// says whether it succeeded. Returns the tally and the wall time.
async fn drive<F, Fut>(count: usize, concurrency: usize, send: F) -> (Tally, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let send = Arc::new(send);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (next, send) = (next.clone(), send.clone());
        tasks.spawn(async move {
            let mut tally = Tally::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return tally;
                }
                let at = Instant::now();
                let outcome = send(i).await;
                tally.micros.push(at.elapsed().as_micros() as u64);
                if let Err(failure) = outcome {
                    tally.failures.push(failure);
                }
            }
        });
    }
    let mut all = Tally::default();
    while let Some(done) = tasks.join_next().await {
        all.merge(done.expect("a load task"));
    }
    (all, started.elapsed())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// A contact as a conversation's `meta.sender` shows it.
fn contact(id: i64, name: &str, phone: &str) -> Value {
    json!({
        "additional_attributes": { "city": "São Paulo", "country": "Brazil", "country_code": "BR" },
        "custom_attributes": {},
        "email": null,
        "id": id,
        "identifier": null,
        "name": name,
        "phone_number": phone,
        "thumbnail": "",
        "blocked": false,
        "type": "contact",
    })
}

/// A conversation in Chatwoot's webhook shape (the samples' `conversation_created`).
fn conversation(id: i64, inbox: i64, name: &str, now: i64, last: Option<(i64, &str)>) -> Value {
    let phone = format!("+55119{:08}", id % 100_000_000);
    let sender = contact(id + 7_000_000, name, &phone);
    let messages: Vec<Value> = last
        .map(|(message_id, text)| {
            json!({
                "id": message_id, "content": text, "account_id": 1, "inbox_id": inbox,
                "conversation_id": id, "message_type": 0, "created_at": now,
                "private": false, "status": "sent", "source_id": null, "content_type": "text",
                "content_attributes": {}, "sender_type": "Contact", "sender_id": id + 7_000_000,
                "sender": sender,
            })
        })
        .into_iter()
        .collect();
    json!({
        "additional_attributes": {},
        "can_reply": true,
        "channel": "Channel::Whatsapp",
        "contact_inbox": {
            "id": id + 3_000_000, "contact_id": id + 7_000_000, "inbox_id": inbox,
            "source_id": phone.trim_start_matches('+'), "hmac_verified": false,
        },
        "id": id,
        "inbox_id": inbox,
        "messages": messages,
        "labels": [],
        "meta": { "sender": sender, "assignee": null, "assignee_type": null, "team": null,
                  "hmac_verified": false },
        "status": "open",
        "custom_attributes": {},
        "snoozed_until": null,
        "unread_count": messages.len(),
        "first_reply_created_at": null,
        "priority": null,
        "waiting_since": now,
        "agent_last_seen_at": 0,
        "contact_last_seen_at": 0,
        "last_activity_at": now,
        "timestamp": now,
        "created_at": now,
        "updated_at": now as f64 + 0.118305,
    })
}

/// The `i`-th delivery: conversation `i / (1 + m)` starts, then gets `m` messages.
fn delivery_body(i: usize, per: usize, first_id: i64, inbox: i64, now: i64) -> Vec<u8> {
    let id = first_id + (i / (1 + per)) as i64;
    let nth = i % (1 + per);
    let name = format!("Cliente {id}");
    let mut body = if nth == 0 {
        conversation(id, inbox, &name, now, None)
    } else {
        let message_id = id * 100 + nth as i64;
        let text = format!("Olá, mensagem {nth}: qual o prazo de entrega do pedido {id}?");
        let iso = time_iso(now);
        json!({
            "account": { "id": 1, "name": "Bench" },
            "additional_attributes": {},
            "content_attributes": {},
            "content_type": "text",
            "content": text,
            "conversation": conversation(id, inbox, &name, now, Some((message_id, &text))),
            "created_at": iso,
            "id": message_id,
            "inbox": { "id": inbox, "name": "WhatsApp" },
            "message_type": "incoming",
            "private": false,
            "sender": contact(id + 7_000_000, &name, "+5511900000000"),
            "source_id": null,
        })
    };
    body["event"] = json!(if nth == 0 {
        "conversation_created"
    } else {
        "message_created"
    });
    serde_json::to_vec(&body).expect("JSON")
}

/// `2026-04-16T10:15:30Z` for a Unix time.
fn time_iso(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

async fn webhooks(args: WebhookArgs) -> anyhow::Result<String> {
    let common = &args.common;
    let hub = Arc::new(Hub::new(common)?);
    let inbox = match args.inbox {
        Some(inbox) => inbox,
        None => {
            let inboxes = hub.get("/inboxes?limit=200").await?;
            let items = inboxes["items"].as_array().or(inboxes.as_array());
            items
                .into_iter()
                .flatten()
                .find(|i| i["enabled"] == true)
                .and_then(|i| i["chatwoot_inbox_id"].as_i64())
                .context("the account has no enabled inbox: connect it to Chatwoot first")?
        }
    };
    let board = match &args.board {
        Some(board) => board.clone(),
        None => hub.get("/boards").await?["items"][0]["id"]
            .as_str()
            .context("the account has no board")?
            .to_string(),
    };
    let cards_before = hub.cards(&board).await?.len();
    let per = args.messages_per_conversation;
    let conversations = common.requests.div_ceil(1 + per);
    // Conversation display ids no earlier run used.
    let first_id = unix_now() % 1_000_000 * 10_000_000;
    let now = unix_now();
    eprintln!(
        "webhooks: {} deliveries ({conversations} conversations, {per} message(s) each) at \
         concurrency {}, inbox {inbox}, board {board} ({cards_before} cards)",
        common.requests, common.concurrency
    );
    // Bodies and signatures are made up front, so the clock measures the hub.
    let secret = args.secret.as_bytes();
    let prepared: Arc<Vec<(Vec<u8>, String, String)>> = Arc::new(
        (0..common.requests)
            .map(|i| {
                let body = delivery_body(i, per, first_id, inbox, now);
                let signature = sign(secret, now, &body);
                (body, signature, uuid::Uuid::new_v4().to_string())
            })
            .collect(),
    );
    let url = format!("{}/api/v1/webhooks/chatwoot/{}", hub.base, common.account);
    let started = Instant::now();
    let (mut tally, elapsed) = {
        let (hub, prepared, url) = (hub.clone(), prepared.clone(), url.clone());
        drive(common.requests, common.concurrency, move |i| {
            let (hub, prepared, url) = (hub.clone(), prepared.clone(), url.clone());
            async move {
                let (body, signature, delivery) = &prepared[i];
                let resp = hub
                    .http
                    .post(url.as_str())
                    .header("content-type", "application/json")
                    .header(
                        "user-agent",
                        "rest-client/2.1.0 (linux x86_64) ruby/3.4.4p34",
                    )
                    .header("x-chatwoot-timestamp", now.to_string())
                    .header("x-chatwoot-signature", signature.as_str())
                    .header("x-chatwoot-delivery", delivery.as_str())
                    .body(body.clone())
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = resp.status();
                let text = resp.text().await.map_err(|e| e.to_string())?;
                if status.is_success() && text.contains("accepted") {
                    Ok(())
                } else {
                    Err(format!("{status} {text}"))
                }
            }
        })
        .await
    };
    let acked = common.requests - tally.failures.len();
    let ack_rate = acked as f64 / elapsed.as_secs_f64();
    let (p50, p99) = tally.percentiles();
    eprintln!(
        "webhooks: {acked} acknowledged in {:.2} s: {ack_rate:.0}/s, p50 {p50:.2} ms, p99 {p99:.2} ms",
        elapsed.as_secs_f64()
    );
    if let Some(first) = tally.failures.first() {
        bail!(
            "{} deliveries refused; first: {first}",
            tally.failures.len()
        );
    }

    // The worker is done when nothing is pending or in progress.
    let deadline = started + Duration::from_secs(args.drain_timeout);
    loop {
        if !hub.any_delivery("pending").await? && !hub.any_delivery("processing").await? {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "deliveries still queued after {} s",
            args.drain_timeout
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained = started.elapsed();
    let processed_rate = common.requests as f64 / drained.as_secs_f64();
    eprintln!(
        "webhooks: all processed {:.2} s after the first delivery ({:.2} s after the last \
         acknowledgement): {processed_rate:.0} deliveries/s",
        drained.as_secs_f64(),
        (drained - elapsed).as_secs_f64()
    );
    ensure!(
        !hub.any_delivery("dead").await?,
        "some deliveries are dead: see /webhook-deliveries?status=dead"
    );
    let cards_after = hub.cards(&board).await?.len();
    let created = cards_after - cards_before;
    eprintln!(
        "webhooks: {created} cards created for {conversations} conversations \
         ({:.0} cards/s)",
        created as f64 / drained.as_secs_f64()
    );
    ensure!(
        created == conversations,
        "expected {conversations} new cards on board {board}, found {created}"
    );
    Ok(format!(
        "{ack_rate:.0} {p50:.2} {p99:.2} {processed_rate:.0} {created}"
    ))
}

/// xorshift64*: enough randomness to pick cards and stages, no extra dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

/// Checks every stage's positions are exactly 0..n-1; returns the problems found.
fn broken_stages(cards: &[(String, String, i64)]) -> Vec<String> {
    let mut by_stage: HashMap<&str, Vec<i64>> = HashMap::new();
    for (_, stage, position) in cards {
        by_stage.entry(stage).or_default().push(*position);
    }
    by_stage
        .into_iter()
        .filter_map(|(stage, mut positions)| {
            positions.sort_unstable();
            let dense = positions.iter().enumerate().all(|(i, p)| *p == i as i64);
            (!dense).then(|| format!("stage {stage}: positions {positions:?}"))
        })
        .collect()
}

async fn moves(args: MoveArgs) -> anyhow::Result<String> {
    let common = &args.common;
    let hub = Arc::new(Hub::new(common)?);
    let board = hub.get(&format!("/boards/{}", args.board)).await?;
    let stages: Vec<String> = board["stages"]
        .as_array()
        .context("the board's stages")?
        .iter()
        .filter_map(|s| s["id"].as_str().map(String::from))
        .collect();
    let before = hub.cards(&args.board).await?;
    ensure!(
        !before.is_empty() && !stages.is_empty(),
        "board {} needs stages and cards",
        args.board
    );
    if let Some(problem) = broken_stages(&before).first() {
        bail!("positions were already broken before the run: {problem}");
    }
    let cards: Arc<Vec<String>> = Arc::new(before.iter().map(|c| c.0.clone()).collect());
    // A stage holds about cards/stages; asking past its end puts the card at the bottom.
    let reach = cards.len() / stages.len() + 2;
    let stages = Arc::new(stages);
    eprintln!(
        "moves: {} moves of {} cards over {} stages at concurrency {}",
        common.requests,
        cards.len(),
        stages.len(),
        common.concurrency
    );
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let (mut tally, elapsed) = {
        let (hub, cards, stages, board) = (
            hub.clone(),
            cards.clone(),
            stages.clone(),
            args.board.clone(),
        );
        drive(common.requests, common.concurrency, move |i| {
            let mut rng = Rng(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let card = cards[rng.below(cards.len())].clone();
            let stage = stages[rng.below(stages.len())].clone();
            let position = rng.below(reach);
            let url = hub.account_url(&format!("/boards/{board}/cards/{card}/move"));
            let hub = hub.clone();
            async move {
                let resp = hub
                    .http
                    .post(url)
                    .bearer_auth(&hub.token)
                    .json(&json!({ "stage_id": stage, "position": position }))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = resp.status();
                let text = resp.text().await.map_err(|e| e.to_string())?;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(format!("{status} {text}"))
                }
            }
        })
        .await
    };
    let done = common.requests - tally.failures.len();
    let rate = done as f64 / elapsed.as_secs_f64();
    let (p50, p99) = tally.percentiles();
    eprintln!(
        "moves: {done} in {:.2} s: {rate:.0}/s, p50 {p50:.2} ms, p99 {p99:.2} ms",
        elapsed.as_secs_f64()
    );
    if let Some(first) = tally.failures.first() {
        bail!("{} moves refused; first: {first}", tally.failures.len());
    }
    let after = hub.cards(&args.board).await?;
    ensure!(
        after.len() == before.len(),
        "the board had {} cards and now has {}",
        before.len(),
        after.len()
    );
    let broken = broken_stages(&after);
    let verdict = if broken.is_empty() {
        eprintln!(
            "moves: {} cards in {} stages, every stage's positions are 0..n-1",
            after.len(),
            stages.len()
        );
        "dense"
    } else {
        eprintln!(
            "moves: {} stage(s) lost dense positions: {}",
            broken.len(),
            broken.join("; ")
        );
        "BROKEN"
    };
    let line = format!("{rate:.0} {p50:.2} {p99:.2} {} {verdict}", after.len());
    if broken.is_empty() {
        Ok(line)
    } else {
        // The figures still go to stdout for the table; the exit status says it failed.
        println!("{line}");
        bail!("positions are not dense after the moves")
    }
}

/// How a send that got no acknowledgement failed, for the tallies.
fn failure_kind(err: &reqwest::Error, timeout_ms: u64) -> String {
    if err.is_timeout() {
        format!("no answer within {timeout_ms} ms")
    } else if err.is_connect() {
        "connection refused".to_string()
    } else {
        "connection broken".to_string()
    }
}

/// `<status> <problem code>` of an answer (the code only for problem+json bodies).
fn answer_kind(status: reqwest::StatusCode, body: &str) -> String {
    let code = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["code"].as_str().map(String::from));
    match code {
        Some(code) if !status.is_success() => format!("{} {code}", status.as_u16()),
        _ => status.as_u16().to_string(),
    }
}

/// A client for fault runs: no connection kept idle across a fault is trusted more than
/// once (a broken one fails the send, which is then sent again).
fn fault_client(concurrency: usize) -> anyhow::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(2))
        .build()?)
}

/// What the senders of [`deliver`] share.
struct Deliveries {
    /// Indexes still to be acknowledged and not in flight, the oldest first.
    queue: std::sync::Mutex<std::collections::VecDeque<usize>>,
    /// Deliveries not yet acknowledged (queued or in flight).
    remaining: AtomicUsize,
    /// Sends so far, per delivery.
    sends: Vec<AtomicUsize>,
    /// Sends so far in all, which paces them (`--rate`).
    slots: AtomicUsize,
}

/// What one sender saw.
#[derive(Default)]
struct SenderTally {
    answered_micros: Vec<u64>,
    failures: HashMap<String, usize>,
    /// `(index, accepted?)` of what it got acknowledged.
    acked: Vec<(usize, bool)>,
    /// Seconds since the start of the first and last failed send.
    first_failure: Option<f64>,
    last_failure: Option<f64>,
}

/// Sends `--requests` signed deliveries until each is acknowledged (`200` with
/// `accepted` or `duplicate`: the latter is a delivery stored by an earlier send whose
/// answer was lost) or `--give-up` passes. A conversation's messages are sent only once
/// its `conversation_created` is acknowledged, as Chatwoot sends them one after the
/// other. A send that fails in any way (refused, reset, timed out, any other status) puts
/// the delivery back at the head of the queue and its sender waits 100 ms. Every send of one delivery carries the same
/// `X-Chatwoot-Delivery`, and the same bytes and signature while the signature's
/// timestamp is less than four minutes old (the hub accepts five).
///
/// Prints `{"requests", "conversations", "first_conversation", "acknowledged",
/// "accepted", "duplicate", "unacknowledged", "sends", "failed_sends": {kind: count},
/// "answer_p50_ms", "answer_p99_ms", "answer_max_ms", "first_failure_s",
/// "last_failure_s", "seconds"}`.
async fn deliver(args: DeliverArgs) -> anyhow::Result<String> {
    let http = fault_client(args.concurrency)?;
    let n = args.requests;
    let per = args.messages_per_conversation;
    let conversations = n.div_ceil(1 + per);
    let first_id = args
        .first_conversation
        .unwrap_or_else(|| unix_now() % 1_000_000 * 10_000_000);
    let now = unix_now();
    let prepared: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (0..n)
            .map(|i| {
                let body = delivery_body(i, per, first_id, args.inbox, now);
                (body, uuid::Uuid::new_v4().to_string())
            })
            .collect(),
    );
    let shared = Arc::new(Deliveries {
        queue: std::sync::Mutex::new((0..n).step_by(1 + per).collect()),
        remaining: AtomicUsize::new(n),
        sends: (0..n).map(|_| AtomicUsize::new(0)).collect(),
        slots: AtomicUsize::new(0),
    });
    let url = Arc::new(format!(
        "{}/api/v1/webhooks/chatwoot/{}",
        args.hub.trim_end_matches('/'),
        args.account
    ));
    let secret = Arc::new(args.secret.clone().into_bytes());
    let timeout = Duration::from_millis(args.timeout_ms);
    let started = Instant::now();
    let give_up = started + Duration::from_secs(args.give_up);
    let interval = (args.rate > 0).then(|| Duration::from_secs_f64(1.0 / args.rate as f64));
    eprintln!(
        "deliver: {n} deliveries ({conversations} conversations from {first_id}) at \
         concurrency {}, rate {}",
        args.concurrency,
        if args.rate > 0 {
            format!("{}/s", args.rate)
        } else {
            "unpaced".into()
        }
    );
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency.max(1) {
        let (http, prepared, shared, url, secret) = (
            http.clone(),
            prepared.clone(),
            shared.clone(),
            url.clone(),
            secret.clone(),
        );
        let timeout_ms = args.timeout_ms;
        tasks.spawn(async move {
            let mut tally = SenderTally::default();
            loop {
                if shared.remaining.load(Ordering::SeqCst) == 0 || Instant::now() >= give_up {
                    return tally;
                }
                let next = shared.queue.lock().expect("queue").pop_front();
                let Some(i) = next else {
                    // The rest are in flight; one may fail and come back.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                };
                if let Some(interval) = interval {
                    let slot = shared.slots.fetch_add(1, Ordering::SeqCst) as u32;
                    tokio::time::sleep_until((started + interval * slot).into()).await;
                }
                let (body, delivery) = &prepared[i];
                let timestamp = if unix_now() - now < 240 {
                    now
                } else {
                    unix_now()
                };
                let signature = sign(&secret, timestamp, body);
                shared.sends[i].fetch_add(1, Ordering::SeqCst);
                let at = Instant::now();
                let sent = http
                    .post(url.as_str())
                    .timeout(timeout)
                    .header("content-type", "application/json")
                    .header(
                        "user-agent",
                        "rest-client/2.1.0 (linux x86_64) ruby/3.4.4p34",
                    )
                    .header("x-chatwoot-timestamp", timestamp.to_string())
                    .header("x-chatwoot-signature", signature)
                    .header("x-chatwoot-delivery", delivery.as_str())
                    .body(body.clone())
                    .send()
                    .await;
                let answer = match sent {
                    Ok(resp) => {
                        let status = resp.status();
                        match resp.text().await {
                            Ok(text) => Ok((status, text)),
                            Err(err) => Err(failure_kind(&err, timeout_ms)),
                        }
                    }
                    Err(err) => Err(failure_kind(&err, timeout_ms)),
                };
                let failure = match answer {
                    Ok((status, text)) => {
                        tally.answered_micros.push(at.elapsed().as_micros() as u64);
                        let acked = status == reqwest::StatusCode::OK
                            && (text.contains("\"accepted\"") || text.contains("\"duplicate\""));
                        if acked {
                            tally.acked.push((i, text.contains("\"accepted\"")));
                            if i % (1 + per) == 0 {
                                // Its messages may go now, before anything else.
                                let mut queue = shared.queue.lock().expect("queue");
                                for message in (i + 1..(i + 1 + per).min(n)).rev() {
                                    queue.push_front(message);
                                }
                            }
                            shared.remaining.fetch_sub(1, Ordering::SeqCst);
                            None
                        } else {
                            Some(answer_kind(status, &text))
                        }
                    }
                    Err(kind) => Some(kind),
                };
                if let Some(kind) = failure {
                    let t = started.elapsed().as_secs_f64();
                    tally.first_failure.get_or_insert(t);
                    tally.last_failure = Some(t);
                    *tally.failures.entry(kind).or_default() += 1;
                    shared.queue.lock().expect("queue").push_front(i);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        });
    }
    let mut answered = Vec::new();
    let mut failures: HashMap<String, usize> = HashMap::new();
    let mut acked = Vec::new();
    let (mut first_failure, mut last_failure): (Option<f64>, Option<f64>) = (None, None);
    while let Some(done) = tasks.join_next().await {
        let tally = done.expect("a sender");
        answered.extend(tally.answered_micros);
        for (kind, count) in tally.failures {
            *failures.entry(kind).or_default() += count;
        }
        acked.extend(tally.acked);
        first_failure = match (first_failure, tally.first_failure) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        last_failure = match (last_failure, tally.last_failure) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    let elapsed = started.elapsed();
    acked.sort_unstable();
    let mut lines = String::new();
    for (i, accepted) in &acked {
        let conversation = first_id + (i / (1 + per)) as i64;
        let event = if i % (1 + per) == 0 {
            "conversation_created"
        } else {
            "message_created"
        };
        lines.push_str(&format!(
            "{},{event},{conversation},{},{}\n",
            prepared[*i].1,
            if *accepted { "accepted" } else { "duplicate" },
            shared.sends[*i].load(Ordering::SeqCst)
        ));
    }
    std::fs::write(&args.acked, lines).with_context(|| format!("writing {}", args.acked))?;
    let mut tally = Tally {
        micros: answered,
        failures: Vec::new(),
    };
    let (p50, p99) = tally.percentiles();
    let max = tally.micros.last().copied().unwrap_or(0) as f64 / 1000.0;
    let accepted = acked.iter().filter(|(_, a)| *a).count();
    let summary = json!({
        "requests": n,
        "conversations": conversations,
        "first_conversation": first_id,
        "acknowledged": acked.len(),
        "accepted": accepted,
        "duplicate": acked.len() - accepted,
        "unacknowledged": n - acked.len(),
        "sends": shared.sends.iter().map(|s| s.load(Ordering::SeqCst)).sum::<usize>(),
        "failed_sends": failures,
        "answer_p50_ms": p50,
        "answer_p99_ms": p99,
        "answer_max_ms": max,
        "first_failure_s": first_failure,
        "last_failure_s": last_failure,
        "seconds": elapsed.as_secs_f64(),
    });
    eprintln!(
        "deliver: {} of {n} acknowledged ({} as duplicates of a send whose answer was lost) \
         in {:.1} s; failed sends: {}",
        acked.len(),
        acked.len() - accepted,
        elapsed.as_secs_f64(),
        summary["failed_sends"]
    );
    Ok(summary.to_string())
}

/// One endpoint polled by [`probe`].
struct Endpoint {
    name: String,
    method: reqwest::Method,
    path: String,
    body: Option<String>,
}

impl Endpoint {
    fn parse(spec: &str) -> anyhow::Result<Endpoint> {
        let mut parts = spec.splitn(4, '|');
        let (Some(name), Some(method), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            bail!("an endpoint is name|METHOD|path[|body], not {spec}");
        };
        Ok(Endpoint {
            name: name.to_string(),
            method: method.parse().context("an HTTP method")?,
            path: path.to_string(),
            body: parts.next().map(String::from),
        })
    }
}

/// Polls each endpoint, one request at a time, `--interval-ms` apart, for `--seconds`.
/// Prints `{"<name>": {"answers": {"<status> <code>": count}, "requests", "max_ms",
/// "p99_ms", "first_bad_s", "last_bad_s", "ok_again_s"}}`, where *bad* is anything but
/// a 2xx (a missing answer included) and `ok_again_s` is the first 2xx after the last bad
/// one.
async fn probe(args: ProbeArgs) -> anyhow::Result<String> {
    let endpoints = args
        .endpoints
        .iter()
        .map(|e| Endpoint::parse(e))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let http = fault_client(endpoints.len())?;
    let started = Instant::now();
    let until = started + Duration::from_secs(args.seconds);
    let base = args.hub.trim_end_matches('/').to_string();
    let timeout = Duration::from_millis(args.timeout_ms);
    let mut tasks = tokio::task::JoinSet::new();
    for endpoint in endpoints {
        let (http, base, token) = (http.clone(), base.clone(), args.token.clone());
        let (interval, timeout_ms) = (Duration::from_millis(args.interval_ms), args.timeout_ms);
        tasks.spawn(async move {
            let mut seen: Vec<(f64, String, u64)> = Vec::new();
            while Instant::now() < until {
                let mut request = http
                    .request(endpoint.method.clone(), format!("{base}{}", endpoint.path))
                    .timeout(timeout);
                if let Some(token) = &token {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = &endpoint.body {
                    request = request
                        .header("content-type", "application/json")
                        .body(body.clone());
                }
                let t = started.elapsed().as_secs_f64();
                let at = Instant::now();
                let kind = match request.send().await {
                    Ok(resp) => {
                        let status = resp.status();
                        match resp.text().await {
                            Ok(text) => answer_kind(status, &text),
                            Err(err) => failure_kind(&err, timeout_ms),
                        }
                    }
                    Err(err) => failure_kind(&err, timeout_ms),
                };
                seen.push((t, kind, at.elapsed().as_micros() as u64));
                tokio::time::sleep(interval).await;
            }
            (endpoint.name, seen)
        });
    }
    let mut log = String::new();
    let mut summary = serde_json::Map::new();
    while let Some(done) = tasks.join_next().await {
        let (name, seen) = done.expect("a probe");
        let ok = |kind: &str| kind.starts_with('2');
        let mut answers: HashMap<&str, usize> = HashMap::new();
        for (t, kind, micros) in &seen {
            *answers.entry(kind).or_default() += 1;
            log.push_str(&format!(
                "{}\n",
                json!({ "t": t, "endpoint": name, "answer": kind, "ms": *micros as f64 / 1000.0 })
            ));
        }
        let first_bad = seen.iter().find(|(_, k, _)| !ok(k)).map(|s| s.0);
        let last_bad = seen.iter().rev().find(|(_, k, _)| !ok(k)).map(|s| s.0);
        let ok_again = last_bad.and_then(|last| {
            seen.iter()
                .find(|(t, k, _)| *t > last && ok(k))
                .map(|s| s.0)
        });
        let mut tally = Tally {
            micros: seen.iter().map(|s| s.2).collect(),
            failures: Vec::new(),
        };
        let (_, p99) = tally.percentiles();
        let max = tally.micros.last().copied().unwrap_or(0) as f64 / 1000.0;
        summary.insert(
            name,
            json!({
                "requests": seen.len(),
                "answers": answers,
                "max_ms": max,
                "p99_ms": p99,
                "first_bad_s": first_bad,
                "last_bad_s": last_bad,
                "ok_again_s": ok_again,
            }),
        );
    }
    if let Some(path) = &args.log {
        std::fs::write(path, log).with_context(|| format!("writing {path}"))?;
    }
    Ok(Value::Object(summary).to_string())
}
