//! An instance ready for an adapter call: its provider server opened (credentials out of
//! the vault) and its own credential.

use uuid::Uuid;

use super::{Instance, open, store};
use crate::{
    app::state::AppState,
    platform::error::{AppError, AppResult},
    providers::{
        ProviderKind,
        adapters::{Adapter, Connection, Server, Session},
        credentials::Credentials,
        http::ProviderClient,
        store as providers,
    },
};

/// The provider server of the account, opened for an adapter: 404 for another account's.
pub struct Opened {
    pub kind: ProviderKind,
    pub adapter: &'static dyn Adapter,
    http: ProviderClient,
    base_url: String,
    credentials: Credentials,
}

impl Opened {
    pub async fn of(state: &AppState, account_id: Uuid, provider_id: Uuid) -> AppResult<Opened> {
        let row = providers::get(&state.db, account_id, provider_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let kind = row.kind()?;
        let adapter = crate::providers::adapters::of(kind);
        Ok(Opened {
            kind,
            adapter,
            http: state.providers.clone(),
            credentials: Credentials::open(&state.vault, row.id, &row.credentials)?,
            base_url: row.base_url,
        })
    }

    pub fn server(&self) -> Server<'_> {
        Server {
            http: &self.http,
            base_url: &self.base_url,
            credentials: &self.credentials,
        }
    }
}

/// An instance with its provider server opened and its own credential: what an adapter
/// call on it needs.
pub struct Live {
    pub instance: Instance,
    pub opened: Opened,
    token: String,
}

impl Live {
    pub async fn of(state: &AppState, account_id: Uuid, id: Uuid) -> AppResult<Live> {
        let instance = store::get(&state.db, account_id, id)
            .await?
            .ok_or(AppError::NotFound)?;
        let opened = Opened::of(state, account_id, instance.provider_id).await?;
        let sealed = store::credentials(&state.db, account_id, id).await?;
        let token = open(&state.vault, id, &sealed)?;
        Ok(Live {
            instance,
            opened,
            token,
        })
    }

    pub fn session(&self) -> Session<'_> {
        Session {
            name: &self.instance.name,
            token: &self.token,
        }
    }

    /// Where the session stands now, as the provider says.
    pub async fn read_back(&self) -> AppResult<Connection> {
        let server = self.opened.server();
        Ok(self.opened.adapter.status(&server, &self.session()).await?)
    }
}
