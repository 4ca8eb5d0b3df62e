//! The command line: `serve` (default), `migrate`, `create-admin`, `replay-webhooks`,
//! `billing-sync`, `token`.

use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::{
    app::{config::Config, server, state::AppState},
    audit::{self, Actor, AuditEntry},
    auth::sessions,
    platform::{db::Db, validate::Validator},
    simulators,
    tenancy::users::store::{self as users, Identity},
};

#[derive(Parser)]
#[command(
    name = "whatpro-hub",
    version,
    about = "Kanban CRM, WhatsApp instances, team chat and billing beside Chatwoot."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default). Configuration comes from the environment.
    Serve {
        /// Also start the built-in Chatwoot simulator with a seeded demo account and use it
        /// as CHATWOOT_URL, so the hub can be tried without a real Chatwoot.
        #[arg(long)]
        demo: bool,
    },
    /// Run the Chatwoot simulator on its own, seeded with a demo account (for demos and
    /// manual testing; it keeps everything in memory).
    ChatwootSimulator {
        #[arg(long, default_value = "127.0.0.1:3001")]
        listen: std::net::SocketAddr,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a super admin, or promote an existing user to super admin.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Queue webhook deliveries again: every dead one (of one account with --account), or
    /// one delivery with --delivery. A running hub picks them up within a second.
    ReplayWebhooks {
        #[arg(long)]
        account: Option<uuid::Uuid>,
        #[arg(long)]
        delivery: Option<uuid::Uuid>,
    },
    /// Compare every live subscription with Asaas now (what the hub does every
    /// BILLING_SYNC_MINUTES) and repair what lost webhooks left behind.
    BillingSync,
    /// Operator tool: print a short-lived access token for a user (same code path as sign-in).
    Token {
        #[arg(long)]
        email: String,
        /// Lifetime in minutes (at most `ACCESS_TOKEN_TTL_MINUTES`: no access token lives longer).
        #[arg(long, default_value_t = 15)]
        ttl_minutes: u64,
    },
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve { demo: false }) {
        Command::Serve { demo } => server::run(config, demo).await,
        Command::ChatwootSimulator { listen } => simulators::chatwoot::run_standalone(listen).await,
        Command::Migrate => {
            open_db(&config).await?.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::CreateAdmin { email, name } => create_admin(&config, &email, &name).await,
        Command::ReplayWebhooks { account, delivery } => {
            let db = open_db(&config).await?;
            let now = crate::platform::clock::now();
            let count = crate::inbound::store::replay(&db, account, delivery, now).await?;
            let entry = AuditEntry::by(
                Actor::cli(),
                account,
                "webhook_deliveries.replayed",
                "webhook_delivery",
                count,
            );
            audit::record_alone(&db, entry).await?;
            db.close().await;
            println!("{count} deliveries queued again");
            Ok(())
        }
        Command::BillingSync => {
            let db = open_db(&config).await?;
            let state = AppState::new(db.clone(), config).await?;
            let (read, failed) = crate::billing::subscriptions::reconcile_all(&state).await?;
            let changed = crate::billing::subscriptions::settle_due(&state).await?;
            db.close().await;
            println!(
                "{read} subscriptions compared with Asaas ({failed} failed), {changed} changed by the clock"
            );
            anyhow::ensure!(
                failed == 0,
                "{failed} subscriptions could not be compared; see the log"
            );
            Ok(())
        }
        Command::Token { email, ttl_minutes } => {
            let most = config.access_token_ttl.as_secs() / 60;
            anyhow::ensure!(
                (1..=most).contains(&ttl_minutes),
                "--ttl-minutes must be between 1 and {most} (ACCESS_TOKEN_TTL_MINUTES)"
            );
            let db = open_db(&config).await?;
            let user_id = users::find(&db, Identity::Operator, &email.trim().to_lowercase())
                .await?
                .ok_or_else(|| {
                    anyhow::anyhow!("no operator with email {email} (create one with create-admin)")
                })?;
            let state = AppState::new(db.clone(), config).await?;
            let mut tx = db.begin().await?;
            let new = sessions::NewSession {
                user_id,
                account_id: None,
                method: sessions::Method::Cli,
                device: Some("whatpro-hub token"),
                client: None,
            };
            let lifetime = Duration::from_secs(ttl_minutes * 60);
            let issued = sessions::open_for(&mut tx, &state, new, lifetime).await?;
            let entry = AuditEntry::by(
                Actor::cli(),
                None,
                "auth.token_minted",
                "session",
                issued.session_id,
            );
            audit::record(&mut tx, entry).await?;
            tx.commit().await?;
            println!("{}", issued.access.token);
            db.close().await;
            Ok(())
        }
    }
}

async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database_url, 2).await?;
    db.migrate().await?;
    Ok(db)
}

async fn create_admin(config: &Config, email: &str, name: &str) -> anyhow::Result<()> {
    let email = email.trim().to_lowercase();
    let mut v = Validator::default();
    v.email("email", &email).text("name", name, 120);
    v.finish()
        .map_err(|e| anyhow::anyhow!("invalid input: {e:?}"))?;
    let db = open_db(config).await?;
    let mut tx = db.begin().await?;
    // An operator is found by email among operators only: a Chatwoot person with the same
    // email stays apart (their identity is their installation's).
    let (user_id, action) = match users::find(&mut tx, Identity::Operator, &email).await? {
        Some(id) => {
            users::set_super_admin(&mut tx, id).await?;
            (id, "user.promoted_super_admin")
        }
        None => {
            let new_user = users::NewUser {
                identity: Identity::Operator,
                email: &email,
                name: name.trim(),
                avatar_url: None,
                is_super_admin: true,
            };
            (
                users::insert_user(&mut tx, &new_user).await?,
                "user.created_super_admin",
            )
        }
    };
    audit::record(
        &mut tx,
        AuditEntry::by(Actor::cli(), None, action, "user", user_id),
    )
    .await?;
    tx.commit().await?;
    db.close().await;
    println!("{user_id} {email} is a super admin");
    Ok(())
}
