//! The signed Generative AI inference client.

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::time::Instant;

use crate::call::{ChatCall, OpenAiCall};
use crate::error::Error;
use crate::models::ChatResult;
use crate::openai::chat_completions::{ChatCompletion, ChatCompletionRequest, StreamOptions};
use crate::openai::responses::{Response, ResponseRequest};
use crate::prepare::{OpenAiRequest, PreparedRequest, Routing};
use crate::send::{MAX_ERROR_BODY, Sender};
use crate::serving::ServingMode;
use crate::stream::{ChatStream, StreamTimes};
use crate::transport::Transport;

/// A client for `POST /20231130/actions/chat`: signs every request, resolves
/// the regional endpoint per serving mode, retries like the OCI SDK, and
/// streams server-sent events as they arrive. Cheap to clone.
///
/// ```no_run
/// use oci_auth::Auth;
/// use oci_genai_transport::{models, ChatCall, GenAiClient, ServingMode};
/// # async fn run() -> Result<(), oci_genai_transport::Error> {
/// let client = GenAiClient::builder().auth(Auth::from_env()?).build()?;
/// let call = ChatCall::new(
///     ServingMode::from_model_id("ocid1.generativeaiendpoint.oc1.us-chicago-1.example")?,
///     "ocid1.compartment.oc1..example",
///     models::BaseChatRequest::Generic(models::GenericChatRequest {
///         messages: Some(vec![models::Message::User(models::UserMessage {
///             content: Some(vec![models::ChatContent::Text(models::TextContent { text: Some("Hello".into()) })]),
///             ..Default::default()
///         })]),
///         ..Default::default()
///     }),
/// );
/// let result = client.chat(call).await?;
/// # let _ = result; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct GenAiClient {
    pub(crate) inner: Arc<Inner>,
}

/// What a client is made of, put together by [`GenAiClientBuilder`](crate::GenAiClientBuilder).
#[derive(Debug)]
pub(crate) struct Inner {
    pub routing: Routing,
    pub sender: Sender,
    pub usage_grace: Duration,
    pub project_id: Option<String>,
}

impl GenAiClient {
    pub(crate) fn routing(&self) -> &Routing {
        &self.inner.routing
    }

    /// Whether OpenAI-compatible calls go with a Generative AI API key
    /// (then they need no compartment).
    pub fn has_genai_api_key(&self) -> bool {
        self.inner.sender.api_key.is_some()
    }

    /// Sends a chat call and returns the whole reply (`isStream` cleared).
    pub async fn chat(&self, call: ChatCall) -> Result<ChatResult, Error> {
        let prepared = self.inner.routing.prepare(call, false).await?;
        self.whole(prepared).await
    }

    /// Sends a streaming chat call (`isStream` set; a GENERIC request also
    /// asks for usage); once the response has started, yields its events as
    /// they arrive. The stream ends at the finish event, or at
    /// the usage event after it when usage was requested — never by waiting
    /// for the server to close the connection. The whole call, retries
    /// included, ends by the stream deadline ([`Limits`](crate::Limits)).
    pub async fn chat_stream(&self, call: ChatCall) -> Result<ChatStream, Error> {
        let deadline = Instant::now() + self.inner.sender.limits.stream_deadline();
        let prepared = self.inner.routing.prepare(call, true).await?;
        self.stream(prepared, deadline).await
    }

    /// Sends a chat completions call (`POST /openai/v1/chat/completions`,
    /// `stream` cleared) and returns the whole answer. A model the
    /// OpenAI-compatible API does not serve (a dedicated endpoint, Cohere R)
    /// is refused before sending ([`Error::TransportCannotServe`]).
    ///
    /// ```no_run
    /// use oci_genai_transport::{GenAiClient, OpenAiCall};
    /// use oci_genai_transport::openai::chat_completions::{ChatCompletionRequest, ChatMessage, Content};
    /// # async fn run(client: GenAiClient) -> Result<(), oci_genai_transport::Error> {
    /// let request = ChatCompletionRequest {
    ///     model: "openai.gpt-5".into(),
    ///     messages: vec![ChatMessage::User { content: Content::Text("Hi".into()), name: None }],
    ///     ..Default::default()
    /// };
    /// let answer = client.chat_completions(OpenAiCall::new(request).compartment_id("ocid1.compartment.oc1..x")).await?;
    /// println!("{:?}", answer.choices[0].message);
    /// # Ok(()) }
    /// ```
    pub async fn chat_completions(&self, call: OpenAiCall<ChatCompletionRequest>) -> Result<ChatCompletion, Error> {
        let OpenAiCall { compartment_id, serving, mut request } = call;
        (request.stream, request.stream_options) = (None, None);
        let prepared =
            self.prepare_openai(Transport::ChatCompletions, compartment_id, serving, &request.model, &request, false);
        self.whole(prepared.await?).await
    }

    /// Sends a streaming chat completions call (`stream` set, usage asked
    /// for with `stream_options.include_usage`); yields its chunks as they
    /// arrive. The stream ends at `data: [DONE]`, or once the finish reason
    /// and the usage chunk have come — never at the connection's close; an
    /// `{"error": …}` chunk ends it with [`Error::StreamFailed`].
    pub async fn chat_completions_stream(&self, call: OpenAiCall<ChatCompletionRequest>) -> Result<ChatStream, Error> {
        let deadline = Instant::now() + self.inner.sender.limits.stream_deadline();
        let OpenAiCall { compartment_id, serving, mut request } = call;
        request.stream = Some(true);
        request.stream_options = Some(StreamOptions { include_usage: true });
        let prepared =
            self.prepare_openai(Transport::ChatCompletions, compartment_id, serving, &request.model, &request, true);
        self.stream(prepared.await?, deadline).await
    }

    /// Sends a Responses call (`POST /openai/v1/responses`, `stream`
    /// cleared) and returns the response.
    pub async fn responses(&self, call: OpenAiCall<ResponseRequest>) -> Result<Response, Error> {
        let OpenAiCall { compartment_id, serving, mut request } = call;
        request.stream = None;
        let prepared =
            self.prepare_openai(Transport::Responses, compartment_id, serving, &request.model, &request, false);
        self.whole(prepared.await?).await
    }

    /// Sends a streaming Responses call; yields its typed events
    /// ([`openai::responses::StreamEvent`](crate::openai::responses::StreamEvent))
    /// as they arrive. The stream ends at `response.completed` or
    /// `response.incomplete`; `error` and `response.failed` end it with
    /// [`Error::StreamFailed`].
    pub async fn responses_stream(&self, call: OpenAiCall<ResponseRequest>) -> Result<ChatStream, Error> {
        let deadline = Instant::now() + self.inner.sender.limits.stream_deadline();
        let OpenAiCall { compartment_id, serving, mut request } = call;
        request.stream = Some(true);
        let prepared =
            self.prepare_openai(Transport::Responses, compartment_id, serving, &request.model, &request, true);
        self.stream(prepared.await?, deadline).await
    }

    /// Serialises and routes an OpenAI-compatible request; a signed one needs a compartment.
    async fn prepare_openai(
        &self,
        transport: Transport,
        compartment_id: Option<String>,
        serving: Option<ServingMode>,
        model: &str,
        request: &impl serde::Serialize,
        streaming: bool,
    ) -> Result<PreparedRequest, Error> {
        let serving = match serving {
            Some(serving) if serving.id() == model => serving,
            Some(serving) => {
                return Err(Error::InvalidRequest(format!(
                    "the request names model `{model}` but the call's serving mode is `{}`",
                    serving.id()
                )));
            }
            None => ServingMode::from_model_id(model)?,
        };
        let signed = self.inner.sender.api_key.is_none();
        if signed && compartment_id.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(Error::MissingCompartment { dedicated: false });
        }
        let body = serde_json::to_vec(request).map_err(|e| Error::InvalidRequest(e.to_string()))?;
        let path = transport.chat_path();
        let request = OpenAiRequest {
            transport,
            serving,
            compartment_id: compartment_id.as_deref(),
            project_id: self.inner.project_id.as_deref(),
            path,
            body,
            streaming,
        };
        self.inner.routing.prepare_openai(request).await
    }

    /// Routes a native action (`embedText`, `rerankText`).
    pub(crate) async fn prepare_action(
        &self,
        path: &str,
        serving: &ServingMode,
        compartment_id: &str,
        body: Vec<u8>,
    ) -> Result<PreparedRequest, Error> {
        self.inner.routing.prepare_action(path, serving, compartment_id, body).await
    }

    /// Routes a regional action that names no model (`applyGuardrails`).
    pub(crate) async fn prepare_regional(
        &self,
        path: &str,
        compartment_id: &str,
        body: Vec<u8>,
    ) -> Result<PreparedRequest, Error> {
        self.inner.routing.prepare_regional(path, compartment_id, body).await
    }

    /// A signed `GET` of the management API: the `opc-next-page` header and the JSON body.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        path_and_query: &str,
    ) -> Result<(Option<String>, T), Error> {
        let prepared = self.inner.routing.prepare_management(path_and_query).await?;
        let response = self.inner.sender.send(&prepared, None).await?;
        let next = response.header("opc-next-page").map(str::to_owned);
        let request_id = Some(prepared.opc_request_id.clone());
        let (body, over) = response.read_capped(self.inner.sender.limits.max_body_size(), &prepared).await?;
        if over {
            return Err(Error::ReplyTooLarge {
                limit: self.inner.sender.limits.max_body_size(),
                opc_request_id: request_id,
            });
        }
        let parsed = serde_json::from_slice(&body)
            .map_err(|e| Error::InvalidReply { message: e.to_string(), opc_request_id: request_id })?;
        Ok((next, parsed))
    }

    /// Sends `prepared` and reads its whole reply as `T`.
    pub(crate) async fn whole<T: DeserializeOwned>(&self, prepared: PreparedRequest) -> Result<T, Error> {
        let response = self.inner.sender.send(&prepared, None).await?;
        let request_id = Some(prepared.opc_request_id.clone());
        // The attempt's timeout still bounds this read.
        let body = match response.read_capped(self.inner.sender.limits.max_body_size(), &prepared).await? {
            (body, false) => body,
            (_, true) => {
                return Err(Error::ReplyTooLarge {
                    limit: self.inner.sender.limits.max_body_size(),
                    opc_request_id: request_id,
                });
            }
        };
        tracing::trace!(body = %String::from_utf8_lossy(&body), "OCI GenAI reply");
        serde_json::from_slice(&body)
            .map_err(|e| Error::InvalidReply { message: e.to_string(), opc_request_id: request_id })
    }

    /// Sends `prepared` and hands its event stream on, once it has started.
    async fn stream(&self, prepared: PreparedRequest, deadline: Instant) -> Result<ChatStream, Error> {
        let limits = &self.inner.sender.limits;
        let response = self.inner.sender.send(&prepared, Some(deadline)).await?;
        let request_id = Some(prepared.opc_request_id.clone());
        let content_type = response.header("content-type").unwrap_or_default().to_owned();
        if !content_type.starts_with("text/event-stream") {
            // A JSON reply may be the whole answer, which the caller can use as it is: kept whole (to the
            // body cap) rather than cut for display.
            let json = content_type.starts_with("application/json");
            let cap = if json { limits.max_body_size() } else { MAX_ERROR_BODY };
            let read = tokio::time::timeout(limits.read_timeout(), response.read_capped(cap, &prepared));
            let (body, _) = read.await.map_err(|_| Error::StreamIdle {
                seconds: limits.read_timeout().as_secs(),
                opc_request_id: request_id.clone(),
            })??;
            let body = String::from_utf8_lossy(&body);
            let body = if json { body.into_owned() } else { oci_auth::ErrorBody::shorten(&body) };
            return Err(Error::NotAStream { content_type, body, opc_request_id: request_id });
        }
        let times = StreamTimes {
            read_timeout: limits.read_timeout(),
            usage_grace: self.inner.usage_grace,
            deadline,
            deadline_secs: limits.stream_deadline().as_secs(),
        };
        Ok(ChatStream::new(response, prepared.end, prepared.url, prepared.opc_request_id, times))
    }
}
