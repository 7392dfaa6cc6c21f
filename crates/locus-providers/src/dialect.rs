//! How an OCI chat model speaks each API: the native chat action (through
//! the model's request shape), chat completions, or Responses. Chosen once,
//! when the model is built, from its transport.

use oci_genai_transport::sse::SseEvent;
use oci_genai_transport::{self as transport, ChatCall, GenAiClient, OpenAiCall, ServingMode, Transport};

use crate::error::Error;
use crate::openai::{chat_completions, responses};
use crate::shape::{RequestShape, StreamState};
use crate::types::{ChatRequest, ChatResponse, ModelEvent};

/// What a dialect speaks to: the model as configured.
pub(crate) struct Target<'a> {
    pub client: &'a GenAiClient,
    pub shape: &'a dyn RequestShape,
    pub serving: &'a ServingMode,
    pub compartment_id: &'a str,
}

impl Target<'_> {
    /// A native call of `request`, in the model's request shape.
    fn call(&self, request: &ChatRequest) -> Result<ChatCall, Error> {
        let body = self.shape.build_request(request, self.serving)?;
        Ok(ChatCall::new(self.serving.clone(), self.compartment_id.to_owned(), body))
    }

    /// An OpenAI-compatible call of `request`, with the serving mode decided already.
    fn openai_call<R>(&self, request: R) -> OpenAiCall<R> {
        let call = OpenAiCall::new(request).serving_mode(self.serving.clone());
        match self.compartment_id.trim() {
            "" => call,
            compartment => call.compartment_id(compartment),
        }
    }

    /// A 400 from a dedicated endpoint sent the GENERIC shape is most often a Cohere model.
    pub(crate) fn with_shape_hint(&self, error: transport::Error) -> Error {
        if error.status() == Some(400) && self.serving.is_dedicated() && self.shape.name() == "GENERIC" {
            tracing::warn!(
                "the dedicated endpoint refused the GENERIC request shape; if it serves a Cohere model, set \
                 api_format(ApiFormat::Cohere) (locus chat --api-format cohere)"
            );
        }
        Error::Transport(error)
    }
}

/// One API's requests and replies, for an OCI chat model.
#[async_trait::async_trait]
pub(crate) trait Dialect: Send + Sync + std::fmt::Debug {
    /// The whole answer to `request`.
    async fn complete(&self, target: &Target<'_>, request: &ChatRequest) -> Result<ChatResponse, Error>;

    /// The stream of `request`, once its headers have come.
    async fn start_stream(&self, target: &Target<'_>, request: &ChatRequest) -> Result<transport::ChatStream, Error>;

    /// Appends the neutral events of one stream event.
    fn parse_event(
        &self,
        target: &Target<'_>,
        event: SseEvent,
        state: &mut StreamState,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), Error>;

    /// A whole JSON reply of this API, read as an answer.
    fn parse_whole(&self, target: &Target<'_>, body: &str) -> Option<ChatResponse>;
}

/// The dialect of `transport`.
pub(crate) fn for_transport(transport: Transport) -> &'static dyn Dialect {
    match transport {
        Transport::Native => &Native,
        Transport::ChatCompletions => &ChatCompletions,
        Transport::Responses => &Responses,
    }
}

/// The native chat action, in the model's request shape.
#[derive(Debug)]
struct Native;

#[async_trait::async_trait]
impl Dialect for Native {
    async fn complete(&self, target: &Target<'_>, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let result = target.client.chat(target.call(request)?).await.map_err(|e| target.with_shape_hint(e))?;
        target.shape.parse_response(result)
    }

    async fn start_stream(&self, target: &Target<'_>, request: &ChatRequest) -> Result<transport::ChatStream, Error> {
        Ok(target.client.chat_stream(target.call(request)?).await?)
    }

    fn parse_event(
        &self,
        target: &Target<'_>,
        event: SseEvent,
        state: &mut StreamState,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), Error> {
        target.shape.parse_stream_chunk(event, state, out)
    }

    fn parse_whole(&self, target: &Target<'_>, body: &str) -> Option<ChatResponse> {
        target.shape.parse_response(serde_json::from_str(body).ok()?).ok()
    }
}

/// The OpenAI-compatible chat completions API.
#[derive(Debug)]
struct ChatCompletions;

#[async_trait::async_trait]
impl Dialect for ChatCompletions {
    async fn complete(&self, target: &Target<'_>, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let call = target.openai_call(chat_completions::build(request, target.serving.id())?);
        chat_completions::parse_response(target.client.chat_completions(call).await?)
    }

    async fn start_stream(&self, target: &Target<'_>, request: &ChatRequest) -> Result<transport::ChatStream, Error> {
        let call = target.openai_call(chat_completions::build(request, target.serving.id())?);
        Ok(target.client.chat_completions_stream(call).await?)
    }

    fn parse_event(
        &self,
        _target: &Target<'_>,
        event: SseEvent,
        _state: &mut StreamState,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), Error> {
        chat_completions::parse_chunk(event, out)
    }

    fn parse_whole(&self, _target: &Target<'_>, body: &str) -> Option<ChatResponse> {
        chat_completions::parse_response(serde_json::from_str(body).ok()?).ok()
    }
}

/// The OpenAI-compatible Responses API.
#[derive(Debug)]
struct Responses;

#[async_trait::async_trait]
impl Dialect for Responses {
    async fn complete(&self, target: &Target<'_>, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let call = target.openai_call(responses::build(request, target.serving.id())?);
        responses::parse_response(target.client.responses(call).await?)
    }

    async fn start_stream(&self, target: &Target<'_>, request: &ChatRequest) -> Result<transport::ChatStream, Error> {
        let call = target.openai_call(responses::build(request, target.serving.id())?);
        Ok(target.client.responses_stream(call).await?)
    }

    fn parse_event(
        &self,
        _target: &Target<'_>,
        event: SseEvent,
        state: &mut StreamState,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), Error> {
        responses::parse_event(event, state, out)
    }

    fn parse_whole(&self, _target: &Target<'_>, body: &str) -> Option<ChatResponse> {
        responses::parse_response(serde_json::from_str(body).ok()?).ok()
    }
}
