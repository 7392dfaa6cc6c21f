//! What the emulator serves.

use serde::{Deserialize, Serialize};

/// The emulated region, tenancy, compartment and models.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct EmulatorConfig {
    /// The region this emulator plays (a DAC endpoint of another region gets 404).
    pub region: String,
    /// The tenancy.
    pub tenancy: String,
    /// The compartment requests must name (on-demand models and endpoints without their own).
    pub compartment_id: String,
    /// The models and endpoints served.
    pub models: Vec<ModelConfig>,
    /// How long the connection stays open after the last event (the service does this).
    pub hold_open_ms: u64,
    /// How far a request's `date` may be from now.
    pub max_clock_skew_secs: u64,
    /// Also serve the instance metadata service (`/opc/v2/…`) and the
    /// federation endpoint (`/v1/x509`), for instance principals.
    pub instance_identity: bool,
    /// How long federation tokens live, in seconds.
    pub token_lifetime_secs: u64,
    /// The largest request body read; a larger one gets 413 (default 16 MiB).
    pub max_body_bytes: usize,
    /// Generative AI API keys accepted as `Authorization: Bearer …` on the
    /// OpenAI-compatible API (`/openai/v1`), beside signatures (default: none).
    pub genai_api_keys: Vec<String>,
}

/// The dedicated endpoint `locus chat --emulator` talks to: a tool caller.
pub const DEMO_ENDPOINT: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaemulatortoolcaller";
/// A dedicated endpoint serving a Qwen-style model that writes `<tool_call>` text.
pub const QWEN_ENDPOINT: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaemulatorqwen";
/// A dedicated endpoint in another region: calling it here gives 404, like the service.
pub const REMOTE_ENDPOINT: &str = "ocid1.generativeaiendpoint.oc1.us-ashburn-1.amaaaaaaemulatorremote";
/// The demo compartment.
pub const DEMO_COMPARTMENT: &str = "ocid1.compartment.oc1..aaaaaaaaemulator";

impl Default for EmulatorConfig {
    /// The demo: on-demand models for every tool-call pattern, a Cohere
    /// model, and dedicated endpoints, in `us-chicago-1`.
    fn default() -> Self {
        let on_demand = |id: &str, behaviour, pattern| ModelConfig {
            id: id.into(),
            behaviour,
            tool_pattern: pattern,
            ..Default::default()
        };
        EmulatorConfig {
            region: "us-chicago-1".into(),
            tenancy: "ocid1.tenancy.oc1..aaaaaaaaemulator".into(),
            compartment_id: DEMO_COMPARTMENT.into(),
            models: vec![
                on_demand("meta.llama-3.3-70b-instruct", Behaviour::ToolCaller, ToolPattern::E),
                on_demand("openai.gpt-4.1", Behaviour::ToolCaller, ToolPattern::B),
                on_demand("openai.gpt-oss-120b", Behaviour::ToolCaller, ToolPattern::A),
                on_demand("google.gemini-2.5-flash", Behaviour::ToolCaller, ToolPattern::C),
                on_demand("xai.grok-4", Behaviour::ToolCaller, ToolPattern::D),
                on_demand("echo", Behaviour::Echo, ToolPattern::E),
                ModelConfig {
                    id: "cohere.command-r-plus-08-2024".into(),
                    behaviour: Behaviour::ToolCaller,
                    api_format: Some("COHERE".into()),
                    ..Default::default()
                },
                ModelConfig {
                    id: DEMO_ENDPOINT.into(),
                    behaviour: Behaviour::ToolCaller,
                    tool_pattern: ToolPattern::A,
                    ..Default::default()
                },
                ModelConfig { id: QWEN_ENDPOINT.into(), behaviour: Behaviour::InlineToolCaller, ..Default::default() },
                ModelConfig { id: REMOTE_ENDPOINT.into(), behaviour: Behaviour::Echo, ..Default::default() },
                ModelConfig {
                    id: "cohere.command-a-03-2025".into(),
                    behaviour: Behaviour::ToolCaller,
                    api_format: Some("COHEREV2".into()),
                    ..Default::default()
                },
                // Embedding and rerank models (their kind is in their name, as on the service).
                ModelConfig { id: "cohere.embed-english-v3.0".into(), ..Default::default() },
                ModelConfig { id: "cohere.embed-multilingual-v3.0".into(), ..Default::default() },
                ModelConfig { id: "cohere.rerank-v3.5".into(), ..Default::default() },
            ],
            hold_open_ms: 30_000,
            max_clock_skew_secs: 300,
            instance_identity: false,
            token_lifetime_secs: 3_600,
            max_body_bytes: 16 * 1024 * 1024,
            genai_api_keys: Vec::new(),
        }
    }
}

/// One model or dedicated endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    /// A model name, or a dedicated endpoint OCID (its region is in it).
    pub id: String,
    /// What it answers.
    pub behaviour: Behaviour,
    /// The request shape it requires (`COHERE`), if any.
    pub api_format: Option<String>,
    /// The compartment a dedicated endpoint lives in (default: the emulator's).
    pub compartment_id: Option<String>,
    /// How it streams tool calls.
    pub tool_pattern: ToolPattern,
    /// Characters per text delta.
    pub chunk_chars: usize,
    /// SSE events per write.
    pub events_per_write: usize,
    /// Pause between writes.
    pub delay_ms: u64,
    /// A fault on every request (or the first `fault_times`).
    pub fault: Option<Fault>,
    /// How many requests the fault applies to (0: all).
    pub fault_times: usize,
    /// Its deprecation date (RFC 3339), listed and announced in every answer's
    /// `model-retirement-info` header.
    pub time_deprecated: Option<String>,
    /// Its on-demand retirement date (RFC 3339), listed.
    pub time_on_demand_retired: Option<String>,
    /// Request parameters it refuses with a 400 naming them (wire names:
    /// `topK` natively, `top_k` on the OpenAI-compatible API).
    pub refuses: Vec<String>,
    /// Served only on the Responses API (chat completions and native chat answer 400).
    pub responses_only: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            id: String::new(),
            behaviour: Behaviour::Echo,
            api_format: None,
            compartment_id: None,
            tool_pattern: ToolPattern::E,
            chunk_chars: 4,
            events_per_write: 1,
            delay_ms: 0,
            fault: None,
            fault_times: 0,
            time_deprecated: None,
            time_on_demand_retired: None,
            refuses: Vec::new(),
            responses_only: false,
        }
    }
}

/// What a scripted model answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Repeats the last user message.
    Echo,
    /// Calls `calculator` and `clock` when the prompt asks (and they are offered), then answers from their results.
    ToolCaller,
    /// Like `ToolCaller`, but writes the calls as `<tool_call>` text (Qwen/Hermes style).
    InlineToolCaller,
    /// Plays these turns in order, one per assistant turn so far (the last repeats).
    Script(Vec<Turn>),
}

/// One scripted answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Turn {
    /// Answer text.
    pub text: String,
    /// Reasoning text.
    pub reasoning: String,
    /// Tool calls.
    pub tool_calls: Vec<TurnCall>,
    /// The finish reason to send (default: `stop`, or `tool_calls` with calls;
    /// COHERE: `COMPLETE`), e.g. `length` for an answer cut at max tokens.
    pub finish_reason: Option<String>,
    /// Citations of the text (COHERE and COHEREV2 answers carry them). A
    /// request with documents and a turn without calls or citations is
    /// answered from its first document, cited.
    pub citations: Vec<TurnCitation>,
}

/// A span of a scripted answer resting on documents.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TurnCitation {
    /// Where it starts in the text, in characters.
    pub start: usize,
    /// Where it ends.
    pub end: usize,
    /// The text there.
    pub text: String,
    /// The documents' ids.
    pub document_ids: Vec<String>,
}

/// A scripted tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnCall {
    /// The tool.
    pub name: String,
    /// Its arguments.
    pub arguments: serde_json::Value,
}

/// How tool calls are streamed (the patterns real models produce).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToolPattern {
    /// id and name first with empty arguments, then fragments without id (gpt-oss).
    A,
    /// calls one after another at index 0, a new id opening each (OpenAI, xAI).
    B,
    /// no ids, each call whole (Gemini).
    C,
    /// an id re-announced later at another index (some OpenAI deployments).
    D,
    /// one complete call per event (Llama).
    E,
}

/// A failure to inject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// 400 for streaming requests.
    RejectStream,
    /// 429 with `Retry-After`.
    TooManyRequests {
        /// Seconds to ask for.
        retry_after: u64,
    },
    /// This status with a JSON error.
    Status(u16),
    /// Drop the connection without an answer.
    ResetBefore,
    /// Drop the connection after this many events.
    ResetMidStream(usize),
    /// Stop sending after this many events, keeping the connection open.
    Stall(usize),
    /// Wait this long before answering.
    SlowFirstByte(u64),
    /// Send malformed JSON as this event.
    MalformedChunk(usize),
    /// End the stream cleanly before its finish event.
    NoFinish,
    /// Put `usage` in every event (as some vLLM deployments do).
    UsageEveryChunk,
    /// After this many events, send only `: keep-alive` comments, forever.
    KeepAlive(usize),
    /// Text deltas forever.
    Endless,
    /// Garbage after the last event, in the same write.
    GarbageAfterEnd,
    /// A 400 whose JSON message is this many bytes long.
    HugeError(usize),
}

impl Fault {
    /// Parses the `x-emulator-fault` header: `reject-stream`, `429[:secs]`,
    /// `500`, `503`, `reset-before`, `reset-mid:N`, `stall:N`, `slow:MS`,
    /// `malformed:N`, `no-finish`, `usage-every-chunk`, `keep-alive[:N]`,
    /// `endless`, `garbage-after-end`, `huge-error[:BYTES]`.
    pub fn parse(value: &str) -> Option<Fault> {
        let (name, arg) = value.split_once(':').unwrap_or((value, ""));
        let number = || arg.trim().parse::<u64>().ok();
        Some(match name.trim() {
            "reject-stream" => Fault::RejectStream,
            "429" => Fault::TooManyRequests { retry_after: number().unwrap_or(1) },
            "reset-before" => Fault::ResetBefore,
            "reset-mid" => Fault::ResetMidStream(number().unwrap_or(2) as usize),
            "stall" => Fault::Stall(number().unwrap_or(2) as usize),
            "slow" => Fault::SlowFirstByte(number().unwrap_or(500)),
            "malformed" => Fault::MalformedChunk(number().unwrap_or(1) as usize),
            "no-finish" => Fault::NoFinish,
            "usage-every-chunk" => Fault::UsageEveryChunk,
            "keep-alive" => Fault::KeepAlive(number().unwrap_or(1) as usize),
            "endless" => Fault::Endless,
            "garbage-after-end" => Fault::GarbageAfterEnd,
            "huge-error" => Fault::HugeError(number().unwrap_or(10 * 1024 * 1024) as usize),
            status => Fault::Status(status.parse().ok().filter(|s| (400..600).contains(s))?),
        })
    }
}
