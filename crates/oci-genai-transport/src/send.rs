//! Sending a prepared request: signing each attempt, retrying as the SDK
//! does, logging, and reading error replies.

use std::time::Duration;

use bytes::Bytes;
use oci_auth::{SharedCredentialsProvider, SharedEnv, SigningSettings, sign_reqwest_request};
use tokio::time::Instant;

use crate::error::{Error, ServiceError};
use crate::limits::Limits;
use crate::prepare::PreparedRequest;
use crate::retry::{RetryPolicy, parse_retry_after};

const ACCEPT: &str = "application/json, text/event-stream";
/// The most of an error reply that is read: enough for any real error document.
pub(crate) const MAX_ERROR_BODY: usize = 1024 * 1024;

/// How requests are sent: the HTTP client, the credentials, retries and bounds.
#[derive(Debug)]
pub(crate) struct Sender {
    pub http: reqwest::Client,
    pub credentials: SharedCredentialsProvider,
    pub env: SharedEnv,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub limits: Limits,
    pub log_requests: bool,
}

impl Sender {
    /// Sends with retries until a 2xx response (whose body is not read). A
    /// stream (`deadline` set) waits for headers at most the read timeout and
    /// retries only within its deadline.
    pub async fn send(
        &self,
        prepared: &PreparedRequest,
        deadline: Option<Instant>,
    ) -> Result<reqwest::Response, Error> {
        let streaming = deadline.is_some();
        let started = Instant::now();
        let budget_end =
            deadline.map_or(started + self.retry.max_elapsed(), |d| d.min(started + self.retry.max_elapsed()));
        let (mut attempt, mut refreshed, mut refresh_now) = (0u32, false, false);
        loop {
            // Only the attempt right after a 401 forces new credentials; later retries reuse them.
            let credentials = if std::mem::take(&mut refresh_now) {
                self.credentials.refresh().await?
            } else {
                self.credentials.credentials().await?
            };
            let mut request = self
                .http
                .post(&prepared.url)
                .header("content-type", "application/json")
                .header("accept", ACCEPT)
                .header("opc-request-id", &prepared.opc_request_id)
                .header("opc-retry-token", &prepared.retry_token)
                .body(prepared.body.clone())
                .build()
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;
            if !streaming {
                *request.timeout_mut() = Some(self.timeout);
            }
            sign_reqwest_request(&mut request, &credentials, &SigningSettings::default())?;
            if self.log_requests {
                tracing::debug!(headers = ?redacted_headers(request.headers()), "OCI GenAI request headers");
            }
            tracing::trace!(body = %String::from_utf8_lossy(&prepared.body), "OCI GenAI request");
            let sent = Instant::now();
            let request_id = Some(prepared.opc_request_id.clone());
            let header_wait = match deadline {
                Some(deadline) => self.limits.read_timeout().min(deadline.saturating_duration_since(sent)),
                None => self.timeout,
            };
            let outcome = match tokio::time::timeout(header_wait, self.http.execute(request)).await {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(e)) => Err(Error::from_reqwest(&prepared.url, e, request_id.clone())),
                Err(_) => Err(Error::Transport {
                    url: prepared.url.clone(),
                    message: format!("no response headers within {} s", header_wait.as_secs_f64()),
                    timeout: true,
                    connect: false,
                    retryable: true,
                    opc_request_id: request_id.clone(),
                    source: None,
                }),
            };
            let status = outcome.as_ref().map(|r| r.status().as_u16()).ok();
            if self.log_requests {
                tracing::info!(
                    method = "POST",
                    url = %prepared.url,
                    status = status.unwrap_or_default(), // 0: no response
                    latency_ms = sent.elapsed().as_millis() as u64,
                    opc_request_id = %prepared.opc_request_id,
                    attempt = attempt + 1,
                    "OCI GenAI request"
                );
            }
            let (error, retry_after) = match outcome {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, self.env.now()));
                    (self.service_error(response, prepared).await, retry_after)
                }
                Err(error) => (error, None),
            };
            if error.status() == Some(401) && !refreshed {
                // Credentials may have been revoked or rotated: refresh once and try again.
                (refreshed, refresh_now) = (true, true);
                continue;
            }
            attempt += 1;
            // A delay (Retry-After included) that ends past the budget is not waited out.
            let delay = self.retry.delay(attempt - 1, retry_after);
            let remaining = budget_end.saturating_duration_since(Instant::now());
            if !error.is_retryable() || attempt >= self.retry.max_attempts() || delay >= remaining {
                if error.is_retryable() && delay >= remaining {
                    tracing::debug!(
                        delay_s = delay.as_secs_f64(),
                        "not retrying: the wait would pass the retry budget"
                    );
                }
                return Err(error);
            }
            tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, "retrying OCI GenAI request: {error}");
            tokio::time::sleep(delay).await;
        }
    }

    async fn service_error(&self, response: reqwest::Response, prepared: &PreparedRequest) -> Error {
        let status = response.status().as_u16();
        let request_id = response
            .headers()
            .get("opc-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| prepared.opc_request_id.clone());
        let read = tokio::time::timeout(self.limits.read_timeout(), read_capped(response, MAX_ERROR_BODY, prepared));
        let body = read.await.ok().and_then(Result::ok).map(|(body, _)| body);
        if let Some(body) = &body {
            tracing::trace!(status, body = %String::from_utf8_lossy(body), "OCI GenAI error reply");
        }
        let parsed = body.as_deref().map(oci_auth::ErrorBody::parse).unwrap_or_default();
        let error = Error::Service(Box::new(ServiceError {
            status,
            code: parsed.code.unwrap_or_else(|| format!("HTTP{status}")),
            message: parsed.message.unwrap_or_default(),
            opc_request_id: Some(request_id),
            context: prepared.context.clone(),
        }));
        if let Some(hint) = error.hint() {
            tracing::debug!("{error}; hint: {hint}");
        }
        error
    }
}

/// Reads a body up to `limit` bytes; `true` when there was more (not read).
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    prepared: &PreparedRequest,
) -> Result<(Bytes, bool), Error> {
    let request_id = || Some(prepared.opc_request_id.clone());
    let mut body = Vec::with_capacity(response.content_length().map_or(0, |n| n.min(limit as u64) as usize));
    while let Some(chunk) = response.chunk().await.map_err(|e| Error::from_reqwest(&prepared.url, e, request_id()))? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((Bytes::from(body), true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((Bytes::from(body), false))
}

/// Header names and values for logs, with credentials replaced.
fn redacted_headers(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str();
            let secret = name == "authorization"
                || name == "cookie"
                || (name.contains("token") && name != "opc-retry-token")
                || name.contains("key")
                || name.contains("secret");
            let value =
                if secret { "<redacted>".to_owned() } else { String::from_utf8_lossy(value.as_bytes()).into_owned() };
            (name.to_owned(), value)
        })
        .collect()
}
