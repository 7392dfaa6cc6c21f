//! What every route shares: the emulator's state, response helpers, the
//! signature check, model lookup and the configured faults' counts.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::{Response, StatusCode};
use oci_auth::verify::{self, PublicKey, SignatureHeader};
use oci_auth::{SignableBody, SignableRequest};
use oci_genai_transport::models::ServingMode;
use serde_json::json;

use crate::config::{EmulatorConfig, Fault, ModelConfig};

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

/// The fault for this request: the `x-emulator-fault` header's, else the model's.
pub(crate) fn fault_for(state: &State, parts: &hyper::http::request::Parts, model: &ModelConfig) -> Option<Fault> {
    let header_fault = parts.headers.get("x-emulator-fault").and_then(|v| v.to_str().ok()).and_then(Fault::parse);
    header_fault.or_else(|| model_fault(state, model))
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

/// A chat answer's headers: the request id, and `model-retirement-info` for
/// a model with a deprecation date, as the service marks a model being retired.
pub(crate) fn answer_headers(response: &mut Response<Body>, request_id: &str, model: &ModelConfig) {
    if let Ok(id) = hyper::header::HeaderValue::from_str(request_id) {
        response.headers_mut().insert("opc-request-id", id);
    }
    if let Some(deprecated) = &model.time_deprecated {
        let retired = model.time_on_demand_retired.as_deref().unwrap_or("not announced");
        let info = format!("deprecated {deprecated}; on-demand retirement {retired}");
        if let Ok(value) = hyper::header::HeaderValue::from_str(&info) {
            response.headers_mut().insert("model-retirement-info", value);
        }
    }
}

/// The address to bind.
pub(crate) fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
