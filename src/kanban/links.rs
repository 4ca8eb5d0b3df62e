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
        access::{AccountChatwoot, Freshness},
        inboxes,
    },
    platform::error::{AppError, AppResult},
    tenancy::{AccountScope, Role},
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
    let chatwoot = connected(state, scope.account_id).await?;
    let found = chatwoot
        .conversation(state, conversation_id, Freshness::Fresh)
        .await?;
    let Some(conversation) = found else {
        return Err(AppError::validation(
            FIELD,
            "no such conversation in this account's Chatwoot",
        ));
    };
    if !feeds(state, scope.account_id, board, conversation.inbox_id).await? {
        return Err(AppError::validation(
            FIELD,
            "the conversation's inbox does not feed this board",
        ));
    }
    works_inbox(state, scope, &chatwoot, conversation.inbox_id).await?;
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
    let chatwoot = connected(state, scope.account_id).await?;
    works_inbox(state, scope, &chatwoot, inbox_id).await
}

const FIELD: &str = "chatwoot_conversation_id";

/// The account's Chatwoot; an account not connected to it names no conversation (422).
async fn connected(state: &AppState, account_id: Uuid) -> AppResult<AccountChatwoot> {
    AccountChatwoot::of(state, account_id)
        .await
        .map_err(|err| match err {
            AppError::Conflict { .. } => {
                AppError::validation(FIELD, "connect this account to Chatwoot first")
            }
            other => other,
        })
}

/// Asked fresh: what follows acts on the conversation with the administrator's credential.
async fn works_inbox(
    state: &AppState,
    scope: &AccountScope,
    chatwoot: &AccountChatwoot,
    inbox_id: i64,
) -> AppResult<()> {
    if chatwoot
        .works_inbox(state, scope, inbox_id, Freshness::Fresh)
        .await?
    {
        Ok(())
    } else {
        Err(not_yours())
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
