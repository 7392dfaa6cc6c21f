//! Calls to OCI auth services (federation, resource principal tokens, the
//! OKE workload identity exchange), their errors, and the PEM bodies they carry.

use std::time::Duration;

use crate::backoff::Backoff;
use crate::credentials::Credentials;
use crate::env::Env;
use crate::error::{AuthServiceError, Error, Result};
use crate::http_client::{HttpClient, HttpRequest};
use crate::secret::Secret;
use crate::sign::{SignableBody, SignableRequest, SigningSettings, sign};

const SERVICE_ATTEMPTS: u32 = 4;
const SERVICE_TIMEOUT: Duration = Duration::from_secs(30);
const SERVICE_BACKOFF: Backoff = Backoff::const_new(Duration::from_millis(100), Duration::from_secs(2));

/// How a call to an auth service proves who sends it.
pub(crate) enum CallAuth<'a> {
    /// An OCI signature, made afresh for each attempt.
    Signed { credentials: &'a Credentials, settings: SigningSettings },
    /// `Authorization: Bearer <token>` (the OKE exchange's service-account token).
    Bearer(&'a Secret),
}

/// A call to an OCI auth service.
pub(crate) struct ServiceCall<'a> {
    /// Names the service in errors ("federation service").
    pub service: &'static str,
    pub method: &'static str,
    pub url: String,
    /// JSON to send, for POST.
    pub body: Option<serde_json::Value>,
    pub headers: Vec<(String, String)>,
    pub auth: CallAuth<'a>,
}

impl ServiceCall<'_> {
    /// Sends the call (re-signed on each attempt) and parses the JSON answer.
    pub(crate) async fn send(&self, http: &dyn HttpClient, env: &dyn Env) -> Result<serde_json::Value> {
        let answer = self.send_raw(http, env).await?;
        serde_json::from_slice(&answer).map_err(|_| self.invalid_response(200, "the answer is not JSON".into()))
    }

    /// Sends the call, retrying transient failures, and returns the body of the success answer.
    pub(crate) async fn send_raw(&self, http: &dyn HttpClient, env: &dyn Env) -> Result<Vec<u8>> {
        let body = match &self.body {
            Some(json) => serde_json::to_vec(json).map_err(|e| self.invalid_response(200, e.to_string()))?,
            None => Vec::new(),
        };
        let mut last = None;
        for attempt in 0..SERVICE_ATTEMPTS {
            if attempt > 0 {
                http.sleep(SERVICE_BACKOFF.delay(attempt - 1)).await;
            }
            let request = self.signed_request(&body, env)?;
            match http.send(request).await {
                Ok(response) if (200..300).contains(&response.status) => return Ok(response.body),
                Ok(response) => {
                    let body = crate::ErrorBody::parse(&response.body);
                    let error = Error::AuthService(Box::new(AuthServiceError {
                        service: self.service,
                        url: self.url.clone(),
                        status: response.status,
                        code: body.code.unwrap_or_else(|| "Unknown".into()),
                        message: body.message.unwrap_or_else(|| "(no message)".into()),
                        request_id: response.header("opc-request-id").unwrap_or("none").to_owned(),
                        hint: hint(self.service, response.status),
                    }));
                    if !error.is_transient() {
                        return Err(error);
                    }
                    last = Some(error);
                }
                Err(e) => {
                    last = Some(Error::AuthServiceUnreachable {
                        service: self.service,
                        url: self.url.clone(),
                        message: e.to_string(),
                    })
                }
            }
        }
        Err(last.unwrap_or_else(|| self.invalid_response(200, "no attempt made".into())))
    }

    fn signed_request(&self, body: &[u8], env: &dyn Env) -> Result<HttpRequest> {
        let mut headers = self.headers.clone();
        if self.body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        match &self.auth {
            CallAuth::Signed { credentials, settings } => {
                let signable = SignableRequest::new(
                    self.method,
                    &self.url,
                    headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    SignableBody::Bytes(body),
                );
                let instructions = sign(&signable, credentials, &settings.clone().with_time(env.now()))?;
                headers.extend(instructions.into_headers().into_iter().map(|(k, v)| (k.to_owned(), v)));
            }
            CallAuth::Bearer(token) => headers.push(("authorization".into(), format!("Bearer {}", token.expose()))),
        }
        Ok(HttpRequest {
            method: self.method,
            url: self.url.clone(),
            headers,
            body: body.to_vec(),
            timeout: SERVICE_TIMEOUT,
        })
    }

    /// An error for a success answer we cannot use.
    pub(crate) fn invalid_response(&self, status: u16, message: String) -> Error {
        Error::AuthService(Box::new(AuthServiceError {
            service: self.service,
            url: self.url.clone(),
            status,
            code: "InvalidResponse".into(),
            message,
            request_id: "none".into(),
            hint: None,
        }))
    }
}

/// The service name of the OKE workload identity exchange, in errors.
pub(crate) const OKE_EXCHANGE: &str = "OKE workload identity token exchange";

/// A string field of a service's JSON answer, or an error naming it.
pub(crate) fn field(call: &ServiceCall<'_>, json: &serde_json::Value, name: &str) -> Result<String> {
    json.get(name)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| call.invalid_response(200, format!("the answer has no `{name}`")))
}

fn hint(service: &str, status: u16) -> Option<String> {
    match (service, status) {
        (OKE_EXCHANGE, 401) => Some(
            "the service account token was refused: check that the pod's token is mounted and current \
             (OCI_KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH names another file)"
                .into(),
        ),
        (OKE_EXCHANGE, 403) => Some(
            "OKE workload identity needs an enhanced cluster, and a policy that allows the workload \
             (request.principal.type = 'workload', with its cluster, namespace and service account)"
                .into(),
        ),
        ("federation service", 401) => Some(
            "the instance certificate was refused: check that this instance belongs to a dynamic group \
             and that the machine's clock is right"
                .into(),
        ),
        (_, 401) => Some("the signing key was refused: check the resource principal environment variables".into()),
        (_, 404) => Some("check the endpoint's region and path (OCI_SDK_AUTH_CLIENT_REGION_URL overrides it)".into()),
        _ => None,
    }
}

/// The base64 body of a PEM block, without the BEGIN/END lines and newlines,
/// as the SDKs send certificates and public keys.
pub(crate) fn pem_body(pem: &str) -> String {
    pem.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("-----")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn pem_body_strips_armour_and_newlines() {
        let pem = "-----BEGIN PUBLIC KEY-----\nMIIB\r\nIjAN\n-----END PUBLIC KEY-----\n";
        assert_eq!(super::pem_body(pem), "MIIBIjAN");
    }
}
