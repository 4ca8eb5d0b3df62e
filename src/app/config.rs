//! Configuration from the environment (12-factor). Development has working defaults;
//! production refuses to start while a secret is missing or still the development default.

use std::{collections::HashMap, net::IpAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

use crate::{entitlements::PlanDefaults, platform::telemetry::LogFormat};

const DEV_ENCRYPTION_KEY: &str = "ZGV2ZWxvcG1lbnQtb25seS1lbmNyeXB0aW9uLWtleSE=";
const DEV_SIGNING_KEYS: &str = "dev:development-only-signing-key-do-not-use-in-production";
const DEV_CHAT_FILES_KEY: &str = "development-only-chat-files-key-do-not-use-in-production";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// A JWT signing key with its id; the first configured key signs, all of them verify.
#[derive(Clone)]
pub struct SigningKey {
    pub id: String,
    pub secret: SecretString,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, [redacted])", self.id)
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub environment: Environment,
    pub host: IpAddr,
    pub port: u16,
    pub database_url: String,
    pub database_max_connections: u32,
    pub public_url: String,
    /// The installation configured from the environment (`CHATWOOT_*`), if any.
    pub chatwoot: Option<ChatwootEnv>,
    pub cors_origins: Vec<String>,
    pub encryption_key: SecretString,
    /// Keys that sealed older secrets and still open them (`ENCRYPTION_KEYS_PREVIOUS`).
    pub previous_encryption_keys: Vec<SecretString>,
    pub instance_token_ttl: Duration,
    /// How often cards are compared with Chatwoot's conversations (`RECONCILE_MINUTES`).
    pub reconcile_every: Duration,
    /// How long a webhook worker holds a delivery it took (`WEBHOOK_LEASE_SECONDS`); a
    /// delivery still unfinished then is taken again, by any replica.
    pub webhook_lease: Duration,
    pub signing_keys: Vec<SigningKey>,
    pub access_token_ttl: Duration,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    pub rate_limit_per_minute: u32,
    pub anonymous_rate_limit_per_minute: u32,
    pub trusted_proxies: Vec<IpNet>,
    pub request_timeout: Duration,
    pub body_limit_bytes: usize,
    pub shutdown_timeout: Duration,
    pub log_format: LogFormat,
    pub otlp_endpoint: Option<String>,
    pub plan_defaults: PlanDefaults,
    pub billing: BillingEnv,
    pub providers: ProvidersEnv,
    pub chat_files: ChatFilesEnv,
    /// How long a person stays online in the team chat after their last socket closed
    /// (`CHAT_PRESENCE_GRACE_SECONDS`, default 10): a reload must not show them leaving.
    pub chat_presence_grace: Duration,
}

/// The team chat's attachments (ADR 25).
#[derive(Clone, Debug)]
pub struct ChatFilesEnv {
    /// The largest file taken (`CHAT_ATTACHMENT_MAX_MB`, default 25).
    pub max_bytes: u64,
    /// How long a download link stays valid (`CHAT_FILE_URL_TTL_SECONDS`, default 3600).
    pub url_ttl: Duration,
    /// Signs download links (`CHAT_FILES_SIGNING_KEY`, at least 32 characters).
    pub signing_key: SecretString,
    /// Where files are kept on local disk, and where uploads are staged in any case
    /// (`CHAT_FILES_DIR`, default `DATA_DIR/chat-files`).
    pub dir: PathBuf,
    /// S3-compatible storage instead of the local disk (`CHAT_S3_*`).
    pub s3: Option<S3Env>,
}

/// An S3-compatible bucket, addressed path-style (`CHAT_S3_ENDPOINT`, `CHAT_S3_BUCKET`,
/// `CHAT_S3_REGION`, `CHAT_S3_ACCESS_KEY_ID`, `CHAT_S3_SECRET_ACCESS_KEY`).
#[derive(Clone, Debug)]
pub struct S3Env {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

/// Talking to WhatsApp provider servers, and watching their numbers.
#[derive(Clone, Debug)]
pub struct ProvidersEnv {
    /// How long one call may take (`PROVIDER_TIMEOUT_SECONDS`).
    pub timeout: Duration,
    /// How often each number is checked (`INSTANCE_CHECK_SECONDS`; 0 turns checks off).
    pub check_every: Option<Duration>,
    /// How long a connected number may stay silent before it is no longer believed
    /// (`INSTANCE_STALE_MINUTES`).
    pub stale_after: Duration,
    /// Networks the hub never calls a provider in, besides link-local and the like
    /// (`PROVIDER_DENIED_NETWORKS`).
    pub denied_networks: Vec<IpNet>,
    /// When set, the only networks provider servers may be in
    /// (`PROVIDER_ALLOWED_NETWORKS`).
    pub allowed_networks: Option<Vec<IpNet>>,
}

/// Billing through Asaas: off (503 `billing_unavailable`) until `ASAAS_API_KEY` is set.
#[derive(Clone, Debug)]
pub struct BillingEnv {
    pub asaas: Option<AsaasEnv>,
    /// Full access kept after a payment is overdue (`BILLING_GRACE_DAYS`; 0 suspends at once).
    pub grace_days: u32,
    /// Trial on a first subscription to a plan without one of its own (`BILLING_TRIAL_DAYS`).
    pub trial_days: u32,
    /// How often live subscriptions are compared with Asaas (`BILLING_SYNC_MINUTES`).
    pub sync_every: Duration,
}

#[derive(Clone, Debug)]
pub struct AsaasEnv {
    /// Base URL, `/v3` included (`ASAAS_API_URL`).
    pub url: String,
    pub api_key: SecretString,
    /// The `authToken` of the Asaas webhook, which Asaas sends back in `asaas-access-token`.
    pub webhook_token: SecretString,
}

/// The one Chatwoot installation most deployments have, described by `CHATWOOT_URL`,
/// `CHATWOOT_ORIGINS`, `CHATWOOT_PLATFORM_TOKEN`, `CHATWOOT_APP_SECRET` and
/// `CHATWOOT_WEBHOOKS_UNSIGNED`.
#[derive(Debug, Clone)]
pub struct ChatwootEnv {
    pub url: String,
    /// Browser origins of Chatwoot's dashboard; by default the origin of `url`.
    pub origins: Vec<String>,
    pub platform_token: Option<SecretString>,
    /// Signs platform-app events; without it, events for this installation are refused.
    pub app_secret: Option<SecretString>,
    /// `false` for Chatwoot before 4.11.2, which cannot sign its webhooks.
    pub signs_webhooks: bool,
}

/// Reads variables from a map, so tests need not touch the process environment.
struct Vars(HashMap<String, String>);

impl Vars {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    fn parse<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e| anyhow::anyhow!("{name}: {e}")),
        }
    }

    fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_vars(std::env::vars().collect())
    }

    pub fn from_vars(vars: HashMap<String, String>) -> anyhow::Result<Self> {
        let vars = Vars(vars);
        let environment = match vars.get("APP_ENV").unwrap_or("development") {
            "development" => Environment::Development,
            "production" => Environment::Production,
            other => bail!("APP_ENV must be development or production, not {other:?}"),
        };
        let production = environment == Environment::Production;
        let port = vars.parse("APP_PORT", 3000u16)?;
        let data_dir = PathBuf::from(vars.get("DATA_DIR").unwrap_or("./data"));
        let database_url = match vars.get("DATABASE_URL") {
            Some(url) => url.to_string(),
            None => sqlite_url(&data_dir)?,
        };

        let encryption_key = secret(&vars, "ENCRYPTION_KEY", DEV_ENCRYPTION_KEY, production)?;
        let key_bytes = base64_decode(encryption_key.expose_secret())
            .context("ENCRYPTION_KEY must be base64")?;
        if key_bytes.len() != 32 {
            bail!("ENCRYPTION_KEY must decode to 32 bytes (openssl rand -base64 32)");
        }
        let previous_encryption_keys = vars
            .list("ENCRYPTION_KEYS_PREVIOUS")
            .into_iter()
            .map(|key| match base64_decode(&key).ok() {
                Some(bytes) if bytes.len() == 32 => Ok(SecretString::from(key)),
                _ => {
                    bail!("ENCRYPTION_KEYS_PREVIOUS holds base64 keys of 32 bytes, comma-separated")
                }
            })
            .collect::<anyhow::Result<_>>()?;
        let signing_keys = parse_signing_keys(secret(
            &vars,
            "JWT_SIGNING_KEYS",
            DEV_SIGNING_KEYS,
            production,
        )?)?;

        let cors_origins = vars.list("CORS_ORIGINS");
        if let Some(bad) = cors_origins
            .iter()
            .find(|o| o.as_str() == "*" || o.ends_with('/'))
        {
            bail!("CORS_ORIGINS takes exact origins like https://app.example.com, not {bad:?}");
        }
        let trusted_proxies = networks(&vars, "TRUSTED_PROXIES")?;

        let webhook_lease = vars.parse("WEBHOOK_LEASE_SECONDS", 120u64)?;
        if !(1..=3600).contains(&webhook_lease) {
            bail!("WEBHOOK_LEASE_SECONDS must be between 1 and 3600, not {webhook_lease}");
        }

        let chat_files = chat_files_env(&vars, &data_dir, production)?;
        let presence_grace = vars.parse("CHAT_PRESENCE_GRACE_SECONDS", 10u64)?;
        if presence_grace > 300 {
            bail!("CHAT_PRESENCE_GRACE_SECONDS must be between 0 and 300, not {presence_grace}");
        }

        let log_format = match vars.get("LOG_FORMAT") {
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => bail!("LOG_FORMAT must be json or pretty, not {other:?}"),
            None if production => LogFormat::Json,
            None => LogFormat::Pretty,
        };

        Ok(Config {
            environment,
            host: vars.parse("APP_HOST", IpAddr::from([0, 0, 0, 0]))?,
            port,
            database_url,
            database_max_connections: vars.parse("DATABASE_MAX_CONNECTIONS", 16)?,
            public_url: vars
                .get("PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_else(|| format!("http://localhost:{port}")),
            chatwoot: chatwoot_env(&vars)?,
            cors_origins,
            encryption_key,
            previous_encryption_keys,
            reconcile_every: Duration::from_secs(
                60 * vars.parse("RECONCILE_MINUTES", 15u64)?.max(1),
            ),
            webhook_lease: Duration::from_secs(webhook_lease),
            instance_token_ttl: Duration::from_secs(
                vars.parse("INSTANCE_TOKEN_TTL_SECONDS", 300u64)?
                    .clamp(30, 900),
            ),
            signing_keys,
            access_token_ttl: Duration::from_secs(
                60 * vars.parse("ACCESS_TOKEN_TTL_MINUTES", 15u64)?,
            ),
            session_idle_timeout: Duration::from_secs(
                60 * vars.parse("SESSION_IDLE_TIMEOUT_MINUTES", 30u64)?,
            ),
            session_absolute_timeout: Duration::from_secs(
                3600 * vars.parse("SESSION_ABSOLUTE_TIMEOUT_HOURS", 12u64)?,
            ),
            rate_limit_per_minute: vars.parse("RATE_LIMIT_PER_MINUTE", 600)?,
            anonymous_rate_limit_per_minute: vars.parse("RATE_LIMIT_ANONYMOUS_PER_MINUTE", 120)?,
            trusted_proxies,
            request_timeout: Duration::from_secs(vars.parse("REQUEST_TIMEOUT_SECS", 30)?),
            body_limit_bytes: vars.parse("BODY_LIMIT_BYTES", 1024 * 1024)?,
            shutdown_timeout: Duration::from_secs(vars.parse("SHUTDOWN_TIMEOUT_SECS", 20)?),
            log_format,
            otlp_endpoint: vars.get("OTEL_EXPORTER_OTLP_ENDPOINT").map(String::from),
            plan_defaults: PlanDefaults::from_lookup(|name| vars.get(name).map(String::from))?,
            billing: billing_env(&vars)?,
            providers: ProvidersEnv {
                timeout: Duration::from_secs(
                    vars.parse("PROVIDER_TIMEOUT_SECONDS", 10u64)?.clamp(1, 60),
                ),
                check_every: match vars.parse("INSTANCE_CHECK_SECONDS", 60u64)? {
                    0 => None,
                    seconds => Some(Duration::from_secs(seconds.max(5))),
                },
                stale_after: Duration::from_secs(
                    60 * vars.parse("INSTANCE_STALE_MINUTES", 360u64)?.max(1),
                ),
                denied_networks: networks(&vars, "PROVIDER_DENIED_NETWORKS")?,
                allowed_networks: match vars.list("PROVIDER_ALLOWED_NETWORKS") {
                    list if list.is_empty() => None,
                    _ => Some(networks(&vars, "PROVIDER_ALLOWED_NETWORKS")?),
                },
            },
            chat_files,
            chat_presence_grace: Duration::from_secs(presence_grace),
        })
    }

    /// The browser origin of `PUBLIC_URL` (without the path it may carry).
    pub fn public_origin(&self) -> String {
        origin_of(&self.public_url).unwrap_or_else(|| self.public_url.clone())
    }

    /// The path `PUBLIC_URL` mounts the hub under (`""` at the root, else `/prefix`).
    pub fn base_path(&self) -> &str {
        let after_scheme = self
            .public_url
            .split_once("://")
            .map_or("", |(_, rest)| rest);
        after_scheme.find('/').map_or("", |at| &after_scheme[at..])
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    /// HSTS is only meaningful (and only safe to send) when the hub is reached over https.
    pub fn served_over_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

fn secret(
    vars: &Vars,
    name: &str,
    dev_default: &str,
    production: bool,
) -> anyhow::Result<SecretString> {
    match vars.get(name) {
        Some(value) if production && value == dev_default => {
            bail!(
                "{name} is still the development default; set a real secret for APP_ENV=production"
            )
        }
        Some(value) => Ok(SecretString::from(value.to_string())),
        None if production => bail!("{name} must be set when APP_ENV=production"),
        None => Ok(SecretString::from(dev_default.to_string())),
    }
}

fn parse_signing_keys(raw: SecretString) -> anyhow::Result<Vec<SigningKey>> {
    let keys = raw
        .expose_secret()
        .split(',')
        .map(|entry| {
            let (id, secret) = entry.trim().split_once(':').context(
                "JWT_SIGNING_KEYS is a comma-separated list of key-id:secret (the first one signs)",
            )?;
            if id.is_empty() || secret.len() < 32 {
                bail!(
                    "JWT_SIGNING_KEYS: each key needs an id and a secret of at least 32 characters"
                );
            }
            Ok(SigningKey {
                id: id.to_string(),
                secret: SecretString::from(secret.to_string()),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(keys)
}

/// A comma-separated list of IPs and CIDRs.
fn networks(vars: &Vars, name: &str) -> anyhow::Result<Vec<IpNet>> {
    vars.list(name)
        .iter()
        .map(|p| parse_net(p).with_context(|| format!("{name}: {p:?} is not an IP or CIDR")))
        .collect()
}

fn parse_net(raw: &str) -> anyhow::Result<IpNet> {
    if let Ok(net) = raw.parse::<IpNet>() {
        return Ok(net);
    }
    Ok(IpNet::from(raw.parse::<IpAddr>()?))
}

fn sqlite_url(data_dir: &std::path::Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create DATA_DIR {}", data_dir.display()))?;
    Ok(format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("whatpro-hub.db").display()
    ))
}

pub(crate) fn base64_decode(raw: &str) -> anyhow::Result<Vec<u8>> {
    use base64::Engine;
    Ok(base64::engine::general_purpose::STANDARD.decode(raw)?)
}

fn billing_env(vars: &Vars) -> anyhow::Result<BillingEnv> {
    let asaas = match vars.get("ASAAS_API_KEY") {
        None => None,
        Some(key) => {
            let Some(token) = vars.get("ASAAS_WEBHOOK_TOKEN") else {
                bail!(
                    "ASAAS_WEBHOOK_TOKEN must be set with ASAAS_API_KEY: it is what tells Asaas's webhooks apart from anyone's posts"
                );
            };
            let url = vars
                .get("ASAAS_API_URL")
                .unwrap_or("https://api-sandbox.asaas.com/v3")
                .trim_end_matches('/')
                .to_string();
            origin_of(&url)
                .with_context(|| format!("ASAAS_API_URL {url:?} is not an http(s) URL"))?;
            Some(AsaasEnv {
                url,
                api_key: SecretString::from(key),
                webhook_token: SecretString::from(token),
            })
        }
    };
    Ok(BillingEnv {
        asaas,
        grace_days: vars.parse("BILLING_GRACE_DAYS", 5u32)?,
        trial_days: vars.parse("BILLING_TRIAL_DAYS", 0u32)?,
        sync_every: Duration::from_secs(60 * vars.parse("BILLING_SYNC_MINUTES", 60u64)?.max(1)),
    })
}

fn chat_files_env(
    vars: &Vars,
    data_dir: &std::path::Path,
    production: bool,
) -> anyhow::Result<ChatFilesEnv> {
    let max_mb = vars.parse("CHAT_ATTACHMENT_MAX_MB", 25u64)?;
    if !(1..=1024).contains(&max_mb) {
        bail!("CHAT_ATTACHMENT_MAX_MB must be between 1 and 1024, not {max_mb}");
    }
    let ttl = vars.parse("CHAT_FILE_URL_TTL_SECONDS", 3600u64)?;
    if !(60..=7 * 86_400).contains(&ttl) {
        bail!("CHAT_FILE_URL_TTL_SECONDS must be between 60 and 604800, not {ttl}");
    }
    let signing_key = secret(
        vars,
        "CHAT_FILES_SIGNING_KEY",
        DEV_CHAT_FILES_KEY,
        production,
    )?;
    if signing_key.expose_secret().len() < 32 {
        bail!("CHAT_FILES_SIGNING_KEY must be at least 32 characters (openssl rand -base64 32)");
    }
    let dir = vars
        .get("CHAT_FILES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir.join("chat-files"));
    let s3 = match vars.get("CHAT_S3_ENDPOINT") {
        None => None,
        Some(endpoint) => {
            let endpoint = endpoint.trim_end_matches('/').to_string();
            origin_of(&endpoint)
                .with_context(|| format!("CHAT_S3_ENDPOINT {endpoint:?} is not an http(s) URL"))?;
            let need = |name: &str| {
                vars.get(name)
                    .map(String::from)
                    .with_context(|| format!("{name} must be set with CHAT_S3_ENDPOINT"))
            };
            Some(S3Env {
                endpoint,
                bucket: need("CHAT_S3_BUCKET")?,
                region: vars
                    .get("CHAT_S3_REGION")
                    .unwrap_or("us-east-1")
                    .to_string(),
                access_key_id: need("CHAT_S3_ACCESS_KEY_ID")?,
                secret_access_key: SecretString::from(need("CHAT_S3_SECRET_ACCESS_KEY")?),
            })
        }
    };
    Ok(ChatFilesEnv {
        max_bytes: max_mb * 1024 * 1024,
        url_ttl: Duration::from_secs(ttl),
        signing_key,
        dir,
        s3,
    })
}

fn chatwoot_env(vars: &Vars) -> anyhow::Result<Option<ChatwootEnv>> {
    let Some(url) = vars.get("CHATWOOT_URL") else {
        return Ok(None);
    };
    let url = url.trim_end_matches('/').to_string();
    let default_origin =
        origin_of(&url).with_context(|| format!("CHATWOOT_URL {url:?} is not an http(s) URL"))?;
    let mut origins = vars.list("CHATWOOT_ORIGINS");
    for origin in &origins {
        if origin_of(origin).as_deref() != Some(origin.as_str()) {
            bail!(
                "CHATWOOT_ORIGINS takes exact origins like https://chat.example.com, not {origin:?}"
            );
        }
    }
    if origins.is_empty() {
        origins.push(default_origin);
    }
    Ok(Some(ChatwootEnv {
        url,
        origins,
        platform_token: vars.get("CHATWOOT_PLATFORM_TOKEN").map(SecretString::from),
        app_secret: vars.get("CHATWOOT_APP_SECRET").map(SecretString::from),
        signs_webhooks: !vars.parse("CHATWOOT_WEBHOOKS_UNSIGNED", false)?,
    }))
}

/// `scheme://host[:port]` of an http(s) URL, the way browsers write `Origin`.
pub fn origin_of(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let dir = std::env::temp_dir().join("whatpro-config-test");
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("DATA_DIR".into())
            .or_insert(dir.display().to_string());
        map
    }

    #[test]
    fn development_runs_on_defaults() {
        let config = Config::from_vars(vars(&[])).unwrap();
        assert_eq!(config.port, 3000);
        assert!(config.database_url.starts_with("sqlite://"));
        assert_eq!(config.log_format, LogFormat::Pretty);
    }

    #[test]
    fn production_refuses_missing_or_default_secrets() {
        let err = Config::from_vars(vars(&[("APP_ENV", "production")])).unwrap_err();
        assert!(err.to_string().contains("ENCRYPTION_KEY"), "{err}");

        let err = Config::from_vars(vars(&[
            ("APP_ENV", "production"),
            ("ENCRYPTION_KEY", DEV_ENCRYPTION_KEY),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("development default"), "{err}");

        let err = Config::from_vars(vars(&[
            ("APP_ENV", "production"),
            (
                "ENCRYPTION_KEY",
                "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8s=",
            ),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("JWT_SIGNING_KEYS"), "{err}");
    }

    #[test]
    fn production_starts_with_real_secrets_and_never_prints_them() {
        let config = Config::from_vars(vars(&[
            ("APP_ENV", "production"),
            (
                "ENCRYPTION_KEY",
                "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8s=",
            ),
            (
                "JWT_SIGNING_KEYS",
                "k2:0123456789abcdef0123456789abcdef-new,k1:0123456789abcdef0123456789abcdef-old",
            ),
            (
                "CHAT_FILES_SIGNING_KEY",
                "chat-files-0123456789abcdef-real-key",
            ),
        ]))
        .unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.signing_keys[0].id, "k2");
        let printed = format!("{config:?}");
        assert!(!printed.contains("0123456789abcdef"), "{printed}");
        assert!(!printed.contains("q83vEjRWeJ"), "{printed}");
        assert!(!printed.contains("chat-files-0123"), "{printed}");
    }

    #[test]
    fn chat_files_need_a_real_key_in_production_and_s3_needs_its_credentials() {
        let real = [
            ("APP_ENV", "production"),
            (
                "ENCRYPTION_KEY",
                "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8s=",
            ),
            (
                "JWT_SIGNING_KEYS",
                "k1:0123456789abcdef0123456789abcdef-key",
            ),
        ];
        let err = Config::from_vars(vars(&real)).unwrap_err();
        assert!(err.to_string().contains("CHAT_FILES_SIGNING_KEY"), "{err}");
        let mut with_default = real.to_vec();
        with_default.push(("CHAT_FILES_SIGNING_KEY", DEV_CHAT_FILES_KEY));
        let err = Config::from_vars(vars(&with_default)).unwrap_err();
        assert!(err.to_string().contains("development default"), "{err}");
        let short = Config::from_vars(vars(&[("CHAT_FILES_SIGNING_KEY", "short")])).unwrap_err();
        assert!(short.to_string().contains("32 characters"), "{short}");

        let config = Config::from_vars(vars(&[])).unwrap();
        assert_eq!(config.chat_files.max_bytes, 25 * 1024 * 1024);
        assert!(config.chat_files.dir.ends_with("chat-files"));
        assert!(config.chat_files.s3.is_none());
        let err =
            Config::from_vars(vars(&[("CHAT_S3_ENDPOINT", "http://127.0.0.1:9000")])).unwrap_err();
        assert!(err.to_string().contains("CHAT_S3_BUCKET"), "{err}");
        let config = Config::from_vars(vars(&[
            ("CHAT_S3_ENDPOINT", "http://127.0.0.1:9000/"),
            ("CHAT_S3_BUCKET", "files"),
            ("CHAT_S3_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("CHAT_S3_SECRET_ACCESS_KEY", "s3-secret-never-printed"),
        ]))
        .unwrap();
        let s3 = config.chat_files.s3.as_ref().unwrap();
        assert_eq!(s3.endpoint, "http://127.0.0.1:9000");
        assert_eq!(s3.region, "us-east-1");
        assert!(!format!("{config:?}").contains("s3-secret-never"));
    }

    #[test]
    fn billing_is_off_without_a_key_and_needs_the_webhook_token_with_one() {
        let config = Config::from_vars(vars(&[])).unwrap();
        assert!(config.billing.asaas.is_none());
        assert_eq!(config.billing.grace_days, 5);
        assert_eq!(config.billing.trial_days, 0);
        let err = Config::from_vars(vars(&[("ASAAS_API_KEY", "$aact_test")])).unwrap_err();
        assert!(err.to_string().contains("ASAAS_WEBHOOK_TOKEN"), "{err}");
        let config = Config::from_vars(vars(&[
            ("ASAAS_API_KEY", "$aact_secret_key"),
            ("ASAAS_WEBHOOK_TOKEN", "whsec-token-value"),
            ("BILLING_GRACE_DAYS", "0"),
        ]))
        .unwrap();
        let asaas = config.billing.asaas.as_ref().unwrap();
        assert_eq!(asaas.url, "https://api-sandbox.asaas.com/v3");
        assert_eq!(config.billing.grace_days, 0);
        let printed = format!("{config:?}");
        assert!(!printed.contains("aact_secret"), "{printed}");
        assert!(!printed.contains("whsec-token"), "{printed}");
    }

    #[test]
    fn chatwoot_origins_default_to_chatwoots_and_must_be_exact() {
        let config =
            Config::from_vars(vars(&[("CHATWOOT_URL", "https://chat.example.com/")])).unwrap();
        let chatwoot = config.chatwoot.unwrap();
        assert_eq!(chatwoot.url, "https://chat.example.com");
        assert_eq!(chatwoot.origins, ["https://chat.example.com"]);
        assert!(chatwoot.signs_webhooks);
        let listed = vars(&[
            ("CHATWOOT_URL", "http://chatwoot:3000"),
            (
                "CHATWOOT_ORIGINS",
                "https://chat.example.com, https://support.example.com:8443",
            ),
        ]);
        let origins = Config::from_vars(listed).unwrap().chatwoot.unwrap().origins;
        assert_eq!(
            origins,
            [
                "https://chat.example.com",
                "https://support.example.com:8443"
            ]
        );
        for bad in ["https://chat.example.com/app", "*", "chat.example.com"] {
            let with_bad = vars(&[
                ("CHATWOOT_URL", "http://chatwoot:3000"),
                ("CHATWOOT_ORIGINS", bad),
            ]);
            assert!(Config::from_vars(with_bad).is_err(), "{bad}");
        }
        assert!(Config::from_vars(vars(&[("CHATWOOT_URL", "ftp://x")])).is_err());
        assert!(Config::from_vars(vars(&[("ENCRYPTION_KEYS_PREVIOUS", "c2hvcnQ=")])).is_err());
    }

    #[test]
    fn webhook_lease_defaults_to_two_minutes_and_is_bounded() {
        let config = Config::from_vars(vars(&[])).unwrap();
        assert_eq!(config.webhook_lease, Duration::from_secs(120));
        let short = Config::from_vars(vars(&[("WEBHOOK_LEASE_SECONDS", "2")])).unwrap();
        assert_eq!(short.webhook_lease, Duration::from_secs(2));
        for bad in ["0", "3601", "-1", "2m"] {
            let err = Config::from_vars(vars(&[("WEBHOOK_LEASE_SECONDS", bad)])).unwrap_err();
            assert!(
                err.to_string().contains("WEBHOOK_LEASE_SECONDS"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn public_url_gives_origin_and_mount_path() {
        let mounted =
            Config::from_vars(vars(&[("PUBLIC_URL", "https://chat.example.com/whatpro/")]))
                .unwrap();
        assert_eq!(mounted.public_origin(), "https://chat.example.com");
        assert_eq!(mounted.base_path(), "/whatpro");
        let root = Config::from_vars(vars(&[("PUBLIC_URL", "https://hub.example.com")])).unwrap();
        assert_eq!(root.base_path(), "");
    }

    #[test]
    fn rejects_wildcard_cors_and_bad_proxies() {
        assert!(Config::from_vars(vars(&[("CORS_ORIGINS", "*")])).is_err());
        assert!(Config::from_vars(vars(&[("TRUSTED_PROXIES", "nope")])).is_err());
        let config =
            Config::from_vars(vars(&[("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")])).unwrap();
        assert_eq!(config.trusted_proxies.len(), 2);
    }
}
