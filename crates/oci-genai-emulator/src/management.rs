//! The management API's listings, as the service answers them:
//! `GET /20231130/models?compartmentId=…` (the on-demand models, each a
//! `BASE` model with capability `CHAT`) and `GET /20231130/endpoints?compartmentId=…`
//! (the dedicated endpoints of this region in that compartment), signed.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::state::{Outcome, State, authenticate, error};

/// Answers a listing, or `None` when `path` is not one.
pub(crate) fn handle(state: &State, parts: &hyper::http::request::Parts, request_id: &str) -> Option<Outcome> {
    let path = parts.uri.path();
    if parts.method != hyper::Method::GET || !matches!(path, "/20231130/models" | "/20231130/endpoints") {
        return None;
    }
    if let Err(reason) = authenticate(state, parts, &Bytes::new()) {
        return Some(error(401, "NotAuthenticated", &reason, request_id));
    }
    let query = parts.uri.query().unwrap_or_default();
    let param = |name: &str| {
        query.split('&').filter_map(|pair| pair.split_once('=')).find(|(key, _)| *key == name).map(|(_, v)| decode(v))
    };
    let Some(compartment) = param("compartmentId") else {
        return Some(error(400, "InvalidParameter", "compartmentId is required", request_id));
    };
    let config = &state.config;
    let items: Vec<Value> = if path == "/20231130/models" {
        if compartment != config.compartment_id && compartment != config.tenancy {
            return Some(not_found(&compartment, request_id));
        }
        let capability = param("capability");
        config
            .models
            .iter()
            .filter(|m| !oci_genai_transport::is_ocid(&m.id))
            .filter(|m| capability.as_deref().is_none_or(|c| c == crate::retrieval::capability(&m.id)))
            .map(|m| {
                json!({
                    "id": format!("ocid1.generativeaimodel.oc1.{}.{}", config.region, short(&m.id)),
                    "displayName": m.id,
                    "vendor": m.id.split('.').next().unwrap_or("emulator"),
                    "version": "emulator",
                    "capabilities": [crate::retrieval::capability(&m.id)],
                    "lifecycleState": "ACTIVE",
                    "type": "BASE",
                    "compartmentId": compartment,
                    "timeDeprecated": m.time_deprecated,
                    "timeOnDemandRetired": m.time_on_demand_retired,
                })
            })
            .collect()
    } else {
        config
            .models
            .iter()
            .filter(|m| m.id.to_ascii_lowercase().starts_with("ocid1.generativeaiendpoint."))
            .filter(|m| m.id.split('.').nth(3).is_some_and(|r| r == config.region))
            .filter(|m| m.compartment_id.as_deref().unwrap_or(&config.compartment_id) == compartment)
            .map(|m| {
                json!({
                    "id": m.id,
                    "displayName": format!("emulated {}", short(&m.id)),
                    "modelId": format!("ocid1.generativeaimodel.oc1.{}.{}", config.region, short(&m.id)),
                    "compartmentId": compartment,
                    "lifecycleState": "ACTIVE",
                })
            })
            .collect()
    };
    Some(crate::retrieval::json_reply(json!({ "items": items }), request_id))
}

fn not_found(compartment: &str, request_id: &str) -> Outcome {
    let message = format!("Authorization failed or requested resource not found: compartment {compartment}");
    error(404, "NotAuthorizedOrNotFound", &message, request_id)
}

/// The last part of an id, for made-up OCIDs and names.
fn short(id: &str) -> String {
    id.rsplit('.').next().unwrap_or(id).chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect()
}

/// `%XX` decoded (query values).
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
