//! `GET /api/v1/realtime/events`: the account's board changes as server-sent events.
//!
//! Events: `ready` once subscribed (load or reload now: nothing after this point is
//! missed), `board` with a [`BoardChange`], `account` with [`AccountNews`](super::AccountNews) (billing status,
//! usage thresholds), `resync` when changes may have been missed
//! (reload), and `end` with a problem `code` when the session stops being valid (the stream
//! then closes). A client that reconnects asks for a new ticket and reloads on `ready`.

use std::{convert::Infallible, pin::Pin, sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use serde::Deserialize;
use tokio::{
    sync::broadcast::{self, error::RecvError},
    time::{Instant, Interval},
};
use tokio_util::sync::WaitForCancellationFutureOwned;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    BoardChange, Note, check_origin, still_allowed,
    tickets::{self, Grant},
};
use crate::{
    app::state::AppState,
    platform::{
        error::{AppResult, Problem},
        params::ApiQuery,
    },
};

/// How often a stream checks that its session and membership still stand.
const RECHECK: Duration = Duration::from_secs(30);
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// From `POST /api/v1/accounts/{accountId}/realtime/tickets`.
    pub ticket: String,
}

/// The account's board changes, as server-sent events (`text/event-stream`).
#[utoipa::path(get, path = "/api/v1/realtime/events", tag = "realtime", security(()),
    params(StreamQuery),
    responses((status = 200, content_type = "text/event-stream", body = BoardChange),
        (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<StreamQuery>,
) -> AppResult<Response> {
    check_origin(&state, &headers)?;
    let (grant, _) = tickets::redeem(&state.db, &query.ticket).await?;
    still_allowed(&state, &grant).await?;
    let follow = Follow {
        changes: state.realtime.subscribe(grant.account_id),
        closing: Box::pin(state.realtime.closing.clone().cancelled_owned()),
        recheck: tokio::time::interval_at(Instant::now() + RECHECK, RECHECK),
        state,
        grant,
        greeted: false,
        ended: false,
    };
    let stream = futures_util::stream::unfold(follow, |mut follow| async move {
        let event = follow.next().await?;
        Some((Ok::<_, Infallible>(event), follow))
    });
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies such as nginx would otherwise hold events back to fill a buffer.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One open stream.
struct Follow {
    state: AppState,
    grant: Grant,
    changes: broadcast::Receiver<Arc<Note>>,
    /// One wait for the stream's life (not one per event, each registering with the token
    /// every stream shares).
    closing: Pin<Box<WaitForCancellationFutureOwned>>,
    recheck: Interval,
    greeted: bool,
    ended: bool,
}

impl Follow {
    /// The next event to send, or `None` to close the stream.
    async fn next(&mut self) -> Option<Event> {
        if !self.greeted {
            self.greeted = true;
            return Some(Event::default().event("ready").data("{}"));
        }
        if self.ended {
            return None;
        }
        loop {
            tokio::select! {
                note = self.changes.recv() => match note {
                    Ok(note) => match &*note {
                        Note::Change(change) if change.account_id == self.grant.account_id => {
                            return Event::default().event("board").json_data(change).ok();
                        }
                        Note::Change(_) => {}
                        Note::News(news) if news.account_id == self.grant.account_id => {
                            return Event::default().event("account").json_data(news).ok();
                        }
                        Note::News(_) => {}
                        Note::Recheck(who) if who.concerns(self.grant.account_id, self.grant.user_id) => {
                            if let Some(end) = self.end_if_not_allowed().await {
                                return Some(end);
                            }
                        }
                        // Chat rooms and presence travel over the WebSocket only.
                        Note::Recheck(_) | Note::Room(_) | Note::Presence(_) => {}
                        Note::Resync => return Some(resync()),
                    },
                    Err(RecvError::Lagged(_)) => return Some(resync()),
                    Err(RecvError::Closed) => return None,
                },
                _ = self.recheck.tick() => {
                    if let Some(end) = self.end_if_not_allowed().await {
                        return Some(end);
                    }
                }
                () = &mut self.closing => return None,
            }
        }
    }

    /// The `end` event, when the stream's person may no longer follow the account.
    async fn end_if_not_allowed(&mut self) -> Option<Event> {
        let err = still_allowed(&self.state, &self.grant).await.err()?;
        self.ended = true;
        let end = serde_json::json!({ "code": err.code() });
        Some(Event::default().event("end").data(end.to_string()))
    }
}

fn resync() -> Event {
    Event::default().event("resync").data("{}")
}
