//! A board's cards as CSV, filtered like the list, for spreadsheets.

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use uuid::Uuid;

use super::{Card, routes::CardQuery, store};
use crate::{
    app::state::AppState,
    kanban::{boards, ensure_enabled, stages},
    platform::{
        clock,
        error::{AppError, AppResult, Problem},
        pagination::PageRequest,
        params::{ApiPath, ApiQuery},
    },
    tenancy::AccountScope,
};

/// At most this many cards in one export.
const MAX_ROWS: usize = 10_000;

const HEADER: [&str; 16] = [
    "id",
    "title",
    "stage",
    "status",
    "position",
    "value",
    "currency",
    "priority",
    "due_at",
    "assignee_id",
    "labels",
    "contact_name",
    "chatwoot_conversation_id",
    "lost_reason",
    "created_at",
    "updated_at",
];

/// Characters a spreadsheet may skip or fold before it decides a cell is a formula:
/// control characters (NUL, tab, CR…), white space and the zero-width ones.
fn skipped_before_a_formula(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

/// One CSV cell: quoted when needed, and defused when a spreadsheet would read it as a
/// formula (OWASP CSV injection): it starts with a formula sign, in ASCII or full width,
/// once anything a spreadsheet skips is skipped, or with a control character itself.
fn cell(value: &str) -> String {
    let first = value.chars().find(|c| !skipped_before_a_formula(*c));
    let formula = matches!(
        first,
        Some('=' | '+' | '-' | '@' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}')
    );
    let defused = if formula || value.starts_with(char::is_control) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

fn money(minor: i64) -> String {
    format!("{}.{:02}", minor / 100, minor % 100)
}

fn row(card: &Card, stage: &str) -> String {
    let time = |t: Option<time::OffsetDateTime>| {
        t.and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
    };
    let opt = |v: Option<String>| v.unwrap_or_default();
    let cells = [
        card.id.to_string(),
        card.title.clone(),
        stage.to_string(),
        serde_json::to_value(card.status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default(),
        card.position.to_string(),
        opt(card.value_minor.map(money)),
        opt(card.currency.clone()),
        opt(card
            .priority
            .and_then(|p| serde_json::to_value(p).ok()?.as_str().map(String::from))),
        time(card.due_at),
        opt(card.assignee_id.map(|a| a.to_string())),
        card.labels.join(" "),
        opt(card.contact_name.clone()),
        opt(card.chatwoot_conversation_id.map(|c| c.to_string())),
        opt(card.lost_reason.clone()),
        time(Some(card.created_at)),
        time(Some(card.updated_at)),
    ];
    let mut line = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// The board's cards as CSV (RFC 4180), in board order, filtered like the list.
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/boards/{boardId}/cards/export", tag = "kanban",
    params(("accountId" = Uuid, Path), ("boardId" = Uuid, Path), CardQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn export_cards(
    State(state): State<AppState>,
    scope: AccountScope,
    ApiPath(path): ApiPath<(Uuid, Uuid)>,
    ApiQuery(query): ApiQuery<CardQuery>,
) -> AppResult<Response> {
    ensure_enabled(&state.db, &state, &scope).await?;
    let board_id = path.1;
    let board = boards::store::get(&state.db, scope.account_id, board_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let stage_names = stages::store::list(&state.db, scope.account_id, board_id).await?;
    let filter = query.filter(clock::now())?;
    let mut csv = HEADER.join(",") + "\r\n";
    let mut page = PageRequest {
        limit: 200,
        after: None,
    };
    let mut rows = 0;
    loop {
        let mut cards = store::list(&state.db, scope.account_id, board_id, &filter, page).await?;
        let more = cards.len() > page.limit as usize;
        cards.truncate(page.limit as usize);
        for card in &cards {
            let stage = stage_names
                .iter()
                .find(|s| s.id == card.stage_id)
                .map_or("", |s| s.name.as_str());
            csv.push_str(&row(card, stage));
        }
        rows += cards.len();
        match cards.last() {
            Some(last) if more && rows < MAX_ROWS => page.after = Some(last.id),
            _ => break,
        }
    }
    let name: String = board
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}-cards.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
        // Regression (issue 13, finding 15): hidden and full-width formula signs.
        for sneaky in [
            "\0=1+1",
            "\u{200B}=1+1",
            "\u{FEFF}@SUM(A1)",
            " =1",
            "\u{FF1D}1+1",
            "\u{FF0B}1",
            "\u{FF0D}1",
            "\u{FF20}x",
            "\t=1",
        ] {
            assert!(
                cell(sneaky).trim_start_matches('"').starts_with('\''),
                "{sneaky:?}"
            );
        }
        assert_eq!(cell("Ana = 1"), "Ana = 1");
        assert_eq!(cell("\u{200B}Ana"), "\u{200B}Ana");
        assert_eq!(money(150050), "1500.50");
    }
}
