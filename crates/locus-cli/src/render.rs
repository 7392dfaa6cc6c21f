//! How a run is shown: tokens on stdout as they stream, tool activity and
//! warnings on stderr, or one JSON object with `--json`.

use std::io::Write;

use futures::StreamExt;
use locus_agent::{AgentEvent, AgentResult, AgentStream, StopReason};

use crate::error::CliError;
use crate::terminal::{Spinner, Terminal, escape_controls, one_line};

/// How long a run without a terminal waits in silence before saying so.
const NOTICE_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// How a run is shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShowOptions {
    /// One JSON object on stdout instead of the streamed text.
    pub json: bool,
    /// Escape control characters in the model's text (stdout is a terminal);
    /// stderr is always escaped.
    pub escape_stdout: bool,
    /// The transport the model goes through, named in `--json` output.
    pub transport: Option<oci_genai_transport::Transport>,
    /// Print reasoning text on stderr as it streams.
    pub show_reasoning: bool,
    /// What stdout and stderr are: colour and the waiting indicator only on a terminal.
    pub terminal: Terminal,
    /// Print the run's token counts on stderr after the answer (`-u`).
    pub usage: bool,
}

/// A run's token counts as one line: `tokens: 812 in (512 cached), 45 out (12 reasoning), 2 model calls`.
pub(crate) fn usage_line(usage: &locus_providers::Usage, calls: u32) -> String {
    let reasoning = usage.reasoning_tokens.map(|r| format!(" ({r} reasoning)")).unwrap_or_default();
    let cached = usage.cached_tokens.map(|c| format!(" ({c} cached)")).unwrap_or_default();
    let calls = if calls == 1 { "1 model call".to_owned() } else { format!("{calls} model calls") };
    format!("tokens: {} in{cached}, {} out{reasoning}, {calls}", usage.prompt_tokens, usage.completion_tokens)
}

/// Prints a run: tokens to `out` as they stream, tool activity to `err`. An
/// answer cut short keeps what arrived: the streamed text stays on its own
/// line, and `--json` prints it with `"partial": true` before the error.
pub async fn show(
    mut stream: AgentStream,
    options: ShowOptions,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<AgentResult, CliError> {
    let mut result = None;
    // Whether text was printed since the last line end: a tool call ends the line first.
    let mut line_open = false;
    // Whether reasoning was printed (on stderr) since the last line end.
    let mut reasoning_open = false;
    // A person at a terminal sees that the model is being waited for; a pipe or log gets one line after 10 s.
    let waiting = |terminal: Terminal| match (options.json, terminal.color) {
        (true, _) => None,
        (false, true) => Some(Spinner::start("waiting for the model")),
        (false, false) => Some(Spinner::notice_after(NOTICE_AFTER, "still waiting for the model")),
    };
    let mut spinner = waiting(options.terminal);
    while let Some(event) = stream.next().await {
        if let Some(spinner) = spinner.take() {
            spinner.stop();
        }
        if reasoning_open && !matches!(event, Ok(AgentEvent::ReasoningDelta(_))) {
            writeln!(err)?;
            reasoning_open = false;
        }
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                if std::mem::take(&mut line_open) {
                    writeln!(out)?;
                }
                if let (true, Some(partial)) = (options.json, error.partial_text()) {
                    let value = serde_json::json!({"text": partial, "partial": true, "error": error.to_string()});
                    serde_json::to_writer_pretty(&mut *out, &value).map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
                return Err(error.into());
            }
        };
        match event {
            AgentEvent::TextDelta(text) if !options.json => {
                let text = if options.escape_stdout { escape_controls(&text) } else { text.as_str().into() };
                out.write_all(text.as_bytes())?;
                out.flush()?;
                line_open = !text.ends_with('\n');
            }
            AgentEvent::ToolCallStarted { name, arguments, .. } => {
                if std::mem::take(&mut line_open) {
                    writeln!(out)?;
                }
                writeln!(err, "⚙ {} {}", one_line(&name), one_line(&arguments.to_string()))?;
            }
            AgentEvent::ReasoningDelta(text) if options.show_reasoning => {
                let text = escape_controls(&text);
                write!(err, "{}", options.terminal.dim(&text))?;
                err.flush()?;
                reasoning_open = true;
            }
            AgentEvent::ToolCallFinished(record) => {
                let mark = if record.is_error { "✗" } else { "✓" };
                let output: String = record.output.chars().take(200).collect();
                writeln!(
                    err,
                    "{mark} {} → {} ({} ms)",
                    one_line(&record.name),
                    one_line(&output),
                    record.duration.as_millis()
                )?;
                spinner = waiting(options.terminal);
            }
            AgentEvent::ModelFallback { reason } => {
                if std::mem::take(&mut line_open) {
                    writeln!(out)?;
                }
                writeln!(
                    err,
                    "! the endpoint refused to stream; answering whole for the rest of this run (--no-fallback to refuse): {}",
                    one_line(&reason)
                )?;
            }
            AgentEvent::Guarded { stage, finding, blocked: false } => {
                writeln!(err, "note: guardrails redacted {finding} from {}", stage.describe())?;
            }
            AgentEvent::Finished(r) => result = Some(r),
            _ => {}
        }
    }
    let result = result.ok_or(locus_agent::Error::NoResult)?;
    if options.json {
        let mut value = serde_json::json!({
            "text": result.text,
            "stop_reason": result.stop_reason,
            "finish_reason": result.finish_reason.as_ref().map(|f| f.as_str()),
            "usage": {
                "prompt_tokens": result.usage.prompt_tokens,
                "completion_tokens": result.usage.completion_tokens,
                "total_tokens": result.usage.total_tokens,
            },
            "iterations": result.iterations,
            "tool_calls": result.tool_calls.iter().map(|c| serde_json::json!({
                "name": c.name, "arguments": c.arguments, "is_error": c.is_error,
            })).collect::<Vec<_>>(),
        });
        if let Some(transport) = options.transport {
            value["transport"] = transport.as_str().into();
        }
        if let Some(blocked) = &result.blocked {
            value["blocked"] = serde_json::to_value(blocked).map_err(std::io::Error::from)?;
        }
        if !result.citations.is_empty() {
            value["citations"] = serde_json::to_value(&result.citations).map_err(std::io::Error::from)?;
        }
        // The details the service reported, and only those.
        if let Some(cached) = result.usage.cached_tokens {
            value["usage"]["cached_tokens"] = cached.into();
        }
        if let Some(reasoning) = result.usage.reasoning_tokens {
            value["usage"]["reasoning_tokens"] = reasoning.into();
        }
        serde_json::to_writer_pretty(&mut *out, &value).map_err(std::io::Error::from)?;
    }
    writeln!(out)?;
    match result.stop_reason {
        StopReason::MaxTokens => writeln!(
            err,
            "warning: the answer was cut off at the model's token limit; raise --max-tokens for a whole answer"
        )?,
        StopReason::ContentFiltered => writeln!(err, "warning: the service's content filter stopped the answer")?,
        StopReason::GuardrailBlocked => match &result.blocked {
            Some(blocked) => writeln!(err, "warning: {blocked}")?,
            None => writeln!(err, "warning: guardrails blocked the run")?,
        },
        stop if !stop.is_complete() => writeln!(err, "stopped: {stop:?} after {} model calls", result.iterations)?,
        _ => {}
    }
    if !options.json {
        for citation in &result.citations {
            writeln!(err, "cited: \"{}\" ({})", one_line(&citation.text), citation.document_ids.join(", "))?;
        }
    }
    if options.usage && !options.json {
        writeln!(err, "{}", usage_line(&result.usage, result.iterations))?;
    }
    Ok(result)
}
