//! What a gateway serves, where, and its bounds.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use locus_providers::ApiFormat;
use oci_auth::Secret;
use oci_genai_transport::Transport;

/// A model name clients may use instead of an OCI id.
#[derive(Debug, Clone, Default)]
pub struct Alias {
    /// The OCI model id or endpoint OCID.
    pub model: String,
    /// Its compartment (default: the gateway's).
    pub compartment_id: Option<String>,
    /// The native request shape.
    pub api_format: Option<ApiFormat>,
    /// The transport.
    pub transport: Option<Transport>,
}

/// The gateway's settings. Defaults: 127.0.0.1:8080, no keys (then only a
/// loopback address is allowed), 4 MiB bodies, 256 concurrent streams, no
/// per-key rate limit.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Client API keys (`Authorization: Bearer …`); required off loopback.
    pub api_keys: Vec<Secret>,
    /// The largest request body.
    pub max_body_bytes: usize,
    /// Streams at once; more get 429.
    pub max_concurrent_streams: usize,
    /// Requests per minute per key (or per client without keys); more get 429.
    pub requests_per_minute: Option<u32>,
    /// The compartment of models without one of their own.
    pub compartment_id: Option<String>,
    /// Named models.
    pub aliases: BTreeMap<String, Alias>,
    /// The model `/v1/embeddings` uses when the request names none it knows.
    pub embedding_model: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            api_keys: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
            max_concurrent_streams: 256,
            requests_per_minute: None,
            compartment_id: None,
            aliases: BTreeMap::new(),
            embedding_model: "cohere.embed-english-v3.0".into(),
        }
    }
}

impl GatewayConfig {
    /// A listen address other than loopback needs client keys: a gateway
    /// signs with the machine's OCI credentials, so an open one would lend them out.
    pub fn check(&self) -> Result<(), String> {
        if !self.listen.ip().is_loopback() && self.api_keys.is_empty() {
            return Err(format!(
                "refusing to listen on {} without client API keys: give a file of keys (--api-keys FILE), or listen \
                 on 127.0.0.1",
                self.listen
            ));
        }
        Ok(())
    }
}
