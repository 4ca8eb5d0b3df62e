//! One adapter per provider type, behind one trait: what the hub asks of a provider
//! server, each in its own wire format. This far: checking that a server is one of its
//! type and takes the credentials (instances come next).

mod evolution;

use futures_util::future::BoxFuture;

use super::{
    ProviderKind,
    credentials::Credentials,
    http::{ProviderClient, ProviderError},
};

/// A provider server as an adapter calls it.
pub struct Server<'a> {
    pub base_url: &'a str,
    pub credentials: &'a Credentials,
}

pub trait Adapter: Send + Sync {
    /// Reaches the server and checks that it takes the credentials.
    fn verify<'a>(
        &'a self,
        client: &'a ProviderClient,
        server: &'a Server<'a>,
    ) -> BoxFuture<'a, Result<(), ProviderError>>;
}

/// The adapter of `kind`; `None` for a type the hub cannot drive yet.
pub fn of(kind: ProviderKind) -> Option<&'static dyn Adapter> {
    match kind {
        ProviderKind::Evolution => Some(&evolution::Evolution),
        ProviderKind::Waha | ProviderKind::Uazapi | ProviderKind::Zapi | ProviderKind::CloudApi => {
            None
        }
    }
}
