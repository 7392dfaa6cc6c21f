//! The HTTP side: routes, client keys, bounds, and streamed answers that
//! follow the client's pace and end when it goes away.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use locus_providers::{ChatModel, Embedder, EventStream, OciChatModel, OciEmbedder};
use oci_genai_transport::GenAiClient;
use oci_genai_transport::openai::chat_completions::ChatCompletionRequest;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::translate::{self, ChunkWriter};

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// What every connection shares.
pub(crate) struct State {
    pub config: GatewayConfig,
    pub client: GenAiClient,
    pub streams: Arc<Semaphore>,
    /// Per key (or `""` without keys): the minute's start and its requests.
    pub rates: Mutex<HashMap<usize, (Instant, u32)>>,
}

fn full(status: u16, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static(content_type));
    response
}

fn failure(error: &GatewayError) -> Response<Body> {
    tracing::info!(status = error.status, code = %error.code, "request refused or failed: {}", error.message);
    let mut response = full(error.status, "application/json", error.body());
    if let Some(id) = error.opc_request_id.as_deref().and_then(|id| hyper::header::HeaderValue::from_str(id).ok()) {
        response.headers_mut().insert("opc-request-id", id);
    }
    response
}

/// Serves one request, inside a server span (OpenTelemetry HTTP conventions)
/// that the model call's span is a child of.
pub(crate) async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path();
    // Unknown paths share one name: a route is a low-cardinality attribute.
    let known = ["/v1/chat/completions", "/v1/embeddings", "/v1/models", "/healthz"];
    let route_name = known.iter().find(|&&known| known == path).copied().unwrap_or("unknown");
    let span = tracing::info_span!(
        "request",
        otel.name = %format_args!("{method} {route_name}"),
        otel.kind = "server",
        otel.status_code = tracing::field::Empty,
        http.request.method = method.as_str(),
        http.route = route_name,
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    );
    let response = match route(&state, request).instrument(span.clone()).await {
        Ok(response) => response,
        Err(error) => {
            span.record("error.type", error.code.as_str());
            span.record("otel.status_code", "ERROR");
            failure(&error)
        }
    };
    span.record("http.response.status_code", response.status().as_u16());
    Ok(response)
}

async fn route(state: &Arc<State>, request: Request<Incoming>) -> Result<Response<Body>, GatewayError> {
    let (parts, body) = request.into_parts();
    if parts.method == hyper::Method::GET && parts.uri.path() == "/healthz" {
        return Ok(full(200, "text/plain", "ok\n".into()));
    }
    let key = authenticate(&state.config, &parts.headers)?;
    limit_rate(state, key)?;
    let limit = state.config.max_body_bytes;
    let body = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(GatewayError::new(
                413,
                "invalid_request_error",
                "request_too_large",
                format!("the request body exceeds {limit} bytes"),
            ));
        }
        Err(e) => return Err(GatewayError::bad_request(format!("cannot read the request: {e}"))),
    };
    match (parts.method.as_str(), parts.uri.path()) {
        ("POST", "/v1/chat/completions") => chat(state, &body).await,
        ("POST", "/v1/embeddings") => embeddings(state, &body).await,
        ("GET", "/v1/models") => Ok(models(&state.config)),
        (method, path) => {
            Err(GatewayError::new(404, "invalid_request_error", "unknown_url", format!("no route for {method} {path}")))
        }
    }
}

/// The client's key, by position (`0` without keys); compared in constant time.
fn authenticate(config: &GatewayConfig, headers: &hyper::HeaderMap) -> Result<usize, GatewayError> {
    if config.api_keys.is_empty() {
        return Ok(0);
    }
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let refused = || {
        GatewayError::new(
            401,
            "authentication_error",
            "invalid_api_key",
            "a valid API key is needed: Authorization: Bearer <key>",
        )
    };
    let given = given.ok_or_else(refused)?.trim().as_bytes();
    // Every key is compared, whatever matched: the time taken says nothing about which.
    let mut found = None;
    for (position, key) in config.api_keys.iter().enumerate() {
        if constant_time_eq(key.expose().as_bytes(), given) && found.is_none() {
            found = Some(position);
        }
    }
    found.ok_or_else(refused)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn limit_rate(state: &State, key: usize) -> Result<(), GatewayError> {
    let Some(per_minute) = state.config.requests_per_minute else { return Ok(()) };
    let mut rates = state.rates.lock().unwrap_or_else(PoisonError::into_inner);
    let now = Instant::now();
    let entry = rates.entry(key).or_insert((now, 0));
    if now.duration_since(entry.0) >= Duration::from_secs(60) {
        *entry = (now, 0);
    }
    entry.1 += 1;
    if entry.1 > per_minute {
        return Err(GatewayError::new(
            429,
            "rate_limit_error",
            "rate_limit_exceeded",
            format!("more than {per_minute} requests a minute for this key"),
        ));
    }
    Ok(())
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}

fn request_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("chatcmpl-{:x}{:x}{serial:x}", now(), std::process::id())
}

/// The chat model a request names: an alias, or an OCI model id or endpoint OCID.
fn model(state: &State, name: &str) -> Result<OciChatModel, GatewayError> {
    let mut builder = OciChatModel::builder(name).client(state.client.clone());
    let mut compartment = state.config.compartment_id.clone();
    if let Some(alias) = state.config.aliases.get(name) {
        builder = builder.model_id(&alias.model);
        compartment = alias.compartment_id.clone().or(compartment);
        if let Some(format) = alias.api_format {
            builder = builder.api_format(format);
        }
        if let Some(transport) = alias.transport {
            builder = builder.transport(transport);
        }
    }
    if let Some(compartment) = compartment {
        builder = builder.compartment_id(compartment);
    }
    builder.build().map_err(GatewayError::from)
}

async fn chat(state: &Arc<State>, body: &Bytes) -> Result<Response<Body>, GatewayError> {
    let openai: ChatCompletionRequest =
        serde_json::from_slice(body).map_err(|e| GatewayError::bad_request(format!("invalid request body: {e}")))?;
    let model = model(state, &openai.model)?;
    let request = translate::request(&openai)?;
    if openai.stream != Some(true) {
        let response = model.complete(&request).await?;
        return Ok(full(
            200,
            "application/json",
            translate::completion(&request_id(), &openai.model, now(), &response).to_string(),
        ));
    }
    let permit = Arc::clone(&state.streams).try_acquire_owned().map_err(|_| {
        GatewayError::new(
            429,
            "rate_limit_error",
            "too_many_streams",
            format!("{} streams are open; try again shortly", state.config.max_concurrent_streams),
        )
    })?;
    let include_usage = openai.stream_options.is_some_and(|o| o.include_usage);
    let mut events = model.stream(&request).await;
    // The first event says whether the call started: an error then is an error status, not a stream.
    let first = match events.next().await {
        Some(Err(error)) => return Err(error.into()),
        first => first,
    };
    let writer = ChunkWriter::new(request_id(), openai.model.clone(), now(), include_usage);
    let chunks = Chunks { events, first, writer, buffer: Vec::with_capacity(4096), done: false, _permit: permit };
    let mut response = Response::new(BodyExt::boxed_unsync(StreamBody::new(chunks)));
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/event-stream"));
    response.headers_mut().insert("cache-control", hyper::header::HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Model events as SSE frames, pulled as the client reads: a slow client
/// slows the upstream read (nothing buffers past what one read of the
/// upstream brought), and a client that goes away drops this, and with it
/// the upstream stream. Events that are ready together go out as one frame.
struct Chunks {
    events: EventStream,
    first: Option<Result<locus_providers::ModelEvent, locus_providers::Error>>,
    writer: ChunkWriter,
    buffer: Vec<u8>,
    done: bool,
    _permit: OwnedSemaphorePermit,
}

/// The most bytes gathered into one frame before it is handed on.
const FRAME_BYTES: usize = 64 * 1024;

impl Chunks {
    fn frame(&mut self) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(std::mem::take(&mut self.buffer))))))
    }
}

impl Stream for Chunks {
    type Item = Result<Frame<Bytes>, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return if this.buffer.is_empty() { Poll::Ready(None) } else { this.frame() };
            }
            if this.buffer.len() >= FRAME_BYTES {
                return this.frame();
            }
            let next = match this.first.take() {
                Some(first) => Some(first),
                None => match this.events.poll_next_unpin(cx) {
                    Poll::Ready(next) => next,
                    Poll::Pending if this.buffer.is_empty() => return Poll::Pending,
                    Poll::Pending => return this.frame(),
                },
            };
            match next {
                Some(Ok(event)) => this.writer.event(event, &mut this.buffer),
                Some(Err(error)) => {
                    // Mid-stream: an error chunk, as OpenAI-compatible servers send, then the end.
                    this.buffer.extend_from_slice(b"data: ");
                    this.buffer.extend_from_slice(GatewayError::from(error).body().as_bytes());
                    this.buffer.extend_from_slice(b"\n\ndata: [DONE]\n\n");
                    this.done = true;
                }
                None => {
                    this.buffer.extend_from_slice(b"data: [DONE]\n\n");
                    this.done = true;
                }
            }
        }
    }
}

async fn embeddings(state: &Arc<State>, body: &Bytes) -> Result<Response<Body>, GatewayError> {
    let request: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| GatewayError::bad_request(format!("invalid request body: {e}")))?;
    let inputs: Vec<String> = match &request["input"] {
        serde_json::Value::String(text) => vec![text.clone()],
        serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect(),
        _ => return Err(GatewayError::bad_request("input: a string or a list of strings")),
    };
    let name = request["model"].as_str().unwrap_or(&state.config.embedding_model).to_owned();
    let alias = state.config.aliases.get(&name);
    let model = alias.map_or(name.as_str(), |a| a.model.as_str());
    let compartment =
        alias.and_then(|a| a.compartment_id.clone()).or(state.config.compartment_id.clone()).unwrap_or_default();
    let embedder = OciEmbedder::new(state.client.clone(), model, compartment)?;
    let inputs: Vec<_> = inputs.into_iter().map(locus_providers::EmbedInput::Text).collect();
    let vectors = embedder.embed(&inputs).await?;
    let data: Vec<_> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| json!({"object": "embedding", "index": index, "embedding": vector}))
        .collect();
    let body = json!({"object": "list", "data": data, "model": name, "usage": {"prompt_tokens": 0, "total_tokens": 0}});
    Ok(full(200, "application/json", body.to_string()))
}

fn models(config: &GatewayConfig) -> Response<Body> {
    let data: Vec<_> = config
        .aliases
        .keys()
        .map(|name| json!({"id": name, "object": "model", "created": 0, "owned_by": "oci"}))
        .collect();
    full(200, "application/json", json!({"object": "list", "data": data}).to_string())
}
