//! An S3-compatible bucket as a [`FileStore`]: path-style `PUT`, `GET` and `DELETE` of
//! `{endpoint}/{bucket}/{key}`, each signed with AWS Signature Version 4 (header auth, the
//! payload's SHA-256 signed too) over the hub's `reqwest`, without an SDK. Works with AWS,
//! MinIO, Cloudflare R2, Backblaze B2 and the like; tested against `simulators::s3`.

use std::time::Duration;

use axum::body::Body;
use futures_util::future::BoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, macros::format_description};
use tokio_util::io::ReaderStream;

use super::storage::{Blob, FileStore, Staged};
use crate::{app::config::S3Env, platform::clock};

/// SHA-256 of nothing: the payload hash of a `GET` or a `DELETE`.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SIGNED_HEADERS: &str = "host;x-amz-content-sha256;x-amz-date";

pub struct S3Store {
    http: reqwest::Client,
    endpoint: Url,
    bucket: String,
    region: String,
    access_key_id: String,
    secret_access_key: SecretString,
}

impl S3Store {
    pub fn new(env: &S3Env) -> anyhow::Result<S3Store> {
        crate::platform::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("whatpro-hub/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let bucket_ok = !env.bucket.is_empty()
            && env
                .bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b));
        anyhow::ensure!(
            bucket_ok,
            "CHAT_S3_BUCKET holds lowercase letters, digits, dots and hyphens"
        );
        Ok(S3Store {
            http,
            endpoint: Url::parse(&env.endpoint)?,
            bucket: env.bucket.clone(),
            region: env.region.clone(),
            access_key_id: env.access_key_id.clone(),
            secret_access_key: env.secret_access_key.clone(),
        })
    }

    /// `{endpoint}/{bucket}/{key}` (keys are hex: nothing to escape).
    fn url(&self, key: &str) -> Url {
        let mut url = self.endpoint.clone();
        let path = format!("{}/{}/{key}", url.path().trim_end_matches('/'), self.bucket);
        url.set_path(&path);
        url
    }

    /// A request with Signature V4 headers for a payload of SHA-256 `payload_hash` (hex).
    fn signed(&self, method: Method, key: &str, payload_hash: &str) -> reqwest::RequestBuilder {
        let url = self.url(key);
        let now = clock::now();
        let (authorization, amz_date) = self.authorization(&method, &url, payload_hash, now);
        self.http
            .request(method, url)
            .header("x-amz-date", amz_date)
            .header("x-amz-content-sha256", payload_hash)
            .header("authorization", authorization)
    }

    /// The `Authorization` header and the `x-amz-date` it signed.
    fn authorization(
        &self,
        method: &Method,
        url: &Url,
        payload_hash: &str,
        at: OffsetDateTime,
    ) -> (String, String) {
        let amz_date = at
            .format(format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .expect("a UTC time formats");
        let day = &amz_date[..8];
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        let canonical = format!(
            "{method}\n{}\n\nhost:{host}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{amz_date}\n\n{SIGNED_HEADERS}\n{payload_hash}",
            url.path()
        );
        let scope = format!("{day}/{}/s3/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let secret = format!("AWS4{}", self.secret_access_key.expose_secret());
        let mut key = hmac(secret.as_bytes(), day.as_bytes());
        for part in [self.region.as_str(), "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
            self.access_key_id
        );
        (authorization, amz_date)
    }
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A failed call, without the URL's credentials (there are none in it) or the body.
fn refused(what: &str, status: StatusCode) -> anyhow::Error {
    anyhow::anyhow!("S3 {what} answered {status}")
}

impl FileStore for S3Store {
    fn put<'a>(&'a self, key: &'a str, staged: &'a Staged) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let file = tokio::fs::File::open(&staged.path).await?;
            let response = self
                .signed(Method::PUT, key, &hex::encode(staged.sha256))
                .header("content-length", staged.len)
                .header("content-type", "application/octet-stream")
                .body(reqwest::Body::wrap_stream(ReaderStream::new(file)))
                .send()
                .await?;
            if !response.status().is_success() {
                return Err(refused("PUT", response.status()));
            }
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<Option<Blob>>> {
        Box::pin(async move {
            let response = self.signed(Method::GET, key, EMPTY_SHA256).send().await?;
            match response.status() {
                StatusCode::NOT_FOUND => Ok(None),
                status if status.is_success() => {
                    let len = response.content_length().unwrap_or_default();
                    Ok(Some(Blob {
                        len,
                        body: Body::from_stream(response.bytes_stream()),
                    }))
                }
                status => Err(refused("GET", status)),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let response = self
                .signed(Method::DELETE, key, EMPTY_SHA256)
                .send()
                .await?;
            match response.status() {
                StatusCode::NOT_FOUND => Ok(()),
                status if status.is_success() => Ok(()),
                status => Err(refused("DELETE", status)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header's shape, and the key derivation checked against AWS's published example.
    #[test]
    fn signs_as_aws_documents() {
        let store = S3Store::new(&S3Env {
            endpoint: "https://examplebucket.s3.amazonaws.com".into(),
            bucket: "examplebucket".into(),
            region: "us-east-1".into(),
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(), // pragma: allowlist secret (AWS documentation example)
            secret_access_key: SecretString::from("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), // pragma: allowlist secret (AWS documentation example)
        })
        .unwrap();
        let at = time::macros::datetime!(2013-05-24 00:00:00 UTC);
        let url = Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
        let (authorization, amz_date) = store.authorization(&Method::GET, &url, EMPTY_SHA256, at);
        assert_eq!(amz_date, "20130524T000000Z");
        // The signature as an independent implementation (Python's hmac) computes it.
        assert_eq!(
            authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, \
             Signature=df548e2ce037944d03f3e68682813b093763996d597cf890ca3d9037fd231eb4"
        );
        // The guide's own example of deriving a signing key (IAM, 2012-02-15).
        let secret = "AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"; // pragma: allowlist secret (AWS documentation example)
        let mut key = hmac(secret.as_bytes(), b"20120215");
        for part in ["us-east-1", "iam", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        assert_eq!(
            hex::encode(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }
}
