//! The platform app: what the dashboard script needs to draw the hub into Chatwoot's page
//! (`config`), and the signed install/update/uninstall events an installation sends
//! (`events`).

mod config;
mod events;

use utoipa_axum::router::OpenApiRouter;

use crate::app::state::AppState;

pub use config::{SCRIPT_VERSION, token_holder};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(config::router())
        .merge(events::router())
}
