//! Where attachments' bytes live, behind [`FileStore`]: the local disk under the data
//! directory by default ([`LocalStore`]), or an S3-compatible bucket ([`super::s3`]). Keys
//! are random (32 hex digits) and never come from a client. Uploads are first staged on
//! local disk (streamed, counted and hashed as they arrive), then handed to the store.

use std::{
    io,
    path::{Path, PathBuf},
};

use axum::body::Body;
use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

/// A stored file's bytes, streamed.
pub struct Blob {
    pub len: u64,
    pub body: Body,
}

/// The bytes of attachments and thumbnails, by key.
pub trait FileStore: Send + Sync {
    /// Stores the staged file under `key` (replacing nothing: keys are new).
    fn put<'a>(&'a self, key: &'a str, staged: &'a Staged) -> BoxFuture<'a, anyhow::Result<()>>;
    /// The file under `key`; `None` when there is none.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Blob>>>;
    /// Removes the file under `key` (nothing when there is none).
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<()>>;
}

/// A new random key.
pub fn new_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A key this module made: 32 lowercase hex digits (so it can name no other path).
fn checked(key: &str) -> anyhow::Result<&str> {
    if key.len() == 32 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(key)
    } else {
        anyhow::bail!("not a file key")
    }
}

/// A file being received or received, on local disk; removed when dropped unless a store
/// moved it away.
pub struct Staged {
    pub path: PathBuf,
    pub len: u64,
    /// SHA-256 of the bytes (S3's payload hash).
    pub sha256: [u8; 32],
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Err(err) = std::fs::remove_file(&self.path)
            && err.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(error = %err, "a staged upload was not removed");
        }
    }
}

/// Writes a file into the staging directory as its chunks arrive.
pub struct Stager {
    file: tokio::fs::File,
    hash: Sha256,
    staged: Staged,
}

impl Stager {
    pub async fn create(dir: &Path) -> io::Result<Stager> {
        tokio::fs::create_dir_all(dir).await?;
        let path = dir.join(format!("{}.part", new_key()));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await?;
        Ok(Stager {
            file,
            hash: Sha256::new(),
            staged: Staged {
                path,
                len: 0,
                sha256: [0; 32],
            },
        })
    }

    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.hash.update(chunk);
        self.staged.len += chunk.len() as u64;
        self.file.write_all(chunk).await
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.staged.len
    }

    /// The file written through and synced to disk.
    pub async fn finish(mut self) -> io::Result<Staged> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        self.staged.sha256 = self.hash.finalize().into();
        Ok(self.staged)
    }
}

/// Bytes made here (a thumbnail), staged like an upload.
pub async fn stage_bytes(dir: &Path, bytes: &[u8]) -> io::Result<Staged> {
    let mut stager = Stager::create(dir).await?;
    stager.write(bytes).await?;
    stager.finish().await
}

/// Files under a directory outside any web root: `objects/ab/abcdef…`. A put is a rename
/// from the staging directory on the same disk, so a file is either whole or absent.
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(dir: &Path) -> LocalStore {
        LocalStore {
            root: dir.join("objects"),
        }
    }

    fn path_of(&self, key: &str) -> anyhow::Result<PathBuf> {
        let key = checked(key)?;
        Ok(self.root.join(&key[..2]).join(key))
    }
}

impl FileStore for LocalStore {
    fn put<'a>(&'a self, key: &'a str, staged: &'a Staged) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            if let Some(parent) = path.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::rename(&staged.path, &path).await?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Blob>>> {
        Box::pin(async move {
            let file = match tokio::fs::File::open(self.path_of(key)?).await {
                Ok(file) => file,
                Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(err) => return Err(err.into()),
            };
            let len = file.metadata().await?.len();
            Ok(Some(Blob {
                len,
                body: Body::from_stream(ReaderStream::new(file)),
            }))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path_of(key)?).await {
                Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err.into()),
                _ => Ok(()),
            }
        })
    }
}
