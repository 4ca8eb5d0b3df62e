//! S3-compatible storage (ADR 25): not built yet; `CHAT_S3_ENDPOINT` is refused at start.

use futures_util::future::BoxFuture;

use super::storage::{Blob, FileStore, Staged};
use crate::app::config::S3Env;

pub struct S3Store;

impl S3Store {
    pub fn new(_env: &S3Env) -> anyhow::Result<S3Store> {
        anyhow::bail!("CHAT_S3_ENDPOINT: S3 storage is not available yet")
    }
}

impl FileStore for S3Store {
    fn put<'a>(&'a self, _key: &'a str, _staged: &'a Staged) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async { anyhow::bail!("S3 storage is not available yet") })
    }

    fn get<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Blob>>> {
        Box::pin(async { anyhow::bail!("S3 storage is not available yet") })
    }

    fn delete<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async { anyhow::bail!("S3 storage is not available yet") })
    }
}
