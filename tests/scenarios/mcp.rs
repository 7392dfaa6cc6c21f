//! MCP servers as agent tools, against `mcp_test_server` (a server written
//! for these tests, without an MCP library) over stdio and streamable HTTP:
//! listing, a round trip through the agent against the emulator, a server
//! that crashes, one that never answers, one that answers garbage, arguments
//! that break the schema, name collisions, and the child's cleanup.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::BufRead;
use std::sync::Mutex;
use std::time::Duration;

use locus_agent::mcp::{McpServer, McpTools};
use locus_agent::{Agent, StopReason};
use locus_providers::{ChatModel, ChatRequest, ChatResponse, EventStream, FinishReason, Message, ToolCall};
use oci_genai_emulator::{DEMO_COMPARTMENT, DEMO_ENDPOINT, Emulator, EmulatorConfig};
use serde_json::json;

const SERVER: &str = env!("CARGO_BIN_EXE_mcp_test_server");

fn stdio_server() -> McpServer {
    McpServer::stdio(SERVER, Vec::<String>::new())
}

/// A model that answers from a script: each turn a list of calls, or text.
#[derive(Debug)]
struct Scripted(Mutex<Vec<ChatResponse>>);

impl Scripted {
    fn new(calls: Vec<ToolCall>) -> Self {
        let answer = |message| ChatResponse {
            message,
            reasoning: None,
            finish_reason: FinishReason::Stop,
            usage: None,
            citations: Vec::new(),
        };
        let mut first = answer(Message::assistant_with_tool_calls("", calls));
        first.finish_reason = FinishReason::ToolCalls;
        Scripted(Mutex::new(vec![answer(Message::assistant("done")), first]))
    }
}

#[async_trait::async_trait]
impl ChatModel for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    async fn complete(&self, _: &ChatRequest) -> Result<ChatResponse, locus_providers::Error> {
        Ok(self.0.lock().unwrap().pop().unwrap())
    }
    async fn stream(&self, request: &ChatRequest) -> EventStream {
        let response = self.complete(request).await.unwrap();
        Box::pin(futures::stream::iter(locus_providers::response_events(response).into_iter().map(Ok)))
    }
}

/// Runs `calls` through an agent holding `mcp`'s tools; the records of the calls.
async fn run(mcp: &McpTools, calls: Vec<ToolCall>) -> Vec<locus_agent::ToolCallRecord> {
    let agent = Agent::builder().model(Scripted::new(calls)).tools(mcp.tools()).build().unwrap();
    agent.run_to_completion("go").await.unwrap().tool_calls
}

#[tokio::test]
async fn stdio_tools_are_listed_and_called() {
    let mcp = McpTools::connect([stdio_server()]).await;
    assert!(mcp.failures().is_empty(), "{:?}", mcp.failures());
    let tools = mcp.tools();
    let names: Vec<&str> = tools.iter().map(|t| t.name()).collect();
    assert_eq!(names, ["echo", "add", "fail", "crash", "hang", "garbage"]);
    let echo = &tools[0];
    assert_eq!(echo.description(), "Repeats the text.");
    assert_eq!(echo.parameters()["required"], json!(["text"]));
    assert!(!echo.is_safe(), "a server's readOnlyHint alone is not trust");
    let trusted = McpTools::connect([stdio_server().trust_read_only_hints(true)]).await;
    let trusted = trusted.tools();
    assert!(trusted[0].is_safe() && !trusted[2].is_safe(), "a trusted server's readOnlyHint marks a tool safe");

    let records = run(
        &mcp,
        vec![
            ToolCall::new("1", "echo", json!({"text": "hi"})),
            ToolCall::new("2", "add", json!({"a": 2, "b": 3.5})),
            ToolCall::new("3", "fail", json!({})),
            ToolCall::new("4", "add", json!({"a": "two"})),
        ],
    )
    .await;
    assert_eq!((records[0].output.as_str(), records[0].is_error), ("echo: hi", false));
    assert_eq!((records[1].output.as_str(), records[1].is_error), ("5.5", false));
    assert_eq!((records[2].output.as_str(), records[2].is_error), ("`fail` failed: it failed", true));
    // Checked against the server's schema before anything is sent.
    assert!(
        records[3].is_error && records[3].output.starts_with("invalid arguments for `add`"),
        "{}",
        records[3].output
    );
}

#[tokio::test]
async fn a_round_trip_through_the_agent_against_the_emulator() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let client = locus_scenarios::emulator_client(&emulator).build().unwrap();
    let model = locus_providers::OciChatModel::builder(DEMO_ENDPOINT)
        .client(client)
        .compartment_id(DEMO_COMPARTMENT)
        .build()
        .unwrap();
    let mcp = McpTools::connect([stdio_server()]).await;
    let agent = Agent::builder().model(model).tools(mcp.tools()).build().unwrap();
    let result = agent.run_to_completion("please echo \"hello from MCP\"").await.unwrap();
    assert_eq!(result.tool_calls.len(), 1, "{:?}", result.tool_calls);
    assert_eq!(result.tool_calls[0].output, "echo: hello from MCP");
    assert!(result.text.contains("echo: hello from MCP"), "{}", result.text);
    assert_eq!(result.stop_reason, StopReason::Completed);
}

#[tokio::test]
async fn a_server_that_crashes_hangs_or_answers_garbage_fails_its_calls_not_the_run() {
    let mcp = McpTools::builder().servers([stdio_server()]).call_timeout(Duration::from_millis(500)).connect().await;
    let records =
        run(&mcp, vec![ToolCall::new("1", "hang", json!({})), ToolCall::new("2", "garbage", json!({}))]).await;
    assert!(records[0].is_error && records[0].output.contains("timed out after 0.5 s"), "{}", records[0].output);
    assert!(records[1].is_error, "{}", records[1].output);

    let records = run(&mcp, vec![ToolCall::new("1", "crash", json!({}))]).await;
    assert!(records[0].is_error && records[0].output.contains("stopped working"), "{}", records[0].output);
    assert!(records[0].output.contains("exit status: 3"), "the exit is told: {}", records[0].output);
    // The server is gone: its other tools fail at once, with the same reason.
    let records = run(&mcp, vec![ToolCall::new("1", "echo", json!({"text": "hi"}))]).await;
    assert!(records[0].is_error && records[0].output.contains("stopped working"), "{}", records[0].output);
}

#[tokio::test]
async fn servers_that_cannot_start_are_reported_not_fatal() {
    let mcp = McpTools::builder()
        .servers([
            McpServer::stdio("/nonexistent/server", ["x"]),
            McpServer::stdio("sh", ["-c", "echo 'boom' >&2; exit 7"]).named("broken"),
            McpServer::stdio("sleep", ["30"]).named("silent"),
            stdio_server(),
        ])
        .connect_timeout(Duration::from_millis(800))
        .connect()
        .await;
    let failures: Vec<String> = mcp.failures().iter().map(ToString::to_string).collect();
    assert_eq!(failures.len(), 3, "{failures:?}");
    assert!(failures[0].contains("cannot start `/nonexistent/server`"), "{}", failures[0]);
    assert!(failures[1].contains("`broken`") && failures[1].contains("boom"), "{}", failures[1]);
    assert!(failures[2].contains("`silent`") && failures[2].contains("no answer within 0.8 s"), "{}", failures[2]);
    assert_eq!(mcp.tools().len(), 6, "the working server's tools are there");
}

#[tokio::test]
async fn colliding_names_are_prefixed_with_their_server() {
    let mcp = McpTools::connect([stdio_server().named("one"), stdio_server().named("two")]).await;
    let names: Vec<String> = mcp.tools().iter().map(|t| t.name().to_owned()).collect();
    assert!(names.contains(&"one_echo".to_owned()) && names.contains(&"two_echo".to_owned()), "{names:?}");
    let records = run(&mcp, vec![ToolCall::new("1", "two_echo", json!({"text": "x"}))]).await;
    assert_eq!(records[0].output, "echo: x");
}

#[tokio::test]
async fn the_server_process_ends_with_the_agent() {
    let mcp = McpTools::connect([stdio_server()]).await;
    let pid = mcp.process_ids()[0];
    let agent = Agent::builder().model(Scripted::new(Vec::new())).tools(mcp.tools()).build().unwrap();
    drop(mcp);
    assert!(alive(pid), "the agent still holds the server");
    drop(agent);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while alive(pid) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!alive(pid), "the server was killed when the agent went");
}

/// Running (a zombie waiting to be reaped counts as gone).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.rsplit(')').next().is_some_and(|rest| !rest.trim_start().starts_with('Z')))
}

/// The test server over HTTP, and its URL.
fn http_server(token: &str) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(SERVER)
        .args(["--http", "127.0.0.1:0", "--token", token])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().strip_prefix("listening on ").unwrap().to_owned())
}

#[tokio::test]
async fn http_servers_take_a_bearer_token() {
    let (mut child, url) = http_server("s3cret");
    let mcp = McpTools::connect([McpServer::http(&url).bearer_token("s3cret")]).await;
    assert!(mcp.failures().is_empty(), "{:?}", mcp.failures());
    assert_eq!(mcp.names()[0], ("echo".to_owned(), "127_0_0_1".to_owned()));
    let records = run(&mcp, vec![ToolCall::new("1", "add", json!({"a": 1, "b": 2}))]).await;
    assert_eq!(records[0].output, "3");

    let refused = McpTools::connect([McpServer::http(&url).bearer_token("wrong")]).await;
    assert_eq!(refused.failures().len(), 1);
    assert!(!refused.failures()[0].to_string().contains("wrong"), "the token never shows");
    child.kill().unwrap();
}
