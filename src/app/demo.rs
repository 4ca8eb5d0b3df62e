//! `serve --demo`: a built-in Chatwoot simulator stands in for `CHATWOOT_URL`, seeded with
//! a demo account, its dashboard carrying the hub's script (as `DASHBOARD_SCRIPTS` would),
//! and the account connected, so a newcomer sees the hub inside "Chatwoot" with nothing
//! else installed.

use std::net::{IpAddr, Ipv4Addr};

use tokio::net::TcpListener;

use crate::{
    app::{
        config::{ChatwootEnv, Config},
        state::AppState,
    },
    auth::sso::{self, Linked},
    chatwoot::connection::{self, TokenSource},
    platform::client::ClientMeta,
    simulators::chatwoot::{
        DemoInstallation, Simulator,
        demo::{DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_TOKEN, DEMO_AGENT_TOKEN},
    },
};

pub struct Demo {
    /// Kept alive for as long as the hub runs.
    pub simulator: Simulator,
    pub seeded: DemoInstallation,
}

/// Starts the simulator (on `DEMO_CHATWOOT_PORT`, by default the hub's port + 1, or any
/// free port) and makes it the environment's installation.
pub async fn start(config: &mut Config) -> anyhow::Result<Demo> {
    anyhow::ensure!(
        !config.is_production(),
        "--demo is for trying the hub, not for APP_ENV=production"
    );
    let port = std::env::var("DEMO_CHATWOOT_PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| config.port.saturating_add(1));
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let listener = match TcpListener::bind((localhost, port)).await {
        Ok(listener) => listener,
        Err(_) => TcpListener::bind((localhost, 0)).await?,
    };
    let simulator = Simulator::serve(listener).await;
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
    Ok(Demo { simulator, seeded })
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
        Ok(())
    }
}
