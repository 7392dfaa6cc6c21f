//! From a chat call to a request ready to send (and re-send): where it goes, its body, its ids.

use bytes::Bytes;
use oci_auth::{Auth, SharedEnv};

use crate::call::{ChatCall, check_compartment, set_streaming};
use crate::endpoint::{RegionSettings, resolve_endpoint};
use crate::error::{Error, RequestContext};
use crate::models::{BaseChatRequest, ChatDetails};

const CHAT_PATH: &str = "/20231130/actions/chat";

/// Where requests go: the configured region (through the auth), an explicit
/// region or service endpoint, and the environment for region tables.
#[derive(Debug)]
pub(crate) struct Routing {
    pub auth: Option<Auth>,
    pub explicit_region: Option<String>,
    pub service_endpoint: Option<String>,
    pub env: SharedEnv,
}

/// A request ready to send, and to send again on a retry.
#[derive(Debug)]
pub(crate) struct PreparedRequest {
    pub url: String,
    pub body: Bytes,
    pub context: RequestContext,
    /// Whether a stream will carry a usage event after its finish event.
    pub usage_requested: bool,
    pub opc_request_id: String,
    pub retry_token: String,
}

impl Routing {
    /// Checks the call, sets its stream flag, resolves its URL and serialises it.
    pub async fn prepare(&self, call: ChatCall, streaming: bool) -> Result<PreparedRequest, Error> {
        let ChatCall { serving, compartment_id, mut request } = call;
        check_compartment(&serving, &compartment_id)?;
        set_streaming(&mut request, streaming);
        let usage_requested = streaming && matches!(request, BaseChatRequest::Generic(_));
        let configured = match &self.auth {
            Some(auth) => auth.resolve_region().await?.map(|r| r.id().to_owned()),
            None => None,
        };
        let regions = RegionSettings { explicit: self.explicit_region.clone(), configured };
        let env = self.env.as_ref();
        let resolved = resolve_endpoint(self.service_endpoint.as_deref(), &regions, &serving, env)?;
        let context = RequestContext {
            model: Some(serving.id().to_owned()),
            dedicated: serving.is_dedicated(),
            region: resolved.region,
            endpoint_region: serving.endpoint_region(env).map(|r| r.id().to_owned()),
            compartment_id: Some(compartment_id.clone()),
        };
        let details = ChatDetails { compartment_id, serving_mode: serving.to_wire(), chat_request: request };
        let body = serde_json::to_vec(&details).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        Ok(PreparedRequest {
            url: format!("{}{CHAT_PATH}", resolved.url),
            body: Bytes::from(body),
            context,
            usage_requested,
            opc_request_id: random_id(),
            retry_token: random_id(),
        })
    }
}

/// 32 uppercase hex digits, as the SDKs make request ids.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
