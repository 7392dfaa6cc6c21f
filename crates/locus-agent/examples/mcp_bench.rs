//! The cost of one MCP tool call over stdio, for `cargo xtask bench`:
//! `mcp_bench <server program> [args…]` prints JSON with our figures (an
//! `McpTools` tool called as the agent calls it, on a multi-thread runtime)
//! and the floor (the same JSON-RPC round trip written and read by hand,
//! blocking, on one thread), both against the same server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use locus_agent::mcp::{McpServer, McpTools};

#[path = "support/cpu.rs"]
mod support;
use support::cpu;

const CALLS: u32 = 5_000;

/// (wall µs per call, client CPU µs per call) through `McpTools`.
async fn ours(program: &str, args: &[String]) -> (f64, f64) {
    let mcp = McpTools::connect([McpServer::stdio(program, args.iter().cloned())]).await;
    assert!(mcp.failures().is_empty(), "{:?}", mcp.failures());
    let tools = mcp.tools();
    let echo = tools.iter().find(|t| t.name() == "echo").unwrap();
    let arguments = serde_json::json!({"text": "hello"});
    for _ in 0..200 {
        echo.call(arguments.clone()).await.unwrap();
    }
    let (cpu_before, wall) = (cpu(), Instant::now());
    for _ in 0..CALLS {
        echo.call(arguments.clone()).await.unwrap();
    }
    let per_call = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(CALLS);
    (per_call(wall.elapsed()), per_call(cpu() - cpu_before))
}

/// (wall µs per call, client CPU µs per call) writing and reading the JSON-RPC lines by hand.
fn floor(program: &str, args: &[String]) -> (f64, f64) {
    let mut child = Command::new(program).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut call = |id: u32, line: &mut String| {
        let request = format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"text":"hello"}}}}}}"#
        );
        writeln!(stdin, "{request}").unwrap();
        stdin.flush().unwrap();
        line.clear();
        stdout.read_line(line).unwrap();
        assert!(line.contains("echo: hello"));
    };
    for id in 0..200 {
        call(id, &mut line);
    }
    let (cpu_before, wall) = (cpu(), Instant::now());
    for id in 0..CALLS {
        call(id + 1000, &mut line);
    }
    let per_call = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(CALLS);
    let figures = (per_call(wall.elapsed()), per_call(cpu() - cpu_before));
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    figures
}

fn main() {
    let mut args = std::env::args().skip(1);
    let program = args.next().expect("usage: mcp_bench <server program> [args…]");
    let args: Vec<String> = args.collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (wall, cpu) = runtime.block_on(ours(&program, &args));
    drop(runtime);
    let (floor_wall, floor_cpu) = floor(&program, &args);
    println!(
        "{}",
        serde_json::json!({
            "mcp_call_wall_us": wall,
            "mcp_call_cpu_us": cpu,
            "mcp_floor_call_wall_us": floor_wall,
            "mcp_floor_call_cpu_us": floor_cpu,
        })
    );
}
