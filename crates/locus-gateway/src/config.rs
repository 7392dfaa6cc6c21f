//! What a gateway serves, where, and its bounds.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use locus_providers::ApiFormat;
use locus_providers::guard::GuardPolicy;
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
    /// Its guardrails: the gateway's (the default), none, or a policy of its own.
    pub guard: RouteGuard,
}

/// Whether an alias's requests are screened by guardrails.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum RouteGuard {
    /// As the gateway's [`GatewayConfig::guard`] says.
    #[default]
    Inherit,
    /// Not screened.
    Off,
    /// Screened with this policy.
    Policy(GuardPolicy),
}

/// The gateway's settings.
///
/// Defaults: 127.0.0.1:8080, no keys (then only a loopback address is
/// allowed, and only same-origin JSON requests are served), 4 MiB bodies,
/// 256 upstream calls at once, 16,384 connections, 10 s for a request head
/// (and for an idle keep-alive connection), 30 s for a body, 2,048
/// embedding inputs per request, no rate limit per client, and the
/// region's chat models listed for 10 minutes at a time.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Client API keys (`Authorization: Bearer …`); required off loopback.
    pub api_keys: Vec<Secret>,
    /// The largest request body.
    pub max_body_bytes: usize,
    /// Upstream calls at once, streamed or not; more get 429.
    pub max_concurrent_calls: usize,
    /// Client connections at once; past it, new connections wait to be accepted.
    pub max_connections: usize,
    /// How long a client may take to send a request head, counted from the
    /// connection's start or its previous answer: it bounds both a slow
    /// head and an idle keep-alive connection.
    pub header_timeout: Duration,
    /// How long a client may take to send a request body.
    pub body_timeout: Duration,
    /// Requests per minute per key (or per client address without keys); more get 429.
    pub requests_per_minute: Option<u32>,
    /// Inputs one `/v1/embeddings` request may carry (OpenAI's limit is 2,048).
    pub max_embedding_inputs: usize,
    /// The compartment of models without one of their own.
    pub compartment_id: Option<String>,
    /// Named models.
    pub aliases: BTreeMap<String, Alias>,
    /// The chat model of requests that name none.
    pub default_model: Option<String>,
    /// The transport of every model without an alias saying otherwise
    /// (default: chosen from the model id, as everywhere in locus-rs).
    pub transport: Option<Transport>,
    /// The native request shape of every model without an alias saying otherwise.
    pub api_format: Option<ApiFormat>,
    /// The model `/v1/embeddings` uses when the request names none it knows.
    pub embedding_model: String,
    /// How long `/v1/models` keeps the region's model list; `None`: list the aliases only.
    pub model_list_ttl: Option<Duration>,
    /// Guardrails on every chat route without an alias saying otherwise
    /// (`applyGuardrails` in the model's compartment; see `screening`). Default: none.
    pub guard: Option<GuardPolicy>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            api_keys: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
            max_concurrent_calls: 256,
            max_connections: 16_384,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            requests_per_minute: None,
            max_embedding_inputs: 2048,
            compartment_id: None,
            aliases: BTreeMap::new(),
            default_model: None,
            transport: None,
            api_format: None,
            embedding_model: "cohere.embed-english-v3.0".into(),
            model_list_ttl: Some(Duration::from_secs(600)),
            guard: None,
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
        if self.api_keys.iter().any(|k| k.expose().trim().is_empty()) {
            return Err("an empty client API key would let anyone in: remove it".into());
        }
        Ok(())
    }
}
