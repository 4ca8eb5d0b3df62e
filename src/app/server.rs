//! Assembles the router and its middleware, and serves it with a bounded graceful
//! shutdown. Tests call [`serve`] with a port-0 listener.

use std::{net::SocketAddr, time::Duration};

use axum::serve::ListenerExt;
use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderName, Method, StatusCode, header},
    middleware::{Next, from_fn, from_fn_with_state},
    response::Response,
    routing::get,
};
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    timeout::TimeoutLayer,
};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::{
    app::{ApiDoc, config::Config, headers, health, openapi, state::AppState, web},
    audit, auth, billing, chat, chatwoot, entitlements, inbound, kanban, metering,
    platform::{client::ClientMeta, clock, db::Db, metrics, request_id, telemetry},
    providers, realtime, tenancy,
};

/// Every documented route. The OpenAPI document is built from exactly this.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(auth::sessions::router())
        .merge(auth::sso::router())
        .merge(auth::instance_tokens::router())
        .merge(chatwoot::installations::router())
        .merge(chatwoot::platform_app::router())
        .merge(chatwoot::connection::router())
        .merge(chatwoot::inboxes::router())
        .merge(chatwoot::webhooks::router())
        .merge(inbound::router())
        .merge(kanban::router())
        .merge(realtime::router())
        .merge(tenancy::router())
        .merge(auth::sessions::admin_router())
        .merge(auth::api_keys::router())
        .merge(entitlements::router())
        .merge(billing::router())
        .merge(providers::router())
        .merge(chat::router())
        .merge(audit::router())
}

pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

/// Paths Chatwoot's page calls from its own origin (the dashboard script: tokens, its
/// config and the chat badge).
const EMBEDDING_PATHS: [&str; 2] = ["/api/v1/instance-tokens", "/api/v1/platform-app/"];

/// `CORS_ORIGINS` may call everything; a Chatwoot dashboard origin only what the dashboard
/// script needs.
fn cors(state: &AppState) -> CorsLayer {
    let listed = state.config.cors_origins.clone();
    let installations = state.installations.clone();
    let allow = AllowOrigin::predicate(move |origin, request| {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        listed.iter().any(|o| o == origin)
            || (EMBEDDING_PATHS
                .iter()
                .any(|p| request.uri.path().starts_with(p))
                && installations.is_chatwoot_origin(origin))
    });
    let request_id = request_id::X_REQUEST_ID.clone();
    CorsLayer::new()
        .allow_origin(allow)
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            request_id.clone(),
        ])
        .expose_headers([
            request_id,
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
        ])
        .max_age(Duration::from_secs(600))
}

pub fn router(state: AppState) -> Router {
    let config = &state.config;
    let (api, document) = api_routes().split_for_parts();
    let middleware = ServiceBuilder::new()
        // request id → timing, metrics and the request log line
        .layer(from_fn(request_id::middleware))
        // security headers ← problem+json for bare errors
        .layer(from_fn_with_state(state.clone(), headers::security_headers))
        .layer(cors(&state))
        // client address → bearer credential → rate limit
        .layer(from_fn_with_state(state.clone(), who_is_calling))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(CatchPanicLayer::custom(headers::panic_response))
        // the handler, as its own task: never cancelled half way (see `detached`)
        .layer(from_fn(request_id::detached));
    Router::new()
        .merge(api)
        .route("/metrics", get(metrics::render))
        .route(
            "/embed/dashboard-script.js",
            get(chatwoot::embed::dashboard_script),
        )
        .merge(openapi::docs(document))
        .route_layer(from_fn(metrics::record_route))
        .fallback(web::fallback)
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(middleware)
        .with_state(state)
}

/// What processes each source's inbound deliveries, and who consumes Chatwoot's events.
fn handlers() -> inbound::Handlers {
    let chatwoot = chatwoot::webhooks::FromChatwoot::new()
        .consumer(kanban::follow::FollowsChatwoot)
        .consumer(metering::Metering);
    inbound::Handlers::default()
        .with(inbound::FROM_CHATWOOT, chatwoot)
        .with(inbound::FROM_HUB, kanban::writeback::HubJobs)
        .with(inbound::FROM_ASAAS, billing::webhooks::FromAsaas)
        .with(inbound::FROM_PROVIDERS, providers::webhooks::FromProviders)
}

/// Who is calling, in one layer: the client's address and agent, then the bearer credential
/// (`auth::middleware`), then the rate limit that depends on both.
async fn who_is_calling(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let client = ClientMeta::of(&req, &state.config.trusted_proxies);
    req.extensions_mut().insert(client);
    auth::middleware(State(state), req, next).await
}

/// Serves until `shutdown` fires, then stops accepting, lets in-flight requests finish
/// for at most `SHUTDOWN_TIMEOUT_SECS`, and stops background tasks.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let drain_limit = state.config.shutdown_timeout;
    let tasks = TaskTracker::new();
    tasks.spawn(state.db.clone().keep_checkpointed(shutdown.clone()));
    tasks.spawn(housekeeping(state.clone(), shutdown.clone()));
    tasks.spawn(inbound::worker::run(
        state.clone(),
        handlers(),
        shutdown.clone(),
    ));
    let announcements = realtime::listener(&state.db).await;
    tasks.spawn(realtime::run(
        state.clone(),
        announcements,
        shutdown.clone(),
    ));
    tasks.spawn(kanban::reconcile::keep_reconciled(
        state.clone(),
        state.config.reconcile_every,
        shutdown.clone(),
    ));
    tasks.spawn(billing::keep_in_step(state.clone(), shutdown.clone()));
    tasks.spawn(providers::health::watch(state.clone(), shutdown.clone()));
    tasks.spawn(chat::search::index::keep_up(
        state.db.clone(),
        shutdown.clone(),
    ));
    tasks.close();

    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Realtime frames are small and latency-bound: Nagle's delay would hold each one back
    // waiting for the previous one's acknowledgement (measured: fan-out p99 ~120 ms with it,
    // ~40 ms without; ../shared/chat/NOTES.md §3.2).
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY not set");
        }
    });
    let server =
        axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(drain_limit).await;
    };
    tokio::select! {
        result = server.into_future() => result?,
        () = deadline => tracing::warn!("shutdown: in-flight requests did not finish in time; stopping anyway"),
    }
    tasks.wait().await;
    Ok(())
}

/// Once a minute: forget idle rate-limit buckets, pick up installation changes made on
/// other replicas, purge long-expired instance tokens and webhook deliveries processed
/// more than 30 days ago.
async fn housekeeping(state: AppState, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    for minute in 0u64.. {
        tokio::select! {
            _ = tick.tick() => {},
            () = shutdown.cancelled() => return,
        }
        // Hourly, from the first minute.
        if minute % 60 == 0
            && let Err(err) = chat::retention::apply_all(&state.db).await
        {
            tracing::warn!(error = %err, "applying chat retention failed");
        }
        state.rate_limits.forget_idle();
        if let Err(err) = state.installations.reload(&state.db).await {
            tracing::warn!(error = %err, "reloading Chatwoot installations failed");
        }
        if let Err(err) = auth::attempts::purge(&state.db).await {
            tracing::warn!(error = %err, "purging old sign-in attempt counters failed");
        }
        let day_ago = clock::now() - time::Duration::days(1);
        if let Err(err) = auth::instance_tokens::store::purge_expired(&state.db, day_ago).await {
            tracing::warn!(error = %err, "purging expired instance tokens failed");
        }
        if let Err(err) = realtime::purge_expired_tickets(&state.db, day_ago).await {
            tracing::warn!(error = %err, "purging expired realtime tickets failed");
        }
        let month_ago = clock::now() - time::Duration::days(30);
        // At most 20 s of each minute: a large backlog goes over several minutes.
        let budget = Duration::from_secs(20);
        if let Err(err) = inbound::store::purge_done(&state.db, month_ago, budget).await {
            tracing::warn!(error = %err, "purging processed webhook deliveries failed");
        }
        let stale = clock::now() - chat::attachments::UNSENT_KEPT;
        if let Err(err) = chat::attachments::purge_unsent(&state.db, &state.chat_files, stale).await
        {
            tracing::warn!(error = %err, "purging chat uploads never sent failed");
        }
        let last_month = metering::month_of(clock::now() - time::Duration::days(31));
        if let Err(err) = metering::store::purge_before(&state.db, &last_month).await {
            tracing::warn!(error = %err, "purging counted message ids failed");
        }
    }
}

/// `whatpro-hub serve`: configuration, logs, database, then the server until SIGTERM/SIGINT.
/// With `demo`, an in-process Chatwoot simulator stands in for `CHATWOOT_URL`.
pub async fn run(mut config: Config, demo: bool) -> anyhow::Result<()> {
    let telemetry = telemetry::init(config.log_format, config.otlp_endpoint.as_deref())?;
    metrics::install();
    let demo = match demo {
        true => Some(super::demo::start(&mut config).await?),
        false => None,
    };
    let db = Db::connect(&config.database_url, config.database_max_connections).await?;
    db.migrate().await?;
    let listener = TcpListener::bind((config.host, config.port)).await?;
    tracing::info!(
        address = %listener.local_addr()?,
        engine = ?db.engine(),
        environment = ?config.environment,
        ui_built = web::is_built(),
        "whatpro-hub listening"
    );
    if !web::is_built() {
        tracing::warn!(
            "the web UI is not built: npm --prefix web ci && npm --prefix web run build"
        );
    }
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let state = AppState::new(db.clone(), config).await?;
    if let Some(demo) = &demo {
        demo.connect(&state).await?;
    }
    serve(state, listener, shutdown).await?;
    db.close().await;
    tracing::info!("whatpro-hub stopped");
    telemetry.shutdown();
    Ok(())
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; draining");
    shutdown.cancel();
}
