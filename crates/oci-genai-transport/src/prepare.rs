//! From a chat call to a request ready to send (and re-send): where it goes, its body, its ids.

use bytes::Bytes;
use oci_auth::{Auth, SharedEnv};

use crate::call::{ChatCall, check_compartment, set_streaming};
use crate::end::StreamEnd;
use crate::endpoint::{RegionSettings, ResolvedEndpoint, resolve_endpoint};
use crate::error::{Error, RequestContext};
use crate::models::{BaseChatRequest, ChatDetails};
use crate::serving::ServingMode;
use crate::transport::Transport;

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
    /// `POST` (inference) or `GET` (the management API's listings).
    pub method: &'static str,
    pub url: String,
    pub body: Bytes,
    /// Which API: a GenAI API key authenticates only the OpenAI-compatible one.
    pub transport: Transport,
    /// Headers beyond the common ones (`opc-compartment-id`, `OpenAI-Project`).
    pub headers: Vec<(&'static str, String)>,
    pub context: RequestContext,
    /// How a stream of this request ends.
    pub end: StreamEnd,
    pub opc_request_id: String,
    pub retry_token: String,
}

impl PreparedRequest {
    /// A request of the native API (an action, a listing): no headers of its
    /// own, fresh ids, and, were it streamed, the native stream's end.
    fn native(method: &'static str, url: String, body: Vec<u8>, context: RequestContext) -> Self {
        PreparedRequest {
            method,
            url,
            body: Bytes::from(body),
            transport: Transport::Native,
            headers: Vec::new(),
            context,
            end: StreamEnd::Native { usage_requested: false },
            opc_request_id: random_id(),
            retry_token: random_id(),
        }
    }
}

/// An OpenAI-compatible request before it is routed.
pub(crate) struct OpenAiRequest<'a> {
    pub transport: Transport,
    pub serving: ServingMode,
    pub compartment_id: Option<&'a str>,
    pub project_id: Option<&'a str>,
    /// The path on the inference host (`/openai/v1/…`).
    pub path: &'a str,
    pub body: Vec<u8>,
    pub streaming: bool,
}

impl Routing {
    /// Checks the call, sets its stream flag, resolves its URL and serialises it.
    pub async fn prepare(&self, call: ChatCall, streaming: bool) -> Result<PreparedRequest, Error> {
        let ChatCall { serving, compartment_id, mut request } = call;
        set_streaming(&mut request, streaming);
        let usage_requested =
            streaming && matches!(request, BaseChatRequest::Generic(_) | BaseChatRequest::CohereV2(_));
        let details = ChatDetails {
            compartment_id: compartment_id.clone(),
            serving_mode: serving.to_wire(),
            chat_request: request,
        };
        let body = serde_json::to_vec(&details).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let mut prepared = self.prepare_action(Transport::Native.chat_path(), &serving, &compartment_id, body).await?;
        prepared.end = StreamEnd::Native { usage_requested };
        Ok(prepared)
    }

    /// Routes an OpenAI-compatible request: refused before sending when the
    /// transport cannot serve the model; the compartment and project travel
    /// as headers.
    pub async fn prepare_openai(&self, request: OpenAiRequest<'_>) -> Result<PreparedRequest, Error> {
        let serving = request.serving;
        request.transport.check(&serving)?;
        let resolved = self.resolve(&serving).await?;
        let mut headers = Vec::new();
        if let Some(compartment) = request.compartment_id.filter(|c| !c.trim().is_empty()) {
            headers.push(("opc-compartment-id", compartment.trim().to_owned()));
        }
        if let Some(project) = request.project_id.filter(|p| !p.trim().is_empty()) {
            headers.push(("openai-project", project.trim().to_owned()));
        }
        let context = RequestContext {
            model: Some(serving.id().to_owned()),
            dedicated: false,
            region: resolved.region,
            endpoint_region: None,
            compartment_id: request.compartment_id.map(str::to_owned),
        };
        let end = match request.transport {
            Transport::Responses => StreamEnd::Responses,
            _ => StreamEnd::ChatCompletions { usage_requested: request.streaming },
        };
        Ok(PreparedRequest {
            method: "POST",
            url: format!("{}{}", resolved.url, request.path),
            body: Bytes::from(request.body),
            transport: request.transport,
            headers,
            context,
            end,
            opc_request_id: random_id(),
            retry_token: random_id(),
        })
    }

    /// Routes a native action (`chat`, `embedText`, `rerankText`): `body` is
    /// already the whole JSON (serving mode and compartment in it).
    pub async fn prepare_action(
        &self,
        path: &str,
        serving: &ServingMode,
        compartment_id: &str,
        body: Vec<u8>,
    ) -> Result<PreparedRequest, Error> {
        check_compartment(serving, compartment_id)?;
        let resolved = self.resolve(serving).await?;
        let context = RequestContext {
            model: Some(serving.id().to_owned()),
            dedicated: serving.is_dedicated(),
            region: resolved.region,
            endpoint_region: resolved.endpoint_region,
            compartment_id: Some(compartment_id.to_owned()),
        };
        Ok(PreparedRequest::native("POST", format!("{}{path}", resolved.url), body, context))
    }

    /// Routes a regional action that names no model (`applyGuardrails`): the
    /// explicit service endpoint, else the explicit or configured region's host.
    pub async fn prepare_regional(
        &self,
        path: &str,
        compartment_id: &str,
        body: Vec<u8>,
    ) -> Result<PreparedRequest, Error> {
        if compartment_id.trim().is_empty() {
            return Err(Error::MissingCompartment { dedicated: false });
        }
        // An on-demand mode picks the explicit or configured region, as any on-demand model does;
        // its name only appears in a missing-region error.
        let resolved = self.resolve(&ServingMode::OnDemand { model_id: path_action(path).to_owned() }).await?;
        let context = RequestContext {
            model: None,
            dedicated: false,
            region: resolved.region,
            endpoint_region: None,
            compartment_id: Some(compartment_id.to_owned()),
        };
        Ok(PreparedRequest::native("POST", format!("{}{path}", resolved.url), body, context))
    }

    /// A signed `GET` of the management API (`https://generativeai.<region>.oci.<domain>`,
    /// or the service endpoint when one is set), `path_and_query` under it.
    pub async fn prepare_management(&self, path_and_query: &str) -> Result<PreparedRequest, Error> {
        let region = match (&self.explicit_region, &self.auth) {
            (Some(region), _) => Some(region.clone()),
            (None, Some(auth)) => auth.resolve_region().await?.map(|r| r.id().to_owned()),
            (None, None) => None,
        };
        let base = match (&self.service_endpoint, &region) {
            (Some(endpoint), _) => endpoint.trim_end_matches('/').to_owned(),
            (None, Some(region)) => {
                let info = oci_auth::region::resolve(region, self.env.as_ref())?;
                format!("https://generativeai.{}.oci.{}", info.id(), info.second_level_domain())
            }
            (None, None) => return Err(Error::NoRegion { model: "the management API".into() }),
        };
        let context = RequestContext { region, ..Default::default() };
        Ok(PreparedRequest::native("GET", format!("{base}{path_and_query}"), Vec::new(), context))
    }

    /// The host for `serving`: the explicit endpoint, or the region's.
    pub(crate) async fn resolve(&self, serving: &ServingMode) -> Result<ResolvedEndpoint, Error> {
        let configured = match &self.auth {
            Some(auth) => auth.resolve_region().await?.map(|r| r.id().to_owned()),
            None => None,
        };
        let regions = RegionSettings { explicit: self.explicit_region.clone(), configured };
        resolve_endpoint(self.service_endpoint.as_deref(), &regions, serving, self.env.as_ref())
    }
}

/// `applyGuardrails` of `/20231130/actions/applyGuardrails`.
fn path_action(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// 32 uppercase hex digits, as the SDKs make request ids.
fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
