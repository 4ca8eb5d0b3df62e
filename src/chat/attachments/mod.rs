//! Files in the team chat (ADR 25): uploaded to a room (typed from their bytes against an
//! allow-list, size-capped, images given a re-encoded thumbnail), then sent with a
//! message, and downloaded through short-lived signed links (an `<img src>` cannot send
//! an `Authorization` header), never from a public URL. The bytes live behind
//! [`storage::FileStore`]: the local disk under the data directory, or an S3 bucket.

mod routes;
pub mod s3;
pub mod sniff;
pub mod storage;
mod store;
mod thumbs;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use sha2::Sha256;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

pub use store::AttachmentRow;

use crate::{
    app::{config::ChatFilesEnv, state::AppState},
    platform::{
        db::{Conn, Tx},
        error::{AppError, AppResult},
    },
};
use storage::FileStore;

/// Files one message carries at most.
pub const PER_MESSAGE_MAX: usize = 10;

pub fn router() -> OpenApiRouter<AppState> {
    routes::router()
}

/// An attachment as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Attachment {
    pub id: Uuid,
    /// The name the uploader gave, made safe to show (no path, no control or
    /// bidirectional characters, at most 180 characters). Show it as text.
    pub filename: String,
    /// Told from the file's bytes, never from what the client said.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// `image` (show `thumbnail_url` inline) or `file`.
    pub kind: String,
    /// An image's size in pixels.
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// The file, as a download (`Content-Disposition: attachment`), through a signed link
    /// valid for `CHAT_FILE_URL_TTL_SECONDS` (an hour by default): read it again from the
    /// message for a fresh one.
    pub url: String,
    /// An image's thumbnail (at most 320 px, re-encoded), shown inline; `null` for a file.
    pub thumbnail_url: Option<String>,
}

/// Which of an attachment's files a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Variant {
    fn as_str(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Thumbnail => "thumbnail",
        }
    }
}

/// The attachments' store, their limits and the key that signs their links.
pub struct Files {
    store: Arc<dyn FileStore>,
    staging: PathBuf,
    signing_key: SecretString,
    url_ttl: Duration,
    pub max_bytes: u64,
    /// `PUBLIC_URL`: links are absolute, so they work wherever the UI is served.
    public_url: String,
}

impl Files {
    pub fn new(env: &ChatFilesEnv, public_url: &str) -> anyhow::Result<Files> {
        let store: Arc<dyn FileStore> = match &env.s3 {
            Some(s3) => Arc::new(s3::S3Store::new(s3)?),
            None => Arc::new(storage::LocalStore::new(&env.dir)),
        };
        Ok(Files {
            store,
            staging: env.dir.join("staging"),
            signing_key: env.signing_key.clone(),
            url_ttl: env.url_ttl,
            max_bytes: env.max_bytes,
            public_url: public_url.to_string(),
        })
    }

    pub fn store(&self) -> &dyn FileStore {
        &*self.store
    }

    pub fn staging(&self) -> &Path {
        &self.staging
    }

    fn mac(&self, id: Uuid, variant: Variant, expires: i64) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(self.signing_key.expose_secret().as_bytes())
                .expect("HMAC takes a key of any length");
        mac.update(format!("chat-file\n{id}\n{}\n{expires}", variant.as_str()).as_bytes());
        mac
    }

    /// The signature of a link to `variant` of attachment `id` valid until `expires`
    /// (Unix seconds).
    pub fn signature(&self, id: Uuid, variant: Variant, expires: i64) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(id, variant, expires).finalize().into_bytes())
    }

    /// Whether a link's signature is right (constant time) and it has not expired at `now`.
    pub fn check(
        &self,
        id: Uuid,
        variant: Variant,
        expires: i64,
        signature: &str,
        now: OffsetDateTime,
    ) -> AppResult<()> {
        let tag = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
        if self.mac(id, variant, expires).verify_slice(&tag).is_err() {
            return Err(AppError::Forbidden {
                code: "invalid_signature",
                message: "This link is not valid.",
            });
        }
        if expires < now.unix_timestamp() {
            return Err(AppError::Forbidden {
                code: "link_expired",
                message: "This link has expired: read the message again for a fresh one.",
            });
        }
        Ok(())
    }

    /// When links made at `now` expire: at least the TTL ahead, rounded up to a quarter of
    /// it, so a message read twice in a few minutes gives the same links (and the browser's
    /// cache serves the second).
    fn expiry(&self, now: OffsetDateTime) -> i64 {
        let ttl = self.url_ttl.as_secs() as i64;
        let step = (ttl / 4).max(1);
        ((now.unix_timestamp() + ttl) / step + 1) * step
    }

    fn link(&self, id: Uuid, variant: Variant, expires: i64) -> String {
        let signature = self.signature(id, variant, expires);
        let tail = match variant {
            Variant::Original => "",
            Variant::Thumbnail => "/thumbnail",
        };
        format!(
            "{}/api/v1/chat/files/{id}{tail}?expires={expires}&signature={signature}",
            self.public_url
        )
    }

    pub fn view(&self, row: &AttachmentRow, now: OffsetDateTime) -> Attachment {
        let expires = self.expiry(now);
        Attachment {
            id: row.id,
            filename: row.filename.clone(),
            content_type: row.content_type.clone(),
            size: row.size,
            kind: row.kind.clone(),
            width: row.width,
            height: row.height,
            url: self.link(row.id, Variant::Original, expires),
            thumbnail_url: row
                .thumbnail_key
                .as_ref()
                .map(|_| self.link(row.id, Variant::Thumbnail, expires)),
        }
    }

    /// Removes stored files (after the rows naming them were deleted and committed); a
    /// failure is logged and leaves an orphan no link can reach.
    pub async fn forget(&self, keys: Vec<String>) {
        for key in keys {
            if let Err(err) = self.store.delete(&key).await {
                tracing::warn!(error = %err, "a deleted message's file was not removed");
            }
        }
    }
}

/// The attachments of `message_ids`, in the order they were sent, as clients see them.
pub async fn of_messages(
    conn: Conn<'_>,
    files: &Files,
    message_ids: &[Uuid],
    now: OffsetDateTime,
) -> AppResult<HashMap<Uuid, Vec<Attachment>>> {
    let mut out: HashMap<Uuid, Vec<Attachment>> = HashMap::new();
    for row in store::of_messages(conn, message_ids).await? {
        if let Some(message_id) = row.message_id {
            out.entry(message_id)
                .or_default()
                .push(files.view(&row, now));
        }
    }
    Ok(out)
}

/// Attaches the caller's uploads `ids` to their new message, in that order. Each must be
/// theirs, uploaded to this room of this account and not sent yet; anything else is one
/// 422, whether the id exists elsewhere or not.
pub async fn claim(
    tx: &mut Tx,
    account_id: Uuid,
    room_id: Uuid,
    uploader_id: Uuid,
    message_id: Uuid,
    ids: &[Uuid],
) -> AppResult<()> {
    for (position, id) in ids.iter().enumerate() {
        let claimed = store::claim(
            tx,
            store::Claim {
                account_id,
                room_id,
                uploader_id,
                message_id,
                id: *id,
                position: position as i32,
            },
        )
        .await?;
        if !claimed {
            return Err(AppError::validation(
                "attachment_ids",
                "each must be a file you uploaded to this room and have not sent yet",
            ));
        }
    }
    Ok(())
}

/// How long an upload may wait to be sent before it is deleted.
pub const UNSENT_KEPT: time::Duration = time::Duration::days(1);
/// Unsent uploads deleted per pass at most (the rest wait for the next pass).
const PURGE_BATCH: i64 = 200;

/// Deletes uploads made before `before` and never sent, rows and files; answers how many.
pub async fn purge_unsent(
    db: &crate::platform::db::Db,
    files: &Files,
    before: OffsetDateTime,
) -> AppResult<usize> {
    let ids = store::unsent_before(db, before, PURGE_BATCH).await?;
    let mut keys = Vec::new();
    for id in &ids {
        let mut tx = db.begin().await?;
        keys.extend(store::delete_unsent(&mut tx, *id).await?);
        tx.commit().await?;
    }
    files.forget(keys).await;
    Ok(ids.len())
}

/// Deletes a message's attachments (it became a tombstone); answers the stored files'
/// keys, for [`Files::forget`] once committed.
pub async fn release(tx: &mut Tx, message_id: Uuid) -> AppResult<Vec<String>> {
    store::release(tx, message_id).await
}
