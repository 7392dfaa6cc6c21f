//! Agent runs against wiremock playing OCI Generative AI, one scripted reply per request.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use locus_agent::tools::{Approval, approve_fn};
use locus_agent::{Agent, AgentEvent, OciSetup, StopReason, ToolError, oci_id, tool_fn, tools::builtin};
use locus_providers::OciChatModel;
use oci_auth::{ApiKeyProvider, PrivateKey, StaticEnv};
use oci_genai_transport::{GenAiClient, RetryPolicy, Transport};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../oci-auth/tests/fixtures/vectors/key-pkcs8.pem");
const DAC: &str = "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaexample";
const COMPARTMENT: &str = "ocid1.compartment.oc1..aaaa";

fn sse(events: &[Value]) -> ResponseTemplate {
    let body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

fn usage(total: u64) -> Value {
    json!({"usage": {"promptTokens": total - 2, "completionTokens": 2, "totalTokens": total}})
}

fn text_reply(text: &str) -> ResponseTemplate {
    sse(&[
        json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": text}]}}),
        json!({"index": 0, "message": {"role": "ASSISTANT"}, "finishReason": "stop"}),
        usage(20),
    ])
}

fn calls_reply(calls: &[(&str, &str, Value)]) -> ResponseTemplate {
    let mut events: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| json!({"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", "id": id, "name": name, "arguments": args.to_string()}]}}))
        .collect();
    events.push(json!({"index": 0, "message": {"role": "ASSISTANT"}, "finishReason": "tool_calls"}));
    events.push(usage(10));
    sse(&events)
}

/// Replies in order (the last one repeats) and keeps every request body.
#[derive(Clone, Default)]
struct Script {
    replies: Arc<Mutex<Vec<ResponseTemplate>>>,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Respond for Script {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.bodies.lock().unwrap().push(serde_json::from_slice(&request.body).unwrap());
        let mut replies = self.replies.lock().unwrap();
        if replies.len() > 1 { replies.remove(0) } else { replies[0].clone() }
    }
}

impl Script {
    fn body(&self, i: usize) -> Value {
        self.bodies.lock().unwrap()[i].clone()
    }
    fn requests(&self) -> usize {
        self.bodies.lock().unwrap().len()
    }
}

async fn serve(replies: Vec<ResponseTemplate>) -> (MockServer, Script) {
    let server = MockServer::start().await;
    let script = Script { replies: Arc::new(Mutex::new(replies)), ..Default::default() };
    Mock::given(method("POST")).and(path("/20231130/actions/chat")).respond_with(script.clone()).mount(&server).await;
    (server, script)
}

fn client(server: &MockServer) -> GenAiClient {
    let key = PrivateKey::from_pem_file(KEY, None).unwrap();
    let fingerprint = key.fingerprint().to_owned();
    GenAiClient::builder()
        .credentials_provider(Arc::new(ApiKeyProvider::new(
            "ocid1.tenancy.oc1..t",
            "ocid1.user.oc1..u",
            &fingerprint,
            key,
        )))
        .service_endpoint(server.uri())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

/// An agent on `model` (`oci:` optional), built once on a client of `server`.
fn agent(server: &MockServer, model: &str) -> locus_agent::AgentBuilder {
    // The scripted servers speak the native API.
    let model = OciChatModel::builder(oci_id(model).unwrap())
        .client(client(server))
        .compartment_id(COMPARTMENT)
        .transport(Transport::Native);
    Agent::builder().model(model.build().unwrap())
}

/// The messages of a request body.
fn messages(body: &Value) -> Vec<Value> {
    body["chatRequest"]["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn two_parallel_tool_calls_then_an_answer_streamed() {
    let (server, script) = serve(vec![
        calls_reply(&[("call_1", "calculator", json!({"expression": "17*23"})), ("call_2", "clock", json!({}))]),
        text_reply("17*23 is 391."),
    ])
    .await;
    let agent = agent(&server, &format!("oci:{DAC}"))
        .system_prompt("Be brief.")
        .tool(builtin::calculator())
        .tool(builtin::clock())
        .build()
        .unwrap();
    let events: Vec<AgentEvent> = agent.run("What is 17*23, and the time?").map(|e| e.unwrap()).collect().await;

    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            AgentEvent::TextDelta(_) => "text",
            AgentEvent::ToolCallStarted { .. } => "started",
            AgentEvent::ToolCallFinished(_) => "finished",
            AgentEvent::IterationFinished { .. } => "iteration",
            AgentEvent::Finished(_) => "done",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["iteration", "started", "started", "finished", "finished", "text", "iteration", "done"]);
    let AgentEvent::Finished(result) = events.last().unwrap() else { panic!() };
    assert_eq!(result.stop_reason, StopReason::Completed);
    assert_eq!(result.text, "17*23 is 391.");
    assert_eq!((result.iterations, result.usage.total_tokens), (2, 30));
    assert_eq!(result.tool_calls.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["calculator", "clock"]);
    assert_eq!(result.tool_calls[0].output, "391");

    let second = messages(&script.body(1));
    assert_eq!(second[0]["role"], "SYSTEM");
    let tools: Vec<&Value> = second.iter().filter(|m| m["role"] == "TOOL").collect();
    assert_eq!(tools[0]["toolCallId"], "call_1");
    assert_eq!(tools[0]["content"][0]["text"], "391");
    assert!(tools[1]["content"][0]["text"].as_str().unwrap().contains("utc"));
    assert_eq!(script.body(0)["servingMode"]["servingType"], "DEDICATED");
}

#[tokio::test]
async fn tool_errors_reach_the_model_as_errors() {
    let (server, script) = serve(vec![
        calls_reply(&[
            ("call_1", "failing", json!({})),
            ("call_2", "calculator", json!({"expr": "1+1"})),
            ("call_3", "no_such_tool", json!({})),
        ]),
        text_reply("Sorry."),
    ])
    .await;
    let failing = tool_fn("failing", "Always fails.", |_: builtin::ClockArgs| async {
        Err::<String, _>(ToolError::new("disk on fire"))
    });
    let agent =
        agent(&server, "oci:meta.llama-3.3-70b-instruct").tool(failing).tool(builtin::calculator()).build().unwrap();
    let result = agent.run_to_completion("go").await.unwrap();
    assert!(result.tool_calls.iter().all(|c| c.is_error));
    let texts: Vec<String> = messages(&script.body(1))
        .iter()
        .filter(|m| m["role"] == "TOOL")
        .map(|m| m["content"][0]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts[0], "ERROR: `failing` failed: disk on fire");
    assert!(
        texts[1].starts_with("ERROR: invalid arguments for `calculator`") && texts[1].contains("expression"),
        "{}",
        texts[1]
    );
    assert!(texts[2].contains("unknown tool `no_such_tool`") && texts[2].contains("calculator"), "{}", texts[2]);
}

#[tokio::test]
async fn max_iterations_ends_with_a_summary_call_without_tools() {
    let (server, script) = serve(vec![
        calls_reply(&[("call_1", "calculator", json!({"expression": "1+1"}))]),
        calls_reply(&[("call_2", "calculator", json!({"expression": "2+2"}))]),
        text_reply("Summary: 2 and 4."),
    ])
    .await;
    let agent = agent(&server, "oci:meta.llama").tool(builtin::calculator()).max_iterations(2).build().unwrap();
    let result = agent.run_to_completion("count").await.unwrap();
    assert_eq!(result.stop_reason, StopReason::MaxIterations);
    assert_eq!((result.iterations, result.text.as_str()), (3, "Summary: 2 and 4."));
    let last = script.body(2);
    assert!(last["chatRequest"].get("tools").is_none());
    assert_eq!(last["chatRequest"]["toolChoice"]["type"], "NONE");
    assert!(
        messages(&last).last().unwrap()["content"][0]["text"].as_str().unwrap().contains("maximum number of steps")
    );
}

#[tokio::test]
async fn the_same_call_three_times_is_a_loop() {
    let (server, script) = serve(vec![calls_reply(&[("call_x", "calculator", json!({"expression": "1+1"}))])]).await;
    let agent = agent(&server, "oci:meta.llama").tool(builtin::calculator()).build().unwrap();
    let result = agent.run_to_completion("loop").await.unwrap();
    assert_eq!(result.stop_reason, StopReason::LoopDetected);
    assert_eq!((script.requests(), result.tool_calls.len()), (3, 2));
}

#[tokio::test]
async fn a_token_budget_stops_the_run() {
    let (server, script) = serve(vec![calls_reply(&[("call_1", "calculator", json!({"expression": "1+1"}))])]).await;
    let agent = agent(&server, "oci:meta.llama").tool(builtin::calculator()).token_budget(10).build().unwrap();
    let result = agent.run_to_completion("spend").await.unwrap();
    assert_eq!(result.stop_reason, StopReason::Budget);
    assert_eq!(script.requests(), 1);
}

#[tokio::test]
async fn a_time_budget_stops_the_run() {
    let (server, _) = serve(vec![calls_reply(&[("call_1", "sleepy", json!({}))])]).await;
    let sleepy = tool_fn("sleepy", "Sleeps.", |_: builtin::ClockArgs| async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok::<_, ToolError>("ok")
    });
    let agent = agent(&server, "oci:meta.llama").tool(sleepy).time_budget(Duration::from_millis(20)).build().unwrap();
    assert_eq!(agent.run_to_completion("wait").await.unwrap().stop_reason, StopReason::Budget);
}

#[tokio::test]
async fn terminal_tools_end_the_run_with_their_output() {
    let (server, script) = serve(vec![calls_reply(&[("call_1", "final_answer", json!({"expression": "6*7"}))])]).await;
    let answer = tool_fn("final_answer", "Gives the final answer.", |args: builtin::CalculatorArgs| async move {
        Ok::<_, ToolError>(format!("The answer is {}", args.expression))
    })
    .terminal();
    let agent = agent(&server, "oci:meta.llama").tool(answer).build().unwrap();
    let result = agent.run_to_completion("answer").await.unwrap();
    assert_eq!((result.stop_reason, result.text.as_str()), (StopReason::TerminalTool, "The answer is 6*7"));
    assert_eq!(script.requests(), 1);
}

#[tokio::test]
async fn tool_timeouts_are_errors_the_model_sees() {
    let (server, script) = serve(vec![calls_reply(&[("call_1", "sleepy", json!({}))]), text_reply("ok")]).await;
    let sleepy = tool_fn("sleepy", "Sleeps.", |_: builtin::ClockArgs| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok::<_, ToolError>("late")
    });
    let agent = agent(&server, "oci:meta.llama").tool(sleepy).tool_timeout(Duration::from_millis(50)).build().unwrap();
    let result = agent.run_to_completion("wait").await.unwrap();
    assert!(result.tool_calls[0].is_error && result.tool_calls[0].output.contains("timed out"));
    let tool = messages(&script.body(1)).into_iter().find(|m| m["role"] == "TOOL").unwrap();
    assert!(tool["content"][0]["text"].as_str().unwrap().contains("timed out"));
}

#[tokio::test]
async fn a_cohere_agent_sends_tool_results_with_their_calls() {
    let cohere_calls = sse(&[json!({"apiFormat": "COHERE", "text": "", "finishReason": "COMPLETE",
        "toolCalls": [{"name": "calculator", "parameters": {"expression": "17*23"}}]})]);
    let cohere_text = sse(&[
        json!({"apiFormat": "COHERE", "text": "391."}),
        json!({"apiFormat": "COHERE", "text": "391.", "finishReason": "COMPLETE"}),
    ]);
    let (server, script) = serve(vec![cohere_calls, cohere_text]).await;
    let agent = agent(&server, "oci:cohere.command-r-plus-08-2024")
        .system_prompt("Be brief.")
        .tool(builtin::calculator())
        .build()
        .unwrap();
    let result = agent.run_to_completion("17*23?").await.unwrap();
    assert_eq!(result.text, "391.");
    let second = script.body(1)["chatRequest"].clone();
    assert_eq!(second["apiFormat"], "COHERE");
    assert_eq!(second["message"], "");
    assert_eq!(second["preambleOverride"], "Be brief.");
    assert_eq!(second["toolResults"][0]["call"], json!({"name": "calculator", "parameters": {"expression": "17*23"}}));
    assert_eq!(second["toolResults"][0]["outputs"][0], json!({"result": "391"}));
    assert_eq!(second["chatHistory"][1]["role"], "CHATBOT");
}

#[tokio::test]
async fn a_dac_agent_without_compartment_fails_before_any_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let err = locus_agent::Error::from(OciChatModel::builder(DAC).client(client(&server)).build().unwrap_err());
    assert_eq!(
        err.to_string(),
        "compartment_id is required for dedicated endpoints: use the compartment of the endpoint"
    );
    assert!(err.is_config());
    let err = oci_id("openai:gpt-5").unwrap_err();
    assert!(err.to_string().contains("known providers: oci"), "{err}");
    let err = Agent::builder().build().unwrap_err();
    assert!(err.to_string().starts_with("no model: hand one to .model(…)"), "{err}");
}

#[tokio::test]
async fn a_conversation_keeps_its_history() {
    let (server, script) = serve(vec![text_reply("Hello Ada."), text_reply("Your name is Ada.")]).await;
    let agent = agent(&server, "oci:meta.llama").build().unwrap();
    let mut conversation = agent.conversation();
    conversation.send("My name is Ada.").await.unwrap();
    let reply = conversation.send("What is my name?").await.unwrap();
    assert_eq!(reply.text, "Your name is Ada.");
    assert_eq!(messages(&script.body(1)).len(), 3);
    assert_eq!(conversation.history().len(), 4);
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_run() {
    let (server, script) = serve(vec![calls_reply(&[("call_1", "sleepy", json!({}))]), text_reply("never")]).await;
    let sleepy = tool_fn("sleepy", "Sleeps.", |_: builtin::ClockArgs| async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        Ok::<_, ToolError>("late")
    });
    let agent = agent(&server, "oci:meta.llama").tool(sleepy).build().unwrap();
    let mut stream = agent.run("go");
    while let Some(event) = stream.next().await {
        if matches!(event.unwrap(), AgentEvent::ToolCallStarted { .. }) {
            break;
        }
    }
    drop(stream);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(script.requests(), 1, "no second model call after cancellation");
}

#[tokio::test]
async fn the_environment_workflow_configures_a_dac_agent() {
    let (server, script) = serve(vec![text_reply("hi")]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[DEFAULT]\nuser=ocid1.user.oc1..u\nfingerprint=a0:04:5f:c1:b3:9e:9c:db:fe:4d:51:8d:f9:42:f8:db\ntenancy=ocid1.tenancy.oc1..t\nregion=us-ashburn-1\nkey_file={KEY}\n"
        ),
    )
    .unwrap();
    let env = StaticEnv::new()
        .with_var("LOCUS_MODEL_PROVIDER", "oci")
        .with_var("LOCUS_MODEL_ID", DAC)
        .with_var("LOCUS_OCI_COMPARTMENT", COMPARTMENT)
        .with_var("LOCUS_OCI_SERVICE_ENDPOINT", server.uri())
        .with_var("LOCUS_OCI_TRANSPORT", "sdk")
        .with_var("OCI_CONFIG_FILE", config.to_string_lossy());
    let agent = Agent::builder().model(OciSetup::from_env(Arc::new(env)).unwrap().build().unwrap()).build().unwrap();
    assert_eq!(agent.model_name(), DAC);
    assert_eq!(agent.run_to_completion("hello").await.unwrap().text, "hi");
    let body = script.body(0);
    assert_eq!(
        (body["compartmentId"].as_str(), body["servingMode"]["endpointId"].as_str()),
        (Some(COMPARTMENT), Some(DAC))
    );

    let missing =
        StaticEnv::new().with_var("LOCUS_MODEL_ID", DAC).with_var("OCI_CONFIG_FILE", config.to_string_lossy());
    let err = OciSetup::from_env(Arc::new(missing)).unwrap().build().unwrap_err();
    assert!(err.to_string().contains("compartment_id is required"), "{err}");
}

#[tokio::test]
async fn without_streaming_the_answer_still_arrives_as_text() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_json(json!({"modelId": "m", "modelVersion": "1",
        "chatResponse": {"apiFormat": "GENERIC", "choices": [{"message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "whole"}]}, "finishReason": "stop"}]}})))
        .mount(&server)
        .await;
    let agent = agent(&server, "oci:meta.llama").streaming(false).build().unwrap();
    let events: Vec<AgentEvent> = agent.run("x").map(|e| e.unwrap()).collect().await;
    assert!(events.contains(&AgentEvent::TextDelta("whole".into())));
}

fn finish_reply(text: &str, reason: &str) -> ResponseTemplate {
    sse(&[
        json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": text}]}}),
        json!({"index": 0, "message": {"role": "ASSISTANT", "toolCalls": [{"type": "FUNCTION", "id": "c1", "name": "calculator", "arguments": "{\"expression\": \"1+"}]}}),
        json!({"index": 0, "message": {"role": "ASSISTANT"}, "finishReason": reason}),
        usage(20),
    ])
}

#[tokio::test]
async fn a_cut_off_or_filtered_answer_says_so_and_runs_no_tools() {
    for (wire, stop, finish) in
        [("length", StopReason::MaxTokens, "length"), ("content_filter", StopReason::ContentFiltered, "content_filter")]
    {
        let (server, script) = serve(vec![finish_reply("The answer is", wire)]).await;
        let agent = agent(&server, "oci:meta.llama").tool(builtin::calculator()).build().unwrap();
        let result = agent.run_to_completion("what?").await.unwrap();
        assert_eq!(result.stop_reason, stop);
        assert!(!stop.is_complete());
        assert_eq!(result.finish_reason.as_ref().map(|f| f.as_str()), Some(finish));
        assert_eq!(result.text, "The answer is");
        assert!(result.tool_calls.is_empty(), "a truncated call is not run");
        assert_eq!(script.requests(), 1);
    }
    let (server, _) = serve(vec![text_reply("done")]).await;
    let result = agent(&server, "oci:meta.llama").build().unwrap().run_to_completion("x").await.unwrap();
    assert_eq!((result.stop_reason, result.finish_reason.unwrap().as_str()), (StopReason::Completed, "stop"));
}

#[tokio::test]
async fn a_stream_cut_before_its_finish_event_fails_with_the_partial_answer() {
    let cut = sse(&[
        json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "hel"}]}}),
        json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "lo wor"}]}}),
    ]);
    let (server, _) = serve(vec![cut]).await;
    let error = agent(&server, "oci:meta.llama").build().unwrap().run_to_completion("x").await.unwrap_err();
    assert_eq!(error.partial_text(), Some("hello wor"), "{error:?}");
    assert!(error.to_string().contains("is incomplete"), "{error}");
    assert!(!error.is_config());
}

#[tokio::test]
async fn an_endless_answer_stops_at_the_answer_cap() {
    let long: Vec<Value> = (0..200)
        .map(|_| json!({"index": 0, "message": {"role": "ASSISTANT", "content": [{"type": "TEXT", "text": "0123456789"}]}}))
        .collect();
    let (server, _) = serve(vec![sse(&long)]).await;
    let agent = agent(&server, "oci:meta.llama").max_answer_bytes(1000).build().unwrap();
    let error = agent.run_to_completion("x").await.unwrap_err();
    assert_eq!(error.partial_text().map(str::len), Some(1000));
    assert!(error.hint().unwrap().contains("AgentBuilder::max_answer_bytes"));
}

#[tokio::test]
async fn a_refused_stream_falls_back_once_and_the_run_stays_whole() {
    let refused = ResponseTemplate::new(400)
        .insert_header("opc-request-id", "req-refused")
        .set_body_json(json!({"code": "InvalidParameter", "message": "Streaming is not supported for this model"}));
    let whole = |body: Value| {
        ResponseTemplate::new(200).set_body_json(json!({"modelId": "m", "modelVersion": "1", "chatResponse": body}))
    };
    let calls = whole(
        json!({"apiFormat": "GENERIC", "choices": [{"index": 0, "finishReason": "tool_calls", "message": {"role": "ASSISTANT",
        "toolCalls": [{"type": "FUNCTION", "id": "c1", "name": "calculator", "arguments": "{\"expression\": \"17*23\"}"}]}}]}),
    );
    let answer = whole(
        json!({"apiFormat": "GENERIC", "choices": [{"index": 0, "finishReason": "stop", "message": {"role": "ASSISTANT",
        "content": [{"type": "TEXT", "text": "391"}]}}]}),
    );
    let (server, script) = serve(vec![refused, calls, answer]).await;
    let agent = agent(&server, DAC).tool(builtin::calculator()).build().unwrap();
    let events: Vec<AgentEvent> = agent.run("17*23?").map(Result::unwrap).collect().await;
    let fallbacks: Vec<&String> = events
        .iter()
        .filter_map(|e| if let AgentEvent::ModelFallback { reason } = e { Some(reason) } else { None })
        .collect();
    assert_eq!(fallbacks.len(), 1, "announced once");
    assert!(
        fallbacks[0].contains("Streaming is not supported") && fallbacks[0].contains("req-refused"),
        "{}",
        fallbacks[0]
    );
    let Some(AgentEvent::Finished(result)) = events.last() else { panic!("{events:?}") };
    assert_eq!(result.text, "391");
    assert_eq!(script.requests(), 3, "one refused stream, then whole answers only");
    assert_eq!(script.body(2)["chatRequest"]["isStream"], Value::Null);
    assert_eq!(script.body(1)["chatRequest"]["isStream"], Value::Null);
}

#[tokio::test]
async fn an_approval_hook_decides_which_calls_run() {
    let (server, script) = serve(vec![
        calls_reply(&[
            ("call_1", "calculator", json!({"expression": "2+2"})),
            ("call_2", "delete_everything", json!({})),
        ]),
        text_reply("Done."),
    ])
    .await;
    let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = Arc::clone(&ran);
    let delete = tool_fn("delete_everything", "Deletes everything.", move |_: builtin::ClockArgs| {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        async { Ok::<_, ToolError>("deleted") }
    });
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let hook = approve_fn(move |call| {
        log.lock().unwrap().push((call.name.to_owned(), call.safe));
        if call.safe { Approval::Allow } else { Approval::Deny("the user said no".into()) }
    });
    let agent = agent(&server, "oci:meta.llama-3.3-70b-instruct")
        .tool(builtin::calculator())
        .tool(delete)
        .approval(hook)
        .build()
        .unwrap();
    let result = agent.run_to_completion("go").await.unwrap();
    assert!(!ran.load(std::sync::atomic::Ordering::SeqCst), "a denied call never runs");
    assert_eq!(*seen.lock().unwrap(), [("calculator".to_owned(), true), ("delete_everything".to_owned(), false)]);
    assert!(!result.tool_calls[0].is_error && result.tool_calls[1].is_error);
    let texts: Vec<String> = messages(&script.body(1))
        .iter()
        .filter(|m| m["role"] == "TOOL")
        .map(|m| m["content"][0]["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(texts, ["4", "ERROR: the call to `delete_everything` was not allowed: the user said no"]);
}

/// Each layer keeps the one below as its `source()`: a program can walk from
/// the agent's error down to the transport's (its status, its
/// opc-request-id), or ask for it directly.
#[tokio::test]
async fn the_transport_error_is_reached_through_the_source_chain() {
    let refused = ResponseTemplate::new(404)
        .insert_header("opc-request-id", "REQ-404")
        .set_body_json(json!({"code": "NotAuthorizedOrNotFound", "message": "no such model"}));
    let (server, _) = serve(vec![refused]).await;
    let error = agent(&server, "oci:meta.llama").build().unwrap().run_to_completion("x").await.unwrap_err();
    let mut chain: Vec<&(dyn std::error::Error + 'static)> = vec![&error];
    while let Some(next) = chain.last().and_then(|e| e.source()) {
        chain.push(next);
    }
    assert!(chain.iter().any(|e| e.is::<locus_providers::Error>()), "{chain:?}");
    let transport = chain.iter().find_map(|e| e.downcast_ref::<oci_genai_transport::Error>()).expect("in the chain");
    assert_eq!((transport.status(), transport.opc_request_id()), (Some(404), Some("REQ-404")));
    assert_eq!(error.transport().and_then(|e| e.service()).map(|s| s.code.as_str()), Some("NotAuthorizedOrNotFound"));
    // The message says it once: the layers above show the transport's words as their own.
    assert_eq!(error.to_string(), transport.to_string());
}
