//! What the benchmarks share: the real server with its background workers over a fresh
//! database (a temporary SQLite file, or a PostgreSQL schema of its own), an operator's
//! token and the API as that operator, requests sent `concurrency` at a time, and their
//! figures.

// Each example uses part of it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use whatpro_hub::{
    app::{config::Config, server, state::AppState},
    auth::sessions,
    on_db,
    platform::db::{Db, Tx},
    tenancy::users::store::{self as users, Identity, NewUser},
};

/// The hub serving on 127.0.0.1, over a database of its own.
pub struct Hub {
    pub state: AppState,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    pub http: reqwest::Client,
    /// `sqlite` or `postgres`.
    pub engine: &'static str,
    /// The database it serves, as [`Hub::attach`] takes it.
    pub db_url: String,
    shutdown: CancellationToken,
    server: JoinHandle<anyhow::Result<()>>,
    /// The PostgreSQL server and the schema made for this run, dropped by [`Hub::stop`].
    schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Hub {
    /// Serves the hub over a fresh database: a temporary SQLite file without
    /// `database_url`, else a schema named `<bench>_<pid>` on that PostgreSQL. `vars` are
    /// configuration variables on top of the database, the public URL and rate limits
    /// raised out of the way (`DATABASE_MAX_CONNECTIONS` sizes the pool, 16 by default).
    pub async fn start(
        bench: &str,
        database_url: Option<&str>,
        vars: &[(&str, &str)],
        concurrency: usize,
    ) -> anyhow::Result<Hub> {
        let dir = tempfile::tempdir()?;
        let (db_url, engine, schema) = match database_url {
            Some(url) => {
                let schema = format!("{bench}_{}", std::process::id());
                let db_url = fresh_schema(url, &schema).await?;
                (db_url, "postgres", Some((url.to_string(), schema)))
            }
            None => {
                let path = dir.path().join("bench.db");
                (
                    format!("sqlite://{}?mode=rwc", path.display()),
                    "sqlite",
                    None,
                )
            }
        };
        let mut hub = Hub::attach(&db_url, vars, concurrency).await?;
        hub.engine = engine;
        hub.schema = schema;
        hub._dir = dir;
        Ok(hub)
    }

    /// Another server over a database a [`Hub::start`] made (`db_url` is its
    /// [`Hub::db_url`]): a second replica, in this process or another. Nothing is dropped
    /// when it stops.
    pub async fn attach(
        db_url: &str,
        vars: &[(&str, &str)],
        concurrency: usize,
    ) -> anyhow::Result<Hub> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let common = [
            ("DATABASE_URL", db_url),
            ("PUBLIC_URL", base.as_str()),
            ("RATE_LIMIT_PER_MINUTE", "1000000000"),
            ("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "1000000000"),
        ];
        let config = Config::from_vars(
            common
                .iter()
                .chain(vars)
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )?;
        let db = Db::connect(&config.database_url, config.database_max_connections).await?;
        db.migrate().await?;
        let state = AppState::new(db, config).await?;
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(server::serve(state.clone(), listener, shutdown.clone()));
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .build()?;
        let engine = match state.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        };
        Ok(Hub {
            state,
            base,
            http,
            engine,
            db_url: db_url.to_string(),
            shutdown,
            server,
            schema: None,
            _dir: tempfile::tempdir()?,
        })
    }

    /// Stops the server and drops the PostgreSQL schema.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let _ = self.server.await;
        self.state.db.close().await;
        if let Some((url, schema)) = &self.schema {
            let admin = Db::connect(url, 1).await?;
            if let Db::Postgres(pool) = &admin {
                let drop = format!("DROP SCHEMA {schema} CASCADE");
                sqlx::query(sqlx::AssertSqlSafe(drop)).execute(pool).await?;
            }
            admin.close().await;
        }
        Ok(())
    }

    /// A single number out of the database (`SELECT COUNT(*) …`).
    pub async fn count(&self, sql: &'static str) -> anyhow::Result<i64> {
        Ok(on_db!(&self.state.db, pool => sqlx::query_scalar(sql).fetch_one(pool).await?))
    }

    /// Waits until the worker has no delivery of `source` left to process.
    pub async fn drained(&self, source: &str) -> anyhow::Result<()> {
        // One row is enough to know (a count would read the whole backlog 20 times a
        // second, taking the database's CPU from what is measured).
        let sql = "SELECT 1 FROM webhook_deliveries
                   WHERE source = $1 AND status IN ('pending', 'processing') LIMIT 1";
        loop {
            let open: Option<i32> = on_db!(&self.state.db, pool => sqlx::query_scalar(sql)
                .bind(source).fetch_optional(pool).await?);
            if open.is_none() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The API as a super admin, with a token minted as `whatpro-hub token` mints one.
    pub async fn operator(&self, device: &str) -> anyhow::Result<Api> {
        let mut tx = self.state.db.begin().await?;
        let bench = NewUser {
            identity: Identity::Operator,
            email: "bench@hub.test",
            name: "Bench",
            avatar_url: None,
            is_super_admin: true,
        };
        let (_, token) = self.mint(&mut tx, &bench, device).await?;
        tx.commit().await?;
        Ok(self.api(token))
    }

    /// `n` people of the account (`role` there), each with a token minted as `whatpro-hub
    /// token` mints one: straight into the database, many to a transaction, rather than
    /// `n` sign-ins. Emails are `<prefix><i>@bench.test`.
    pub async fn people(
        &self,
        account_id: Uuid,
        role: &str,
        prefix: &str,
        n: usize,
    ) -> anyhow::Result<Vec<Person>> {
        let mut people = Vec::with_capacity(n);
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut tx = self.state.db.begin().await?;
            for i in chunk {
                let email = format!("{prefix}{i}@bench.test");
                let name = format!("Agent {prefix}{i}");
                let user = NewUser {
                    identity: Identity::AddedIn(account_id),
                    email: &email,
                    name: &name,
                    avatar_url: None,
                    is_super_admin: false,
                };
                let (id, token) = self.mint(&mut tx, &user, "bench").await?;
                users::insert_membership(&mut tx, account_id, id, role).await?;
                people.push(Person { id, token });
            }
            tx.commit().await?;
        }
        Ok(people)
    }

    /// A user and a CLI session's access token for them, good for two hours.
    async fn mint(
        &self,
        tx: &mut Tx,
        user: &NewUser<'_>,
        device: &str,
    ) -> anyhow::Result<(Uuid, String)> {
        let user_id = users::insert_user(tx, user).await?;
        let new = sessions::NewSession {
            user_id,
            account_id: None,
            method: sessions::Method::Cli,
            device: Some(device),
            client: None,
        };
        let lifetime = Duration::from_secs(2 * 3600);
        let issued = sessions::open_for(tx, &self.state, new, lifetime).await?;
        Ok((user_id, issued.access.token))
    }

    /// The API with `token`.
    pub fn api(&self, token: String) -> Api {
        Api {
            http: self.http.clone(),
            base: self.base.clone(),
            token,
        }
    }
}

/// Someone [`Hub::people`] made.
pub struct Person {
    pub id: Uuid,
    pub token: String,
}

/// A PostgreSQL schema of its own, named in the URL's `options`.
async fn fresh_schema(url: &str, schema: &str) -> anyhow::Result<String> {
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

/// The hub's API with a bearer token.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.send(Method::POST, path, Some(body)).await
    }

    /// One request; anything but a 2xx is an error.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }
}

/// Sends `request(item)` for every item, `concurrency` at a time; each answer must be 200
/// with `status` = `expected`. Answers the latencies (µs) and how many failed.
pub async fn post_all<T>(
    items: &[T],
    concurrency: usize,
    expected: &'static str,
    request: impl Fn(&T) -> RequestBuilder,
) -> (Vec<u64>, usize) {
    let outcomes: Vec<(u64, bool)> = stream::iter(items)
        .map(|item| {
            let request = request(item);
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

/// Latency percentiles, in ms.
pub struct Figures {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Figures {
    /// Of latencies in µs (at least one).
    pub fn of(mut latencies: Vec<u64>) -> Figures {
        latencies.sort_unstable();
        let at = |q: f64| {
            let i = ((latencies.len() as f64 * q) as usize).min(latencies.len() - 1);
            latencies[i] as f64 / 1000.0
        };
        Figures {
            p50: at(0.5),
            p95: at(0.95),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// Prints one row (`count` requests in `elapsed`) and fails when any failed.
pub fn report(
    what: &str,
    count: usize,
    elapsed: Duration,
    latencies: Vec<u64>,
    failures: usize,
) -> anyhow::Result<()> {
    let f = Figures::of(latencies);
    println!(
        "| {what} | {:.0}/s | p50 {:.1} ms | p95 {:.1} ms | p99 {:.1} ms | max {:.1} ms | {failures} failed |",
        count as f64 / elapsed.as_secs_f64(),
        f.p50,
        f.p95,
        f.p99,
        f.max
    );
    anyhow::ensure!(
        failures == 0,
        "{failures} of {count} were not answered as expected"
    );
    Ok(())
}
