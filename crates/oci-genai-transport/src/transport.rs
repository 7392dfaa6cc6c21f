//! Which of the service's two APIs a model is reached through.

use std::fmt;

use crate::error::Error;
use crate::serving::ServingMode;

/// The API a chat goes through.
///
/// | transport | path | serves |
/// |---|---|---|
/// | [`Native`](Self::Native) | `/20231130/actions/chat` | every model, dedicated endpoints, Cohere (GENERIC and COHERE shapes) |
/// | [`ChatCompletions`](Self::ChatCompletions) | `/openai/v1/chat/completions` | on-demand models except Cohere R |
/// | [`Responses`](Self::Responses) | `/openai/v1/responses` | on-demand models except Cohere R |
///
/// [`for_model`](Self::for_model) routes as the Python locus does: endpoint
/// OCIDs, model OCIDs and `cohere.command-r*` go native, every other
/// on-demand model goes to chat completions; Responses is chosen, never
/// defaulted to.
///
/// ```
/// use oci_genai_transport::{ServingMode, Transport};
/// let llama = ServingMode::from_model_id("meta.llama-3.3-70b-instruct")?;
/// assert_eq!(Transport::for_model(&llama), Transport::ChatCompletions);
/// let dac = ServingMode::from_model_id("ocid1.generativeaiendpoint.oc1.us-chicago-1.x")?;
/// assert_eq!(Transport::for_model(&dac), Transport::Native);
/// assert!(Transport::Responses.check(&dac).unwrap_err().to_string().contains("--transport native"));
/// assert_eq!("sdk".parse::<Transport>()?, Transport::Native);
/// # Ok::<(), oci_genai_transport::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OCI's own chat API.
    Native,
    /// The OpenAI-compatible chat completions API.
    ChatCompletions,
    /// The OpenAI-compatible Responses API.
    Responses,
}

impl Transport {
    /// The default transport for `serving`.
    pub fn for_model(serving: &ServingMode) -> Transport {
        match serving {
            ServingMode::OnDemand { model_id } if !crate::is_ocid(model_id) && !is_cohere_r(model_id) => {
                Transport::ChatCompletions
            }
            _ => Transport::Native,
        }
    }

    /// Whether this transport can serve `serving`: the OpenAI-compatible API
    /// serves neither dedicated endpoints nor Cohere R-series models (the
    /// service answers 400), so asking for that is refused before sending.
    pub fn check(self, serving: &ServingMode) -> Result<(), Error> {
        if self == Transport::Native {
            return Ok(());
        }
        let reason = match serving {
            ServingMode::Dedicated { .. } => "the OpenAI-compatible API does not serve dedicated endpoints",
            ServingMode::OnDemand { model_id } if is_cohere_r(model_id) => {
                "the OpenAI-compatible API does not serve Cohere R-series models (it answers \"Unsupported OpenAI operation\")"
            }
            ServingMode::OnDemand { .. } => return Ok(()),
        };
        Err(Error::TransportCannotServe { transport: self, model: serving.id().to_owned(), reason })
    }

    /// The path a chat call through this transport is sent to, under the
    /// inference host.
    ///
    /// ```
    /// use oci_genai_transport::Transport;
    /// assert_eq!(Transport::Native.chat_path(), "/20231130/actions/chat");
    /// assert_eq!(Transport::Responses.chat_path(), "/openai/v1/responses");
    /// ```
    pub fn chat_path(self) -> &'static str {
        match self {
            Transport::Native => "/20231130/actions/chat",
            Transport::ChatCompletions => "/openai/v1/chat/completions",
            Transport::Responses => "/openai/v1/responses",
        }
    }

    /// `native`, `chat-completions` or `responses`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Native => "native",
            Transport::ChatCompletions => "chat-completions",
            Transport::Responses => "responses",
        }
    }

    /// Whether this is one of the OpenAI-compatible APIs.
    pub fn is_openai(self) -> bool {
        self != Transport::Native
    }
}

/// `cohere.command-r…`: Cohere models the OpenAI-compatible API refuses.
fn is_cohere_r(model_id: &str) -> bool {
    model_id.trim().to_ascii_lowercase().starts_with("cohere.command-r")
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Transport {
    type Err = Error;

    /// `native` (or `sdk`, the Python locus' word), `chat-completions` (or
    /// `chat_completions`, `v1`, `openai`), `responses`; any case.
    fn from_str(value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "native" | "sdk" => Ok(Transport::Native),
            "chat-completions" | "chat_completions" | "chatcompletions" | "v1" | "openai" => {
                Ok(Transport::ChatCompletions)
            }
            "responses" => Ok(Transport::Responses),
            other => Err(Error::Config(format!(
                "transport `{other}`: use native (or sdk), chat-completions (or v1), or responses"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(id: &str) -> ServingMode {
        ServingMode::from_model_id(id).unwrap()
    }

    #[test]
    fn routing_follows_the_python_locus() {
        assert_eq!(Transport::for_model(&mode("openai.gpt-5")), Transport::ChatCompletions);
        assert_eq!(Transport::for_model(&mode("xai.grok-4")), Transport::ChatCompletions);
        assert_eq!(Transport::for_model(&mode("cohere.command-a-03-2025")), Transport::ChatCompletions);
        assert_eq!(Transport::for_model(&mode("COHERE.command-r-plus-08-2024")), Transport::Native);
        assert_eq!(Transport::for_model(&mode("ocid1.generativeaimodel.oc1.iad.x")), Transport::Native);
        assert_eq!(Transport::for_model(&mode("ocid1.generativeaiendpoint.oc1.iad.x")), Transport::Native);
    }

    #[test]
    fn a_transport_that_cannot_serve_names_the_one_that_can() {
        let err = Transport::ChatCompletions.check(&mode("cohere.command-r-08-2024")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Cohere R") && text.contains("--transport native"), "{text}");
        assert!(Transport::Native.check(&mode("ocid1.generativeaiendpoint.oc1.iad.x")).is_ok());
        assert!(Transport::Responses.check(&mode("openai.gpt-5")).is_ok());
    }

    #[test]
    fn names_parse_in_every_spelling() {
        for (text, transport) in [
            ("SDK", Transport::Native),
            ("v1", Transport::ChatCompletions),
            ("chat_completions", Transport::ChatCompletions),
            (" responses ", Transport::Responses),
        ] {
            assert_eq!(text.parse::<Transport>().unwrap(), transport);
        }
        assert!("grpc".parse::<Transport>().unwrap_err().to_string().contains("chat-completions"));
    }
}
