//! An S3-compatible object store, enough for the chat's attachments: path-style `PUT`, `GET`
//! and `DELETE` of `/{bucket}/{key}` in one bucket, kept in memory. Every request must carry
//! a valid AWS Signature Version 4 (`Authorization` header): the credential's access key,
//! date, region and service, the date within 15 minutes, the payload's SHA-256 against the
//! body received, and the signature recomputed from the request as it arrived. Anything
//! else is refused the way S3 refuses it (403 with an XML `<Error>`).

use std::{
    collections::HashMap,
    fmt,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::any,
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::net::TcpListener;

use super::ServerTask;

/// How far a request's `x-amz-date` may be from now, as S3 allows.
const SKEW_SECONDS: i64 = 15 * 60;

/// The bucket's account: who may call it, and what it holds.
struct Shared {
    access_key_id: String,
    secret_access_key: String,
    region: String,
    bucket: String,
    objects: Mutex<HashMap<String, Vec<u8>>>,
    refused: Mutex<Vec<&'static str>>,
}

/// A running simulator; stopped when the last clone goes.
#[derive(Clone)]
pub struct S3Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _task: Arc<ServerTask>,
}

impl fmt::Debug for S3Simulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Simulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl S3Simulator {
    /// An empty `bucket` in `region`, reached with these credentials, on an ephemeral port.
    pub async fn start(
        access_key_id: &str,
        secret_access_key: &str,
        region: &str,
        bucket: &str,
    ) -> S3Simulator {
        let listener: TcpListener = super::local_listener().await;
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let shared = Arc::new(Shared {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            region: region.into(),
            bucket: bucket.into(),
            objects: Mutex::default(),
            refused: Mutex::default(),
        });
        let app = Router::new()
            .route("/{*path}", any(object))
            .layer(DefaultBodyLimit::max(1 << 30))
            .with_state(shared.clone());
        S3Simulator {
            shared,
            addr,
            _task: Arc::new(ServerTask::serve(listener, app)),
        }
    }

    /// `http://127.0.0.1:<port>`: the endpoint, as `CHAT_S3_ENDPOINT` holds it.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The keys of the objects stored, sorted.
    pub fn keys(&self) -> Vec<String> {
        let objects = self.shared.objects.lock().expect("objects lock");
        let mut keys: Vec<String> = objects.keys().cloned().collect();
        keys.sort();
        keys
    }

    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        self.shared
            .objects
            .lock()
            .expect("objects lock")
            .get(key)
            .cloned()
    }

    /// The S3 error codes of the requests refused so far, in order.
    pub fn refused(&self) -> Vec<&'static str> {
        self.shared.refused.lock().expect("refused lock").clone()
    }
}

/// S3's error body.
fn error(shared: &Shared, status: StatusCode, code: &'static str) -> Response {
    if status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST {
        shared.refused.lock().expect("refused lock").push(code);
    }
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{code}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

async fn object(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(code) = verify(&shared, &method, &uri, &headers, &body) {
        let status = if code == "AuthorizationHeaderMalformed" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::FORBIDDEN
        };
        return error(&shared, status, code);
    }
    let path = uri.path().trim_start_matches('/');
    let Some((bucket, key)) = path.split_once('/').filter(|(_, key)| !key.is_empty()) else {
        return error(&shared, StatusCode::BAD_REQUEST, "InvalidRequest");
    };
    if bucket != shared.bucket {
        return error(&shared, StatusCode::NOT_FOUND, "NoSuchBucket");
    }
    let mut objects = shared.objects.lock().expect("objects lock");
    match method {
        Method::PUT => {
            objects.insert(key.to_string(), body.to_vec());
            StatusCode::OK.into_response()
        }
        Method::GET => match objects.get(key) {
            Some(bytes) => (
                [(header::CONTENT_TYPE, "application/octet-stream")],
                bytes.clone(),
            )
                .into_response(),
            None => {
                drop(objects);
                error(&shared, StatusCode::NOT_FOUND, "NoSuchKey")
            }
        },
        // S3 answers 204 whether or not the key was there.
        Method::DELETE => {
            objects.remove(key);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => {
            drop(objects);
            error(&shared, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed")
        }
    }
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…,
/// Signature=…`.
struct Authorization<'a> {
    credential: Vec<&'a str>,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        fields.insert(name, value);
    }
    Some(Authorization {
        credential: fields.get("Credential")?.split('/').collect(),
        signed_headers: fields.get("SignedHeaders")?.split(';').collect(),
        signature: fields.get("Signature")?,
    })
}

fn verify(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), &'static str> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let auth = text("authorization")
        .and_then(parse_authorization)
        .ok_or("AccessDenied")?;
    let [access_key, day, region, service, terminator] = auth.credential[..] else {
        return Err("AuthorizationHeaderMalformed");
    };
    if access_key != shared.access_key_id {
        return Err("InvalidAccessKeyId");
    }
    if region != shared.region || service != "s3" || terminator != "aws4_request" {
        return Err("AuthorizationHeaderMalformed");
    }
    let amz_date = text("x-amz-date").ok_or("AccessDenied")?;
    let at = time::PrimitiveDateTime::parse(
        amz_date,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .map_err(|_| "AccessDenied")?
    .assume_utc();
    if !amz_date.starts_with(day) {
        return Err("SignatureDoesNotMatch");
    }
    let payload_hash = text("x-amz-content-sha256").ok_or("AccessDenied")?;
    if payload_hash != "UNSIGNED-PAYLOAD" && payload_hash != hex::encode(Sha256::digest(body)) {
        return Err("XAmzContentSHA256Mismatch");
    }
    for required in ["host", "x-amz-date", "x-amz-content-sha256"] {
        if !auth.signed_headers.contains(&required) {
            return Err("AccessDenied");
        }
    }

    // The canonical request, from the request as it arrived.
    let mut query: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .collect();
    query.sort_unstable();
    let mut canonical_headers = String::new();
    for name in &auth.signed_headers {
        let values: Vec<&str> = headers
            .get_all(*name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .collect();
        if values.is_empty() {
            return Err("AccessDenied");
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let canonical_request = [
        method.as_str(),
        uri.path(),
        &query.join("&"),
        &canonical_headers,
        &auth.signed_headers.join(";"),
        payload_hash,
    ]
    .join("\n");
    let string_to_sign = [
        "AWS4-HMAC-SHA256".to_string(),
        amz_date.to_string(),
        auth.credential[1..].join("/"),
        hex::encode(Sha256::digest(canonical_request.as_bytes())),
    ]
    .join("\n");

    let signing_key = [day, region, service, terminator].iter().fold(
        format!("AWS4{}", shared.secret_access_key).into_bytes(),
        |key, part| mac(&key, part.as_bytes()),
    );
    let expected = hex::encode(mac(&signing_key, string_to_sign.as_bytes()));
    if !bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        return Err("SignatureDoesNotMatch");
    }
    let skew = (crate::platform::clock::now() - at).whole_seconds().abs();
    if skew > SKEW_SECONDS {
        return Err("RequestTimeTooSkewed");
    }
    Ok(())
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's own example request ("GET Object" in the Signature V4 guide for S3, with its
    /// `Range` header), checked against the published signature: only its date (2013,
    /// long past) is refused, after the signature matched.
    #[test]
    fn verifies_aws_published_example() {
        let shared = Shared {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(), // pragma: allowlist secret (AWS documentation example)
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(), // pragma: allowlist secret (AWS documentation example)
            region: "us-east-1".into(),
            bucket: "examplebucket".into(),
            objects: Mutex::default(),
            refused: Mutex::default(),
        };
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let request = |signature: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("host", "examplebucket.s3.amazonaws.com".parse().unwrap());
            headers.insert("range", "bytes=0-9".parse().unwrap());
            headers.insert("x-amz-content-sha256", empty.parse().unwrap());
            headers.insert("x-amz-date", "20130524T000000Z".parse().unwrap());
            let auth = format!(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
                 SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={signature}"
            );
            headers.insert("authorization", auth.parse().unwrap());
            headers
        };
        let uri: Uri = "/test.txt".parse().unwrap();
        let published = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
        let verdict = verify(&shared, &Method::GET, &uri, &request(published), b"");
        assert_eq!(
            verdict,
            Err("RequestTimeTooSkewed"),
            "the signature itself matched"
        );
        let forged = published.replace('f', "e");
        let verdict = verify(&shared, &Method::GET, &uri, &request(&forged), b"");
        assert_eq!(verdict, Err("SignatureDoesNotMatch"));
    }
}
