//! Which Chatwoot conversation a person may tie a card to. The hub writes back to a card's
//! conversation (status, labels, attributes) with the account's administrator credential,
//! so it checks first what the person could do themselves: the conversation exists in the
//! account's Chatwoot, its inbox feeds the board, and anyone but an admin works that inbox
//! in Chatwoot. The card's inbox and contact then come from Chatwoot, never from the body.

use uuid::Uuid;

use super::boards::Board;
use crate::{
    app::state::AppState,
    chatwoot::{
        client::{ChatwootClient, ChatwootError, Credential},
        connection, inboxes,
    },
    platform::error::{AppError, AppResult},
    tenancy::{AccountScope, Principal, Role, accounts, users},
};

/// A conversation a card may name, as Chatwoot has it.
pub struct Linked {
    pub inbox_id: i64,
    pub contact_id: Option<i64>,
}

/// The conversation `conversation_id` of the account's Chatwoot, if `scope`'s person may
/// tie a card of `board` to it.
pub async fn conversation(
    state: &AppState,
    scope: &AccountScope,
    board: &Board,
    conversation_id: i64,
) -> AppResult<Linked> {
    let chatwoot = Chatwoot::of(state, scope.account_id).await?;
    let found = chatwoot
        .client
        .conversation(&chatwoot.credential, chatwoot.account, conversation_id)
        .await;
    let conversation = match found {
        Ok(conversation) => conversation,
        Err(ChatwootError::NotFound) => {
            return Err(AppError::validation(
                FIELD,
                "no such conversation in this account's Chatwoot",
            ));
        }
        Err(err) => return Err(unreachable(err)),
    };
    if !feeds(state, scope.account_id, board, conversation.inbox_id).await? {
        return Err(AppError::validation(
            FIELD,
            "the conversation's inbox does not feed this board",
        ));
    }
    chatwoot
        .works_inbox(state, scope, conversation.inbox_id)
        .await?;
    Ok(Linked {
        inbox_id: conversation.inbox_id,
        contact_id: conversation.meta.sender.map(|s| s.id),
    })
}

/// Refuses anyone but an admin who does not work the inbox of a card's conversation: moving
/// such a card writes back to the conversation as the administrator.
pub async fn may_write_back(
    state: &AppState,
    scope: &AccountScope,
    inbox_id: Option<i64>,
) -> AppResult<()> {
    if scope.role >= Role::Admin {
        return Ok(());
    }
    let Some(inbox_id) = inbox_id else {
        return Err(not_yours());
    };
    Chatwoot::of(state, scope.account_id)
        .await?
        .works_inbox(state, scope, inbox_id)
        .await
}

const FIELD: &str = "chatwoot_conversation_id";

/// The account's Chatwoot, reached with its stored administrator credential.
struct Chatwoot {
    client: ChatwootClient,
    credential: Credential,
    account: i64,
}

impl Chatwoot {
    async fn of(state: &AppState, account_id: Uuid) -> AppResult<Chatwoot> {
        let account = accounts::store::get(&state.db, account_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let (link, credential) = connection::credential(state, &account)
            .await
            .map_err(|_| AppError::validation(FIELD, "connect this account to Chatwoot first"))?;
        Ok(Chatwoot {
            client: link.known.client.clone(),
            credential,
            account: link.chatwoot_account_id,
        })
    }

    /// Admins work every inbox; anyone else must be one of its members in Chatwoot.
    async fn works_inbox(
        &self,
        state: &AppState,
        scope: &AccountScope,
        inbox_id: i64,
    ) -> AppResult<()> {
        if scope.role >= Role::Admin {
            return Ok(());
        }
        let Principal::User { user_id, .. } = scope.principal else {
            return Err(not_yours());
        };
        let person = users::store::profile(&state.db, user_id).await?;
        let Some(chatwoot_user_id) = person.and_then(|p| p.chatwoot_user_id) else {
            return Err(not_yours());
        };
        let members = self
            .client
            .inbox_members(&self.credential, self.account, inbox_id)
            .await
            .map_err(unreachable)?;
        if members.contains(&chatwoot_user_id) {
            Ok(())
        } else {
            Err(not_yours())
        }
    }
}

/// Whether `board` takes conversations of `inbox`: the inboxes it names, or every inbox not
/// disabled in the hub (as `follow` decides for Chatwoot's events).
async fn feeds(state: &AppState, account_id: Uuid, board: &Board, inbox: i64) -> AppResult<bool> {
    if !board.inbox_ids.is_empty() {
        return Ok(board.inbox_ids.contains(&inbox));
    }
    let enabled = inboxes::store::enabled(&state.db, account_id, inbox).await?;
    Ok(enabled.unwrap_or(true))
}

fn not_yours() -> AppError {
    AppError::Forbidden {
        code: "conversation_not_yours",
        message: "You do not work this conversation's inbox in Chatwoot.",
    }
}

fn unreachable(err: ChatwootError) -> AppError {
    tracing::warn!(error = %err, "checking a card's conversation: Chatwoot did not answer");
    AppError::Unavailable {
        reason: "Chatwoot cannot be reached to check the conversation.".into(),
    }
}
