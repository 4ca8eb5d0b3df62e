//! Who is on the other end of the connection: the client IP (from `X-Forwarded-For` only
//! when the peer is a trusted proxy), the user agent and the request id.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Request},
    http::{header, request::Parts},
};
use ipnet::IpNet;

use super::{error::AppError, request_id::RequestId};

#[derive(Clone, Debug)]
pub struct ClientMeta {
    pub ip: IpAddr,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

/// Walks `X-Forwarded-For` from the right, skipping trusted proxies; the first untrusted
/// hop is the client. Anything unparsable stops the walk at the last trusted address.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for.unwrap_or_default().rsplit(',') {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

impl ClientMeta {
    /// Who sent `req`: its address (through the `trusted` proxies), agent and request id.
    pub fn of(req: &Request, trusted: &[IpNet]) -> ClientMeta {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        ClientMeta {
            ip: client_ip(peer, forwarded, trusted),
            user_agent: req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|ua| ua.chars().take(512).collect()),
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<ClientMeta>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("client middleware not installed")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn ignores_forwarded_for_from_untrusted_peers() {
        let peer: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(
            client_ip(peer, Some("1.2.3.4"), &nets(&["10.0.0.0/8"])),
            peer
        );
    }

    #[test]
    fn takes_the_first_untrusted_hop_from_the_right() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let trusted = nets(&["10.0.0.0/8"]);
        let ip = client_ip(peer, Some("6.6.6.6, 198.51.100.9, 10.0.0.5"), &trusted);
        assert_eq!(ip, "198.51.100.9".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(peer, Some("garbage"), &trusted), peer);
        assert_eq!(client_ip(peer, None, &trusted), peer);
    }
}
