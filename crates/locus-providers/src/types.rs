//! Provider-neutral chat types: no OCI names here.

mod message;
mod request;
mod response;

pub use message::{ContentPart, ImageSource, Message, Role, ToolCall, new_call_id};
pub use request::{
    ChatRequest, CitationMode, Document, GenerationParams, ReasoningEffort, ResponseFormat, ServiceTier, ToolChoice,
    ToolSpec, UserLocation, Verbosity, WebSearch,
};
pub use response::{ChatResponse, Citation, FinishReason, ModelEvent, Usage};
