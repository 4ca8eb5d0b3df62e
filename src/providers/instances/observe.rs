//! What the hub saw of a number's session, whoever saw it (an admin's action, a webhook,
//! a check): recorded, and a change audited once per history entry, so a flapping session
//! is one audit entry that counts, not thousands.

use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::store::{self, Recorded, Seen};
use crate::{
    app::state::AppState,
    audit::{self, Actor, AuditEntry},
    platform::{db::Tx, error::AppResult},
    providers::adapters::Status,
    realtime::AccountNews,
};

/// Records `seen`; answers whether the status changed.
pub async fn observe(
    tx: &mut Tx,
    actor: Actor,
    account_id: Uuid,
    id: Uuid,
    seen: &Seen<'_>,
    now: OffsetDateTime,
) -> AppResult<bool> {
    let recorded = store::record(tx, account_id, id, seen, now).await?;
    if let Recorded::New(from) = &recorded {
        let entry = AuditEntry::by(
            actor,
            Some(account_id),
            "instance.status_changed",
            "instance",
            id,
        )
        .changes(
            Some(&json!({"status": from})),
            Some(&json!({"status": seen.status, "reason": seen.reason, "source": seen.source})),
        );
        audit::record(tx, entry).await?;
    }
    Ok(recorded != Recorded::Unchanged)
}

/// Tells the account's open screens a number's status changed (after the commit).
pub fn announce(state: &AppState, account_id: Uuid, id: Uuid, status: Status) {
    state.realtime.tell(AccountNews {
        account_id,
        kind: "instance.status_changed".into(),
        data: json!({"instance_id": id, "status": status}),
    });
}
