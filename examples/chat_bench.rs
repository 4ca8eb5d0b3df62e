//! Team chat under load (issue 16, ADR 24, protocol in docs/chat.md): messages sent through
//! the API, one room fanned out to 1,000 WebSockets (on one replica and across two), the
//! memory of 10,000 idle WebSockets, and 5,000 clients dropping and resuming at once.
//!
//! ```sh
//! cargo run --release --example chat_bench                        # every scenario, SQLite
//! cargo run --release --example chat_bench -- --database-url postgres://postgres@127.0.0.1:5432/test
//! cargo run --release --example chat_bench -- --scenario fanout   # one scenario
//! ```
//!
//! Each scenario starts the real server (with its workers, over a fresh database: a
//! temporary SQLite file, or a schema of its own on PostgreSQL) in this process and drives
//! it over TCP on 127.0.0.1. People and their tokens are minted straight into the database
//! (as `whatpro-hub token` mints them); rooms, members, messages and tickets go through the
//! API; sockets are tokio-tungstenite clients, spread over `--source-addrs` loopback
//! addresses (127.0.0.1, .2, …) so ephemeral ports do not run short.
//!
//! - `send`: `--senders` people, each in every one of `--rooms` channels, post
//!   `POST …/chat/rooms/{id}/messages` (an ~80-character Markdown body, a `client_id` each)
//!   back to back for `--send-seconds`, each over a connection of their own. Throughput and
//!   latency; every message stored once.
//! - `fanout`: `--fanout-sockets` people of one channel each open a socket; one of them sends
//!   `--fanout-rate` messages a second for `--fanout-seconds`. Delivery latency is the
//!   frame's arrival minus the instant its POST began (matched by `client_id`), over every
//!   socket and message; every frame arrives once, numbered without gaps.
//! - `replicas` (PostgreSQL): the same with half the sockets on a second hub process over
//!   the same database (this example run again with `--serve-on`), the sends on the first.
//! - `idle`: `--idle-sockets` sockets held open on a hub in a process of its own (so its
//!   RSS is the server's alone: `VmRSS` of `/proc/<pid>/status`), before and after.
//! - `storm`: `--storm-clients` clients, each in `--storm-rooms-per-client` of `--storm-rooms`
//!   channels, connect and follow while one sender posts `--storm-rate` messages a second
//!   round the rooms; all drop; messages go on for `--storm-gap-seconds`; then all fetch a
//!   fresh ticket saying where each room resumes and reconnect at once
//!   (`--connect-concurrency` handshakes in flight). The time until every client holds every event it missed, and at the end every
//!   client's rooms complete: no number skipped or seen twice.
//!
//! Sockets need file descriptors: the load generator holds one per socket and, for `storm`,
//! the in-process server one more (`ulimit -n 65536` before a full run; the run says so
//! when the limit is too low).

mod common;

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Read, Write},
    net::{Ipv4Addr, SocketAddr},
    process::Stdio,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use clap::{Parser, ValueEnum};
use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Deserialize;
use serde_json::json;
use tokio::{
    net::{TcpSocket, TcpStream},
    sync::Semaphore,
    task::JoinHandle,
};
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{Message, protocol::WebSocketConfig},
};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use whatpro_hub::on_db;

use common::{Api, Figures, Hub, Person};

#[derive(Parser)]
struct Args {
    /// PostgreSQL to run on (a schema of its own is made and dropped); SQLite without.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, value_enum, default_value_t = Scenario::All)]
    scenario: Scenario,
    /// The hub's database pool (`DATABASE_MAX_CONNECTIONS`, the hub's default).
    #[arg(long, default_value_t = 16)]
    pool: u32,

    /// send: people posting at once, back to back.
    #[arg(long, default_value_t = 32)]
    senders: usize,
    /// send: channels, each with every sender in it.
    #[arg(long, default_value_t = 200)]
    rooms: usize,
    #[arg(long, default_value_t = 20)]
    send_seconds: u64,

    /// fanout, replicas: sockets, one person each, all in one channel.
    #[arg(long, default_value_t = 1000)]
    fanout_sockets: usize,
    /// fanout, replicas: messages a second into the channel.
    #[arg(long, default_value_t = 10)]
    fanout_rate: u32,
    #[arg(long, default_value_t = 30)]
    fanout_seconds: u64,

    /// idle: sockets held open.
    #[arg(long, default_value_t = 10_000)]
    idle_sockets: usize,
    /// idle: people the sockets belong to (round robin).
    #[arg(long, default_value_t = 10_000)]
    idle_people: usize,
    /// idle: how long the sockets are held before the RSS is read again.
    #[arg(long, default_value_t = 5)]
    idle_hold_seconds: u64,

    /// storm: clients, one person each.
    #[arg(long, default_value_t = 5000)]
    storm_clients: usize,
    #[arg(long, default_value_t = 100)]
    storm_rooms: usize,
    #[arg(long, default_value_t = 2)]
    storm_rooms_per_client: usize,
    /// storm: messages a second round the rooms, the whole time.
    #[arg(long, default_value_t = 50)]
    storm_rate: u32,
    /// storm: how long the clients follow before they drop.
    #[arg(long, default_value_t = 5)]
    storm_before_seconds: u64,
    /// storm: how long they stay away while messages go on.
    #[arg(long, default_value_t = 5)]
    storm_gap_seconds: u64,

    /// Tickets and handshakes in flight at once.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Loopback addresses sockets connect from (127.0.0.1 and up).
    #[arg(long, default_value_t = 4)]
    source_addrs: u8,

    /// Serve the hub over this existing database and print `listening <base URL>`, until
    /// stdin closes (the second process of `idle` and `replicas`).
    #[arg(long, hide = true)]
    serve_on: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    All,
    Send,
    Fanout,
    Replicas,
    Idle,
    Storm,
}

/// Targets of issue 16.
const SEND_TARGET_PG: f64 = 2000.0;
const SEND_TARGET_SQLITE: f64 = 3000.0;
const SEND_P99_MS: f64 = 50.0;
const FANOUT_P99_MS: f64 = 50.0;
const REPLICAS_P99_MS: f64 = 100.0;
const IDLE_MB: f64 = 100.0;
const STORM_SECONDS: f64 = 10.0;
/// How long frames still on their way are waited for once the sends stop.
const GRACE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(db_url) = &args.serve_on {
        return serve_on(db_url, &args).await;
    }
    let run = |s: Scenario| args.scenario == Scenario::All || args.scenario == s;
    if run(Scenario::Send) {
        send(&args).await?;
    }
    if run(Scenario::Fanout) {
        fanout(&args, false).await?;
    }
    if run(Scenario::Replicas) {
        match &args.database_url {
            Some(_) => fanout(&args, true).await?,
            None if args.scenario == Scenario::Replicas => {
                bail!("two replicas share a PostgreSQL database: give --database-url")
            }
            None => println!("\n## replicas: skipped (SQLite serves one process)"),
        }
    }
    if run(Scenario::Idle) {
        idle(&args).await?;
    }
    if run(Scenario::Storm) {
        storm(&args).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The scenarios

/// Messages posted back to back by `--senders` people over `--rooms` channels.
async fn send(args: &Args) -> anyhow::Result<()> {
    let hub = start(args, args.senders).await?;
    let (operator, account, people) = team(&hub, args.senders).await?;
    let ids: Vec<Uuid> = people.iter().map(|p| p.id).collect();
    let rooms: Vec<Room> = stream::iter(0..args.rooms)
        .map(|r| channel(&operator, account, format!("room {r}"), &ids))
        .buffered(8)
        .try_collect()
        .await?;
    analyzed(&hub).await?;
    let paths: Arc<Vec<String>> =
        Arc::new(rooms.iter().map(|r| messages_path(account, r)).collect());

    let cpu = cpu_seconds()?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.send_seconds);
    let senders = args.senders;
    let workers: Vec<JoinHandle<(Vec<u64>, usize)>> = people
        .iter()
        .enumerate()
        .map(|(i, person)| {
            let api = hub.api(person.token.clone());
            let paths = Arc::clone(&paths);
            tokio::spawn(async move {
                let (mut latencies, mut failures) = (Vec::new(), 0);
                let mut k = 0;
                while Instant::now() < deadline {
                    let path = &paths[(i + k * senders) % paths.len()];
                    let message = json!({"body": body(k), "client_id": format!("s{i}-{k}")});
                    let at = Instant::now();
                    let sent = api.post(path, message).await;
                    latencies.push(at.elapsed().as_micros() as u64);
                    failures += usize::from(sent.is_err());
                    k += 1;
                }
                (latencies, failures)
            })
        })
        .collect();
    let (mut latencies, mut failures) = (Vec::new(), 0);
    for worker in workers {
        let (l, f) = worker.await?;
        latencies.extend(l);
        failures += f;
    }
    let elapsed = started.elapsed();
    let cpu = cpu_seconds()? - cpu;
    let stored = hub.count("SELECT COUNT(*) FROM chat_messages").await?;

    let sent = latencies.len() - failures;
    let rate = sent as f64 / elapsed.as_secs_f64();
    let f = Figures::of(latencies);
    let target = match hub.engine {
        "postgres" => SEND_TARGET_PG,
        _ => SEND_TARGET_SQLITE,
    };
    let mut summary = Summary::new(
        "send",
        &hub,
        &format!("{senders} senders over {} rooms", args.rooms),
    );
    summary.row(
        "messages sent",
        format!(
            "{sent} in {:.1} s, {failures} failed, {stored} stored",
            elapsed.as_secs_f64()
        ),
        "",
    );
    summary.judged(
        "throughput",
        format!("{rate:.0}/s"),
        format!("≥ {target:.0}/s"),
        rate >= target,
    );
    summary.judged(
        "latency p50 / p95 / p99 / max",
        format!(
            "{:.1} / {:.1} / {:.1} / {:.1} ms",
            f.p50, f.p95, f.p99, f.max
        ),
        format!("p99 ≤ {SEND_P99_MS:.0} ms"),
        f.p99 <= SEND_P99_MS,
    );
    summary.cpu(cpu, elapsed, sent, "message");
    summary.print();
    ensure!(failures == 0, "{failures} sends failed");
    ensure!(stored as usize == sent, "{sent} sent but {stored} stored");
    hub.stop().await
}

/// One channel of `--fanout-sockets` people, each with a socket, `--fanout-rate` messages
/// a second into it; with `replicas`, half the sockets on a second hub process.
async fn fanout(args: &Args, replicas: bool) -> anyhow::Result<()> {
    let n = args.fanout_sockets;
    ensure_files(n + 200)?;
    let hub = start(args, args.connect_concurrency).await?;
    let second = match replicas {
        true => Some(Child::spawn(&hub.db_url, args).await?),
        false => None,
    };
    let (operator, account, people) = team(&hub, n).await?;
    let ids: Vec<Uuid> = people.iter().map(|p| p.id).collect();
    let room = channel(&operator, account, "everyone".into(), &ids).await?;
    analyzed(&hub).await?;

    let mut dialers = vec![Dialer::new(&hub.base, args.source_addrs)?];
    if let Some(second) = &second {
        dialers.push(Dialer::new(&second.base, args.source_addrs)?);
    }
    let messages = (u64::from(args.fanout_rate) * args.fanout_seconds) as usize;
    let clock = Arc::new(SendClock::new(messages));
    let stop = CancellationToken::new();
    let arrived = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let receivers: Vec<(usize, JoinHandle<Tally>)> = stream::iter(people.iter().enumerate())
        .map(|(i, person)| {
            let replica = i % dialers.len();
            let (hub, dialer) = (&hub, &dialers[replica]);
            async move {
                let resume = HashMap::from([(room.id, room.event_seq)]);
                let ws = open(hub, account, person, dialer, Some(&resume)).await?;
                anyhow::Ok((replica, ws))
            }
        })
        .buffer_unordered(args.connect_concurrency)
        .map_ok(|(replica, ws)| {
            let follow = Follow {
                room: room.id,
                last: room.event_seq,
                clock: Arc::clone(&clock),
                arrived: Arc::clone(&arrived),
                stop: stop.clone(),
            };
            (replica, tokio::spawn(follow.run(ws)))
        })
        .try_collect()
        .await?;
    let connected = started.elapsed();

    // The sends, at the rate, from the first person (also one of the sockets).
    let sender = hub.api(people[0].token.clone());
    let path = messages_path(account, &room);
    let mut tick =
        tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.fanout_rate)));
    let mut send_latencies = Vec::with_capacity(messages);
    let cpu = cpu_seconds()?;
    let sends_started = Instant::now();
    for m in 0..messages {
        tick.tick().await;
        let at = clock.mark(m);
        let message = json!({"body": body(m), "client_id": format!("f{m}")});
        sender.post(&path, message).await?;
        send_latencies.push(at.elapsed().as_micros() as u64);
    }
    let expected = messages * n;
    let cpu = cpu_seconds()? - cpu;
    let sending = sends_started.elapsed();
    let waited = Instant::now();
    while arrived.load(Ordering::Relaxed) < expected && waited.elapsed() < GRACE {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    let mut by_replica: Vec<Tally> = (0..dialers.len()).map(|_| Tally::default()).collect();
    for (replica, receiver) in receivers {
        by_replica[replica].add(receiver.await?);
    }
    if let Some(second) = second {
        second.stop().await?;
    }

    let mut all = Tally::default();
    for tally in &by_replica {
        all.add(tally.clone());
    }
    let (name, target) = match replicas {
        true => ("replicas", REPLICAS_P99_MS),
        false => ("fanout", FANOUT_P99_MS),
    };
    let mut summary = Summary::new(
        name,
        &hub,
        &format!(
            "{n} sockets in one channel, {} msg/s for {} s",
            args.fanout_rate, args.fanout_seconds
        ),
    );
    summary.row(
        "sockets connected (ticket with positions, upgrade, ready)",
        format!(
            "{n} in {:.1} s ({:.0}/s)",
            connected.as_secs_f64(),
            n as f64 / connected.as_secs_f64()
        ),
        "",
    );
    let f = Figures::of(send_latencies);
    summary.row(
        "send latency p50 / p99",
        format!("{:.1} / {:.1} ms", f.p50, f.p99),
        "",
    );
    all.rows(&mut summary, expected, target);
    summary.cpu(cpu, sending, expected, "delivery");
    if replicas {
        let names = ["on the sending replica", "on the second replica"];
        for (tally, name) in by_replica.iter().zip(names) {
            let f = Figures::of(tally.latencies.clone());
            summary.row(
                &format!("delivery p50 / p99 / max, {name}"),
                format!(
                    "{:.1} / {:.1} / {:.1} ms ({} deliveries)",
                    f.p50,
                    f.p99,
                    f.max,
                    tally.latencies.len()
                ),
                "",
            );
        }
    }
    summary.print();
    all.check(expected)?;
    hub.stop().await
}

/// `--idle-sockets` sockets held open on a hub process of its own; its RSS before and after.
async fn idle(args: &Args) -> anyhow::Result<()> {
    let n = args.idle_sockets;
    ensure_files(n + 200)?;
    let hub = start(args, args.connect_concurrency).await?;
    let (_, account, people) = team(&hub, args.idle_people.clamp(1, n.max(1))).await?;
    let server = Child::spawn(&hub.db_url, args).await?;
    let dialer = Dialer::new(&server.base, args.source_addrs)?;
    // Settled: the pool's connections opened, the workers' first passes done.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = server.memory()?;

    let stop = CancellationToken::new();
    let closed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let sockets: Vec<JoinHandle<()>> = stream::iter(0..n)
        .map(|i| open(&hub, account, &people[i % people.len()], &dialer, None))
        .buffer_unordered(args.connect_concurrency)
        .map_ok(|ws| tokio::spawn(hold(ws, Arc::clone(&closed), stop.clone())))
        .try_collect()
        .await?;
    let connected = started.elapsed();
    tokio::time::sleep(Duration::from_secs(args.idle_hold_seconds)).await;
    let after = server.memory()?;
    let closed = closed.load(Ordering::Relaxed);
    stop.cancel();
    for socket in sockets {
        socket.await?;
    }
    server.stop().await?;

    let taken_mb = (after.rss_kib.saturating_sub(before.rss_kib)) as f64 / 1024.0;
    let mut summary = Summary::new(
        "idle",
        &hub,
        &format!(
            "{n} idle sockets of {} people on a hub process of its own",
            people.len()
        ),
    );
    summary.row(
        "sockets connected",
        format!(
            "{n} in {:.1} s ({:.0}/s), {closed} closed by the server",
            connected.as_secs_f64(),
            n as f64 / connected.as_secs_f64()
        ),
        "",
    );
    summary.row(
        "server RSS before / after (peak)",
        format!(
            "{:.1} MB / {:.1} MB ({:.1} MB)",
            before.rss_kib as f64 / 1024.0,
            after.rss_kib as f64 / 1024.0,
            after.hwm_kib as f64 / 1024.0
        ),
        "",
    );
    summary.judged(
        "taken by the sockets",
        format!(
            "{taken_mb:.1} MB, {:.1} KiB per socket",
            taken_mb * 1024.0 / n as f64
        ),
        format!("≤ {IDLE_MB:.0} MB for 10,000"),
        taken_mb * 10_000.0 / n as f64 <= IDLE_MB,
    );
    summary.print();
    ensure!(
        closed == 0,
        "{closed} idle sockets were closed by the server"
    );
    hub.stop().await
}

/// Clients following rooms drop while messages go on, then reconnect and resume at once.
async fn storm(args: &Args) -> anyhow::Result<()> {
    let n = args.storm_clients;
    // The clients' sockets and the server's ends of them, in this process.
    ensure_files(2 * n + 200)?;
    let hub = start(args, args.connect_concurrency).await?;
    let (operator, account, mut people) = team(&hub, n + 1).await?;
    let sender = people.pop().context("no sender")?;
    let per = args.storm_rooms_per_client.min(args.storm_rooms);
    let rooms_of =
        |c: usize| -> Vec<usize> { (0..per).map(|j| (c * per + j) % args.storm_rooms).collect() };
    let mut members: Vec<Vec<Uuid>> = vec![vec![sender.id]; args.storm_rooms];
    for (c, person) in people.iter().enumerate() {
        for r in rooms_of(c) {
            members[r].push(person.id);
        }
    }
    let rooms: Vec<Room> = stream::iter(members.iter().enumerate())
        .map(|(r, ids)| channel(&operator, account, format!("storm {r}"), ids))
        .buffered(8)
        .try_collect()
        .await?;
    analyzed(&hub).await?;
    let clients: Vec<Client> = people
        .into_iter()
        .enumerate()
        .map(|(c, person)| Client {
            person,
            last: rooms_of(c)
                .into_iter()
                .map(|r| (rooms[r].id, rooms[r].event_seq))
                .collect(),
            order: Order::default(),
            resyncs: 0,
            closed: 0,
            failed: Vec::new(),
            caught_up: None,
        })
        .collect();
    let dialer = Arc::new(Dialer::new(&hub.base, args.source_addrs)?);
    let hub = Arc::new(hub);
    let storm = Storm {
        hub: Arc::clone(&hub),
        account,
        dialer,
        permits: Arc::new(Semaphore::new(args.connect_concurrency)),
    };

    // Connected and following; then the messages start.
    let started = Instant::now();
    let first = storm.connect(clients, None).await;
    let connected = started.elapsed();
    let paths: Vec<String> = rooms.iter().map(|r| messages_path(account, r)).collect();
    let stop_sending = CancellationToken::new();
    let sending = tokio::spawn(keep_sending(
        hub.api(sender.token),
        paths,
        args.storm_rate,
        stop_sending.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(args.storm_before_seconds)).await;

    // Everyone drops; messages go on; then everyone comes back at once.
    first.leave.cancel();
    let clients = first.join().await?;
    tokio::time::sleep(Duration::from_secs(args.storm_gap_seconds)).await;
    let targets = Arc::new(event_seqs(&hub, account).await?);
    let missed: i64 = clients
        .iter()
        .flat_map(|c| c.last.iter().map(|(room, last)| targets[room] - last))
        .sum();
    let back = Instant::now();
    let second = storm.connect(clients, Some(Arc::clone(&targets))).await;
    let reconnected = back.elapsed();
    let deadline = back + Duration::from_secs(120);
    while second.caught_up.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop_sending.cancel();
    let (sent, failed) = sending.await?;
    // The last frames on their way, then the check.
    let finals = event_seqs(&hub, account).await?;
    let waited = Instant::now();
    while second.at_end(&finals) < n && waited.elapsed() < GRACE {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    second.leave.cancel();
    let clients = second.join().await?;

    let catch_up: Vec<u64> = clients
        .iter()
        .filter_map(|c| c.caught_up.map(|at| (at - back).as_micros() as u64))
        .collect();
    let behind = n - catch_up.len();
    let all_caught_up = catch_up.iter().max().map(|us| *us as f64 / 1e6);
    let (mut dups, mut gaps, mut resyncs, mut closed, mut short, mut failed_connects) =
        (0, 0, 0, 0, 0, 0);
    for c in &clients {
        dups += c.order.dups;
        gaps += c.order.gaps;
        resyncs += c.resyncs;
        closed += c.closed;
        failed_connects += c.failed.len();
        short += c
            .last
            .iter()
            .map(|(room, last)| (finals[room] - last).max(0))
            .sum::<i64>();
    }
    drop(storm);
    let hub = Arc::into_inner(hub).context("the hub is still shared")?;
    let mut summary = Summary::new(
        "storm",
        &hub,
        &format!(
            "{n} clients in {per} of {} rooms each, {} msg/s, away {} s",
            args.storm_rooms, args.storm_rate, args.storm_gap_seconds
        ),
    );
    summary.row(
        "first connect (ticket with positions, upgrade, ready)",
        format!(
            "{n} in {:.1} s ({:.0}/s)",
            connected.as_secs_f64(),
            n as f64 / connected.as_secs_f64()
        ),
        "",
    );
    summary.row(
        "events missed while away",
        format!("{missed} ({:.1} per client)", missed as f64 / n as f64),
        "",
    );
    summary.row(
        "reconnected (fresh ticket with positions, upgrade, ready)",
        format!("all {n} within {:.1} s", reconnected.as_secs_f64()),
        "",
    );
    let value = match all_caught_up {
        Some(s) => {
            let f = Figures::of(catch_up.clone());
            format!(
                "{s:.2} s for all{} (per client p50 {:.0} ms, p99 {:.0} ms)",
                if behind > 0 {
                    format!(", {behind} never")
                } else {
                    String::new()
                },
                f.p50,
                f.p99
            )
        }
        None => "never".into(),
    };
    summary.judged(
        "every client holds what it missed",
        value,
        format!("≤ {STORM_SECONDS:.0} s"),
        behind == 0 && all_caught_up.is_some_and(|s| s <= STORM_SECONDS),
    );
    summary.row(
        "messages sent meanwhile",
        format!("{sent}, {failed} failed"),
        "",
    );
    summary.judged(
        "seen twice / skipped / short at the end / resync / closed / failed connects",
        format!("{dups} / {gaps} / {short} / {resyncs} / {closed} / {failed_connects}"),
        "all 0".into(),
        dups + (gaps as usize) + (short as usize) + resyncs + closed + failed_connects == 0,
    );
    summary.print();
    for c in clients.iter().filter(|c| !c.failed.is_empty()).take(3) {
        println!("a failed connect: {}", c.failed[0]);
    }
    ensure!(
        dups == 0 && gaps == 0 && short == 0 && resyncs == 0,
        "frames missed or seen twice"
    );
    ensure!(
        closed == 0 && failed_connects == 0,
        "sockets failed or were closed"
    );
    hub.stop().await
}

/// The hidden `--serve-on` mode: a hub over an existing database until stdin closes.
async fn serve_on(db_url: &str, args: &Args) -> anyhow::Result<()> {
    let vars = vars(args);
    let hub = Hub::attach(db_url, &refs(&vars), 1).await?;
    println!("listening {}", hub.base);
    std::io::stdout().flush()?;
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
    hub.stop().await
}

// ---------------------------------------------------------------------------------------
// The hub, people and rooms

fn vars(args: &Args) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_MAX_CONNECTIONS", args.pool.to_string()),
        ("DEFAULT_PLAN_MAX_AGENTS", "1000000".into()),
        // Tokens outlive the longest run.
        ("ACCESS_TOKEN_TTL_MINUTES", "120".into()),
    ]
}

fn refs<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// What autovacuum does within a minute of a bulk load: the planner's statistics for the
/// tables the setup just filled. Without them PostgreSQL joins a room's 1,000 members to the
/// account's people by a nested loop over both (about 60 ms for each message the relay
/// reads, against 1 ms).
async fn analyzed(hub: &Hub) -> anyhow::Result<()> {
    if let whatpro_hub::platform::db::Db::Postgres(pool) = &hub.state.db {
        let tables = "account_users, users, chat_rooms, chat_members, chat_messages, chat_events";
        sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {tables}")))
            .execute(pool)
            .await?;
    }
    Ok(())
}

async fn start(args: &Args, concurrency: usize) -> anyhow::Result<Hub> {
    let vars = vars(args);
    let db = args.database_url.as_deref();
    Hub::start("chat_bench", db, &refs(&vars), concurrency).await
}

/// An account, through the API as an operator, and `n` agents in it.
async fn team(hub: &Hub, n: usize) -> anyhow::Result<(Api, Uuid, Vec<Person>)> {
    let operator = hub.operator("chat bench").await?;
    let account = operator
        .post("/api/v1/accounts", json!({"name": "Chat bench"}))
        .await?;
    let account: Uuid = serde_json::from_value(account["id"].clone())?;
    let people = hub.people(account, "agent", "agent", n).await?;
    Ok((operator, account, people))
}

#[derive(Clone, Copy)]
struct Room {
    id: Uuid,
    /// Its event number once made.
    event_seq: i64,
}

/// A channel of `members`, made by the operator: up to 500 named at creation, the rest
/// added 100 at a time.
async fn channel(
    operator: &Api,
    account: Uuid,
    name: String,
    members: &[Uuid],
) -> anyhow::Result<Room> {
    let (first, rest) = members.split_at(members.len().min(500));
    let rooms = format!("/api/v1/accounts/{account}/chat/rooms");
    let body = json!({"kind": "channel", "name": name, "member_ids": first});
    let mut room = operator.post(&rooms, body).await?;
    let id: Uuid = serde_json::from_value(room["id"].clone())?;
    for chunk in rest.chunks(100) {
        let path = format!("{rooms}/{id}/members");
        room = operator.post(&path, json!({"user_ids": chunk})).await?;
    }
    let event_seq = room["event_seq"].as_i64().context("no event_seq")?;
    Ok(Room { id, event_seq })
}

fn messages_path(account: Uuid, room: &Room) -> String {
    format!("/api/v1/accounts/{account}/chat/rooms/{}/messages", room.id)
}

/// The `n`th message: Markdown of about 80 characters.
fn body(n: usize) -> String {
    const BODIES: [&str; 4] = [
        "**Heads-up:** the _Acme_ customer asked again about order #{n}, see `SLA-7` please.",
        "Can someone take ticket #{n}? I'm on a call until 3pm — details in the [notes](https://hub.test).",
        "- [x] refund #{n} sent\n- [ ] confirm with the client on *WhatsApp* before Friday",
        "Thanks! Closing #{n} now; the `pix` payment finally came through on the second try.",
    ];
    BODIES[n % BODIES.len()].replace("{n}", &n.to_string())
}

/// The rooms' event numbers now, from the database.
async fn event_seqs(hub: &Hub, account: Uuid) -> anyhow::Result<HashMap<Uuid, i64>> {
    let sql = "SELECT id, event_seq FROM chat_rooms WHERE account_id = $1";
    let rows: Vec<(Uuid, i64)> = on_db!(&hub.state.db, pool => sqlx::query_as(sql)
        .bind(account).fetch_all(pool).await?);
    Ok(rows.into_iter().collect())
}

/// Posts round the rooms at `rate` a second until `stop`: how many were sent and failed.
async fn keep_sending(
    api: Api,
    paths: Vec<String>,
    rate: u32,
    stop: CancellationToken,
) -> (usize, usize) {
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    let (mut sent, mut failed) = (0, 0);
    while !stop.is_cancelled() {
        tick.tick().await;
        let message = json!({"body": body(sent), "client_id": format!("m{sent}")});
        match api.post(&paths[sent % paths.len()], message).await {
            Ok(_) => sent += 1,
            Err(_) => failed += 1,
        }
    }
    (sent, failed)
}

// ---------------------------------------------------------------------------------------
// Sockets

type Ws = WebSocketStream<TcpStream>;

/// Connects to one server from loopback addresses in turn.
struct Dialer {
    addr: SocketAddr,
    sources: Vec<Ipv4Addr>,
    next: AtomicUsize,
}

impl Dialer {
    fn new(base: &str, sources: u8) -> anyhow::Result<Dialer> {
        let addr = base
            .strip_prefix("http://")
            .context("an http:// base")?
            .parse()?;
        Ok(Dialer {
            addr,
            sources: (1..=sources.max(1))
                .map(|i| Ipv4Addr::new(127, 0, 0, i))
                .collect(),
            next: AtomicUsize::new(0),
        })
    }

    /// The socket, past its `ready` frame.
    async fn open(&self, ticket: &str) -> anyhow::Result<Ws> {
        let source = self.sources[self.next.fetch_add(1, Ordering::Relaxed) % self.sources.len()];
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((source, 0)))?;
        let tcp = socket.connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        let url = format!("ws://{}/api/v1/realtime/ws?ticket={ticket}", self.addr);
        // A browser-sized read buffer: tungstenite's 128 KiB default would take 1.3 GB on
        // this side for 10,000 sockets.
        let config = WebSocketConfig::default().read_buffer_size(4096);
        let (mut ws, _) = client_async_with_config(url, tcp, Some(config)).await?;
        match next_frame(&mut ws).await? {
            Got::Frame(frame) if frame.kind == "ready" => Ok(ws),
            Got::Frame(frame) => bail!("{} before ready", frame.kind),
            Got::Closed(why) => bail!("closed before ready: {why}"),
        }
    }
}

/// A fresh ticket for `person` from `hub` (resuming the rooms in `resume` after those
/// numbers: the socket replays them before anything live), then a socket on `dialer`'s server.
async fn open(
    hub: &Hub,
    account: Uuid,
    person: &Person,
    dialer: &Dialer,
    resume: Option<&HashMap<Uuid, i64>>,
) -> anyhow::Result<Ws> {
    let path = format!("/api/v1/accounts/{account}/realtime/tickets");
    let body = resume.map_or_else(|| json!({}), |rooms| json!({ "resume": rooms }));
    let ticket = hub.api(person.token.clone()).post(&path, body).await?;
    dialer
        .open(ticket["ticket"].as_str().context("no ticket")?)
        .await
}

/// What the client reads of a frame.
#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    room_id: Option<Uuid>,
    seq: Option<i64>,
    #[serde(default)]
    data: FrameData,
}

#[derive(Default, Deserialize)]
struct FrameData {
    client_id: Option<String>,
}

enum Got {
    Frame(Frame),
    /// Why: the close code, or that the connection ended.
    Closed(String),
}

/// The next text frame (pings are answered by the library as it reads).
async fn next_frame(ws: &mut Ws) -> anyhow::Result<Got> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(Got::Frame(serde_json::from_str(&text)?)),
            Some(Ok(Message::Close(close))) => {
                let why = close.map_or("no code".into(), |c| format!("{} {}", c.code, c.reason));
                return Ok(Got::Closed(why));
            }
            Some(Ok(_)) => {}
            Some(Err(err)) => return Ok(Got::Closed(err.to_string())),
            None => return Ok(Got::Closed("ended".into())),
        }
    }
}

/// An idle socket: read (so pings are answered) until `stop`; counts a close.
async fn hold(mut ws: Ws, closed: Arc<AtomicUsize>, stop: CancellationToken) {
    let mut gone = 0;
    while next_until(&mut ws, &stop, &mut gone).await.is_some() {}
    closed.fetch_add(gone, Ordering::Relaxed);
}

/// The next text frame; `None` when `stop` comes first or the socket ends (counted in
/// `closed`).
async fn next_until(ws: &mut Ws, stop: &CancellationToken, closed: &mut usize) -> Option<Frame> {
    tokio::select! {
        () = stop.cancelled() => None,
        got = next_frame(ws) => match got {
            Ok(Got::Frame(frame)) => Some(frame),
            Ok(Got::Closed(_)) | Err(_) => {
                *closed += 1;
                None
            }
        },
    }
}

/// A room's frames in order: numbers seen twice, numbers skipped.
#[derive(Clone, Default)]
struct Order {
    dups: usize,
    gaps: i64,
}

impl Order {
    /// Frame `seq` after `last` (moved on to it).
    fn see(&mut self, last: &mut i64, seq: i64) {
        match seq - *last {
            1 => {}
            d if d <= 0 => self.dups += 1,
            d => self.gaps += d - 1,
        }
        *last = (*last).max(seq);
    }
}

/// When each message's send began, by its number, against one epoch.
struct SendClock {
    epoch: Instant,
    sent: Vec<AtomicU64>,
}

impl SendClock {
    fn new(messages: usize) -> SendClock {
        SendClock {
            epoch: Instant::now(),
            sent: (0..messages).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Message `m`'s send begins now.
    fn mark(&self, m: usize) -> Instant {
        self.sent[m].store(self.now(), Ordering::Relaxed);
        Instant::now()
    }

    /// µs since message `m`'s send began (its `client_id` is `f<m>`).
    fn since(&self, client_id: &str) -> Option<u64> {
        let m: usize = client_id.strip_prefix('f')?.parse().ok()?;
        let sent = self.sent.get(m)?.load(Ordering::Relaxed);
        Some(self.now().saturating_sub(sent))
    }
}

/// One fan-out socket: every `message.created` of the room timed and its number checked.
struct Follow {
    room: Uuid,
    last: i64,
    clock: Arc<SendClock>,
    arrived: Arc<AtomicUsize>,
    stop: CancellationToken,
}

/// What fan-out sockets saw.
#[derive(Clone, Default)]
struct Tally {
    latencies: Vec<u64>,
    order: Order,
    /// Closed by the server (or broken) before the end.
    closed: usize,
}

impl Follow {
    async fn run(mut self, mut ws: Ws) -> Tally {
        let mut tally = Tally::default();
        loop {
            let Some(frame) = next_until(&mut ws, &self.stop, &mut tally.closed).await else {
                return tally;
            };
            if frame.room_id != Some(self.room) {
                continue;
            }
            if let Some(seq) = frame.seq {
                tally.order.see(&mut self.last, seq);
            }
            let since = frame
                .data
                .client_id
                .as_deref()
                .and_then(|c| self.clock.since(c));
            if let ("message.created", Some(us)) = (frame.kind.as_str(), since) {
                tally.latencies.push(us);
                self.arrived.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.order.dups += other.order.dups;
        self.order.gaps += other.order.gaps;
        self.closed += other.closed;
    }

    fn rows(&self, summary: &mut Summary, expected: usize, p99_target: f64) {
        summary.row(
            "deliveries",
            format!(
                "{} of {expected}; {} seen twice, {} skipped, {} sockets closed",
                self.latencies.len(),
                self.order.dups,
                self.order.gaps,
                self.closed
            ),
            "all, once each",
        );
        if self.latencies.is_empty() {
            return;
        }
        let f = Figures::of(self.latencies.clone());
        summary.judged(
            "delivery latency p50 / p95 / p99 / max",
            format!(
                "{:.1} / {:.1} / {:.1} / {:.1} ms",
                f.p50, f.p95, f.p99, f.max
            ),
            format!("p99 ≤ {p99_target:.0} ms"),
            f.p99 <= p99_target,
        );
    }

    fn check(&self, expected: usize) -> anyhow::Result<()> {
        ensure!(
            self.latencies.len() == expected && self.order.dups == 0 && self.order.gaps == 0,
            "deliveries missed or seen twice"
        );
        ensure!(self.closed == 0, "{} sockets were closed", self.closed);
        Ok(())
    }
}

/// One reconnect-storm client: its rooms' last numbers seen, kept across connections.
struct Client {
    person: Person,
    last: HashMap<Uuid, i64>,
    order: Order,
    resyncs: usize,
    closed: usize,
    failed: Vec<String>,
    /// When it first held every event up to the targets.
    caught_up: Option<Instant>,
}

/// How the storm's clients connect.
struct Storm {
    hub: Arc<Hub>,
    account: Uuid,
    dialer: Arc<Dialer>,
    permits: Arc<Semaphore>,
}

/// One round of connections: each client's task until `leave`.
struct Round {
    tasks: Vec<JoinHandle<Client>>,
    leave: CancellationToken,
    caught_up: Arc<AtomicUsize>,
    /// Each client's rooms' last numbers, as they go (read by [`Round::at_end`]).
    progress: Vec<Arc<std::sync::Mutex<HashMap<Uuid, i64>>>>,
}

impl Storm {
    /// Every client connects (a fresh ticket each) and resumes, all at once; answers once
    /// every one is connected (or failed), the clients following in tasks.
    async fn connect(
        &self,
        clients: Vec<Client>,
        targets: Option<Arc<HashMap<Uuid, i64>>>,
    ) -> Round {
        let leave = CancellationToken::new();
        let caught_up = Arc::new(AtomicUsize::new(0));
        let resumed = Arc::new(AtomicUsize::new(0));
        let n = clients.len();
        let mut progress = Vec::with_capacity(n);
        let tasks = clients
            .into_iter()
            .map(|client| {
                let shared = Arc::new(std::sync::Mutex::new(client.last.clone()));
                progress.push(Arc::clone(&shared));
                let run = ClientRun {
                    hub: Arc::clone(&self.hub),
                    account: self.account,
                    dialer: Arc::clone(&self.dialer),
                    permits: Arc::clone(&self.permits),
                    targets: targets.clone(),
                    leave: leave.clone(),
                    caught_up: Arc::clone(&caught_up),
                    resumed: Arc::clone(&resumed),
                    shared,
                };
                tokio::spawn(run.run(client))
            })
            .collect();
        while resumed.load(Ordering::Relaxed) < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Round {
            tasks,
            leave,
            caught_up,
            progress,
        }
    }
}

impl Round {
    /// The clients back, their sockets dropped (as a network drop: no close frame).
    async fn join(self) -> anyhow::Result<Vec<Client>> {
        let mut clients = Vec::with_capacity(self.tasks.len());
        for task in self.tasks {
            clients.push(task.await?);
        }
        Ok(clients)
    }

    /// Clients whose every room is at `finals`.
    fn at_end(&self, finals: &HashMap<Uuid, i64>) -> usize {
        self.progress
            .iter()
            .filter(|p| {
                let last = p.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                last.iter().all(|(room, seq)| *seq >= finals[room])
            })
            .count()
    }
}

/// One client's connection in a round.
struct ClientRun {
    hub: Arc<Hub>,
    account: Uuid,
    dialer: Arc<Dialer>,
    permits: Arc<Semaphore>,
    targets: Option<Arc<HashMap<Uuid, i64>>>,
    leave: CancellationToken,
    caught_up: Arc<AtomicUsize>,
    resumed: Arc<AtomicUsize>,
    shared: Arc<std::sync::Mutex<HashMap<Uuid, i64>>>,
}

impl ClientRun {
    async fn run(self, mut client: Client) -> Client {
        let opened = async {
            let _permit = self.permits.acquire().await?;
            let resume = Some(&client.last);
            open(
                &self.hub,
                self.account,
                &client.person,
                &self.dialer,
                resume,
            )
            .await
        }
        .await;
        self.resumed.fetch_add(1, Ordering::Relaxed);
        let mut ws = match opened {
            Ok(ws) => ws,
            Err(err) => {
                client.failed.push(format!("{err:#}"));
                return client;
            }
        };
        self.check_caught_up(&mut client);
        loop {
            let Some(frame) = next_until(&mut ws, &self.leave, &mut client.closed).await else {
                return client;
            };
            let (Some(room), Some(seq)) = (frame.room_id, frame.seq) else {
                continue;
            };
            let Some(last) = client.last.get_mut(&room) else {
                continue;
            };
            if frame.kind == "resync" {
                client.resyncs += 1;
                *last = (*last).max(seq);
            } else {
                client.order.see(last, seq);
            }
            self.shared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(room, *last);
            self.check_caught_up(&mut client);
        }
    }

    fn check_caught_up(&self, client: &mut Client) {
        let Some(targets) = &self.targets else {
            return;
        };
        if client.caught_up.is_none()
            && client
                .last
                .iter()
                .all(|(room, last)| *last >= targets[room])
        {
            client.caught_up = Some(Instant::now());
            self.caught_up.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The second process, limits, the summary

/// The hub in a process of its own over the same database: this example with `--serve-on`.
struct Child {
    process: std::process::Child,
    base: String,
}

/// A process's memory, from `/proc/<pid>/status`.
struct Memory {
    rss_kib: u64,
    hwm_kib: u64,
}

impl Child {
    async fn spawn(db_url: &str, args: &Args) -> anyhow::Result<Child> {
        let mut process = std::process::Command::new(std::env::current_exe()?)
            .args(["--serve-on", db_url, "--pool", &args.pool.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = process.stdout.take().context("the child's stdout")?;
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await??;
        let base = line
            .trim()
            .strip_prefix("listening ")
            .with_context(|| format!("the second hub did not start: {line:?}"))?
            .to_string();
        Ok(Child { process, base })
    }

    fn memory(&self) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.id()))?;
        let kib = |field: &str| -> anyhow::Result<u64> {
            let line = status
                .lines()
                .find(|l| l.starts_with(field))
                .with_context(|| format!("no {field}"))?;
            Ok(line
                .split_whitespace()
                .nth(1)
                .context("a number")?
                .parse()?)
        };
        Ok(Memory {
            rss_kib: kib("VmRSS:")?,
            hwm_kib: kib("VmHWM:")?,
        })
    }

    /// Closes its stdin (it stops itself); killed if it has not within 15 s.
    async fn stop(mut self) -> anyhow::Result<()> {
        drop(self.process.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.process.try_wait()?.is_none() {
            if Instant::now() > deadline {
                self.process.kill()?;
                self.process.wait()?;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }
}

/// CPU seconds this process has used, user and system (`/proc/self/stat`, 100 ticks a
/// second).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the command's closing parenthesis, from the third (state): utime is the
    // 14th, stime the 15th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("/proc/self/stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
    Ok(ticks / 100.0)
}

/// Fails early when this process may not open `needed` files.
fn ensure_files(needed: usize) -> anyhow::Result<()> {
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(soft) = soft {
        ensure!(
            soft >= needed,
            "this run needs about {needed} open files but the limit is {soft}: `ulimit -n 65536` first"
        );
    }
    Ok(())
}

/// One scenario's figures against its targets, printed as a Markdown table under the
/// command that produced them.
struct Summary {
    title: String,
    rows: Vec<[String; 3]>,
}

impl Summary {
    fn new(scenario: &str, hub: &Hub, what: &str) -> Summary {
        Summary {
            title: format!(
                "{scenario}: {what} ({}, pool {})",
                hub.engine, hub.state.config.database_max_connections
            ),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, measure: &str, value: String, target: &str) {
        self.rows
            .push([measure.to_string(), value, target.to_string()]);
    }

    fn judged(&mut self, measure: &str, value: String, target: String, met: bool) {
        let verdict = if met { "met" } else { "NOT met" };
        self.rows
            .push([measure.to_string(), value, format!("{target}: {verdict}")]);
    }

    /// What this process (the hub, and the load generator beside it) spent per `unit`.
    fn cpu(&mut self, cpu: f64, elapsed: Duration, count: usize, unit: &str) {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        self.row(
            "CPU of this process (hub and load generator)",
            format!(
                "{:.0} µs per {unit}; {:.2} of {cores} cores",
                cpu * 1e6 / count.max(1) as f64,
                cpu / elapsed.as_secs_f64()
            ),
            "",
        );
    }

    fn print(&self) {
        let command: Vec<String> = std::env::args().skip(1).collect();
        println!("\n## {}", self.title);
        println!(
            "`cargo run --release --example chat_bench -- {}`\n",
            command.join(" ")
        );
        println!("| measure | value | target |\n|---|---|---|");
        for [measure, value, target] in &self.rows {
            println!("| {measure} | {value} | {target} |");
        }
    }
}
