//! Embeddings and reranking, deterministic: the same text gives the same
//! vector, and texts that share words have a higher cosine similarity;
//! documents rank by the query words they hold. The 96-input cap of
//! `embedText` is enforced with a 400, as the service does.

use bytes::Bytes;
use hyper::Response;
use oci_genai_transport::models::{EmbedContent, EmbedTextDetails, RerankTextDetails};
use serde_json::json;

use crate::state::{Outcome, State, authenticate, error, fault_for, find_model, full};
use crate::stream_body::before_answer;

/// Dimensions of the emulated embeddings.
pub(crate) const DIMENSIONS: usize = 256;

/// `CHAT`, `TEXT_EMBEDDINGS` or `TEXT_RERANK`, from the model's name.
pub(crate) fn capability(model: &str) -> &'static str {
    let model = model.to_ascii_lowercase();
    if model.starts_with("cohere.embed") {
        "TEXT_EMBEDDINGS"
    } else if model.starts_with("cohere.rerank") {
        "TEXT_RERANK"
    } else {
        "CHAT"
    }
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// FNV-1a: stable across runs and platforms.
fn hash(word: &str) -> u64 {
    word.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The unit vector of `text`'s words (each word one signed dimension).
pub(crate) fn embedding(text: &str) -> Vec<f32> {
    let mut vector = vec![0f32; DIMENSIONS];
    for word in words(text) {
        let h = hash(&word);
        let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
        vector[(h % DIMENSIONS as u64) as usize] += sign;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

/// Checks a signed request for an embedding or rerank model of the right kind.
async fn checked<'a>(
    state: &'a State,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    request_id: &str,
    serving_mode: &oci_genai_transport::models::ServingMode,
    compartment_id: &str,
    kind: &str,
) -> Result<&'a crate::config::ModelConfig, Outcome> {
    if let Err(reason) = authenticate(state, parts, body) {
        return Err(error(401, "NotAuthenticated", &reason, request_id));
    }
    let model = find_model(&state.config, serving_mode, compartment_id)
        .map_err(|(status, code, message)| error(status, code, &message, request_id))?;
    if capability(&model.id) != kind {
        let message = format!("the model {} does not support {kind}", model.id);
        return Err(error(400, "InvalidParameter", &message, request_id));
    }
    if let Some(outcome) = before_answer(fault_for(state, parts, model).as_ref(), false, request_id, error).await {
        return Err(outcome);
    }
    Ok(model)
}

/// A 200 JSON reply carrying the request id (the listings use it too).
pub(crate) fn json_reply(value: serde_json::Value, request_id: &str) -> Outcome {
    let mut response = Response::new(full(Bytes::from(value.to_string())));
    response.headers_mut().insert("content-type", hyper::header::HeaderValue::from_static("application/json"));
    if let Ok(id) = hyper::header::HeaderValue::from_str(request_id) {
        response.headers_mut().insert("opc-request-id", id);
    }
    Ok(response)
}

/// `POST /20231130/actions/embedText`.
pub(crate) async fn embed(
    state: &State,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    request_id: &str,
) -> Outcome {
    let details: EmbedTextDetails = match serde_json::from_slice(body) {
        Ok(details) => details,
        Err(e) => return error(400, "InvalidParameter", &format!("Invalid request body: {e}"), request_id),
    };
    let model = match checked(
        state,
        parts,
        body,
        request_id,
        &details.serving_mode,
        &details.compartment_id,
        "TEXT_EMBEDDINGS",
    )
    .await
    {
        Ok(model) => model,
        Err(outcome) => return outcome,
    };
    let texts: Vec<String> = match (&details.inputs, &details.embed_contents) {
        (Some(inputs), _) => inputs.clone(),
        (None, Some(contents)) => contents
            .iter()
            .map(|c| match c {
                EmbedContent::Text(t) => t.text.clone().unwrap_or_default(),
                EmbedContent::Image(i) => i.image_url.as_ref().map(|u| u.url.clone()).unwrap_or_default(),
                EmbedContent::Unknown(v) => v.to_string(),
            })
            .collect(),
        (None, None) => Vec::new(),
    };
    if texts.is_empty() || texts.len() > 96 {
        let message = format!("inputs must hold between 1 and 96 items; {} were given", texts.len());
        return error(400, "InvalidParameter", &message, request_id);
    }
    if let Some(at) = texts.iter().position(|t| t.trim().is_empty()) {
        return error(400, "InvalidParameter", &format!("inputs[{at}] is empty"), request_id);
    }
    let tokens: usize = texts.iter().map(|t| words(t).count()).sum();
    let vectors: Vec<Vec<f32>> = texts.iter().map(|t| embedding(t)).collect();
    let mut reply = json!({
        "id": format!("emb-{request_id}"),
        "embeddings": vectors,
        "modelId": model.id,
        "modelVersion": "emulator",
        "usage": {"promptTokens": tokens, "totalTokens": tokens},
    });
    if details.is_echo == Some(true) {
        reply["inputs"] = json!(texts);
    }
    json_reply(reply, request_id)
}

/// `POST /20231130/actions/rerankText`: documents by the share of the query's words they hold.
pub(crate) async fn rerank(
    state: &State,
    parts: &hyper::http::request::Parts,
    body: &Bytes,
    request_id: &str,
) -> Outcome {
    let details: RerankTextDetails = match serde_json::from_slice(body) {
        Ok(details) => details,
        Err(e) => return error(400, "InvalidParameter", &format!("Invalid request body: {e}"), request_id),
    };
    let model =
        match checked(state, parts, body, request_id, &details.serving_mode, &details.compartment_id, "TEXT_RERANK")
            .await
        {
            Ok(model) => model,
            Err(outcome) => return outcome,
        };
    if details.documents.is_empty() {
        return error(400, "InvalidParameter", "documents must not be empty", request_id);
    }
    let query: std::collections::HashSet<String> = words(&details.input).collect();
    let mut ranks: Vec<(usize, f64)> = details
        .documents
        .iter()
        .enumerate()
        .map(|(index, document)| {
            let held: std::collections::HashSet<String> = words(document).collect();
            let shared = query.intersection(&held).count() as f64;
            (index, if query.is_empty() { 0.0 } else { shared / query.len() as f64 })
        })
        .collect();
    ranks.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if let Some(top) = details.top_n.filter(|n| *n > 0) {
        ranks.truncate(top as usize);
    }
    let echo = details.is_echo == Some(true);
    let ranks: Vec<_> = ranks
        .into_iter()
        .map(|(index, score)| {
            let mut rank = json!({"index": index, "relevanceScore": score});
            if echo {
                rank["document"] = json!({"text": details.documents[index]});
            }
            rank
        })
        .collect();
    json_reply(
        json!({"id": format!("rr-{request_id}"), "modelId": model.id, "modelVersion": "emulator", "documentRanks": ranks}),
        request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_same_text_gives_the_same_vector_and_shared_words_bring_vectors_closer() {
        assert_eq!(embedding("Oracle cloud"), embedding("oracle CLOUD"));
        let base = embedding("the oracle cloud infrastructure");
        let near = embedding("oracle cloud regions");
        let far = embedding("bananas are yellow");
        assert!(cosine(&base, &near) > cosine(&base, &far));
        assert!((cosine(&base, &base) - 1.0).abs() < 1e-5);
    }
}
