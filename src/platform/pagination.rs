//! Cursor pagination: `?limit=&cursor=`, answered with `next_cursor`. Cursors are opaque
//! (the last id, base64url), so clients cannot build them and they leak nothing.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::AppError;

pub const MAX_LIMIT: u32 = 200;
const DEFAULT_LIMIT: u32 = 50;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: u32,
    pub after: Option<Uuid>,
}

impl PageParams {
    pub fn parse(&self) -> Result<PageRequest, AppError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(AppError::validation(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

impl PageRequest {
    /// Rows to fetch: one more than the page, to learn whether another page exists.
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

fn decode_cursor(raw: &str) -> Result<Uuid, AppError> {
    URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| AppError::validation("cursor", "is not a cursor this API issued"))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `fetch_limit()` rows ordered by the key `id_of` returns.
    pub fn from_rows(mut rows: Vec<T>, request: PageRequest, id_of: impl Fn(&T) -> Uuid) -> Self {
        let next_cursor = if rows.len() > request.limit as usize {
            rows.truncate(request.limit as usize);
            rows.last()
                .map(|row| URL_SAFE_NO_PAD.encode(id_of(row).as_bytes()))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_a_cursor_only_when_more_rows_exist() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let request = PageParams {
            limit: Some(2),
            cursor: None,
        }
        .parse()
        .unwrap();
        let page = Page::from_rows(ids.clone(), request, |id| *id);
        assert_eq!(page.items.len(), 2);
        let cursor = page.next_cursor.unwrap();
        let next = PageParams {
            limit: Some(2),
            cursor: Some(cursor),
        }
        .parse()
        .unwrap();
        assert_eq!(next.after, Some(ids[1]));
        let last = Page::from_rows(vec![ids[2]], next, |id| *id);
        assert!(last.next_cursor.is_none());
    }

    #[test]
    fn rejects_bad_limits_and_forged_cursors() {
        assert!(
            PageParams {
                limit: Some(201),
                cursor: None
            }
            .parse()
            .is_err()
        );
        assert!(
            PageParams {
                limit: Some(0),
                cursor: None
            }
            .parse()
            .is_err()
        );
        assert!(
            PageParams {
                limit: None,
                cursor: Some("not-a-cursor".into())
            }
            .parse()
            .is_err()
        );
    }
}
