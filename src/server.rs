//! Serving the application: connections accepted by hyper with limits a public service needs.

use std::{future::Future, sync::Arc, time::Duration};

use axum::body::Body;
use tokio::net::TcpListener;

use crate::{router::service, state::AppState};

/// Serves `state` on `listener` until `shutdown` completes, then lets requests in flight finish.
///
/// Connections are served by hyper directly rather than `axum::serve`, for two limits a public
/// service needs: a client must send its request headers within `CARETHREAD_HEADER_TIMEOUT_SECONDS`
/// (a slow sender cannot hold a connection open), and at most `CARETHREAD_MAX_CONNECTIONS` are
/// open at once (more wait in the listen queue until one closes).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    // The site settings saved in the browser, read at start without holding it up: until they
    // are read (or if the database cannot be reached yet) the first article read brings them.
    let (db, config) = (state.db.clone(), Arc::clone(&state.config));
    tokio::spawn(async move {
        if let Err(error) = crate::settings::service::refresh(&db, &config).await {
            tracing::warn!(%error, "could not read the site settings yet");
        }
    });
    let header_timeout = state.config.header_timeout;
    let open = Arc::new(tokio::sync::Semaphore::new(state.config.max_connections));
    let app = service(state);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&open).acquire_owned() => permit.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%error, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service =
            app.clone()
                .map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                    request.map(Body::new)
                });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(
                TokioIo::new(stream),
                hyper_util::service::TowerToHyperService::new(service),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or is too slow ends only its own connection.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
