//! Pulling an account's inboxes, agents and teams from Chatwoot into the hub. Each apply
//! function compares Chatwoot's full list with the mirror inside one transaction and
//! reports what it added, updated and removed, so running it twice changes nothing.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Inbox, OVER_QUOTA, store};
use crate::{
    app::config::Config,
    chatwoot::client::{self as cw, Role as ChatwootRole},
    entitlements::{self, Resource},
    platform::{
        clock,
        db::Tx,
        error::{AppError, AppResult},
    },
    tenancy::{
        Role, teams,
        users::{self, store::Identity},
    },
};

#[derive(Debug, Default, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Counts {
    pub added: u32,
    pub updated: u32,
    pub removed: u32,
    /// Seen in Chatwoot but not taken in (over the plan's limit, or not usable).
    pub skipped: u32,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SyncReport {
    pub inboxes: Counts,
    pub agents: Counts,
    pub teams: Counts,
    #[serde(with = "time::serde::rfc3339")]
    pub synced_at: OffsetDateTime,
}

/// One inbox as Chatwoot describes it.
#[derive(Debug, Clone)]
pub struct RemoteInbox {
    pub chatwoot_inbox_id: i64,
    pub name: String,
    pub channel_type: String,
    pub phone_number: Option<String>,
}

impl From<&cw::Inbox> for RemoteInbox {
    fn from(inbox: &cw::Inbox) -> Self {
        RemoteInbox {
            chatwoot_inbox_id: inbox.id,
            name: inbox.name.clone(),
            channel_type: inbox.channel_type.clone(),
            phone_number: inbox.phone_number.clone().filter(|p| !p.is_empty()),
        }
    }
}

/// Applies Chatwoot's inboxes. With `complete` the list is all of them and missing ones
/// are marked removed; a webhook brings one inbox and removes nothing.
pub async fn apply_inboxes(
    tx: &mut Tx,
    config: &Config,
    account_id: Uuid,
    remote: &[RemoteInbox],
    complete: bool,
) -> AppResult<Counts> {
    if !tx.lock_account(account_id).await? {
        return Err(AppError::NotFound);
    }
    let limits = entitlements::store::effective(&mut *tx, &config.plan_defaults, account_id)
        .await?
        .limits;
    let now = clock::now();
    let mut local = store::all_in(tx, account_id).await?;
    let mut counts = Counts::default();

    for inbox in &mut local {
        let seen = remote
            .iter()
            .any(|r| r.chatwoot_inbox_id == inbox.chatwoot_inbox_id);
        if complete && !seen && inbox.removed_at.is_none() {
            inbox.removed_at = Some(now);
            inbox.enabled = false;
            inbox.updated_at = now;
            store::update(tx, account_id, inbox).await?;
            counts.removed += 1;
        }
    }
    let mut enabled = store::count_enabled(tx, account_id).await?;
    for r in remote {
        match local
            .iter_mut()
            .find(|l| l.chatwoot_inbox_id == r.chatwoot_inbox_id)
        {
            Some(inbox) => {
                let returned = inbox.removed_at.is_some();
                let changed = inbox.name != r.name
                    || inbox.channel_type != r.channel_type
                    || inbox.phone_number != r.phone_number;
                if changed || returned {
                    inbox.name.clone_from(&r.name);
                    inbox.channel_type.clone_from(&r.channel_type);
                    inbox.phone_number.clone_from(&r.phone_number);
                    inbox.removed_at = None;
                    if returned {
                        inbox.disabled_reason = Some(OVER_QUOTA.into());
                    }
                    inbox.updated_at = now;
                }
                inbox.synced_at = now;
                store::update(tx, account_id, inbox).await?;
                counts.updated += u32::from(changed || returned);
            }
            None => {
                let room = enabled < Resource::Inboxes.limit(&limits);
                let inbox = Inbox {
                    id: Uuid::now_v7(),
                    chatwoot_inbox_id: r.chatwoot_inbox_id,
                    name: r.name.clone(),
                    channel_type: r.channel_type.clone(),
                    phone_number: r.phone_number.clone(),
                    enabled: room,
                    disabled_reason: (!room).then(|| OVER_QUOTA.into()),
                    removed_at: None,
                    synced_at: now,
                    created_at: now,
                    updated_at: now,
                    // A number links itself once its inbox is mirrored.
                    whatsapp_instance_id: None,
                };
                store::insert(tx, account_id, &inbox).await?;
                enabled += i64::from(room);
                counts.added += 1;
                counts.skipped += u32::from(!room);
            }
        }
    }
    // Room freed by removals goes to inboxes that were left out only for lack of it.
    for inbox in store::all_in(tx, account_id).await? {
        if enabled >= Resource::Inboxes.limit(&limits) {
            break;
        }
        if !inbox.enabled
            && inbox.removed_at.is_none()
            && inbox.disabled_reason.as_deref() == Some(OVER_QUOTA)
        {
            let inbox = Inbox {
                enabled: true,
                disabled_reason: None,
                updated_at: now,
                ..inbox
            };
            store::update(tx, account_id, &inbox).await?;
            enabled += 1;
        }
    }
    Ok(counts)
}

/// Applies Chatwoot's agents to the account's members: new agents become members (while
/// the plan has room), roles follow Chatwoot like at sign-in (a hub supervisor stays one),
/// and members Chatwoot no longer lists are deactivated. People added in the hub only,
/// without a Chatwoot identity, are left alone. An agent is the person of
/// `installation_id` with their Chatwoot id, never someone found by email.
pub async fn apply_agents(
    tx: &mut Tx,
    config: &Config,
    account_id: Uuid,
    installation_id: Uuid,
    agents: &[cw::Agent],
) -> AppResult<Counts> {
    let mut counts = Counts::default();
    let mut seen = Vec::new();
    for agent in agents {
        let Some(email) = agent.email.as_deref().map(|e| e.trim().to_lowercase()) else {
            counts.skipped += 1;
            continue;
        };
        let mapped = match agent.role {
            ChatwootRole::Administrator => Role::Admin,
            ChatwootRole::Agent => Role::Agent,
        };
        let identity = Identity::Chatwoot {
            installation_id,
            user_id: agent.id,
        };
        let user_id = match users::store::find(&mut *tx, identity, &email).await? {
            Some(id) => id,
            None => {
                let new = users::store::NewUser {
                    identity,
                    email: &email,
                    name: agent.name.trim(),
                    avatar_url: None,
                    is_super_admin: false,
                };
                users::store::insert_user(tx, &new).await?
            }
        };
        seen.push(user_id);
        match users::store::get(&mut *tx, account_id, user_id).await? {
            Some(member) => {
                let keep = member.role == Role::Supervisor.as_str() && mapped == Role::Agent;
                if !keep && member.role != mapped.as_str() {
                    users::store::update_membership(
                        tx,
                        account_id,
                        user_id,
                        mapped.as_str(),
                        member.active,
                    )
                    .await?;
                    counts.updated += 1;
                }
            }
            None if has_room(tx, config, account_id, Resource::Agents).await? => {
                if users::store::insert_membership(tx, account_id, user_id, mapped.as_str()).await?
                {
                    counts.added += 1;
                }
            }
            None => counts.skipped += 1,
        }
    }
    for (user_id, role) in users::store::active_chatwoot_members_in(tx, account_id).await? {
        if !seen.contains(&user_id) {
            users::store::update_membership(tx, account_id, user_id, &role, false).await?;
            counts.removed += 1;
        }
    }
    Ok(counts)
}

/// Applies Chatwoot's teams: linked by Chatwoot id (or adopted by name), renamed when
/// Chatwoot renames them, removed when Chatwoot no longer has them. Runs under the account
/// lock. A name another live team holds (a hub team, or a swap half done) is skipped and
/// taken up by the next sync, never a failed pull.
pub async fn apply_teams(
    tx: &mut Tx,
    config: &Config,
    account_id: Uuid,
    remote: &[cw::Team],
) -> AppResult<Counts> {
    let mut counts = Counts::default();
    // Gone teams first, so a team Chatwoot deleted and made again frees its name.
    let (gone, local): (Vec<_>, Vec<_>) = teams::store::all_live_in(tx, account_id)
        .await?
        .into_iter()
        .partition(|team| {
            team.chatwoot_team_id
                .is_some_and(|id| !remote.iter().any(|r| r.id == id))
        });
    let now = clock::now();
    for team in gone {
        teams::delete(tx, account_id, team.id, now).await?;
        counts.removed += 1;
    }
    for r in remote {
        let description = r.description.clone().unwrap_or_default();
        let existing = local
            .iter()
            .find(|t| t.chatwoot_team_id == Some(r.id))
            .or_else(|| {
                local.iter().find(|t| {
                    t.chatwoot_team_id.is_none() && t.name.to_lowercase() == r.name.to_lowercase()
                })
            });
        match existing {
            Some(team)
                if team.name != r.name && name_held(tx, account_id, r, Some(team.id)).await? =>
            {
                counts.skipped += 1;
            }
            Some(team) => {
                if team.name != r.name
                    || team.description != description
                    || team.chatwoot_team_id != Some(r.id)
                {
                    let changed = teams::Team {
                        name: r.name.clone(),
                        description,
                        chatwoot_team_id: Some(r.id),
                        updated_at: now,
                        ..team.clone()
                    };
                    teams::store::update(tx, account_id, &changed).await?;
                    counts.updated += 1;
                }
            }
            None if name_held(tx, account_id, r, None).await? => counts.skipped += 1,
            None if has_room(tx, config, account_id, Resource::Teams).await? => {
                let team = teams::Team {
                    id: Uuid::now_v7(),
                    name: r.name.clone(),
                    description,
                    chatwoot_team_id: Some(r.id),
                    created_at: now,
                    updated_at: now,
                };
                teams::store::insert(tx, account_id, &team).await?;
                counts.added += 1;
            }
            None => counts.skipped += 1,
        }
    }
    Ok(counts)
}

/// Whether another live team already has the name Chatwoot gives team `r`.
async fn name_held(
    tx: &mut Tx,
    account_id: Uuid,
    r: &cw::Team,
    except: Option<Uuid>,
) -> AppResult<bool> {
    let held = teams::store::name_taken(tx, account_id, &r.name, except).await?;
    if held {
        tracing::warn!(
            chatwoot_team_id = r.id,
            "team sync: name held by another team; skipped"
        );
    }
    Ok(held)
}

/// Whether the plan has room for one more: a sync records what fits and skips the rest.
async fn has_room(
    tx: &mut Tx,
    config: &Config,
    account_id: Uuid,
    resource: Resource,
) -> AppResult<bool> {
    match entitlements::ensure_capacity(tx, &config.plan_defaults, account_id, resource).await {
        Ok(()) => Ok(true),
        Err(AppError::QuotaExceeded { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}
