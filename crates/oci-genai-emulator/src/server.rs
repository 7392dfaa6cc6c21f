//! The HTTP side: connections, and each request routed to its handler.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use oci_auth::{SignableBody, SignableRequest};
use serde_json::json;

use crate::state::{Outcome, State, error, full};
use crate::stream_body::Style;

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
        (true, "/20231130/actions/applyGuardrails") => {
            return crate::guardrails::apply(&state, &parts, &body, &request_id).await;
        }
        (true, "/openai/v1/responses") => {
            return crate::openai::handle(&state, &parts, &body, &request_id, Style::Responses).await;
        }
        _ => {
            return error(
                404,
                "NotFound",
                "only POST /20231130/actions/chat, embedText, rerankText, applyGuardrails, /openai/v1/chat/completions, \
                 /openai/v1/responses and GET /20231130/models, /20231130/endpoints are emulated",
                &request_id,
            );
        }
    }

    crate::native::chat(&state, &parts, &body, &request_id).await
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
