//! The web UI, built by Vite into `web/dist` and embedded in the binary. Unknown paths
//! outside the API get `index.html`, so the UI's own routes load directly.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use rust_embed::RustEmbed;

use crate::{app::state::AppState, chatwoot::embed, platform::error::AppError};

#[derive(RustEmbed)]
#[folder = "web/dist"]
#[allow_missing = true]
struct Assets;

const NOT_BUILT: &str = "<!doctype html><title>Whatpro Hub</title><h1>The web UI is not built</h1>\
    <p>Build it with <code>npm --prefix web ci &amp;&amp; npm --prefix web run build</code>, then restart \
    the hub. The API is available under /api/v1 and documented at /docs.</p>";

pub fn is_built() -> bool {
    Assets::get("index.html").is_some()
}

/// The router's fallback: API paths get a 404 problem, everything else the UI.
pub async fn fallback(State(state): State<AppState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let is_api = ["/api/", "/health/", "/metrics", "/docs"]
        .iter()
        .any(|p| path.starts_with(p));
    if is_api || !matches!(method, Method::GET | Method::HEAD) {
        return AppError::NotFound.into_response();
    }
    let file = path.trim_start_matches('/');
    if let Some(asset) = Assets::get(file).filter(|_| !file.is_empty()) {
        // Vite puts content hashes in names under assets/, so those never change.
        let cache = if file.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        return asset_response(asset, cache);
    }
    if file
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
    {
        return AppError::NotFound.into_response();
    }
    match Assets::get("index.html") {
        Some(index) => {
            let mut response = page(&state, &index.data);
            if path.starts_with(embed::EMBEDDED_PREFIX) {
                embed::allow_framing(&state, &mut response);
            }
            response
        }
        None => {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                NOT_BUILT,
            )
                .into_response();
            if path.starts_with(embed::EMBEDDED_PREFIX) {
                embed::allow_framing(&state, &mut response);
            }
            response
        }
    }
}

/// `index.html` with what the UI cannot know by itself: the path the hub is mounted
/// under (`<base>`, from `PUBLIC_URL`) and the Chatwoot origins it may talk to when framed.
fn page(state: &AppState, index: &[u8]) -> Response {
    let html = String::from_utf8_lossy(index);
    let origins = state.installations.all_origins().join(" ");
    let head = format!(
        "<head><base href=\"{}/\"><meta name=\"whatpro-chatwoot-origins\" content=\"{}\">",
        escape(state.config.base_path()),
        escape(&origins)
    );
    let html = html.replacen("<head>", &head, 1);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        html,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn asset_response(asset: rust_embed::EmbeddedFile, cache: &'static str) -> Response {
    let mime = asset.metadata.mimetype();
    let mut response = Response::new(Body::from(asset.data.into_owned()));
    if let Ok(value) = HeaderValue::from_str(mime) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
