//! Request shapes: how neutral requests become wire requests, and replies
//! and stream chunks become neutral ones.

pub(crate) mod chunk_view;
mod cohere;
mod coherev2;
mod generic;

pub use cohere::CohereShape;
pub use coherev2::CohereV2Shape;
pub use generic::GenericShape;
pub(crate) use generic::{is_openai_reasoning, sendable_temperature, tool_result_text};

use oci_genai_transport::ServingMode;
use oci_genai_transport::models::{BaseChatRequest, ChatResult};
use oci_genai_transport::sse::SseEvent;

use crate::error::Error;
use crate::types::{ChatRequest, ChatResponse, ModelEvent};

/// Which wire dialect a model speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ApiFormat {
    /// Choose from the model id: `cohere.command-a*` → CohereV2, other
    /// `cohere.*` → Cohere, everything else (and every dedicated endpoint,
    /// whose model family is unknown) → Generic.
    #[default]
    Auto,
    /// OpenAI-like: Meta, OpenAI, xAI, Google, Mistral, Qwen, most DAC models.
    Generic,
    /// Cohere's chat API (`message`, `chatHistory`, `toolResults`): the R series.
    Cohere,
    /// Cohere's V2 chat API (messages with roles, tool calls): `cohere.command-a-*`.
    CohereV2,
}

impl ApiFormat {
    /// The concrete format for `serving`.
    ///
    /// ```
    /// use locus_providers::ApiFormat;
    /// use oci_genai_transport::ServingMode;
    /// let cohere = ServingMode::from_model_id("cohere.command-r-plus-08-2024")?;
    /// assert_eq!(ApiFormat::Auto.resolve(&cohere), ApiFormat::Cohere);
    /// let dac = ServingMode::from_model_id("ocid1.generativeaiendpoint.oc1.iad.x")?;
    /// assert_eq!(ApiFormat::Auto.resolve(&dac), ApiFormat::Generic);
    /// assert_eq!(ApiFormat::Cohere.resolve(&dac), ApiFormat::Cohere);
    /// # Ok::<(), oci_genai_transport::Error>(())
    /// ```
    pub fn resolve(self, serving: &ServingMode) -> ApiFormat {
        match self {
            ApiFormat::Auto => match serving {
                ServingMode::OnDemand { model_id } => {
                    let model = model_id.to_ascii_lowercase();
                    if model.starts_with("cohere.command-a") {
                        ApiFormat::CohereV2
                    } else if model.starts_with("cohere.") {
                        ApiFormat::Cohere
                    } else {
                        ApiFormat::Generic
                    }
                }
                _ => ApiFormat::Generic,
            },
            concrete => concrete,
        }
    }

    /// The shape for this format (`Auto` resolved against `serving`).
    pub fn shape(self, serving: &ServingMode) -> Box<dyn RequestShape> {
        match self.resolve(serving) {
            ApiFormat::Cohere => Box::new(CohereShape),
            ApiFormat::CohereV2 => Box::new(CohereV2Shape),
            _ => Box::new(GenericShape),
        }
    }
}

impl std::str::FromStr for ApiFormat {
    type Err = Error;

    /// `generic`, `cohere`, `coherev2` or `auto` (any case; empty is `auto`).
    ///
    /// ```
    /// use locus_providers::ApiFormat;
    /// assert_eq!("COHERE".parse::<ApiFormat>()?, ApiFormat::Cohere);
    /// assert!("json".parse::<ApiFormat>().is_err());
    /// # Ok::<(), locus_providers::Error>(())
    /// ```
    fn from_str(value: &str) -> Result<Self, Error> {
        match value.trim().to_ascii_lowercase().as_str() {
            "generic" => Ok(ApiFormat::Generic),
            "cohere" => Ok(ApiFormat::Cohere),
            "coherev2" | "cohere-v2" | "cohere_v2" => Ok(ApiFormat::CohereV2),
            "auto" | "" => Ok(ApiFormat::Auto),
            other => Err(Error::Config(format!("API format `{other}`: use generic, cohere, coherev2 or auto"))),
        }
    }
}

/// What a shape remembers between the chunks of one stream.
#[derive(Debug, Default)]
pub struct StreamState {
    /// Cohere: whether text has been streamed (the final event repeats it).
    pub(crate) text_streamed: bool,
    /// Cohere: tool calls seen so far in the stream.
    pub(crate) tool_calls: usize,
    /// Responses: the function-call output items seen, in order (their
    /// position is the tool call's index).
    pub(crate) items: Vec<OutputItemState>,
}

/// A Responses function-call item, by its position in the output.
#[derive(Debug)]
pub(crate) struct OutputItemState {
    pub output_index: u32,
    /// Whether its arguments have been sent on (by deltas or whole).
    pub streamed: bool,
}

impl StreamState {
    /// The tool-call index of the item at `output_index`, opening it if new.
    pub(crate) fn open_item(&mut self, output_index: u32) -> usize {
        match self.items.iter().position(|i| i.output_index == output_index) {
            Some(index) => index,
            None => {
                self.items.push(OutputItemState { output_index, streamed: false });
                self.items.len() - 1
            }
        }
    }

    /// The item at `output_index` (opened if new).
    pub(crate) fn item_mut(&mut self, output_index: u32) -> &mut OutputItemState {
        let index = self.open_item(output_index);
        &mut self.items[index]
    }
}

/// A wire dialect.
pub trait RequestShape: Send + Sync + std::fmt::Debug {
    /// `"GENERIC"`, `"COHERE"` or `"COHEREV2"`.
    fn name(&self) -> &'static str;

    /// The wire request for `serving` (whose model id may need quirks). Every
    /// neutral parameter reaches the wire, or is a typed error (or a
    /// documented, logged adaptation). The stream flag is the transport's to
    /// set ([`GenAiClient::chat_stream`](oci_genai_transport::GenAiClient::chat_stream)).
    fn build_request(&self, request: &ChatRequest, serving: &ServingMode) -> Result<BaseChatRequest, Error>;

    /// The neutral answer from a whole reply.
    fn parse_response(&self, result: ChatResult) -> Result<ChatResponse, Error>;

    /// Appends the neutral events in one stream chunk to `out` (a buffer
    /// the caller reuses, so that a chunk costs no list of its own). The
    /// event is taken whole so that its buffer can become the text delta.
    fn parse_stream_chunk(
        &self,
        event: SseEvent,
        state: &mut StreamState,
        out: &mut Vec<ModelEvent>,
    ) -> Result<(), Error>;
}
