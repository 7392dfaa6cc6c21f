//! A small Model Context Protocol server for the tests, written without any
//! MCP library so that our client is checked against the wire, not against
//! a twin. Over stdio (JSON-RPC, one message per line) by default; with
//! `--http 127.0.0.1:0` over streamable HTTP (JSON answers, a session id),
//! printing `listening on http://ADDR/mcp` first. `--token T` requires
//! `Authorization: Bearer T` (HTTP). `--pid-file F` writes its process id.
//!
//! Tools: `echo {text}` (read-only), `add {a, b}` (read-only; structured
//! content), `fail {}` (an error result), `crash {}` (exits mid-call),
//! `hang {}` (never answers), `garbage {}` (answers a line that is not JSON).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use serde_json::{Value, json};

fn tools() -> Value {
    let text = json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]});
    let numbers = json!({
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"]
    });
    let none = json!({"type": "object", "properties": {}});
    json!([
        {"name": "echo", "description": "Repeats the text.", "inputSchema": text, "annotations": {"readOnlyHint": true}},
        {"name": "add", "description": "Adds two numbers.", "inputSchema": numbers, "annotations": {"readOnlyHint": true}},
        {"name": "fail", "description": "Always fails.", "inputSchema": none},
        {"name": "crash", "description": "Exits while answering.", "inputSchema": none},
        {"name": "hang", "description": "Never answers.", "inputSchema": none},
        {"name": "garbage", "description": "Answers with a line that is not JSON.", "inputSchema": none},
    ])
}

enum Answer {
    /// A JSON-RPC message to send.
    Message(Value),
    /// Nothing: the message was a notification.
    Nothing,
    /// A line that is not JSON.
    Garbage,
    /// Never an answer.
    Hang,
}

fn handle(message: &Value) -> Answer {
    let Some(id) = message.get("id").cloned() else { return Answer::Nothing };
    let params = &message["params"];
    let result = match message["method"].as_str().unwrap_or_default() {
        "initialize" => json!({
            "protocolVersion": params["protocolVersion"].as_str().filter(|v| *v <= "2025-11-25").unwrap_or("2025-06-18"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "locus-test-server", "version": "1.0.0"}
        }),
        "ping" => json!({}),
        "tools/list" => json!({"tools": tools()}),
        "tools/call" => {
            let arguments = &params["arguments"];
            match params["name"].as_str().unwrap_or_default() {
                "echo" => {
                    json!({"content": [{"type": "text", "text": format!("echo: {}", arguments["text"].as_str().unwrap_or_default())}]})
                }
                "add" => {
                    let sum = arguments["a"].as_f64().unwrap_or_default() + arguments["b"].as_f64().unwrap_or_default();
                    json!({"content": [{"type": "text", "text": sum.to_string()}], "structuredContent": {"sum": sum}})
                }
                "fail" => json!({"content": [{"type": "text", "text": "it failed"}], "isError": true}),
                "crash" => std::process::exit(3),
                "hang" => return Answer::Hang,
                "garbage" => return Answer::Garbage,
                other => {
                    return Answer::Message(json!({
                        "jsonrpc": "2.0", "id": id,
                        "error": {"code": -32602, "message": format!("unknown tool: {other}")}
                    }));
                }
            }
        }
        other => {
            return Answer::Message(json!({
                "jsonrpc": "2.0", "id": id,
                "error": {"code": -32601, "message": format!("method not found: {other}")}
            }));
        }
    };
    Answer::Message(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

fn stdio() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { return };
        let Ok(message) = serde_json::from_str::<Value>(&line) else { continue };
        match handle(&message) {
            Answer::Message(answer) => writeln!(stdout, "{answer}").unwrap(),
            Answer::Garbage => writeln!(stdout, "this is not JSON").unwrap(),
            Answer::Nothing | Answer::Hang => {}
        }
        stdout.flush().unwrap();
    }
}

fn http(address: &str, token: Option<String>) {
    let listener = TcpListener::bind(address).unwrap();
    println!("listening on http://{}/mcp", listener.local_addr().unwrap());
    std::io::stdout().flush().unwrap();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let token = token.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut stream = stream;
            loop {
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                    return;
                }
                let method = request_line.split_whitespace().next().unwrap_or_default().to_owned();
                let (mut length, mut authorization) = (0, None);
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        match name.trim().to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap(),
                            "authorization" => authorization = Some(value.trim().to_owned()),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let reply = |status: &str, headers: &str, body: &str| {
                    format!("HTTP/1.1 {status}\r\n{headers}content-length: {}\r\n\r\n{body}", body.len())
                };
                let expected = token.as_ref().map(|t| format!("Bearer {t}"));
                let response = if expected.is_some() && authorization != expected {
                    reply("401 Unauthorized", "", "")
                } else if method != "POST" {
                    reply(if method == "DELETE" { "200 OK" } else { "405 Method Not Allowed" }, "", "")
                } else {
                    match serde_json::from_slice::<Value>(&body).map(|m| handle(&m)) {
                        Ok(Answer::Message(answer)) => reply(
                            "200 OK",
                            "content-type: application/json\r\nmcp-session-id: test-session\r\n",
                            &answer.to_string(),
                        ),
                        Ok(Answer::Garbage) => reply("200 OK", "content-type: application/json\r\n", "not json"),
                        Ok(Answer::Hang) => {
                            std::thread::park();
                            return;
                        }
                        Ok(Answer::Nothing) => reply("202 Accepted", "", ""),
                        Err(_) => reply("400 Bad Request", "", ""),
                    }
                };
                if stream.write_all(response.as_bytes()).is_err() {
                    return;
                }
            }
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    if let Some(path) = flag("--pid-file") {
        std::fs::write(path, std::process::id().to_string()).unwrap();
    }
    match flag("--http") {
        Some(address) => http(&address, flag("--token")),
        None => stdio(),
    }
}
