//! The test harness: a real server on a random port over a fresh database per test.
//! SQLite (a temporary file) by default; PostgreSQL (a fresh schema) when
//! `TEST_DATABASE_URL` is set.

use std::{collections::HashMap, str::FromStr, time::Duration};

use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use sqlx::postgres::PgConnectOptions;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use whatpro_hub::{
    app::{config::Config, server, state::AppState},
    auth::sessions::{self, Method as SessionMethod, NewSession},
    platform::db::Db,
    tenancy::users::store::{self as users, Identity, NewUser},
};

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub shutdown: CancellationToken,
    pub server: Option<JoinHandle<anyhow::Result<()>>>,
    _database: TestDatabase,
}

/// Removes the test's PostgreSQL schema when the test ends (the SQLite file goes with its
/// temporary directory).
enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        admin_url: String,
        schema: String,
    },
    /// Another replica's: the first one cleans up.
    Shared,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, schema } = self {
            let (url, schema) = (admin_url.clone(), schema.clone());
            // Drop runs outside any runtime we may block; use a small one on its own thread.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&url).await {
                        // The test's hub may still hold a transaction (a worker mid-batch)
                        // on the runtime this drop now blocks: end its connections first,
                        // or the DROP would wait for them forever.
                        let _ = sqlx::query(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                             WHERE application_name = $1",
                        )
                        .bind(&schema)
                        .execute(&pool)
                        .await;
                        let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                        pool.close().await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

async fn test_database() -> (Db, TestDatabase) {
    match postgres_url() {
        Some(url) => {
            let schema = format!("t_{}", Uuid::new_v4().simple());
            let admin = sqlx::PgPool::connect(&url)
                .await
                .expect("TEST_DATABASE_URL must accept connections");
            let sql = format!("CREATE SCHEMA \"{schema}\"");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&admin)
                .await
                .unwrap();
            admin.close().await;
            let options = PgConnectOptions::from_str(&url)
                .unwrap()
                .options([("search_path", schema.as_str())])
                .application_name(&schema);
            let pool = Db::pg_pool(options, 8).await.unwrap();
            (
                Db::Postgres(pool),
                TestDatabase::Postgres {
                    admin_url: url,
                    schema,
                },
            )
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display());
            (
                Db::connect(&url, 8).await.unwrap(),
                TestDatabase::Sqlite(dir),
            )
        }
    }
}

/// Configuration for a test: development defaults, generous rate limits, plus `vars`.
pub fn config(vars: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = HashMap::from([
        (
            "DATA_DIR".into(),
            std::env::temp_dir()
                .join("whatpro-hub-tests")
                .display()
                .to_string(),
        ),
        ("RATE_LIMIT_PER_MINUTE".into(), "100000".into()),
        ("RATE_LIMIT_ANONYMOUS_PER_MINUTE".into(), "100000".into()),
        ("SHUTDOWN_TIMEOUT_SECS".into(), "5".into()),
        // Tests run the health checks themselves (`providers::health::check_due`).
        ("INSTANCE_CHECK_SECONDS".into(), "0".into()),
    ]);
    map.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Config::from_vars(map).unwrap()
}

impl TestApp {
    /// A stored webhook delivery (an event no consumer acts on), as the intake stores one.
    pub async fn add_delivery(&self, account_id: Uuid) -> Uuid {
        use whatpro_hub::inbound::store;
        let key = format!("fixture-{}", rand_id());
        let new = store::NewDelivery {
            source: whatpro_hub::inbound::FROM_CHATWOOT,
            account_id: Some(account_id),
            event: "webwidget_triggered".into(),
            dedupe_key: key,
            body: "{\"event\":\"webwidget_triggered\"}".into(),
            received_at: whatpro_hub::platform::clock::now(),
        };
        assert!(store::insert(&self.state.db, &new).await.unwrap());
        let page = whatpro_hub::platform::pagination::PageRequest {
            limit: 1,
            after: None,
        };
        store::list(&self.state.db, account_id, None, page)
            .await
            .unwrap()[0]
            .id
    }

    /// An inbox as a Chatwoot sync would record it (enabled), written through the store.
    /// Makes a chat message (and the thread it starts) look written at `at`.
    pub async fn age_chat_message(&self, id: Uuid, at: time::OffsetDateTime) {
        let mut tx = self.state.db.begin().await.unwrap();
        let sql = "UPDATE chat_messages SET created_at = $2 WHERE id = $1";
        whatpro_hub::on_tx!(&mut tx, c => sqlx::query(sql).bind(id).bind(at).execute(c).await.unwrap().rows_affected());
        tx.commit().await.unwrap();
    }

    pub async fn add_inbox(&self, account_id: Uuid, name: &str) -> Uuid {
        use whatpro_hub::chatwoot::inboxes::{Inbox, store};
        let now = whatpro_hub::platform::clock::now();
        let inbox = Inbox {
            id: Uuid::now_v7(),
            chatwoot_inbox_id: i64::from(rand_id()),
            name: name.into(),
            channel_type: "Channel::Whatsapp".into(),
            phone_number: None,
            enabled: true,
            disabled_reason: None,
            removed_at: None,
            synced_at: now,
            created_at: now,
            updated_at: now,
            whatsapp_instance_id: None,
        };
        let mut tx = self.state.db.begin().await.unwrap();
        store::insert(&mut tx, account_id, &inbox).await.unwrap();
        tx.commit().await.unwrap();
        inbox.id
    }

    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(vars: &[(&str, &str)]) -> TestApp {
        let (db, database) = test_database().await;
        db.migrate().await.unwrap();
        Self::start(db, database, config(vars)).await
    }

    async fn start(db: Db, database: TestDatabase, mut config: Config) -> TestApp {
        whatpro_hub::platform::metrics::install();
        whatpro_hub::platform::install_crypto_provider();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        // Unless a test names its public URL, the hub is reachable where it listens (the
        // Chatwoot simulator delivers webhooks there).
        if config.public_url.starts_with("http://localhost:") {
            config.public_url = base.clone();
        }
        let state = AppState::new(db, config).await.unwrap();
        let shutdown = CancellationToken::new();
        let server = tokio::spawn(server::serve(state.clone(), listener, shutdown.clone()));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        TestApp {
            base,
            client,
            state,
            shutdown,
            server: Some(server),
            _database: database,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Resp::read(request.send().await.unwrap()).await
    }

    /// Uploads `bytes` as one `multipart/form-data` part named `file`, with the file name
    /// and the part's `Content-Type` the client claims (a browser's `FormData`).
    pub async fn upload(
        &self,
        path: &str,
        token: &str,
        (filename, claimed_type): (&str, &str),
        bytes: &[u8],
    ) -> Resp {
        const BOUNDARY: &str = "----whatpro-test-boundary-7d3f9a";
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {claimed_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body);
        Resp::read(request.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::POST, path, Some(token), Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::PUT, path, Some(token), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.request(Method::DELETE, path, Some(token), None).await
    }

    /// A user created the way `create-admin` does, with a token from the same minting code.
    pub async fn user(&self, email: &str, super_admin: bool) -> Caller {
        let mut tx = self.state.db.begin().await.unwrap();
        let user = NewUser {
            identity: Identity::Operator,
            email,
            name: "Test User",
            avatar_url: None,
            is_super_admin: super_admin,
        };
        let id = users::insert_user(&mut tx, &user).await.unwrap();
        tx.commit().await.unwrap();
        Caller {
            id,
            token: self.token_for(id).await,
        }
    }

    /// Makes `user_id` a member of another account too, as the Chatwoot agent sync does for a
    /// person in two Chatwoot accounts (the API adds only people of the account's own).
    pub async fn join(&self, account_id: Uuid, user_id: Uuid, role: &str) {
        let mut tx = self.state.db.begin().await.unwrap();
        users::insert_membership(&mut tx, account_id, user_id, role)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    /// An access token of a new operator session, as `whatpro-hub token` mints it.
    pub async fn token_for(&self, user_id: Uuid) -> String {
        let mut tx = self.state.db.begin().await.unwrap();
        let new = NewSession {
            user_id,
            account_id: None,
            method: SessionMethod::Cli,
            device: None,
            client: None,
        };
        let issued = sessions::open(&mut tx, &self.state, new).await.unwrap();
        tx.commit().await.unwrap();
        issued.access.token
    }

    /// An account with an admin, a supervisor and an agent, created through the API.
    pub async fn tenant(&self, root: &Caller, name: &str) -> Tenant {
        let account = self
            .post("/api/v1/accounts", &root.token, json!({ "name": name }))
            .await;
        assert_eq!(account.status, StatusCode::CREATED, "{:?}", account.body);
        let account_id = account.id();
        let slug = name.to_lowercase().replace(' ', "-");
        let mut members = Vec::new();
        for role in ["admin", "supervisor", "agent"] {
            let created = self
                .post(
                    &format!("/api/v1/accounts/{account_id}/users"),
                    &root.token,
                    json!({ "email": format!("{role}@{slug}.test"), "name": format!("{role} of {name}"), "role": role }),
                )
                .await;
            assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
            let id = created.id();
            members.push(Caller {
                id,
                token: self.token_for(id).await,
            });
        }
        let agent = members.pop().unwrap();
        let supervisor = members.pop().unwrap();
        let admin = members.pop().unwrap();
        Tenant {
            id: account_id,
            admin,
            supervisor,
            agent,
        }
    }

    /// A second replica: another server, with its own state, over the same database.
    pub async fn replica(&self) -> TestApp {
        let config = self.state.config.clone();
        Self::start(self.state.db.clone(), TestDatabase::Shared, config).await
    }

    /// Stops the server as a signal would and waits for it.
    pub async fn stop(&mut self) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub struct Caller {
    pub id: Uuid,
    pub token: String,
}

pub struct Tenant {
    pub id: Uuid,
    pub admin: Caller,
    pub supervisor: Caller,
    pub agent: Caller,
}

impl Tenant {
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/accounts/{}{rest}", self.id)
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    pub async fn read(response: reqwest::Response) -> Resp {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn id(&self) -> Uuid {
        self.body["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no id in {:?}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with `status` and `code`.
    #[track_caller]
    /// The `field` of each of a validation problem's `errors`, in order.
    pub fn error_fields(&self) -> Vec<&str> {
        self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
            .unwrap_or_default()
    }

    pub fn assert_problem(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "body: {:?}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{:?}",
            self.body
        );
        assert_eq!(self.body["code"], code, "body: {:?}", self.body);
        assert_eq!(
            self.body["status"],
            status.as_u16(),
            "body: {:?}",
            self.body
        );
        assert!(
            self.body["title"].is_string()
                && self.body["detail"].is_string()
                && self.body["type"].is_string()
        );
    }
}

/// A positive id unlikely to repeat within a test.
fn rand_id() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1000);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The global key of the shared Evolution simulator.
pub const EVOLUTION_KEY: &str = "evolution-global-key-for-tests";

/// An Evolution simulator shared by every test of the process, on a runtime of its own (a
/// test's runtime ends with the test): what the security suites register providers with.
/// A test that injects faults starts its own.
pub fn shared_evolution() -> &'static str {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    URL.get_or_init(|| {
        let (sent, url) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the Evolution simulator");
            runtime.block_on(async move {
                let sim =
                    whatpro_hub::simulators::evolution::EvolutionSimulator::start(EVOLUTION_KEY)
                        .await;
                sent.send(sim.base_url())
                    .expect("the test waits for the URL");
                std::future::pending::<()>().await;
            });
        });
        url.recv().expect("the Evolution simulator starts")
    })
}
