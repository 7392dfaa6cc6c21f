//! OpenTelemetry GenAI semantic conventions for model calls, through
//! `tracing` alone, so that any `tracing-opentelemetry` version the
//! application uses picks them up (the `locus` binary wires the exporter).
//!
//! - A span per call, named `chat <model>` (`otel.name`), kind client, with
//!   `gen_ai.operation.name`, `gen_ai.provider.name` (`oci.generative_ai`),
//!   `gen_ai.request.*` parameters, `gen_ai.response.finish_reasons`,
//!   `gen_ai.usage.input_tokens` / `output_tokens` and `error.type`. A stream's
//!   span lasts until its last event.
//! - Metric events at TRACE on target [`METRICS_TARGET`], in the form
//!   `tracing-opentelemetry`'s `MetricsLayer` turns into histograms:
//!   `gen_ai.client.token.usage` (per `gen_ai.token.type`) and
//!   `gen_ai.client.operation.duration` (seconds).
//!
//! Nothing is built when no subscriber wants these spans and events.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::StreamExt as _;

use tracing::Span;
use tracing::field::Empty;

use crate::chat_model::EventStream;
use crate::error::Error;
use crate::types::{ChatRequest, FinishReason, ModelEvent, Usage};

/// `gen_ai.provider.name` of every call.
pub const PROVIDER_NAME: &str = "oci.generative_ai";

/// The target of metric events: enable it (at TRACE) in the filter of a
/// `tracing_opentelemetry::MetricsLayer` to get the GenAI client metrics.
pub const METRICS_TARGET: &str = "locus::metrics";

/// The span of one model call (`operation` is `chat` or `embeddings`).
pub(crate) fn span(operation: &'static str, model: &str, request: Option<&ChatRequest>) -> Span {
    let span = tracing::info_span!(
        "gen_ai",
        otel.name = %format_args!("{operation} {model}"),
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.operation.name = operation,
        gen_ai.provider.name = PROVIDER_NAME,
        gen_ai.request.model = model,
        gen_ai.request.max_tokens = Empty,
        gen_ai.request.temperature = Empty,
        gen_ai.request.top_p = Empty,
        gen_ai.request.top_k = Empty,
        gen_ai.request.seed = Empty,
        gen_ai.response.finish_reasons = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.usage.cache_read.input_tokens = Empty,
        gen_ai.usage.reasoning.output_tokens = Empty,
        error.type = Empty,
    );
    if let Some(params) = request.map(|r| &r.params).filter(|_| !span.is_disabled()) {
        record(&span, "gen_ai.request.max_tokens", params.max_tokens);
        record(&span, "gen_ai.request.temperature", params.temperature);
        record(&span, "gen_ai.request.top_p", params.top_p);
        record(&span, "gen_ai.request.top_k", params.top_k);
        record(&span, "gen_ai.request.seed", params.seed);
    }
    span
}

fn record<T: tracing::Value>(span: &Span, field: &str, value: Option<T>) {
    if let Some(value) = value {
        span.record(field, value);
    }
}

/// What one call produced, recorded on its span and as metrics when it ends.
#[derive(Debug)]
pub(crate) struct CallRecord {
    operation: &'static str,
    model: String,
    started: Instant,
    finish_reasons: Vec<&'static str>,
    other_reasons: Vec<String>,
    usage: Option<Usage>,
    error: Option<String>,
}

impl CallRecord {
    pub(crate) fn start(operation: &'static str, model: &str) -> Self {
        CallRecord {
            operation,
            model: model.to_owned(),
            started: Instant::now(),
            finish_reasons: Vec::new(),
            other_reasons: Vec::new(),
            usage: None,
            error: None,
        }
    }

    pub(crate) fn finish_reason(&mut self, reason: &FinishReason) {
        match reason {
            FinishReason::Stop => self.finish_reasons.push("stop"),
            FinishReason::Length => self.finish_reasons.push("length"),
            FinishReason::ToolCalls => self.finish_reasons.push("tool_calls"),
            FinishReason::ContentFilter => self.finish_reasons.push("content_filter"),
            FinishReason::Other(other) => self.other_reasons.push(other.clone()),
        }
    }

    pub(crate) fn usage(&mut self, usage: &Usage) {
        self.usage = Some(*usage);
    }

    pub(crate) fn error(&mut self, error: &Error) {
        self.error = Some(error_type(error));
    }

    /// The reader let go before the end: cancelled, unless the model had finished.
    pub(crate) fn cancelled(&mut self) {
        if self.finish_reasons.is_empty() && self.other_reasons.is_empty() && self.error.is_none() {
            self.error = Some("cancelled".into());
        }
    }

    /// Records the outcome on `span` and emits the metrics.
    pub(crate) fn end(&self, span: &Span) {
        if !span.is_disabled() {
            if !self.finish_reasons.is_empty() || !self.other_reasons.is_empty() {
                // A string array in the conventions; `tracing` fields are scalars, so the reasons are joined by commas.
                let reasons: Vec<&str> =
                    self.finish_reasons.iter().copied().chain(self.other_reasons.iter().map(String::as_str)).collect();
                span.record("gen_ai.response.finish_reasons", reasons.join(","));
            }
            if let Some(usage) = &self.usage {
                span.record("gen_ai.usage.input_tokens", usage.prompt_tokens);
                span.record("gen_ai.usage.output_tokens", usage.completion_tokens);
                if let Some(cached) = usage.cached_tokens {
                    span.record("gen_ai.usage.cache_read.input_tokens", cached);
                }
                if let Some(reasoning) = usage.reasoning_tokens {
                    span.record("gen_ai.usage.reasoning.output_tokens", reasoning);
                }
            }
            if let Some(error) = &self.error {
                span.record("error.type", error.as_str());
                span.record("otel.status_code", "ERROR");
            }
        }
        let (operation, model, provider) = (self.operation, self.model.as_str(), PROVIDER_NAME);
        let error = self.error.as_deref();
        tracing::event!(
            target: METRICS_TARGET,
            tracing::Level::TRACE,
            gen_ai.operation.name = operation,
            "histogram.gen_ai.client.operation.duration" = self.started.elapsed().as_secs_f64(),
            gen_ai.provider.name = provider,
            gen_ai.request.model = model,
            error.type = error,
        );
        if let Some(usage) = &self.usage {
            for (kind, tokens) in [("input", usage.prompt_tokens), ("output", usage.completion_tokens)] {
                tracing::event!(
                    target: METRICS_TARGET,
                    tracing::Level::TRACE,
                    gen_ai.token.type = kind,
                    "histogram.gen_ai.client.token.usage" = tokens,
                    gen_ai.operation.name = operation,
                    gen_ai.provider.name = provider,
                    gen_ai.request.model = model,
                );
            }
        }
    }
}

/// `events` inside `span`, with `record` ended after the last event.
pub(crate) fn traced(events: EventStream, span: Span, record: CallRecord) -> EventStream {
    Box::pin(TracedEvents { events, span, record, ended: false })
}

/// A call's events inside its span, recorded when the last one has passed
/// (or when the reader lets go early).
struct TracedEvents {
    events: EventStream,
    span: Span,
    record: CallRecord,
    ended: bool,
}

impl futures::Stream for TracedEvents {
    type Item = Result<ModelEvent, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let next = {
            let _entered = this.span.enter();
            std::task::ready!(this.events.poll_next_unpin(cx))
        };
        match &next {
            Some(Ok(ModelEvent::Finished(reason))) => this.record.finish_reason(reason),
            Some(Ok(ModelEvent::Usage(usage))) => this.record.usage(usage),
            Some(Err(error)) => this.record.error(error),
            Some(Ok(_)) => {}
            None if !this.ended => {
                this.ended = true;
                this.record.end(&this.span);
            }
            None => {}
        }
        Poll::Ready(next)
    }
}

impl Drop for TracedEvents {
    fn drop(&mut self) {
        if !self.ended {
            self.record.cancelled();
            self.record.end(&self.span);
        }
    }
}

/// `error.type` of a failed call: the HTTP status, `timeout`, or the error's class.
///
/// ```
/// use locus_providers::{Error, telemetry::error_type};
/// assert_eq!(error_type(&Error::Config("no compartment".into())), "config");
/// ```
pub fn error_type(error: &Error) -> String {
    match error {
        Error::Transport(e) if e.is_timeout() => "timeout".into(),
        Error::Transport(e) => match e.status() {
            Some(status) => status.to_string(),
            None => "transport".into(),
        },
        Error::Config(_) => "config".into(),
        Error::InvalidRequest(_) => "invalid_request".into(),
        Error::UnexpectedReply(_) => "unexpected_reply".into(),
        _ => "_OTHER".into(),
    }
}
