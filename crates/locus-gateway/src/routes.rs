//! The routes that call models: chat completions (whole or streamed) and
//! embeddings. Every upstream call holds a permit while it runs.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use locus_providers::{ChatModel, Embedder, EventStream, OciChatModel, OciEmbedder};
use oci_genai_transport::openai::chat_completions::ChatCompletionRequest;
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;

use crate::error::GatewayError;
use crate::state::{Body, Served, State, full};
use crate::translate::{self, ChunkWriter};

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
    let config = &state.config;
    let mut builder = OciChatModel::builder(name).client(state.client.clone());
    let mut compartment = config.compartment_id.clone();
    let (mut api_format, mut transport) = (config.api_format, config.transport);
    if let Some(alias) = config.aliases.get(name) {
        builder = builder.model_id(&alias.model);
        compartment = alias.compartment_id.clone().or(compartment);
        api_format = alias.api_format.or(api_format);
        transport = alias.transport.or(transport);
    }
    if let Some(format) = api_format {
        builder = builder.api_format(format);
    }
    if let Some(transport) = transport {
        builder = builder.transport(transport);
    }
    if let Some(compartment) = compartment {
        builder = builder.compartment_id(compartment);
    }
    builder.build().map_err(GatewayError::from)
}

pub(crate) async fn chat(
    state: &Arc<State>,
    body: &Bytes,
    served: &mut Served,
) -> Result<Response<Body>, GatewayError> {
    let mut openai: ChatCompletionRequest =
        serde_json::from_slice(body).map_err(|e| GatewayError::bad_request(format!("invalid request body: {e}")))?;
    if openai.model.trim().is_empty() {
        openai.model = state.config.default_model.clone().ok_or_else(|| {
            GatewayError::bad_request("name a model: this gateway has no default model (locus serve --model)")
        })?;
    }
    served.model = Some(openai.model.clone());
    let model = model(state, &openai.model)?;
    let mut request = translate::request(&openai)?;
    let guard = crate::screening::guard_for(&state.config, &openai.model, &model);
    let permit = state.call_permit()?;
    if let Some(guard) = &guard {
        crate::screening::screen_request(guard, &mut request).await?;
    }
    let held = guard.as_ref().filter(|g| g.screens(locus_providers::guard::GuardStage::Answer));
    let whole = match held {
        Some(guard) => {
            let mut response = model.complete(&request).await?;
            crate::screening::screen_answer(guard, &mut response).await?;
            Some(response)
        }
        None => None,
    };
    if openai.stream != Some(true) {
        let response = match whole {
            Some(response) => response,
            None => model.complete(&request).await?,
        };
        drop(permit);
        return Ok(full(
            200,
            "application/json",
            translate::completion(&request_id(), &openai.model, now(), &response).to_string(),
        ));
    }
    let include_usage = openai.stream_options.is_some_and(|o| o.include_usage);
    let mut events: EventStream = match whole {
        // A screened answer streams as the events of the whole answer.
        Some(response) => {
            Box::pin(futures::stream::iter(locus_providers::response_events(response).into_iter().map(Ok)))
        }
        None => model.stream(&request).await,
    };
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

pub(crate) async fn embeddings(
    state: &Arc<State>,
    body: &Bytes,
    served: &mut Served,
) -> Result<Response<Body>, GatewayError> {
    let request: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| GatewayError::bad_request(format!("invalid request body: {e}")))?;
    let inputs = embedding_inputs(&request["input"], state.config.max_embedding_inputs)?;
    let name = request["model"].as_str().unwrap_or(&state.config.embedding_model).to_owned();
    served.model = Some(name.clone());
    let alias = state.config.aliases.get(&name);
    let model = alias.map_or(name.as_str(), |a| a.model.as_str());
    let compartment =
        alias.and_then(|a| a.compartment_id.clone()).or(state.config.compartment_id.clone()).unwrap_or_default();
    let embedder = OciEmbedder::new(state.client.clone(), model, compartment)?;
    let permit = state.call_permit()?;
    let vectors = embedder.embed(&inputs).await?;
    drop(permit);
    let data: Vec<_> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| json!({"object": "embedding", "index": index, "embedding": vector}))
        .collect();
    let body = json!({"object": "list", "data": data, "model": name, "usage": {"prompt_tokens": 0, "total_tokens": 0}});
    Ok(full(200, "application/json", body.to_string()))
}

/// A string, or a non-empty list of at most `max` strings; anything else is a 400
/// (dropping an input would shift every index after it).
fn embedding_inputs(input: &serde_json::Value, max: usize) -> Result<Vec<locus_providers::EmbedInput>, GatewayError> {
    let texts: Vec<&str> = match input {
        serde_json::Value::String(text) => vec![text],
        serde_json::Value::Array(items) => {
            if items.len() > max {
                return Err(GatewayError::bad_request(format!(
                    "input: {} inputs, more than the {max} one request may carry; send them in several requests",
                    items.len()
                )));
            }
            items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    item.as_str().ok_or_else(|| {
                        GatewayError::bad_request(format!(
                            "input[{index}]: a string is needed (token arrays are not supported)"
                        ))
                    })
                })
                .collect::<Result<_, _>>()?
        }
        _ => return Err(GatewayError::bad_request("input: a string or a list of strings")),
    };
    if texts.is_empty() {
        return Err(GatewayError::bad_request("input: the list is empty"));
    }
    Ok(texts.into_iter().map(|t| locus_providers::EmbedInput::Text(t.to_owned())).collect())
}
