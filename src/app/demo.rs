//! `serve --demo`: a built-in Chatwoot simulator stands in for `CHATWOOT_URL`, seeded with
//! a demo account, its dashboard carrying the hub's script (as `DASHBOARD_SCRIPTS` would),
//! and the account connected, so a newcomer sees the hub inside "Chatwoot" with nothing
//! else installed. A built-in Asaas simulator stands in for `ASAAS_API_URL`, with two plans
//! on offer, so the newcomer can subscribe and pay a PIX charge on the simulator's page;
//! and a built-in Evolution API server holds the demo account's WhatsApp number, ready to
//! "scan" on the simulator's page.

use std::net::{IpAddr, Ipv4Addr};

use tokio::net::TcpListener;

use crate::{
    app::{
        config::{AsaasEnv, ChatwootEnv, Config},
        state::AppState,
    },
    auth::sso::{self, Linked},
    billing::plans::{self, Cycle, Plan},
    chatwoot::connection::{self, TokenSource},
    entitlements::{Entitlements, Features, Limits},
    platform::client::ClientMeta,
    platform::clock,
    simulators::{
        asaas::AsaasSimulator,
        chatwoot::{
            DemoInstallation, Simulator,
            demo::{DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_TOKEN, DEMO_AGENT_TOKEN},
        },
        evolution::EvolutionSimulator,
    },
};

pub struct Demo {
    /// Kept alive for as long as the hub runs.
    pub simulator: Simulator,
    pub seeded: DemoInstallation,
    pub asaas: AsaasSimulator,
    pub evolution: EvolutionSimulator,
}

/// The demo Evolution server's global key: it never leaves this machine's loopback.
const DEMO_EVOLUTION_KEY: &str = "demo-evolution-global-key";

fn random(len: usize) -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// A listener on localhost: `port_var`'s port, else `fallback`, else any free one.
async fn listen(port_var: &str, fallback: u16) -> anyhow::Result<TcpListener> {
    let port = std::env::var(port_var)
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(fallback);
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    Ok(match TcpListener::bind((localhost, port)).await {
        Ok(listener) => listener,
        Err(_) => TcpListener::bind((localhost, 0)).await?,
    })
}

/// Starts the simulators (Chatwoot on `DEMO_CHATWOOT_PORT`, by default the hub's port + 1;
/// Asaas on `DEMO_ASAAS_PORT`, by default + 2; any free port when taken) and makes them the
/// environment's installation and payment gateway.
pub async fn start(config: &mut Config) -> anyhow::Result<Demo> {
    anyhow::ensure!(
        !config.is_production(),
        "--demo is for trying the hub, not for APP_ENV=production"
    );
    let listener = listen("DEMO_CHATWOOT_PORT", config.port.saturating_add(1)).await?;
    let simulator = Simulator::serve(listener).await;
    // Fresh secrets each run: nothing outside this process knows them.
    let api_key = format!("$aact_demo_{}", random(24));
    let asaas = AsaasSimulator::serve(
        listen("DEMO_ASAAS_PORT", config.port.saturating_add(2)).await?,
        &api_key,
    )
    .await;
    let evolution = EvolutionSimulator::serve(
        listen("DEMO_EVOLUTION_PORT", config.port.saturating_add(3)).await?,
        DEMO_EVOLUTION_KEY,
    )
    .await;
    config.billing.asaas = Some(AsaasEnv {
        url: asaas.base_url(),
        api_key: api_key.into(),
        webhook_token: random(32).into(),
    });
    let seeded = simulator.seed_demo();
    simulator.set_dashboard_scripts(&format!(
        "<script src=\"{}/embed/dashboard-script.js\" defer></script>",
        config.public_url
    ));
    config.chatwoot = Some(ChatwootEnv {
        url: simulator.base_url(),
        origins: vec![simulator.base_url()],
        platform_token: Some(seeded.platform_token.clone().into()),
        app_secret: None,
        signs_webhooks: true,
    });
    Ok(Demo {
        simulator,
        seeded,
        asaas,
        evolution,
    })
}

impl Demo {
    /// Connects the demo account (webhook, Dashboard App, inboxes) and says where to look.
    pub async fn connect(&self, state: &AppState) -> anyhow::Result<()> {
        let installation = state
            .installations
            .default_installation()
            .ok_or_else(|| anyhow::anyhow!("the demo installation is missing"))?;
        let client = ClientMeta {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            user_agent: Some("whatpro-hub serve --demo".into()),
            request_id: None,
        };
        let linked = Linked {
            installation_id: installation.installation.id,
            chatwoot_account_id: self.seeded.account_id,
            name: "Demo Co",
        };
        let mut tx = state.db.begin().await?;
        let account = sso::upsert_account(&mut tx, &linked, &client).await?;
        tx.commit().await?;
        let token = TokenSource::AccessToken(DEMO_ADMIN_TOKEN.to_string().into());
        connection::connect(state, &account, token).await?;
        self.offer_plans(state).await?;
        self.register_whatsapp(state, account.id).await?;
        let chatwoot = self.simulator.base_url();
        tracing::info!(
            chatwoot_dashboard = format!("{chatwoot}/app/login"),
            email = DEMO_ADMIN_EMAIL,
            password = DEMO_ADMIN_PASSWORD,
            "demo mode: open the demo Chatwoot and sign in to see the hub inside it"
        );
        tracing::info!(
            hub = state.config.public_url,
            admin_api_token = DEMO_ADMIN_TOKEN,
            agent_api_token = DEMO_AGENT_TOKEN,
            "demo mode: or sign in to the hub directly with one of these Chatwoot API tokens"
        );
        tracing::info!(
            asaas = self.asaas.page_url(),
            "demo mode: subscribe in Settings → Billing, then pay the PIX charge on the Asaas simulator's page"
        );
        Ok(())
    }

    /// Registers the demo Evolution server on the demo account with one number, once.
    async fn register_whatsapp(
        &self,
        state: &AppState,
        account_id: uuid::Uuid,
    ) -> anyhow::Result<()> {
        use crate::providers::{ProviderKind, adapters, credentials::Credentials, instances};
        tracing::info!(
            evolution = format!("{}/manager", self.evolution.base_url()),
            "demo mode: connect the number demo-sales in Settings → WhatsApp, then scan its QR on the Evolution simulator's page"
        );
        let base_url = self.evolution.base_url();
        if let Some(mut known) = crate::providers::store::list(&state.db, account_id)
            .await?
            .into_iter()
            .find(|p| p.name == "Demo Evolution")
        {
            // Restarted: the simulator is new (and may listen elsewhere); it gets the
            // account's numbers back, and the provider its address.
            let mine = instances::store::list(&state.db, account_id).await?;
            for instance in mine.into_iter().filter(|i| i.provider_id == known.id) {
                let sealed =
                    instances::store::credentials(&state.db, account_id, instance.id).await?;
                let token = instances::open(&state.vault, instance.id, &sealed)?;
                self.evolution.restore(&instance.name, &token);
            }
            known.base_url = base_url;
            let mut tx = state.db.begin().await?;
            crate::providers::store::update(&mut tx, account_id, &known, clock::now()).await?;
            tx.commit().await?;
            return Ok(());
        }
        let kind = ProviderKind::Evolution;
        let credentials =
            Credentials::from_input(kind, &serde_json::json!({"api_key": DEMO_EVOLUTION_KEY}))?;
        let server = adapters::Server {
            http: &state.providers,
            base_url: &base_url,
            credentials: &credentials,
        };
        let adapter = adapters::of(kind);
        let (public_url, none) = (
            &state.config.public_url,
            Credentials::of_instance(&[], None)?,
        );
        let made =
            instances::make_on_server(public_url, adapter, &server, "demo-sales", &none).await?;
        let (provider_id, now) = (uuid::Uuid::now_v7(), clock::now());
        let mut tx = state.db.begin().await?;
        let sealed = credentials.seal(&state.vault, provider_id);
        let provider = crate::providers::store::NewProvider {
            id: provider_id,
            account_id,
            kind,
            name: "Demo Evolution",
            base_url: &base_url,
            sealed: &sealed,
            hint: &credentials.hint(),
            now,
        };
        crate::providers::store::insert(&mut tx, &provider).await?;
        let sealed = instances::seal(&state.vault, made.id, &made.token);
        let sealed_secret = instances::seal_secret(&state.vault, made.id, &made.secret);
        let instance = instances::store::NewInstance {
            id: made.id,
            account_id,
            provider_id,
            name: "demo-sales",
            phone: None,
            sealed: &sealed,
            sealed_secret: &sealed_secret,
            now,
        };
        instances::store::insert(&mut tx, &instance).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Points the Asaas simulator's webhook at the hub and puts two plans on offer (once).
    async fn offer_plans(&self, state: &AppState) -> anyhow::Result<()> {
        if let Some(asaas) = &state.config.billing.asaas {
            use secrecy::ExposeSecret;
            let url = format!("{}/api/v1/webhooks/asaas", state.config.public_url);
            self.asaas
                .set_webhook(&url, asaas.webhook_token.expose_secret());
        }
        if !plans::store::list(&state.db, true).await?.is_empty() {
            return Ok(());
        }
        let mut tx = state.db.begin().await?;
        for (position, (code, name, cents, boards)) in
            [("starter", "Starter", 4_990, 3), ("pro", "Pro", 14_990, 20)]
                .into_iter()
                .enumerate()
        {
            let now = clock::now();
            let plan = Plan {
                id: uuid::Uuid::now_v7(),
                code: code.into(),
                name: name.into(),
                description: format!("{name} plan of the demo"),
                price: crate::billing::money::format(cents),
                price_cents: cents,
                currency: "BRL".into(),
                cycle: Cycle::Monthly,
                trial_days: 0,
                entitlements: Entitlements {
                    limits: Limits {
                        max_agents: boards * 5,
                        max_teams: boards,
                        max_inboxes: boards,
                        max_boards: boards,
                        max_providers: 3,
                        max_instances: boards,
                        max_monthly_messages: cents * 10,
                    },
                    features: Features {
                        kanban_enabled: true,
                        internal_chat_enabled: true,
                        analytics_enabled: code == "pro",
                    },
                },
                active: true,
                position: position as i32,
                created_at: now,
                updated_at: now,
            };
            plans::store::insert(&mut tx, &plan).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
