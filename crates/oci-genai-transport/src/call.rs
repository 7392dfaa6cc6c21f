//! One chat call, as types: what serves it, where, and the request.

use crate::error::Error;
use crate::models::BaseChatRequest;
use crate::serving::ServingMode;

/// A chat call: the model or endpoint that serves it, the compartment it is
/// made in, and the request in the model's shape (GENERIC, COHERE, …).
///
/// The client sets the stream flag itself — [`GenAiClient::chat`](crate::GenAiClient::chat)
/// clears it, [`chat_stream`](crate::GenAiClient::chat_stream) sets it and
/// asks a GENERIC model for usage — so a request is built once for both.
///
/// ```
/// use oci_genai_transport::{models, ChatCall, ServingMode};
/// let call = ChatCall::new(
///     ServingMode::from_model_id("meta.llama-3.3-70b-instruct")?,
///     "ocid1.compartment.oc1..example",
///     models::BaseChatRequest::Generic(models::GenericChatRequest::default()),
/// );
/// assert!(!call.serving.is_dedicated());
/// # Ok::<(), oci_genai_transport::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ChatCall {
    /// The on-demand model or dedicated endpoint.
    pub serving: ServingMode,
    /// The compartment (a dedicated endpoint's own).
    pub compartment_id: String,
    /// The request, in the model's shape.
    pub request: BaseChatRequest,
}

impl ChatCall {
    /// A call to `serving` in `compartment_id`.
    pub fn new(serving: ServingMode, compartment_id: impl Into<String>, request: BaseChatRequest) -> Self {
        ChatCall { serving, compartment_id: compartment_id.into(), request }
    }
}

/// A call to the OpenAI-compatible API: the request (whose `model` is the
/// OCI model name) and the compartment it is made in, sent as the
/// `opc-compartment-id` header. Signed calls need the compartment; calls
/// authenticated with a Generative AI API key may go without.
///
/// ```
/// use oci_genai_transport::OpenAiCall;
/// use oci_genai_transport::openai::chat_completions::{ChatCompletionRequest, ChatMessage, Content};
/// let call = OpenAiCall::new(ChatCompletionRequest {
///     model: "openai.gpt-5".into(),
///     messages: vec![ChatMessage::User { content: Content::Text("Hi".into()), name: None }],
///     ..Default::default()
/// })
/// .compartment_id("ocid1.compartment.oc1..example");
/// assert_eq!(call.compartment_id.as_deref(), Some("ocid1.compartment.oc1..example"));
/// ```
#[derive(Debug, Clone)]
pub struct OpenAiCall<R> {
    /// The compartment (`opc-compartment-id`).
    pub compartment_id: Option<String>,
    /// The model's serving mode, when the caller has it already (else it is
    /// read from the request's `model`, once).
    pub serving: Option<ServingMode>,
    /// The request.
    pub request: R,
}

impl<R> OpenAiCall<R> {
    /// A call of `request`, without a compartment yet.
    pub fn new(request: R) -> Self {
        OpenAiCall { compartment_id: None, serving: None, request }
    }

    /// The model's serving mode, as the caller already decided it: the
    /// request's `model` must be its id (else the call is refused as invalid).
    pub fn serving_mode(mut self, serving: ServingMode) -> Self {
        self.serving = Some(serving);
        self
    }

    /// The compartment.
    pub fn compartment_id(mut self, compartment_id: impl Into<String>) -> Self {
        self.compartment_id = Some(compartment_id.into());
        self
    }
}

/// The service needs a compartment for every call; a dedicated endpoint's
/// must be the endpoint's own. Checked before anything is sent (and by
/// anything that builds calls, to fail early).
///
/// ```
/// use oci_genai_transport::{check_compartment, ServingMode};
/// let dac = ServingMode::from_model_id("ocid1.generativeaiendpoint.oc1.iad.x")?;
/// assert!(check_compartment(&dac, " ").unwrap_err().to_string().contains("compartment of the endpoint"));
/// assert!(check_compartment(&dac, "ocid1.compartment.oc1..c").is_ok());
/// # Ok::<(), oci_genai_transport::Error>(())
/// ```
pub fn check_compartment(serving: &ServingMode, compartment_id: &str) -> Result<(), Error> {
    if compartment_id.trim().is_empty() {
        return Err(Error::MissingCompartment { dedicated: serving.is_dedicated() });
    }
    Ok(())
}

/// Sets the stream flag, and for GENERIC the usage option, on whatever shape this is.
pub(crate) fn set_streaming(request: &mut BaseChatRequest, on: bool) {
    let flag = on.then_some(true);
    match request {
        BaseChatRequest::Generic(r) => {
            r.is_stream = flag;
            r.stream_options = on.then_some(crate::models::StreamOptions { is_include_usage: Some(true) });
        }
        BaseChatRequest::Cohere(r) => r.is_stream = flag,
        BaseChatRequest::CohereV2(r) => {
            r.is_stream = flag;
            r.stream_options = on.then_some(crate::models::StreamOptions { is_include_usage: Some(true) });
        }
        BaseChatRequest::Unknown(serde_json::Value::Object(map)) => {
            match flag {
                Some(v) => map.insert("isStream".into(), v.into()),
                None => map.remove("isStream"),
            };
        }
        BaseChatRequest::Unknown(_) => {}
    }
}
