//! A room's messages (ADR 23): send, page, edit, delete, react, reply in threads one level
//! deep, and mention people or the whole room. Each change runs in one transaction, kept
//! in its handler. The body is Markdown; its sanitised HTML is rendered once per send or
//! edit ([`render`]) and mentions are filled with current names when read.

mod post;
mod reactions;
mod refs;
mod render;
mod routes;
pub mod store;

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

pub use store::MessageRow;

use crate::{
    app::state::AppState,
    chat::{
        attachments::{self, Attachment, Files},
        store::{self as rooms, RoomRow},
    },
    platform::{
        clock,
        db::{Conn, Tx},
        error::{AppError, AppResult},
    },
    tenancy::AccountScope,
};

pub fn router() -> OpenApiRouter<AppState> {
    routes::router().merge(reactions::router())
}

/// A message of a room.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub room_id: Uuid,
    /// Its place in the room: 1, 2, 3… with no gaps (replies take numbers too).
    pub seq: i64,
    pub author_id: Option<Uuid>,
    /// Markdown source as sent (empty once deleted).
    pub body: String,
    /// The body rendered and sanitised: no raw HTML, links only http, https and mailto with
    /// `rel="noopener noreferrer nofollow"`, images as links; a person mentioned is
    /// `<span class="mention" data-user-id="…">@Name</span>` with their current name, and
    /// `@room` is `<span class="mention">@room</span>`, and `#123` is
    /// `<span class="conversation-ref" data-conversation-id="123">#123</span>` (empty once
    /// deleted).
    pub html: String,
    pub client_id: String,
    /// The top-level message this one replies to.
    pub parent_id: Option<Uuid>,
    /// Replies in this message's thread (tombstones included).
    pub reply_count: i64,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_reply_at: Option<OffsetDateTime>,
    /// By first reaction, then emoji.
    pub reactions: Vec<Reaction>,
    /// The room's members this message mentions (never its author), in order.
    pub mentions: Vec<Uuid>,
    /// It mentions `@room`: every member but the author.
    pub mentions_room: bool,
    /// The Chatwoot conversations it refers to (`#123`, or an address of a conversation of
    /// the account's Chatwoot), by display id, in order, at most 10 (none once deleted).
    /// `GET …/chat/conversations/{id}` shows one to whoever may see it.
    pub conversation_refs: Vec<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    /// A tombstone: body, html, reactions and mentions gone, its place and thread kept.
    pub deleted: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The files sent with it, in the order sent (none once deleted).
    pub attachments: Vec<Attachment>,
}

/// One emoji on a message and who put it there, earliest first.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Reaction {
    #[schema(example = "👍")]
    pub emoji: String,
    pub count: i64,
    pub user_ids: Vec<Uuid>,
}

/// A page of messages in `seq` order.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePage {
    pub items: Vec<Message>,
    /// More messages lie beyond this page in the direction asked: newer with `after`, older
    /// otherwise (`around` included).
    pub has_more: bool,
    /// Messages older than the first item exist in this listing.
    pub has_older: bool,
    /// Messages newer than the last item exist in this listing.
    pub has_newer: bool,
}

/// A room the caller may see, without joining it: 404 for any other.
async fn room_in(
    tx: &mut Tx,
    scope: &AccountScope,
    caller: Uuid,
    room_id: Uuid,
) -> AppResult<RoomRow> {
    rooms::room(&mut *tx, scope.account_id, Some(caller), room_id)
        .await?
        .filter(RoomRow::visible)
        .ok_or(AppError::NotFound)
}

/// A message of the room that is not deleted (404 when it is not there, 409
/// `message_deleted` for a tombstone).
async fn live_message(tx: &mut Tx, room_id: Uuid, id: Uuid) -> AppResult<MessageRow> {
    let message = store::get(tx, room_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if message.deleted() {
        return Err(deleted());
    }
    Ok(message)
}

fn archived() -> AppError {
    AppError::Conflict {
        code: "room_archived",
        message: "This room is archived.".into(),
    }
}

fn deleted() -> AppError {
    AppError::Conflict {
        code: "message_deleted",
        message: "This message was deleted.".into(),
    }
}

/// The messages as clients see them: reactions, and mentions with current names.
pub async fn views(
    conn: impl Into<Conn<'_>>,
    files: &Files,
    account_id: Uuid,
    rows: Vec<MessageRow>,
) -> AppResult<Vec<Message>> {
    let mut conn = conn.into();
    let live: Vec<Uuid> = rows
        .iter()
        .filter(|r| r.deleted_at.is_none())
        .map(|r| r.id)
        .collect();
    let mut reactions: HashMap<Uuid, Vec<Reaction>> = HashMap::new();
    for (message_id, emoji, user_id) in store::reactions(store::again(&mut conn), &live).await? {
        let list = reactions.entry(message_id).or_default();
        match list.iter_mut().find(|r| r.emoji == emoji) {
            Some(reaction) => {
                reaction.count += 1;
                reaction.user_ids.push(user_id);
            }
            None => list.push(Reaction {
                emoji,
                count: 1,
                user_ids: vec![user_id],
            }),
        }
    }
    assemble(conn, files, account_id, rows, reactions, None).await
}

/// What a message just made carries besides its row, known without reading it back.
pub struct Fresh {
    pub with_files: bool,
    pub conversation_refs: Vec<i64>,
}

/// A message just made: nobody has reacted to it yet.
pub async fn fresh_view(
    conn: impl Into<Conn<'_>>,
    files: &Files,
    account_id: Uuid,
    row: MessageRow,
    fresh: Fresh,
) -> AppResult<Message> {
    let conn = conn.into();
    let views = assemble(
        conn,
        files,
        account_id,
        vec![row],
        HashMap::new(),
        Some(fresh),
    );
    Ok(views.await?.remove(0))
}

async fn assemble(
    mut conn: Conn<'_>,
    files: &Files,
    account_id: Uuid,
    rows: Vec<MessageRow>,
    mut reactions: HashMap<Uuid, Vec<Reaction>>,
    fresh: Option<Fresh>,
) -> AppResult<Vec<Message>> {
    let live: Vec<Uuid> = rows.iter().filter(|r| !r.deleted()).map(|r| r.id).collect();
    let mut attached = HashMap::new();
    if fresh.as_ref().is_none_or(|f| f.with_files) {
        let again = store::again(&mut conn);
        attached = attachments::of_messages(again, files, &live, clock::now()).await?;
    }
    let mut referred: HashMap<Uuid, Vec<i64>> = HashMap::new();
    if let Some(fresh) = fresh {
        referred.extend(live.first().map(|id| (*id, fresh.conversation_refs)));
    } else {
        let again = store::again(&mut conn);
        for (message_id, number) in store::conversation_refs(again, &live).await? {
            referred.entry(message_id).or_default().push(number);
        }
    }
    let mut html: Vec<String> = rows.iter().map(MessageRow::html).collect();
    let mentioned: Vec<Vec<Uuid>> = html.iter().map(|h| render::mentioned(h)).collect();
    let people: HashSet<Uuid> = mentioned.iter().flatten().copied().collect();
    if !people.is_empty() {
        let people: Vec<Uuid> = people.into_iter().collect();
        let names = store::names(conn, account_id, &people).await?;
        for h in &mut html {
            *h = render::with_names(h, &names);
        }
    }
    Ok(rows
        .into_iter()
        .zip(html.into_iter().zip(mentioned))
        .map(|(row, (html, mut mentions))| {
            mentions.retain(|id| Some(*id) != row.author_id);
            let reactions = reactions.remove(&row.id).unwrap_or_default();
            let files = attached.remove(&row.id).unwrap_or_default();
            Message {
                attachments: files,
                conversation_refs: referred.remove(&row.id).unwrap_or_default(),
                ..row.view(html, mentions, reactions)
            }
        })
        .collect())
}
