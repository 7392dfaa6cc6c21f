//! Starting an emulator, and the handle that keeps it running.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use oci_auth::verify::PublicKey;

use crate::config::EmulatorConfig;
use crate::server;

/// Starts emulators.
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// Serves `config` on an ephemeral port of 127.0.0.1.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<RunningEmulator> {
        Self::start_on(config, 0).await
    }

    /// Serves `config` on `port` of 127.0.0.1 (0: any free port).
    pub async fn start_on(config: EmulatorConfig, port: u16) -> std::io::Result<RunningEmulator> {
        let listener = tokio::net::TcpListener::bind(crate::state::loopback(port)).await?;
        let address = listener.local_addr()?;
        let state = Arc::new(crate::state::State::new(config)?);
        let task = tokio::spawn(server::serve(listener, Arc::clone(&state)));
        Ok(RunningEmulator { url: format!("http://{address}"), state, task })
    }
}

/// A running emulator; dropping it stops it.
pub struct RunningEmulator {
    url: String,
    state: Arc<crate::state::State>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator").field("url", &self.url).finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// The base URL, to use as the client's service endpoint.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The configuration served.
    pub fn config(&self) -> &EmulatorConfig {
        &self.state.config
    }

    /// Accepts signatures by `key` under `key_id` (an API key id, or `ST$<token>`).
    pub fn register_key(&self, key_id: impl Into<String>, key: PublicKey) {
        self.state.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key_id.into(), key);
    }

    /// Registers `key` as `user`'s API key in the emulated tenancy; returns the key id.
    pub fn register_api_key(&self, user: &str, key: &oci_auth::PrivateKey) -> String {
        let key_id = format!("{}/{user}/{}", self.state.config.tenancy, key.fingerprint());
        if let Ok(public) = PublicKey::from_spki_der(key.public_key_der()) {
            self.register_key(key_id.clone(), public);
        }
        key_id
    }

    /// How many requests arrived.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
