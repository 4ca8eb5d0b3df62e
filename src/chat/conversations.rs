//! `GET …/chat/conversations/{conversationId}`: a Chatwoot conversation a message refers to,
//! as a card (ADR 26). Each viewer sees it only if they could see it in Chatwoot (an account
//! admin every conversation, anyone else those of the inboxes they work); everyone else,
//! like a conversation that does not exist, gets the same 404. Chatwoot is read with the
//! account's stored administrator credential, through `chatwoot::access`.

use axum::extract::State;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::ensure_enabled;
use crate::{
    app::state::AppState,
    chatwoot::{
        access::{AccountChatwoot, Freshness},
        client::Conversation,
        inboxes,
    },
    platform::{
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
    },
    tenancy::AccountScope,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(conversation_card))
}

/// The largest number a reference may carry (ten digits).
const NUMBER_MAX: i64 = 9_999_999_999;

/// A Chatwoot conversation as a card.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationCard {
    /// Its display id, as in `#123` and Chatwoot's addresses.
    pub id: i64,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: &'static str,
    pub inbox: CardInbox,
    pub contact: CardContact,
    /// Who it is assigned to (`null`: nobody).
    pub assignee: Option<CardAssignee>,
    /// The conversation in Chatwoot's dashboard.
    pub url: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_activity_at: Option<OffsetDateTime>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardInbox {
    /// Chatwoot's inbox id.
    pub id: i64,
    /// As last mirrored from Chatwoot (`null` for an inbox the hub has not seen yet).
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardContact {
    /// The contact's name (`null` when Chatwoot has none).
    pub name: Option<String>,
    /// Chatwoot's address of the contact's avatar, when it has one.
    pub thumbnail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardAssignee {
    pub name: String,
}

/// The Chatwoot conversation `conversationId` (its display id) of the account's Chatwoot,
/// for a person who may see it there: account admins see every conversation, anyone else
/// those of the inboxes they are a member of in Chatwoot. A conversation that does not
/// exist, and one the caller may not see, answer the same 404. Read from Chatwoot at most
/// every 30 seconds per conversation.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/chat/conversations/{conversationId}", tag = "chat",
    params(("accountId" = Uuid, Path), ("conversationId" = i64, Path, description = "Chatwoot's display id")),
    responses((status = 200, body = ConversationCard),
        (status = 403, body = Problem, description = "feature_disabled, user_token_required"),
        (status = 404, body = Problem, description = "not_found: no such conversation, or not one the caller may see"),
        (status = 409, body = Problem, description = "chatwoot_not_connected"),
        (status = 503, body = Problem, description = "Chatwoot cannot be reached")))]
async fn conversation_card(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, i64)>,
) -> AppResult<ApiJson<ConversationCard>> {
    let number = path.1;
    ensure_enabled(&state.db, &state, &scope).await?;
    // A key is no member of any inbox: what it could be shown would be an admin's view.
    scope.require_person()?;
    let chatwoot = AccountChatwoot::of(&state, scope.account_id).await?;
    if !(1..=NUMBER_MAX).contains(&number) {
        return Err(AppError::NotFound);
    }
    let conversation = chatwoot
        .conversation(&state, number, Freshness::Recent)
        .await?
        .filter(|c| c.id == number && c.account_id.is_none_or(|a| a == chatwoot.account))
        .ok_or(AppError::NotFound)?;
    let inbox_id = conversation.inbox_id;
    if !chatwoot
        .works_inbox(&state, &scope, inbox_id, Freshness::Recent)
        .await?
    {
        return Err(AppError::NotFound);
    }
    let inbox_name = inboxes::store::name(&state.db, scope.account_id, inbox_id).await?;
    let url = chatwoot.conversation_url(number);
    Ok(ApiJson(card(conversation, inbox_name, url)))
}

fn card(conversation: Conversation, inbox_name: Option<String>, url: String) -> ConversationCard {
    let meta = conversation.meta;
    let contact = meta.sender;
    ConversationCard {
        id: conversation.id,
        status: conversation.status.as_str(),
        inbox: CardInbox {
            id: conversation.inbox_id,
            name: inbox_name,
        },
        contact: CardContact {
            name: contact.as_ref().and_then(|c| c.name.clone()),
            thumbnail: contact.and_then(|c| c.thumbnail).filter(|t| !t.is_empty()),
        },
        assignee: meta.assignee.map(|a| CardAssignee { name: a.name }),
        url,
        // Chatwoot writes 0 for "never".
        last_activity_at: conversation
            .last_activity_at
            .filter(|at| *at > 0)
            .and_then(|at| OffsetDateTime::from_unix_timestamp(at).ok()),
    }
}
