//! Boards as card writers need them: settings and stages, kept per replica as of each
//! board's structure version. Every change to a board's settings or stages moves that
//! version on in its own transaction (`store::touch` with `Changed::Structure`), and a card
//! writer reads the version inside its transaction, after holding the board (which keeps
//! structure writers out until it commits). So what it is given is what the database holds
//! for the rest of its transaction, on any replica, and a card write reads one number where
//! it read the board and its stages.

use std::sync::Arc;

use uuid::Uuid;

use super::{BoardDetail, store};
use crate::{
    kanban::stages,
    platform::{
        db::Tx,
        error::{AppError, AppResult},
        kept::Kept,
    },
};

#[derive(Default)]
pub struct Layouts(Kept<i64, BoardDetail>);

impl Layouts {
    /// The live board of the account with its stages, as the transaction sees it (`None`:
    /// no such board). Its `revision` is the one read with it, which card writers never
    /// use: they announce the one `store::touch` answers.
    pub async fn read(
        &self,
        tx: &mut Tx,
        account_id: Uuid,
        board_id: Uuid,
    ) -> AppResult<Option<Arc<BoardDetail>>> {
        let Some(version) = store::structure_version(tx, account_id, board_id).await? else {
            return Ok(None);
        };
        Ok(Some(self.at(tx, account_id, board_id, version).await?))
    }

    /// The live board of the account with its stages, given the structure version the
    /// transaction read.
    pub async fn at(
        &self,
        tx: &mut Tx,
        account_id: Uuid,
        board_id: Uuid,
        version: i64,
    ) -> AppResult<Arc<BoardDetail>> {
        if let Some(layout) = self.0.get(board_id, |kept| kept == version) {
            return Ok(layout);
        }
        let board = store::get(&mut *tx, account_id, board_id).await?;
        let stages = stages::store::list(&mut *tx, account_id, board_id).await?;
        let layout = BoardDetail {
            board: board.ok_or(AppError::NotFound)?,
            stages,
        };
        Ok(self.0.put(board_id, version, layout))
    }
}
