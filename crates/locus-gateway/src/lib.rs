//! An OpenAI-compatible gateway to OCI Generative AI.
//!
//! OCI's own OpenAI-compatible API serves neither dedicated endpoints nor
//! Cohere R models. This gateway speaks OpenAI's chat completions (streamed
//! or not, with tools and usage), embeddings and model list on one side, and
//! signs native OCI calls with the machine's credentials on the other, so
//! any OpenAI client reaches every model locus-rs reaches.
//!
//! ```no_run
//! use locus_gateway::{Gateway, GatewayConfig};
//! # async fn run(client: oci_genai_transport::GenAiClient) -> Result<(), Box<dyn std::error::Error>> {
//! let config = GatewayConfig { compartment_id: Some("ocid1.compartment.oc1..example".into()), ..Default::default() };
//! let gateway = Gateway::start(config, client).await?;
//! println!("OpenAI base URL: {}/v1", gateway.url());
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

mod config;
mod error;
mod server;
pub mod translate;

use std::sync::{Arc, Mutex};

pub use config::{Alias, GatewayConfig};
pub use error::GatewayError;
use oci_genai_transport::GenAiClient;

/// Starts gateways.
#[derive(Debug, Clone, Copy)]
pub struct Gateway;

/// A running gateway; dropping it stops it.
#[derive(Debug)]
pub struct RunningGateway {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl RunningGateway {
    /// Its base URL (`http://127.0.0.1:8080`); OpenAI clients take `<url>/v1`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for RunningGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Gateway {
    /// Listens on `config.listen` (refused off loopback without client keys)
    /// and serves until the returned handle is dropped.
    pub async fn start(config: GatewayConfig, client: GenAiClient) -> Result<RunningGateway, std::io::Error> {
        config.check().map_err(|e| std::io::Error::new(std::io::ErrorKind::PermissionDenied, e))?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(server::State {
            streams: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_streams.max(1))),
            config,
            client,
            rates: Mutex::default(),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| server::handle(Arc::clone(&state), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(RunningGateway { url, task })
    }
}
