//! `/v1/models`: the aliases, and the region's on-demand chat models from
//! the management API, kept for a while so OpenAI clients' model pickers
//! are not empty and the service is not asked on every listing.

use std::time::{Duration, Instant};

use oci_genai_transport::GenAiClient;
use serde_json::{Value, json};

use crate::config::GatewayConfig;

/// After a failed listing, how long before the service is asked again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);

/// The last listing of the region's models.
#[derive(Debug, Default)]
pub(crate) struct Catalog {
    /// When it was listed, and the model names (empty after a failure).
    listed: tokio::sync::Mutex<Option<(Instant, Duration, Vec<String>)>>,
}

impl Catalog {
    /// The region's on-demand chat model names: cached, listed again when
    /// stale (one listing at a time), and none when listing failed — a
    /// warning says why, and the aliases are still served.
    async fn region_models(&self, config: &GatewayConfig, client: &GenAiClient) -> Vec<String> {
        let (Some(ttl), Some(compartment)) = (config.model_list_ttl, config.compartment_id.as_deref()) else {
            return Vec::new();
        };
        let mut listed = self.listed.lock().await;
        if let Some((at, keep, names)) = listed.as_ref()
            && at.elapsed() < *keep
        {
            return names.clone();
        }
        let (keep, names) = match client.list_models(compartment, Some("CHAT")).await {
            Ok(models) => {
                let mut names: Vec<String> = models
                    .into_iter()
                    .filter(|m| {
                        m.kind.as_deref().is_none_or(|k| k == "BASE") && m.lifecycle_state.as_deref() != Some("DELETED")
                    })
                    .map(|m| m.display_name)
                    .collect();
                names.sort();
                names.dedup();
                (ttl, names)
            }
            Err(error) => {
                tracing::warn!(
                    "/v1/models lists the aliases only: the region's models could not be listed ({error}); trying \
                     again in {} s",
                    RETRY_AFTER_FAILURE.as_secs()
                );
                (RETRY_AFTER_FAILURE, Vec::new())
            }
        };
        *listed = Some((Instant::now(), keep, names.clone()));
        names
    }

    /// The `/v1/models` body: aliases first, then the region's models.
    pub(crate) async fn list(&self, config: &GatewayConfig, client: &GenAiClient) -> Value {
        let entry = |name: &str, owner: &str| json!({"id": name, "object": "model", "created": 0, "owned_by": owner});
        let mut data: Vec<Value> = config.aliases.keys().map(|name| entry(name, "locus")).collect();
        for name in self.region_models(config, client).await {
            if !config.aliases.contains_key(&name) {
                data.push(entry(&name, "oci"));
            }
        }
        json!({"object": "list", "data": data})
    }
}
