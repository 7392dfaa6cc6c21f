//! The HTTP side of one request: the guard, the body within its bounds,
//! the route, and one log line.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use tracing::Instrument;

use crate::config::GatewayConfig;
use crate::error::GatewayError;
use crate::routes;
use crate::state::{Body, Served, State, full};

fn failure(error: &GatewayError) -> Response<Body> {
    let mut response = full(error.status, "application/json", error.body());
    if let Some(id) = error.opc_request_id.as_deref().and_then(|id| hyper::header::HeaderValue::from_str(id).ok()) {
        response.headers_mut().insert("opc-request-id", id);
    }
    response
}

/// The routes served; any other path is `unknown` in spans and logs (a route is a low-cardinality attribute).
const ROUTES: [&str; 4] = ["/v1/chat/completions", "/v1/embeddings", "/v1/models", "/healthz"];

/// Serves one request, inside a server span (OpenTelemetry HTTP conventions)
/// that the model call's span is a child of, and logs one line for it.
pub(crate) async fn handle(
    state: Arc<State>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let path = request.uri().path();
    let route_name = ROUTES.iter().find(|&&known| known == path).copied().unwrap_or("unknown");
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
    let mut served = Served::default();
    let (response, error) = match route(&state, request, peer, &mut served).instrument(span.clone()).await {
        Ok(response) => (response, None),
        Err(error) => {
            span.record("error.type", error.code.as_str());
            span.record("otel.status_code", "ERROR");
            (failure(&error), Some(error))
        }
    };
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let model = served.model.as_deref().unwrap_or("-");
    let opc_request_id = error.as_ref().and_then(|e| e.opc_request_id.as_deref()).unwrap_or("-");
    match &error {
        None => tracing::info!(
            target: "locus_gateway::access",
            "{method} {route_name} {status} model={model} latency_ms={latency_ms:.1} opc-request-id={opc_request_id}"
        ),
        Some(error) => tracing::info!(
            target: "locus_gateway::access",
            "{method} {route_name} {status} model={model} latency_ms={latency_ms:.1} opc-request-id={opc_request_id} \
             error={}: {}",
            error.code,
            error.message.escape_debug()
        ),
    }
    Ok(response)
}

async fn route(
    state: &Arc<State>,
    request: Request<Incoming>,
    peer: SocketAddr,
    served: &mut Served,
) -> Result<Response<Body>, GatewayError> {
    let (parts, body) = request.into_parts();
    if parts.method == hyper::Method::GET && parts.uri.path() == "/healthz" {
        return Ok(full(200, "text/plain", "ok\n".into()));
    }
    state.access.admit(&state.config, &parts, peer)?;
    let body = read_body(&state.config, body).await?;
    match (parts.method.as_str(), parts.uri.path()) {
        ("POST", "/v1/chat/completions") => routes::chat(state, &body, served).await,
        ("POST", "/v1/embeddings") => routes::embeddings(state, &body, served).await,
        ("GET", "/v1/models") => {
            Ok(full(200, "application/json", state.catalog.list(&state.config, &state.client).await.to_string()))
        }
        (method, path) => Err(GatewayError::new(
            404,
            "invalid_request_error",
            "unknown_url",
            format!("no route for {method} {}", path.escape_debug()),
        )),
    }
}

/// The whole body, within the size and time bounds.
async fn read_body(config: &GatewayConfig, body: Incoming) -> Result<Bytes, GatewayError> {
    let limit = config.max_body_bytes;
    let read = http_body_util::Limited::new(body, limit).collect();
    match tokio::time::timeout(config.body_timeout, read).await {
        Ok(Ok(body)) => Ok(body.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(GatewayError::new(
            413,
            "invalid_request_error",
            "request_too_large",
            format!("the request body exceeds {limit} bytes"),
        )),
        Ok(Err(e)) => Err(GatewayError::bad_request(format!("cannot read the request: {e}"))),
        Err(_) => Err(GatewayError::new(
            408,
            "invalid_request_error",
            "request_timeout",
            format!("the request body took longer than {} s to arrive", config.body_timeout.as_secs()),
        )),
    }
}
