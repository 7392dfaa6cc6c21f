//! Accepting connections within bounds: a cap on connections (past it,
//! new ones wait in the kernel's backlog), a timer for slow and idle
//! clients, a pause after accept errors (no spinning when file descriptors
//! run out), and a graceful stop that lets answers in flight finish.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::server;
use crate::state::State;

/// The longest pause after repeated accept errors.
const MAX_ACCEPT_PAUSE: Duration = Duration::from_secs(1);

/// Tells the accept loop to stop, giving answers in flight `Some(drain)` to
/// finish; what is still open after it is closed.
#[derive(Debug)]
pub(crate) struct Stop {
    pub drain: watch::Sender<Option<Duration>>,
}

/// What a stop found: connections still open at the drain deadline were cut.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Connections that finished their answers and closed within the drain.
    pub drained: usize,
    /// Connections still busy at the deadline, closed.
    pub cut: usize,
}

/// Accepts until told to stop, then drains.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    mut stop: watch::Receiver<Option<Duration>>,
) -> ShutdownReport {
    let connections = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let (cut, _) = watch::channel(false);
    let mut pause = Duration::ZERO;
    let mut http = hyper::server::conn::http1::Builder::new();
    // hyper's header timer runs from the moment a connection waits for a head: slow heads and idle
    // keep-alive connections alike.
    http.timer(TokioTimer::new()).header_read_timeout(state.config.header_timeout);
    let stopped = |stop: &watch::Receiver<Option<Duration>>| *stop.borrow();
    let drain = loop {
        if let Some(drain) = stopped(&stop) {
            break drain;
        }
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit,
            _ = stop.changed() => continue,
        };
        let Ok(permit) = permit else { continue };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.changed() => continue,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                pause = Duration::ZERO;
                accepted
            }
            Err(error) => {
                // Out of file descriptors (or memory): pause, growing, instead of spinning on the error.
                pause = (pause * 2).clamp(Duration::from_millis(5), MAX_ACCEPT_PAUSE);
                if pause == MAX_ACCEPT_PAUSE || pause == Duration::from_millis(5) {
                    tracing::warn!("cannot accept a connection: {error}; pausing {} ms", pause.as_millis());
                }
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let served = Arc::clone(&state);
        let service = hyper::service::service_fn(move |request| server::handle(Arc::clone(&served), request, peer));
        let (http, watcher, header_timeout) = (http.clone(), graceful.watcher(), state.config.header_timeout);
        let (mut cut, mut stopping) = (cut.subscribe(), stop.clone());
        let task = async move {
            // hyper takes its buffers (some 16 KiB) as it starts: a connection that sends nothing costs only this
            // task. A peek, since `readable` may wake without data.
            let mut first = [0u8; 1];
            let spoke = tokio::select! {
                peeked = tokio::time::timeout(header_timeout, stream.peek(&mut first)) => matches!(peeked, Ok(Ok(1..))),
                _ = stopping.wait_for(Option::is_some) => false,
            };
            if spoke {
                // Boxed: the task of a connection still waiting for its first byte stays small.
                Box::pin(async move {
                    tokio::select! {
                        _ = watcher.watch(http.serve_connection(TokioIo::new(stream), service)) => {}
                        _ = cut.wait_for(|cut| *cut) => {}
                    }
                })
                .await;
            }
            drop(permit);
        };
        tokio::spawn(task);
    };
    drop(listener);
    let open = graceful.count();
    let drained = tokio::time::timeout(drain, graceful.shutdown()).await.is_ok();
    let still_open = state.config.max_connections.max(1) - connections.available_permits();
    let _ = cut.send(true);
    if drained {
        ShutdownReport { drained: open, cut: 0 }
    } else {
        tracing::warn!("{still_open} connection(s) still busy after the {} s drain were closed", drain.as_secs());
        ShutdownReport { drained: open.saturating_sub(still_open), cut: still_open }
    }
}
