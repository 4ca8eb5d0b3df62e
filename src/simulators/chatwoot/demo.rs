//! A seeded simulator to run on its own for demos (`run_standalone`).

use std::net::SocketAddr;

use super::Simulator;
use super::wire::{ConversationStatus, Priority, Role};

pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.test";
pub const DEMO_ADMIN_TOKEN: &str = "demoAdminToken1234567890";
pub const DEMO_ADMIN_PASSWORD: &str = "Demo-admin-1!";
pub const DEMO_AGENT_EMAIL: &str = "agent@demo.test";
pub const DEMO_AGENT_TOKEN: &str = "demoAgentToken1234567890";
pub const DEMO_AGENT_PASSWORD: &str = "Demo-agent-1!";

/// What `seed_demo` created, for printing and for tests.
#[derive(Debug, Clone)]
pub struct DemoInstallation {
    pub account_id: i64,
    pub admin_id: i64,
    pub agent_id: i64,
    pub whatsapp_inbox_id: i64,
    pub website_inbox_id: i64,
    pub team_id: i64,
    pub conversations: Vec<i64>,
    pub platform_token: String,
}

impl Simulator {
    /// One account "Demo Co" with an admin and an agent (known tokens and passwords),
    /// a WhatsApp and a website inbox, a team, labels and three conversations.
    pub fn seed_demo(&self) -> DemoInstallation {
        let account_id = self.add_account("Demo Co");
        let admin = self.add_user_with(
            "Ana Admin",
            DEMO_ADMIN_EMAIL,
            DEMO_ADMIN_TOKEN,
            DEMO_ADMIN_PASSWORD,
        );
        let agent = self.add_user_with(
            "Bruno Agent",
            DEMO_AGENT_EMAIL,
            DEMO_AGENT_TOKEN,
            DEMO_AGENT_PASSWORD,
        );
        self.add_member(account_id, admin.id, Role::Administrator);
        self.add_member(account_id, agent.id, Role::Agent);
        let whatsapp = self.add_inbox(
            account_id,
            "WhatsApp Vendas",
            "Channel::Whatsapp",
            Some("+5511999990000"),
        );
        let website = self.add_inbox(account_id, "Website chat", "Channel::WebWidget", None);
        // The agent works WhatsApp only; the administrator sees both without membership.
        self.add_inbox_member(whatsapp, agent.id);
        let team_id = self.add_team(account_id, "support", &[admin.id, agent.id]);
        for title in ["lead", "vip", "billing"] {
            self.add_label(account_id, title);
        }

        let first =
            self.add_conversation(account_id, whatsapp, "Joana Reis", Some("+351912345678"));
        self.add_incoming_message(account_id, first, "Olá! Qual é o prazo de entrega?");
        let second = self.add_conversation(account_id, website, "wandering-sky-482", None);
        self.add_incoming_message(account_id, second, "Hi! Where is my order A-3317?");
        let third =
            self.add_conversation(account_id, whatsapp, "Carlos Lima", Some("+5521988887777"));
        self.add_incoming_message(account_id, third, "Obrigado, resolvido!");
        {
            let mut db = self.shared.db();
            if let Some(conv) = db.conversation_mut(account_id, first) {
                conv.labels = vec!["lead".into()];
                conv.priority = Some(Priority::High);
                conv.assignee_id = Some(agent.id);
                conv.team_id = Some(team_id);
            }
            if let Some(conv) = db.conversation_mut(account_id, third) {
                conv.status = ConversationStatus::Resolved;
                conv.labels = vec!["vip".into(), "billing".into()];
            }
        }
        DemoInstallation {
            account_id,
            admin_id: admin.id,
            agent_id: agent.id,
            whatsapp_inbox_id: whatsapp,
            website_inbox_id: website,
            team_id,
            conversations: vec![first, second, third],
            platform_token: self.add_platform_app("Whatpro Hub demo"),
        }
    }
}

/// Serves a demo installation on `addr` until Ctrl-C.
pub async fn run_standalone(addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let sim = Simulator::serve(listener).await;
    let demo = sim.seed_demo();
    println!("Chatwoot simulator listening on {}", sim.base_url());
    println!("  account \"Demo Co\": id {}", demo.account_id);
    println!(
        "  admin  {DEMO_ADMIN_EMAIL} / {DEMO_ADMIN_PASSWORD}  api_access_token {DEMO_ADMIN_TOKEN}"
    );
    println!(
        "  agent  {DEMO_AGENT_EMAIL} / {DEMO_AGENT_PASSWORD}  api_access_token {DEMO_AGENT_TOKEN}"
    );
    println!("  platform app token {}", demo.platform_token);
    println!("  conversations (display ids) {:?}", demo.conversations);
    tokio::signal::ctrl_c().await?;
    Ok(())
}
