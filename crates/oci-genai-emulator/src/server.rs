//! The HTTP side: `POST /20231130/actions/chat`, checked like the service.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use oci_auth::verify::{self, PublicKey, SignatureHeader};
use oci_auth::{SignableBody, SignableRequest};
use oci_genai_transport::models::{BaseChatRequest, ChatDetails, ServingMode};
use serde_json::json;

use crate::behaviour::{View, answer};
use crate::config::{EmulatorConfig, Fault, ModelConfig};
use crate::render;

pub(crate) type Body = BoxBody<Bytes, std::io::Error>;
pub(crate) type Outcome = Result<Response<Body>, Box<dyn std::error::Error + Send + Sync>>;

/// What every connection shares.
pub(crate) struct State {
    pub config: EmulatorConfig,
    pub identity: Option<crate::identity::Identity>,
    pub keys: RwLock<HashMap<String, PublicKey>>,
    pub requests: AtomicUsize,
    fault_counts: Mutex<HashMap<String, usize>>,
}

impl State {
    pub fn new(config: EmulatorConfig) -> std::io::Result<Self> {
        let identity = match config.instance_identity {
            true => Some(crate::identity::Identity::new(&config.tenancy).map_err(std::io::Error::other)?),
            false => None,
        };
        Ok(State {
            config,
            identity,
            keys: RwLock::default(),
            requests: AtomicUsize::new(0),
            fault_counts: Mutex::default(),
        })
    }
}

/// Serves connections from `listener` until the task is aborted.
pub(crate) async fn serve(listener: tokio::net::TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        // Small SSE writes must not wait for ACKs (Nagle + delayed ACK would add ~40 ms).
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(Arc::clone(&state), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

pub(crate) fn full(body: Bytes) -> Body {
    Full::new(body).map_err(|never: Infallible| match never {}).boxed()
}

pub(crate) fn error(status: u16, code: &str, message: &str, request_id: &str) -> Outcome {
    let body = json!({ "code": code, "message": message }).to_string();
    let mut response = Response::new(full(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    if let Ok(id) = hyper::header::HeaderValue::from_str(request_id) {
        headers.insert("opc-request-id", id);
    }
    Ok(response)
}

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Outcome {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let request_id = request
        .headers()
        .get("opc-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| "emulator".to_owned());
    let (parts, body) = request.into_parts();
    let limit = state.config.max_body_bytes;
    let body = match http_body_util::Limited::new(body, limit).collect().await {
        Ok(body) => body.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            let message = format!("the request body exceeds {limit} bytes");
            return error(413, "PayloadTooLarge", &message, &request_id);
        }
        Err(e) => return Err(e),
    };
    if let Some(identity) = &state.identity {
        if let Some(response) = instance_identity(&state, identity, &parts, &body, &request_id) {
            return response;
        }
    }
    if let Some(listing) = crate::management::handle(&state, &parts, &request_id) {
        return listing;
    }
    match (parts.method == hyper::Method::POST, parts.uri.path()) {
        (true, "/20231130/actions/chat") => {}
        (true, "/openai/v1/chat/completions") => {
            return crate::openai::handle(&state, &parts, &body, &request_id, Style::ChatCompletions).await;
        }
        (true, "/20231130/actions/embedText") => {
            return crate::retrieval::embed(&state, &parts, &body, &request_id).await;
        }
        (true, "/20231130/actions/rerankText") => {
            return crate::retrieval::rerank(&state, &parts, &body, &request_id).await;
        }
        (true, "/openai/v1/responses") => {
            return crate::openai::handle(&state, &parts, &body, &request_id, Style::Responses).await;
        }
        _ => {
            return error(
                404,
                "NotFound",
                "only POST /20231130/actions/chat, embedText, rerankText, /openai/v1/chat/completions, \
                 /openai/v1/responses and GET /20231130/models, /20231130/endpoints are emulated",
                &request_id,
            );
        }
    }

    if let Err(reason) = authenticate(&state, &parts, &body) {
        return error(401, "NotAuthenticated", &reason, &request_id);
    }
    let mut json: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(json) => json,
        Err(e) => return error(400, "InvalidParameter", &format!("Invalid request body: {e}"), &request_id),
    };
    if let Err(message) = tool_content_forms(&mut json) {
        return error(400, "InvalidParameter", &message, &request_id);
    }
    let details: ChatDetails = match serde_json::from_value(json) {
        Ok(details) => details,
        Err(e) => return error(400, "InvalidParameter", &format!("Invalid request body: {e}"), &request_id),
    };
    if details.compartment_id.trim().is_empty() {
        return error(400, "InvalidParameter", "compartmentId is required", &request_id);
    }
    let model = match find_model(&state.config, &details.serving_mode, &details.compartment_id) {
        Ok(model) => model,
        Err((status, code, message)) => return error(status, code, &message, &request_id),
    };
    let cohere = matches!(details.chat_request, BaseChatRequest::Cohere(_));
    let v2 = matches!(details.chat_request, BaseChatRequest::CohereV2(_));
    let wanted = model.api_format.as_deref().unwrap_or("GENERIC");
    let sent = if cohere {
        "COHERE"
    } else if v2 {
        "COHEREV2"
    } else {
        "GENERIC"
    };
    if wanted != sent {
        let message = format!(
            "Please pass in correct format of request: apiFormat {sent} is not supported by this model; use {wanted}"
        );
        return error(400, "InvalidParameter", &message, &request_id);
    }
    let streaming = match &details.chat_request {
        BaseChatRequest::Generic(g) => g.is_stream == Some(true),
        BaseChatRequest::Cohere(c) => c.is_stream == Some(true),
        BaseChatRequest::CohereV2(c) => c.is_stream == Some(true),
        _ => false,
    };
    let usage_requested = match &details.chat_request {
        BaseChatRequest::Generic(g) => g.stream_options.as_ref().and_then(|o| o.is_include_usage) == Some(true),
        BaseChatRequest::CohereV2(c) => c.stream_options.as_ref().and_then(|o| o.is_include_usage) == Some(true),
        _ => cohere,
    };

    let fault = fault_for(&state, &parts, model);
    if let Some(outcome) = before_answer(fault.as_ref(), streaming, &request_id, error).await {
        return outcome;
    }

    let turn = answer(&model.behaviour, &View::of(&details.chat_request));
    let usage = render::usage(body.len(), &turn);
    let mut response = if streaming {
        let mut events = if v2 {
            render::stream_events_v2(&turn, model.chunk_chars, usage_requested.then_some(usage.clone()))
        } else {
            render::stream_events(
                cohere,
                &turn,
                model.tool_pattern,
                model.chunk_chars,
                usage_requested.then_some(usage.clone()),
            )
        };
        match &fault {
            Some(Fault::NoFinish) => events.retain(|e| !Style::Native.is_final(e)),
            Some(Fault::UsageEveryChunk) => events.iter_mut().for_each(|e| e["usage"] = usage.clone()),
            _ => {}
        }
        let mut response = Response::new(stream_body(events, model, fault, state.config.hold_open_ms, Style::Native));
        response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("text/event-stream"));
        response
    } else {
        let whole =
            if v2 { render::whole_v2(&model.id, &turn, usage) } else { render::whole(&model.id, cohere, &turn, usage) }
                .to_string();
        let mut response = Response::new(full(Bytes::from(whole)));
        response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
        response
    };
    if let Ok(id) = hyper::header::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("opc-request-id", id);
    }
    Ok(response)
}

/// The fault for this request: the `x-emulator-fault` header's, else the model's.
pub(crate) fn fault_for(state: &State, parts: &hyper::http::request::Parts, model: &ModelConfig) -> Option<Fault> {
    let header_fault = parts.headers.get("x-emulator-fault").and_then(|v| v.to_str().ok()).and_then(Fault::parse);
    header_fault.or_else(|| model_fault(state, model))
}

/// An error body in a route's own form.
pub(crate) type ErrorFn = fn(u16, &str, &str, &str) -> Outcome;

/// The faults that replace the answer (a status, a reset) or delay it;
/// `None`: answer (after any delay).
pub(crate) async fn before_answer(
    fault: Option<&Fault>,
    streaming: bool,
    request_id: &str,
    error: ErrorFn,
) -> Option<Outcome> {
    Some(match fault {
        Some(Fault::RejectStream) if streaming => {
            error(400, "InvalidParameter", "Streaming is not supported for this model", request_id)
        }
        Some(Fault::TooManyRequests { retry_after }) => {
            error(429, "TooManyRequests", "Too many requests for the user", request_id).map(|mut response| {
                response.headers_mut().insert("retry-after", hyper::header::HeaderValue::from(*retry_after));
                response
            })
        }
        Some(Fault::Status(status)) => error(*status, "InternalServerError", "injected failure", request_id),
        Some(Fault::ResetBefore) => Err("injected connection reset".into()),
        Some(Fault::HugeError(bytes)) => error(400, "InvalidParameter", &"m".repeat(*bytes), request_id),
        Some(Fault::SlowFirstByte(ms)) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            return None;
        }
        _ => return None,
    })
}

/// IMDS (`GET /opc/v2/…` with `Authorization: Bearer Oracle`) and federation
/// (`POST /v1/x509`, which registers the session key under the token it issues).
fn instance_identity(
    state: &State,
    identity: &crate::identity::Identity,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    request_id: &str,
) -> Option<Outcome> {
    let path = parts.uri.path();
    if path.starts_with("/opc/v2/") {
        if parts.headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer Oracle") {
            return Some(error(
                401,
                "NotAuthenticated",
                "metadata requests need Authorization: Bearer Oracle",
                request_id,
            ));
        }
        let text = identity.metadata(path, &state.config.region)?;
        return Some(Ok(Response::new(full(Bytes::from(text)))));
    }
    if parts.method != hyper::Method::POST || path != "/v1/x509" {
        return None;
    }
    let headers: Vec<(&str, &str)> =
        parts.headers.iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))).collect();
    let signable = SignableRequest::new("POST", path, headers, SignableBody::Bytes(body));
    Some(match identity.federate(&signable, body) {
        Ok(session_key) => {
            let token = crate::identity::token(state.config.token_lifetime_secs, state.requests.load(Ordering::SeqCst));
            state.keys.write().unwrap_or_else(PoisonError::into_inner).insert(format!("ST${token}"), session_key);
            let mut response = Response::new(full(Bytes::from(json!({ "token": token }).to_string())));
            response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
            Ok(response)
        }
        Err(reason) => error(401, "NotAuthenticated", &reason, request_id),
    })
}

/// As the service: Google models take tool results only as a plain string
/// (and reject content arrays); the others take either. Strings are turned
/// into content arrays here so the wire types can read them.
fn tool_content_forms(json: &mut serde_json::Value) -> Result<(), String> {
    let google = json["servingMode"]["modelId"].as_str().is_some_and(|m| m.to_ascii_lowercase().starts_with("google."));
    let Some(messages) = json["chatRequest"]["messages"].as_array_mut() else { return Ok(()) };
    for message in messages.iter_mut().filter(|m| m["role"] == "TOOL") {
        match message["content"].take() {
            serde_json::Value::String(text) => message["content"] = json!([{ "type": "TEXT", "text": text }]),
            serde_json::Value::Array(_) if google => {
                return Err("Tool message content must be a string for this model".into());
            }
            other => message["content"] = other,
        }
    }
    Ok(())
}

/// The fault configured on the model, while its count lasts.
pub(crate) fn model_fault(state: &State, model: &ModelConfig) -> Option<Fault> {
    let fault = model.fault.clone()?;
    if model.fault_times == 0 {
        return Some(fault);
    }
    let mut counts = state.fault_counts.lock().unwrap_or_else(PoisonError::into_inner);
    let used = counts.entry(model.id.clone()).or_default();
    (*used < model.fault_times).then(|| {
        *used += 1;
        fault
    })
}

/// Checks the signature as the service does: a registered key, the required
/// headers signed, the body hash, and a recent date.
pub(crate) fn authenticate(state: &State, parts: &hyper::http::request::Parts, body: &Bytes) -> Result<(), String> {
    let headers: Vec<(&str, &str)> =
        parts.headers.iter().filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?))).collect();
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let signable = SignableRequest::new(parts.method.as_str(), target, headers, SignableBody::Bytes(body));
    let authorization = signable
        .header("authorization")
        .ok_or("The required information to complete authentication was not provided")?;
    let header = SignatureHeader::parse(authorization).map_err(|e| e.to_string())?;
    let key =
        state.keys.read().unwrap_or_else(PoisonError::into_inner).get(header.key_id()).cloned().ok_or_else(|| {
            "the key id is not known (wrong key, tenancy, user or fingerprint, or an expired token)".to_owned()
        })?;
    for required in verify::required_headers(parts.method.as_str()) {
        if !header.headers().iter().any(|h| h == required) {
            return Err(format!("the signature must cover `{required}`"));
        }
    }
    let date = signable
        .header("date")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .ok_or("missing or malformed date header")?;
    let skew = match SystemTime::now().duration_since(date) {
        Ok(behind) => behind,
        Err(ahead) => ahead.duration(),
    };
    if skew > Duration::from_secs(state.config.max_clock_skew_secs) {
        return Err(format!("the date header is {} s off; check the clock", skew.as_secs()));
    }
    verify::verify(&signable, &header, &key).map_err(|e| e.to_string())
}

pub(crate) type Lookup<'a> = Result<&'a ModelConfig, (u16, &'static str, String)>;

pub(crate) fn find_model<'a>(
    config: &'a EmulatorConfig,
    serving_mode: &ServingMode,
    compartment_id: &str,
) -> Lookup<'a> {
    let not_found = |what: &str| {
        (404, "NotAuthorizedOrNotFound", format!("Authorization failed or requested resource not found: {what}"))
    };
    let (id, dedicated) = match serving_mode {
        ServingMode::OnDemand(m) => (m.model_id.as_str(), false),
        ServingMode::Dedicated(d) => (d.endpoint_id.as_str(), true),
        ServingMode::Unknown(_) => return Err((400, "InvalidParameter", "unknown servingType".into())),
    };
    let model = config.models.iter().find(|m| m.id.eq_ignore_ascii_case(id)).ok_or_else(|| not_found(id))?;
    if dedicated {
        let region = id.split('.').nth(3).and_then(|r| oci_auth::region::resolve(r, &oci_auth::StaticEnv::new()).ok());
        if region.as_ref().is_some_and(|r| r.id() != config.region) {
            return Err(not_found(&format!("{id} (this is {})", config.region)));
        }
    }
    let compartment = model.compartment_id.as_deref().unwrap_or(&config.compartment_id);
    if compartment_id != compartment {
        return Err(not_found(&format!("{id} in compartment {compartment_id}")));
    }
    Ok(model)
}

/// How an API frames its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// `data:` lines only, no `[DONE]`.
    Native,
    /// `data:` lines, then `data: [DONE]`.
    ChatCompletions,
    /// `event: <type>` and `data:` pairs, then `data: [DONE]` (clients must tolerate it).
    Responses,
}

impl Style {
    fn frame(self, event: &serde_json::Value) -> String {
        match self {
            Style::Responses => format!("event: {}\ndata: {event}\n\n", event["type"].as_str().unwrap_or("message")),
            Style::Native | Style::ChatCompletions => format!("data: {event}\n\n"),
        }
    }

    /// A text delta of this style, for the endless fault.
    fn delta(self, text: &str) -> serde_json::Value {
        match self {
            Style::Native => {
                json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": text}]}})
            }
            Style::ChatCompletions => {
                json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
            }
            Style::Responses => json!({"type": "response.output_text.delta", "output_index": 0, "delta": text}),
        }
    }

    /// Whether an event ends the answer or carries usage (dropped by the `no-finish` fault).
    pub(crate) fn is_final(self, event: &serde_json::Value) -> bool {
        match self {
            Style::Native => event.get("finishReason").is_some() || event.get("usage").is_some(),
            Style::ChatCompletions => {
                event["choices"][0]["finish_reason"].is_string() || event.get("usage").is_some_and(|u| !u.is_null())
            }
            Style::Responses => event["type"] == "response.completed" || event["type"] == "response.incomplete",
        }
    }
}

/// An SSE body written by a task, with the model's pacing and the stream faults.
pub(crate) fn stream_body(
    events: Vec<serde_json::Value>,
    model: &ModelConfig,
    fault: Option<Fault>,
    hold_open_ms: u64,
    style: Style,
) -> Body {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(64);
    let (per_write, delay) = (model.events_per_write.max(1), Duration::from_millis(model.delay_ms));
    tokio::spawn(async move {
        let send = |text: String| sender.send(Ok(Frame::data(Bytes::from(text))));
        let mut batch = String::new();
        for (n, event) in events.iter().enumerate() {
            match &fault {
                // Both run until the client goes away.
                Some(Fault::KeepAlive(after)) if n == *after => {
                    while send(": keep-alive\n\n".into()).await.is_ok() {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                    return;
                }
                Some(Fault::Endless) if n == 1 => {
                    let text = "and on ".repeat(146); // about 1 KiB per delta
                    let many = style.frame(&style.delta(&text)).repeat(64);
                    while send(many.clone()).await.is_ok() {}
                    return;
                }
                Some(Fault::ResetMidStream(after)) if n == *after => {
                    // Let what was sent reach the client first, as a real failure mid-stream would.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let _ = sender.send(Err(std::io::Error::other("injected reset"))).await;
                    return;
                }
                Some(Fault::Stall(after)) if n == *after => {
                    tokio::time::sleep(Duration::from_millis(hold_open_ms)).await;
                    return;
                }
                Some(Fault::MalformedChunk(at)) if n == *at => batch.push_str("data: {\"index\": 0, \"message\": \n\n"),
                _ => batch.push_str(&style.frame(event)),
            }
            if n + 1 == events.len() && style != Style::Native && fault != Some(Fault::NoFinish) {
                batch.push_str("data: [DONE]\n\n");
            }
            if n + 1 == events.len() && fault == Some(Fault::GarbageAfterEnd) {
                batch.push_str("data: {\"index\": 0, \"mess\n\ndata: \u{1b}[2Jgarbage\n\n");
            }
            if (n + 1) % per_write == 0 || n + 1 == events.len() {
                if send(std::mem::take(&mut batch)).await.is_err() {
                    return;
                }
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
            }
        }
        if fault == Some(Fault::NoFinish) {
            return; // a clean end of the body, before any finish event
        }
        // Like the service: the connection stays open for a while (the native API sends no [DONE]).
        tokio::time::sleep(Duration::from_millis(hold_open_ms)).await;
    });
    let frames =
        futures::stream::unfold(receiver, |mut receiver| async move { receiver.recv().await.map(|f| (f, receiver)) });
    StreamBody::new(frames).boxed()
}

/// The address to bind.
pub(crate) fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
