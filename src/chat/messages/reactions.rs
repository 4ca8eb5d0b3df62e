//! Reactions: one of each emoji per person and message. `PUT …/reactions/{emoji}` adds the
//! caller's (again is nothing new), `DELETE` takes it away; both answer the message.

use axum::extract::State;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{Message, archived, live_message, room_in, store, views};
use crate::{
    app::state::AppState,
    chat::{
        ensure_enabled,
        events::{self, Happened},
        routes::{Entered, member_of},
    },
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        json::ApiJson,
        params::ApiPath,
    },
    tenancy::AccountScope,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_reaction, remove_reaction))
}

/// Code points in one emoji at most (a family in a zero-width-joined sequence has 7 to 11).
const EMOJI_CHARS_MAX: usize = 16;

/// One emoji: a pictograph with its variation selector, skin tone or tag sequence, several
/// joined by U+200D, a flag (two regional indicators) or a keycap.
fn is_emoji(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() || chars.len() > EMOJI_CHARS_MAX {
        return false;
    }
    let regional = |c: &char| ('\u{1F1E6}'..='\u{1F1FF}').contains(c);
    if chars.iter().any(regional) {
        return chars.len() == 2 && chars.iter().all(regional);
    }
    if let [first, rest @ ..] = chars.as_slice()
        && matches!(first, '0'..='9' | '#' | '*')
    {
        return matches!(rest, ['\u{20E3}'] | ['\u{FE0F}', '\u{20E3}']);
    }
    text.split('\u{200D}').all(|part| {
        let mut part = part.chars();
        part.next().is_some_and(pictograph)
            && part.all(|c| {
                c == '\u{FE0F}'
                    || ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
                    || ('\u{E0020}'..='\u{E007F}').contains(&c)
            })
    })
}

/// An emoji's base character (the Extended_Pictographic blocks, and the older symbols that
/// are emoji with U+FE0F).
fn pictograph(c: char) -> bool {
    !('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
        && matches!(c as u32,
        0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x2199 | 0x21A9..=0x21AA
        | 0x231A..=0x23FF | 0x24C2 | 0x25AA..=0x27BF | 0x2934..=0x2935 | 0x2B05..=0x2B55
        | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1FAFF)
}

fn check_emoji(emoji: &str) -> AppResult<()> {
    if is_emoji(emoji) {
        Ok(())
    } else {
        Err(AppError::validation("emoji", "must be one emoji"))
    }
}

/// Adds the caller's reaction (who may see the room; reacting in a public channel joins
/// it). Reacting with the same emoji again changes nothing.
#[utoipa::path(put, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/messages/{messageId}/reactions/{emoji}", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path), ("messageId" = Uuid, Path),
        ("emoji" = String, Path, description = "One emoji, percent-encoded", example = "%F0%9F%91%8D")),
    responses((status = 200, body = Message),
        (status = 403, body = Problem, description = "feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "message_deleted, room_archived"),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn add_reaction(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid, String)>,
) -> AppResult<ApiJson<Message>> {
    react(&state, &scope, path, true).await
}

/// Takes the caller's reaction away (nothing when they had none).
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/chat/rooms/{roomId}/messages/{messageId}/reactions/{emoji}", tag = "chat",
    params(("accountId" = Uuid, Path), ("roomId" = Uuid, Path), ("messageId" = Uuid, Path),
        ("emoji" = String, Path, description = "One emoji, percent-encoded", example = "%F0%9F%91%8D")),
    responses((status = 200, body = Message),
        (status = 403, body = Problem, description = "feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "message_deleted"),
        (status = 422, body = Problem, description = "validation_failed")))]
async fn remove_reaction(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid, Uuid, String)>,
) -> AppResult<ApiJson<Message>> {
    react(&state, &scope, path, false).await
}

/// Adds (`add`) or takes away the caller's emoji on the message, in one transaction;
/// answers the message.
async fn react(
    state: &AppState,
    scope: &AccountScope,
    (_, room_id, message_id, emoji): (Uuid, Uuid, Uuid, String),
    add: bool,
) -> AppResult<ApiJson<Message>> {
    ensure_enabled(&state.db, state, scope).await?;
    let caller = scope.require_person()?;
    check_emoji(&emoji)?;
    let mut tx = state.db.begin().await?;
    // Reacting in a public channel joins it; taking a reaction away does not.
    let Entered { room, joined } = if add {
        member_of(&mut tx, scope, caller, room_id).await?
    } else {
        Entered {
            room: room_in(&mut tx, scope, caller, room_id).await?,
            joined: None,
        }
    };
    let message = live_message(&mut tx, room.id, message_id).await?;
    let now = clock::now();
    let changed = if !add {
        store::unreact(&mut tx, message.id, &emoji, caller).await?
    } else if room.archived_at.is_some() {
        return Err(archived());
    } else {
        store::react(&mut tx, scope.account_id, message.id, &emoji, caller, now).await?
    };
    let mut notes: Vec<_> = joined.into_iter().collect();
    if changed {
        let what = Happened::MessageUpdated(message.id);
        notes.push(events::record(&mut tx, scope.account_id, room.id, what, now).await?);
    }
    let mut answer = views(&mut tx, &state.chat_files, scope.account_id, vec![message]).await?;
    tx.commit().await?;
    events::announce_all(state, notes);
    Ok(ApiJson(answer.remove(0)))
}

#[cfg(test)]
mod tests {
    use super::is_emoji;

    #[test]
    fn one_emoji_passes() {
        for emoji in [
            "👍",
            "❤️",
            "❤",
            "🎉",
            "👍🏽",
            "🇧🇷",
            "1️⃣",
            "#⃣",
            "👩‍💻",
            "👨‍👩‍👧‍👦",
            "🏳️‍🌈",
            "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
            "©️",
            "🫠",
        ] {
            assert!(is_emoji(emoji), "{emoji:?}");
        }
    }

    #[test]
    fn anything_else_fails() {
        for text in [
            "",
            "a",
            "+1",
            "👍👍",
            "👍 ",
            " 👍",
            "🇧",
            "🇧🇷🇵🇹",
            "1",
            "👍a",
            "<script>",
            "\u{200D}",
            "👍\u{200D}",
            "\u{FE0F}",
            "🏽",
            ":thumbsup:",
            "%F0%9F%91%8D",
            &"👍\u{FE0F}".repeat(9),
        ] {
            assert!(!is_emoji(text), "{text:?}");
        }
    }
}
