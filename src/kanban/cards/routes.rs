//! `/api/v1/accounts/{accountId}/boards/{boardId}/cards` (every member works cards).

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime, Time};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    Card, CardFields, Priority, check, check_changes,
    history::{self, Actor, CardEvent, Event},
    moves::{self, Crowded},
    store::{self, Position},
};
use crate::{
    app::state::AppState,
    kanban::{
        self,
        boards::{self, BoardDetail},
        ensure_enabled, links,
        lock::{self, Hold},
        stages::{Kind, Stage},
        version_conflict, writeback,
    },
    platform::{
        clock,
        db::Tx,
        error::{AppError, AppResult, Problem, conflict_on_unique},
        json::{ApiJson, NoOtherFields},
        pagination::{Page, PageParams},
        params::{ApiPath, ApiQuery},
    },
    realtime::Changed,
    tenancy::{AccountScope, Role, list_cache::Tag, users},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cards, create_card))
        .routes(routes!(get_card, update_card, archive_card))
        .routes(routes!(move_card))
        .routes(routes!(card_history))
        .routes(routes!(super::export::export_cards))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCard {
    pub title: String,
    /// Default: the board's entry stage (its first open stage).
    pub stage_id: Option<Uuid>,
    /// Default: the bottom of the stage.
    pub position: Option<i32>,
    #[serde(flatten)]
    pub fields: CardFields,
    #[serde(flatten)]
    #[schema(ignore)]
    _no_other: NoOtherFields,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CardUpdate {
    /// The version this change was based on; a stale one answers 409 `version_conflict`.
    pub version: Option<i64>,
    #[serde(flatten)]
    pub fields: CardFields,
    #[serde(flatten)]
    #[schema(ignore)]
    _no_other: NoOtherFields,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardMove {
    pub stage_id: Uuid,
    /// Default: the bottom of the stage.
    pub position: Option<i32>,
    pub version: Option<i64>,
    /// Why the deal was lost (kept when the target stage is a lost stage).
    pub lost_reason: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// Past due and still open.
    Overdue,
    Today,
    /// Today and the six days after.
    Week,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CardQuery {
    pub stage_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
    pub label: Option<String>,
    pub priority: Option<Priority>,
    pub status: Option<Kind>,
    /// A Chatwoot inbox id.
    pub inbox_id: Option<i64>,
    /// A Chatwoot conversation's display id: its card on this board, if any.
    pub conversation_id: Option<i64>,
    /// Text in the title or the contact's name.
    pub q: Option<String>,
    pub due: Option<Due>,
}

impl CardQuery {
    pub(super) fn filter(self, now: OffsetDateTime) -> AppResult<store::Filter> {
        if self.q.as_ref().is_some_and(|q| q.chars().count() > 100) {
            return Err(AppError::validation("q", "must be at most 100 characters"));
        }
        let midnight = now.replace_time(Time::MIDNIGHT);
        let (due_from, due_to, status) = match self.due {
            None => (None, None, self.status),
            Some(Due::Overdue) => (None, Some(now), Some(self.status.unwrap_or(Kind::Open))),
            Some(Due::Today) => (
                Some(midnight),
                Some(midnight + Duration::days(1)),
                self.status,
            ),
            Some(Due::Week) => (
                Some(midnight),
                Some(midnight + Duration::days(7)),
                self.status,
            ),
        };
        Ok(store::Filter {
            stage_id: self.stage_id,
            assignee_id: self.assignee_id,
            label: self.label.map(|l| l.trim().to_lowercase()),
            priority: self.priority,
            status,
            inbox_id: self.inbox_id,
            conversation_id: self.conversation_id,
            text: self
                .q
                .map(|q| format!("%{}%", q.trim().to_lowercase().replace(['%', '_'], "")))
                .filter(|q| q.len() > 2),
            due_from,
            due_to,
        })
    }
}

/// A transaction writing cards of the board, holding it until the end. The plan is
/// checked before the transaction: a plan changing meanwhile is no reason to keep a writer
/// waiting longer.
async fn begin_holding(state: &AppState, scope: &AccountScope, board_id: Uuid) -> AppResult<Tx> {
    ensure_enabled(&state.db, state, scope).await?;
    let mut tx = state.db.begin().await?;
    lock::hold(&mut tx, board_id, Hold::Cards).await?;
    Ok(tx)
}

/// A transaction adding a card to the board (live, in the scope's account), and the board
/// with its stages.
async fn begin_on_board(
    state: &AppState,
    scope: &AccountScope,
    board_id: Uuid,
) -> AppResult<(Tx, Arc<BoardDetail>)> {
    let mut tx = begin_holding(state, scope, board_id).await?;
    let layout = state.layouts.read(&mut tx, scope.account_id, board_id);
    let layout = layout.await?.ok_or(AppError::NotFound)?;
    Ok((tx, layout))
}

/// A transaction writing a live card of the board (see [`store::get_to_write`]), with the
/// card and the board with its stages.
async fn begin_on_card(
    state: &AppState,
    scope: &AccountScope,
    (board_id, card_id): (Uuid, Uuid),
    position: Position,
) -> AppResult<(Tx, Arc<BoardDetail>, Card)> {
    let mut tx = begin_holding(state, scope, board_id).await?;
    let found = store::get_to_write(&mut tx, scope.account_id, board_id, card_id, position);
    let (card, version) = found.await?.ok_or(AppError::NotFound)?;
    let layout = state
        .layouts
        .at(&mut tx, scope.account_id, board_id, version);
    let layout = layout.await?;
    Ok((tx, layout, card))
}

/// A stage of the board, or 404.
fn stage_in(layout: &BoardDetail, stage_id: Uuid) -> AppResult<Stage> {
    let stage = layout.stages.iter().find(|s| s.id == stage_id);
    stage.cloned().ok_or(AppError::NotFound)
}

/// Commits a change to one card of the board and announces it.
async fn commit_card(
    state: &AppState,
    tx: Tx,
    scope: &AccountScope,
    board_id: Uuid,
    card_id: Uuid,
) -> AppResult<()> {
    kanban::commit(
        state,
        tx,
        scope.account_id,
        board_id,
        Changed::card(card_id),
    )
    .await?;
    Ok(())
}

/// An assignee must be an active member of the account.
async fn check_assignee(tx: &mut Tx, scope: &AccountScope, card: &Card) -> AppResult<()> {
    if let Some(user_id) = card.assignee_id {
        let member = users::store::get(&mut *tx, scope.account_id, user_id).await?;
        if !member.is_some_and(|m| m.active) {
            return Err(AppError::validation(
                "assignee_id",
                "must be an active member of the account",
            ));
        }
    }
    Ok(())
}

fn event<'a>(scope: &AccountScope, card: &Card, kind: &'static str) -> Event<'a> {
    Event {
        account_id: scope.account_id,
        board_id: card.board_id,
        card_id: card.id,
        kind,
        from_stage_id: None,
        to_stage_id: None,
        actor: Actor::from(scope),
        reason: None,
        changes: None,
    }
}

/// The fields that differ between two versions of a card, as `{field: {from, to}}`.
fn changed(before: &Card, after: &Card) -> Option<Value> {
    let (Ok(Value::Object(a)), Ok(Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return None;
    };
    let skip = ["version", "updated_at", "position", "stage_id", "status"];
    let diff: Map<String, Value> = b
        .iter()
        .filter(|(key, value)| !skip.contains(&key.as_str()) && a.get(*key) != Some(*value))
        .map(|(key, value)| {
            let from = a.get(key).cloned().unwrap_or(Value::Null);
            (
                key.clone(),
                serde_json::json!({ "from": from, "to": value }),
            )
        })
        .collect();
    (!diff.is_empty()).then_some(Value::Object(diff))
}

/// The board's cards in board order (stage, then position), filtered and paged. Answers
/// are cached per board revision (with `ETag`), except those filtered by due date, which
/// depend on the clock.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/boards/{boardId}/cards", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), CardQuery, PageParams),
    responses((status = 200, body = Page<Card>), (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_cards(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiQuery(query): ApiQuery<CardQuery>,
    ApiQuery(page): ApiQuery<PageParams>,
    uri: Uri,
    headers: HeaderMap,
) -> AppResult<Response> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let board_id = path.1;
    let board = boards::store::get(&state.db, scope.account_id, board_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let page = page.parse()?;
    let by_clock = query.due.is_some();
    let filter = query.filter(clock::now())?;
    let build = async {
        let rows = store::list(&state.db, scope.account_id, board_id, &filter, page).await?;
        Ok(Page::from_rows(rows, page, |c| c.id))
    };
    if by_clock {
        return Ok(ApiJson(build.await?).into_response());
    }
    let tag = Tag {
        account_id: scope.account_id,
        revision: board.revision,
    };
    state
        .lists
        .respond_at(tag, &uri.to_string(), &headers, build)
        .await
}

/// Creates a card.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/boards/{boardId}/cards", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path)), request_body = NewCard,
    responses((status = 201, body = Card), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_card(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<NewCard>,
) -> AppResult<(StatusCode, ApiJson<Card>)> {
    let board_id = path.1;
    let linked = match body.fields.chatwoot_conversation_id {
        Some(id) => Some(link(&state, &scope, board_id, id).await?),
        None => None,
    };
    let card = moves::with_room(&state.db, scope.account_id, board_id, || {
        insert_card(&state, &scope, board_id, &body, linked.as_ref())
    })
    .await?;
    Ok((StatusCode::CREATED, ApiJson(card)))
}

/// The conversation a card of the board may follow (checked with Chatwoot before any
/// transaction: the check calls Chatwoot).
async fn link(
    state: &AppState,
    scope: &AccountScope,
    board_id: Uuid,
    conversation_id: i64,
) -> AppResult<links::Linked> {
    let board = boards::store::get(&state.db, scope.account_id, board_id)
        .await?
        .ok_or(AppError::NotFound)?;
    links::conversation(state, scope, &board, conversation_id).await
}

/// Gives the card its conversation's inbox and contact, as Chatwoot has them.
fn tie(card: &mut Card, linked: Option<&links::Linked>) {
    if let Some(linked) = linked {
        card.chatwoot_inbox_id = Some(linked.inbox_id);
        card.chatwoot_contact_id = linked.contact_id;
    }
}

/// One try at creating a card: its transaction, unless the stage is crowded at the
/// position asked for.
async fn insert_card(
    state: &AppState,
    scope: &AccountScope,
    board_id: Uuid,
    body: &NewCard,
    linked: Option<&links::Linked>,
) -> AppResult<Result<Card, Crowded>> {
    let (mut tx, layout) = begin_on_board(state, scope, board_id).await?;
    let stage = match body.stage_id {
        Some(stage_id) => stage_in(&layout, stage_id)?,
        None => entry_stage(&layout)?,
    };
    let mut card = Card::blank(
        board_id,
        &stage,
        body.title.trim().to_string(),
        clock::now(),
    );
    body.fields.clone().apply(&mut card);
    tie(&mut card, linked);
    if card.value_minor.is_some() && card.currency.is_none() {
        card.currency = Some(layout.board.currency.clone());
    }
    check(&card, &layout.board)?;
    check_assignee(&mut tx, scope, &card).await?;
    let slot = match moves::slot(&mut tx, scope.account_id, stage.id, body.position, None).await? {
        Ok(slot) => slot,
        Err(crowded) => return Ok(Err(crowded)),
    };
    (card.rank, card.position) = (slot.rank, slot.position);
    store::insert(&mut tx, scope.account_id, &card)
        .await
        .map_err(conflict_on_unique(
            "conversation_has_card",
            "This conversation already has a card on this board.",
        ))?;
    let mut created = event(scope, &card, "created");
    created.to_stage_id = Some(stage.id);
    history::record(&mut tx, created).await?;
    commit_card(state, tx, scope, board_id, card.id).await?;
    Ok(Ok(card))
}

/// Where new cards enter: the first open stage, or the first stage.
fn entry_stage(layout: &BoardDetail) -> AppResult<Stage> {
    let stages = &layout.stages;
    let entry = stages
        .iter()
        .find(|s| s.kind == Kind::Open)
        .or(stages.first());
    entry.cloned().ok_or(AppError::NotFound)
}

/// One card.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/boards/{boardId}/cards/{cardId}", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), ("cardId" = Uuid, Path)),
    responses((status = 200, body = Card), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_card(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
) -> AppResult<ApiJson<Card>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let card = store::get(&state.db, scope.account_id, path.1, path.2)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ApiJson(card))
}

/// Changes a card's fields (not its place: see move).
#[utoipa::path(patch, path = "/api/v1/accounts/{accountId}/boards/{boardId}/cards/{cardId}", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), ("cardId" = Uuid, Path)),
    request_body = CardUpdate,
    responses((status = 200, body = Card), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_card(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
    ApiJson(body): ApiJson<CardUpdate>,
) -> AppResult<ApiJson<Card>> {
    let (board_id, card_id) = (path.1, path.2);
    let linked = match body.fields.chatwoot_conversation_id {
        Some(id) => {
            let current = store::get(&state.db, scope.account_id, board_id, card_id).await?;
            let current = current.ok_or(AppError::NotFound)?;
            let relinked = current.chatwoot_conversation_id != Some(id);
            match relinked {
                true => Some(link(&state, &scope, board_id, id).await?),
                false => None,
            }
        }
        None => None,
    };
    let card = (board_id, card_id);
    let (mut tx, layout, before) = begin_on_card(&state, &scope, card, Position::Counted).await?;
    let expected = body.version.unwrap_or(before.version);
    if expected != before.version {
        return Err(version_conflict(before.version));
    }
    let mut after = before.clone();
    body.fields.apply(&mut after);
    if after.chatwoot_conversation_id != before.chatwoot_conversation_id && linked.is_none() {
        // Linked to another conversation since the check: check again.
        return Err(version_conflict(before.version));
    }
    tie(&mut after, linked.as_ref());
    after.version = before.version + 1;
    after.updated_at = clock::now();
    check_changes(&before, &after, &layout.board)?;
    check_assignee(&mut tx, &scope, &after).await?;
    let written = store::update(&mut tx, scope.account_id, &after, expected)
        .await
        .map_err(conflict_on_unique(
            "conversation_has_card",
            "This conversation already has a card on this board.",
        ))?;
    if !written {
        return Err(version_conflict(expected + 1));
    }
    if let Some(changes) = changed(&before, &after) {
        let mut updated = event(&scope, &after, "updated");
        updated.changes = Some(changes);
        history::record(&mut tx, updated).await?;
    }
    commit_card(&state, tx, &scope, board_id, card_id).await?;
    Ok(ApiJson(after))
}

/// Archives a card: it leaves the board (its history stays).
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/boards/{boardId}/cards/{cardId}", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), ("cardId" = Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn archive_card(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
) -> AppResult<StatusCode> {
    let (board_id, card_id) = (path.1, path.2);
    let (mut tx, _, card) =
        begin_on_card(&state, &scope, (board_id, card_id), Position::Counted).await?;
    store::archive(&mut tx, scope.account_id, card_id, clock::now()).await?;
    let mut archived = event(&scope, &card, "archived");
    archived.from_stage_id = Some(card.stage_id);
    history::record(&mut tx, archived).await?;
    commit_card(&state, tx, &scope, board_id, card_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a card to a stage and position of its board; positions stay dense.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/boards/{boardId}/cards/{cardId}/move", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), ("cardId" = Uuid, Path)),
    request_body = CardMove,
    responses((status = 200, body = Card), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn move_card(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
    ApiJson(body): ApiJson<CardMove>,
) -> AppResult<ApiJson<Card>> {
    let (board_id, card_id) = (path.1, path.2);
    if body
        .lost_reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500)
    {
        return Err(AppError::validation(
            "lost_reason",
            "must be at most 500 characters",
        ));
    }
    may_move(&state, &scope, (board_id, card_id), &body).await?;
    let card = moves::with_room(&state.db, scope.account_id, board_id, || {
        relocate_card(&state, &scope, (board_id, card_id), &body)
    })
    .await?;
    Ok(ApiJson(card))
}

/// A move to another stage writes back to the card's conversation as the account's
/// administrator: anyone but an admin must work its inbox in Chatwoot.
async fn may_move(
    state: &AppState,
    scope: &AccountScope,
    (board_id, card_id): (Uuid, Uuid),
    body: &CardMove,
) -> AppResult<()> {
    if scope.role >= Role::Admin {
        return Ok(());
    }
    let card = store::get(&state.db, scope.account_id, board_id, card_id).await?;
    let Some(card) = card.filter(|c| c.chatwoot_conversation_id.is_some()) else {
        return Ok(());
    };
    let board = boards::store::get(&state.db, scope.account_id, board_id).await?;
    if board.is_some_and(|b| b.rules.write_back) && card.stage_id != body.stage_id {
        links::may_write_back(state, scope, card.chatwoot_inbox_id).await?;
    }
    Ok(())
}

/// One try at a move: its transaction, unless the target stage is crowded at the position
/// asked for.
async fn relocate_card(
    state: &AppState,
    scope: &AccountScope,
    (board_id, card_id): (Uuid, Uuid),
    body: &CardMove,
) -> AppResult<Result<Card, Crowded>> {
    // The move gives it a new position.
    let (mut tx, layout, before) =
        begin_on_card(state, scope, (board_id, card_id), Position::Unread).await?;
    if body.version.is_some_and(|v| v != before.version) {
        return Err(version_conflict(before.version));
    }
    let from = stage_in(&layout, before.stage_id)?;
    let to = stage_in(&layout, body.stage_id)?;
    let wanted = moves::slot(
        &mut tx,
        scope.account_id,
        to.id,
        body.position,
        Some(card_id),
    );
    let slot = match wanted.await? {
        Ok(slot) => slot,
        Err(crowded) => return Ok(Err(crowded)),
    };
    let lost_reason = (to.kind == Kind::Lost)
        .then(|| body.lost_reason.as_deref().map(str::trim))
        .flatten()
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let now = clock::now();
    let mut after = Card {
        stage_id: to.id,
        position: slot.position,
        rank: slot.rank,
        stage_entered_at: if from.id == to.id {
            before.stage_entered_at
        } else {
            now
        },
        status: to.kind,
        lost_reason: lost_reason.clone(),
        version: before.version + 1,
        updated_at: now,
        ..before.clone()
    };
    let write_back = writeback::plan(&layout.board, &from, &to, &mut after);
    if !store::update(&mut tx, scope.account_id, &after, before.version).await? {
        return Err(version_conflict(before.version + 1));
    }
    if before.chatwoot_conversation_id.is_some() && from.id != to.id {
        let moved = store::MovedByHand {
            at_micros: clock::micros(now),
            status: write_back
                .as_ref()
                .and_then(|w| w.status)
                .map(|s| s.as_str()),
            quiet_until_micros: write_back
                .as_ref()
                .map(|_| clock::micros(now + writeback::ECHO_WAIT)),
        };
        store::moved_by_hand(&mut tx, scope.account_id, card_id, moved).await?;
    }
    if let Some(write_back) = &write_back {
        writeback::enqueue(&mut tx, scope.account_id, write_back).await?;
    }
    if from.id != to.id {
        let mut moved = event(scope, &after, moves::move_kind(from.kind, to.kind));
        moved.from_stage_id = Some(from.id);
        moved.to_stage_id = Some(to.id);
        moved.reason = lost_reason.as_deref();
        history::record(&mut tx, moved).await?;
    }
    commit_card(state, tx, scope, board_id, card_id).await?;
    Ok(Ok(after))
}

/// The card's history, oldest first.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/boards/{boardId}/cards/{cardId}/history", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), ("cardId" = Uuid, Path)),
    responses((status = 200, body = Vec<CardEvent>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn card_history(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid)>,
) -> AppResult<ApiJson<Vec<CardEvent>>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    store::get(&state.db, scope.account_id, path.1, path.2)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ApiJson(
        history::list(&state.db, scope.account_id, path.2).await?,
    ))
}
