//! Which addresses the hub calls provider servers at. An account admin chooses a server's
//! URL, so without a rule the hub would fetch whatever they point it at: the cloud's
//! metadata service (`169.254.169.254`, which hands out the host's credentials) first of
//! all. Provider servers are often on the same host or network as the hub (a Docker
//! network, `localhost`), so private and loopback addresses stay allowed by default; the
//! link-local, unspecified and multicast ranges never are, and an operator can deny more
//! (`PROVIDER_DENIED_NETWORKS`) or allow only some (`PROVIDER_ALLOWED_NETWORKS`).
//!
//! Names are checked after they resolve, on every connection (a name that resolves to an
//! allowed address once and to a denied one later is caught), and IP literals before the
//! request is sent.

use std::{net::IpAddr, sync::Arc};

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Always denied, whatever the configuration: link-local (cloud metadata services live
/// there), unspecified, multicast and broadcast, and the IPv6 metadata address of AWS.
const ALWAYS_DENIED: [&str; 7] = [
    "169.254.0.0/16",
    "fe80::/10",
    "0.0.0.0/8",
    "::/128",
    "224.0.0.0/3",
    "ff00::/8",
    "fd00:ec2::254/128",
];

#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    denied: Vec<IpNet>,
    /// When set, nothing outside these networks.
    allowed: Option<Vec<IpNet>>,
}

impl AddressPolicy {
    pub fn new(denied: Vec<IpNet>, allowed: Option<Vec<IpNet>>) -> AddressPolicy {
        let mut all: Vec<IpNet> = ALWAYS_DENIED
            .iter()
            .filter_map(|net| net.parse().ok())
            .collect();
        all.extend(denied);
        AddressPolicy {
            denied: all,
            allowed,
        }
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        // An IPv4 address written as IPv6 (`::ffff:169.254.169.254`) is judged as IPv4.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let denied = self.denied.iter().any(|net| net.contains(&ip));
        let allowed = self
            .allowed
            .as_ref()
            .is_none_or(|nets| nets.iter().any(|net| net.contains(&ip)));
        allowed && !denied
    }

    /// Whether `url` names an IP the policy refuses (names are judged when resolved).
    pub fn refuses_literal(&self, url: &reqwest::Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        bare.parse::<IpAddr>().is_ok_and(|ip| !self.allows(ip))
    }
}

/// The system resolver, keeping only the addresses the policy allows.
pub struct Guarded(pub Arc<AddressPolicy>);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.0);
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0)).await?;
            let kept: Vec<_> = found.filter(|addr| policy.allows(addr.ip())).collect();
            if kept.is_empty() {
                return Err(Box::new(NotAllowed) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// A name that resolved only to denied addresses.
#[derive(Debug, thiserror::Error)]
#[error("the provider's address is not allowed")]
pub struct NotAllowed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_services_are_never_reached_and_operators_narrow_the_rest() {
        let open = AddressPolicy::new(vec![], None);
        for denied in [
            "169.254.169.254",
            "::ffff:169.254.169.254",
            "0.0.0.0",
            "fd00:ec2::254",
        ] {
            assert!(!open.allows(denied.parse().unwrap()), "{denied}");
        }
        for allowed in ["127.0.0.1", "10.0.0.5", "172.18.0.3", "203.0.113.9", "::1"] {
            assert!(open.allows(allowed.parse().unwrap()), "{allowed}");
        }
        let strict = AddressPolicy::new(
            vec!["10.0.0.0/8".parse().unwrap()],
            Some(vec![
                "10.0.0.0/8".parse().unwrap(),
                "203.0.113.0/24".parse().unwrap(),
            ]),
        );
        assert!(strict.allows("203.0.113.9".parse().unwrap()));
        assert!(!strict.allows("10.0.0.5".parse().unwrap()), "denied wins");
        assert!(
            !strict.allows("127.0.0.1".parse().unwrap()),
            "outside the allowed"
        );
        let url = reqwest::Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
        assert!(open.refuses_literal(&url));
        assert!(!open.refuses_literal(&reqwest::Url::parse("http://evolution:8080").unwrap()));
    }
}
