//! An OpenAI-compatible gateway to OCI Generative AI.
//!
//! OCI's own OpenAI-compatible API serves neither dedicated endpoints nor
//! Cohere R models. This gateway speaks OpenAI's chat completions (streamed
//! or not, with tools and usage), embeddings and model list on one side, and
//! signs native OCI calls with the machine's credentials on the other, so
//! any OpenAI client reaches every model locus-rs reaches.
//!
//! ```no_run
//! use std::time::Duration;
//! use locus_gateway::{Gateway, GatewayConfig};
//! # async fn run(client: oci_genai_transport::GenAiClient) -> Result<(), Box<dyn std::error::Error>> {
//! let config = GatewayConfig { compartment_id: Some("ocid1.compartment.oc1..example".into()), ..Default::default() };
//! let gateway = Gateway::start(config, client).await?;
//! println!("OpenAI base URL: {}/v1", gateway.url());
//! tokio::signal::ctrl_c().await?;
//! // Stop accepting; answers in flight get 30 s to finish.
//! let report = gateway.shutdown(Duration::from_secs(30)).await;
//! println!("{} connection(s) cut", report.cut);
//! # Ok(()) }
//! ```
//!
//! Guardrails ([`GatewayConfig::guard`], per alias [`RouteGuard`]) screen
//! the newest user and tool messages (a block is a 400 `guardrail_blocked`)
//! and the answer (a block empties it, finish reason `content_filter`).
//!
//! What a gateway refuses, and its bounds, are in [`GatewayConfig`] and
//! docs/serve.md ("Security").

#![deny(missing_docs)]

mod access;
mod catalog;
mod config;
mod error;
mod listener;
mod routes;
mod screening;
mod server;
mod state;
pub mod translate;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub use config::{Alias, GatewayConfig, RouteGuard};
pub use error::GatewayError;
pub use listener::ShutdownReport;
use oci_genai_transport::GenAiClient;

/// Starts gateways.
#[derive(Debug, Clone, Copy)]
pub struct Gateway;

/// A running gateway; dropping it stops it at once (see [`shutdown`](Self::shutdown) for a graceful stop).
#[derive(Debug)]
pub struct RunningGateway {
    address: SocketAddr,
    url: String,
    stop: listener::Stop,
    task: Option<tokio::task::JoinHandle<ShutdownReport>>,
}

impl RunningGateway {
    /// Its base URL (`http://127.0.0.1:8080`); OpenAI clients take `<url>/v1`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Stops accepting connections, closes idle ones, and lets answers in
    /// flight (streams included) finish within `drain`; what is still open
    /// then is closed.
    pub async fn shutdown(mut self, drain: Duration) -> ShutdownReport {
        let _ = self.stop.drain.send(Some(drain));
        match self.task.take() {
            Some(task) => task.await.unwrap_or_default(),
            None => ShutdownReport::default(),
        }
    }
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        if self.task.is_some() {
            // Not shut down: the accept loop stops and cuts its connections at once.
            let _ = self.stop.drain.send(Some(Duration::ZERO));
        }
    }
}

/// Why a gateway could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is refused (see [`GatewayConfig::check`]).
    #[error("{0}")]
    Refused(String),
    /// The address could not be listened on.
    #[error("cannot listen on {address}: {source}{}", if source.kind() == std::io::ErrorKind::AddrInUse { " (another program listens there: stop it, or choose another address with --listen)" } else { "" })]
    Listen {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl Gateway {
    /// Listens on `config.listen` (refused off loopback without client keys)
    /// and serves until the returned handle is shut down or dropped.
    pub async fn start(mut config: GatewayConfig, client: GenAiClient) -> Result<RunningGateway, StartError> {
        config.check().map_err(StartError::Refused)?;
        let listen = |source| StartError::Listen { address: config.listen, source };
        let listener = bind(config.listen).map_err(listen)?;
        let address = listener.local_addr().map_err(listen)?;
        // Port 0 became a port: requests name that one.
        config.listen = address;
        let state = Arc::new(state::State {
            calls: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_calls.max(1))),
            config,
            client,
            access: access::Access::default(),
            catalog: catalog::Catalog::default(),
        });
        let (drain, stopped) = tokio::sync::watch::channel(None);
        let task = tokio::spawn(listener::accept_loop(listener, state, stopped));
        Ok(RunningGateway {
            address,
            url: format!("http://{address}"),
            stop: listener::Stop { drain },
            task: Some(task),
        })
    }
}

/// Connections the kernel queues before they are accepted: above the usual
/// 1,024, so a burst of clients waits instead of having its SYNs dropped.
const LISTEN_BACKLOG: u32 = 4096;

fn bind(address: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if address.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // A restarted gateway binds at once, past the last one's connections in TIME_WAIT (a busy port is still refused).
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}
