//! An account's Chatwoot as the hub reaches it with the account's stored administrator
//! credential, and what a person of the account may see there. The credential sees every
//! conversation of the Chatwoot account, so whoever shows or changes one for a person asks
//! here first what that person could see in Chatwoot themselves: an account admin of the hub
//! every conversation, anyone else the conversations of the inboxes they are a member of.
//!
//! Lookups can be [`Freshness::Recent`]: a conversation, or an inbox's members, read from
//! Chatwoot within the last [`KEPT_FOR`] is used again (a conversation card shown to a
//! room of thirty people costs two calls, not sixty). The decision itself is made for each
//! person, on whatever was read. Writes ask [`Freshness::Fresh`].

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    sync::Arc,
    time::{Duration, Instant},
};

use uuid::Uuid;

use super::{
    client::{ChatwootClient, ChatwootError, Conversation, Credential},
    connection,
};
use crate::{
    app::state::AppState,
    platform::{
        error::{AppError, AppResult},
        kept::Kept,
    },
    tenancy::{AccountScope, Principal, Role, accounts, users},
};

/// How long a lookup is used again. A person removed from an inbox in Chatwoot may go on
/// seeing its conversations' cards in the hub this long; a status changed in Chatwoot shows
/// this late.
pub const KEPT_FOR: Duration = Duration::from_secs(30);

/// Whether a lookup may be one made a moment ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Ask Chatwoot now (before acting on the conversation with the administrator's
    /// credential).
    Fresh,
    /// One read within [`KEPT_FOR`] will do (showing it).
    Recent,
}

/// (hub account, Chatwoot account, conversation display id or inbox id). The Chatwoot
/// account is part of the key: an account linked anew never gets the old one's answers.
type Key = (Uuid, i64, i64);

/// Lookups made lately, shared by the whole process.
#[derive(Default)]
pub struct Lookups {
    /// `None`: Chatwoot has no such conversation in that account.
    conversations: Kept<Instant, Option<Conversation>, Key>,
    inbox_members: Kept<Instant, Vec<i64>, Key>,
    /// One lookup of a key at a time: people who open the same card together wait for one
    /// call instead of each making their own. Keys share a few locks rather than each
    /// holding one, so nothing here grows with use.
    stripes: [tokio::sync::Mutex<()>; 16],
}

impl Lookups {
    async fn recent<T, F>(
        &self,
        kept: &Kept<Instant, T, Key>,
        (key, kind): (Key, &str),
        freshness: Freshness,
        fetch: F,
    ) -> Result<Arc<T>, ChatwootError>
    where
        F: Future<Output = Result<T, ChatwootError>>,
    {
        let good = |read_at: Instant| read_at.elapsed() < KEPT_FOR;
        if freshness == Freshness::Recent
            && let Some(value) = kept.get(key, good)
        {
            return Ok(value);
        }
        let mut hasher = DefaultHasher::new();
        (key, kind).hash(&mut hasher);
        let stripe = &self.stripes[(hasher.finish() % self.stripes.len() as u64) as usize];
        let _one_at_a_time = stripe.lock().await;
        if freshness == Freshness::Recent
            && let Some(value) = kept.get(key, good)
        {
            return Ok(value);
        }
        let value = fetch.await?;
        Ok(kept.put(key, Instant::now(), value))
    }
}

/// The account's Chatwoot, reached with its stored administrator credential.
pub struct AccountChatwoot {
    pub account_id: Uuid,
    pub client: ChatwootClient,
    pub credential: Credential,
    /// The Chatwoot account's id.
    pub account: i64,
    /// Where Chatwoot's dashboard is served from (its first origin).
    dashboard: String,
}

impl AccountChatwoot {
    /// 404 for an account that does not exist; 409 `chatwoot_not_connected` when it is not
    /// connected to Chatwoot.
    pub async fn of(state: &AppState, account_id: Uuid) -> AppResult<AccountChatwoot> {
        let account = accounts::store::get(&state.db, account_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let (link, credential) = connection::credential(state, &account).await?;
        let installation = &link.known.installation;
        Ok(AccountChatwoot {
            account_id,
            client: link.known.client.clone(),
            credential,
            account: link.chatwoot_account_id,
            dashboard: installation
                .origins
                .first()
                .unwrap_or(&installation.base_url)
                .clone(),
        })
    }

    /// The conversation with this display id; `None` when the Chatwoot account has none.
    /// Any other failure answers 503.
    pub async fn conversation(
        &self,
        state: &AppState,
        display_id: i64,
        freshness: Freshness,
    ) -> AppResult<Option<Conversation>> {
        let key = (self.account_id, self.account, display_id);
        let fetch = async {
            match self
                .client
                .conversation(&self.credential, self.account, display_id)
                .await
            {
                Ok(conversation) => Ok(Some(conversation)),
                Err(ChatwootError::NotFound) => Ok(None),
                Err(err) => Err(err),
            }
        };
        let lookups = &state.chatwoot_lookups;
        let found = lookups
            .recent(
                &lookups.conversations,
                (key, "conversation"),
                freshness,
                fetch,
            )
            .await
            .map_err(unreachable)?;
        Ok(found.as_ref().clone())
    }

    /// Whether `scope`'s caller may see the conversations of `inbox_id` in Chatwoot: an
    /// admin of the hub account sees every inbox; a person must be one of the inbox's
    /// members in Chatwoot (through the Chatwoot user their hub profile is tied to); an API
    /// key is no member of anything.
    pub async fn works_inbox(
        &self,
        state: &AppState,
        scope: &AccountScope,
        inbox_id: i64,
        freshness: Freshness,
    ) -> AppResult<bool> {
        if scope.role >= Role::Admin {
            return Ok(true);
        }
        let Principal::User { user_id, .. } = scope.principal else {
            return Ok(false);
        };
        let person = users::store::profile(&state.db, user_id).await?;
        let Some(chatwoot_user_id) = person.and_then(|p| p.chatwoot_user_id) else {
            return Ok(false);
        };
        let key = (self.account_id, self.account, inbox_id);
        let fetch = self
            .client
            .inbox_members(&self.credential, self.account, inbox_id);
        let lookups = &state.chatwoot_lookups;
        let members = lookups
            .recent(&lookups.inbox_members, (key, "inbox"), freshness, fetch)
            .await
            .map_err(unreachable)?;
        Ok(members.contains(&chatwoot_user_id))
    }

    /// The conversation's address in Chatwoot's dashboard.
    pub fn conversation_url(&self, display_id: i64) -> String {
        format!(
            "{}/app/accounts/{}/conversations/{display_id}",
            self.dashboard, self.account
        )
    }
}

/// Every address at which the account's conversations open in Chatwoot's dashboard, up to
/// the conversation's number: `{origin}/app/accounts/{id}/conversations/` for each origin
/// the dashboard is served from, and the same under the installation's own address. Empty
/// for an account not linked to a Chatwoot account (connected or not: the address of a
/// conversation does not depend on the hub holding a credential).
pub async fn conversation_addresses(state: &AppState, account_id: Uuid) -> AppResult<Vec<String>> {
    let Some(account) = accounts::store::get(&state.db, account_id).await? else {
        return Ok(Vec::new());
    };
    let Ok(link) = connection::link(state, &account) else {
        return Ok(Vec::new());
    };
    let installation = &link.known.installation;
    let mut addresses = Vec::new();
    for base in installation.origins.iter().chain([&installation.base_url]) {
        let address = format!(
            "{}/app/accounts/{}/conversations/",
            base.trim_end_matches('/'),
            link.chatwoot_account_id
        );
        if !addresses.contains(&address) {
            addresses.push(address);
        }
    }
    Ok(addresses)
}

/// 503: Chatwoot did not answer, or refused the stored credential.
pub fn unreachable(err: ChatwootError) -> AppError {
    tracing::warn!(error = %err, "checking a conversation: Chatwoot did not answer");
    AppError::Unavailable {
        reason: "Chatwoot cannot be reached to check the conversation.".into(),
    }
}
