//! The loop of one run: model calls, tool calls, and how the run ends.

use std::collections::HashMap;
use std::time::Instant;

use futures::StreamExt;
use locus_providers::{
    ChatRequest, ChatResponse, FinishReason, GenerationParams, Message, ModelEvent, StreamAccumulator, ToolCall,
    ToolChoice, ToolSpec, Usage,
};
use tracing::field::Empty;
use tracing::{Instrument as _, Span};

use crate::agent::Agent;
use crate::error::Error;
use crate::events::{AgentEvent, AgentResult, Emitter, StopReason, ToolCallRecord};
use crate::guard::GuardBlock;
use crate::tools::{Approval, PendingCall};

const SUMMARY_REQUEST: &str = "You have reached the maximum number of steps. Do not call tools. Summarise what you \
                               found and give the best answer you can.";
/// The same call with the same arguments this many times is a loop.
const LOOP_THRESHOLD: usize = 3;

impl Agent {
    /// The run, inside its `invoke_agent` span (OpenTelemetry GenAI conventions).
    /// Returns the new history (without the system prompt).
    pub(crate) async fn drive(&self, history: Vec<Message>, emitter: &Emitter) -> Option<Vec<Message>> {
        let name = self.inner.name.as_deref().unwrap_or("locus");
        let span = tracing::info_span!(
            "invoke_agent",
            otel.name = %format_args!("invoke_agent {name}"),
            otel.kind = "internal",
            otel.status_code = Empty,
            gen_ai.operation.name = "invoke_agent",
            gen_ai.provider.name = locus_providers::telemetry::PROVIDER_NAME,
            gen_ai.agent.name = name,
            gen_ai.request.model = self.inner.model.name(),
            gen_ai.usage.input_tokens = Empty,
            gen_ai.usage.output_tokens = Empty,
            locus.agent.iterations = Empty,
            locus.agent.stop_reason = Empty,
            error.type = Empty,
        );
        self.run_loop(history, emitter).instrument(span).await
    }

    /// The loop.
    async fn run_loop(&self, mut history: Vec<Message>, emitter: &Emitter) -> Option<Vec<Message>> {
        let inner = &self.inner;
        let started = Instant::now();
        let specs: Vec<ToolSpec> = inner
            .tools
            .iter()
            .map(|t| ToolSpec {
                name: t.tool.name().to_owned(),
                description: t.tool.description().to_owned(),
                parameters: t.tool.parameters(),
            })
            .collect();
        let mut total = Usage::default();
        let mut records: Vec<ToolCallRecord> = Vec::new();
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        let mut iteration = 0;
        // Cleared for the rest of the run once the endpoint has refused a stream.
        let mut streaming = inner.streaming;
        let mut last_finish: Option<FinishReason> = None;
        // The last answer's citations, for the result (answers are kept in `history`, citations here).
        let last_citations = std::sync::Mutex::new(Vec::new());
        let citations = || last_citations.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let conclude_with = |text: String,
                             stop_reason,
                             finish_reason: Option<FinishReason>,
                             total: Usage,
                             iterations,
                             records: Vec<ToolCallRecord>,
                             blocked: Option<GuardBlock>| {
            let span = Span::current();
            span.record("gen_ai.usage.input_tokens", total.prompt_tokens);
            span.record("gen_ai.usage.output_tokens", total.completion_tokens);
            span.record("locus.agent.iterations", iterations);
            span.record("locus.agent.stop_reason", StopReason::as_str(stop_reason));
            emitter.emit(AgentEvent::Finished(AgentResult {
                text,
                stop_reason,
                finish_reason,
                usage: total,
                iterations,
                tool_calls: records,
                blocked,
                citations: std::mem::take(&mut *citations()),
            }));
        };
        let conclude = |text, stop_reason, finish_reason, total, iterations, records| {
            conclude_with(text, stop_reason, finish_reason, total, iterations, records, None);
        };
        let blocked = |block: GuardBlock, finish_reason, total, iterations, records| {
            conclude_with(
                String::new(),
                StopReason::GuardrailBlocked,
                finish_reason,
                total,
                iterations,
                records,
                Some(block),
            );
        };
        match self.screen_input(&mut history, emitter).await {
            Ok(None) => {}
            Ok(Some(block)) => {
                // A blocked message is not kept: a conversation's next turn would send it.
                history.pop();
                blocked(block, None, total, 0, records);
                return Some(history);
            }
            Err(e) => return fail(emitter, e),
        }
        loop {
            let over_budget = inner.token_budget.is_some_and(|b| total.total_tokens >= b)
                || inner.time_budget.is_some_and(|b| started.elapsed() >= b);
            if over_budget {
                conclude(last_text(&history), StopReason::Budget, last_finish, total, iteration, records);
                return Some(history);
            }
            if iteration >= inner.max_iterations {
                // One last call, without tools, to summarise.
                history.push(Message::user(SUMMARY_REQUEST));
                let mut params = inner.params.clone();
                params.tool_choice = Some(ToolChoice::None);
                let request = self.request(&history, Vec::new(), params);
                iteration += 1;
                let mut response = match self.call_model(&request, iteration, emitter, &mut streaming).await {
                    Ok(response) => response,
                    Err(e) => return fail(emitter, e),
                };
                add_usage(&mut total, &response);
                *citations() = std::mem::take(&mut response.citations);
                let finish = Some(response.finish_reason.clone());
                match self.screen_answer(&mut response.message, emitter).await {
                    Ok(None) => {}
                    Ok(Some(block)) => {
                        blocked(block, finish, total, iteration, records);
                        return Some(history);
                    }
                    Err(e) => return fail(emitter, e),
                }
                history.push(response.message.clone());
                conclude(response.message.text(), StopReason::MaxIterations, finish, total, iteration, records);
                return Some(history);
            }

            iteration += 1;
            let request = self.request(&history, specs.clone(), inner.params.clone());
            let mut response = match self.call_model(&request, iteration, emitter, &mut streaming).await {
                Ok(response) => response,
                Err(e) => return fail(emitter, e),
            };
            add_usage(&mut total, &response);
            *citations() = std::mem::take(&mut response.citations);
            last_finish = Some(response.finish_reason.clone());
            match self.screen_answer(&mut response.message, emitter).await {
                Ok(None) => {}
                Ok(Some(block)) => {
                    blocked(block, last_finish, total, iteration, records);
                    return Some(history);
                }
                Err(e) => return fail(emitter, e),
            }
            let calls = response.message.tool_calls.clone();
            history.push(response.message.clone());
            // A cut-off or filtered answer ends the run as such; its tool calls may be cut too.
            let shortfall = match response.finish_reason {
                FinishReason::Length => Some(StopReason::MaxTokens),
                FinishReason::ContentFilter => Some(StopReason::ContentFiltered),
                _ => None,
            };
            if let Some(stop) = shortfall {
                conclude(response.message.text(), stop, last_finish, total, iteration, records);
                return Some(history);
            }
            if calls.is_empty() {
                conclude(response.message.text(), StopReason::Completed, last_finish, total, iteration, records);
                return Some(history);
            }

            let looping = calls.iter().any(|call| {
                let count = seen.entry((call.name.clone(), call.arguments_text())).or_default();
                *count += 1;
                *count >= LOOP_THRESHOLD
            });
            if looping {
                conclude(response.message.text(), StopReason::LoopDetected, last_finish, total, iteration, records);
                return Some(history);
            }

            for call in &calls {
                emitter.emit(AgentEvent::ToolCallStarted {
                    id: call.id.clone(),
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                });
            }
            let runs = calls.iter().cloned().map(|call| {
                let agent = self.clone();
                async move { agent.execute(&call).await }
            });
            let results: Vec<(ToolCallRecord, bool)> =
                futures::stream::iter(runs).buffered(inner.max_concurrent_tools).collect().await;
            let mut terminal_output = None;
            for (mut record, terminal) in results {
                if let Err(e) = self.screen_tool_result(&mut record, emitter).await {
                    return fail(emitter, e);
                }
                emitter.emit(AgentEvent::ToolCallFinished(record.clone()));
                history.push(Message::tool_result(record.id.clone(), record.output.clone(), record.is_error));
                if terminal && !record.is_error && terminal_output.is_none() {
                    terminal_output = Some(record.output.clone());
                }
                records.push(record);
            }
            if let Some(output) = terminal_output {
                conclude(output, StopReason::TerminalTool, last_finish, total, iteration, records);
                return Some(history);
            }
        }
    }

    fn request(&self, history: &[Message], tools: Vec<ToolSpec>, params: GenerationParams) -> ChatRequest {
        let mut messages = Vec::with_capacity(history.len() + 1);
        if let Some(prompt) = &self.inner.system_prompt {
            messages.push(Message::system(prompt.clone()));
        }
        messages.extend_from_slice(history);
        ChatRequest { messages, tools, params, documents: self.inner.documents.clone() }
    }

    /// One model call. A failure after the answer began keeps what arrived
    /// ([`Error::Incomplete`]); a stream without a finish event is one.
    async fn call_model(
        &self,
        request: &ChatRequest,
        iteration: u32,
        emitter: &Emitter,
        streaming: &mut bool,
    ) -> Result<ChatResponse, Error> {
        let model = &self.inner.model;
        // Screened answers are handed on once screened (`screen_answer`).
        let held = self.holds_answers();
        let response = if *streaming {
            let mut stream = model.stream(request).await;
            let mut accumulator = StreamAccumulator::with_max_answer_bytes(self.inner.max_answer_bytes);
            let mut received = false;
            let interrupted = |received: bool, accumulator: &StreamAccumulator, source| match received {
                true => Error::Incomplete { partial_text: accumulator.text().to_owned(), source: Box::new(source) },
                false => Error::Model(source),
            };
            while let Some(event) = stream.next().await {
                let event = event.map_err(|e| interrupted(received, &accumulator, e))?;
                received = true;
                // Text, nearly every event, is accumulated from the delta that is then handed on: no copy.
                if let ModelEvent::TextDelta(text) = event {
                    accumulator.push_text(&text).map_err(|e| interrupted(true, &accumulator, e))?;
                    if !held {
                        emitter.emit(AgentEvent::TextDelta(text));
                    }
                    continue;
                }
                let announced = match &event {
                    ModelEvent::ReasoningDelta(text) => Some(AgentEvent::ReasoningDelta(text.clone())),
                    ModelEvent::Fallback { reason } => {
                        *streaming = false;
                        Some(AgentEvent::ModelFallback { reason: reason.clone() })
                    }
                    _ => None,
                };
                accumulator.push(event).map_err(|e| interrupted(true, &accumulator, e))?;
                if let Some(announced) = announced {
                    emitter.emit(announced);
                }
            }
            if !accumulator.is_finished() {
                return Err(interrupted(received, &accumulator, locus_providers::Error::NoFinishReason));
            }
            accumulator.finish()
        } else {
            let response = model.complete(request).await?;
            let text = response.message.text();
            if !text.is_empty() && !held {
                emitter.emit(AgentEvent::TextDelta(text));
            }
            response
        };
        emitter.emit(AgentEvent::IterationFinished { iteration, usage: response.usage });
        Ok(response)
    }

    /// Runs one call, inside its `execute_tool` span; every failure becomes an
    /// error result the model can read.
    async fn execute(&self, call: &ToolCall) -> (ToolCallRecord, bool) {
        let span = tracing::info_span!(
            "execute_tool",
            otel.name = %format_args!("execute_tool {}", call.name),
            otel.kind = "internal",
            otel.status_code = Empty,
            gen_ai.operation.name = "execute_tool",
            gen_ai.tool.name = call.name.as_str(),
            gen_ai.tool.call.id = call.id.as_str(),
            gen_ai.tool.type = "function",
            error.type = Empty,
        );
        let (record, terminal) = self.execute_unobserved(call).instrument(span.clone()).await;
        if record.is_error {
            span.record("error.type", "tool_error");
            span.record("otel.status_code", "ERROR");
        }
        (record, terminal)
    }

    async fn execute_unobserved(&self, call: &ToolCall) -> (ToolCallRecord, bool) {
        let started = Instant::now();
        let inner = &self.inner;
        let (output, is_error, terminal) = match inner.by_name.get(&call.name).map(|&i| &inner.tools[i]) {
            None => {
                let known: Vec<&str> = inner.tools.iter().map(|t| t.tool.name()).collect();
                (format!("unknown tool `{}`; available tools: {}", call.name, known.join(", ")), true, false)
            }
            Some(_) if call.parse_error.is_some() => (
                format!(
                    "the arguments are not valid JSON ({}); send them again as a JSON object",
                    call.parse_error.as_deref().unwrap_or_default()
                ),
                true,
                false,
            ),
            Some(registered) => match registered.validate(&call.arguments) {
                Some(problems) => (format!("invalid arguments for `{}`: {problems}", call.name), true, false),
                None => match self.approve(call, registered.tool.is_safe()).await {
                    Approval::Deny(reason) => {
                        (format!("the call to `{}` was not allowed: {reason}", call.name), true, false)
                    }
                    Approval::Allow => self.run_tool(&registered.tool, call).await,
                },
            },
        };
        let record = ToolCallRecord {
            id: call.id.clone(),
            name: call.name.clone(),
            arguments: call.arguments.clone(),
            is_error,
            output,
            duration: started.elapsed(),
        };
        (record, terminal)
    }
}

impl Agent {
    /// Runs an allowed call within its timeout: (output, is_error, ends the run).
    async fn run_tool(&self, tool: &crate::tools::SharedTool, call: &ToolCall) -> (String, bool, bool) {
        let timeout = tool.timeout().unwrap_or(self.inner.tool_timeout);
        match tokio::time::timeout(timeout, tool.call(call.arguments.clone())).await {
            Ok(Ok(output)) => (output.to_text(), false, tool.is_terminal()),
            Ok(Err(e)) => (format!("`{}` failed: {e}", call.name), true, false),
            Err(_) => (format!("`{}` timed out after {} s", call.name, timeout.as_secs_f64()), true, false),
        }
    }

    /// The approval hook's answer for `call` (allowed without a hook).
    async fn approve(&self, call: &ToolCall, safe: bool) -> Approval {
        let Some(hook) = &self.inner.approval else { return Approval::Allow };
        let pending = PendingCall { id: &call.id, name: &call.name, arguments: &call.arguments, safe };
        hook.approve(&pending).await
    }
}

fn fail(emitter: &Emitter, error: Error) -> Option<Vec<Message>> {
    let span = Span::current();
    let error_type = match &error {
        Error::Model(e) => locus_providers::telemetry::error_type(e),
        Error::Incomplete { source, .. } => locus_providers::telemetry::error_type(source),
        Error::Transport(_) => "transport".into(),
        Error::Auth(_) => "auth".into(),
        _ => "_OTHER".into(),
    };
    span.record("error.type", error_type.as_str());
    span.record("otel.status_code", "ERROR");
    emitter.fail(error);
    None
}

fn add_usage(total: &mut Usage, response: &ChatResponse) {
    if let Some(usage) = &response.usage {
        total.add(usage);
    }
}

fn last_text(history: &[Message]) -> String {
    history.iter().rev().find(|m| m.role == locus_providers::Role::Assistant).map(Message::text).unwrap_or_default()
}
