//! The OCI chat model: [`ChatModel`] on the transport, by the model's dialect.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::StreamExt;
use oci_genai_transport::sse::SseEvent;
use oci_genai_transport::{self as transport, GenAiClient, ServingMode, Transport};
use tracing::Instrument as _;

use crate::chat_model::{ChatModel, EventStream, response_events};
use crate::dialect::{self, Target};
use crate::error::Error;
use crate::inline::{InlineToolCallFilter, extract_inline_tool_calls};
use crate::shape::{ApiFormat, RequestShape, StreamState};
use crate::telemetry::{self, CallRecord};
use crate::types::{ChatRequest, ChatResponse, ModelEvent};

/// A model on OCI Generative AI, on demand or on a dedicated endpoint,
/// through the transport that serves it ([`Transport::for_model`] unless
/// set: endpoint OCIDs and Cohere R models native, other on-demand models
/// chat completions).
///
/// ```no_run
/// use oci_auth::Auth;
/// use oci_genai_transport::GenAiClient;
/// use locus_providers::{ChatModel, ChatRequest, Message, OciChatModel};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = GenAiClient::builder().auth(Auth::from_env()?).build()?;
/// let model = OciChatModel::builder("ocid1.generativeaiendpoint.oc1.us-chicago-1.example").client(client)
///     .compartment_id("ocid1.compartment.oc1..example")
///     .build()?;
/// let answer = model.complete(&ChatRequest { messages: vec![Message::user("Hi")], ..Default::default() }).await?;
/// println!("{}", answer.message.text());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OciChatModel {
    client: GenAiClient,
    serving: ServingMode,
    compartment_id: String,
    shape: Arc<dyn RequestShape>,
    transport: Transport,
    inline_tool_calls: bool,
    allow_fallback: bool,
    /// What the model takes ([`profiles`](crate::profiles)), decided at build.
    profile: Arc<crate::profiles::ModelProfile>,
}

/// Configures an [`OciChatModel`]: the model, its compartment and shape,
/// and the client it calls through. Cheap to clone, so one builder can serve
/// as the template for several models.
#[derive(Debug, Clone)]
pub struct OciChatModelBuilder {
    client: Option<GenAiClient>,
    model_id: String,
    compartment_id: Option<String>,
    api_format: ApiFormat,
    transport: Option<Transport>,
    inline_tool_calls: Option<bool>,
    allow_fallback: bool,
}

impl OciChatModel {
    /// Starts configuring `model_id`: a model name, model OCID or endpoint
    /// OCID; the client comes with [`OciChatModelBuilder::client`].
    pub fn builder(model_id: impl Into<String>) -> OciChatModelBuilder {
        OciChatModelBuilder::default().model_id(model_id)
    }

    /// The serving mode.
    pub fn serving_mode(&self) -> &ServingMode {
        &self.serving
    }

    /// The native request shape (`GENERIC` or `COHERE`), used when the transport is native.
    pub fn shape_name(&self) -> &'static str {
        self.shape.name()
    }

    /// The transport requests go through.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    async fn complete_once(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let request = crate::profiles::adapt(self.name(), &self.profile, request);
        let result = dialect::for_transport(self.transport).complete(&self.target(), &request).await;
        let response = match result {
            Err(error) => match self.without_refused(&error, &request) {
                Some(retry) => dialect::for_transport(self.transport).complete(&self.target(), &retry).await?,
                None => return Err(error),
            },
            Ok(response) => response,
        };
        Ok(self.extract_inline(response))
    }

    /// After a 400 naming a parameter `request` carried (on demand: a
    /// dedicated endpoint's own settings are the user's), the request without
    /// it, announced as a warning; one retry, never more.
    fn without_refused(&self, error: &Error, request: &ChatRequest) -> Option<ChatRequest> {
        if self.serving.is_dedicated() {
            return None;
        }
        let service = error.transport()?.service().filter(|s| s.status == 400)?;
        let (name, without) = crate::profiles::refused_parameter(&service.message, request)?;
        tracing::warn!(
            "{} refused `{name}`; sent again without it (a [[profiles]] rule in the defaults file can leave it out \
             from the start)",
            self.name()
        );
        Some(without)
    }

    /// The client it calls through (for the management API's listings, say).
    pub fn client(&self) -> &GenAiClient {
        &self.client
    }

    /// The compartment its calls are made in.
    pub fn compartment(&self) -> &str {
        &self.compartment_id
    }

    /// What the model's dialect speaks to.
    fn target(&self) -> Target<'_> {
        Target {
            client: &self.client,
            shape: self.shape.as_ref(),
            serving: &self.serving,
            compartment_id: &self.compartment_id,
        }
    }

    /// The event stream of `request` on this model's transport, once started.
    async fn start_stream(&self, request: &ChatRequest) -> Result<transport::ChatStream, Error> {
        let request = crate::profiles::adapt(self.name(), &self.profile, request);
        let dialect = dialect::for_transport(self.transport);
        match dialect.start_stream(&self.target(), &request).await {
            Err(error) => match self.without_refused(&error, &request) {
                Some(retry) => dialect.start_stream(&self.target(), &retry).await,
                None => Err(error),
            },
            started => started,
        }
    }

    /// Appends the neutral events of one stream event, as this model's transport and shape read them.
    fn parse_event(&self, event: SseEvent, state: &mut StreamState, out: &mut Vec<ModelEvent>) -> Result<(), Error> {
        dialect::for_transport(self.transport).parse_event(&self.target(), event, state, out)
    }

    fn extract_inline(&self, mut response: ChatResponse) -> ChatResponse {
        if self.inline_tool_calls {
            let (text, calls) = extract_inline_tool_calls(&response.message.text());
            if !calls.is_empty() {
                response.message.content =
                    if text.trim().is_empty() { Vec::new() } else { vec![crate::types::ContentPart::Text(text)] };
                response.message.tool_calls.extend(calls);
                response.finish_reason = crate::types::FinishReason::ToolCalls;
            }
        }
        response
    }

    /// The answer itself, when a streaming request was answered with a whole
    /// JSON reply this transport can read: used as it came, never asked for again.
    fn whole_reply(&self, error: &transport::Error) -> Option<ChatResponse> {
        let transport::Error::NotAStream { content_type, body, .. } = error else { return None };
        if !content_type.starts_with("application/json") {
            return None;
        }
        let response = dialect::for_transport(self.transport).parse_whole(&self.target(), body)?;
        Some(self.extract_inline(response))
    }

    /// A whole reply to a streaming request, as events announced by a
    /// [`ModelEvent::Fallback`] (or the refusal to fall back, when not allowed).
    fn whole_reply_events(&self, error: &transport::Error) -> Option<Vec<Result<ModelEvent, Error>>> {
        let response = self.whole_reply(error)?;
        let reason = format!("{error}; it was read as the whole answer (nothing was sent again)");
        if !self.allow_fallback {
            return Some(vec![Err(Error::StreamingFailed { reason })]);
        }
        tracing::info!(model = self.serving.id(), "{reason}");
        let mut events = vec![Ok(ModelEvent::Fallback { reason })];
        events.extend(response_events(response).into_iter().map(Ok));
        Some(events)
    }

    /// Why a stream attempt should fall back, for errors that mean "this
    /// deployment does not stream".
    fn fallback_reason(error: &transport::Error) -> Option<String> {
        error.is_stream_refused().then(|| error.to_string())
    }

    async fn fallback(&self, request: &ChatRequest, reason: String) -> Vec<Result<ModelEvent, Error>> {
        if !self.allow_fallback {
            return vec![Err(Error::StreamingFailed { reason })];
        }
        // The Fallback event is the announcement; this is for logs.
        tracing::info!(model = self.serving.id(), "streaming failed; falling back to a non-streaming call: {reason}");
        let mut events = vec![Ok(ModelEvent::Fallback { reason })];
        match self.complete_once(request).await {
            Ok(response) => events.extend(response_events(response).into_iter().map(Ok)),
            Err(e) => events.push(Err(e)),
        }
        events
    }
}

impl Default for OciChatModelBuilder {
    /// No model or client yet; shape from the model id; fallback allowed.
    fn default() -> Self {
        OciChatModelBuilder {
            client: None,
            model_id: String::new(),
            compartment_id: None,
            api_format: ApiFormat::Auto,
            transport: None,
            inline_tool_calls: None,
            allow_fallback: true,
        }
    }
}

impl OciChatModelBuilder {
    /// The model: a model name, model OCID or endpoint OCID.
    pub fn model_id(mut self, model_id: impl Into<String>) -> Self {
        self.model_id = model_id.into();
        self
    }

    /// The client to call through (built once, shared by every model).
    pub fn client(mut self, client: GenAiClient) -> Self {
        self.client = Some(client);
        self
    }

    /// The compartment (required for dedicated endpoints; the service requires one for every request).
    pub fn compartment_id(mut self, compartment_id: impl Into<String>) -> Self {
        self.compartment_id = Some(compartment_id.into());
        self
    }

    /// The native request shape (default: chosen from the model id). A
    /// format set here, with no transport set, means the native transport.
    pub fn api_format(mut self, format: ApiFormat) -> Self {
        self.api_format = format;
        self
    }

    /// The transport (default: [`Transport::for_model`], or native when an
    /// API format was set). One that cannot serve the model — a dedicated
    /// endpoint or a Cohere R model on the OpenAI-compatible API — is an
    /// error from [`build`](Self::build), before anything is sent.
    ///
    /// ```
    /// use locus_providers::OciChatModel;
    /// use oci_genai_transport::{GenAiClient, Transport};
    /// let client = GenAiClient::builder().genai_api_key("sk-example").region("us-chicago-1").build()?;
    /// let model = OciChatModel::builder("openai.gpt-5").client(client.clone()).transport(Transport::Responses).build()?;
    /// assert_eq!(model.transport(), Transport::Responses);
    /// let dac = OciChatModel::builder("ocid1.generativeaiendpoint.oc1.us-chicago-1.x").client(client)
    ///     .compartment_id("ocid1.compartment.oc1..c").transport(Transport::ChatCompletions).build();
    /// assert!(dac.unwrap_err().to_string().contains("--transport native"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Whether to extract `<tool_call>` markup from the text (default: on for
    /// dedicated endpoints, off for on-demand models).
    pub fn inline_tool_calls(mut self, on: bool) -> Self {
        self.inline_tool_calls = Some(on);
        self
    }

    /// Whether a stream the endpoint refuses (a 400 about streaming, a whole
    /// JSON answer, an empty stream) falls back to a non-streaming call,
    /// announced by a [`ModelEvent::Fallback`] carrying the service's message
    /// and `opc-request-id`. Default: yes — a misconfigured endpoint degrades
    /// visibly instead of failing; `false` makes it [`Error::StreamingFailed`].
    pub fn allow_fallback(mut self, allow: bool) -> Self {
        self.allow_fallback = allow;
        self
    }

    /// Builds the model; a missing client or model, or a dedicated endpoint
    /// without a compartment, is an error here.
    pub fn build(self) -> Result<OciChatModel, Error> {
        let Some(client) = self.client else {
            return Err(Error::Config("no GenAI client: set one with .client(GenAiClient::builder()…build()?)".into()));
        };
        let serving = ServingMode::from_model_id(&self.model_id)?;
        let profile = match &serving {
            ServingMode::OnDemand { model_id } => crate::profiles::profile(model_id),
            _ => crate::profiles::ModelProfile::default(),
        };
        let transport = match self.transport {
            Some(transport) => {
                transport.check(&serving)?;
                transport
            }
            None if self.api_format != ApiFormat::Auto => Transport::Native,
            None => profile.transport.unwrap_or_else(|| Transport::for_model(&serving)),
        };
        let compartment_id = self.compartment_id.unwrap_or_default();
        // A GenAI API key on the OpenAI-compatible API needs no compartment; everything else does.
        if !(transport.is_openai() && client.has_genai_api_key()) {
            transport::check_compartment(&serving, &compartment_id)?;
        }
        let shape: Arc<dyn RequestShape> = Arc::from(self.api_format.shape(&serving));
        Ok(OciChatModel {
            inline_tool_calls: self.inline_tool_calls.unwrap_or_else(|| serving.is_dedicated()),
            client,
            serving,
            compartment_id,
            shape,
            transport,
            allow_fallback: self.allow_fallback,
            profile: Arc::new(profile),
        })
    }
}

#[async_trait::async_trait]
impl ChatModel for OciChatModel {
    fn name(&self) -> &str {
        self.serving.id()
    }

    async fn complete(&self, request: &ChatRequest) -> Result<ChatResponse, Error> {
        let span = telemetry::span("chat", self.name(), Some(request));
        let mut record = CallRecord::start("chat", self.name());
        let result = self.complete_once(request).instrument(span.clone()).await;
        match &result {
            Ok(response) => {
                record.finish_reason(&response.finish_reason);
                if let Some(usage) = &response.usage {
                    record.usage(usage);
                }
            }
            Err(error) => record.error(error),
        }
        record.end(&span);
        result
    }

    async fn stream(&self, request: &ChatRequest) -> EventStream {
        let span = telemetry::span("chat", self.name(), Some(request));
        let record = CallRecord::start("chat", self.name());
        let events = self.events(request).instrument(span.clone()).await;
        telemetry::traced(events, span, record)
    }
}

impl OciChatModel {
    /// The events of `request`: the stream, or the whole-answer fallback when it cannot start.
    async fn events(&self, request: &ChatRequest) -> EventStream {
        let stream = match self.start_stream(request).await {
            Ok(stream) => stream,
            Err(Error::Transport(error)) => {
                if let Some(events) = self.whole_reply_events(&error) {
                    return futures::stream::iter(events).boxed();
                }
                return match Self::fallback_reason(&error) {
                    Some(reason) => futures::stream::iter(self.fallback(request, reason).await).boxed(),
                    None => futures::stream::iter([Err(self.target().with_shape_hint(error))]).boxed(),
                };
            }
            Err(error) => return futures::stream::iter([Err(error)]).boxed(),
        };
        Box::pin(OciEventStream {
            chunks: stream,
            state: StreamState::default(),
            inline: self.inline_tool_calls.then(InlineToolCallFilter::new),
            parsed: Vec::new(),
            ready: std::collections::VecDeque::new(),
            fallback: None,
            model: self.clone(),
            request: request.clone(),
        })
    }
}

/// The neutral events of an OCI chat stream: each chunk parsed as it is
/// polled (into a reused buffer), and — when the stream turns out empty or
/// refused — the whole-answer fallback run in its place.
struct OciEventStream {
    chunks: transport::ChatStream,
    state: StreamState,
    inline: Option<InlineToolCallFilter>,
    parsed: Vec<ModelEvent>,
    ready: std::collections::VecDeque<Result<ModelEvent, Error>>,
    fallback: Option<futures::future::BoxFuture<'static, Vec<Result<ModelEvent, Error>>>>,
    model: OciChatModel,
    request: ChatRequest,
}

impl futures::Stream for OciEventStream {
    type Item = Result<ModelEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(event) = this.ready.pop_front() {
                return Poll::Ready(Some(event));
            }
            if let Some(fallback) = this.fallback.as_mut() {
                let events = std::task::ready!(fallback.as_mut().poll(cx));
                this.fallback = None;
                this.ready.extend(events);
                if this.ready.is_empty() {
                    return Poll::Ready(None);
                }
                continue;
            }
            match std::task::ready!(this.chunks.poll_next_unpin(cx)) {
                None => return Poll::Ready(None),
                Some(Ok(chunk)) => match this.model.parse_event(chunk.into_sse(), &mut this.state, &mut this.parsed) {
                    Ok(()) => match this.inline.as_mut() {
                        Some(filter) => {
                            let parsed = std::mem::take(&mut this.parsed);
                            this.ready.extend(filter.filter_events(parsed).into_iter().map(Ok));
                        }
                        None => this.ready.extend(this.parsed.drain(..).map(Ok)),
                    },
                    Err(e) => this.ready.push_back(Err(e)),
                },
                // An empty stream is known only at its end: fall back then, if allowed.
                Some(Err(error)) => match OciChatModel::fallback_reason(&error) {
                    Some(reason) => {
                        let (model, request) = (this.model.clone(), this.request.clone());
                        this.fallback = Some(Box::pin(async move { model.fallback(&request, reason).await }));
                    }
                    None => this.ready.push_back(Err(Error::Transport(error))),
                },
            }
        }
    }
}
