//! What every request shares: the gateway's state, the response body type,
//! and a whole response.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::Response;
use oci_genai_transport::GenAiClient;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::access::Access;
use crate::catalog::Catalog;
use crate::config::GatewayConfig;
use crate::error::GatewayError;

pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

/// What every connection shares.
pub(crate) struct State {
    pub config: GatewayConfig,
    pub client: GenAiClient,
    /// Upstream calls at once, streamed or not.
    pub calls: Arc<Semaphore>,
    pub access: Access,
    pub catalog: Catalog,
}

impl State {
    /// A permit for one upstream call, or a 429: every call to the service takes one.
    pub(crate) fn call_permit(&self) -> Result<OwnedSemaphorePermit, GatewayError> {
        Arc::clone(&self.calls).try_acquire_owned().map_err(|_| {
            GatewayError::new(
                429,
                "rate_limit_error",
                "too_many_calls",
                format!("{} model calls are under way; try again shortly", self.config.max_concurrent_calls),
            )
        })
    }
}

/// What the log line says of a request, filled in as it is served.
#[derive(Debug, Default)]
pub(crate) struct Served {
    pub model: Option<String>,
}

pub(crate) fn full(status: u16, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static(content_type));
    response
}
