//! Full-text search over the team chat (issue 16, ADR 23): the live messages of the rooms
//! the caller is in, newest first. PostgreSQL matches a `tsvector` kept by a trigger (the `simple`
//! configuration over accent-folded, lower-cased words); SQLite an FTS5 index
//! (`unicode61 remove_diacritics 2`) kept by triggers and by batches that index new messages
//! ([`index`], caught up before each search); both fold "Ação" to "acao", both drop a
//! message's words when it is edited or deleted (migrations 0022 and 0027).
//!
//! The query never reaches either engine's query syntax: it is cut into words (runs of
//! letters and digits; everything else separates them), each quoted, all required, the last
//! one a prefix while it is being typed. The snippet is made here, the same on both
//! engines: the body around the first match, HTML-escaped, matched words in `<mark>`.

use axum::extract::State;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::{
    ensure_enabled,
    messages::{self, Message, MessageRow},
};
use crate::{
    app::state::AppState,
    on_db,
    platform::{
        db::Engine,
        error::{AppResult, Problem},
        json::ApiJson,
        pagination::Page,
        params::ApiQuery,
        text::escape_html,
        time_input,
        validate::Validator,
    },
    tenancy::AccountScope,
};

pub mod index;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

const LIMIT_DEFAULT: i64 = 20;
const LIMIT_MAX: i64 = 50;
/// Characters in a query.
const QUERY_MAX: usize = 200;
/// Characters of body in a snippet (ellipses aside), and how many of them come before the
/// first match.
const SNIPPET_CHARS: usize = 160;
const SNIPPET_BEFORE: usize = 40;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find (at most 200 characters), in any case, with or without accents;
    /// every word must be in the message, the last one as a prefix unless the query ends
    /// with a space. Punctuation only separates words. No words: an empty page.
    #[param(example = "proposta")]
    pub q: Option<String>,
    /// Only this room (one the caller is not in finds nothing).
    pub room_id: Option<Uuid>,
    /// Only messages by this person.
    pub author_id: Option<Uuid>,
    /// RFC 3339; messages sent at or after this time.
    #[serde(default, deserialize_with = "time_input::option")]
    pub from: Option<OffsetDateTime>,
    /// RFC 3339; messages sent before this time.
    #[serde(default, deserialize_with = "time_input::option")]
    pub to: Option<OffsetDateTime>,
    /// `true`: only messages with files attached; `false`: only messages without.
    pub has_attachment: Option<bool>,
    /// 1 to 50 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One message found.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    /// The message as `GET …/messages` shows it.
    pub message: Message,
    pub room_id: Uuid,
    /// About 160 characters of the body around the first match: HTML-escaped, with the
    /// matched words in `<mark>…</mark>` (safe to show as HTML).
    pub snippet: String,
}

/// Messages of the rooms the caller is in that hold every word of `q`, newest first:
/// never a public channel they have not joined, a room they left, another account's, or a
/// deleted message. Acts for a person (an API key is in no room: 403
/// `user_token_required`).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/chat/search", tag = "chat",
    params(("accountId" = Uuid, Path), SearchQuery),
    responses((status = 200, body = Page<SearchHit>),
        (status = 403, body = Problem, description = "feature_disabled, user_token_required"),
        (status = 404, body = Problem), (status = 422, body = Problem, description = "validation_failed")))]
async fn search(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> AppResult<ApiJson<Page<SearchHit>>> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let caller = scope.require_person()?;
    let search = query.parse()?;
    let Some(terms) = Terms::parse(query.q.as_deref().unwrap_or_default()) else {
        return Ok(ApiJson(Page {
            items: Vec::new(),
            next_cursor: None,
        }));
    };
    index::catch_up(&state.db).await?;
    let mut rows = found(&state, scope.account_id, caller, &terms, &search).await?;
    let next_cursor = if rows.len() as i64 > search.limit {
        rows.truncate(search.limit as usize);
        rows.last().map(|m| encode_cursor(m.created_at, m.id))
    } else {
        None
    };
    let snippets: Vec<String> = rows.iter().map(|m| snippet(&m.body, &terms)).collect();
    let items = messages::views(&state.db, &state.chat_files, scope.account_id, rows)
        .await?
        .into_iter()
        .zip(snippets)
        .map(|(message, snippet)| SearchHit {
            room_id: message.room_id,
            snippet,
            message,
        })
        .collect();
    Ok(ApiJson(Page { items, next_cursor }))
}

/// A checked search, but for its words.
struct Search {
    room_id: Option<Uuid>,
    author_id: Option<Uuid>,
    from: Option<OffsetDateTime>,
    to: Option<OffsetDateTime>,
    has_attachment: Option<bool>,
    limit: i64,
    /// The last message of the previous page: (created_at, id).
    after: Option<(OffsetDateTime, Uuid)>,
}

impl SearchQuery {
    fn parse(&self) -> AppResult<Search> {
        let limit = self.limit.unwrap_or(LIMIT_DEFAULT);
        let mut v = Validator::default();
        v.check(
            self.q
                .as_ref()
                .is_none_or(|q| q.chars().count() <= QUERY_MAX),
            "q",
            &format!("must be at most {QUERY_MAX} characters"),
        )
        .check(
            (1..=LIMIT_MAX).contains(&limit),
            "limit",
            &format!("must be 1 to {LIMIT_MAX}"),
        );
        if let (Some(from), Some(to)) = (self.from, self.to) {
            v.check(from < to, "to", "must be after from");
        }
        let after = self.cursor.as_deref().map(decode_cursor);
        v.check(
            after.is_none_or(|a| a.is_some()),
            "cursor",
            "is not a cursor this API issued",
        );
        v.finish()?;
        Ok(Search {
            room_id: self.room_id,
            author_id: self.author_id,
            // Stored times are whole seconds (ADR 2), and SQLite compares their text: a
            // bound with a fraction selects what the next whole second does.
            from: self.from.map(whole_second_up),
            to: self.to.map(whole_second_up),
            has_attachment: self.has_attachment,
            limit,
            after: after.flatten(),
        })
    }
}

fn whole_second_up(at: OffsetDateTime) -> OffsetDateTime {
    if at.nanosecond() == 0 {
        at
    } else {
        at.replace_nanosecond(0).unwrap_or(at) + time::Duration::SECOND
    }
}

/// A cursor: the last message's creation time (nanoseconds) and id, base64url.
fn encode_cursor(created_at: OffsetDateTime, id: Uuid) -> String {
    let mut bytes = created_at.unix_timestamp_nanos().to_be_bytes().to_vec();
    bytes.extend_from_slice(id.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_cursor(raw: &str) -> Option<(OffsetDateTime, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    let (at, id) = bytes.split_first_chunk::<16>()?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from_be_bytes(*at)).ok()?;
    Some((at, Uuid::from_slice(id).ok()?))
}

/// The search statement around each engine's match: `$1` account, `$2` caller, `$3` the
/// engine's query, then the filters and the cursor (`NULL` for none), `$10` rows, `$11`
/// whether the message has files (a sent message's files are its attachment rows).
macro_rules! search_sql {
    ($source:literal, $matches:literal) => {
        concat!(
            "SELECT m.id, m.room_id, m.seq, m.author_id, m.body, m.html, m.mentions_room,
                    m.client_id, m.parent_id, m.reply_count, m.last_reply_at, m.edited_at,
                    m.deleted_at, m.created_at
             FROM ",
            $source,
            " JOIN chat_members cm ON cm.room_id = m.room_id AND cm.user_id = $2
             WHERE ",
            $matches,
            " AND m.account_id = $1 AND m.deleted_at IS NULL
               AND ($4 IS NULL OR m.room_id = $4)
               AND ($5 IS NULL OR m.author_id = $5)
               AND ($6 IS NULL OR m.created_at >= $6)
               AND ($7 IS NULL OR m.created_at < $7)
               AND ($8 IS NULL OR m.created_at < $8 OR (m.created_at = $8 AND m.id < $9))
               AND ($11 IS NULL OR $11 = EXISTS (
                     SELECT 1 FROM chat_attachments a WHERE a.message_id = m.id))
             ORDER BY m.created_at DESC, m.id DESC
             LIMIT $10"
        )
    };
}

const SQLITE_SEARCH: &str = search_sql!(
    "chat_messages_fts f JOIN chat_search_docs d ON d.doc = f.rowid
     JOIN chat_messages m ON m.id = d.message_id",
    "chat_messages_fts MATCH $3"
);
const POSTGRES_SEARCH: &str = search_sql!(
    "chat_messages m",
    "m.search @@ to_tsquery('simple', chat_search_fold($3))"
);

/// Up to `limit + 1` messages found, newest first (the extra one says another page exists).
async fn found(
    state: &AppState,
    account_id: Uuid,
    caller: Uuid,
    terms: &Terms,
    search: &Search,
) -> AppResult<Vec<MessageRow>> {
    let (sql, matching) = match state.db.engine() {
        Engine::Sqlite => (SQLITE_SEARCH, terms.fts5()),
        Engine::Postgres => (POSTGRES_SEARCH, terms.tsquery()),
    };
    let (after_at, after_id) = search.after.unzip();
    Ok(on_db!(&state.db, pool => sqlx::query_as(sql)
        .bind(account_id).bind(caller).bind(&matching)
        .bind(search.room_id).bind(search.author_id).bind(search.from).bind(search.to)
        .bind(after_at).bind(after_id).bind(search.limit + 1).bind(search.has_attachment)
        .fetch_all(pool).await?))
}

/// The words of a query: runs of letters and digits, as both engines' tokenizers cut text.
/// Nothing else of the query survives, so none of it is FTS syntax (quotes, `*`, `-`, `:`,
/// parentheses), and each word is quoted anyway, so `NEAR`, `OR` and `AND` are words.
#[derive(Debug, PartialEq, Eq)]
struct Terms {
    words: Vec<String>,
    /// The last word is being typed: it matches as a prefix.
    prefix: bool,
}

impl Terms {
    /// `None` when the query holds no word.
    fn parse(q: &str) -> Option<Terms> {
        let words: Vec<String> = q
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        let prefix = !q.ends_with(char::is_whitespace);
        (!words.is_empty()).then_some(Terms { words, prefix })
    }

    /// An FTS5 query: every word, quoted (FTS5's tokenizer folds case and accents).
    fn fts5(&self) -> String {
        self.joined('"', "*", " ")
    }

    /// A `to_tsquery` text: every word quoted and required (PostgreSQL folds it with the
    /// function that folds the index, so both are folded alike whatever the locale).
    fn tsquery(&self) -> String {
        self.joined('\'', ":*", " & ")
    }

    /// The words each between `quote`s, joined by `and`, the last followed by `prefix` when
    /// it is being typed.
    fn joined(&self, quote: char, prefix: &str, and: &str) -> String {
        let mut out: Vec<String> = self
            .words
            .iter()
            .map(|w| format!("{quote}{w}{quote}"))
            .collect();
        if self.prefix
            && let Some(last) = out.last_mut()
        {
            last.push_str(prefix);
        }
        out.join(and)
    }

    /// Whether a word of a body is one the query found.
    fn matches(&self, folded: &str) -> bool {
        let last = self.words.len() - 1;
        self.words.iter().enumerate().any(|(i, w)| {
            let w = fold(w);
            if self.prefix && i == last {
                folded.starts_with(&w)
            } else {
                folded == w
            }
        })
    }
}

/// Lower case without accents, for highlighting (the engines fold the same letters).
fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

/// About [`SNIPPET_CHARS`] characters of `body` from a little before its first matched
/// word, on one line: HTML-escaped, every matched word in `<mark>`, `…` where cut.
fn snippet(body: &str, terms: &Terms) -> String {
    // Words as (first char, past the last char), in chars.
    let chars: Vec<char> = body.chars().collect();
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in chars.iter().enumerate() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, chars.len()));
    }
    let matched: Vec<bool> = words
        .iter()
        .map(|&(s, e)| terms.matches(&fold(&chars[s..e].iter().collect::<String>())))
        .collect();

    // The window: from a word a little before the first match, as far as fits, ending
    // after a whole word when one ends in it.
    let anchor = words
        .iter()
        .zip(&matched)
        .find(|(_, m)| **m)
        .map_or(0, |(w, _)| w.0);
    let (mut from, mut to) = (0, chars.len());
    if chars.len() > SNIPPET_CHARS {
        let earliest = anchor.saturating_sub(SNIPPET_BEFORE);
        from = words
            .iter()
            .map(|w| w.0)
            .find(|s| *s >= earliest)
            .unwrap_or(anchor);
        to = (from + SNIPPET_CHARS).min(chars.len());
        if to < chars.len()
            && let Some(end) = words.iter().map(|w| w.1).rfind(|e| *e <= to)
            && end > anchor
        {
            to = end;
        }
    }

    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    let mut i = from;
    let mut word = words.iter().zip(&matched).skip_while(|(w, _)| w.1 <= from);
    let mut next = word.next();
    let mut space = false;
    while i < to {
        if let Some((&(s, e), &hit)) = next
            && s <= i
        {
            let end = e.min(to);
            if space {
                out.push(' ');
                space = false;
            }
            if hit {
                out.push_str("<mark>");
            }
            out.push_str(&escape_html(&chars[i..end].iter().collect::<String>()));
            if hit {
                out.push_str("</mark>");
            }
            i = end;
            next = word.next();
        } else if chars[i].is_whitespace() {
            space = !out.is_empty() && !out.ends_with('…');
            i += 1;
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push_str(&escape_html(&chars[i].to_string()));
            i += 1;
        }
    }
    if to < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> Terms {
        Terms::parse(q).unwrap()
    }

    #[test]
    fn a_query_is_only_its_words() {
        let t = terms(r#"  "ação" OR -vend* NEAR(a:b) "#);
        assert_eq!(t.words, ["ação", "OR", "vend", "NEAR", "a", "b"]);
        assert!(!t.prefix, "ends with a space");
        assert_eq!(t.fts5(), r#""ação" "OR" "vend" "NEAR" "a" "b""#);
        assert_eq!(t.tsquery(), "'ação' & 'OR' & 'vend' & 'NEAR' & 'a' & 'b'");
        let typing = terms("proposta env");
        assert_eq!(typing.fts5(), r#""proposta" "env"*"#);
        assert_eq!(typing.tsquery(), "'proposta' & 'env':*");
        for nothing in ["", "   ", "\"*-:()", "«»…"] {
            assert_eq!(Terms::parse(nothing), None, "{nothing:?}");
        }
    }

    #[test]
    fn the_snippet_marks_words_and_escapes_everything_else() {
        let t = terms("acao <script>");
        assert_eq!(
            snippet("<b>Ação</b> & <script>alert('x')</script>", &t),
            "&lt;b&gt;<mark>Ação</mark>&lt;/b&gt; &amp; &lt;<mark>script</mark>&gt;alert(&#39;x&#39;)&lt;/<mark>script</mark>&gt;"
        );
        // The last word is a prefix; a word that only contains a term is not a match.
        assert_eq!(
            snippet("vendas e revenda", &terms("vend")),
            "<mark>vendas</mark> e revenda"
        );
    }

    #[test]
    fn a_long_body_is_cut_around_the_first_match_on_one_line() {
        let body = format!(
            "{}\n\nthe needle is here\n{}",
            "hay ".repeat(100),
            "straw ".repeat(100)
        );
        let s = snippet(&body, &terms("needle"));
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("the <mark>needle</mark> is here straw"), "{s}");
        assert!(!s.contains('\n') && !s.contains("  "), "{s}");
        let text = s.replace("<mark>", "").replace("</mark>", "");
        assert!(text.chars().count() <= SNIPPET_CHARS + 2, "{s}");
        assert!(
            text.trim_matches('…').starts_with("hay "),
            "starts on a word: {s}"
        );
        assert!(
            text.trim_matches('…').ends_with("straw"),
            "ends on a word: {s}"
        );
        // No match (the engines cut words a little differently): the body's start.
        assert!(snippet(&body, &terms("absent")).starts_with("hay hay"));
    }

    #[test]
    fn cursors_round_trip_and_forgeries_are_refused() {
        let at = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(at, id)), Some((at, id)));
        assert_eq!(decode_cursor("not-a-cursor"), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode([0u8; 8])), None);
    }
}
