use std::collections::HashSet;

use axum::{extract::State, http::StatusCode};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Fresh, Message, MessagePage, archived, fresh_view,
    post::{self, NewMessage},
    render,
    render::Rendered,
    room_in,
    store::{self, Cursor, Listing, Mentions},
    views,
};
use crate::{
    app::state::AppState,
    audit::{self, AuditEntry},
    chat::{
        attachments::{self, PER_MESSAGE_MAX},
        ensure_enabled,
        events::{self, Happened},
        routes::{join, visible},
        store::RoomRow,
    },
    chatwoot::access::conversation_addresses,
    platform::{
        clock,
        db::Conn,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::{ApiPath, ApiQuery},
        validate::Validator,
    },
    realtime::RoomNote,
    tenancy::{AccountScope, Grant, RecalledScope, Role},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages, send_message))
        .routes(routes!(edit_message, delete_message))
}

const BODY_MAX: usize = 10_000;
const CLIENT_ID_MAX: usize = 64;

/// `files`: the message carries files, so its body may be empty.
fn check_body(v: &mut Validator, body: &str, files: bool) {
    v.check(
        (files || !body.trim().is_empty()) && body.chars().count() <= BODY_MAX,
        "body",
        &format!("must be 1 to {BODY_MAX} characters, not only spaces (or empty with files)"),
    )
    .check(!body.contains('\0'), "body", "must not contain NUL");
}

/// The body rendered for this room: its members among the `<@…>` tokens are mentioned, and
/// `@room` only by the room's owner and moderators and the account's admins (403
/// `room_mention_not_allowed`). `room` is as the caller sees it (their role in it);
/// `addresses` are where the account's conversations open in Chatwoot.
async fn render_in(
    conn: impl Into<Conn<'_>>,
    scope: &AccountScope,
    room: &RoomRow,
    body: &str,
    addresses: &[String],
) -> AppResult<Rendered> {
    let members = store::members_among(conn, room.id, &render::candidates(body)).await?;
    let rendered = render::render(body, &members, addresses);
    if rendered.room && !(leads(room) || scope.role >= Role::Admin) {
        return Err(AppError::Forbidden {
            code: "room_mention_not_allowed",
            message: "Only the room's owner and moderators and the account's admins mention @room.",
        });
    }
    Ok(rendered)
}

/// The caller (who `room` was read for) is the room's owner or one of its moderators.
fn leads(room: &RoomRow) -> bool {
    matches!(room.role.as_deref(), Some("owner" | "moderator"))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Messages with a `seq` below this one (the latest ones when no cursor is given).
    pub before: Option<i64>,
    /// Messages with a `seq` above this one, oldest first.
    pub after: Option<i64>,
    /// The page around this message: it, up to `limit / 2` older ones and the rest newer. A
    /// reply opens the timeline around its thread's first message.
    pub around: Option<Uuid>,
    /// A thread: the replies to this message instead of the room's top-level messages.
    pub parent_id: Option<Uuid>,
    /// 1 to 200 (default 50).
    pub limit: Option<i64>,
}

/// A page of the room's top-level messages, or of a thread's replies, in `seq` order (who
/// may see the room).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/messages", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path), MessageQuery),
    responses((status = 200, body = MessagePage), (status = 403, body = Problem, description = "feature_disabled"),
        (status = 404, body = Problem, description = "not_found: the room, the thread or the message to open around"),
        (status = 422, body = Problem)))]
async fn list_messages(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiQuery(query): ApiQuery<MessageQuery>,
) -> AppResult<ApiJson<MessagePage>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let limit = query.limit.unwrap_or(50);
    let cursors = [
        query.before.is_some(),
        query.after.is_some(),
        query.around.is_some(),
    ];
    let mut v = Validator::default();
    v.check((1..=200).contains(&limit), "limit", "must be 1 to 200")
        .check(
            cursors.iter().filter(|c| **c).count() <= 1,
            "before",
            "give one of before, after and around",
        )
        .check(
            query.before.is_none_or(|s| s >= 0) && query.after.is_none_or(|s| s >= 0),
            "before",
            "a cursor is a seq (0 or more)",
        );
    v.finish()?;
    let room = visible(&state, &scope, path.1).await?;
    let listing = match query.parent_id {
        Some(parent) => {
            let parent = store::get(&state.db, room.id, parent)
                .await?
                .ok_or(AppError::NotFound)?;
            Listing::Thread {
                parent_id: parent.id,
            }
        }
        None => Listing::Timeline { room_id: room.id },
    };
    let cursor = match (query.before, query.after, query.around) {
        (Some(seq), ..) => Cursor::Before(seq),
        (_, Some(seq), _) => Cursor::After(seq),
        (.., Some(id)) => {
            let at = store::get(&state.db, room.id, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let seq = match (listing, at.parent_id) {
                (Listing::Thread { parent_id }, Some(p)) if p == parent_id => at.seq,
                (Listing::Timeline { .. }, None) => at.seq,
                (Listing::Timeline { .. }, Some(p)) => {
                    store::get(&state.db, room.id, p)
                        .await?
                        .ok_or(AppError::NotFound)?
                        .seq
                }
                (Listing::Thread { .. }, _) => return Err(AppError::NotFound),
            };
            Cursor::Around(seq)
        }
        _ => Cursor::Latest,
    };
    let page = store::page(&state.db, listing, cursor, limit).await?;
    Ok(ApiJson(MessagePage {
        items: views(&state.db, &state.chat_files, scope.account_id, page.rows).await?,
        has_more: if query.after.is_some() {
            page.has_newer
        } else {
            page.has_older
        },
        has_older: page.has_older,
        has_newer: page.has_newer,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessageInput {
    /// Markdown, 1 to 10,000 characters (or empty when it carries files). `<@USER_ID>`
    /// mentions a member of the room, `@room` all of them (the room's owner and moderators
    /// and the account's admins).
    pub body: String,
    /// The sender's idempotency key (1 to 64 characters): sending again with it answers the
    /// message it made.
    pub client_id: String,
    /// The top-level message of the same room this one replies to (threads are one level
    /// deep).
    pub parent_id: Option<Uuid>,
    /// Up to 10 files the sender uploaded to this room and has not sent yet
    /// (`POST …/attachments`), in the order to show them.
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

/// Sends a message (who may see the room; sending in a public channel joins it). The
/// first send answers 201; a resend with the same `client_id` answers 200 with the stored
/// message.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/messages", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path)), request_body = NewMessageInput,
    responses((status = 201, body = Message), (status = 200, body = Message, description = "Sent before with this client_id"),
        (status = 403, body = Problem, description = "feature_disabled, user_token_required, room_mention_not_allowed"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "room_archived"),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn send_message(
    State(state): State<AppState>,
    recalled: RecalledScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<NewMessageInput>,
) -> AppResult<(StatusCode, ApiJson<Message>)> {
    let recalled = chat_enabled(&state, recalled).await?;
    let author = recalled.grant()?.user_id;
    let files = &body.attachment_ids;
    let mut v = Validator::default();
    check_body(&mut v, &body.body, !files.is_empty());
    v.check(
        files.len() <= PER_MESSAGE_MAX && files.iter().collect::<HashSet<_>>().len() == files.len(),
        "attachment_ids",
        &format!("at most {PER_MESSAGE_MAX} files, each once"),
    )
    .check(
        !body.client_id.is_empty()
            && body.client_id.chars().count() <= CLIENT_ID_MAX
            && !body.client_id.chars().any(char::is_control),
        "client_id",
        &format!("must be 1 to {CLIENT_ID_MAX} characters, without control characters"),
    );
    v.finish()?;
    if let Some((posted, conversation_refs)) =
        post_plain(&state, &recalled, author, path.1, &body).await?
    {
        let fresh = Fresh {
            with_files: false,
            conversation_refs,
        };
        return created(&state, recalled.scope.account_id, posted, None, fresh).await;
    }
    // The long way reads the room as the caller sees it, so it takes their access as the
    // database says now: a grant from memory that no longer holds answers here, as on any
    // route.
    let scope = chat_enabled(&state, recalled.confirm(&state).await?)
        .await?
        .scope;
    // Everything that only reads happens before the write: on SQLite the write holds the
    // process's one writer, on PostgreSQL the room's row.
    let room = visible(&state, &scope, path.1).await?;
    let addresses = addresses_for(&state, scope.account_id, &body.body).await?;
    let rendered = render_in(&state.db, &scope, &room, &body.body, &addresses).await?;
    if let Some(parent) = body.parent_id {
        check_parent(&state, room.id, parent).await?;
    }
    let new = new_message(scope.account_id, room.id, author, None, &body, &rendered);
    let alone = room.is_member()
        && files.is_empty()
        && body.parent_id.is_none()
        && rendered.mentions.is_empty()
        && !rendered.room;
    let stored = if alone {
        post::post_alone(&state.db, &new)
            .await?
            .map(|posted| (posted, None))
    } else {
        post_in_transaction(&state, &scope, &room, &new, files, &rendered).await?
    };
    let Some((posted, joined)) = stored else {
        // A retry of a message sent before (perhaps committed just ahead of this one), or a
        // room archived or left meanwhile.
        return match resent(&state, &scope, author, room.id, &body.client_id).await? {
            Some(sent) => Ok(sent),
            None => Err(refused(&state, &scope, room.id).await),
        };
    };
    let fresh = Fresh {
        with_files: !files.is_empty(),
        conversation_refs: rendered.conversations,
    };
    created(&state, scope.account_id, posted, joined, fresh).await
}

/// `recalled` once the chat is known to be on in its account: a refusal judged at a
/// remembered revision is confirmed from the database first.
async fn chat_enabled(state: &AppState, recalled: RecalledScope) -> AppResult<RecalledScope> {
    if ensure_enabled(&state.db, state, &recalled.scope)
        .await
        .is_ok()
    {
        return Ok(recalled);
    }
    let confirmed = recalled.confirm(state).await?;
    ensure_enabled(&state.db, state, &confirmed.scope).await?;
    Ok(confirmed)
}

/// Posts a plain message (most are: no files, thread, mentions, `@room` or conversation
/// addresses, so nothing in it depends on the room or the caller's role there) without
/// reading the room first: the write itself stores it only in a room of this account, not
/// archived, with the caller in it. `None` when the message is not plain or the write found
/// no such room (or a resent `client_id`): the long way round then says why, joins a public
/// channel or answers the message sent before. Answers the conversations it refers to.
async fn post_plain(
    state: &AppState,
    recalled: &RecalledScope,
    author: Uuid,
    room_id: Uuid,
    input: &NewMessageInput,
) -> AppResult<Option<(post::Posted, Vec<i64>)>> {
    let plain = input.attachment_ids.is_empty()
        && input.parent_id.is_none()
        && !input.body.contains("/conversations/")
        && render::candidates(&input.body).is_empty();
    if !plain {
        return Ok(None);
    }
    let rendered = render::render(&input.body, &HashSet::new(), &[]);
    if rendered.room {
        return Ok(None);
    }
    let (account_id, grant) = (recalled.scope.account_id, recalled.to_check());
    let new = new_message(account_id, room_id, author, grant, input, &rendered);
    let posted = post::post_alone(&state.db, &new).await?;
    Ok(posted.map(|posted| (posted, rendered.conversations)))
}

/// The message `input` makes in the room, rendered as `rendered`, numbered when stored.
fn new_message<'a>(
    account_id: Uuid,
    room_id: Uuid,
    author_id: Uuid,
    grant: Option<Grant>,
    input: &'a NewMessageInput,
    rendered: &'a Rendered,
) -> NewMessage<'a> {
    NewMessage {
        id: Uuid::now_v7(),
        account_id,
        room_id,
        author_id,
        body: &input.body,
        html: &rendered.html,
        mentions_room: rendered.room,
        client_id: &input.client_id,
        parent_id: input.parent_id,
        conversations: &rendered.conversations,
        now: clock::now(),
        grant,
    }
}

/// The 201 for a message just stored, its events announced to the room's people.
async fn created(
    state: &AppState,
    account_id: Uuid,
    posted: post::Posted,
    joined: Option<RoomNote>,
    fresh: Fresh,
) -> AppResult<(StatusCode, ApiJson<Message>)> {
    let mut notes: Vec<_> = joined.into_iter().collect();
    notes.extend(posted.notes(account_id));
    // Read after the commit: names and files are nothing the write waits for.
    let message = fresh_view(&state.db, &state.chat_files, account_id, posted.row, fresh).await?;
    // To the room's people only (never on the account stream every member follows).
    events::announce_all(state, notes);
    Ok((StatusCode::CREATED, ApiJson(message)))
}

/// Stores `new` with what else it needs written (the sender joining a public channel, its
/// files, mentions, its thread's count), in one transaction; `None` when nothing was stored
/// (see [`post::post`]). Answers the note of the sender's joining, if they did.
async fn post_in_transaction(
    state: &AppState,
    scope: &AccountScope,
    room: &RoomRow,
    new: &NewMessage<'_>,
    files: &[Uuid],
    rendered: &Rendered,
) -> AppResult<Option<(post::Posted, Option<RoomNote>)>> {
    let caller = new.author_id;
    let mut tx = state.db.begin().await?;
    let joined = join(&mut tx, scope, caller, room).await?;
    let Some(posted) = post::post(&mut tx, new).await? else {
        tx.rollback().await?;
        return Ok(None);
    };
    let row = &posted.row;
    attachments::claim(&mut tx, scope.account_id, room.id, caller, row.id, files).await?;
    let mentions = Mentions {
        message_id: row.id,
        account_id: scope.account_id,
        room_id: room.id,
        seq: row.seq,
        author_id: caller,
        people: &rendered.mentions,
        room: rendered.room,
    };
    store::add_mentions(&mut tx, &mentions).await?;
    if let Some(parent) = new.parent_id
        && !store::count_reply(&mut tx, parent, new.now).await?
    {
        return Err(not_a_parent());
    }
    tx.commit().await?;
    Ok(Some((posted, joined)))
}

/// Where the account's conversations open in Chatwoot, when the body could hold such an
/// address (most do not: the read is saved for them).
async fn addresses_for(state: &AppState, account_id: Uuid, body: &str) -> AppResult<Vec<String>> {
    if !body.contains("/conversations/") {
        return Ok(Vec::new());
    }
    conversation_addresses(state, account_id).await
}

/// A message of the room that is a thread's first (threads are one level deep): 422 on
/// `parent_id` for anything else.
async fn check_parent(state: &AppState, room_id: Uuid, parent_id: Uuid) -> AppResult<()> {
    match store::get(&state.db, room_id, parent_id).await? {
        None => Err(not_a_parent()),
        Some(parent) if parent.parent_id.is_some() => Err(AppError::validation(
            "parent_id",
            "must be a top-level message: threads are one level deep",
        )),
        Some(_) => Ok(()),
    }
}

fn not_a_parent() -> AppError {
    AppError::validation("parent_id", "must be a message of this room")
}

/// The message the caller already sent with `client_id` (a retry), answered 200.
async fn resent(
    state: &AppState,
    scope: &AccountScope,
    caller: Uuid,
    room_id: Uuid,
    client_id: &str,
) -> AppResult<Option<(StatusCode, ApiJson<Message>)>> {
    let Some(sent) = store::by_client_id(&state.db, room_id, caller, client_id).await? else {
        return Ok(None);
    };
    let mut sent = views(&state.db, &state.chat_files, scope.account_id, vec![sent]).await?;
    Ok(Some((StatusCode::OK, ApiJson(sent.remove(0)))))
}

/// Why the room refused a message the caller could send a moment ago: archived since
/// (409), or gone, or they are out of it (404).
async fn refused(state: &AppState, scope: &AccountScope, room_id: Uuid) -> AppError {
    match visible(state, scope, room_id).await {
        Ok(room) if room.archived_at.is_some() => archived(),
        Ok(_) => AppError::NotFound,
        Err(err) => err,
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "fixed **typo**"}))]
pub struct EditMessageInput {
    /// The new Markdown, as for a send.
    pub body: String,
}

/// Replaces a message's body (its author only): rendered and its mentions resolved again,
/// `edited_at` set.
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/messages/{messageId}", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path), ("messageId" = Uuid, Path)),
    request_body = EditMessageInput,
    responses((status = 200, body = Message),
        (status = 403, body = Problem, description = "feature_disabled, user_token_required, not_message_author, room_mention_not_allowed"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "message_deleted, room_archived"),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn edit_message(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
    ApiJson(body): ApiJson<EditMessageInput>,
) -> AppResult<ApiJson<Message>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    let (_, room_id, message_id) = path;
    let mut v = Validator::default();
    check_body(&mut v, &body.body, false);
    v.finish()?;
    let addresses = addresses_for(&state, scope.account_id, &body.body).await?;
    let now = clock::now();
    let mut tx = state.db.begin().await?;
    let room = room_in(&mut tx, &scope, caller, room_id).await?;
    let message = store::get(&mut tx, room.id, message_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if message.author_id != Some(caller) {
        return Err(AppError::Forbidden {
            code: "not_message_author",
            message: "Only its author edits a message.",
        });
    }
    if message.deleted() {
        return Err(super::deleted());
    }
    if room.archived_at.is_some() {
        return Err(archived());
    }
    let rendered = render_in(&mut tx, &scope, &room, &body.body, &addresses).await?;
    let row = store::edit(
        &mut tx,
        message.id,
        &body.body,
        &rendered.html,
        rendered.room,
        now,
    )
    .await?
    .ok_or_else(super::deleted)?;
    store::clear_mentions(&mut tx, row.id).await?;
    let mentions = Mentions {
        message_id: row.id,
        account_id: scope.account_id,
        room_id: room.id,
        seq: row.seq,
        author_id: caller,
        people: &rendered.mentions,
        room: rendered.room,
    };
    store::add_mentions(&mut tx, &mentions).await?;
    store::clear_conversation_refs(&mut tx, row.id).await?;
    let place = (scope.account_id, room.id);
    store::add_conversation_refs(&mut tx, place, row.id, &rendered.conversations).await?;
    let what = Happened::MessageUpdated(row.id);
    let note = events::record(&mut tx, scope.account_id, room.id, what, now).await?;
    let mut edited = views(&mut tx, &state.chat_files, scope.account_id, vec![row]).await?;
    tx.commit().await?;
    events::announce(&state, note);
    Ok(ApiJson(edited.remove(0)))
}

/// Deletes a message, leaving a tombstone in its place (`deleted: true`; body, html,
/// reactions and mentions gone; seq and thread kept): its author, or the room's owner and
/// moderators and the account's admins (audited as `chat.message_deleted`; not in a direct
/// room). Deleting a tombstone again answers it. Answers the tombstone.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/messages/{messageId}", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path), ("messageId" = Uuid, Path)),
    responses((status = 200, body = Message, description = "The tombstone"),
        (status = 403, body = Problem, description = "feature_disabled, user_token_required, forbidden"),
        (status = 404, body = Problem)))]
async fn delete_message(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
) -> AppResult<ApiJson<Message>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    let (_, room_id, message_id) = path;
    let now = clock::now();
    let mut tx = state.db.begin().await?;
    let room = room_in(&mut tx, &scope, caller, room_id).await?;
    let message = store::get(&mut tx, room.id, message_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let own = message.author_id == Some(caller);
    let moderates = room.kind != "direct" && (scope.role >= Role::Admin || leads(&room));
    if !own && !moderates {
        return Err(AppError::Forbidden {
            code: "forbidden",
            message: "Only its author, the room's owner and moderators and the account's admins delete a message.",
        });
    }
    let (mut note, mut gone) = (None, Vec::new());
    if store::tombstone(&mut tx, message.id, now).await? {
        gone = attachments::release(&mut tx, message.id).await?;
        if !own {
            let what =
                json!({ "room_id": room.id, "seq": message.seq, "author_id": message.author_id });
            let entry = AuditEntry::new(&scope, "chat.message_deleted", "chat_message", message.id)
                .changes(Some(&what), None::<&()>);
            audit::record(&mut tx, entry).await?;
        }
        let what = Happened::MessageUpdated(message.id);
        note = Some(events::record(&mut tx, scope.account_id, room.id, what, now).await?);
    }
    let row = store::get(&mut tx, room.id, message.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut deleted = views(&mut tx, &state.chat_files, scope.account_id, vec![row]).await?;
    tx.commit().await?;
    // Its files go with it; their rows went in the transaction, so no link reaches them.
    state.chat_files.forget(gone).await;
    if let Some(note) = note {
        events::announce(&state, note);
    }
    Ok(ApiJson(deleted.remove(0)))
}
